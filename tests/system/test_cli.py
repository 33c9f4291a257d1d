"""The q53 CLI against a real q53d's HTTP API (--http, requests signed with
the node's DATA/admin-key): create a
hosted zone, apply an AWS CLI change batch, wait for INSYNC, list the
records, and see them served over DNS; --json output and exit codes.

Skipped until q53d takes --api (detected from `q53d --help`)."""
import json
import os
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from q53d import free_port, q53d_binary

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH_SIMPLE = os.path.join(HERE, "data", "batch-simple.json")

# Change 1 deletes a record set that does not exist.
BATCH_INVALID = {
    "Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "ok.example.net", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}]}},
        {"Action": "DELETE", "ResourceRecordSet": {
            "Name": "missing.example.net", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}]}},
    ]
}


def q53d_has_api():
    try:
        out = subprocess.run([q53d_binary(), "--help"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return False
    return "--api" in out.stdout + out.stderr


pytestmark = pytest.mark.skipif(not q53d_has_api(),
                                reason="q53d has no --api yet")


def q53_binary():
    path = os.environ.get("Q53") or os.path.join(os.path.dirname(q53d_binary()), "q53")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"q53 binary not found at {path}: build it or set Q53")
    return path


class Cli:
    """The CLI against one node's HTTP API, signed with its DATA/admin-key."""

    def __init__(self, node, data):
        self.node = node
        self.data = data

    def run(self, *args, json_out=False, stdin=None, timeout=60, node=None):
        cmd = [q53_binary(), "--endpoint", f"http://{node or self.node}",
               "--data", self.data, "--timeout", "10"]
        if json_out:
            cmd.append("--json")
        cmd += list(args)
        return subprocess.run(cmd, capture_output=True, text=True, input=stdin,
                              timeout=timeout)

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"q53 {' '.join(args)}: rc={p.returncode} {p.stderr}"
        return p

    def json(self, *args):
        return json.loads(self.ok(*args, json_out=True).stdout)


def wait_api(cli, proc, timeout=30.0):
    """Poll `q53 status` until the node answers as part of a cluster."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"q53d exited: {proc.output()}")
        p = cli.run("status", json_out=True, timeout=15)
        if p.returncode == 0:
            st = json.loads(p.stdout)
            if st.get("State") in ("leader", "follower"):
                return st
        last = p.stderr.strip()
        time.sleep(0.1)
    raise RuntimeError(f"API not ready within {timeout}s: {last}")


@pytest.fixture
def node(q53d_factory, tmp_path):
    # Cluster mode: a one-node cluster bootstrapped in an empty data dir,
    # no zone seeded (the tests create their own).
    http = free_port()
    extra = ["--api", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{http}",
             "--data-dir", str(tmp_path / "data"),
             "--raft", f"127.0.0.1:{free_port()}"] + \
        os.environ.get("Q53D_API_ARGS", "").split()
    srv = q53d_factory([], extra=extra)
    cli = Cli(f"127.0.0.1:{http}", str(tmp_path / "data"))
    wait_api(cli, srv)
    return srv, cli


def a_records(host, port, qname):
    r = dns.query.udp(dns.message.make_query(qname, "A"), host, port=port, timeout=2)
    assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
    return sorted(rr.address for rrset in r.answer if rrset.rdtype == dns.rdatatype.A
                  for rr in rrset)


def test_zone_batch_served(node, tmp_path):
    srv, cli = node
    created = cli.json("zone", "create", "example.com", "--caller-reference", "cli-test-1",
                       "--comment", "system test")
    zone_id = created["HostedZone"]["Id"]
    assert zone_id.startswith("Z")
    assert created["HostedZone"]["Name"] == "example.com."
    assert created["ChangeInfo"]["Status"] in ("PENDING", "INSYNC")
    assert created["DelegationSet"]["NameServers"]

    listed = cli.json("zone", "list")
    assert [z["Id"] for z in listed["HostedZones"]] == [zone_id]
    got = cli.json("zone", "get", "example.com.")
    assert got["HostedZone"]["Id"] == zone_id
    assert got["HostedZone"]["Config"]["Comment"] == "system test"

    change = cli.json("change-batch", zone_id, BATCH_SIMPLE)["ChangeInfo"]
    assert change["Status"] in ("PENDING", "INSYNC")
    waited = cli.ok("get-change", change["Id"], "--wait", "--wait-timeout", "30")
    assert "INSYNC" in waited.stdout
    status = cli.json("get-change", change["Id"])
    assert status["ChangeInfo"]["Status"] == "INSYNC"

    sets = cli.json("records", "list", "example.com")["ResourceRecordSets"]
    www = [s for s in sets if s["Name"] == "www.example.com." and s["Type"] == "A"]
    assert len(www) == 1 and www[0]["TTL"] == 300
    assert sorted(v["Value"] for v in www[0]["ResourceRecords"]) == ["192.0.2.10", "192.0.2.11"]
    human = cli.ok("records", "list", "example.com").stdout
    assert human.splitlines()[0].split() == ["NAME", "TYPE", "TTL", "VALUE"]
    assert "blog.example.com." in human and "CNAME" in human

    # INSYNC means every live node serves it, this one included.
    assert a_records(srv.host, srv.port, "www.example.com.") == ["192.0.2.10", "192.0.2.11"]

    # Same batch from stdin: every CREATE now collides.
    with open(BATCH_SIMPLE) as f:
        p = cli.run("change-batch", "example.com", "-", stdin=f.read())
    assert p.returncode == 1
    assert p.stderr.startswith("q53: InvalidChangeBatch: change 0:"), p.stderr

    exported = cli.ok("zone", "export", zone_id).stdout
    assert "www.example.com." in exported and "192.0.2.11" in exported


def test_errors_and_exit_codes(node, tmp_path):
    srv, cli = node
    cli.ok("zone", "create", "example.net")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BATCH_INVALID))

    p = cli.run("change-batch", "example.net", str(bad))
    assert p.returncode == 1
    assert p.stderr.startswith("q53: InvalidChangeBatch: change 1:"), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1

    p = cli.run("change-batch", "example.net", str(bad), json_out=True)
    assert p.returncode == 1
    assert json.loads(p.stdout)["Error"]["Code"] == "InvalidChangeBatch"

    p = cli.run("zone", "get", "nope.example.")
    assert p.returncode == 1 and p.stderr.startswith("q53: NoSuchHostedZone:"), p.stderr

    p = cli.run("zone", "create", "example.net")
    assert p.returncode == 1
    assert p.stderr.split(":")[1].strip() in ("HostedZoneAlreadyExists", "ConflictingDomainExists")

    p = cli.run("change-batch", "example.net", str(tmp_path / "missing.json"))
    assert p.returncode == 2 and "missing.json" in p.stderr

    p = cli.run("zone", "frobnicate")
    assert p.returncode == 2 and p.stderr.startswith("q53: ")

    # Nobody listens there: exit 3, says what it tried and what to do.
    dead = f"127.0.0.1:{free_port()}"
    p = cli.run("status", node=dead)
    assert p.returncode == 3
    assert dead in p.stderr and "--http" in p.stderr, p.stderr

    # The batch was all or nothing.
    sets = cli.json("records", "list", "example.net")["ResourceRecordSets"]
    assert not [s for s in sets if s["Name"].startswith("ok.")]
    # An empty zone can be deleted, then it is gone.
    cli.ok("zone", "delete", "example.net")
    assert cli.run("zone", "get", "example.net").returncode == 1


def test_json_outputs_parse(node):
    srv, cli = node
    st = cli.json("status")
    for key in ("NodeId", "State", "LeaderId", "Term", "CommitIndex", "AppliedIndex"):
        assert key in st
    nodes = cli.json("node", "list")["Nodes"]
    assert nodes and all({"Id", "RaftAddress", "Role", "Leader"} <= set(n) for n in nodes)
    assert cli.json("zone", "list") == {"HostedZones": []}
