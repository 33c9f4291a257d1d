#!/usr/bin/env python3
"""Benchmark q53d against NSD, Knot and gdnsd on one zone and one query mix.

For each server (one UDP worker):
  Ir/q     user-space instructions per query under callgrind: three runs of
           the same length (0, N and 2N queries at a modest fixed rate);
           (Ir[2N] - Ir[0]) / 2N, all threads and forked processes summed.
  sys/q    system calls per query (perf syscall tracepoints, or strace -c),
           a full-speed run of M queries minus an idle window as long.
  CPU-us/q server utime+stime (/proc/PID/stat) per query, server pinned to
           CPU 0 and dnsperf to CPU 1, full-speed UDP, median of R runs;
  UDP q/s  what dnsperf reports in that setting (median);
  TCP q/s  dnsperf -m tcp -c 10 -q 100, same pinning (median).
See docs/BENCHMARKS.md. Entry point: tests/bench/run.sh.
"""
import argparse
import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import dnsmini  # noqa: E402
import gen_zone  # noqa: E402
import servers  # noqa: E402

ORIGIN = "bench.example."
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, CLIENT_CPU = "0", "1"
EDNS = True  # dnsperf -e (EDNS0 OPT in every query); --no-edns clears it
# Reference figures measured earlier on this machine (see docs/BENCHMARKS.md).
GOALS = {"ir": 1500, "sys": 0.5}
SYSCALLS = ("recvmmsg sendmmsg recvmsg sendmsg recvfrom sendto read write readv writev "
            "epoll_wait epoll_pwait poll ppoll select pselect6 futex accept accept4 close "
            "shutdown setsockopt getsockopt fcntl ioctl epoll_ctl nanosleep clock_nanosleep "
            "io_uring_enter").split()


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- dnsperf

def dnsperf(srv, qfile, nruns, *, mode="udp", rate=None, clients=1, outstanding=100,
            limit=120, edns=None, cpu=CLIENT_CPU, timeout=2, extra=()):
    """Run dnsperf over qfile nruns times (bounded by count and time);
    extra: more dnsperf arguments (e.g. -E 8:<hex>, an EDNS option)."""
    argv = ["taskset", "-c", cpu, "dnsperf", "-s", srv.addr, "-p", str(srv.port), "-d", qfile,
            "-n", str(nruns), "-l", str(limit), "-m", mode, "-c", str(clients), "-T", "1",
            "-q", str(outstanding), "-t", str(timeout)]
    if rate:
        argv += ["-Q", str(rate)]
    if EDNS if edns is None else edns:
        argv += ["-e"]
    argv += list(extra)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=limit + 60)
    text = out.stdout + out.stderr
    res = {"text": text}
    for key, pat in (("sent", r"Queries sent:\s+(\d+)"), ("completed", r"Queries completed:\s+(\d+)"),
                     ("lost", r"Queries lost:\s+(\d+)"), ("qps", r"Queries per second:\s+([\d.]+)"),
                     ("resp_size", r"response (\d+)"), ("elapsed", r"Run time \(s\):\s+([\d.]+)")):
        m = re.search(pat, text)
        res[key] = float(m.group(1)) if m else None
    m = re.search(r"Response codes:\s+(.*)", text)
    res["rcodes"] = m.group(1).strip() if m else ""
    if out.returncode != 0 or res["completed"] is None:
        raise RuntimeError(f"dnsperf failed ({out.returncode}): {text[-1500:]}")
    return res


# ---------------------------------------------------------------- callgrind

def callgrind_totals(path):
    total = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:") or (total is None and line.startswith("summary:")):
                total = int(line.split()[1])
    return total or 0


def callgrind_functions(paths):
    """Exclusive Ir per function, summed over files (callgrind_annotate)."""
    funcs = {}
    for p in paths:
        out = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", p],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)(?:\s+\[[^\]]*\])?\s*$", line)
            if not m or ":" not in m.group(2):
                continue
            ir = int(m.group(1).replace(",", ""))
            fn = m.group(2)
            if fn.startswith("PROGRAM TOTALS"):
                continue
            funcs[fn] = funcs.get(fn, 0) + ir
    return funcs


def query_file(qfile, count):
    """qfile repeated/truncated to exactly count lines (dnsperf -n 1 sends it once)."""
    path = f"{qfile}.{count}"
    if not os.path.exists(path):
        lines = open(qfile).readlines()
        with open(path, "w") as f:
            f.writelines(lines[i % len(lines)] for i in range(count))
    return path


def run_callgrind(srv, qfile, counts, rate, workdir, keep_profile=False, extra=()):
    """One server start per count; fixed window after readiness. -> {count: Ir}."""
    window = max(counts) / rate + 4
    result, files = {}, {}
    for count in counts:
        out = os.path.join(workdir, f"cg-{srv.name}-{count}")
        os.makedirs(out)
        prefix = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--collect-atstart=yes",
                  f"--callgrind-out-file={out}/callgrind.out.%p", f"--log-file={out}/valgrind.%p.log"]
        t0 = time.monotonic()
        srv.start(prefix=prefix, timeout=300)
        ready = time.monotonic()
        time.sleep(1)
        sent = 0
        if count:
            r = dnsperf(srv, query_file(qfile, count), 1, rate=rate, outstanding=20,
                        limit=int(window) + 30, timeout=10, extra=extra)
            sent = int(r["sent"])
            if r["lost"]:
                log(f"  {srv.name}: {int(r['lost'])} of {sent} queries lost under callgrind")
        rest = ready + 1 + window - time.monotonic()
        if rest > 0:
            time.sleep(rest)
        srv.stop(timeout=180)
        paths = [os.path.join(out, f) for f in os.listdir(out) if f.startswith("callgrind.out.")]
        ir = sum(callgrind_totals(p) for p in paths)
        if not paths or not ir:
            raise RuntimeError(f"{srv.name}: no callgrind output in {out}: {os.listdir(out)}")
        result[count] = (ir, sent or count)
        files[count] = paths
        log(f"  {srv.name} callgrind {count:>6} queries: Ir {ir:,} in {len(paths)} file(s), "
            f"{time.monotonic() - t0:.0f}s")
    return result, files


# ---------------------------------------------------------------- syscalls

def _perf_events():
    base = "/sys/kernel/tracing/events/syscalls"
    if not os.path.isdir(base):
        base = "/sys/kernel/debug/tracing/events/syscalls"
    ev = ["raw_syscalls:sys_enter"]
    ev += [f"syscalls:sys_enter_{s}" for s in SYSCALLS if os.path.isdir(f"{base}/sys_enter_{s}")]
    return ev


def count_syscalls(pids, action, duration_hint=None):
    """Count system calls of pids while action() runs. -> (total, {name: n}, seconds)."""
    if shutil.which("perf"):
        ev = _perf_events()
        with tempfile.NamedTemporaryFile("r", suffix=".perf") as o:
            p = subprocess.Popen(["perf", "stat", "-x", ";", "-o", o.name, "-e", ",".join(ev),
                                  "-p", ",".join(map(str, pids))],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            t0 = time.monotonic()
            if p.poll() is None:
                action()
                dt = time.monotonic() - t0
                p.send_signal(signal.SIGINT)
                p.wait(30)
                counts = {}
                for line in open(o.name):
                    f = line.strip().split(";")
                    if len(f) > 3 and f[0].replace(".", "").isdigit():
                        counts[f[2]] = int(float(f[0]))
                    elif len(f) > 3 and f[0] == "<not counted>":  # never ran in the window
                        counts[f[2]] = 0
                if "raw_syscalls:sys_enter" in counts:
                    total = counts.pop("raw_syscalls:sys_enter")
                    by = {k.replace("syscalls:sys_enter_", ""): v for k, v in counts.items() if v}
                    return total, by, dt
            log(f"  perf stat unusable ({p.stderr.read().decode()[-300:]}); falling back to strace")
    if not shutil.which("strace"):
        return None
    # strace -c fallback (slower: it stops the server at every system call)
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as o:
        argv = ["strace", "-f", "-c", "-o", o.name]
        for pid in pids:
            argv += ["-p", str(pid)]
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        t0 = time.monotonic()
        action()
        dt = time.monotonic() - t0
        p.send_signal(signal.SIGINT)
        p.wait(30)
        by, total = {}, 0
        for line in open(o.name):
            f = line.split()
            if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
                calls = int(f[3])
                by[f[-1]] = calls
            elif f and f[-1] == "total":
                total = int(f[3])
        return total, by, dt


# ---------------------------------------------------------------- CPU time

def cpu_ns(pids):
    """On-CPU time of every thread of pids, ns (schedstat sum_exec_runtime:
    what utime+stime are sampled from, without the 1/CLK_TCK granularity)."""
    t = 0
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    t += int(f.read().split()[0])
            except OSError:
                pass
    return t


def cpu_ticks(pids):
    t = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        t += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return t


def pin(pids, cpu):
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", cpu, str(pid)], check=True,
                       stdout=subprocess.DEVNULL)
    bad = []
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                allowed = re.search(r"Cpus_allowed_list:\s*(\S+)", f.read()).group(1)
            if allowed != cpu:
                bad.append((tid, allowed))
    if bad:
        log(f"  warning: threads not pinned to CPU {cpu}: {bad}")


# ---------------------------------------------------------------- sanity

def answers(srv, sample):
    out = []
    for name, qtype in sample:
        try:
            r = dnsmini.query(srv.addr, srv.port, name, qtype, timeout=1.0)
            out.append((r["rcode"], r["aa"], tuple(sorted(r["answer"]))))
        except OSError:
            out.append(("timeout",))
    return out


# ---------------------------------------------------------------- per server

def measure(srv, qfile, a, workdir, sample):
    res = {"name": srv.name, "version": srv.version()}
    nq = sum(1 for _ in open(qfile))

    if a.callgrind_queries:
        counts = [0, a.callgrind_queries // 2, a.callgrind_queries] if a.callgrind_mid else [0, a.callgrind_queries]
        cg, files = run_callgrind(srv, qfile, counts, a.callgrind_rate, workdir)
        ir0 = cg[0][0]
        top = max(counts)
        res["ir"] = (cg[top][0] - ir0) / cg[top][1]
        if a.callgrind_mid:
            mid = counts[1]
            res["ir_mid"] = (cg[mid][0] - ir0) / cg[mid][1]
        res["ir_idle"] = ir0
        if srv.name == "q53d" or a.profile_all:
            f_top, f_idle = callgrind_functions(files[top]), callgrind_functions(files[0])
            diff = {k: (v - f_idle.get(k, 0)) / cg[top][1] for k, v in f_top.items()}
            res["profile"] = sorted(((v, k) for k, v in diff.items() if v > 0), reverse=True)[:a.profile_top]

    # pinned, full-speed runs: syscalls, CPU time, UDP and TCP throughput
    srv.start(prefix=["taskset", "-c", SERVER_CPU])
    try:
        pids = srv.pids()
        pin(pids, SERVER_CPU)
        res["check"] = answers(srv, sample)
        runs = max(1, a.udp_queries // nq)
        dnsperf(srv, qfile, 1)  # warm-up
        box = {}

        def load():
            box["r"] = dnsperf(srv, qfile, runs)

        counted = count_syscalls(pids, load)
        if counted is None:
            log("  neither perf nor strace: no syscall counts")
        else:
            total, by, dt = counted
            idle_total, idle_by, _ = count_syscalls(pids, lambda: time.sleep(dt))
            done = box["r"]["completed"]
            res["sys"] = (total - idle_total) / done
            res["sys_by"] = sorted(((v - idle_by.get(k, 0)) / done, k) for k, v in by.items())[::-1][:6]
            res["sys_idle_per_s"] = idle_total / dt

        cpu, ticks, qps, lost = [], [], [], []
        for _ in range(a.repeat):
            t0, n0 = cpu_ticks(pids), cpu_ns(pids)
            r = dnsperf(srv, qfile, runs)
            t1, n1 = cpu_ticks(pids), cpu_ns(pids)
            ticks.append((t1 - t0) * 1e6 / CLK_TCK / r["completed"])
            cpu.append((n1 - n0) / 1e3 / r["completed"] if n1 > n0 else ticks[-1])
            qps.append(r["qps"])
            lost.append(r["lost"] / r["sent"])
            res["resp_size"] = r["resp_size"]
            res["rcodes"] = r["rcodes"]
        res["cpu_us"] = statistics.median(cpu)
        res["udp_qps"] = statistics.median(qps)
        res["udp_lost"] = max(lost)
        res["cpu_runs"] = cpu
        res["cpu_ticks_runs"] = ticks

        tcp = []
        truns = max(1, a.tcp_queries // nq)
        for _ in range(a.repeat):
            r = dnsperf(srv, qfile, truns, mode="tcp", clients=10, outstanding=100)
            tcp.append(r["qps"])
            if r["lost"]:
                log(f"  {srv.name}: {int(r['lost'])} TCP queries lost")
        res["tcp_qps"] = statistics.median(tcp)
    finally:
        rc = srv.stop()
    res["rc"] = rc
    log(f"  {srv.name}: " + ", ".join(f"{k}={res[k]:.3g}" for k in
                                      ("ir", "sys", "cpu_us", "udp_qps", "tcp_qps") if k in res))
    return res


# ---------------------------------------------------------------- report

def fmt(v, kind):
    if v is None:
        return "–"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "2":
        return f"{v:.2f}"
    if kind == "1":
        return f"{v:.1f}"
    return str(v)


def report(results, a, started, elapsed):
    L = []
    L.append(f"Date: {started:%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores "
             f"({_cpu_model()}), shared with other work; run: {'smoke' if a.smoke else 'full'}, "
             f"{elapsed / 60:.1f} min. Zone: {a.names:,} names; query mix: {a.queries:,} lines"
             f"{', EDNS0' if a.edns else ''}.")
    L.append("")
    L.append("| server | version | Ir/query (callgrind) | syscalls/query | CPU-µs/query | UDP q/s (pinned) | TCP q/s (10 conns) | resp bytes |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        L.append(f"| {r['name']} | {r.get('version', '')} | {fmt(r.get('ir'), 'int')} | {fmt(r.get('sys'), '2')} | "
                 f"{fmt(r.get('cpu_us'), '2')} | {fmt(r.get('udp_qps'), 'int')} | {fmt(r.get('tcp_qps'), 'int')} | "
                 f"{fmt(r.get('resp_size'), 'int')} |")
    by = {r["name"]: r for r in results}
    q = by.get("q53d")
    if q and len(results) > 1:
        L.append("")
        L.append("q53d ÷ reference (Ir, syscalls, CPU: lower is better; q/s: higher is better):")
        L.append("")
        L.append("| ratio | Ir/query | syscalls/query | CPU-µs/query | UDP q/s | TCP q/s |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for r in results:
            if r["name"] == "q53d":
                continue
            cells = []
            for k in ("ir", "sys", "cpu_us", "udp_qps", "tcp_qps"):
                cells.append(f"{q[k] / r[k]:.2f}" if q.get(k) is not None and r.get(k) else "–")
            L.append(f"| q53d/{r['name']} | " + " | ".join(cells) + " |")
        L.append("")
        goals = []
        if q.get("ir") is not None:
            goals.append(f"Ir/query ≤ {GOALS['ir']}: {'met' if q['ir'] <= GOALS['ir'] else 'MISSED'} ({q['ir']:,.0f})")
        if q.get("sys") is not None:
            goals.append(f"syscalls/query ≤ {GOALS['sys']}: {'met' if q['sys'] <= GOALS['sys'] else 'MISSED'} ({q['sys']:.2f})")
        if "gdnsd" in by and by["gdnsd"].get("cpu_us") and q.get("cpu_us") is not None:
            g = by["gdnsd"]["cpu_us"]
            goals.append(f"CPU-µs/query ≤ gdnsd's: {'met' if q['cpu_us'] <= g else 'MISSED'} ({q['cpu_us']:.2f} vs {g:.2f})")
        if "knot" in by and by["knot"].get("tcp_qps") and q.get("tcp_qps") is not None:
            k = by["knot"]["tcp_qps"]
            goals.append(f"TCP q/s ≥ Knot's: {'met' if q['tcp_qps'] >= k else 'MISSED'} ({q['tcp_qps']:,.0f} vs {k:,.0f})")
        L.append("Goals: " + "; ".join(goals) + ".")
    L.append("")
    L.append("Details:")
    L.append("")
    for r in results:
        bits = []
        if "ir_mid" in r:
            bits.append(f"Ir/query from the half-count run {r['ir_mid']:,.0f} (linearity check)")
        if "ir_idle" in r:
            bits.append(f"idle run Ir {r['ir_idle']:,}")
        if "sys_by" in r:
            bits.append("syscalls/query by call: " + ", ".join(f"{k} {v:.2f}" for v, k in r["sys_by"] if v >= 0.005)
                        + f" (idle {r['sys_idle_per_s']:.1f}/s)")
        if "cpu_runs" in r:
            bits.append("CPU-µs/query runs " + "/".join(f"{c:.2f}" for c in r["cpu_runs"])
                        + " (utime+stime: " + "/".join(f"{c:.2f}" for c in r["cpu_ticks_runs"]) + ")"
                        + f", max UDP loss {100 * r['udp_lost']:.2f}%")
        if r.get("rcodes"):
            bits.append(f"rcodes {r['rcodes']}")
        chase = [m for m in r.get("mismatch", []) if m[1][:2] == m[2][:2] and m[2][2] == ("CNAME",)
                 and "CNAME" in m[1][2]]
        if chase:
            bits.append(f"does not follow in-zone CNAMEs ({len(chase)} of {a.sample} sample queries answer "
                        f"with the CNAME only, {r['mismatch_ref']} adds the target's records)")
            r["mismatch"] = [m for m in r["mismatch"] if m not in chase]
        if r.get("mismatch"):
            bits.append(f"**answers differ from {r['mismatch_ref']} on {len(r['mismatch'])} of {a.sample} sample queries**, e.g. {r['mismatch'][:3]}")
        if r.get("rc") not in (0, None, -15):
            bits.append(f"exit status {r['rc']}")
        L.append(f"- {r['name']}: " + "; ".join(bits))
    if q and q.get("profile"):
        L.append("")
        L.append(f"Where the time goes in q53d (callgrind, exclusive Ir per query by function, "
                 f"{max(1, a.callgrind_queries):,}-query run minus the idle run):")
        L.append("")
        L.append("| Ir/query | share | function |")
        L.append("|---:|---:|---|")
        for v, k in q["profile"]:
            L.append(f"| {v:,.0f} | {100 * v / q['ir']:.1f}% | `{k.replace('???:', '')}` |")
    return "\n".join(L) + "\n"


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def main():
    ap = argparse.ArgumentParser(description="q53d vs NSD/Knot/gdnsd benchmark")
    ap.add_argument("--smoke", action="store_true", help="tiny run: q53d + gdnsd, 500 queries, < 60 s")
    ap.add_argument("--servers", help="comma list from q53d,nsd,knot,gdnsd")
    ap.add_argument("--q53d", default=os.environ.get("Q53D") or os.path.join(ROOT, "build", "release", "q53d"))
    ap.add_argument("--names", type=int, default=10000)
    ap.add_argument("--queries", type=int, default=10000, help="lines in the query file")
    ap.add_argument("--callgrind-queries", type=int, default=20000, help="0 disables callgrind")
    ap.add_argument("--callgrind-rate", type=int, default=1000, help="queries/s under callgrind")
    ap.add_argument("--udp-queries", type=int, default=300000)
    ap.add_argument("--tcp-queries", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=int, default=200, help="queries compared across servers")
    ap.add_argument("--profile-all", action="store_true", help="function profile for every server")
    ap.add_argument("--profile-top", type=int, default=15)
    ap.add_argument("--no-edns", dest="edns", action="store_false")
    ap.add_argument("--report", help="also write the markdown report to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    a.callgrind_mid = True
    global EDNS
    EDNS = a.edns
    if a.smoke:
        a.names, a.queries = 2000, 500
        a.callgrind_queries, a.callgrind_rate, a.callgrind_mid = 500, 250, False
        a.udp_queries, a.tcp_queries, a.repeat, a.sample = 20000, 10000, 1, 50
        a.servers = a.servers or "q53d,gdnsd"
    names = (a.servers or "q53d,nsd,knot,gdnsd").split(",")
    for n in names:
        if n not in servers.ALL:
            ap.error(f"unknown server {n}")
    for tool in ("dnsperf", "taskset") + (("valgrind", "callgrind_annotate") if a.callgrind_queries else ()):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found")

    started = datetime.datetime.utcnow()
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="q53bench-")
    results, failed = [], []
    current = None
    try:
        zdir = os.path.join(workdir, "data")
        os.makedirs(zdir)
        origin, zone, queries = gen_zone.gen(ORIGIN, a.names, a.queries)
        zonefile = os.path.join(zdir, origin.rstrip(".") + ".zone")
        qfile = os.path.join(zdir, "queries.txt")
        open(zonefile, "w").write(zone)
        open(qfile, "w").write(queries)
        qlines = [l.split() for l in queries.splitlines()]
        sample = qlines[:a.sample]
        for n in names:
            cls = servers.ALL[n]
            srv = cls(workdir, origin, zonefile, binary=a.q53d) if n == "q53d" else cls(workdir, origin, zonefile)
            if not srv.available():
                log(f"bench: {n}: binary {srv.binary} not found, skipped")
                failed.append(n)
                continue
            log(f"bench: {n}")
            current = srv
            try:
                r = measure(srv, qfile, a, workdir, sample)
            except Exception as e:  # report and go on with the other servers
                log(f"bench: {n} failed: {e}")
                failed.append(n)
                srv.stop()
                current = None
                continue
            current = None
            results.append(r)
        # answer sanity: every server against Knot (else NSD, ...) on the sample
        by = {r["name"]: r for r in results}
        ref = next((by[n] for n in ("knot", "nsd", "q53d", "gdnsd") if n in by), None)
        for r in results:
            if r is not ref:
                r["mismatch"] = [(" ".join(q), x, y) for q, x, y in zip(sample, ref["check"], r["check"]) if x != y]
                r["mismatch_ref"] = ref["name"]
    finally:
        if current is not None:  # interrupted: stop what we started
            current.stop(timeout=5)
        if a.keep:
            log(f"bench: work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, a, started, time.monotonic() - t0)
    print(text)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text)
    if failed:
        log(f"bench: not measured: {', '.join(failed)}")
    # smoke (CI): every requested server must have been measured
    return 1 if (failed and (a.smoke or not results)) else 0


if __name__ == "__main__":
    sys.exit(main())
