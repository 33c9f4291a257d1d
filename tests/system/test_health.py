"""Health checks decided by quorum votes and DNS failover, with real q53d
processes (cluster.py) and real HTTP / TCP endpoints started by the test
(health_endpoints.py) on loopback.

* A failover pair (PRIMARY with an HTTP check, SECONDARY with a TCP check):
  stopping the primary's endpoint makes every node answer the secondary,
  all at the same FSM index (the transition index every node's FSM
  reports, and each node's answer changes exactly when the FSM index its
  serving view holds passes it), within RequestInterval x FailureThreshold
  + 2 s; starting it brings every node back.
* Per-node blocked route emulation: every node probes from its own
  address (127.0.0.<id>, the host of --raft); the endpoint refuses probes
  from chosen source addresses, so one node alone, or a majority, cannot
  reach it while the others can. One node alone: zero status flips (the
  transition index does not move over several intervals) and unchanged
  answers; a majority: the status flips.
* A flapping endpoint (up/down faster than FailureThreshold results) never
  flips the decided status or the answers.
* CLI errors: invalid HealthCheckConfig JSON (the field is named) and
  HealthCheckInUse.
* A check's WebhookUrl (a receiver the test runs on loopback) gets exactly
  one POST per decided transition, from the leader, carrying the check id,
  the status and the transition index every node's FSM reports.

Every wait polls with a deadline; processes and endpoints are started here
and stopped by PID / by their own handles."""
import json
import os
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster import Cluster, q53
from health_endpoints import HTTPEndpoint, TCPEndpoint
from test_cli import q53d_has_api

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.test"
NAME = f"shop.{ZONE}."
PRIMARY, SECONDARY = "192.0.2.51", "192.0.2.52"
INTERVAL, THRESHOLD = 1, 2
# RequestInterval x FailureThreshold + 2 s (issue 4).
FAILOVER_BOUND = INTERVAL * THRESHOLD + 2.0


# --- a minimal client for StatusRequest (the published FSM index) -----------
# q53 status costs a process start per call; the bracket checks below need
# many calls per second per node, so they speak NNG REQ + protobuf directly.

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _fields(buf):
    out, i = {}, 0
    while i < len(buf):
        key = shift = 0
        while True:
            b = buf[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        num, wt = key >> 3, key & 7
        if wt == 0:
            v = shift = 0
            while True:
                b = buf[i]
                i += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
        elif wt == 2:
            ln = shift = 0
            while True:
                b = buf[i]
                i += 1
                ln |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            v = bytes(buf[i:i + ln])
            i += ln
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("bad wire type")
        out.setdefault(num, []).append(v)
    return out


STATUS_REQ = _varint(1 << 3) + _varint(1) + _varint(22 << 3 | 2) + _varint(0)


class StatusClient:
    """One NNG REQ connection to a node's API asking StatusRequest."""

    def __init__(self, api):
        host, port = api.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=2)
        self.sock.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # REQ0
        assert self._read(8)[:4] == b"\x00SP\x00"
        self.rid = 0x80000000

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def applied(self):
        self.rid = 0x80000000 | ((self.rid + 1) & 0x7FFFFFFF)
        msg = struct.pack(">I", self.rid) + STATUS_REQ
        self.sock.sendall(struct.pack(">Q", len(msg)) + msg)
        ln = struct.unpack(">Q", self._read(8))[0]
        resp = _fields(self._read(ln)[4:])
        st = _fields(resp[22][0])
        return st.get(7, [0])[0]

    def close(self):
        self.sock.close()


# --- helpers -------------------------------------------------------------------

@pytest.fixture
def make_cluster(tmp_path):
    made, endpoints = [], []

    def make(n):
        c = Cluster(str(tmp_path))
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


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


def create_check(api, cfg, ref=None):
    args = ["health", "create", "-"]
    if ref:
        args += ["--caller-reference", ref]
    return ok(q53(api, *args, stdin=json.dumps(cfg)))["HealthCheck"]["Id"]


def http_cfg(ep, threshold=THRESHOLD):
    return {"IPAddress": ep.host, "Port": ep.port, "Type": "HTTP",
            "ResourcePath": "/health", "RequestInterval": INTERVAL,
            "FailureThreshold": threshold}


def failover_batch(primary_check, secondary_check=None, name=NAME):
    sec = {"Name": name, "Type": "A", "TTL": 30, "SetIdentifier": "secondary",
           "Failover": "SECONDARY", "ResourceRecords": [{"Value": SECONDARY}]}
    if secondary_check:
        sec["HealthCheckId"] = secondary_check
    return json.dumps({"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": name, "Type": "A", "TTL": 30, "SetIdentifier": "primary",
            "Failover": "PRIMARY", "HealthCheckId": primary_check,
            "ResourceRecords": [{"Value": PRIMARY}]}},
        {"Action": "CREATE", "ResourceRecordSet": sec}]})


def setup_zone(c, batch):
    api = c.members()[-1].api  # a follower most of the time: forwarded
    ok(q53(api, "zone", "create", ZONE))
    cid = ok(q53(api, "change-batch", ZONE, "-", stdin=batch))["ChangeInfo"]["Id"]
    c.wait_insync(api, cid)


def answer(node, name=NAME):
    r = node.query(name, "A", timeout=1.0)
    vals = sorted(rr.address for rrset in r.answer for rr in rrset)
    return vals[0] if len(vals) == 1 else tuple(vals)


def status_on(node, hid):
    return ok(q53(node.api, "health", "status", hid, timeout_s=5))


def wait_status(c, hid, pred, timeout, what):
    """Until pred(status) holds on every member; returns {id: status}."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        sts = {}
        for n in c.members():
            p = q53(n.api, "health", "status", hid, timeout_s=3)
            if p.returncode == 0:
                sts[n.id] = json.loads(p.stdout)
        if len(sts) == len(c.members()) and all(pred(s) for s in sts.values()):
            return sts
        last = sts
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s: {last}")


def vote_of(st, nid):
    for n in st["Nodes"]:
        if n["Id"] == nid:
            return n["Vote"]
    return None


def watch_switch(c, hid, want, before_index, bound):
    """Polls every node's answer (bracketed by the FSM index its serving
    view holds) until all answer `want`; then checks that every node
    decided the same transition index T > before_index and that each
    node's answer was the old one while its index was < T and `want` once
    it was >= T. Returns (seconds until the last node switched, T)."""
    nodes = c.members()
    clients = {n.id: StatusClient(n.api) for n in nodes}
    seen = {n.id: [] for n in nodes}  # (before, answer, after)
    switched = {}
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < bound + 8 and len(switched) < len(nodes):
            for n in nodes:
                before = clients[n.id].applied()
                a = answer(n)
                after = clients[n.id].applied()
                seen[n.id].append((before, a, after))
                if a == want and n.id not in switched:
                    switched[n.id] = time.monotonic() - t0
            time.sleep(0.01)
    finally:
        for cl in clients.values():
            cl.close()
    assert len(switched) == len(nodes), f"not every node switched to {want}: {switched}"
    last = max(switched.values())
    # Every node's FSM decided the same transition, at the same index.
    sts = {n.id: status_on(n, hid) for n in nodes}
    idx = {nid: s["TransitionIndex"] for nid, s in sts.items()}
    assert len(set(idx.values())) == 1, f"transition indexes differ: {idx}"
    t = idx[nodes[0].id]
    assert t > before_index, (t, before_index)
    for nid, obs in seen.items():
        for before, a, after in obs:
            if a == want:
                assert after >= t, f"node {nid} answered {a} at index <= {after} < {t}"
            else:
                assert before < t, f"node {nid} answered {a} at index >= {before} >= {t}"
    return last, t


# --- scenarios -----------------------------------------------------------------

@pytest.mark.parametrize("size", [3, 5])
def test_failover_same_index_and_blocked_routes(make_cluster, size):
    primary = make_cluster.endpoint(HTTPEndpoint, "127.0.0.50")
    secondary = make_cluster.endpoint(TCPEndpoint, "127.0.0.51")
    c = make_cluster(size)
    api = c.members()[0].api
    hp = create_check(api, http_cfg(primary), ref="primary")
    hs = create_check(api, {"IPAddress": secondary.host, "Port": secondary.port,
                            "Type": "TCP", "RequestInterval": INTERVAL,
                            "FailureThreshold": THRESHOLD})
    setup_zone(c, failover_batch(hp, hs))
    # Every member has voted healthy on both checks.
    for hid in (hp, hs):
        wait_status(c, hid, lambda s: s["Status"] == "HEALTHY" and s["Reporting"] == size,
                    30, "all members reporting healthy")
    assert all(answer(n) == PRIMARY for n in c.members())
    # Each node probes from its own address (the per-node route emulation
    # below depends on it).
    hosts = sorted(n.host for n in c.members())
    assert primary.sources() == hosts, primary.sources()
    t_healthy = status_on(c.members()[0], hp)["TransitionIndex"]

    # 1. The primary's endpoint dies: every node answers the secondary,
    # all at the same FSM index.
    primary.stop()
    took, t_down = watch_switch(c, hp, SECONDARY, t_healthy, FAILOVER_BOUND)
    assert took <= FAILOVER_BOUND, f"failover took {took:.2f}s > {FAILOVER_BOUND}s"
    st = status_on(c.members()[0], hp)
    assert st["Status"] == "UNHEALTHY" and st["Basis"] == "quorum", st

    # 2. It comes back: every node switches back, again at one index.
    primary.start()
    took, t_up = watch_switch(c, hp, PRIMARY, t_down, FAILOVER_BOUND)
    assert took <= FAILOVER_BOUND, f"recovery took {took:.2f}s > {FAILOVER_BOUND}s"
    wait_status(c, hp, lambda s: s["HealthyVotes"] == size, 15, "all healthy votes back")

    # 3. One node alone cannot reach the endpoint: its vote goes
    # unhealthy, the decided status never flips, answers stay.
    lone = c.members()[-1]
    primary.block(lone.host, "refuse")
    wait_status(c, hp, lambda s: (vote_of(s, lone.id) or {}).get("Status") == "UNHEALTHY",
                15, f"node {lone.id}'s unhealthy vote")
    deadline = time.monotonic() + 4 * INTERVAL
    while time.monotonic() < deadline:
        assert all(answer(n) == PRIMARY for n in c.members())
        time.sleep(0.1)
    for n in c.members():
        st = status_on(n, hp)
        assert st["TransitionIndex"] == t_up, f"status flipped on node {n.id}: {st}"
        assert st["Status"] == "HEALTHY"
    primary.unblock()
    wait_status(c, hp, lambda s: s["HealthyVotes"] == size, 15, "lone node healthy again")

    # 4. A majority cannot reach it (503 to their probes): the status flips.
    majority = c.members()[:size // 2 + 1]
    for n in majority:
        primary.block(n.host, "503")
    took, t_major = watch_switch(c, hp, SECONDARY, t_up, FAILOVER_BOUND)
    assert took <= FAILOVER_BOUND + 1, f"majority flip took {took:.2f}s"
    st = status_on(c.members()[0], hp)
    assert st["HealthyVotes"] == size - len(majority), st
    primary.unblock()
    watch_switch(c, hp, PRIMARY, t_major, FAILOVER_BOUND)


def test_flapping_endpoint_and_cli_errors(make_cluster, tmp_path):
    ep = make_cluster.endpoint(HTTPEndpoint, "127.0.0.52")
    c = make_cluster(3)
    api = c.members()[1].api
    # Threshold 3 at 1 s: a phase of 1.2 s holds at most 2 probes, so no
    # node's verdict (let alone the decided status) may ever change.
    hid = create_check(api, http_cfg(ep, threshold=3))
    setup_zone(c, failover_batch(hid))
    st = wait_status(c, hid, lambda s: s["Status"] == "HEALTHY" and s["Reporting"] == 3,
                     30, "all members reporting healthy")
    t0 = next(iter(st.values()))["TransitionIndex"]
    votes0 = {n["Id"]: n["Vote"]["Index"] for n in next(iter(st.values()))["Nodes"]}
    ep.flap(1.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert all(answer(n) == PRIMARY for n in c.members()), "answer flapped"
        time.sleep(0.05)
    ep.flap(None)
    assert any(not h[2] for h in ep.hits()), "the endpoint never answered unhealthy"
    for n in c.members():
        st = status_on(n, hid)
        assert st["TransitionIndex"] == t0 and st["Status"] == "HEALTHY", st
        assert {x["Id"]: x["Vote"]["Index"] for x in st["Nodes"]} == votes0, st

    # CLI errors: the offending field is named, nothing is created.
    before = ok(q53(api, "health", "list"))["HealthChecks"]
    bad = [
        ({"IPAddress": "127.0.0.1", "Port": 80, "Type": "HTTP", "RequestInterval": 45},
         "RequestInterval"),
        ({"IPAddress": "127.0.0.1", "Port": 80, "Type": "HTTP", "FailureThreshold": 11},
         "FailureThreshold"),
        ({"IPAddress": "not-an-ip", "Port": 80, "Type": "HTTP"}, "IPAddress"),
        ({"IPAddress": "127.0.0.1", "Type": "HTTP_STR_MATCH"}, "SearchString"),
        ({"IPAddress": "127.0.0.1", "Type": "PING"}, "Type"),
        ({"IPAddress": "127.0.0.1", "Type": "HTTP", "Bogus": 1}, "Bogus"),
    ]
    for cfg, field in bad:
        p = q53(api, "health", "create", "-", stdin=json.dumps(cfg), json_out=False)
        assert p.returncode == 1, (cfg, p.returncode, p.stderr)
        assert p.stderr.startswith("q53: InvalidInput: ") and field in p.stderr, p.stderr
    p = q53(api, "health", "create", "-", stdin="{not json", json_out=False)
    assert p.returncode == 1 and "InvalidInput" in p.stderr, p.stderr
    assert ok(q53(api, "health", "list"))["HealthChecks"] == before

    # HealthCheckInUse: the check still routes shop.example.test.
    for node in (c.members()[0], c.members()[2]):
        p = q53(node.api, "health", "delete", hid)
        assert p.returncode == 1, p.stdout
        assert json.loads(p.stdout)["Error"]["Code"] == "HealthCheckInUse"
        assert "HealthCheckInUse" in p.stderr
    assert ok(q53(api, "health", "get", hid))["HealthCheck"]["Id"] == hid

    # get / update / delete of an unused check, through a follower.
    f = tmp_path / "hc.json"
    f.write_text(json.dumps(http_cfg(ep)))
    other = ok(q53(api, "health", "create", str(f)))["HealthCheck"]
    assert other["HealthCheckVersion"] == 1
    upd = ok(q53(api, "health", "update", other["Id"], "-",
                 stdin=json.dumps({"FailureThreshold": 5})))["HealthCheck"]
    assert upd["HealthCheckVersion"] == 2
    assert upd["HealthCheckConfig"]["FailureThreshold"] == 5
    assert upd["HealthCheckConfig"]["Port"] == ep.port
    p = q53(api, "health", "update", other["Id"], "-", "--health-check-version", "1",
            stdin=json.dumps({"FailureThreshold": 4}))
    assert p.returncode == 1 and "HealthCheckVersionMismatch" in p.stderr, p.stderr
    ok(q53(api, "health", "delete", other["Id"]))
    p = q53(api, "health", "get", other["Id"])
    assert p.returncode == 1 and "NoSuchHealthCheck" in p.stderr, p.stderr


# --- webhooks ---------------------------------------------------------------------

class WebhookReceiver:
    """An HTTP server on loopback that records every POST's JSON body; served
    by one thread, stopped with shutdown() and joined."""

    def __init__(self, host="127.0.0.1"):
        posts, lock = [], threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    posts.append((self.path, self.headers.get("Content-Type"),
                                  json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._posts, self._lock = posts, lock
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def posts(self):
        with self._lock:
            return list(self._posts)

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [p for p in self.posts() if pred(p[2])]
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{what}: no POST within {timeout}s: {self.posts()}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def test_webhook_once_per_transition(make_cluster):
    ep = make_cluster.endpoint(HTTPEndpoint, "127.0.0.50")
    rx = WebhookReceiver()
    try:
        c = make_cluster(3)
        api = c.members()[0].api
        cfg = http_cfg(ep)
        cfg["WebhookUrl"] = rx.url
        hid = create_check(api, cfg)
        got = ok(q53(api, "health", "get", hid))
        assert rx.url in json.dumps(got), got
        wait_status(c, hid, lambda s: s["Status"] == "HEALTHY" and s["Reporting"] == 3,
                    30, "all members reporting healthy")
        assert rx.posts() == [], rx.posts()  # creation is no transition

        def check_post(post, status):
            path, ctype, body = post
            assert path == "/hook" and ctype == "application/json", post
            assert body["HealthCheckId"] == hid and body["Status"] == status, body
            assert isinstance(body["Index"], int) and body["Index"] > 0, body
            assert body["Time"].endswith("Z") and "T" in body["Time"], body
            assert isinstance(body["Node"], str) and body["Node"], body
            return body["Index"]

        # Down: exactly one Unhealthy POST, at the index every FSM decided.
        ep.stop()
        down = rx.wait(lambda b: b["Status"] == "Unhealthy", FAILOVER_BOUND + 10,
                       "Unhealthy webhook")
        i_down = check_post(down[0], "Unhealthy")
        sts = wait_status(c, hid, lambda s: s["Status"] == "UNHEALTHY", 15, "unhealthy")
        assert {s["TransitionIndex"] for s in sts.values()} == {i_down}, sts
        assert "Reason" in down[0][2], down[0]

        # Up again: exactly one Healthy POST.
        ep.start()
        up = rx.wait(lambda b: b["Status"] == "Healthy", FAILOVER_BOUND + 10,
                     "Healthy webhook")
        i_up = check_post(up[0], "Healthy")
        assert i_up > i_down
        sts = wait_status(c, hid, lambda s: s["Status"] == "HEALTHY" and s["HealthyVotes"] == 3,
                          15, "healthy")
        assert {s["TransitionIndex"] for s in sts.values()} == {i_up}, sts
        # Every node has applied the last transition (its vote came after
        # it); a follower firing too would have posted by now.
        posts = rx.posts()
        assert [p[2]["Status"] for p in posts] == ["Unhealthy", "Healthy"], posts
        assert [p[2]["Index"] for p in posts] == [i_down, i_up], posts
    finally:
        rx.stop()
