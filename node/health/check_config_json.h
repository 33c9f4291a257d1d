/* HealthCheckConfig as JSON (jansson): the parser and the canonical
 * writer of node/health/check_config.h's struct. At the edge of the control
 * plane (the API and the upgrade module), not in the FSM library. */
#ifndef Q53_NODE_HEALTH_CHECK_CONFIG_JSON_H
#define Q53_NODE_HEALTH_CHECK_CONFIG_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "node/health/check_config.h"

/* Parses a HealthCheckConfig JSON object of len bytes. On success fills
 * *out (which the caller then owns: release with health_check_config_clear)
 * and returns 0. On failure returns Q53_EINVAL (or Q53_ENOMEM), leaves *out
 * cleared (safe to clear again) and writes "Field: reason" into errbuf
 * (always NUL-terminated when errlen > 0). */
int health_check_config_parse(struct health_check_config *out, const char *json,
			      size_t len, char *errbuf, size_t errlen);
/* The same from an already-parsed object (borrowed, not modified), for
 * callers that hold a larger document. */
int health_check_config_from_json(struct health_check_config *out,
				  const json_t *obj, char *errbuf,
				  size_t errlen);

/* Canonical JSON object (new reference, caller json_decref's), every
 * resolved value present, fields in a fixed order. Returns 0 or
 * Q53_ENOMEM. */
int health_check_config_to_json(const struct health_check_config *cfg,
				json_t **out);
/* The same as compact text; *out is malloc'ed, caller frees with free().
 * parse(format(c)) gives a config equal to c. Returns 0 or Q53_ENOMEM. */
int health_check_config_format(const struct health_check_config *cfg,
			       char **out);

#endif
