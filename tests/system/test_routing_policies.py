"""Weighted and multivalue answer routing on a 3-node cluster (real q53d
processes, cluster.py), picked at query time by a fixed hash of the query:

* The AWS CLI files (tests/unit/data/route53/batch-weighted.json and
  batch-multivalue.json, health check ids filled in) apply verbatim.
* Weighted: 10,000 queries (random IDs) to every node; the shares of the
  90 / 10 records pass a chi-square test (p > 0.001, 1 degree of
  freedom); the weight-0 record is never answered while the others are
  up.
* Multivalue: a 10-member group answers 8 records per query, and the
  queries cover every member; the 3-member group of the file answers its
  healthy records only, and stopping the HTTP endpoint behind HC_M1 makes
  every node drop that record (health_endpoints.py, as test_health.py).
* Byte identity: the same 1,000 query packets (random IDs, fixed seed) to
  all three nodes give the same response bytes.
* kdig and dig agree with the answers; dig +subnet gets the ECS scope
  (24 for the weighted answer, 0 for the SOA).

Every wait polls with a deadline; processes and endpoints are started here
and stopped by PID / by their own handles."""
import json
import os
import random
import socket
import subprocess
import time

import dns.message
import dns.rdatatype
import pytest

from cluster import q53
from health_endpoints import HTTPEndpoint
from test_cli import q53d_has_api
from test_health import make_cluster, ok  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

DATA = os.path.join(os.path.dirname(__file__), "..", "unit", "data", "route53")
ZONE = "example.com"
APP, POOL, BIG = "app.example.com.", "pool.example.com.", "big.example.com."
QUERIES = 10000
# Chi-square critical value, p = 0.001, 1 degree of freedom.
CHI2_999_DF1 = 10.828


def create_check(api, ep):
    cfg = {"IPAddress": ep.host, "Port": ep.port, "Type": "HTTP",
           "ResourcePath": "/health", "RequestInterval": 1,
           "FailureThreshold": 2}
    return ok(q53(api, "health", "create", "-",
                  stdin=json.dumps(cfg)))["HealthCheck"]["Id"]


def change(c, api, batch):
    cid = ok(q53(api, "change-batch", ZONE, "-", stdin=batch))["ChangeInfo"]["Id"]
    c.wait_insync(api, cid)


def exchange(node, packets, timeout=2.0, window=64):
    """Sends every packet (bytes, distinct IDs) to node over UDP, at most
    `window` outstanding; returns {id: response bytes}. Bounded: each
    packet is tried at most 3 times."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    addr = (node.host, node.dns_port)
    out = {}
    try:
        for attempt in range(3):
            todo = [p for p in packets if int.from_bytes(p[:2], "big") not in out]
            for i in range(0, len(todo), window):
                chunk = todo[i:i + window]
                want = {int.from_bytes(p[:2], "big") for p in chunk}
                for p in chunk:
                    s.sendto(p, addr)
                try:
                    while want:
                        data, _ = s.recvfrom(4096)
                        qid = int.from_bytes(data[:2], "big")
                        if qid in want:
                            want.discard(qid)
                            out[qid] = data
                except socket.timeout:
                    pass
            if len(out) == len(packets):
                break
    finally:
        s.close()
    assert len(out) == len(packets), f"{len(packets) - len(out)} queries unanswered"
    return out


def packets(qname, n, seed, rdtype="A"):
    """n query packets for qname with distinct random IDs (fixed seed)."""
    rng = random.Random(seed)
    ids = rng.sample(range(65536), n)
    out = []
    for qid in ids:
        m = dns.message.make_query(qname, rdtype)
        m.id = qid
        out.append(m.to_wire())
    return out


def addresses(wire):
    m = dns.message.from_wire(wire)
    return [rr.address for rrset in m.answer
            if rrset.rdtype == dns.rdatatype.A for rr in rrset]


def chi2(counts, shares, total):
    return sum((counts.get(k, 0) - s * total) ** 2 / (s * total)
               for k, s in shares.items())


def load(name, **subst):
    with open(os.path.join(DATA, name)) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace(k, v)
    return text


def wait_answers(c, qname, pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    pk = packets(qname, 16, 7)
    while time.monotonic() < deadline:
        got = {n.id: [sorted(addresses(r)) for r in exchange(n, pk).values()]
               for n in c.members()}
        if all(pred(a) for answers in got.values() for a in answers):
            return
        last = got
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s: {last}")


def test_weighted_multivalue_shares_identity_health(make_cluster):
    m1 = make_cluster.endpoint(HTTPEndpoint, "127.0.0.60")
    m2 = make_cluster.endpoint(HTTPEndpoint, "127.0.0.61")
    c = make_cluster(3)
    nodes = c.members()
    api = nodes[-1].api
    ok(q53(api, "zone", "create", ZONE))
    h1, h2 = create_check(api, m1), create_check(api, m2)
    change(c, api, load("batch-weighted.json"))
    change(c, api, load("batch-multivalue.json", HC_M1_ID=h1, HC_M2_ID=h2))
    big = {"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": BIG, "Type": "A", "TTL": 60, "SetIdentifier": f"b{i}",
            "MultiValueAnswer": True,
            "ResourceRecords": [{"Value": f"198.51.100.{i}"}]}}
        for i in range(1, 11)]}
    change(c, api, json.dumps(big))
    # The listing shows the policies.
    listed = ok(q53(api, "records", "list", ZONE))["ResourceRecordSets"]
    weights = sorted(r.get("Weight") for r in listed if r["Name"] == APP)
    assert weights == [0, 10, 90], listed
    assert all(r.get("MultiValueAnswer") for r in listed if r["Name"] == POOL)

    # Weighted shares, on every node.
    pk = packets(APP, QUERIES, 1)
    for n in nodes:
        counts = {}
        for wire in exchange(n, pk).values():
            a = addresses(wire)
            assert len(a) == 1, a
            counts[a[0]] = counts.get(a[0], 0) + 1
        assert counts.get("192.0.2.43", 0) == 0, counts
        x = chi2(counts, {"192.0.2.41": 0.9, "192.0.2.42": 0.1}, QUERIES)
        assert x < CHI2_999_DF1, (n.id, counts, x)

    # Multivalue: 8 of 10 per answer, every member covered, on every node.
    pk = packets(BIG, 2000, 2)
    for n in nodes:
        seen = set()
        for wire in exchange(n, pk).values():
            a = addresses(wire)
            assert len(a) == 8 and len(set(a)) == 8, a
            seen.update(a)
        assert seen == {f"198.51.100.{i}" for i in range(1, 11)}, seen

    # Byte identity: 1,000 packets to the three nodes.
    for qname in (APP, BIG, POOL):
        pk = packets(qname, 1000, 3)
        got = [exchange(n, pk) for n in nodes]
        for qid, wire in got[0].items():
            assert got[1][qid] == wire and got[2][qid] == wire, (qname, qid)

    # kdig and dig see the same choices.
    n = nodes[0]
    out = subprocess.run(["kdig", f"@{n.host}", "-p", str(n.dns_port), "+short",
                          "+notcp", BIG, "A"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.split()) == 8, out.stdout
    out = subprocess.run(["dig", f"@{n.host}", "-p", str(n.dns_port), "+short",
                          APP, "A"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() in (["192.0.2.41"], ["192.0.2.42"]), out.stdout
    # EDNS Client Subnet: the weighted answer's scope is the /24 the pick
    # used; a simple answer's is 0.
    out = subprocess.run(["dig", f"@{n.host}", "-p", str(n.dns_port),
                          "+subnet=198.51.100.0/24", APP, "A"],
                         capture_output=True, text=True, timeout=10)
    assert "CLIENT-SUBNET: 198.51.100.0/24/24" in out.stdout, out.stdout
    out = subprocess.run(["dig", f"@{n.host}", "-p", str(n.dns_port),
                          "+subnet=198.51.100.0/24", ZONE, "SOA"],
                         capture_output=True, text=True, timeout=10)
    assert "CLIENT-SUBNET: 198.51.100.0/24/0" in out.stdout, out.stdout

    # Health: both checks up, then m1's endpoint stops: its record goes.
    everyone = {"192.0.2.61", "192.0.2.62", "192.0.2.63"}
    wait_answers(c, POOL, lambda a: set(a) == everyone, 30,
                 "all three multivalue records")
    m1.stop()
    wait_answers(c, POOL, lambda a: set(a) == everyone - {"192.0.2.61"}, 30,
                 "m1 dropped after its check failed")
    pk = packets(POOL, 1000, 4)
    got = [exchange(n, pk) for n in nodes]
    for qid, wire in got[0].items():
        assert "192.0.2.61" not in addresses(wire)
        assert got[1][qid] == wire and got[2][qid] == wire, qid
