/* MaxMind DB lookups for geolocation routing (geo.h). */
#include "node/geo/geo.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/geo_codes.h"

struct geo_db {
	MMDB_s mmdb;
	char sha256[65];
};

static int file_sha256(const char *path, char out[65])
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	unsigned mdlen = 0;
	int rc =
	    c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 ? 0 : -1;
	size_t n;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		rc = EVP_DigestUpdate(c, buf, n) == 1 ? 0 : -1;
	if (rc == 0 && (ferror(f) || EVP_DigestFinal_ex(c, md, &mdlen) != 1))
		rc = -1;
	EVP_MD_CTX_free(c);
	fclose(f);
	for (unsigned i = 0; rc == 0 && i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return rc;
}

int geo_open(const char *path, struct geo_db **out, char *err, size_t errlen)
{
	struct geo_db *db = calloc(1, sizeof(*db));
	*out = NULL;
	if (db == NULL)
		return Q53_ENOMEM;
	int s = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (s != MMDB_SUCCESS) {
		snprintf(err, errlen, "--geoip '%s': %s", path,
			 MMDB_strerror(s));
		free(db);
		return Q53_EINVAL;
	}
	if (file_sha256(path, db->sha256) != 0) {
		snprintf(err, errlen, "--geoip '%s': cannot read it", path);
		MMDB_close(&db->mmdb);
		free(db);
		return Q53_EINVAL;
	}
	*out = db;
	return 0;
}

void geo_close(struct geo_db *db)
{
	if (db == NULL)
		return;
	MMDB_close(&db->mmdb);
	free(db);
}

const char *geo_sha256(const struct geo_db *db)
{
	return db->sha256;
}

/* The string at path of entry e, or NULL. */
static const char *entry_str(MMDB_entry_s *e, size_t *len, const char *a,
			     const char *b, const char *c)
{
	MMDB_entry_data_s d;
	const char *path[] = {a, b, c, NULL};
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return NULL;
	*len = d.data_size;
	return d.utf8_string;
}

uint32_t geo_locate(const struct geo_db *db, int family, const uint8_t *addr,
		    uint8_t *prefix)
{
	struct sockaddr_storage ss;
	int mmerr = 0;
	*prefix = 0;
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
	} else if (family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
	} else {
		return 0;
	}
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(
	    &db->mmdb, (const struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS)
		return 0;
	/* An IPv4 address in an IPv6 tree: its netmask counts the 96 bits of
	 * the ::/96 prefix. */
	unsigned nm = r.netmask;
	if (family == 4 && db->mmdb.metadata.ip_version == 6)
		nm = nm >= 96 ? nm - 96 : 0;
	*prefix = (uint8_t)nm;
	if (!r.found_entry)
		return 0;
	size_t cl = 0, ccl = 0, sl = 0;
	const char *cont = entry_str(&r.entry, &cl, "continent", "code", NULL);
	const char *cc = entry_str(&r.entry, &ccl, "country", "iso_code", NULL);
	const char *sub =
	    entry_str(&r.entry, &sl, "subdivisions", "0", "iso_code");
	return geo_location_of(cont, cl, cc, ccl, sub, sl);
}
