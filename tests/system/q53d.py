"""Start and stop real q53d processes for system tests.

Every process is started by the test that uses it and stopped by its PID.
Readiness is a poll-with-deadline on a real DNS query, never a sleep.
"""
import os
import random
import signal
import socket
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rcode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZONES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zones")


def q53d_binary():
    path = os.environ.get("Q53D") or os.path.join(ROOT, "build", "asan", "q53d")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"q53d binary not found at {path}: build first (tests/run) or set Q53D")
    return path


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_LOW = _ephemeral_low()
_handed_out = set()
_rng = random.Random(os.getpid() ^ time.monotonic_ns())


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host (best effort), below the
    kernel's ephemeral range: a port the kernel picks for bind(0) can be
    taken by any process's outgoing connection (a dialling peer, curl, a
    resolver) before the server binds it; one below the range is only
    taken by a process that binds it by number. Never the same port twice
    in one test process."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    low, high = 10000, max(10001, min(_EPHEMERAL_LOW, 65536) - 1)
    for _ in range(200):
        port = _rng.randint(low, high)
        if (host, port) in _handed_out:
            continue
        t = socket.socket(fam, socket.SOCK_STREAM)
        u = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            t.bind((host, port))
            u.bind((host, port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        _handed_out.add((host, port))
        return port
    raise RuntimeError("no free port")


def wait_answering(host, port, qname, proc=None, timeout=15.0):
    """Poll until the server at host:port answers qname/SOA, or fail."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            r = dns.query.udp(dns.message.make_query(qname, "SOA"), host, port=port, timeout=0.3)
            if r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.REFUSED):
                return
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.05)
    raise RuntimeError(f"{host}:{port} did not answer {qname} within {timeout}s: {last}")


class Q53d:
    """A running q53d. zones: list of (origin, path)."""

    def __init__(self, zones, host="127.0.0.1", port=None, extra=()):
        self.host = host
        self.port = port or free_port(host)
        self.zones = list(zones)
        hostpart = f"[{host}]" if ":" in host else host
        self.args = [q53d_binary(), "--dns", f"{hostpart}:{self.port}"]
        for origin, path in self.zones:
            self.args += ["--zone", f"{origin}={path}"]
        self.args += list(extra)
        self.log = tempfile.NamedTemporaryFile(prefix="q53d-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_answering(self.host, self.port, self.zones[0][0] if self.zones else ".", self.proc)
        except Exception:
            self.stop()
            out = self.output()
            self.cleanup()
            raise RuntimeError(f"q53d failed to start: {out}")

    def output(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM, wait; returns the exit code (ASan leak reports make it non-zero)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        try:
            os.unlink(self.log.name)
        except OSError:
            pass
