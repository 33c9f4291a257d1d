"""Geoproximity routing on a 3-node cluster started with --geoip FILE (a
MaxMind City DB with coordinates this test writes with mmdb-writer:
geo_db.py):

* GeoProximityLocation by Coordinates (east, New York) and by AWSRegion
  (west, us-west-1) through the q53 CLI; a Chicago client gets east, a
  Denver one west (IPv4 and IPv6 ECS), with the ECS SCOPE the matched
  network's prefix length; a client whose network has no coordinates gets
  the location of the largest Bias (east first, on equal ones the first
  SetIdentifier).
* A Bias of 70 on west, set through Route 53's REST API (boto3, XML),
  moves the boundary: the Chicago client moves to west; the New York one
  stays east.
* dig +subnet and kdig +subnet at every node, `q53 test-answer
  --client-subnet` agreeing and naming the branch, and byte identity: the
  same 400 query packets to the three nodes give the same response bytes.
* The listing (q53 JSON and boto3) gives GeoProximityLocation back.

Every wait polls with a deadline; nodes are stopped by PID."""
import json
import random
import subprocess

import dns.edns
import dns.message
import dns.rcode
import pytest

from cluster import Cluster, q53
from test_cli import q53d_has_api
from test_health import ok
from test_routing_policies import exchange

pytest.importorskip("mmdb_writer")
import geo_db  # noqa: E402

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.com"
GP = "gp.example.com."
EAST, WEST = "192.0.2.91", "192.0.2.92"
AKID, SECRET = "AKIAGEOPROXTEST00001", "geoprox-test-secret-0123456789abcdef"

NETWORKS = {
    "10.10.0.0/16": ("NA", "US", "NY", (40.71, -74.01)),    # New York
    "10.20.0.0/16": ("NA", "US", "IL", (41.88, -87.63)),    # Chicago
    "10.30.0.0/16": ("NA", "US", "CO", (39.74, -104.99)),   # Denver
    "10.40.0.0/16": ("NA", "US", None, None),               # no coordinates
    "2001:db8:30::/48": ("NA", "US", "CO", (39.74, -104.99)),
}
NYC, CHICAGO, DENVER, NOWHERE = ("10.10.7.0/24", "10.20.7.0/24",
                                 "10.30.7.0/24", "10.40.7.0/24")
DENVER6 = "2001:db8:30::/56"


@pytest.fixture
def gp_cluster(tmp_path):
    db = geo_db.write(str(tmp_path / "city.mmdb"), NETWORKS)
    c = Cluster(str(tmp_path), keys=[(AKID, SECRET)])
    c.extra_args = ["--geoip", db]
    try:
        yield c.start(3)
    finally:
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"


def change(c, api, batch):
    cid = ok(q53(api, "change-batch", ZONE, "-", stdin=batch))["ChangeInfo"]["Id"]
    c.wait_insync(api, cid)


def rrs(sid, loc, value):
    return {"Action": "UPSERT", "ResourceRecordSet": {
        "Name": GP, "Type": "A", "TTL": 60, "SetIdentifier": sid,
        "GeoProximityLocation": loc, "ResourceRecords": [{"Value": value}]}}


def ask(node, subnet):
    m = dns.message.make_query(GP, "A", use_edns=0)
    addr, bits = subnet.split("/")
    m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
    r = dns.message.from_wire(exchange(node, [m.to_wire()])[m.id])
    addrs = sorted(rr.address for rrset in r.answer for rr in rrset)
    scope = [o.scopelen for o in r.options if isinstance(o, dns.edns.ECSOption)]
    return r.rcode(), addrs, scope[0] if scope else None


def dig(tool, node, subnet):
    out = subprocess.run([tool, f"@{node.host}", "-p", str(node.dns_port),
                          "+notcp", f"+subnet={subnet}", GP, "A"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout


def answer_of(node, subnet):
    return ok(q53(node.api, "test-answer", ZONE, GP, "A",
                  "--client-subnet", subnet))


def check(nodes, want):
    """Every node answers each client as want says, by dnspython, dig,
    kdig and test-answer."""
    for n in nodes:
        for subnet, addr in want.items():
            rcode, addrs, scope = ask(n, subnet)
            assert (rcode, addrs) == (dns.rcode.NOERROR, [addr]), (n.id, subnet, addrs)
            assert scope == (48 if ":" in subnet else 16), (subnet, scope)
            for tool in ("dig", "kdig"):
                out = dig(tool, n, subnet)
                assert addr in out and (EAST if addr == WEST else WEST) not in out, out
            a = answer_of(n, subnet)
            assert a["ResponseCode"] == "NOERROR" and a["RecordData"] == [addr], a
            sid = "east" if addr == EAST else "west"
            assert a["Branch"] == f"geoproximity \"{sid}\"", a


def identical(nodes, seed):
    rng = random.Random(seed)
    pk = []
    for qid in rng.sample(range(65536), 400):
        subnet = rng.choice([NYC, CHICAGO, DENVER, NOWHERE, DENVER6])
        addr, bits = subnet.split("/")
        m = dns.message.make_query(GP, "A", use_edns=0)
        m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
        m.id = qid
        pk.append(m.to_wire())
    got = [exchange(x, pk) for x in nodes]
    assert len(got[0]) == len(pk)
    for qid, wire in got[0].items():
        assert got[1][qid] == wire and got[2][qid] == wire, qid


def test_geoproximity(gp_cluster):
    c = gp_cluster
    nodes = c.members()
    api = nodes[-1].api
    zid = ok(q53(api, "zone", "create", ZONE))["HostedZone"]["Id"].split("/")[-1]
    change(c, api, json.dumps({"Changes": [
        rrs("east", {"Coordinates": {"Latitude": "40.71", "Longitude": "-74.01"}}, EAST),
        rrs("west", {"AWSRegion": "us-west-1"}, WEST)]}))
    listed = [r for r in ok(q53(api, "records", "list", ZONE))["ResourceRecordSets"]
              if r["Name"] == GP]
    assert sorted(json.dumps(r["GeoProximityLocation"], sort_keys=True)
                  for r in listed) == [
        '{"AWSRegion": "us-west-1"}',
        '{"Coordinates": {"Latitude": "40.71", "Longitude": "-74.01"}}'], listed

    check(nodes, {NYC: EAST, CHICAGO: EAST, DENVER: WEST, DENVER6: WEST,
                  NOWHERE: EAST})
    identical(nodes, 1)

    # A Bias on west through the REST API moves Chicago over.
    boto3 = pytest.importorskip("boto3")
    r53 = boto3.client("route53", endpoint_url=f"http://{nodes[0].http}",
                       region_name="us-east-1", aws_access_key_id=AKID,
                       aws_secret_access_key=SECRET)
    r = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
        rrs("west", {"AWSRegion": "us-west-1", "Bias": 70}, WEST)]})
    c.wait_insync(nodes[0].api, r["ChangeInfo"]["Id"].split("/")[-1])
    check(nodes, {NYC: EAST, CHICAGO: WEST, DENVER: WEST, DENVER6: WEST,
                  NOWHERE: WEST})
    identical(nodes, 2)
    sets = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    west = [s for s in sets if s.get("SetIdentifier") == "west"]
    assert west[0]["GeoProximityLocation"] == {"AWSRegion": "us-west-1", "Bias": 70}, west

    # Refused with the change named: a Latitude out of range.
    p = q53(api, "change-batch", ZONE, "-", stdin=json.dumps({"Changes": [
        rrs("east", {"Coordinates": {"Latitude": "40.71", "Longitude": "-74.01"}}, EAST),
        rrs("bad", {"Coordinates": {"Latitude": "95", "Longitude": "0"}}, EAST)]}))
    assert p.returncode != 0
    assert "change 1" in p.stderr and "Latitude 95.00 is out of range" in p.stderr, p.stderr
