#!/usr/bin/env python3
"""Control plane at scale: q53d (3-node cluster), Knot and NSD on zones of
10k, 100k and 1M A records, in one run, one server at a time.

Per server and zone size:
  load     from starting the server until the zone's last name answers
           (q53d: node 1 started alone with a --zone seed; then nodes 2 and
           3 join, and "3 nodes" is the time from the same start until the
           last name answers on all three).
  memory   resident memory after the load and after the changes: VmRSS of
           each q53d node and of knotd; for NSD (which forks a server child
           and xfrd sharing pages) the sum of the PSS of its processes.
           Bytes per record = that / records in the zone.
  change   one single-record change at a time (a new name each time), from
           the start of the change until the name answers:
             q53d  ChangeBatch through the client API directly (NNG REQ, no
                   `q53` process per change) to the leader, get-change
                   polled every 0.5 ms until INSYNC, then DNS polled on
                   every node until all three answer;
             Knot  `knotc zone-begin`, `zone-set`, `zone-commit` (three
                   processes), then DNS polled;
             NSD   the SOA serial in the zone file bumped in place and the
                   record appended, `nsd-control reload ZONE`, then DNS
                   polled.
           p50 / p99 / max over --changes changes.

Prints a markdown table with q53d's ratios to Knot and NSD.
Every poll is bounded in count and time; only PIDs started here are
signalled; the temporary directory is removed unless --keep.

Usage: scale.py [--q53d PATH] [--sizes 10000,100000,1000000] [--changes 50]
                [--servers q53d,knot,nsd] [--smoke] [--perf] [--keep]
"""
import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "system"))

import dnsmini  # noqa: E402
import servers  # noqa: E402
from control_plane import INSYNC, Req, parse_change, req_change_batch, req_get_change  # noqa: E402

ORIGIN = "scale.test."
SERIAL0 = 1000000000  # ten digits: bumped in place in NSD's zone file
POLL_S = 0.0005

# --- zone -----------------------------------------------------------------


def write_zone(path, n):
    """n A records h0..h<n-1> plus SOA, NS and the NS address; returns
    (records in the zone, offset of the SOA serial, last name)."""
    head = (f"$ORIGIN {ORIGIN}\n$TTL 3600\n"
            f"@ SOA ns1 hostmaster ")
    off = len(head.encode())
    head += f"{SERIAL0} 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.53\n"
    with open(path, "w") as f:
        f.write(head)
        step = 10000
        for base in range(0, n, step):
            f.write("".join(f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n"
                            for i in range(base, min(n, base + step))))
    return n + 3, off, f"h{n - 1}.{ORIGIN}"


def change_ip(i):
    return f"172.{16 + (i >> 16 & 15)}.{i >> 8 & 255}.{i & 255}"


# --- measuring --------------------------------------------------------------


def answers(addr, port, qname, qtype="A", timeout=0.2):
    try:
        r = dnsmini.query(addr, port, qname, qtype, timeout=timeout)
    except OSError:
        return False
    return r["rcode"] == 0 and qtype in r["answer"]


def wait_answers(targets, qname, timeout, alive=None):
    """Polls every (addr, port) until each answers qname; seconds taken."""
    t0 = time.perf_counter()
    deadline = t0 + timeout
    todo = list(targets)
    while todo:
        # a server still binding its socket drops the query: short timeouts
        todo = [t for t in todo if not answers(t[0], t[1], qname, timeout=0.05)]
        if not todo:
            break
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{qname} not answered by {todo} within {timeout}s")
        if alive and not alive():
            raise RuntimeError(f"server died while waiting for {qname}")
        time.sleep(POLL_S)
    return time.perf_counter() - t0


def mem_bytes(pids):
    """Sum of PSS (bytes) of pids; VmRSS if smaps_rollup is missing."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            total += rss_bytes(p)
    return total


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def summary(xs):
    ms = [x * 1000 for x in xs]
    return {"p50": statistics.median(ms), "p99": pct(ms, 99), "max": max(ms)}


def run(cmd, timeout=60):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.returncode}: {p.stdout}{p.stderr}")
    return p


# --- Knot and NSD -------------------------------------------------------------


class _NoWait:
    """Server.start without its SOA poll (0.1 s steps): the caller times the
    load with its own finer poll on the zone's last name."""

    def _wait_ready(self, timeout):
        pass


class KnotScale(_NoWait, servers.Knot):
    pass


class NsdScale(_NoWait, servers.Nsd):
    def argv(self):
        conf = servers._render("nsd_scale.conf.in", os.path.join(self.dir, "nsd.conf"),
                               addr=self.addr, port=self.port, dir=self.dir,
                               origin=self.origin, zonefile=self.zonefile)
        self.conf = conf
        return [self.binary, "-d", "-c", conf]


def bench_single(kind, work, zonefile, records, serial_off, last, args):
    load_timeout = 60 + records / 5000.0
    if kind == "nsd":
        # NSD reads the zone file we edit: its own copy
        own = os.path.join(work, "nsd-zone")
        shutil.copyfile(zonefile, own)
        srv = NsdScale(work, ORIGIN, own)
    else:
        srv = KnotScale(work, ORIGIN, zonefile)
    t0 = time.perf_counter()
    srv.start(timeout=load_timeout)
    try:
        wait_answers([(srv.addr, srv.port)], last, load_timeout,
                     alive=lambda: srv.proc.poll() is None)
        load = time.perf_counter() - t0
        mem_load = mem_bytes(srv.pids())
        lat = []
        for i in range(args.changes):
            name = f"c{i}"
            t0 = time.perf_counter()
            if kind == "knot":
                sock = os.path.join(srv.dir, "knot.sock")
                run(["knotc", "-s", sock, "zone-begin", ORIGIN])
                run(["knotc", "-s", sock, "zone-set", ORIGIN, name, "60", "A", change_ip(i)])
                run(["knotc", "-s", sock, "zone-commit", ORIGIN])
            else:
                with open(own, "r+b") as f:
                    f.seek(serial_off)
                    f.write(str(SERIAL0 + i + 1).encode())
                    f.seek(0, os.SEEK_END)
                    f.write(f"{name} 60 A {change_ip(i)}\n".encode())
                run(["nsd-control", "-c", srv.conf, "reload", ORIGIN])
            wait_answers([(srv.addr, srv.port)], f"{name}.{ORIGIN}", 30,
                         alive=lambda: srv.proc.poll() is None)
            lat.append(time.perf_counter() - t0)
        mem_after = mem_bytes(srv.pids())
        return {"server": kind, "version": srv.version(), "records": records, "load": load,
                "mem": [(mem_load, mem_after)], "change": summary(lat)}
    finally:
        srv.stop()


# --- q53d ---------------------------------------------------------------------


def bench_q53d(work, zonefile, records, last, args):
    from cluster import Cluster, q53  # noqa: E402,F401

    load_timeout = 60 + records / 2000.0
    root = os.path.join(work, "q53d")
    os.makedirs(root)
    c = Cluster(root, snapshot_threshold=args.snapshot_threshold)
    perf = None
    try:
        t0 = time.perf_counter()
        c.seeds = [(ORIGIN, zonefile)]  # node 1 only: it bootstraps and seeds
        first = c.add_node(1)
        c.seeds = []
        wait_answers([(first.host, first.dns_port)], last, load_timeout, alive=first.alive)
        load = time.perf_counter() - t0
        for i in (2, 3):
            c.add_node(i, join=first.api)
        c.wait_members([1, 2, 3], timeout=load_timeout)
        nodes = c.members()
        targets = [(n.host, n.dns_port) for n in nodes]
        wait_answers(targets, last, load_timeout,
                     alive=lambda: all(n.alive() for n in nodes))
        load3 = time.perf_counter() - t0
        mem_load = [rss_bytes(n.proc.pid) for n in nodes]
        leader = c.wait_leader(timeout=30)
        conn = Req(leader.api)
        if args.perf and shutil.which("perf"):
            perf = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-o",
                                     os.path.join(args.perf_dir, f"q53d-leader-{records}.data"),
                                     "-p", str(leader.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # let perf attach (not synchronisation of the system under test)
        insync, served = [], []
        unknown = 0
        for i in range(args.changes):
            name = f"c{i}.{ORIGIN}"
            body = ('{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"%s",'
                    '"Type":"A","TTL":60,"ResourceRecords":[{"Value":"%s"}]}}]}'
                    % (name, change_ip(i)))
            t0 = time.perf_counter()
            err, cid, st = parse_change(conn.call(req_change_batch(ORIGIN, body)), 16)
            if err:
                raise RuntimeError(err)
            deadline = t0 + 60
            while st != INSYNC:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"change {cid} not INSYNC within 60 s")
                time.sleep(POLL_S)
                err, _, st = parse_change(conn.call(req_get_change(cid)), 17)
                if err and err.startswith("NoSuchChange"):
                    # leadership moved to a node that has not applied the
                    # change yet (get-change reads there): ask again
                    unknown += 1
                    st = None
                elif err:
                    raise RuntimeError(err)
            insync.append(time.perf_counter() - t0)
            wait_answers(targets, name, 60)
            served.append(time.perf_counter() - t0)
        conn.sock.close()
        if perf:
            perf.send_signal(2)
            perf.wait(60)
            perf = None
        mem_after = [rss_bytes(n.proc.pid) for n in nodes]
        leader_after = c.wait_leader(timeout=30)
        ver = servers.Q53d(work, ORIGIN, zonefile, binary=os.environ["Q53D"]).version()
        return {"server": "q53d", "version": ver, "records": records, "load": load,
                "mem": list(zip(mem_load, mem_after)), "change": summary(served),
                "insync": summary(insync), "leader": leader.id, "load3": load3,
                "slowest": sorted(range(len(insync)), key=lambda k: -insync[k])[:3],
                "slowest_ms": sorted((x * 1000 for x in insync), reverse=True)[:3],
                "leader_after": leader_after.id, "unknown": unknown}
    finally:
        if perf and perf.poll() is None:
            perf.kill()
            perf.wait(10)
        bad = c.stop_all()
        if bad:
            print(f"warning: unclean q53d exits: {list(bad)}", file=sys.stderr)


# --- report -------------------------------------------------------------------


def fmt_mem(r):
    mb = max(after for _, after in r["mem"]) / 1e6
    per = [after / r["records"] for _, after in r["mem"]]
    load_mb = max(before for before, _ in r["mem"]) / 1e6
    return load_mb, mb, max(per)


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def report(rows, args):
    out = []
    sizes = sorted({r["records"] for r in rows})
    out.append("| records | server | load | memory after load | after changes "
               "| bytes/record | change → served p50 | p99 | max | q53d INSYNC p50 / p99 |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for n in sizes:
        for r in [r for r in rows if r["records"] == n]:
            load_mb, mb, per = fmt_mem(r)
            if r["server"] == "q53d":
                mems = "/".join(f"{b / 1e6:.0f}" for b, _ in r["mem"])
                after = "/".join(f"{a / 1e6:.0f}" for _, a in r["mem"])
                mem_txt, after_txt = f"{mems} MB", f"{after} MB"
                ins = f"{r['insync']['p50']:.1f} / {r['insync']['p99']:.1f} ms"
                notes.append(f"{n:,} records: q53d on 3 nodes (node 1 seeded, 2 and 3 joined) "
                             f"served the last name on all three after {r['load3']:.2f} s; "
                             f"leader n{r['leader']} before the changes, n{r['leader_after']} after"
                             + (f"; {r['unknown']} get-change polls answered NoSuchChange "
                                f"(leadership moved to a node that had not applied it yet)"
                                if r['unknown'] else "")
                             + "; slowest changes to INSYNC: "
                             + ", ".join(f"#{k} {ms:.1f} ms"
                                         for k, ms in zip(r["slowest"], r["slowest_ms"]))
                             + ".")
            else:
                mem_txt, after_txt = f"{load_mb:.0f} MB", f"{mb:.0f} MB"
                ins = ""
            ch = r["change"]
            out.append(f"| {n:,} | {r['server']} {r['version']} | {r['load']:.2f} s | {mem_txt} "
                       f"| {after_txt} | {per:.0f} | {ch['p50']:.1f} ms | {ch['p99']:.1f} ms "
                       f"| {ch['max']:.1f} ms | {ins} |")
    out.append("")
    out += notes
    out.append("")
    out.append("q53d / other (lower is better for q53d; memory: the largest node after the changes):")
    out.append("")
    out.append("| records | vs | load | bytes/record | change p50 | change p99 |")
    out.append("|---:|---|---:|---:|---:|---:|")
    for n in sizes:
        q = [r for r in rows if r["records"] == n and r["server"] == "q53d"]
        if not q:
            continue
        q = q[0]
        for o in [r for r in rows if r["records"] == n and r["server"] != "q53d"]:
            out.append(f"| {n:,} | {o['server']} | {ratio(q['load'], o['load'])} "
                       f"| {ratio(fmt_mem(q)[2], fmt_mem(o)[2])} "
                       f"| {ratio(q['change']['p50'], o['change']['p50'])} "
                       f"| {ratio(q['change']['p99'], o['change']['p99'])} |")
    return "\n".join(out)


def machine():
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = ["?"] * 3
    rev = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {rev}"
            f"{' (dirty)' if dirty else ''}, {platform.node()}: {os.cpu_count()} CPUs ({cpu}), "
            f"kernel {platform.release()}, load average at start {' '.join(load)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--q53d", default=os.environ.get("Q53D"))
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--changes", type=int, default=50)
    ap.add_argument("--servers", default="q53d,knot,nsd")
    ap.add_argument("--snapshot-threshold", type=int, default=1024)
    ap.add_argument("--smoke", action="store_true", help="10k records, 5 changes")
    ap.add_argument("--perf", action="store_true", help="perf record the q53d leader during the changes")
    ap.add_argument("--perf-dir", default=".")
    ap.add_argument("--report", help="also write the table to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if args.smoke:
        args.sizes, args.changes = "10000", 5
    if not args.q53d:
        args.q53d = os.path.join(HERE, "..", "..", "build", "release", "q53d")
    os.environ["Q53D"] = os.path.abspath(args.q53d)
    # A change of a large zone blocks the leader's loop for a while today:
    # a long election timeout keeps elections out of the change latencies.
    os.environ.setdefault("Q53_TEST_ELECTION_MS", "10000")
    os.environ.setdefault("Q53_TEST_HEARTBEAT_MS", "200")
    kinds = args.servers.split(",")
    for k in kinds:
        if k not in ("q53d", "knot", "nsd"):
            ap.error(f"unknown server {k}")
    head = machine()
    work = tempfile.mkdtemp(prefix="q53-scale-")
    rows = []
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            sub = os.path.join(work, f"size-{n}")
            os.makedirs(sub)
            zonefile = os.path.join(sub, "zone")
            records, serial_off, last = write_zone(zonefile, n)
            for k in kinds:
                t = time.perf_counter()
                if k == "q53d":
                    r = bench_q53d(sub, zonefile, records, last, args)
                else:
                    r = bench_single(k, sub, zonefile, records, serial_off, last, args)
                rows.append(r)
                print(f"  {n:>9,} {k:<5} load {r['load']:.2f} s, change p50 "
                      f"{r['change']['p50']:.1f} ms p99 {r['change']['p99']:.1f} ms "
                      f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
            if not args.keep:
                shutil.rmtree(sub, ignore_errors=True)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = (f"Control plane at scale: {args.changes} single-record changes per server and size; "
            f"{head}\n\n" + report(rows, args))
    print(text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
