"""Health alarms beyond the webhook of 0.4.0, on a 3-node cluster:

* the WebhookUrl receiver answers 500 to the first POST of a transition:
  the leader retries (0.5 s later) and the second attempt is delivered, so
  the receiver sees exactly two POSTs of that transition (same
  HealthCheckId and Index) and no more;
* `--alarm-exec CMD` (every node has it; the leader runs it): the command
  runs exactly once per decided transition, with the transition in its
  environment (Q53_HEALTH_CHECK_ID, Q53_STATUS, Q53_INDEX, Q53_TIME,
  Q53_NODE, Q53_ALARM_JSON), at the index every FSM decided;
* /metrics counts them (q53_health_check_alarms_total by target and
  result) on the leader.

Every wait polls with a deadline; processes and endpoints are started here
and stopped by PID / their handles."""
import json
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster import Cluster, q53
from health_endpoints import HTTPEndpoint

prom_parser = pytest.importorskip("prometheus_client.parser")


class FlakyReceiver:
    """Records every POST; answers 500 to the first POST of each
    (HealthCheckId, Index), 204 to the rest."""

    def __init__(self, host="127.0.0.1"):
        posts, lock, seen = [], threading.Lock(), set()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                key = (body["HealthCheckId"], body["Index"])
                with lock:
                    posts.append(body)
                    first = key not in seen
                    seen.add(key)
                self.send_response(500 if first else 204)
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

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")


def exec_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def signed_get(c, node, path):
    """GET http://node/path signed (SigV4, route53) with the admin key."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    kv = dict(line.split("=", 1) for line in open(c.admin_key).read().splitlines()
              if "=" in line)
    creds = Credentials(kv["AWS_ACCESS_KEY_ID"], kv["AWS_SECRET_ACCESS_KEY"])
    url = f"http://{node.http}{path}"
    req = AWSRequest(method="GET", url=url)
    SigV4Auth(creds, "route53", "us-east-1").add_auth(req)
    r = urllib.request.Request(url, headers=dict(req.headers.items()), method="GET")
    try:
        with urllib.request.urlopen(r, timeout=5) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise AssertionError(f"GET {path}: {e.code} {e.read()[:500]}")


def alarms(node, hid):
    with urllib.request.urlopen(f"http://{node.http}/metrics", timeout=5) as r:
        text = r.read().decode()
    got = {}
    for fam in prom_parser.text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "q53_health_check_alarms_total" and s.labels["health_check_id"] == hid:
                got[(s.labels["target"], s.labels["result"])] = s.value
    return got


def test_webhook_retried_on_500_and_alarm_exec_once(tmp_path):
    out = tmp_path / "alarms.jsonl"
    # the command appends its environment as one JSON line
    cmd = ("python3 -c 'import json,os; print(json.dumps({k: v for k, v in "
           "os.environ.items() if k.startswith(\"Q53_\")}))' >> " + str(out))
    ep = HTTPEndpoint("127.0.0.60").start()
    rx = FlakyReceiver()
    c = Cluster(str(tmp_path))
    c.extra_args = ["--alarm-exec", cmd]
    try:
        c.start(3)
        api = c.members()[0].api
        cfg = {"IPAddress": ep.host, "Port": ep.port, "Type": "HTTP",
               "ResourcePath": "/health", "RequestInterval": 1, "FailureThreshold": 2,
               "WebhookUrl": rx.url}
        hid = ok(q53(api, "health", "create", "-", stdin=json.dumps(cfg)))["HealthCheck"]["Id"]

        def status(pred):
            sts = []
            for n in c.members():
                p = q53(n.api, "health", "status", hid, timeout_s=3)
                if p.returncode != 0:
                    return None
                sts.append(json.loads(p.stdout))
            return sts if all(pred(s) for s in sts) else None

        wait_for(lambda: status(lambda s: s["Status"] == "HEALTHY" and s["Reporting"] == 3),
                 30, "healthy everywhere")
        assert rx.posts() == [] and exec_lines(out) == []  # creation is no transition
        ep.stop()
        sts = wait_for(lambda: status(lambda s: s["Status"] == "UNHEALTHY"), 20, "unhealthy")
        index = sts[0]["TransitionIndex"]
        assert {s["TransitionIndex"] for s in sts} == {index}
        # webhook: the 500, then the retry delivered
        posts = wait_for(lambda: (lambda p: p if len(p) >= 2 else None)(rx.posts()), 10,
                         "the retried POST")
        # the command: once, with the transition
        lines = wait_for(lambda: exec_lines(out), 10, "the alarm command")
        time.sleep(1.5)  # a third POST or a second command would be here by now
        posts, lines = rx.posts(), exec_lines(out)
        assert len(posts) == 2, posts
        assert all(p["HealthCheckId"] == hid and p["Status"] == "Unhealthy"
                   and p["Index"] == index for p in posts), posts
        assert len(lines) == 1, lines
        env = lines[0]
        assert env["Q53_HEALTH_CHECK_ID"] == hid
        assert env["Q53_STATUS"] == "Unhealthy"
        assert env["Q53_INDEX"] == str(index)
        assert env["Q53_TIME"].endswith("Z")
        leader = c.wait_leader()
        assert env["Q53_NODE"] == f"n{leader.id}"
        body = json.loads(env["Q53_ALARM_JSON"])
        assert body["HealthCheckId"] == hid and body["Index"] == index
        try:
            got = wait_for(lambda: (lambda a: a if a.get(("exec", "delivered")) == 1 else None)(
                alarms(leader, hid)), 10, "alarms in /metrics")
        except AssertionError:
            raise AssertionError(f"{alarms(leader, hid)}: "
                                 f"{leader.output()[-1500:]}")
        assert got.get(("webhook", "delivered")) == 1, got
        assert ("webhook", "failed") not in got, got
        # the history, from the leader's API (signed, administrator)
        hist = signed_get(c, leader, f"/q53/alarms?health_check_id={hid}")["Alarms"]
        assert sorted((a["Target"], a["Result"], a["Index"], a["Status"], a["Attempts"])
                      for a in hist) == [("exec", "delivered", index, "Unhealthy", 1),
                                         ("webhook", "delivered", index, "Unhealthy", 2)], hist
        # unsigned: refused
        try:
            urllib.request.urlopen(f"http://{leader.http}/q53/alarms", timeout=5)
        except urllib.error.HTTPError as e:
            assert e.code == 403
        else:
            raise AssertionError("unsigned /q53/alarms answered")
    finally:
        rx.stop()
        ep.stop()
        bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"
