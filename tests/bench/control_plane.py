#!/usr/bin/env python3
"""Control-plane benchmark: a real q53d cluster on 127.0.0.x (3 and 5 nodes),
single-record change batches through the client API.

  latency:    one change at a time, submitted round-robin to every node;
              time from sending the ChangeBatch request to the first
              get-change answer saying INSYNC (polled every 0.5 ms on the
              node that took the submit). p50 / p99 / max.
  throughput: N client connections (pipelined: one request in flight on
              each) submit single-record batches for D seconds, to every
              node round-robin (followers forward to the leader); acknowledged
              batches per second, p50 / p99 from sending a ChangeBatch to its
              acknowledgement, then the time until the last one is INSYNC.
              Only answers without an error count (q53d answers a write only
              after its Raft entry is committed and applied); afterwards a
              sample of the acknowledged names is asked on every node's DNS.

Several binaries (--q53d LABEL=PATH, repeated) run side by side: for each
size and repetition, one cluster per binary, interleaved, and the rate of
each relative to the first is printed.

The client speaks NNG's SP protocol over TCP directly (REQ: 8-byte header,
64-bit length prefixes, 32-bit request ids) with a minimal protobuf codec
for the few messages it needs, so it needs neither pynng nor protobuf.

Usage: control_plane.py [--q53d [LABEL=]PATH]... [--nodes 3,5]
                        [--changes 300] [--seconds 5] [--clients 64]
                        [--reps 1] [--verify 200]
"""
import argparse
import json
import os
import random
import selectors
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))

# --- minimal protobuf ---------------------------------------------------------


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def decode(buf):
    """{field: [values]}: ints for varints, bytes for length-delimited."""
    out = {}
    i = 0
    while i < len(buf):
        key = 0
        shift = 0
        while True:
            b = buf[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        num, wt = key >> 3, key & 7
        if wt == 0:
            v = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
        elif wt == 2:
            ln = 0
            shift = 0
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
            v = buf[i:i + 8]
            i += 8
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ValueError("bad wire type")
        out.setdefault(num, []).append(v)
    return out


def req_change_batch(zone, body):
    return field_varint(1, 1) + field_bytes(16, field_bytes(1, zone) + field_bytes(2, body))


def req_get_change(cid):
    return field_varint(1, 1) + field_bytes(17, field_bytes(1, cid))


PENDING, INSYNC = 1, 2


def parse_change(resp, body_field):
    """(error, change id, status) of a ChangeBatch/GetChange response."""
    r = decode(resp)
    err = r.get(1, [b""])[0].decode()
    if err:
        return err + ": " + r.get(2, [b""])[0].decode(), None, None
    body = decode(r[body_field][0])
    ci = decode(body[1][0])
    return None, ci[1][0].decode(), ci.get(2, [0])[0]


# --- NNG REQ over TCP -----------------------------------------------------------


class Req:
    """One REQ connection (one request in flight)."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # REQ0 = 0x30
        hdr = self._read(8)
        assert hdr[:4] == b"\x00SP\x00", hdr
        self.rid = 0x80000000 | (os.getpid() & 0xFFFF)
        self.buf = b""

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def send(self, payload):
        self.rid = 0x80000000 | ((self.rid + 1) & 0x7FFFFFFF)
        msg = struct.pack(">I", self.rid) + payload
        self.sock.sendall(struct.pack(">Q", len(msg)) + msg)

    def recv(self):
        ln = struct.unpack(">Q", self._read(8))[0]
        msg = self._read(ln)
        return msg[4:]

    def call(self, payload):
        self.send(payload)
        return self.recv()

    # non-blocking receive for the pipelined run
    def feed(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk
        if len(self.buf) >= 8:
            ln = struct.unpack(">Q", self.buf[:8])[0]
            if len(self.buf) >= 8 + ln:
                msg = self.buf[8:8 + ln]
                self.buf = self.buf[8 + ln:]
                return msg[4:]
        return None


def upsert(i, zone):
    return json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"b{i}.{zone}", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}]}}]})


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(size, args):
    from cluster import Cluster, q53  # noqa: E402

    root = tempfile.mkdtemp(prefix=f"q53-bench-{size}-")
    c = Cluster(root, snapshot_threshold=args.snapshot_threshold)
    try:
        c.start(size)
        leader = c.wait_leader()
        zone = "bench.test"
        p = q53(leader.api, "zone", "create", zone)
        assert p.returncode == 0, p.stderr
        # The throughput run adds a set per batch, past Route 53's
        # default 10,000 of a new zone: no limit for the benchmark.
        p = q53(leader.api, "zone", "limit", zone, "0")
        assert p.returncode == 0, p.stderr
        nodes = c.members()
        conns = [Req(n.api) for n in nodes]

        # latency: one at a time
        lat = []
        for i in range(args.changes):
            conn = conns[i % len(conns)]
            t0 = time.perf_counter()
            err, cid, _ = parse_change(conn.call(req_change_batch(zone, upsert(i, zone))), 16)
            if err:
                raise RuntimeError(err)
            while True:
                err, _, st = parse_change(conn.call(req_get_change(cid)), 17)
                if err:
                    raise RuntimeError(err)
                if st == INSYNC:
                    break
                time.sleep(0.0005)
            lat.append((time.perf_counter() - t0) * 1000)

        # throughput: pipelined over many connections
        clients = [Req(nodes[k % len(nodes)].api) for k in range(args.clients)]
        sel = selectors.DefaultSelector()
        for k, cl in enumerate(clients):
            cl.sock.setblocking(False)
            sel.register(cl.sock, selectors.EVENT_READ, cl)
        n0 = 1_000_000
        nxt = n0
        acked = 0
        acked_ids = []  # record numbers whose batch was acknowledged
        ack_lat = []
        last_id = None
        t0 = time.perf_counter()
        end = t0 + args.seconds
        deadline = end + 60  # bounded: a stuck cluster fails the run

        def submit(cl):
            nonlocal nxt
            cl.sock.setblocking(True)
            cl.pending = (nxt, time.perf_counter())
            cl.send(req_change_batch(zone, upsert(nxt, zone)))
            cl.sock.setblocking(False)
            nxt += 1

        cpu0 = [cpu_s(n.proc.pid) for n in nodes]
        me0 = sum(os.times()[:2])
        for cl in clients:
            submit(cl)
        outstanding = len(clients)
        while outstanding:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{outstanding} requests unanswered 60 s after the run")
            for key, _ in sel.select(timeout=10):
                cl = key.data
                resp = cl.feed()
                if resp is None:
                    continue
                now = time.perf_counter()
                outstanding -= 1
                err, cid, _ = parse_change(resp, 16)
                if err:
                    raise RuntimeError(err)
                acked += 1
                acked_ids.append(cl.pending[0])
                ack_lat.append((now - cl.pending[1]) * 1000)
                last_id = cid
                if now < end:
                    submit(cl)
                    outstanding += 1
        elapsed = time.perf_counter() - t0
        cpu = [cpu_s(n.proc.pid) - c0 for n, c0 in zip(nodes, cpu0)]
        me = sum(os.times()[:2]) - me0
        t1 = time.perf_counter()
        conn = conns[0]
        while True:
            err, _, st = parse_change(conn.call(req_get_change(last_id)), 17)
            if st == INSYNC:
                break
            if time.perf_counter() - t1 > 60:
                raise RuntimeError(f"{last_id} not INSYNC within 60 s")
            time.sleep(0.001)
        tail = (time.perf_counter() - t1) * 1000
        # every acknowledged change is served by every node (a sample)
        rng = random.Random(size)
        sample = acked_ids[-20:] + rng.sample(acked_ids, min(args.verify, len(acked_ids)))
        for node in nodes:
            for i in sample:
                r = node.query(f"b{i}.{zone}")
                got = sorted(rr.to_text() for rrset in r.answer for rr in rrset)
                want = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
                if got != [want]:
                    raise RuntimeError(f"acknowledged b{i}.{zone} not served by node "
                                       f"{node.id}: {got}")
        for cl in clients + conns:
            cl.sock.close()
        return {
            "nodes": size,
            "p50": statistics.median(lat), "p99": pct(lat, 99), "max": max(lat),
            "rate": acked / elapsed, "acked": acked, "tail": tail,
            "ack_p50": statistics.median(ack_lat), "ack_p99": pct(ack_lat, 99),
            "verified": len(sample),
            # CPU ms per 1,000 acknowledged changes: the busiest node (the
            # leader), all nodes, and this client
            "cpu_max": max(cpu) * 1e6 / acked, "cpu_all": sum(cpu) * 1e6 / acked,
            "cpu_client": me * 1e6 / acked,
        }
    finally:
        bad = c.stop_all()
        if bad:
            print(f"warning: unclean exits: {list(bad)}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--q53d", action="append", default=[],
                    help="[LABEL=]PATH; repeat to compare binaries side by side")
    ap.add_argument("--nodes", default="3,5")
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=256)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--verify", type=int, default=200,
                    help="acknowledged names asked on every node afterwards")
    ap.add_argument("--snapshot-threshold", type=int, default=1024)
    args = ap.parse_args()
    bins = []
    for spec in args.q53d or ([os.environ["Q53D"]] if os.environ.get("Q53D") else []):
        label, _, path = spec.rpartition("=")
        bins.append((label or os.path.basename(os.path.dirname(os.path.abspath(path))),
                     os.path.abspath(path)))
    if not bins:
        bins = [("q53d", None)]
    os.environ.setdefault("Q53_TEST_ELECTION_MS", "1000")
    os.environ.setdefault("Q53_TEST_HEARTBEAT_MS", "100")
    rows = []
    for s in args.nodes.split(","):
        for rep in range(args.reps):
            for label, path in bins:
                if path:
                    os.environ["Q53D"] = path
                    os.environ["Q53"] = os.path.join(os.path.dirname(path), "q53")
                r = bench(int(s), args)
                r["label"], r["rep"] = label, rep
                r["load"] = os.getloadavg()[0]
                rows.append(r)
                print(f"{label} nodes={s} rep={rep}: {r['rate']:.0f}/s "
                      f"(load {r['load']:.2f})", file=sys.stderr, flush=True)
    print()
    print(f"control plane, {args.changes} sequential single-record changes "
          f"(submit -> INSYNC), then {args.clients} pipelined clients for "
          f"{args.seconds:.0f} s; load average at the end {os.getloadavg()}")
    w = max(5, max(len(b[0]) for b in bins))
    print(f"{'q53d':<{w}}  {'nodes':>5}  {'INSYNC p50':>10}  {'p99':>8}  {'max':>8}  "
          f"{'batches/s':>10}  {'ack p50':>8}  {'ack p99':>8}  {'acked':>7}  "
          f"{'last INSYNC after':>17}  {'load1':>5}  {'cpu ms/1k: max node':>19}  "
          f"{'all':>5}  {'client':>6}")
    for r in rows:
        print(f"{r['label']:<{w}}  {r['nodes']:>5}  {r['p50']:>8.2f}ms  {r['p99']:>6.2f}ms  "
              f"{r['max']:>6.2f}ms  {r['rate']:>10.0f}  {r['ack_p50']:>6.2f}ms  "
              f"{r['ack_p99']:>6.2f}ms  {r['acked']:>7}  {r['tail']:>15.1f}ms  "
              f"{r['load']:>5.2f}  {r['cpu_max']:>19.0f}  {r['cpu_all']:>5.0f}  "
              f"{r['cpu_client']:>6.0f}")
    if len(bins) > 1:
        print()
        for s in args.nodes.split(","):
            base = [r["rate"] for r in rows if r["label"] == bins[0][0] and r["nodes"] == int(s)]
            for label, _ in bins[1:]:
                mine = [r["rate"] for r in rows if r["label"] == label and r["nodes"] == int(s)]
                print(f"{s} nodes: {label} / {bins[0][0]} = "
                      f"{statistics.median(mine) / statistics.median(base):.2f}x "
                      f"(median of {len(mine)} vs {len(base)} runs)")


if __name__ == "__main__":
    main()
