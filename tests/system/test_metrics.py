"""GET /metrics on a node's HTTP listener, parsed by Prometheus's own text
parser (prometheus-client's text_string_to_metric_families, pinned in
tests/requirements-pypi.txt), with its counters moving as the test sends
queries and requests:

* q53_dns_queries_total by zone, qtype, rcode and protocol: NOERROR,
  NXDOMAIN, NODATA over UDP and TCP, REFUSED (no zone) counted under
  zone="none", FORMERR and NOTIMP, each by exactly the number sent;
  truncated answers (a set larger than 512 bytes asked without EDNS);
  dropped messages (a datagram shorter than a header); TCP connections
  accepted and open; the response-time histogram's count equal to the
  queries answered;
* raft's term, commit and applied index, leader, proposal histogram;
* a health check's decided status, this node's observation, its probes,
  connect-time histogram and transitions (the endpoint stopped);
* the HTTP API's requests by operation and status (a signed q53 request,
  an unsigned Route 53 one refused with 403);
* /metrics names zones, never records.

One node; every wait polls with a deadline; processes and endpoints are
started here and stopped by PID / their handles."""
import json
import socket
import time
import urllib.request

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import pytest

from cluster import Cluster, q53
from health_endpoints import HTTPEndpoint

prom_parser = pytest.importorskip("prometheus_client.parser")

ZONE = "metrics.test"
SECRET_IP = "198.51.100.77"


@pytest.fixture
def node(tmp_path):
    c = Cluster(str(tmp_path))
    c.start(1)
    endpoints = []
    c.endpoints = endpoints
    yield c, c.nodes[1]
    for e in endpoints:
        e.stop()
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


def scrape_text(n):
    with urllib.request.urlopen(f"http://{n.http}/metrics", timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def scrape(n):
    """{(sample name, sorted labels): value} and the families' types."""
    text = scrape_text(n)
    samples, types = {}, {}
    for fam in prom_parser.text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = s.value
    return samples, types, text


def val(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def udp(n, qname, rdtype, edns=True, want=None):
    q = dns.message.make_query(qname, rdtype, use_edns=0 if edns else None)
    r = dns.query.udp(q, n.host, port=n.dns_port, timeout=2)
    if want is not None:
        assert r.rcode() == want, dns.rcode.to_text(r.rcode())
    return r


def tcp(n, qname, rdtype, want=None):
    q = dns.message.make_query(qname, rdtype, use_edns=0)
    r = dns.query.tcp(q, n.host, port=n.dns_port, timeout=2)
    if want is not None:
        assert r.rcode() == want
    return r


def raw_udp(n, payload):
    """Sends payload; returns the answer or None (nothing within 0.5 s)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(0.5)
        s.sendto(payload, (n.host, n.dns_port))
        try:
            return s.recv(4096)
        except socket.timeout:
            return None
    finally:
        s.close()


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")


def setup_zone(c, n):
    ok(q53(n.api, "zone", "create", ZONE))
    big = [{"Value": f"192.0.2.{i}"} for i in range(1, 41)]  # > 512 bytes
    batch = {"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"www.{ZONE}.", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": SECRET_IP}]}},
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"big.{ZONE}.", "Type": "A", "TTL": 60,
            "ResourceRecords": big}}]}
    cid = ok(q53(n.api, "change-batch", ZONE, "-",
                 stdin=json.dumps(batch)))["ChangeInfo"]["Id"]
    c.wait_insync(n.api, cid)
    wait_for(lambda: udp(n, f"www.{ZONE}.", "A").answer, 10, "www answers")


def test_dns_counters_move_per_zone_qtype_rcode_proto(node):
    c, n = node
    setup_zone(c, n)
    zl = f"{ZONE}."
    before, types, _ = scrape(n)
    assert types["q53_dns_queries"] == "counter"
    assert types["q53_dns_response_seconds"] == "histogram"

    for _ in range(7):
        udp(n, f"www.{ZONE}.", "A", want=dns.rcode.NOERROR)
    for _ in range(3):
        udp(n, f"nope.{ZONE}.", "AAAA", want=dns.rcode.NXDOMAIN)
    for _ in range(2):
        udp(n, f"www.{ZONE}.", "MX", want=dns.rcode.NOERROR)  # NODATA
    for _ in range(4):
        udp(n, "elsewhere.invalid.", "A", want=dns.rcode.REFUSED)
    for _ in range(5):
        tcp(n, f"www.{ZONE}.", "A", want=dns.rcode.NOERROR)
    tc = udp(n, f"big.{ZONE}.", "A", edns=False)
    assert tc.flags & dns.flags.TC
    # FORMERR: QDCOUNT 2 (RFC 9619); NOTIMP: opcode 2 (STATUS)
    formerr = bytes.fromhex("123400000002000000000000") + \
        b"\x03www\x07metrics\x04test\x00\x00\x01\x00\x01" * 2
    r = raw_udp(n, formerr)
    assert r is not None and r[3] & 0x0F == 1
    q = dns.message.make_query(f"www.{ZONE}.", "A")
    q.set_opcode(dns.opcode.STATUS)
    r = raw_udp(n, q.to_wire())
    assert r is not None and r[3] & 0x0F == 4
    assert raw_udp(n, b"\x00\x01\x02") is None  # shorter than a header

    def moved():
        after, _, _ = scrape(n)
        d = lambda name, **lb: val(after, name, **lb) - val(before, name, **lb)
        q = "q53_dns_queries_total"
        want = {
            (zl, "A", "NOERROR", "udp"): 7,
            (zl, "AAAA", "NXDOMAIN", "udp"): 3,
            (zl, "MX", "NOERROR", "udp"): 2,
            ("none", "A", "REFUSED", "udp"): 4,
            (zl, "A", "NOERROR", "tcp"): 5,
            ("none", "A", "FORMERR", "udp"): 1,
            ("none", "A", "NOTIMP", "udp"): 1,
        }
        got = {k: d(q, zone=k[0], qtype=k[1], rcode=k[2], proto=k[3]) for k in want}
        got[(zl, "A", "NOERROR", "udp")] -= 1  # the truncated big. query
        ok_ = got == want and \
            d("q53_dns_truncated_total", proto="udp") == 1 and \
            d("q53_dns_dropped_total", reason="malformed") == 1 and \
            d("q53_dns_tcp_connections_total") == 5 and \
            d("q53_dns_response_seconds_count", proto="tcp") == 5 and \
            d("q53_dns_response_seconds_count", proto="udp") == 7 + 3 + 2 + 4 + 1 + 2 and \
            d("q53_dns_udp_received_total") == 7 + 3 + 2 + 4 + 1 + 2 + 1
        return (after, got) if ok_ else None

    after, _ = wait_for(moved, 10, "DNS counters moved by exactly the queries sent")
    # every TCP connection was closed by the client (dnspython) and seen closed
    wait_for(lambda: val(scrape(n)[0], "q53_dns_tcp_connections_open") == 0, 10,
             "TCP connections closed")
    # histogram: cumulative buckets, +Inf = count
    inf = val(after, "q53_dns_response_seconds_bucket", proto="udp", le="+Inf")
    assert inf == val(after, "q53_dns_response_seconds_count", proto="udp")


def test_raft_api_and_no_record_data(node):
    c, n = node
    setup_zone(c, n)
    s, types, text = scrape(n)
    assert val(s, "q53_raft_term") >= 1
    assert val(s, "q53_raft_leader") == 1
    assert val(s, "q53_raft_applied_index") >= val(s, "q53_raft_commit_index") - 1
    assert val(s, "q53_raft_applied_index") > 0
    assert val(s, "q53_raft_leader_changes_total") >= 1
    assert val(s, "q53_raft_proposal_seconds_count") >= 2  # zone, change batch
    assert types["q53_raft_proposal_seconds"] == "histogram"
    assert ("q53_raft_snapshots_taken_total", ()) in s
    # zone names yes, record data never
    assert f'zone="{ZONE}."' in text or "q53_dns_queries_total" in text
    assert SECRET_IP not in text
    assert "www." not in text

    # the API by operation and status: q53 requests, a refused unsigned one
    q53_before = val(s, "q53_api_requests_total", operation="Q53Api", status="200")
    ok(q53(n.api, "zone", "list"))
    try:
        urllib.request.urlopen(f"http://{n.http}/2013-04-01/hostedzone", timeout=5)
    except urllib.error.HTTPError as e:
        assert e.code == 403
    else:
        raise AssertionError("unsigned request accepted")
    s2, _, _ = scrape(n)
    assert val(s2, "q53_api_requests_total", operation="Q53Api", status="200") == q53_before + 1
    assert val(s2, "q53_api_requests_total", operation="ListHostedZones", status="403") == 1
    assert val(s2, "q53_api_requests_total", operation="Metrics", status="200") >= 1
    # only GET
    req = urllib.request.Request(f"http://{n.http}/metrics", data=b"x", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
    except urllib.error.HTTPError as e:
        assert e.code == 405
    else:
        raise AssertionError("POST /metrics accepted")


def test_health_check_metrics(node):
    c, n = node
    ep = HTTPEndpoint("127.0.0.1").start()
    c.endpoints.append(ep)
    cfg = {"IPAddress": ep.host, "Port": ep.port, "Type": "HTTP",
           "ResourcePath": "/health", "RequestInterval": 1, "FailureThreshold": 2}
    hid = ok(q53(n.api, "health", "create", "-", stdin=json.dumps(cfg)))["HealthCheck"]["Id"]

    def healthy_seen():
        s, _, _ = scrape(n)
        return s if (val(s, "q53_health_check_observed_healthy", health_check_id=hid) == 1
                     and val(s, "q53_health_check_healthy", health_check_id=hid) == 1
                     and val(s, "q53_health_check_probes_total", health_check_id=hid,
                             result="healthy") >= 2) else None

    s = wait_for(healthy_seen, 20, "check healthy in /metrics")
    assert val(s, "q53_health_check_probe_connect_seconds_count", health_check_id=hid) >= 2
    down_before = val(s, "q53_health_check_transitions_total", health_check_id=hid,
                      to="unhealthy")
    ep.stop()

    def unhealthy_seen():
        s, _, _ = scrape(n)
        return s if (val(s, "q53_health_check_healthy", health_check_id=hid) == 0
                     and val(s, "q53_health_check_observed_healthy", health_check_id=hid) == 0
                     and val(s, "q53_health_check_transitions_total", health_check_id=hid,
                             to="unhealthy") == down_before + 1
                     and val(s, "q53_health_check_probes_total", health_check_id=hid,
                             result="unhealthy") >= 2) else None

    wait_for(unhealthy_seen, 20, "check unhealthy, one transition in /metrics")
