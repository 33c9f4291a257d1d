/* Random resource ids (hosted zones, changes, health checks) and the wall
 * clock commands are stamped with. Thread-safe (getrandom). */
#ifndef Q53_NODE_COMMON_IDS_H
#define Q53_NODE_COMMON_IDS_H

#include <stdint.h>

#define IDS_LEN 21 /* "Z"/"C" + 20 characters */

/* prefix followed by 20 random upper-case letters and digits. */
void ids_new(char prefix, char out[IDS_LEN + 1]);

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", Route 53's health check ids. */
void ids_new_uuid(char out[37]);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
uint64_t ids_wall_ms(void);

#endif
