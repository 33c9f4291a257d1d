"""The four servers under test: q53d, NSD, Knot, gdnsd.

Each runs in the foreground with one UDP worker/thread (and one TCP worker
where the server has a separate one), on loopback and a free port, with its own
throwaway directory. A server is started with an optional command prefix
(valgrind, taskset), polled until it answers the zone's SOA authoritatively,
and stopped by its PID (SIGTERM, then SIGKILL of the PIDs it owns).
"""
import os
import shutil
import signal
import string
import subprocess
import time

import dnsmini

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "conf")


def _render(template, dest, **kw):
    with open(os.path.join(CONF, template)) as f:
        text = string.Template(f.read()).substitute(**kw)
    with open(dest, "w") as f:
        f.write(text)
    return dest


def children_of(pid):
    """All descendant PIDs of pid (from /proc; best effort)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


class Server:
    name = "?"
    binary = None

    def __init__(self, workdir, origin, zonefile, addr="127.0.0.1"):
        self.origin = origin if origin.endswith(".") else origin + "."
        self.zonefile = os.path.abspath(zonefile)
        self.addr = addr
        self.workdir = workdir
        self.proc = None
        self.port = None
        self.dir = None
        self.runs = 0

    def available(self):
        return self.binary is not None and os.access(self.binary, os.X_OK)

    def version(self):
        return ""

    # per-server: write config into self.dir, return argv
    def argv(self):
        raise NotImplementedError

    def start(self, prefix=(), timeout=20.0):
        self.runs += 1
        self.dir = os.path.join(self.workdir, f"{self.name}-{self.runs}")
        os.makedirs(self.dir)
        self.port = dnsmini.free_port(self.addr)
        argv = list(prefix) + self.argv()
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.output()[-2000:]}")
            try:
                r = dnsmini.query(self.addr, self.port, self.origin, "SOA", timeout=0.5)
                if r["rcode"] == 0 and r["aa"] and r["answer"]:
                    return
                last = f"rcode {r['rcode']}"
            except OSError as e:
                last = e
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not answering within {timeout}s ({last}): {self.output()[-2000:]}")

    def pids(self):
        """The main PID and every process it forked (NSD forks)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid] + children_of(self.proc.pid)

    def stop(self, timeout=20.0):
        if self.proc is None:
            return None
        owned = self.pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                for p in owned:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.wait(10)
        # forked children (NSD) exit on their own after the parent; wait for them
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and _alive(p) for p in owned):
            time.sleep(0.05)
        for p in owned:
            if _alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.log.close()
        rc, self.proc = self.proc.returncode, None
        return rc

    def output(self):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return s[s.rindex(")") + 2] != "Z"
    except OSError:
        return False


class Q53d(Server):
    name = "q53d"

    def __init__(self, *a, binary=None, **kw):
        super().__init__(*a, **kw)
        self.binary = binary

    def version(self):
        try:
            out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, timeout=10)
            return out.stdout.strip().split()[-1]
        except (OSError, IndexError, subprocess.SubprocessError):
            return ""

    def argv(self):
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        # Q53D_EXTRA_ARGS: more q53d options, e.g. "--rrl-rate 0 --no-dns-stats"
        # to see what rate limiting and counting cost on the query path.
        return [self.binary, "--dns", f"{host}:{self.port}",
                "--zone", f"{self.origin}={self.zonefile}", "--workers", "1"] + \
            os.environ.get("Q53D_EXTRA_ARGS", "").split()


class Nsd(Server):
    name = "nsd"
    binary = shutil.which("nsd") or "/usr/sbin/nsd"

    def version(self):
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        return (out.stdout + out.stderr).splitlines()[0].replace("NSD version ", "")

    def argv(self):
        conf = _render("nsd.conf.in", os.path.join(self.dir, "nsd.conf"), addr=self.addr,
                       port=self.port, dir=self.dir, origin=self.origin, zonefile=self.zonefile)
        return [self.binary, "-d", "-c", conf]


class Knot(Server):
    name = "knot"
    binary = shutil.which("knotd") or "/usr/sbin/knotd"

    def version(self):
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return out.stdout.strip().split()[-1]

    def argv(self):
        conf = _render("knot.conf.in", os.path.join(self.dir, "knot.conf"), addr=self.addr,
                       port=self.port, dir=self.dir, origin=self.origin, zonefile=self.zonefile)
        return [self.binary, "-c", conf]


class Gdnsd(Server):
    name = "gdnsd"
    binary = shutil.which("gdnsd") or "/usr/sbin/gdnsd"

    def version(self):
        out = subprocess.run([self.binary, "-h"], capture_output=True, text=True)
        for line in (out.stdout + out.stderr).splitlines():
            if line.startswith("gdnsd version"):
                return line.split()[-1]
        return ""

    def argv(self):
        cfg = os.path.join(self.dir, "etc")
        for sub in ("zones", "run", "state"):
            os.makedirs(os.path.join(cfg if sub == "zones" else self.dir, sub), exist_ok=True)
        shutil.copyfile(self.zonefile, os.path.join(cfg, "zones", self.origin.rstrip(".")))
        _render("gdnsd.config.in", os.path.join(cfg, "config"), addr=self.addr,
                port=self.port, dir=self.dir)
        return [self.binary, "-c", cfg, "start"]


ALL = {"q53d": Q53d, "nsd": Nsd, "knot": Knot, "gdnsd": Gdnsd}
