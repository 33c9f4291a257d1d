#include "node/common/errcode.h"

#include <stdarg.h>
#include <stdio.h>

#include <string.h>

const char *q53_strerror(int err)
{
	switch (err) {
	case Q53_OK:
		return "success";
	case Q53_EMALF:
		return "malformed data";
	case Q53_ETRAIL:
		return "trailing data";
	case Q53_EZONE:
		return "zone file rejected";
	case Q53_ELIMIT:
		return "limit reached";
	default:
		break;
	}
	if (err < 0 && err > Q53_EBASE)
		return strerror(-err);
	return "unknown error";
}

int q53_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
