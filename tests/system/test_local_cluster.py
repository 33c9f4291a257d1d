"""deploy/local-cluster, the cluster without Docker (issue 5, item 5): the
scenarios 1, 3 and 4 of the docker-compose test, on q53d processes on
127.0.77.x started and stopped by the script itself.

1. `up` -> every node answers the demo zone; a change batch submitted to
   node 2 is INSYNC and answered identically by every node; `up` again is a
   no-op (same PIDs).
3. Cut one node off (`pause`: SIGSTOP; here the leader) -> the others elect
   a leader, keep serving and take changes; `resume` -> it catches up, the
   change turns INSYNC and every node answers identically.
4. `add` a 4th node and `remove 1` (an original node) while a client keeps
   querying every member and changes keep coming: no change lost, answers
   identical, no query to a member unanswered.
`down` stops exactly the PIDs it started.
"""
import json
import os
import subprocess
import sys
import threading
import time

import dns.exception
import dns.message
import dns.query
import pytest

from cluster import answer_key, q53 as cluster_q53, q53_binary
from q53d import ROOT, q53d_binary
from test_cli import q53d_has_api

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

SCRIPT = os.path.join(ROOT, "deploy", "local-cluster")
ZONE = "example.com"
NAMES = [(f"www.{ZONE}", "A"), (f"x.apps.{ZONE}", "A"), (ZONE, "MX"), (f"api.{ZONE}", "A"),
         (f"nope.{ZONE}", "A")]


# The local cluster's NNG API addresses (what `status --json` calls Api) ->
# their HTTP API (Http), and the key file the script made (cli-key): the
# CLI talks to the HTTP API, signed.
_HTTP = {}
_KEY = {}


def q53(api, *args, **kw):
    return cluster_q53(f"http://{_HTTP.get(api, api)}", *args, key_file=_KEY.get("file"),
                       **kw)


class Local:
    def __init__(self, root):
        _KEY["file"] = os.path.join(str(root), "cli-key")
        self.env = dict(os.environ, Q53_LC_DIR=str(root), Q53_LC_NET="127.0.77",
                        Q53_LC_FIRST="1", Q53_LC_DNS_PORT="5353", Q53D=q53d_binary(),
                        Q53=q53_binary())

    def run(self, *args, timeout=180, check=True):
        p = subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=self.env,
                           timeout=timeout)
        if check:
            assert p.returncode == 0, f"local-cluster {' '.join(args)}: {p.stderr}{p.stdout}"
        return p

    def status(self):
        rows = json.loads(self.run("status", "--json").stdout)
        for r in rows:
            _HTTP[r["Api"]] = r["Http"]
        return {r["Id"]: r for r in rows}

    def members(self):
        return {i: r for i, r in self.status().items() if not r["Removed"]}

    def pids(self):
        return {i: r["Pid"] for i, r in self.status().items() if r["Pid"]}


@pytest.fixture
def local(tmp_path):
    lc = Local(tmp_path)
    yield lc
    pids = lc.pids()
    lc.run("down", check=False)
    for pid in pids.values():
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), f"pid {pid} still runs"


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def query(dns_addr, qname, rdtype="A", timeout=1.0):
    host, port = dns_addr.rsplit(":", 1)
    return dns.query.udp(dns.message.make_query(qname, rdtype), host, port=int(port),
                         timeout=timeout)


def answers(dns_addr, names=NAMES):
    return [answer_key(query(dns_addr, q, t)) for q, t in names]


def a_of(dns_addr, name):
    r = query(dns_addr, f"{name}.{ZONE}")
    return sorted(x.to_text() for rr in r.answer for x in rr)


def upsert(name, value):
    return json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"{name}.{ZONE}", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": value}]}}]})


def submit(api, name, value):
    p = q53(api, "change-batch", ZONE, "-", stdin=upsert(name, value), timeout_s=15)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["ChangeInfo"]["Id"]


def status_of(api, change):
    p = q53(api, "get-change", change)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["ChangeInfo"]["Status"]


def insync(api, change, timeout=60):
    p = q53(api, "get-change", change, "--wait", "--wait-timeout", str(timeout),
            proc_timeout=timeout + 30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ChangeInfo"]["Status"] == "INSYNC"


def wait(what, pred, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last}")


def leader_of(lc):
    ids = {(r["Status"] or {}).get("LeaderId") for r in lc.members().values()
           if r["Pid"] and not r["Paused"]}
    ids.discard(None)
    ids.discard(0)
    return ids.pop() if len(ids) == 1 else None


def aws_cli_sees_the_zone(lc, members):
    env = dict(l.split(" ", 1)[1].split("=", 1) for l in lc.run("aws-env").stdout.splitlines())
    assert env["AWS_ENDPOINT_URL_ROUTE_53"].startswith("http://127.0.77.1:")
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    if not os.access(aws, os.X_OK):
        pytest.skip("needs the test venv's AWS CLI (tests/venv.sh)")
    for r in members.values():
        host = r["Dns"].rsplit(":", 1)[0]
        url = env["AWS_ENDPOINT_URL_ROUTE_53"].replace("127.0.77.1", host)
        p = subprocess.run([aws, "--endpoint-url", url, "--output", "json", "route53",
                            "list-hosted-zones"], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, AWS_CONFIG_FILE="/dev/null", **env))
        assert p.returncode == 0, p.stderr
        assert [z["Name"] for z in json.loads(p.stdout)["HostedZones"]] == ["example.com."]


# --- 1 ---------------------------------------------------------------------------------

def test_up_answers_and_change_is_insync_everywhere(local):
    out = local.run("up", "-n", "3").stdout
    assert "dig @127.0.77.1 -p 5353 www.example.com" in out, out
    m = local.members()
    assert sorted(m) == [1, 2, 3]
    for r in m.values():
        assert a_of(r["Dns"], "www") == ["192.0.2.10", "192.0.2.11"]
    change = submit(m[2]["Api"], "hello", "192.0.2.99")
    insync(m[2]["Api"], change)
    ref = answers(m[1]["Dns"], NAMES + [(f"hello.{ZONE}", "A")])
    for r in m.values():
        assert answers(r["Dns"], NAMES + [(f"hello.{ZONE}", "A")]) == ref
    assert a_of(m[3]["Dns"], "hello") == ["192.0.2.99"]
    # Route 53's API on every node, with the cluster's key from `aws-env`.
    aws_cli_sees_the_zone(local, m)
    # idempotent: a second `up` starts nothing
    pids = local.pids()
    assert "nothing started" in local.run("up", "-n", "3").stdout
    assert local.pids() == pids
    # `down` then `up`: the same cluster from its data (snapshot + log tail)
    local.run("down")
    assert local.pids() == {}
    local.run("up")
    m = local.members()
    for r in m.values():
        assert a_of(r["Dns"], "hello") == ["192.0.2.99"]


# --- 3 ---------------------------------------------------------------------------------

def test_cut_off_node_others_serve_it_catches_up(local):
    local.run("up", "-n", "3")
    lid = wait("a leader", lambda: leader_of(local), 30)
    m = local.members()
    local.run("pause", str(lid))
    try:
        rest = [i for i in m if i != lid]
        api = m[rest[0]]["Api"]
        change = wait("the others to take a change",
                      lambda: submit(api, "while-cut", "192.0.2.77"), 30)
        for i in rest:
            wait(f"node {i} to serve the change",
                 lambda i=i: a_of(m[i]["Dns"], "while-cut") == ["192.0.2.77"], 20)
        # the cut-off node does not answer and the change waits for it
        with pytest.raises(dns.exception.Timeout):
            query(m[lid]["Dns"], f"www.{ZONE}", timeout=0.5)
        assert status_of(api, change) == "PENDING"
    finally:
        local.run("resume", str(lid))
    wait("the resumed node to catch up",
         lambda: a_of(m[lid]["Dns"], "while-cut") == ["192.0.2.77"], 30)
    insync(api, change)
    ref = answers(m[rest[0]]["Dns"], NAMES + [(f"while-cut.{ZONE}", "A")])
    for r in m.values():
        assert answers(r["Dns"], NAMES + [(f"while-cut.{ZONE}", "A")]) == ref


# --- 4 ---------------------------------------------------------------------------------

class Querier(threading.Thread):
    """Queries www on every node in `targets` (a live dict id -> dns address)
    in turn, counting answers and failures per node."""

    def __init__(self, targets):
        super().__init__(daemon=True)
        self.targets = targets
        self.stop = threading.Event()
        self.ok = {}
        self.failed = {}
        self.lock = threading.Lock()

    def run(self):
        while not self.stop.is_set():
            with self.lock:
                targets = dict(self.targets)
            for nid, addr in targets.items():
                try:
                    r = query(addr, f"www.{ZONE}", timeout=1.0)
                    good = len(r.answer) == 1
                except Exception:  # noqa: BLE001 - counted
                    try:  # one retry, as every stub resolver does
                        good = len(query(addr, f"www.{ZONE}", timeout=1.0).answer) == 1
                    except Exception:  # noqa: BLE001
                        good = False
                d = self.ok if good else self.failed
                d[nid] = d.get(nid, 0) + 1
            time.sleep(0.01)

    def set(self, targets):
        with self.lock:
            self.targets = dict(targets)


def test_add_and_remove_nodes_while_serving(local):
    local.run("up", "-n", "3")
    m = local.members()
    client = Querier({i: r["Dns"] for i, r in m.items()})
    client.start()
    changes = []
    try:
        changes.append(submit(m[2]["Api"], "m0", "192.0.2.100"))
        out = local.run("add").stdout
        assert "node 4 is a voter" in out, out
        m = local.members()
        assert sorted(m) == [1, 2, 3, 4]
        client.set({i: r["Dns"] for i, r in m.items()})
        changes.append(submit(m[4]["Api"], "m1", "192.0.2.101"))
        client.set({i: r["Dns"] for i, r in m.items() if i != 1})  # about to go
        changes.append(submit(m[1]["Api"], "m2", "192.0.2.102"))
        local.run("remove", "1")
        m = local.members()
        assert sorted(m) == [2, 3, 4]
        assert local.status()[1]["Pid"] is None
        changes.append(submit(m[3]["Api"], "m3", "192.0.2.103"))
        for c in changes:
            insync(m[3]["Api"], c)
        time.sleep(0.5)
    finally:
        client.stop.set()
        client.join(10)
    p = q53(m[2]["Api"], "node", "list")
    nodes = json.loads(p.stdout)["Nodes"]
    assert sorted(n["Id"] for n in nodes if n["Role"] == "voter") == [2, 3, 4]
    extra = [(f"m{i}.{ZONE}", "A") for i in range(4)]
    ref = answers(m[2]["Dns"], NAMES + extra)
    assert [k[1] for k in ref[-4:]] == [[f"m{i}.{ZONE}. 60 IN A 192.0.2.10{i}"] for i in range(4)]
    for r in m.values():
        assert answers(r["Dns"], NAMES + extra) == ref
    assert sum(client.ok.values()) > 50, client.ok
    assert client.failed == {}, (client.failed, client.ok)
