"""Latency routing on a 3-node cluster of two sites: nodes 1 and 2 run with
--site fra:eu-central-1, node 3 with --site iad:us-east-1.

* Two latency records (eu-central-1, us-east-1), each with an HTTP health
  check against this test's own endpoints (health_endpoints.py).
* The API latency table (q53 latency set) sends 198.51.100.0/24 to
  eu-central-1 and 100.64.0.0/16 to us-east-1: dig +subnet and kdig at
  every node give those answers with the row's ECS scope, and the same
  response bytes on every node (byte identity over 300 packets).
* Clients no row covers get the answering node's site (the documented
  exception to byte identity): fra nodes answer eu-central-1, the iad node
  us-east-1.
* The prober-measured site rows appear in q53 latency list (both sites,
  both regions).
* The eu-central-1 endpoint fails: its record leaves every answer; back
  up: it returns.
* q53 test-answer agrees with dig at every node and names the branch.
* Regions are validated at change time (indexed InvalidChangeBatch).
* Route 53's REST API: boto3 creates a latency record (REST XML Region)
  and lists it; the table over SigV4 at /q53/latency (PUT, GET, DELETE).

Every wait polls with a deadline; nodes are stopped by PID."""
import json
import random
import subprocess
import time

import dns.edns
import dns.message
import dns.rcode
import pytest

from cluster import Cluster, q53
from health_endpoints import HTTPEndpoint
from test_cli import q53d_has_api
from test_health import ok
from test_routing_policies import exchange

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.com"
NAME = "lat.example.com."
EU, US = "192.0.2.11", "192.0.2.12"
SITES = {1: "fra:eu-central-1", 2: "fra:eu-central-1", 3: "iad:us-east-1"}
KEY = ("AKIAQ53LATENCYTEST00", "q53-latency-test-secret-0123456789abcdef")


@pytest.fixture
def endpoints():
    eps = [HTTPEndpoint("127.0.0.1").start(), HTTPEndpoint("127.0.0.1").start()]
    try:
        yield eps
    finally:
        for e in eps:
            e.stop()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path), keys=[KEY])
    try:
        c.extra_args = ["--site", SITES[1]]
        first = c.add_node(1)
        c.wait_leader([first])
        for i in (2, 3):
            c.extra_args = ["--site", SITES[i]]
            c.add_node(i, join=first.api)
        c.wait_members(range(1, 4))
        yield c
    finally:
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        good, last = pred()
        if good:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s: {last}")


def change(c, api, batch):
    cid = ok(q53(api, "change-batch", ZONE, "-", stdin=json.dumps(batch)))
    c.wait_insync(api, cid["ChangeInfo"]["Id"])


def check(api, ep):
    cfg = {"IPAddress": ep.host, "Port": ep.port, "Type": "HTTP",
           "ResourcePath": "/health", "RequestInterval": 1,
           "FailureThreshold": 2}
    return ok(q53(api, "health", "create", "-", stdin=json.dumps(cfg)))["HealthCheck"]["Id"]


def record(sid, region, value, hc):
    return {"Action": "CREATE", "ResourceRecordSet": {
        "Name": NAME, "Type": "A", "TTL": 60, "SetIdentifier": sid,
        "Region": region, "HealthCheckId": hc,
        "ResourceRecords": [{"Value": value}]}}


def ask(node, subnet=None, qid=None):
    """(rcode, addresses, ECS scope) of one query with ECS subnet."""
    m = dns.message.make_query(NAME, "A", use_edns=0)
    if qid is not None:
        m.id = qid
    if subnet:
        addr, bits = subnet.split("/")
        m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
    r = dns.message.from_wire(exchange(node, [m.to_wire()])[m.id])
    scope = None
    for o in r.options:
        if isinstance(o, dns.edns.ECSOption):
            scope = o.scopelen
    return r.rcode(), sorted(x.address for a in r.answer for x in a), scope


def dig(tool, node, subnet):
    out = subprocess.run([tool, f"@{node.host}", "-p", str(node.dns_port),
                          "+notcp", f"+subnet={subnet}", NAME, "A"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout


def dig_answer(node, subnet):
    out = subprocess.run(["dig", f"@{node.host}", "-p", str(node.dns_port),
                          "+notcp", f"+subnet={subnet}", "+noall", "+answer",
                          NAME, "A"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return sorted(f[4] for f in (l.split() for l in out.stdout.splitlines())
                  if len(f) >= 5 and f[3] == "A")


def packets(subnets, n, seed):
    rng = random.Random(seed)
    out = []
    for qid in rng.sample(range(65536), n):
        addr, bits = rng.choice(subnets).split("/")
        m = dns.message.make_query(NAME, "A", use_edns=0)
        m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
        m.id = qid
        out.append(m.to_wire())
    return out


COVERED = ["198.51.100.0/24", "100.64.7.0/24", "100.64.200.0/24"]
UNCOVERED = ["203.0.113.0/24", "192.0.2.0/24"]
ADDR = {"eu-central-1": EU, "us-east-1": US}


def site_answer(api, nid, healthy=("eu-central-1", "us-east-1")):
    """What node nid answers a client no API row covers: the lowest RTT of
    its site's measured row (ties: the site's own region), else its own
    region (README, latency routing)."""
    site, region = SITES[nid].split(":")
    rows = {s["Site"]: s["RttMs"] for s in ok(q53(api, "latency", "list"))["Sites"]}
    rtt = {r: v for r, v in rows.get(site, {}).items() if r in healthy}
    if not rtt:
        return ADDR[region] if region in healthy else None
    best = min(rtt.values())
    if rtt.get(region) == best:
        return ADDR[region]
    return ADDR[min(r for r, v in rtt.items() if v == best)]


def uncovered_follow_sites(nodes, api, healthy=("eu-central-1", "us-east-1")):
    """Waits until every node answers uncovered clients by its site."""
    for n in nodes:
        def follows(n=n):
            want = site_answer(api, n.id, healthy)
            got = [ask(n, s)[1] for s in UNCOVERED] + [ask(n)[1]]
            return all(g == [want] for g in got), (want, got)
        wait(follows, 30, f"node {n.id}: uncovered clients by its site")


def test_latency_two_sites(cluster, endpoints):
    c = cluster
    nodes = c.members()
    api = nodes[-1].api
    eu_ep, us_ep = endpoints

    # The sites are replicated node metadata.
    def sites():
        listed = ok(q53(api, "node", "list"))["Nodes"]
        got = {n["Id"]: f"{n['Site']}:{n['SiteRegion']}" for n in listed}
        return got == SITES, listed
    wait(sites, 30, "sites in node list")
    for n in nodes:
        st = n.status()
        assert (st["Site"], st["SiteRegion"]) == tuple(SITES[n.id].split(":")), st

    ok(q53(api, "zone", "create", ZONE))
    hc_eu, hc_us = check(api, eu_ep), check(api, us_ep)

    # Validation at change time, indexed.
    bad = q53(api, "change-batch", ZONE, "-", stdin=json.dumps({"Changes": [
        record("fra", "eu-central-1", EU, hc_eu),
        record("mars", "mars-north-1", "192.0.2.13", hc_eu)]}))
    assert bad.returncode == 1, bad.stdout
    assert "InvalidChangeBatch" in bad.stderr and "change 1: " in bad.stderr, bad.stderr
    assert "Region 'mars-north-1' is not a known region" in bad.stderr, bad.stderr
    bad = q53(api, "change-batch", ZONE, "-", stdin=json.dumps({"Changes": [
        record("a", "us-east-1", EU, hc_eu), record("b", "us-east-1", US, hc_us)]}))
    assert bad.returncode == 1 and "already has the Region us-east-1" in bad.stderr, bad.stderr

    change(c, api, {"Changes": [record("fra", "eu-central-1", EU, hc_eu),
                                record("iad", "us-east-1", US, hc_us)]})
    listed = ok(q53(api, "records", "list", ZONE))["ResourceRecordSets"]
    assert sorted(r.get("Region") for r in listed if r["Name"] == NAME) == \
        ["eu-central-1", "us-east-1"], listed

    # The API table: one /24 to eu-central-1, one /16 to us-east-1.
    ok(q53(api, "latency", "set", "198.51.100.0/24", "eu-central-1=10",
           "us-east-1=90"))
    ok(q53(nodes[0].api, "latency", "set", "100.64.0.0/16", "us-east-1=15",
           "eu-central-1=80"))
    bad = q53(api, "latency", "set", "100.64.0.1/16", "us-east-1=15")
    assert bad.returncode == 1 and "host bits" in bad.stderr, bad.stderr
    want = {"198.51.100.0/24": ([EU], 24), "100.64.7.0/24": ([US], 16),
            "100.64.200.0/24": ([US], 16)}
    for n in nodes:
        def answers(n=n):
            got = {s: ask(n, s)[1:] for s in want}
            return got == want, got
        wait(answers, 30, f"node {n.id} answers by the latency table")
    # Not covered (no ECS either: the source 127.0.0.1 has no row): the
    # node's own site.
    uncovered_follow_sites(nodes, api)

    # dig and kdig with +subnet at every node: the answer and the scope.
    for n in nodes:
        for tool in ("dig", "kdig"):
            out = dig(tool, n, "198.51.100.0/24")
            assert EU in out and "198.51.100.0/24/24" in out, (tool, n.id, out)
            out = dig(tool, n, "100.64.7.0/24")
            assert US in out and "100.64.7.0/24/16" in out, (tool, n.id, out)

    # Byte identity for clients the table covers; the site fallback differs
    # by site (nodes 1 and 2 share one), as documented.
    pk = packets(COVERED, 300, 9)
    got = [exchange(x, pk) for x in nodes]
    assert len(got[0]) == 300
    for qid, wire in got[0].items():
        assert got[1][qid] == wire and got[2][qid] == wire, qid
    pk = packets(UNCOVERED, 100, 10)

    def fra_identical():
        got = [exchange(x, pk) for x in nodes]
        same = all(got[1][q] == w for q, w in got[0].items())
        differ = all(got[2][q] != w for q, w in got[0].items())
        split = site_answer(api, 1) != site_answer(api, 3)
        return same and (differ or not split), (same, differ, split)
    wait(fra_identical, 30, "fra nodes identical, iad by its own site")

    # test-answer agrees with dig at every node and names the branch.
    for n in nodes:
        for subnet in COVERED + UNCOVERED:
            a = ok(q53(n.api, "test-answer", ZONE, NAME, "A",
                       "--client-subnet", subnet))
            assert a["ResponseCode"] == "NOERROR", a
            assert sorted(a["RecordData"]) == dig_answer(n, subnet), (n.id, subnet, a)
            sid, region = ("fra", "eu-central-1") if a["RecordData"] == [EU] \
                else ("iad", "us-east-1")
            assert a["Branch"] == f"latency \"{sid}\" region {region}", a

    # The probers' measured rows: each site's RTT to both regions.
    def measured():
        lst = ok(q53(api, "latency", "list"))
        by_site = {s["Site"]: sorted(s["RttMs"]) for s in lst["Sites"]}
        return by_site == {"fra": ["eu-central-1", "us-east-1"],
                           "iad": ["eu-central-1", "us-east-1"]}, lst
    lst = wait(measured, 60, "measured site rows")
    assert [r["Cidr"] for r in lst["Rows"]] == ["100.64.0.0/16", "198.51.100.0/24"], lst
    assert all(v >= 1 for s in lst["Sites"] for v in s["RttMs"].values()), lst
    uncovered_follow_sites(nodes, api)

    # A failing health check moves the answer on every node; back up, it
    # returns.
    eu_ep.stop()
    for n in nodes:
        wait(lambda n=n: (ask(n, "198.51.100.0/24")[1] == [US],
                          ask(n, "198.51.100.0/24")), 30,
             f"node {n.id}: eu-central-1 unhealthy")
    uncovered_follow_sites(nodes, api, healthy=("us-east-1",))
    a = ok(q53(nodes[0].api, "test-answer", ZONE, NAME, "A",
               "--client-subnet", "198.51.100.0/24"))
    assert a["RecordData"] == [US] and a["Branch"] == "latency \"iad\" region us-east-1", a
    eu_ep.start()
    for n in nodes:
        wait(lambda n=n: (ask(n, "198.51.100.0/24")[1] == [EU],
                          ask(n, "198.51.100.0/24")), 30,
             f"node {n.id}: eu-central-1 healthy again")

    # Deleting the /24's row: its clients fall back to the site.
    ok(q53(api, "latency", "delete", "198.51.100.0/24"))
    bad = q53(api, "latency", "delete", "198.51.100.0/24")
    assert bad.returncode == 1 and "NoSuchLatencyRow" in bad.stderr, bad.stderr
    for n in nodes:
        wait(lambda n=n: (ask(n, "198.51.100.0/24")[1] == [site_answer(api, n.id)],
                          ask(n, "198.51.100.0/24")), 30, "row deleted")


def signed(node, method, path, body=None):
    """A SigV4-signed request to node's REST API: (status, JSON or None)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://{node.http}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = AWSRequest(method=method, url=url, data=data)
    SigV4Auth(Credentials(*KEY), "route53", "us-east-1").add_auth(req)
    r = urllib.request.Request(url, data=data, method=method,
                               headers=dict(req.prepare().headers))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    return status, json.loads(text) if text else None


def test_latency_rest(cluster):
    """boto3 (REST XML) with Region, and /q53/latency over SigV4."""
    boto3 = pytest.importorskip("boto3")
    nodes = cluster.members()
    n = nodes[1]
    r53 = boto3.client("route53", endpoint_url=f"http://{n.http}",
                       region_name="us-east-1", aws_access_key_id=KEY[0],
                       aws_secret_access_key=KEY[1])
    zid = r53.create_hosted_zone(Name=ZONE, CallerReference="lat")["HostedZone"]["Id"]
    rrs = [{"Name": NAME, "Type": "A", "TTL": 60, "SetIdentifier": sid,
            "Region": region, "ResourceRecords": [{"Value": value}]}
           for sid, region, value in (("fra", "eu-central-1", EU),
                                      ("iad", "us-east-1", US))]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={
        "Changes": [{"Action": "CREATE", "ResourceRecordSet": r} for r in rrs]})
    got = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    assert sorted((r["SetIdentifier"], r["Region"]) for r in got
                  if r["Name"] == NAME) == [("fra", "eu-central-1"),
                                            ("iad", "us-east-1")], got
    with pytest.raises(r53.exceptions.InvalidChangeBatch) as e:
        r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={
            "Changes": [{"Action": "CREATE", "ResourceRecordSet": dict(
                rrs[0], SetIdentifier="x", Region="nowhere-1")}]})
    assert "Region 'nowhere-1' is not a known region" in str(e.value)

    status, body = signed(n, "PUT", "/q53/latency", {"Rows": [
        {"Cidr": "198.51.100.0/24", "RttMs": {"us-east-1": 5, "eu-central-1": 50}}]})
    assert (status, body) == (200, {"Rows": 1}), body
    for x in nodes:
        wait(lambda x=x: (ask(x, "198.51.100.0/24")[1:] == ([US], 24),
                          ask(x, "198.51.100.0/24")), 30, f"node {x.id}: REST row")
    status, body = signed(n, "GET", "/q53/latency")
    assert status == 200 and body["Rows"] == [
        {"Cidr": "198.51.100.0/24", "RttMs": {"eu-central-1": 50, "us-east-1": 5}}], body
    status, body = signed(n, "PUT", "/q53/latency", {"Rows": [{"Cidr": "nonsense"}]})
    assert status == 400 and body["Error"]["Code"] == "InvalidInput", body
    status, body = signed(n, "DELETE", "/q53/latency/198.51.100.0/24")
    assert status == 204, body
    status, body = signed(n, "DELETE", "/q53/latency/198.51.100.0/24")
    assert status == 404 and body["Error"]["Code"] == "NoSuchLatencyRow", body
