/* The Route 53-format example files of tests/unit/data/route53/ (the AWS
 * CLI's JSON shapes), for unit tests. */
#ifndef Q53_TESTS_UNIT_SUPPORT_ROUTE53_DATA_H
#define Q53_TESTS_UNIT_SUPPORT_ROUTE53_DATA_H

#include <stddef.h>

/* The whole file name (NUL-terminated, its length in *len), from
 * $Q53_ROUTE53_DATA when set, else from the source tree. The caller frees
 * it; aborts when the file cannot be read. */
char *route53_data_load(const char *name, size_t *len);

#endif
