"""Alias records and test-answer on a 3-node cluster (real q53d processes):

* The AWS CLI file tests/unit/data/route53/batch-alias-apex.json (its zone
  id filled in) applies verbatim: the apex answers A with the target's
  record and TTL on every node, through dig and kdig, never a CNAME.
* A failover PRIMARY alias to a record of another zone with
  EvaluateTargetHealth: while the target's health check passes the
  target answers; stopping the HTTP endpoint behind it makes every node
  answer the SECONDARY (health_endpoints.py, as test_health.py).
* `q53 test-answer` agrees with dig (simple, failover, alias) and, for the
  same query ID from the same address, with a dnspython query (weighted),
  and names the branch taken.
* boto3's test_dns_answer (Route 53's TestDNSAnswer) and
  list_resource_record_sets (AliasTarget) against a node's REST API.

Every wait polls with a deadline; processes and endpoints are started here
and stopped by PID / by their own handles."""
import json
import os
import socket
import subprocess
import time

import dns.message
import dns.rdatatype
import pytest

from cluster import Cluster, q53
from health_endpoints import HTTPEndpoint
from test_cli import q53d_has_api
from test_health import ok

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

DATA = os.path.join(os.path.dirname(__file__), "..", "unit", "data", "route53")
ZONE, OTHER = "example.com", "other.test"
AKID, SECRET = "AKIAALIASTEST0000001", "alias-test-secret-0123456789abcdef"


@pytest.fixture
def cluster(tmp_path):
    made, endpoints = [], []

    def make(n):
        c = Cluster(str(tmp_path), keys=[(AKID, SECRET)])
        made.append(c)
        return c.start(n)

    def endpoint(cls, host):
        e = cls(host).start()
        endpoints.append(e)
        return e

    make.endpoint = endpoint
    yield make
    for e in endpoints:
        e.stop()
    bad = {}
    for c in made:
        bad.update(c.stop_all())
    assert not bad, f"q53d exited uncleanly: {bad}"


def change(c, api, zone, batch):
    cid = ok(q53(api, "change-batch", zone, "-", stdin=batch))["ChangeInfo"]["Id"]
    c.wait_insync(api, cid)


def rr(name, value, ttl=60, **extra):
    s = {"Name": name, "Type": "A", "TTL": ttl,
         "ResourceRecords": [{"Value": value}]}
    s.update(extra)
    return {"Action": "CREATE", "ResourceRecordSet": s}


def dig(node, name, tool="dig", extra=()):
    out = subprocess.run([tool, f"@{node.host}", "-p", str(node.dns_port), "+short",
                          *extra, name, "A"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0, out.stderr
    return sorted(out.stdout.split())


def full_answer(node, name):
    """dig's whole answer section: (type, value) pairs."""
    out = subprocess.run(["dig", f"@{node.host}", "-p", str(node.dns_port),
                          "+noall", "+answer", name, "A"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return [(f[3], f[4], int(f[1])) for f in
            (line.split() for line in out.stdout.splitlines()) if len(f) >= 5]


def answer_of(node, name, *args):
    return ok(q53(node.api, "test-answer", ZONE, name, "A", *args))


def ask(node, name, qid):
    """One UDP query with ID qid from 127.0.0.1: the A addresses."""
    m = dns.message.make_query(name, "A")
    m.id = qid
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    try:
        for _ in range(3):
            s.sendto(m.to_wire(), (node.host, node.dns_port))
            try:
                data, _ = s.recvfrom(4096)
                break
            except socket.timeout:
                continue
        else:
            raise AssertionError("no answer")
    finally:
        s.close()
    r = dns.message.from_wire(data)
    return sorted(x.address for a in r.answer if a.rdtype == dns.rdatatype.A
                  for x in a)


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok_, last = pred()
        if ok_:
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s: {last}")


def test_alias_failover_test_answer(cluster):
    lb = cluster.endpoint(HTTPEndpoint, "127.0.0.70")
    c = cluster(3)
    nodes = c.members()
    api = nodes[-1].api
    zid = ok(q53(api, "zone", "create", ZONE))["HostedZone"]["Id"]
    oid = ok(q53(api, "zone", "create", OTHER))["HostedZone"]["Id"]
    cfg = {"IPAddress": lb.host, "Port": lb.port, "Type": "HTTP",
           "ResourcePath": "/health", "RequestInterval": 1, "FailureThreshold": 2}
    hc = ok(q53(api, "health", "create", "-", stdin=json.dumps(cfg)))["HealthCheck"]["Id"]
    change(c, api, OTHER, json.dumps({"Changes": [
        rr("lb.other.test", "198.51.100.1", ttl=30, HealthCheckId=hc)]}))
    change(c, api, ZONE, json.dumps({"Changes": [
        rr("shop.example.com", "192.0.2.7", ttl=77),
        rr("fo.example.com", "192.0.2.2", ttl=40, SetIdentifier="s",
           Failover="SECONDARY"),
        rr("w.example.com", "192.0.2.41", SetIdentifier="w1", Weight=50),
        rr("w.example.com", "192.0.2.42", SetIdentifier="w2", Weight=50)]}))
    with open(os.path.join(DATA, "batch-alias-apex.json")) as f:
        change(c, api, ZONE, f.read().replace("SAME_ZONE_ID", zid))
    change(c, api, ZONE, json.dumps({"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "fo.example.com", "Type": "A", "SetIdentifier": "p",
        "Failover": "PRIMARY", "AliasTarget": {
            "HostedZoneId": oid, "DNSName": "lb.other.test",
            "EvaluateTargetHealth": True}}}]}))

    # A loop and a missing target are refused, named.
    p = q53(api, "change-batch", ZONE, "-", stdin=json.dumps({"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "loop.example.com", "Type": "A", "AliasTarget": {
                "HostedZoneId": zid, "DNSName": "loop.example.com",
                "EvaluateTargetHealth": False}}},
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "gone.example.com", "Type": "A", "AliasTarget": {
                "HostedZoneId": zid, "DNSName": "nothere.example.com",
                "EvaluateTargetHealth": False}}}]}))
    assert p.returncode == 1, p
    assert "change 0: Tried to create an alias that targets loop.example.com." in p.stderr
    assert "change 1: Tried to create an alias that targets nothere.example.com., " \
        f"type A in zone {zid}, but that target was not found" in p.stderr

    # The listing keeps the AliasTarget.
    listed = ok(q53(api, "records", "list", ZONE))["ResourceRecordSets"]
    apex = [r for r in listed if r["Name"] == "example.com." and r["Type"] == "A"]
    assert apex and apex[0]["AliasTarget"] == {
        "HostedZoneId": zid, "DNSName": "shop.example.com.",
        "EvaluateTargetHealth": True}, apex

    # The apex: the target's A and TTL, never a CNAME, on every node.
    for n in nodes:
        assert full_answer(n, "example.com.") == [("A", "192.0.2.7", 77)]
        assert dig(n, "example.com.", "kdig", ["+notcp"]) == ["192.0.2.7"]

    # test-answer agrees with dig: simple, alias, failover (primary alias up).
    wait(lambda: (all(dig(n, "fo.example.com.") == ["198.51.100.1"] for n in nodes),
                  [dig(n, "fo.example.com.") for n in nodes]), 30, "primary alias up")
    for n in nodes:
        for name in ("shop.example.com.", "example.com.", "fo.example.com."):
            a = answer_of(n, name)
            assert a["ResponseCode"] == "NOERROR"
            assert sorted(a["RecordData"]) == dig(n, name), (name, a)
        a = answer_of(n, "example.com.")
        assert a["Branch"].startswith("alias shop.example.com. (" + zid + ")"), a
        a = answer_of(n, "fo.example.com.")
        assert a["Branch"] == f"failover PRIMARY \"p\" alias lb.other.test. ({oid})", a
        # Weighted: the same ID from the same address picks the same leaf.
        seen = set()
        for qid in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89):
            a = answer_of(n, "w.example.com.", "--id", str(qid),
                            "--resolver-ip", "127.0.0.1")
            got = ask(n, "w.example.com.", qid)
            assert sorted(a["RecordData"]) == got, (qid, a, got)
            leaf = {"192.0.2.41": "w1", "192.0.2.42": "w2"}[got[0]]
            assert a["Branch"] == f"weighted \"{leaf}\"", a
            seen.add(leaf)
        assert seen == {"w1", "w2"}, seen
    # NXDOMAIN is told as such.
    assert answer_of(nodes[0], "nothere.example.com.")["ResponseCode"] == "NXDOMAIN"

    # EvaluateTargetHealth: the target's check fails, the SECONDARY answers.
    lb.stop()
    wait(lambda: (all(dig(n, "fo.example.com.") == ["192.0.2.2"] for n in nodes),
                  [dig(n, "fo.example.com.") for n in nodes]), 30,
         "failover to the secondary after the alias target's check failed")
    for n in nodes:
        a = answer_of(n, "fo.example.com.")
        assert a["RecordData"] == ["192.0.2.2"], a
        assert a["Branch"] == "failover SECONDARY \"s\"", a

    # boto3: TestDNSAnswer and the listing over Route 53's REST API.
    boto3 = pytest.importorskip("boto3")
    r53 = boto3.client("route53", endpoint_url=f"http://{nodes[0].http}",
                       region_name="us-east-1", aws_access_key_id=AKID,
                       aws_secret_access_key=SECRET)
    t = r53.test_dns_answer(HostedZoneId=zid, RecordName="example.com",
                            RecordType="A")
    assert t["RecordData"] == ["192.0.2.7"], t
    assert t["ResponseCode"] == "NOERROR" and t["Protocol"] == "UDP", t
    assert t["RecordName"] == "example.com." and t["RecordType"] == "A", t
    t = r53.test_dns_answer(HostedZoneId=zid, RecordName="fo.example.com",
                            RecordType="A", ResolverIP="127.0.0.1")
    assert t["RecordData"] == ["192.0.2.2"], t
    sets = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    apex = [s for s in sets if s["Name"] == "example.com." and s["Type"] == "A"]
    assert apex[0]["AliasTarget"] == {"HostedZoneId": zid,
                                      "DNSName": "shop.example.com.",
                                      "EvaluateTargetHealth": True}, apex
