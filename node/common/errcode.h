/* Project error codes: 0 or a negative value, errno-compatible where an
 * errno exists, project-specific below Q53_EBASE. */
#ifndef Q53_NODE_COMMON_ERRCODE_H
#define Q53_NODE_COMMON_ERRCODE_H

#include <errno.h>

enum q53_err {
	Q53_OK = 0,
	Q53_ENOMEM = -ENOMEM,
	Q53_EINVAL = -EINVAL,
	Q53_ENOENT = -ENOENT,
	Q53_EEXIST = -EEXIST,
	Q53_ERANGE = -ERANGE,
	Q53_ENOSPC = -ENOSPC,
	Q53_EBASE = -1000,
	Q53_EMALF = -1001,  /* malformed wire data */
	Q53_ETRAIL = -1002, /* trailing data after a message */
	Q53_EZONE = -1003,  /* zone file rejected (details in errmsg) */
	Q53_ELIMIT = -1004, /* a configured limit was reached */
};

/* Human text for a q53_err or a negative errno; never NULL. */
const char *q53_strerror(int err);

#endif
