#!/usr/bin/env python3
"""Route 53 REST API vs the internal (NNG) path: single-record
ChangeResourceRecordSets per second on one cluster, in the same run.

  internal  pipelined ChangeBatch requests over --clients NNG REQ
            connections spread over every node (the node API without HTTP
            or SigV4: what q53 sent before it became an HTTP client, and
            what a follower forwards to the leader; the loop of
            tests/bench/control_plane.py)
  http      the same UPSERTs as ChangeResourceRecordSets XML over --clients
            keep-alive HTTP/1.1 connections spread over every node's --http,
            each request SigV4-signed (service route53) when it is sent
  ceiling   GetHostedZoneCount over the same HTTP connections: what this
            load generator and the HTTP edge manage without Raft; the http
            rate means something only while it stays well under this

One process, one selector loop (like control_plane.py), so the generator's
own cost is the same kind on both paths; its CPU per request is printed.
The nodes' CPU per request (all 3 processes) is printed too: on a shared
box the rates drift with the load, the CPU cost does not.
Every phase is bounded: --seconds of load, then at most 60 s for the
requests in flight. Prints one line per phase and the ratio http/internal: --reps http
phases alternate with internal ones (the box may be shared and its load
drift), the ratio is the mean http rate over the mean internal rate.
"""
import argparse
import datetime
import hashlib
import hmac
import os
import selectors
import shutil
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "system"))
from control_plane import Req, cpu_s, parse_change, req_change_batch, upsert  # noqa: E402

AKID = "AKIAQ53BENCHMARK0001"
SECRET = "q53-bench-secret-0123456789abcdef0123"
REGION = "us-east-1"


class Signer:
    """SigV4 for route53 (host;x-amz-date signed), the key cached per day."""

    def __init__(self):
        self.day = None
        self.key = None

    def headers(self, method, host, path, body, now):
        amz = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz[:8]
        if day != self.day:
            k = hmac.new(("AWS4" + SECRET).encode(), day.encode(), hashlib.sha256).digest()
            for part in (REGION, "route53", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self.day, self.key = day, k
        payload = hashlib.sha256(body).hexdigest()
        canon = (f"{method}\n{path}\n\nhost:{host}\nx-amz-date:{amz}\n\n"
                 f"host;x-amz-date\n{payload}")
        scope = f"{day}/{REGION}/route53/aws4_request"
        sts = (f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n"
               f"{hashlib.sha256(canon.encode()).hexdigest()}")
        sig = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        return (f"Host: {host}\r\nX-Amz-Date: {amz}\r\n"
                f"Authorization: AWS4-HMAC-SHA256 Credential={AKID}/{scope}, "
                f"SignedHeaders=host;x-amz-date, Signature={sig}\r\n")


class Http:
    """One keep-alive HTTP/1.1 connection, one request in flight."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.host = addr
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, signer, method, path, body, now):
        h = signer.headers(method, self.host, path, body, now)
        msg = (f"{method} {path} HTTP/1.1\r\n{h}Content-Length: {len(body)}\r\n"
               f"Content-Type: text/xml\r\n\r\n").encode() + body
        self.sock.setblocking(True)
        self.sock.sendall(msg)
        self.sock.setblocking(False)

    def feed(self):
        """(status, body) once a whole response is in, else None."""
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode("latin-1")
        n = 0
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v)
        if len(self.buf) < end + 4 + n:
            return None
        body = self.buf[end + 4:end + 4 + n]
        self.buf = self.buf[end + 4 + n:]
        return int(head.split(" ", 2)[1]), body


def change_xml(i, zone):
    return (f'<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest '
            f'xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes>'
            f'<Change><Action>UPSERT</Action><ResourceRecordSet><Name>h{i}.{zone}</Name>'
            f'<Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>'
            f'10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}</Value></ResourceRecord>'
            f'</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>'
            f'</ChangeResourceRecordSetsRequest>').encode()


def run(conns, seconds, submit, check, pids):
    """Keeps one request in flight per connection for `seconds`; returns
    (answered per second, generator CPU µs per request, the nodes' CPU µs
    per request: every q53d of pids, all threads)."""
    sel = selectors.DefaultSelector()
    for c in conns:
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ, c)
    t0 = time.perf_counter()
    end = t0 + seconds
    deadline = end + 60
    me0 = sum(os.times()[:2])
    node0 = sum(cpu_s(p) for p in pids)
    for c in conns:
        submit(c)
    outstanding, done = len(conns), 0
    while outstanding:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{outstanding} requests unanswered 60 s after the run")
        for key, _ in sel.select(timeout=10):
            c = key.data
            resp = c.feed()
            if resp is None:
                continue
            outstanding -= 1
            check(resp)
            done += 1
            if time.perf_counter() < end:
                submit(c)
                outstanding += 1
    elapsed = time.perf_counter() - t0
    me = sum(os.times()[:2]) - me0
    node = sum(cpu_s(p) for p in pids) - node0
    sel.close()
    return done / elapsed, me * 1e6 / max(done, 1), node * 1e6 / max(done, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--q53d", default=os.environ.get("Q53D"))
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3,
                    help="http phases, each between two internal ones")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", choices=("internal", "http", "ceiling"),
                    help="one phase only (for profiling the nodes)")
    args = ap.parse_args()
    if args.smoke:
        args.seconds, args.clients, args.reps = 1.0, 8, 1
    if args.q53d:
        os.environ["Q53D"] = os.path.abspath(args.q53d)
    from cluster import Cluster  # noqa: E402

    root = tempfile.mkdtemp(prefix="q53-bench-r53-")
    c = Cluster(root, keys=[(AKID, SECRET)])
    try:
        c.start(args.nodes)
        leader = c.wait_leader()
        zone = "r53bench.test"
        signer = Signer()
        h = Http(leader.http)
        h.send(signer, "POST", "/2013-04-01/hostedzone",
               (f"<CreateHostedZoneRequest xmlns='https://route53.amazonaws.com/doc/"
                f"2013-04-01/'><Name>{zone}</Name><CallerReference>bench</CallerReference>"
                f"</CreateHostedZoneRequest>").encode(),
               datetime.datetime.now(datetime.timezone.utc))
        h.sock.setblocking(True)
        resp = None
        while resp is None:
            resp = h.feed()
        assert resp[0] == 201, resp
        body = resp[1].decode()
        zid = body.split("<Id>/hostedzone/", 1)[1].split("<", 1)[0]
        h.sock.close()
        nodes = c.members()
        pids = [n.proc.pid for n in nodes]
        counter = [0]

        def nng_submit(cl):
            counter[0] += 1
            cl.send(req_change_batch(zone, upsert(counter[0], zone)))

        def nng_feed_check(resp):
            err, _, _ = parse_change(resp, 16)
            if err:
                raise RuntimeError(err)

        def internal():
            conns = [Req(nodes[k % len(nodes)].api) for k in range(args.clients)]
            for cl in conns:
                cl.send = _nng_send(cl)
            r = run(conns, args.seconds, nng_submit, nng_feed_check, pids)
            for cl in conns:
                cl.sock.close()
            return r

        path = f"/2013-04-01/hostedzone/{zid}/rrset/"

        def http_submit(cl):
            counter[0] += 1
            cl.send(signer, "POST", path, change_xml(counter[0], zone),
                    datetime.datetime.now(datetime.timezone.utc))

        def count_submit(cl):
            cl.send(signer, "GET", "/2013-04-01/hostedzonecount", b"",
                    datetime.datetime.now(datetime.timezone.utc))

        def http_check(resp):
            if resp[0] != 200:
                raise RuntimeError(f"HTTP {resp[0]}: {resp[1][:300]!r}")

        def http(submit):
            conns = [Http(nodes[k % len(nodes)].http) for k in range(args.clients)]
            r = run(conns, args.seconds, submit, http_check, pids)
            for cl in conns:
                cl.sock.close()
            return r

        run_phase = {"internal": internal, "http": lambda: http(http_submit),
                     "ceiling": lambda: http(count_submit)}
        if args.only:
            print(args.only, run_phase[args.only]())
            return
        # internal and http alternate (the box is shared: its load drifts);
        # the ratio is the mean http rate over the mean internal rate
        rows = [("internal", internal())]
        for _ in range(args.reps):
            rows += [("http", http(http_submit)), ("internal", internal())]
        rows.append(("ceiling", http(count_submit)))
        print(f"{args.nodes} nodes, {args.clients} connections, {args.seconds:g} s per phase")
        print(f"{'phase':<10} {'req/s':>9} {'gen CPU µs/req':>15} {'nodes CPU µs/req':>17}")
        for name, (rate, cpu, ncpu) in rows:
            print(f"{name:<10} {rate:9.0f} {cpu:15.0f} {ncpu:17.0f}")

        def mean(name):
            xs = [r[0] for n, r in rows if n == name]
            return sum(xs) / len(xs)
        ratio = mean("http") / mean("internal")
        print(f"ratio http/internal: {ratio:.2f}x  (ceiling/http: "
              f"{mean('ceiling') / mean('http'):.1f}x)")
        cpu = [sum(r[2] for n, r in rows if n == k) / sum(1 for n, _ in rows if n == k)
               for k in ("internal", "http")]
        print(f"nodes' CPU per change: internal {cpu[0]:.0f} µs, http {cpu[1]:.0f} µs "
              f"(internal/http {cpu[0] / cpu[1]:.2f}x: the ratio a CPU-bound box gives)")
    finally:
        bad = c.stop_all()
        if bad:
            print(f"warning: unclean exits: {list(bad)}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)


def _nng_send(cl):
    """Req.send with the socket blocking only while writing."""
    plain = cl.send

    def send(payload):
        cl.sock.setblocking(True)
        plain(payload)
        cl.sock.setblocking(False)
    return send


if __name__ == "__main__":
    main()
