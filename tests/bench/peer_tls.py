#!/usr/bin/env python3
"""The cost of mutual TLS between members on the control plane: acknowledged
change batches per second on a 3-node cluster (cluster.py, 127.0.0.x) with
plain TCP and with q53d --peer-tls-* (deploy/peer-tls-certs.sh), runs
interleaved. Clients: --clients threads, each a pynng REQ socket to the
leader's NNG API (over TLS with node 1's certificate when the cluster is;
from 127.0.0.1, node 1's IP, which peer_admit takes as a member), each
submitting one single-record UPSERT at a time for --seconds. Every batch
acknowledged is a committed Raft entry (several batches of one loop turn
share an entry: proposal_batch). Bounded: each run ends after --seconds
plus a 30 s drain.

Usage: Q53D=build-rel/q53d Q53=build-rel/q53 tests/bench/peer_tls.py
       [--seconds 8] [--clients 32] [--reps 2]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))

import pynng  # noqa: E402

from cluster import Cluster, q53  # noqa: E402
from raft_attacker import f_bytes, f_uint, response_error  # noqa: E402

CERTS = os.path.join(HERE, "..", "..", "deploy", "peer-tls-certs.sh")


def change_batch(zone, i):
    body = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"r{i}.{zone}", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}]}}]})
    return f_uint(1, 1) + f_bytes(16, f_bytes(1, zone) + f_bytes(2, body))


def run(tls, args):
    root = tempfile.mkdtemp(prefix="q53-bench-tls-")
    c = Cluster(root)
    try:
        tls_cfg = None
        if tls:
            d = os.path.join(root, "tls")
            subprocess.run(["sh", CERTS, d, "1", "2", "3"], check=True, capture_output=True)
            c.peer_tls = d
            tls_cfg = pynng.TLSConfig(
                pynng.TLSConfig.MODE_CLIENT, ca_files=[os.path.join(d, "ca.pem")],
                own_cert_string=open(os.path.join(d, "node-1.pem")).read(),
                own_key_string=open(os.path.join(d, "node-1.key")).read())
        c.start(3)
        leader = c.wait_leader()
        zone = "bench.test"
        p = q53(leader.api, "zone", "create", zone)
        assert p.returncode == 0, p.stderr
        url = ("tls+tcp://" if tls else "tcp://") + f"127.0.0.1;{leader.api}"
        acked = [0] * args.clients
        errors = []
        end = time.monotonic() + args.seconds
        hard = end + 30

        def client(k):
            kw = {"tls_config": tls_cfg} if tls_cfg else {}
            s = pynng.Req0(send_timeout=10000, recv_timeout=10000, **kw)
            try:
                s.dial(url, block=True)
                i = k * 1_000_000
                while time.monotonic() < end and time.monotonic() < hard:
                    s.send(change_batch(zone, i))
                    err = response_error(s.recv())
                    if err:
                        errors.append(err)
                        return
                    acked[k] += 1
                    i += 1
            except pynng.NNGException as e:
                errors.append(repr(e))
            finally:
                s.close()

        ths = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        t0 = time.monotonic()
        for t in ths:
            t.start()
        for t in ths:
            t.join(timeout=max(1.0, hard - time.monotonic()))
        elapsed = time.monotonic() - t0
        if errors:
            raise RuntimeError(f"errors: {errors[:3]}")
        st = leader.status()
        return sum(acked) / elapsed, st["CommitIndex"]
    finally:
        c.stop_all()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    res = {"plain": [], "mutual-tls": []}
    for rep in range(args.reps):
        for mode in ("plain", "mutual-tls"):
            rate, ci = run(mode == "mutual-tls", args)
            res[mode].append(rate)
            print(f"rep {rep + 1} {mode:10s} {rate:8.1f} batches/s "
                  f"(leader commit index {ci})", flush=True)
    p, t = statistics.median(res["plain"]), statistics.median(res["mutual-tls"])
    print(f"median: plain {p:.1f}/s, mutual TLS {t:.1f}/s, ratio {t / p:.3f}")


if __name__ == "__main__":
    main()
