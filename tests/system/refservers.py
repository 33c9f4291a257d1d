"""Reference authoritative servers (Knot DNS, NSD) for differential tests.

Each server runs in the foreground on 127.0.0.1 and a free port, with its own
throwaway directory for configuration, state, pid file and control socket. It
is started by the test, polled until it answers authoritatively for every zone
(poll-with-deadline, no sleeps), and stopped by its PID.

    with KnotServer(zones) as knot:        # zones: [(origin, zonefile)]
        dns.query.udp(q, knot.host, port=knot.port)
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode

from q53d import free_port

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def _origin(o):
    return o if o.endswith(".") else o + "."


def wait_authoritative(host, port, zones, proc, timeout=20.0):
    """Poll until every zone's SOA is answered NOERROR with AA, or fail.
    (A server that is up but still loading answers SERVFAIL or REFUSED.)"""
    deadline = time.monotonic() + timeout
    pending = [_origin(o) for o, _ in zones]
    last = None
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            r = dns.query.udp(dns.message.make_query(pending[0], "SOA"), host, port=port, timeout=0.3)
            if r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and r.answer:
                pending.pop(0)
                continue
            last = f"{pending[0]}: {dns.rcode.to_text(r.rcode())}"
        except Exception as e:  # not listening yet
            last = e
        time.sleep(0.05)
    if pending:
        raise RuntimeError(f"{host}:{port} not authoritative for {pending} within {timeout}s: {last}")


class _RefServer:
    name = "ref"

    def __init__(self, zones, host="127.0.0.1", port=None):
        self.zones = [(_origin(o), os.path.abspath(p)) for o, p in zones]
        self.host = host
        self.port = port or free_port(host)
        self.dir = None
        self.proc = None
        self.logpath = None

    # subclass: write config into self.dir, return argv
    def _prepare(self):
        raise NotImplementedError

    def start(self):
        self.dir = tempfile.mkdtemp(prefix=f"q53-{self.name}-")
        argv = self._prepare()
        self.logpath = os.path.join(self.dir, "stdout.log")
        with open(self.logpath, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        try:
            wait_authoritative(self.host, self.port, self.zones, self.proc)
        except Exception as e:
            out = self.output()
            self.stop()
            raise RuntimeError(f"{self.name} failed to start: {e}\n{out}") from None
        return self

    def output(self):
        try:
            with open(self.logpath, "r", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def stop(self):
        """SIGTERM by PID, wait (bounded), then remove the state directory.
        Returns the exit code."""
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class KnotServer(_RefServer):
    """knotd -c conf, foreground, one UDP and one TCP worker, no control
    socket outside its own directory, never writes the zone files back."""
    name = "knot"

    def _prepare(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"))
        zones = "\n".join(f'  - domain: "{o}"\n    file: "{p}"' for o, p in self.zones)
        conf = f"""\
server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: {self.host}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    # no CH TXT version.server / id.server answers (q53d has none either)
    identity: ""
    version: ""
    nsid: ""
control:
    listen: "{d}/knot.sock"
database:
    storage: "{d}/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: on
zone:
{zones}
"""
        path = os.path.join(d, "knot.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [KNOTD, "-c", path]


class NSDServer(_RefServer):
    """nsd -d -c conf, configured as close to Knot's defaults as NSD allows:
    minimal-responses (no NS in the authority of positive answers), ANY not
    refused, no RRL, no version/identity answers."""
    name = "nsd"

    def _prepare(self):
        d = self.dir
        zones = "\n".join(f'zone:\n    name: "{o}"\n    zonefile: "{p}"\n' for o, p in self.zones)
        conf = f"""\
server:
    ip-address: {self.host}@{self.port}
    port: {self.port}
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{d}"
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    zonelistfile: "{d}/zone.list"
    xfrdir: "{d}"
    database: ""
    logfile: "{d}/nsd.log"
    verbosity: 0
    hide-version: yes
    hide-identity: yes
    minimal-responses: yes
    refuse-any: no
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    zonefiles-write: 0
    reuseport: no
remote-control:
    control-enable: no
{zones}"""
        path = os.path.join(d, "nsd.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [NSD, "-d", "-c", path]

    def output(self):
        out = super().output()
        try:
            with open(os.path.join(self.dir, "nsd.log"), errors="replace") as f:
                out += f.read()
        except (OSError, TypeError):
            pass
        return out
