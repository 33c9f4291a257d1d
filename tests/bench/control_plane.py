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
              batches per second, then the time until the last one is INSYNC.

The client speaks NNG's SP protocol over TCP directly (REQ: 8-byte header,
64-bit length prefixes, 32-bit request ids) with a minimal protobuf codec
for the few messages it needs, so it needs neither pynng nor protobuf.

Usage: control_plane.py [--q53d PATH] [--nodes 3,5] [--changes 300]
                        [--seconds 5] [--clients 64]
"""
import argparse
import json
import os
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
        last_id = None
        t0 = time.perf_counter()
        end = t0 + args.seconds
        for cl in clients:
            cl.sock.setblocking(True)
            cl.send(req_change_batch(zone, upsert(nxt, zone)))
            cl.sock.setblocking(False)
            nxt += 1
        outstanding = len(clients)
        while outstanding:
            for key, _ in sel.select(timeout=10):
                cl = key.data
                resp = cl.feed()
                if resp is None:
                    continue
                outstanding -= 1
                err, cid, _ = parse_change(resp, 16)
                if err:
                    raise RuntimeError(err)
                acked += 1
                last_id = cid
                if time.perf_counter() < end:
                    cl.sock.setblocking(True)
                    cl.send(req_change_batch(zone, upsert(nxt, zone)))
                    cl.sock.setblocking(False)
                    nxt += 1
                    outstanding += 1
        elapsed = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn = conns[0]
        while True:
            err, _, st = parse_change(conn.call(req_get_change(last_id)), 17)
            if st == INSYNC:
                break
            time.sleep(0.001)
        tail = (time.perf_counter() - t1) * 1000
        for cl in clients + conns:
            cl.sock.close()
        return {
            "nodes": size,
            "p50": statistics.median(lat), "p99": pct(lat, 99), "max": max(lat),
            "rate": acked / elapsed, "acked": acked, "tail": tail,
        }
    finally:
        bad = c.stop_all()
        if bad:
            print(f"warning: unclean exits: {list(bad)}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--q53d", default=os.environ.get("Q53D"))
    ap.add_argument("--nodes", default="3,5")
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--snapshot-threshold", type=int, default=1024)
    args = ap.parse_args()
    if args.q53d:
        os.environ["Q53D"] = os.path.abspath(args.q53d)
    os.environ.setdefault("Q53_TEST_ELECTION_MS", "1000")
    os.environ.setdefault("Q53_TEST_HEARTBEAT_MS", "100")
    rows = [bench(int(s), args) for s in args.nodes.split(",")]
    print()
    print(f"control plane, {args.changes} sequential single-record changes "
          f"(submit -> INSYNC), then {args.clients} pipelined clients for "
          f"{args.seconds:.0f} s")
    print(f"{'nodes':>5}  {'INSYNC p50':>10}  {'p99':>8}  {'max':>8}  "
          f"{'batches/s':>10}  {'acked':>7}  {'last INSYNC after':>17}")
    for r in rows:
        print(f"{r['nodes']:>5}  {r['p50']:>8.2f}ms  {r['p99']:>6.2f}ms  {r['max']:>6.2f}ms  "
              f"{r['rate']:>10.0f}  {r['acked']:>7}  {r['tail']:>15.1f}ms")


if __name__ == "__main__":
    main()
