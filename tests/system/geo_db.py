"""A small MaxMind DB (GeoIP2-City layout: continent.code,
country.iso_code, subdivisions[0].iso_code) for geolocation routing tests
and the local cluster's demo, written with PyPI's mmdb-writer
(tests/requirements-pypi.txt). NETWORKS: network -> (continent, country,
subdivision or None)."""
NETWORKS = {
    "10.1.0.0/16": ("EU", "DE", None),
    "10.2.0.0/16": ("EU", "FR", None),
    "10.3.0.0/16": ("NA", "US", "CA"),
    "10.4.0.0/16": ("NA", "US", "NY"),
    "10.5.0.0/16": ("AS", "JP", None),
    "2001:db8:1::/48": ("EU", "DE", None),
}


def write(path, networks=NETWORKS):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    w = MMDBWriter(ip_version=6, ipv4_compatible=True,
                   database_type="GeoIP2-City", languages=["en"],
                   description="quorum53 test locations")
    for net, (cont, cc, sub) in networks.items():
        rec = {"continent": {"code": cont}, "country": {"iso_code": cc}}
        if sub:
            rec["subdivisions"] = [{"iso_code": sub}]
        w.insert_network(IPSet([net]), rec)
    w.to_db_file(path)
    return path


if __name__ == "__main__":
    import sys
    write(sys.argv[1])
