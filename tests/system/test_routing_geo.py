"""Geolocation routing on a 3-node cluster started with --geoip FILE (a
MaxMind DB this test writes with mmdb-writer: geo_db.py):

* The AWS CLI file batch-geolocation.json applies verbatim.
* dig +subnet / kdig +subnet: a German client gets the DE record, a French
  one the EU record, a Californian the US-CA subdivision, a New Yorker and
  a Japanese client the '*' default; no ECS and a source address the DB
  does not hold: the default. The echoed ECS SCOPE is the prefix length of
  the DB network that matched (16).
* A group without a default answers NODATA to a client it does not place.
* Byte identity: the same 600 query packets (ECS from every network) to
  the three nodes give the same response bytes.
* Each node logs its --geoip file's SHA-256 and reports it in q53 status.

Every wait polls with a deadline; nodes are stopped by PID."""
import hashlib
import json
import os
import random
import subprocess
import time

import dns.edns
import dns.message
import dns.rcode
import pytest

from cluster import Cluster, q53
from test_cli import q53d_has_api
from test_health import ok
from test_routing_policies import DATA, exchange

pytest.importorskip("mmdb_writer")
import geo_db  # noqa: E402

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.com"
GEO = "geo.example.com."


@pytest.fixture
def geo_cluster(tmp_path):
    db = geo_db.write(str(tmp_path / "geo.mmdb"))
    c = Cluster(str(tmp_path))
    c.extra_args = ["--geoip", db]
    try:
        yield c.start(3), db
    finally:
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"


def change(c, api, batch):
    cid = ok(q53(api, "change-batch", ZONE, "-", stdin=batch))["ChangeInfo"]["Id"]
    c.wait_insync(api, cid)


def dig(tool, node, qname, subnet=None):
    args = [tool, f"@{node.host}", "-p", str(node.dns_port), "+notcp",
            qname, "A"]
    if subnet:
        args.insert(4, f"+subnet={subnet}")
    out = subprocess.run(args, capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout


def ask(node, qname, subnet=None):
    m = dns.message.make_query(qname, "A", use_edns=0)
    if subnet:
        addr, bits = subnet.split("/")
        m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
    wire = exchange(node, [m.to_wire()])[m.id]
    r = dns.message.from_wire(wire)
    addrs = sorted(rr.address for rrset in r.answer for rr in rrset)
    scope = None
    for o in r.options:
        if isinstance(o, dns.edns.ECSOption):
            scope = o.scopelen
    return r.rcode(), addrs, scope


CASES = [
    ("10.1.7.0/24", "192.0.2.72"),  # DE
    ("10.2.7.0/24", "192.0.2.71"),  # FR: EU
    ("10.3.7.0/24", "192.0.2.73"),  # US-CA
    ("10.4.7.0/24", "192.0.2.79"),  # US-NY: default
    ("10.5.7.0/24", "192.0.2.79"),  # JP: default
    ("2001:db8:1::/56", "192.0.2.72"),  # DE over IPv6
]


def test_geolocation(geo_cluster):
    c, db = geo_cluster
    nodes = c.members()
    api = nodes[-1].api
    ok(q53(api, "zone", "create", ZONE))
    with open(os.path.join(DATA, "batch-geolocation.json")) as f:
        change(c, api, f.read())
    nodef = {"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "eu.example.com", "Type": "A", "TTL": 60,
            "SetIdentifier": "eu", "GeoLocation": {"ContinentCode": "EU"},
            "ResourceRecords": [{"Value": "198.51.100.1"}]}}]}
    change(c, api, json.dumps(nodef))
    listed = ok(q53(api, "records", "list", ZONE))["ResourceRecordSets"]
    geos = sorted(json.dumps(r.get("GeoLocation"), sort_keys=True)
                  for r in listed if r["Name"] == GEO)
    assert len(geos) == 4 and all(g != "null" for g in geos), listed

    for n in nodes:
        for subnet, want in CASES:
            rcode, addrs, scope = ask(n, GEO, subnet)
            assert (rcode, addrs) == (dns.rcode.NOERROR, [want]), (n.id, subnet)
            assert scope == 16 if ":" not in subnet else scope == 48, (subnet, scope)
        # No ECS, source 127.0.0.x (not in the DB): the default.
        assert ask(n, GEO)[:2] == (dns.rcode.NOERROR, ["192.0.2.79"])
        # No default: NODATA outside Europe, the record inside.
        assert ask(n, "eu.example.com.", "10.5.0.0/24")[:2] == (dns.rcode.NOERROR, [])
        assert ask(n, "eu.example.com.", "10.1.0.0/24")[1] == ["198.51.100.1"]

    # dig and kdig with +subnet.
    n = nodes[0]
    for tool in ("dig", "kdig"):
        out = dig(tool, n, GEO, "10.3.7.0/24")
        assert "192.0.2.73" in out and "192.0.2.7" in out, out
        assert "10.3.7.0/24/16" in out, out
        out = dig(tool, n, GEO, "10.1.7.0/24")
        assert "192.0.2.72" in out, out

    # Byte identity across the nodes.
    rng = random.Random(5)
    pk = []
    for qid in rng.sample(range(65536), 600):
        subnet = rng.choice(CASES)[0]
        addr, bits = subnet.split("/")
        m = dns.message.make_query(GEO, "A", use_edns=0)
        m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
        m.id = qid
        pk.append(m.to_wire())
    got = [exchange(x, pk) for x in nodes]
    for qid, wire in got[0].items():
        assert got[1][qid] == wire and got[2][qid] == wire, qid

    # Every node names its file's checksum.
    with open(db, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    for x in nodes:
        assert digest in x.output(), x.id
        assert x.status()["GeoipSha256"] == digest, x.id

    # The checksums are replicated: every member's shows in node list, and
    # status calls them consistent.
    api = nodes[0].api
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shas = [n["GeoipSha256"] for n in ok(q53(api, "node", "list"))["Nodes"]]
        if shas == [digest] * 3:
            break
        time.sleep(0.05)
    assert shas == [digest] * 3
    assert ok(q53(api, "status"))["GeoipConsistent"] == "yes"


def test_geoip_mismatch_reported(tmp_path):
    """A node started with another --geoip file is reported, not silent."""
    a = geo_db.write(str(tmp_path / "a.mmdb"))
    nets = dict(geo_db.NETWORKS)
    nets["10.9.0.0/16"] = ("AS", "JP", None)
    b = geo_db.write(str(tmp_path / "b.mmdb"), nets)
    with open(b, "rb") as f:
        digest_b = hashlib.sha256(f.read()).hexdigest()
    c = Cluster(str(tmp_path))
    try:
        c.extra_args = ["--geoip", a]
        first = c.add_node(1)
        c.wait_leader([first])
        c.add_node(2, join=first.api)
        c.extra_args = ["--geoip", b]
        c.add_node(3, join=first.api)
        c.wait_members(range(1, 4))
        deadline = time.monotonic() + 20
        st = {}
        while time.monotonic() < deadline:
            st = ok(q53(first.api, "status"))
            if st["GeoipConsistent"].startswith("no:"):
                break
            time.sleep(0.05)
        assert st["GeoipConsistent"].startswith("no:"), st
        assert "n3 " + digest_b[:12] in st["GeoipConsistent"], st
    finally:
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"
