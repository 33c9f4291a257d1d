"""Query logging like Route 53's, per hosted zone: a config created with
`q53 query-logging create ZONE` (CreateQueryLoggingConfig, replicated
through the log), the node's DNS workers' records drained into
--query-log-dir/queries.log, one JSON line per query, checked field by
field against the queries sent (timestamp, hosted zone id, query name,
type, rcode, protocol, the answering node as edge location, resolver IP,
EDNS client subnet); a zone without a config is not logged; deleting the
config stops the log; a tiny ring (--query-log-ring 2) under a burst
drops records, each one counted in /metrics (q53_query_log_dropped_total)
so that lines + drops = queries sent.

Every wait polls with a deadline; processes are started here and stopped
by PID."""
import datetime
import json
import os
import socket
import time
import urllib.request

import dns.edns
import dns.message
import dns.query
import dns.rcode
import pytest

from cluster import Cluster, q53

prom_parser = pytest.importorskip("prometheus_client.parser")

ZONE = "qlog.test"
OTHER = "quiet.test"


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


@pytest.fixture
def make_node(tmp_path):
    made = []

    def make(*extra):
        c = Cluster(str(tmp_path / f"c{len(made)}"))
        os.makedirs(c.root, exist_ok=True)
        logdir = os.path.join(c.root, "qlog")
        c.extra_args = ["--query-log-dir", logdir] + list(extra)
        made.append(c)
        c.start(1)
        return c, c.nodes[1], os.path.join(logdir, "queries.log")

    yield make
    bad = {}
    for c in made:
        bad.update(c.stop_all())
    assert not bad, f"q53d exited uncleanly: {bad}"


def zone_with_www(c, n, zone, ip="192.0.2.10"):
    zid = ok(q53(n.api, "zone", "create", zone))["HostedZone"]["Id"]
    batch = {"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": f"www.{zone}.", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": ip}]}}]}
    cid = ok(q53(n.api, "change-batch", zone, "-", stdin=json.dumps(batch)))["ChangeInfo"]["Id"]
    c.wait_insync(n.api, cid)
    return zid.split("/")[-1]


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def wait_lines(path, n, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = read_lines(path)
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"{path}: {len(read_lines(path))} lines, wanted {n}")


def metric(n, name):
    with urllib.request.urlopen(f"http://{n.http}/metrics", timeout=5) as r:
        text = r.read().decode()
    for fam in prom_parser.text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and not s.labels:
                return s.value
    raise AssertionError(f"{name} not in /metrics")


def test_lines_match_queries_field_by_field(make_node):
    c, n, path = make_node()
    zid = zone_with_www(c, n, ZONE)
    zone_with_www(c, n, OTHER)
    cfg = ok(q53(n.api, "query-logging", "create", ZONE,
                 "--log-group-arn", "arn:aws:logs:us-east-1:1:log-group:/aws/route53/qlog"))
    cfg = cfg["QueryLoggingConfig"]
    assert cfg["HostedZoneId"] == zid
    listed = ok(q53(n.api, "query-logging", "list"))["QueryLoggingConfigs"]
    assert [x["Id"] for x in listed] == [cfg["Id"]]
    # one config per zone, as Route 53
    p = q53(n.api, "query-logging", "create", ZONE)
    assert p.returncode != 0 and "QueryLoggingConfigAlreadyExists" in p.stderr
    # the workers log once the loop has the zone: poll with a query
    deadline = time.monotonic() + 10
    while not read_lines(path):
        assert time.monotonic() < deadline, "nothing logged"
        n.query(f"www.{ZONE}.", "A")
        time.sleep(0.05)
    base = len(wait_lines(path, 1))

    t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    sent = []
    q = dns.message.make_query(f"www.{ZONE}.", "A")
    dns.query.udp(q, n.host, port=n.dns_port, timeout=2)
    sent.append((f"www.{ZONE}", "A", "NOERROR", "UDP", "-"))
    q = dns.message.make_query(f"Nope.{ZONE}.", "AAAA", use_edns=0)
    dns.query.tcp(q, n.host, port=n.dns_port, timeout=2)
    sent.append((f"Nope.{ZONE}", "AAAA", "NXDOMAIN", "TCP", "-"))
    ecs = dns.edns.ECSOption("198.51.100.0", 24)
    q = dns.message.make_query(f"www.{ZONE}.", "MX", use_edns=0, options=[ecs])
    r = dns.query.udp(q, n.host, port=n.dns_port, timeout=2)
    assert r.rcode() == dns.rcode.NOERROR
    sent.append((f"www.{ZONE}", "MX", "NOERROR", "UDP", "198.51.100.0/24"))
    # not logged: another zone, and no zone at all
    n.query(f"www.{OTHER}.", "A")
    n.query("elsewhere.invalid.", "A")
    lines = wait_lines(path, base + len(sent))
    time.sleep(0.2)  # anything more would be a line too many
    lines = read_lines(path)[base:]
    t1 = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
    assert len(lines) == len(sent), lines
    # each thread's ring is drained in turn: lines of different threads
    # (UDP, TCP) need not keep the order the queries were sent in
    lines.sort(key=lambda l: (l["query_name"], l["query_type"]))
    sent.sort(key=lambda x: (x[0], x[1]))
    for line, (qname, qtype, rcode, proto, subnet) in zip(lines, sent):
        assert set(line) == {"version", "query_timestamp", "hosted_zone_id", "query_name",
                             "query_type", "response_code", "protocol", "edge_location",
                             "resolver_ip", "edns_client_subnet"}, line
        ts = datetime.datetime.strptime(line["query_timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
        ts = ts.replace(tzinfo=datetime.timezone.utc)
        assert t0 <= ts <= t1, line
        assert line["hosted_zone_id"] == zid
        assert line["query_name"] == qname
        assert line["query_type"] == qtype
        assert line["response_code"] == rcode
        assert line["protocol"] == proto
        assert line["edge_location"] == "n1"
        assert line["resolver_ip"] == "127.0.0.1"
        assert line["edns_client_subnet"] == subnet
    assert metric(n, "q53_query_log_dropped_total") == 0

    # deleted: no more lines
    ok(q53(n.api, "query-logging", "delete", cfg["Id"]))
    assert ok(q53(n.api, "query-logging", "list"))["QueryLoggingConfigs"] == []
    p = q53(n.api, "query-logging", "delete", cfg["Id"])
    assert p.returncode != 0 and "NoSuchQueryLoggingConfig" in p.stderr
    count = len(read_lines(path))
    for _ in range(5):
        n.query(f"www.{ZONE}.", "A")
    time.sleep(0.3)
    assert len(read_lines(path)) == count


def test_full_ring_drops_are_counted(make_node):
    c, n, path = make_node("--query-log-ring", "2")
    zone_with_www(c, n, ZONE)
    ok(q53(n.api, "query-logging", "create", ZONE))
    deadline = time.monotonic() + 10
    while not read_lines(path):
        assert time.monotonic() < deadline, "nothing logged"
        n.query(f"www.{ZONE}.", "A")
        time.sleep(0.05)
    zone_with_www(c, n, OTHER)
    base = len(read_lines(path))
    drops0 = metric(n, "q53_query_log_dropped_total")

    def burst(qname, total):
        """Every query sent before any answer is read; the answers."""
        wire = dns.message.make_query(qname, "A").to_wire()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.settimeout(2)
        for _ in range(total):
            s.sendto(wire, (n.host, n.dns_port))
        answers = 0
        try:
            while answers < total:
                s.recv(4096)
                answers += 1
        except socket.timeout:
            pass
        s.close()
        return answers

    # an unlogged zone's queries never reach the rings: no drop, no line
    assert burst(f"www.{OTHER}.", 400) == 400
    time.sleep(0.2)
    assert metric(n, "q53_query_log_dropped_total") == drops0
    assert len(read_lines(path)) == base
    # a burst: every query sent before any answer is read
    total = 400
    wire = dns.message.make_query(f"www.{ZONE}.", "A").to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(2)
    for _ in range(total):
        s.sendto(wire, (n.host, n.dns_port))
    answers = 0
    try:
        while answers < total:
            s.recv(4096)
            answers += 1
    except socket.timeout:
        pass
    s.close()
    assert answers == total, f"{answers} answers"

    def settled():
        lines = len(read_lines(path)) - base
        drops = metric(n, "q53_query_log_dropped_total") - drops0
        return (lines, drops) if lines + drops == total else None

    deadline = time.monotonic() + 10
    got = None
    while got is None and time.monotonic() < deadline:
        got = settled()
        time.sleep(0.05)
    assert got is not None, f"lines + drops != {total}"
    lines, drops = got
    assert drops > 0 and lines > 0, got


def test_route53_rest_api(make_node):
    """The AWS SDK's create/get/list/delete_query_logging_config, over
    Route 53's REST paths; the config is the one the log follows."""
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    from botocore.exceptions import ClientError
    c, n, path = make_node()
    zid = zone_with_www(c, n, ZONE)
    kv = dict(line.split("=", 1) for line in open(c.admin_key).read().splitlines()
              if "=" in line)
    r53 = boto3.client("route53", endpoint_url=f"http://{n.http}", region_name="us-east-1",
                       aws_access_key_id=kv["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=kv["AWS_SECRET_ACCESS_KEY"],
                       config=Config(retries={"max_attempts": 1}))
    arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/route53/qlog.test"
    got = r53.create_query_logging_config(HostedZoneId=zid, CloudWatchLogsLogGroupArn=arn)
    cfg = got["QueryLoggingConfig"]
    assert cfg["HostedZoneId"] == zid and cfg["CloudWatchLogsLogGroupArn"] == arn
    assert got["Location"].endswith(f"/queryloggingconfig/{cfg['Id']}")
    assert r53.get_query_logging_config(Id=cfg["Id"])["QueryLoggingConfig"] == cfg
    assert r53.list_query_logging_configs()["QueryLoggingConfigs"] == [cfg]
    assert r53.list_query_logging_configs(HostedZoneId=zid)["QueryLoggingConfigs"] == [cfg]
    with pytest.raises(ClientError) as e:
        r53.create_query_logging_config(HostedZoneId=zid, CloudWatchLogsLogGroupArn=arn)
    assert e.value.response["Error"]["Code"] == "QueryLoggingConfigAlreadyExists"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as e:
        r53.create_query_logging_config(HostedZoneId="ZNOSUCHZONE00000", CloudWatchLogsLogGroupArn=arn)
    assert e.value.response["Error"]["Code"] == "NoSuchHostedZone"
    # the q53 CLI sees the same config, and the node logs the zone
    assert [x["Id"] for x in ok(q53(n.api, "query-logging", "list"))["QueryLoggingConfigs"]] \
        == [cfg["Id"]]
    deadline = time.monotonic() + 10
    while not read_lines(path):
        assert time.monotonic() < deadline, "nothing logged"
        n.query(f"www.{ZONE}.", "A")
        time.sleep(0.05)
    assert read_lines(path)[0]["hosted_zone_id"] == zid
    r53.delete_query_logging_config(Id=cfg["Id"])
    with pytest.raises(ClientError) as e:
        r53.get_query_logging_config(Id=cfg["Id"])
    assert e.value.response["Error"]["Code"] == "NoSuchQueryLoggingConfig"
    assert r53.list_query_logging_configs()["QueryLoggingConfigs"] == []
