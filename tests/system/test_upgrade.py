"""Upgrade path: a data directory written by an earlier release, made by
make_fixture.py (tests/system/data/upgrade/v0.1.0/: snapshots in
FsmSnapshot format 1 and a log tail of the text command types;
v0.2.0/: format 2 and the typed command types 0.2.0 writes; v0.3.0/: a
log tail that also holds weighted, multivalue, geolocation and alias
record sets, access keys with policies (created, deleted), tags and a
zone comment update; v0.4.0/: a format-4 snapshot and a log tail with
latency table rows and latency sets, CIDR collections and IP-based sets,
geoproximity sets, traffic policies and a policy record) restarts on this q53d and serves the same answers,
zone list and health checks (v0.3.0: also the same records over query IDs
0..127 for the weighted and multivalue names, the same tags and access
keys, and a key created with a narrow policy still lists zones and is
still refused a zone creation); a new change batch applies on top, with a
weighted record set, and after another restart (now from this release's
snapshots and typed log entries) everything still holds.

The fixture's Raft configuration names fixed addresses (127.0.0.53, raft
17053, api 18053, dns 15353), so the node must come up on them. The HTTP API
(which the q53 CLI uses) is on a free port. 0.1.0 and 0.2.0 had no access
key, so the upgraded node draws an administrator key (DATA/admin-key);
0.3.0's first boot drew one itself (in its fixture). The CLI signs with
it (--data).
"""
import json
import os
import signal
import socket
import subprocess
import tarfile
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from cluster import q53_binary
from q53d import free_port, q53d_binary

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "data", "upgrade")
HOST = "127.0.0.53"
RAFT = f"{HOST}:17053"
API = f"{HOST}:18053"
DNS_PORT = 15353
HTTP = f"{HOST}:{free_port(HOST)}"
DATA = {}  # "dir": the node's data directory (its admin-key signs the CLI)


def cli(*args):
    return [q53_binary(), "--endpoint", f"http://{HTTP}", "--data", DATA["dir"],
            "--json"] + list(args)


def q53(*args, stdin=None):
    cmd = cli("--timeout", "10", *args)
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"{cmd}: exit {p.returncode}: {p.stderr}")
    return json.loads(p.stdout) if p.stdout.strip() else None


class Node:
    """One q53d on the fixture's data directory, stopped by its PID."""

    def __init__(self, data, log_path):
        self.data = data
        self.log_path = log_path
        self.proc = None

    def start(self):
        args = [q53d_binary(), "--dns", f"{HOST}:{DNS_PORT}", "--workers", "1",
                "--data-dir", self.data, "--id", "1", "--raft", RAFT, "--api", API,
                "--http", HTTP,
                "--name", "n1", "--snapshot-threshold", "8", "--election-timeout",
                "600", "--heartbeat", "60", "--nameservers",
                "ns1.q53.test.,ns2.q53.test."]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        self.wait_leader()

    def wait_leader(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"q53d exited with {self.proc.returncode}: "
                                     f"{self.tail()}")
            p = subprocess.run(cli("--timeout", "1", "status"), capture_output=True,
                               text=True)
            if p.returncode == 0 and json.loads(p.stdout).get("LeaderId") == 1:
                return
            time.sleep(0.1)
        raise AssertionError(f"no leader: {self.tail()}")

    def wait_serving(self, qname, rcode, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = dns.query.udp(dns.message.make_query(qname, "SOA"), HOST,
                                  port=DNS_PORT, timeout=0.5)
                if dns.rcode.to_text(r.rcode()) == rcode:
                    return
            except Exception:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{qname} not served")

    def tail(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()[-4000:].decode(errors="replace")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError("q53d did not stop on SIGTERM")
            assert rc == 0, f"q53d exit {rc}: {self.tail()}"
        self.log.close()
        self.proc = None


def answers(queries):
    out = {}
    for key in queries:
        qname, t = key.rsplit(" ", 1)
        r = dns.query.udp(dns.message.make_query(qname, t), HOST, port=DNS_PORT,
                          timeout=2)
        out[key] = {
            "rcode": dns.rcode.to_text(r.rcode()),
            "answer": sorted(rr.to_text() for rr in r.answer),
            "authority": sorted(rr.to_text() for rr in r.authority),
        }
    return out


@pytest.fixture(params=["v0.1.0", "v0.2.0", "v0.3.0", "v0.4.0"])
def release(request):
    return os.path.join(FIXTURES, request.param)


@pytest.fixture
def check_endpoint():
    """The fixtures' TCP health check (shared/data/route53/hc-tcp.json)
    probes 127.0.0.1:8082. The expected answers were recorded while it was
    HEALTHY (a new check is healthy until FailureThreshold probes fail, 30 s
    apart), so the restarted node must find it up too; otherwise, on a slow
    machine, its own probes turn the failover name to the SECONDARY during
    the test. If the port is taken, whoever holds it answers the connects."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", 8082))
        s.listen(64)  # the kernel completes the probes' handshakes
    except OSError:
        s.close()
        s = None
    yield
    if s is not None:
        s.close()


@pytest.fixture
def node(tmp_path, release, check_endpoint):
    with tarfile.open(os.path.join(release, "node1.tar.gz")) as t:
        t.extractall(tmp_path)
    n = Node(str(tmp_path / "node1"), str(tmp_path / "q53d.log"))
    DATA["dir"] = n.data
    yield n
    n.stop()


def choices(queries, ids):
    """Per (name, type): the rcodes and every record seen over query IDs
    0..ids-1 (a weighted or multivalue group picks per query ID)."""
    out = {}
    for key in queries:
        qname, t = key.rsplit(" ", 1)
        rcodes, seen = set(), set()
        for qid in range(ids):
            q = dns.message.make_query(qname, t)
            q.id = qid
            r = dns.query.udp(q, HOST, port=DNS_PORT, timeout=2)
            rcodes.add(dns.rcode.to_text(r.rcode()))
            seen.update(line for rr in r.answer for line in rr.to_text().split("\n"))
        out[key] = {"rcodes": sorted(rcodes), "records": sorted(seen)}
    return out


def r53(data=None, key=None):
    """boto3 Route 53 client signed with DATA/admin-key, or with key
    (AccessKeyId, SecretAccessKey)."""
    import boto3
    from botocore.config import Config
    if key is None:
        with open(os.path.join(data, "admin-key")) as f:
            kv = dict(line.strip().split("=", 1) for line in f if line.startswith("AWS_"))
        key = (kv["AWS_ACCESS_KEY_ID"], kv["AWS_SECRET_ACCESS_KEY"])
    return boto3.client("route53", endpoint_url=f"http://{HTTP}", region_name="us-east-1",
                        aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=Config(retries={"max_attempts": 1}))


def check_same(expected, node):
    node.wait_serving("example.com.", "NOERROR")
    node.wait_serving("imported.test.", "NOERROR")
    got = answers(expected["answers"].keys())
    for key, want in expected["answers"].items():
        assert got[key] == want, f"{key}: {got[key]} != {want}"
    assert q53("zone", "list") == expected["zones"]
    assert q53("health", "list") == expected["health"]
    if "choices" in expected:
        got = choices(expected["choices"].keys(), 128)  # make_fixture's CHOICE_IDS
        assert got == expected["choices"]
    if "tags" in expected:
        c = r53(node.data)
        for kind, rid in (("hostedzone", expected["zone_id"]),
                          ("healthcheck", expected["check_id"])):
            t = c.list_tags_for_resource(ResourceType=kind, ResourceId=rid)
            got = sorted(t["ResourceTagSet"]["Tags"], key=lambda x: x["Key"])
            assert got == expected["tags"][kind], kind
    if "keys" in expected:
        got = sorted(({"AccessKeyId": k["AccessKeyId"], "Description": k["Description"],
                       "PolicyDocument": k["PolicyDocument"]}
                      for k in q53("key", "list")["AccessKeys"]),
                     key=lambda k: k["AccessKeyId"])
        assert got == expected["keys"]
    if "cidr" in expected:  # 0.4.0: collections, latency table, Traffic Flow
        got = {c["Name"]: q53("cidr", "blocks", c["Id"])
               for c in q53("cidr", "list")["CidrCollections"]}
        assert got == expected["cidr"]
        assert q53("latency", "list") == expected["latency"]
        assert q53("traffic-policy", "list") == expected["traffic_policies"]
        assert q53("policy-record", "list") == expected["policy_records"]
    if "reader" in expected:
        # The old key's policy still decides: it lists, it may not create.
        from botocore.exceptions import ClientError
        k = expected["reader"]
        c = r53(key=(k["AccessKeyId"], k["SecretAccessKey"]))
        names = [z["Name"] for z in c.list_hosted_zones()["HostedZones"]]
        assert sorted(names) == sorted(z["Name"] for z in expected["zones"]["HostedZones"])
        with pytest.raises(ClientError) as e:
            c.create_hosted_zone(Name="denied.test", CallerReference="upgrade-denied")
        assert e.value.response["Error"]["Code"] == "AccessDenied", e.value.response


def test_upgrade(node, release):
    with open(os.path.join(release, "expected.json")) as f:
        expected = json.load(f)
    data = node.data
    # The fixture really holds the previous release's formats.
    snaps = [n for n in os.listdir(data) if n.startswith("snapshot-") and
             not n.endswith(".meta")]
    assert snaps, os.listdir(data)

    node.start()
    check_same(expected, node)

    # A new change batch on top of the old state (typed from now on).
    zid = expected["zone_id"]
    batch = {"Comment": "after the upgrade", "Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "new.example.com", "Type": "A", "TTL": 42,
            "ResourceRecords": [{"Value": "203.0.113.42"}]}},
        # weighted: only the set of weight 1 is ever answered
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "w.example.com", "Type": "A", "TTL": 9, "SetIdentifier": "one",
            "Weight": 1, "ResourceRecords": [{"Value": "203.0.113.91"}]}},
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "w.example.com", "Type": "A", "TTL": 9, "SetIdentifier": "zero",
            "Weight": 0, "ResourceRecords": [{"Value": "203.0.113.90"}]}},
        {"Action": "DELETE", "ResourceRecordSet": {
            "Name": "tail.example.com", "Type": "A", "TTL": 5,
            "ResourceRecords": [{"Value": "203.0.113.5"}]}}]}
    r = q53("change-batch", zid, "-", stdin=json.dumps(batch))
    q53("get-change", r["ChangeInfo"]["Id"], "--wait")
    # Enough commands that the new release takes snapshots of its own.
    for i in range(10):
        b = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"more{i}.example.com", "Type": "TXT", "TTL": 60,
            "ResourceRecords": [{"Value": f'"more {i}"'}]}}]}
        q53("change-batch", zid, "-", stdin=json.dumps(b))
    # State-dependent refusals keep their words after the upgrade.
    p = subprocess.run(cli("--timeout", "10", "change-batch", zid, "-"),
                       input=json.dumps(batch),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "InvalidChangeBatch" in p.stdout + p.stderr
    assert ("Tried to create resource record set [name='new.example.com.', "
            "type='A'] but it already exists") in p.stdout + p.stderr

    def changed():
        want = json.loads(json.dumps(expected))
        z = next(z for z in want["zones"]["HostedZones"]
                 if z["Name"] == "example.com.")
        old = z["Serial"]
        serial = old + 11
        for key, a in want["answers"].items():
            if not key.endswith("example.com. " + key.rsplit(" ", 1)[1]):
                continue
            for part in ("answer", "authority"):
                a[part] = [x.replace(f" {old} 7200 900", f" {serial} 7200 900")
                           for x in a[part]]
        want["answers"]["tail.example.com. A"] = {
            "rcode": "NXDOMAIN", "answer": [], "authority": [
                f"example.com. 900 IN SOA ns1.q53.test. hostmaster.example.com. "
                f"{serial} 7200 900 1209600 86400"]}
        want["answers"]["new.example.com. A"] = {
            "rcode": "NOERROR", "answer": ["new.example.com. 42 IN A 203.0.113.42"],
            "authority": []}
        want["answers"]["w.example.com. A"] = {
            "rcode": "NOERROR", "answer": ["w.example.com. 9 IN A 203.0.113.91"],
            "authority": []}
        z["Serial"] = serial
        z["ResourceRecordSetCount"] += 12
        return want

    want = changed()
    check_same(want, node)
    node.stop()

    # The data directory now holds this release's snapshots and entries.
    node.start()
    check_same(want, node)
