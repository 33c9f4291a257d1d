#!/usr/bin/env python3
"""Raft snapshots of a large zone: a 3-node q53d cluster serving one zone of
--records A records (tests/bench/scale.py's zone), with a small
--snapshot-threshold and a stream of changes, so that every node takes
snapshots; then a follower is stopped, the log moves past its compaction and
it is restarted (it installs the leader's snapshot); then a 4th node joins
(it installs one too). Throughout, every node is queried over DNS
continuously (tests/system/snapshot_watch.py) and `q53 status` watched.

Reports: snapshot take time on the loop (and encoding time off it), install
(restore) time, terms and leaders seen (a leader change = more than one),
and per node the longest gap without a DNS answer.

Election timeout and heartbeat: q53d's defaults (1000 / 100 ms) unless
--election-ms / --heartbeat-ms.

Usage: snapshot_scale.py [--q53d PATH] [--records 1000000] [--threshold 512]
                         [--no-join] [--keep]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "system"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--q53d", default=os.environ.get("Q53D", "build/release/q53d"))
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--threshold", type=int, default=512)
    ap.add_argument("--election-ms", type=int, default=1000)
    ap.add_argument("--heartbeat-ms", type=int, default=100)
    ap.add_argument("--no-join", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    os.environ["Q53D"] = os.path.abspath(args.q53d)
    os.environ["Q53_TEST_ELECTION_MS"] = str(args.election_ms)
    os.environ["Q53_TEST_HEARTBEAT_MS"] = str(args.heartbeat_ms)
    from cluster import Cluster  # noqa: E402 (reads the environment)
    import scale  # noqa: E402
    import snapshot_watch as sw  # noqa: E402

    work = tempfile.mkdtemp(prefix="q53-snapscale-")
    zonefile = os.path.join(work, "zone")
    _, _, last = scale.write_zone(zonefile, args.records)
    timeout = 120 + args.records / 2000.0
    c = Cluster(os.path.join(work, "c"), snapshot_threshold=args.threshold)
    os.makedirs(c.root)
    try:
        t0 = time.monotonic()
        c.seeds = [(scale.ORIGIN, zonefile)]
        first = c.add_node(1)
        c.seeds = []
        sw.wait_answer(first, last, timeout)
        for i in (2, 3):
            c.add_node(i, join=first.api)
        c.wait_members([1, 2, 3], timeout=timeout)
        for n in c.members():
            sw.wait_answer(n, last, timeout)
        print(f"loaded {args.records} records on 3 nodes in {time.monotonic() - t0:.1f}s",
              flush=True)
        res = sw.scenario(c, scale.ORIGIN, f"h{args.records // 2}.{scale.ORIGIN}",
                          args.threshold, timeout, join=not args.no_join,
                          log=lambda m: print(m, flush=True))
    finally:
        bad = c.stop_all()
        if bad:
            print(f"warning: unclean q53d exits: {list(bad)}", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")

    print(f"\n## Snapshots of a {args.records}-record zone "
          f"(threshold {args.threshold}, election {args.election_ms} ms, "
          f"heartbeat {args.heartbeat_ms} ms)\n")
    print("| node | snapshots | take on loop ms (max) | encode off loop ms (max) "
          "| restores | restore ms (max) | longest DNS gap ms | queries/answers |")
    print("|---|---|---|---|---|---|---|---|")
    for i in sorted(res["snapshots"]):
        s = res["snapshots"][i]
        take = max((t[2] for t in s["take"]), default=0)
        enc = max((e[1] for e in s["encode"]), default=0)
        rest = max((r[1] for r in s["restore"]), default=0)
        gap = res["gaps"].get(i)
        q = res["queries"].get(i, (0, 0))
        print(f"| {i} | {len(s['take'])} | {take:.1f} | {enc:.1f} | {len(s['restore'])} "
              f"| {rest:.1f} | {gap * 1000 if gap is not None else float('nan'):.0f} "
              f"| {q[0]}/{q[1]} |")
    print("\nlongest gap started at (s into the scenario): "
          + ", ".join(f"node {i} {a:.1f}" for i, a in sorted(res["gap_at"].items()) if a))
    print(f"terms seen: {res['terms']}; (term, leader) seen: {res['leaders']}; "
          f"candidates seen: {res['candidates']}")
    print(f"leader changes: {max(0, len(res['leaders']) - 1)}; phases (s): "
          + ", ".join(f"{k} {v:.1f}" for k, v in res["phases"].items()))
    snap = res["snapshots"]
    sizes = [t[1] for s in snap.values() for t in s["take"] if t[1]] + \
        [e[0] for s in snap.values() for e in s["encode"]]
    if sizes:
        print(f"snapshot size: {max(sizes) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
