/* The serving view's layout, shared by view.c and view_publish.c. */
#ifndef Q53_NODE_ZONE_VIEW_IMPL_H
#define Q53_NODE_ZONE_VIEW_IMPL_H

#include <stddef.h>
#include <urcu-qsbr.h>

#include "node/zone/name_table.h"

struct zone;

struct serving_view {
	struct zone **zones; /* deepest origin first */
	size_t nzones;
	struct name_table origins; /* origin -> zone */
	struct rcu_head rcu;	   /* deferred free after publication */
};

#endif
