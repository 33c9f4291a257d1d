"""The docker-compose anycast cluster (issue 5, items 1-4), for real:
docker-compose.yml at the top level, built from deploy/docker/Dockerfile.

1. `up --build` from a clean state; the anycast address answers the demo
   zone through the router; a change batch submitted to node 2 is INSYNC and
   answered identically by every node and through the anycast address.
2. Kill the container that receives a flow of anycast queries: the gap
   seen by that flow is measured (and the same for a frozen container,
   `docker pause`, which only BFD can detect).
3. `docker network disconnect` a node from the Raft network: it withdraws
   the anycast route while its BGP session stays up; reconnect: it catches
   up and announces again.
4. Add a 4th node (`up -d --scale node=1`) and remove node 1 (`q53 node
   remove 1`, then stop it) while a client keeps querying the anycast
   address and changes keep coming: no change lost, answers identical.

Runs only when a Docker engine and docker-compose (1.29 or v2) are present,
we are root (nsenter for the client-side prober) and the debian:bookworm-slim
base image exists or deploy/docker/build-base.sh builds it within
Q53_DOCKER_BASE_TIMEOUT seconds (default 600); otherwise skipped with the
reason. Every container, network and volume of the test project (-p
q53test) is removed at the end, also on failure. The measured numbers are
printed (pytest -s) and written to build/docker-test-results.json.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.environ.get("Q53_DOCKER_PROJECT", "q53test")
ANYCAST = "10.53.53.53"
CLIENT_IP = "10.54.0.10"
FABRIC = {1: "10.53.0.11", 2: "10.53.0.12", 3: "10.53.0.13"}
RAFT = {1: "10.55.0.11", 2: "10.55.0.12", 3: "10.55.0.13"}
ZONE = "example.com"
BUILD_TIMEOUT = int(os.environ.get("Q53_DOCKER_BUILD_TIMEOUT", "1500"))
BASE_TIMEOUT = int(os.environ.get("Q53_DOCKER_BASE_TIMEOUT", "600"))
RESULTS = {}


# --- environment checks (skip with a clear reason) -------------------------------

def compose_cmd():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def skip_reason():
    if not shutil.which("docker"):
        return "no docker CLI"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker engine answers `docker info`"
    if compose_cmd() is None:
        return "neither docker-compose nor `docker compose` is installed"
    if os.geteuid() != 0:
        return "needs root (nsenter into the client container's network namespace)"
    if not shutil.which("nsenter"):
        return "no nsenter (util-linux)"
    busy = subprocess.run(["docker", "ps", "-q", "--filter", "publish=9051"],
                          capture_output=True, text=True).stdout.strip()
    if busy:
        return ("a container already publishes port 9051 (a running docker-compose "
                "stack?): `docker-compose down` it first")
    have = subprocess.run(["docker", "image", "inspect", "debian:bookworm-slim"],
                          capture_output=True).returncode == 0
    if not have:
        try:
            p = subprocess.run([os.path.join(ROOT, "deploy", "docker", "build-base.sh")],
                               capture_output=True, text=True, timeout=BASE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"building the base image took more than {BASE_TIMEOUT}s"
        if p.returncode != 0:
            return f"cannot build debian:bookworm-slim: {(p.stderr or p.stdout).strip()[-300:]}"
    return None


REASON = skip_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"docker tests skipped: {REASON}")


# --- helpers ------------------------------------------------------------------------

def run(cmd, timeout=120, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} -> {p.returncode}: {p.stderr[-2000:]}{p.stdout[-1000:]}")
    return p


def compose(*args, timeout=300, check=True):
    return run(compose_cmd() + ["-p", PROJECT, "-f", os.path.join(ROOT, "docker-compose.yml"),
                                *args], timeout=timeout, check=check, cwd=ROOT)


def cid(service, index=1):
    ids = compose("ps", "-q", service).stdout.split()
    if not ids:
        raise AssertionError(f"no container for {service}")
    # `ps -q` order is not the replica index; sort by name for stability.
    names = {}
    for i in ids:
        names[run(["docker", "inspect", "-f", "{{.Name}}", i]).stdout.strip()] = i
    return names[sorted(names)[index - 1]]


def dexec(container, *cmd, timeout=30, check=True):
    return run(["docker", "exec", container, *cmd], timeout=timeout, check=check)


_ADMIN = {}


def admin_env():
    """-e options with the cluster's administrator key (node1's
    DATA/admin-key, read once): the CLI signs every request with it."""
    if not _ADMIN:
        deadline = time.monotonic() + 60
        while True:
            p = subprocess.run(["docker", "exec", cid("node1"), "cat",
                                "/var/lib/quorum53/admin-key"], capture_output=True,
                               text=True, timeout=30)
            if p.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert p.returncode == 0, f"node1 has no admin-key: {p.stderr}"
        for line in p.stdout.splitlines():
            if line.startswith("AWS_") and "=" in line:
                k, v = line.split("=", 1)
                _ADMIN[k] = v
    return [a for k, v in _ADMIN.items() for a in ("-e", f"{k}={v}")]


def q53(container, api, *args, stdin=None, timeout=30):
    """The CLI in container against the node whose NNG API is api
    (HOST:8053): its HTTP API is HOST:9053."""
    endpoint = "http://" + api.rsplit(":", 1)[0] + ":9053"
    p = subprocess.run(["docker", "exec", "-i", *admin_env(), container, "q53",
                        "--endpoint", endpoint, "--json", "--timeout", "10", *args],
                       capture_output=True, text=True, input=stdin, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"q53 {' '.join(args)} on {api}: {p.stderr.strip()}")
    return json.loads(p.stdout) if p.stdout.strip() else None


def kdig(container, server, name, rtype="A"):
    p = dexec(container, "kdig", "+short", "+timeout=2", "+retry=1", f"@{server}", name, rtype,
              check=False)
    return sorted(p.stdout.split()) if p.returncode == 0 else None


def anycast_routes():
    """The next hops of the anycast route in the router's kernel."""
    out = dexec(cid("router"), "ip", "-4", "route", "show", f"{ANYCAST}/32").stdout
    hops = [w.split()[w.split().index("via") + 1] for w in out.splitlines() if " via " in f" {w}"]
    return sorted(hops)


def announced(container):
    return f" {ANYCAST}/32 " in dexec(container, "ip", "-4", "-o", "addr", "show", "dev", "lo").stdout


def wait(what, pred, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except AssertionError as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last}")


def upsert(name, value):
    return json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"{name}.{ZONE}", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": value}]}}]})


def submit(container, api, name, value):
    return q53(container, api, "change-batch", ZONE, "-", stdin=upsert(name, value))["ChangeInfo"]["Id"]


def insync(container, api, change, timeout=60):
    r = q53(container, api, "get-change", change, "--wait", "--wait-timeout", str(timeout),
            timeout=timeout + 30)
    assert r["ChangeInfo"]["Status"] == "INSYNC", r
    return r


# The client-side prober: runs in the client container's network namespace
# (nsenter) with this Python and dnspython, so its packets reach the anycast
# address only through the router. One UDP socket per source port = one ECMP
# flow each; every round sends on all of them and waits up to 200 ms.
PROBER = r"""
import json, select, socket, sys, time
import dns.message
dst, src, dur, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
ports = [int(p) for p in sys.argv[5].split(",")]
socks = {}
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, p)); s.setblocking(False); socks[p] = s
q = dns.message.make_query(name, "A")
end = time.monotonic() + dur
while time.monotonic() < end:
    t0 = time.monotonic()
    pend, got = {}, {}
    for p, s in socks.items():
        q.id = (q.id + 1) & 0xffff
        try:
            s.sendto(q.to_wire(), (dst, 53)); pend[s] = (p, q.id)
        except OSError:
            pass
    while pend and time.monotonic() - t0 < 0.2:
        r, _, _ = select.select(list(pend), [], [], max(0, 0.2 - (time.monotonic() - t0)))
        for s in r:
            try:
                m = dns.message.from_wire(s.recv(4096))
            except Exception:
                continue
            p, qid = pend[s]
            if m.id == qid:
                got[p] = sorted(str(x) for rr in m.answer for x in rr)
                del pend[s]
    print(json.dumps([time.time(), got]), flush=True)
    time.sleep(max(0, 0.02 - (time.monotonic() - t0)))
"""

PORTS = list(range(40000, 40012))


def start_prober(duration, name=f"www.{ZONE}"):
    pid = run(["docker", "inspect", "-f", "{{.State.Pid}}", cid("client")]).stdout.strip()
    return subprocess.Popen(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c",
                             PROBER, ANYCAST, CLIENT_IP, str(duration), name,
                             ",".join(map(str, PORTS))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def prober_result(proc, timeout):
    out, err = proc.communicate(timeout=timeout)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert rows, f"prober printed nothing: {err[-1000:]}"
    return rows


def flow_gaps(rows, t_from=0.0):
    """Per source port: the longest outage after t_from, from the last answer
    before a run of unanswered rounds to the first answer after it (0 when
    no round went unanswered; prober stalls alone do not count)."""
    gaps = {}
    for p in PORTS:
        gap, last_ok, failing = 0.0, None, False
        for t, got in rows:
            if str(p) in got:
                if failing and last_ok is not None and t >= t_from:
                    gap = max(gap, t - last_ok)
                last_ok, failing = t, False
            else:
                failing = True
        if failing:  # never answered again
            gap = float("inf")
        gaps[p] = gap
    return gaps


def flow_node(port):
    """The fabric address the router sends this client flow to (ECMP hash)."""
    out = dexec(cid("router"), "ip", "route", "get", ANYCAST, "from", CLIENT_IP, "iif",
                router_client_iface(), "ipproto", "17", "sport", str(port), "dport", "53").stdout
    w = out.split()
    return w[w.index("via") + 1]


_iface = {}


def router_client_iface():
    if "i" not in _iface:
        out = dexec(cid("router"), "ip", "-4", "-o", "addr", "show").stdout
        for line in out.splitlines():
            if " 10.54.0.2/" in line:
                _iface["i"] = line.split()[1]
    return _iface["i"]


def record(key, value):
    RESULTS[key] = value
    print(f"\n[docker] {key} = {value}")
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "docker-test-results.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)


def network(suffix):
    return f"{PROJECT}_{suffix}"


def service_of(ip):
    return {v: f"node{k}" for k, v in FABRIC.items()}[ip]


# --- the cluster (one per module: building and starting it costs minutes) ---------

@pytest.fixture(scope="module")
def stack():
    compose("down", "-v", "--remove-orphans", "-t", "5", timeout=180, check=False)
    try:
        t0 = time.monotonic()
        compose("build", timeout=BUILD_TIMEOUT)
        record("build_seconds", round(time.monotonic() - t0, 1))
        t0 = time.monotonic()
        compose("up", "-d", timeout=300)
        wait("3 next hops for the anycast route", lambda: len(anycast_routes()) == 3, 120)
        record("up_to_anycast_seconds", round(time.monotonic() - t0, 1))
        yield
    finally:
        if os.environ.get("Q53_DOCKER_KEEP") != "1":
            logs = compose("logs", "--no-color", "--tail", "40", timeout=60, check=False).stdout
            with open(os.path.join(ROOT, "build", "docker-test-logs.txt"), "w") as f:
                f.write(logs)
            compose("down", "-v", "--remove-orphans", "-t", "5", timeout=180, check=False)


def node_api(i):
    return f"{FABRIC[i]}:8053"


# --- 1 ---------------------------------------------------------------------------------

def test_1_anycast_answers_and_change_insync_everywhere(stack):
    client = cid("client")
    assert kdig(client, ANYCAST, f"www.{ZONE}") == ["192.0.2.10", "192.0.2.11"]
    # the router balances: one kernel route, a next hop per node
    assert anycast_routes() == sorted(FABRIC.values())
    change = submit(cid("node2"), node_api(2), "compose", "192.0.2.201")
    insync(cid("node2"), node_api(2), change)
    for i in FABRIC:
        assert kdig(cid(f"node{i}"), "127.0.0.1", f"compose.{ZONE}") == ["192.0.2.201"], i
    # through the anycast address, on flows hashed to every node
    p = start_prober(1.5, name=f"compose.{ZONE}")
    rows = prober_result(p, 30)
    seen = {flow_node(port) for port in PORTS}
    assert seen == set(FABRIC.values()), f"the probe flows do not cover every node: {seen}"
    answers = {tuple(a) for _, got in rows for a in got.values()}
    assert answers == {("192.0.2.201",)}, answers
    # the host reaches every node's HTTP API on 127.0.0.1:905N
    for i in FABRIC:
        out = run(["docker", "port", cid(f"node{i}"), "9053/tcp"]).stdout
        assert f"127.0.0.1:905{i}" in out, out


# --- 2 ---------------------------------------------------------------------------------

def failover_gap(action, undo, label):
    victim_ip = flow_node(PORTS[0])
    victim = cid(service_of(victim_ip))
    flows = [p for p in PORTS if flow_node(p) == victim_ip]
    proc = start_prober(9.0)
    time.sleep(3.0)
    t_act = time.time()
    run(["docker", action, victim])
    rows = prober_result(proc, 60)
    gaps = flow_gaps(rows, t_from=t_act)
    gap = max(gaps[p] for p in flows)
    others = max((gaps[p] for p in PORTS if p not in flows), default=0.0)
    lost = sum(1 for t, got in rows if t >= t_act for p in flows if str(p) not in got)
    stall = max((b[0] - a[0] for a, b in zip(rows, rows[1:])), default=0.0)
    record(f"{label}_gap_seconds", round(gap, 3))
    record(f"{label}_longest_prober_round_seconds", round(stall, 3))
    record(f"{label}_unanswered_rounds", lost)
    assert victim_ip not in anycast_routes()
    if undo:
        run(["docker", *undo, victim])
        wait(f"{service_of(victim_ip)} to announce again",
             lambda: victim_ip in anycast_routes(), 60)
    return gap, others


def test_2_kill_the_receiving_container(stack):
    # SIGKILL: its BIRD's TCP session closes, the route goes at once.
    gap, _ = failover_gap("kill", ["start"], "kill")
    assert gap < 3.0 + 0.5, f"gap {gap:.2f}s exceeds the BGP hold time (3 s)"
    # Frozen (no FIN, no BFD): only BFD (100 ms x 5) or the hold time can tell.
    gap, _ = failover_gap("pause", ["unpause"], "pause")
    assert gap < 3.0 + 0.5, f"gap {gap:.2f}s exceeds the BGP hold time (3 s)"
    wait("3 next hops", lambda: len(anycast_routes()) == 3, 60)


# --- 3 ---------------------------------------------------------------------------------

def test_3_cut_off_node_withdraws_and_comes_back(stack):
    node3 = cid("node3")
    net = network("raft")
    run(["docker", "network", "disconnect", net, node3])
    try:
        t0 = time.monotonic()
        wait("node3 to withdraw", lambda: not announced(node3), 30)
        wait("the router to drop node3", lambda: FABRIC[3] not in anycast_routes(), 10)
        record("cutoff_withdraw_seconds", round(time.monotonic() - t0, 2))
        # it withdrew on its own: its BGP session with the router is still up
        bgp = dexec(node3, "birdc", "-s", "/run/bird/bird.ctl", "show", "protocols", "uplink").stdout
        assert "Established" in bgp, bgp
        change = submit(cid("node1"), node_api(1), "while-cut", "192.0.2.202")
        wait("the majority to serve the change",
             lambda: all(kdig(cid(f"node{i}"), "127.0.0.1", f"while-cut.{ZONE}") == ["192.0.2.202"]
                         for i in (1, 2)), 30)
        # clients never reach the stale node: the anycast answers are new
        assert kdig(cid("client"), ANYCAST, f"while-cut.{ZONE}") == ["192.0.2.202"]
    finally:
        run(["docker", "network", "connect", "--ip", RAFT[3], net, node3])
    t0 = time.monotonic()
    wait("node3 to catch up", lambda: kdig(node3, "127.0.0.1", f"while-cut.{ZONE}") == ["192.0.2.202"], 60)
    wait("node3 to announce again", lambda: FABRIC[3] in anycast_routes() and announced(node3), 60)
    record("reconnect_to_announce_seconds", round(time.monotonic() - t0, 2))
    insync(cid("node1"), node_api(1), change)


# --- 4 ---------------------------------------------------------------------------------

def voters(container, api):
    nodes = q53(container, api, "node", "list")["Nodes"]
    return sorted(n["Id"] for n in nodes if n["Role"] == "voter"), nodes


def test_4_add_and_remove_nodes_while_serving(stack):
    proc = start_prober(240.0)  # stopped below once the membership changes are done
    changes = []
    try:
        n2 = cid("node2")
        changes.append(submit(n2, node_api(2), "m0", "192.0.2.100"))
        compose("up", "-d", "--no-recreate", "--scale", "node=1", timeout=300)
        new = cid("node")
        new_ip = dexec(new, "sh", "-c", "ip -4 -o addr show | awk '/10\\.53\\.0\\./ {print $4}'"
                       ).stdout.strip().split("/")[0]
        new_id = int(new_ip.rsplit(".", 1)[1])
        wait("the 4th node to be a voter",
             lambda: voters(n2, node_api(2))[0] == sorted([1, 2, 3, new_id]), 120)
        changes.append(submit(new, f"{new_ip}:8053", "m1", "192.0.2.101"))
        wait("the 4th node to announce", lambda: new_ip in anycast_routes(), 60)
        # remove one of the original three (node 1: it bootstrapped the cluster)
        q53(n2, node_api(2), "node", "remove", "1")
        wait("node 1 to leave", lambda: 1 not in voters(n2, node_api(2))[0], 60)
        wait("node 1 to withdraw", lambda: FABRIC[1] not in anycast_routes(), 30)
        compose("stop", "-t", "10", "node1", timeout=120)
        changes.append(submit(new, f"{new_ip}:8053", "m2", "192.0.2.102"))
        for c in changes:
            insync(n2, node_api(2), c)
        t_done = time.time()
    finally:
        proc.terminate()
    rows = prober_result(proc, 30)
    members = [n2, cid("node3"), new]
    expect = {"m0": ["192.0.2.100"], "m1": ["192.0.2.101"], "m2": ["192.0.2.102"],
              "www": ["192.0.2.10", "192.0.2.11"], "compose": ["192.0.2.201"],
              "while-cut": ["192.0.2.202"]}
    for c in members:
        for name, want in expect.items():
            assert kdig(c, "127.0.0.1", f"{name}.{ZONE}") == want, (c, name)
    for name, want in expect.items():
        assert kdig(cid("client"), ANYCAST, f"{name}.{ZONE}") == want, name
    assert sorted(anycast_routes()) == sorted([FABRIC[2], FABRIC[3], new_ip])
    # the client kept getting answers the whole time
    rounds = [r for r in rows if r[0] <= t_done]
    unanswered = sum(1 for _, got in rounds for p in PORTS if str(p) not in got)
    gaps = flow_gaps(rounds)
    record("membership_probe_queries", len(rounds) * len(PORTS))
    record("membership_unanswered", unanswered)
    record("membership_max_gap_seconds", round(max(gaps.values()), 3))
    assert max(gaps.values()) < 3.5, gaps
