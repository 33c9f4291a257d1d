"""A small MaxMind DB (GeoIP2-City layout: continent.code,
country.iso_code, subdivisions[0].iso_code) for geolocation routing tests
and the local cluster's demo, written with PyPI's mmdb-writer
(tests/requirements-pypi.txt). NETWORKS: network -> (continent, country,
subdivision or None[, (latitude, longitude)]): with coordinates the record
also has GeoIP2-City's location.latitude/longitude (geoproximity routing);
a continent or country of None leaves that field out."""
NETWORKS = {
    "10.1.0.0/16": ("EU", "DE", None),
    "10.2.0.0/16": ("EU", "FR", None),
    "10.3.0.0/16": ("NA", "US", "CA"),
    "10.4.0.0/16": ("NA", "US", "NY"),
    "10.5.0.0/16": ("AS", "JP", None),
    "2001:db8:1::/48": ("EU", "DE", None),
}


def _alias_ipv4(w):
    """Points ::ffff:0:0/96 and 2002::/16 at the ::/96 subtree (the IPv4
    networks), as MaxMind's own databases do: one node, three parents."""
    from mmdb_writer import SearchTreeNode
    v4 = w.tree
    for _ in range(96):
        v4 = v4.get_or_create(0)
    for prefix, bits in ((0xFFFF << 32, 96), (0x2002 << 112, 16)):
        node = w.tree
        path = [(prefix >> (127 - i)) & 1 for i in range(bits)]
        for b in path[:-1]:
            child = node[b]
            if type(child) is not SearchTreeNode:
                child = SearchTreeNode()
                node[b] = child
            node = child
        node[path[-1]] = v4


def write(path, networks=NETWORKS, aliases=False):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    w = MMDBWriter(ip_version=6, ipv4_compatible=True,
                   database_type="GeoIP2-City", languages=["en"],
                   description="quorum53 test locations")
    from mmdb_writer import MmdbF64
    # Larger networks first: a smaller one inserted later overrides its
    # part of a larger one.
    def size(net):
        return int(net.split("/")[1]) + (0 if ":" in net else 96)
    for net in sorted(networks, key=size):
        cont, cc, sub = networks[net][:3]
        rec = {}
        if cont:
            rec["continent"] = {"code": cont}
        if cc:
            rec["country"] = {"iso_code": cc}
        if sub:
            rec["subdivisions"] = [{"iso_code": sub}]
        if len(networks[net]) > 3 and networks[net][3] is not None:
            lat, lon = networks[net][3]
            rec["location"] = {"latitude": MmdbF64(lat),
                               "longitude": MmdbF64(lon)}
        w.insert_network(IPSet([net]), rec)
    if aliases:
        _alias_ipv4(w)
    w.to_db_file(path)
    return path


if __name__ == "__main__":
    import sys
    write(sys.argv[1])
