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

#include <stddef.h>

/* Writes the printf-style message into err (NUL-terminated, truncated to
 * errlen) and returns rc: `return q53_fail(err, errlen, Q53_EINVAL, ...)`. */
int q53_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
