/* Route 53's geolocation codes (geo_codes.h). */
#include "node/control/geo_codes.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "node/zone/choice.h"

static const char CONTINENTS[] = "AFANASEUOCNASA";

/* ISO 3166-1 alpha-2, as Route 53 lists them. */
static const char COUNTRIES[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBV"
    "BWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERES"
    "ETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIE"
    "ILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLY"
    "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNU"
    "NZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSM"
    "SNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVE"
    "VGVIVNVUWFWSYEYTZAZMZW";

/* Subdivisions: the US states and DC, Ukraine's regions (ISO 3166-2). */
static const char US_STATES[] =
    "AKALARAZCACOCTDCDEFLGAHIIAIDILINKSKYLAMAMDMEMIMNMOMSMTNCNDNENHNJNMNV"
    "NYOHOKORPARISCSDTNTXUTVAVTWAWIWVWY";
static const char UA_REGIONS[] = "05070912141821232630323540434648515356596163"
				 "6568717477";

static bool in_pairs(const char *list, const char *code, size_t len)
{
	if (len != 2)
		return false;
	for (size_t i = 0; list[i] != '\0' && list[i + 1] != '\0'; i += 2)
		if (list[i] == code[0] && list[i + 1] == code[1])
			return true;
	return false;
}

static uint32_t continent_index(const char *c, size_t len)
{
	if (len != 2)
		return 0;
	for (uint32_t i = 0; i < 7; i++)
		if (CONTINENTS[2 * i] == c[0] && CONTINENTS[2 * i + 1] == c[1])
			return i + 1;
	return 0;
}

static uint32_t country_index(const char *c, size_t len)
{
	if (len != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z')
		return 0;
	return 1 + (uint32_t)(c[0] - 'A') * 26 + (uint32_t)(c[1] - 'A');
}

static uint32_t sub_index(const char *s, size_t len)
{
	uint32_t v = 0;
	if (len == 0 || len > 3)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		uint32_t d;
		if (ch >= '0' && ch <= '9')
			d = (uint32_t)(ch - '0');
		else if (ch >= 'A' && ch <= 'Z')
			d = 10 + (uint32_t)(ch - 'A');
		else
			return 0;
		v = v * 36 + d;
	}
	return 1 + v;
}

uint32_t geo_location_of(const char *continent, size_t clen,
			 const char *country, size_t cclen,
			 const char *subdivision, size_t slen)
{
	uint32_t cont = continent ? continent_index(continent, clen) : 0;
	uint32_t cc = country ? country_index(country, cclen) : 0;
	uint32_t sub = cc && subdivision ? sub_index(subdivision, slen) : 0;
	return cont << 26 | cc << 16 | sub;
}

int geo_location_check(const char *continent, const char *country,
		       const char *subdivision, uint32_t *loc, char *why,
		       size_t whylen)
{
	if (subdivision != NULL && country == NULL) {
		snprintf(why, whylen,
			 "GeoLocation: a SubdivisionCode needs a CountryCode");
		return -1;
	}
	if ((continent != NULL) == (country != NULL)) {
		snprintf(why, whylen,
			 "GeoLocation needs exactly one of ContinentCode and "
			 "CountryCode");
		return -1;
	}
	if (continent != NULL) {
		uint32_t c = continent_index(continent, strlen(continent));
		if (c == 0) {
			snprintf(why, whylen,
				 "GeoLocation: unknown ContinentCode \"%.8s\" "
				 "(AF, AN, AS, EU, OC, NA, SA)",
				 continent);
			return -1;
		}
		*loc = ZONE_GEO_CHOICE | ZONE_GEO_CONTINENT << 29 | c << 26;
		return 0;
	}
	if (strcmp(country, "*") == 0) {
		if (subdivision != NULL) {
			snprintf(why, whylen,
				 "GeoLocation: the default (CountryCode \"*\") "
				 "takes no SubdivisionCode");
			return -1;
		}
		*loc = ZONE_GEO_CHOICE | ZONE_GEO_DEFAULT << 29;
		return 0;
	}
	size_t cl = strlen(country);
	if (!in_pairs(COUNTRIES, country, cl)) {
		snprintf(why, whylen,
			 "GeoLocation: unknown CountryCode \"%.8s\"", country);
		return -1;
	}
	uint32_t cc = country_index(country, cl);
	if (subdivision == NULL) {
		*loc = ZONE_GEO_CHOICE | ZONE_GEO_COUNTRY << 29 | cc << 16;
		return 0;
	}
	size_t sl = strlen(subdivision);
	const char *list = strcmp(country, "US") == 0	? US_STATES
			   : strcmp(country, "UA") == 0 ? UA_REGIONS
							: NULL;
	if (list == NULL || !in_pairs(list, subdivision, sl)) {
		snprintf(why, whylen,
			 "GeoLocation: unknown SubdivisionCode \"%.8s\" for "
			 "CountryCode \"%s\"",
			 subdivision, country);
		return -1;
	}
	*loc = ZONE_GEO_CHOICE | ZONE_GEO_SUBDIVISION << 29 | cc << 16 |
	       sub_index(subdivision, sl);
	return 0;
}
