"""Writes city-test.mmdb beside this file: the MaxMind DB (GeoIP2-City
layout) of tests/unit/test_geo_table.c, through tests/system/geo_db.py and
PyPI's mmdb-writer. Nested networks, networks with and without
coordinates or a continent, IPv4 (in the IPv6 tree's ::/96, aliased at
::ffff:0:0/96 and 2002::/16 as MaxMind's databases are) and IPv6.
Regenerate with: /tmp/venv-full/bin/python tests/unit/data/geo/make_city_db.py
(keep the network list in step with test_geo_table.c's)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "system"))
import geo_db  # noqa: E402

NETWORKS = {
    "10.0.0.0/8": ("AS", "JP", None, (35.68, 139.69)),
    "10.1.0.0/16": ("EU", "DE", None, (50.11, 8.68)),
    "10.1.2.0/24": ("EU", "FR", None, (48.86, 2.35)),
    "10.1.2.128/25": ("NA", "US", "CA", (37.77, -122.42)),
    "10.2.0.0/15": ("NA", "US", "NY", None),
    "192.0.2.0/24": ("OC", "AU", None, (-33.87, 151.21)),
    "198.51.100.0/25": (None, "GB", None, (51.51, -0.13)),
    "203.0.113.7/32": ("SA", "BR", None, (-23.55, -46.63)),
    "2001:db8:1::/48": ("EU", "DE", None, (50.11, 8.68)),
    "2001:db8:1:2::/64": ("EU", "FR", None, (48.86, 2.35)),
    "2001:db8:2::/47": ("AS", "JP", None, None),
    "2600::/12": ("NA", "US", "TX", (30.27, -97.74)),
}

if __name__ == "__main__":
    geo_db.write(os.path.join(HERE, "city-test.mmdb"), NETWORKS, aliases=True)
