#include "node/common/ids.h"

#include <stddef.h>
#include <sys/random.h>
#include <time.h>

uint64_t ids_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void ids_new(char prefix, char out[IDS_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t rnd[IDS_LEN];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* Not expected on Linux >= 3.17; fall back to the clock. */
		uint64_t t = ids_wall_ms() ^ (uint64_t)clock();
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)i;
	}
	out[0] = prefix;
	for (size_t i = 1; i < IDS_LEN; i++)
		out[i] = alphabet[rnd[i] & 31];
	out[IDS_LEN] = '\0';
}

void ids_new_uuid(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[16];
	size_t o = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t t = ids_wall_ms() ^ (uint64_t)clock();
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] =
			    (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)(i * 37);
	}
	rnd[6] = (uint8_t)((rnd[6] & 0x0f) | 0x40); /* version 4 */
	rnd[8] = (uint8_t)((rnd[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(rnd); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[rnd[i] >> 4];
		out[o++] = hex[rnd[i] & 15];
	}
	out[o] = '\0';
}
