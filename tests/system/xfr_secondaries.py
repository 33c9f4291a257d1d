"""Real secondaries (Knot, NSD, BIND 9) of a zone served by quorum53, for
tests/system/test_transfers.py: each runs in the foreground on its own
loopback address (its transfers and SOA queries leave from it too, so that
quorum53 can tell it from the others), pulls the zone with TSIG from the
given primaries and accepts their NOTIFY; it is stopped by its PID.

    with KnotSecondary("example.test.", primaries, key) as s:
        s.serial()                     # the SOA serial it serves, or None
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from q53d import free_port

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
NAMED = shutil.which("named") or "/usr/sbin/named"


class Key:
    def __init__(self, name, secret, algorithm="hmac-sha256"):
        self.name = name if name.endswith(".") else name + "."
        self.secret = secret
        self.algorithm = algorithm


class _Secondary:
    name = "secondary"

    def __init__(self, zone, primaries, key, source):
        """primaries: [(host, port)] of the quorum53 nodes; source: the
        address its transfers and queries leave from (and, except for
        BIND, that it listens on)."""
        self.zone = zone if zone.endswith(".") else zone + "."
        self.primaries = list(primaries)
        self.key = key
        self.source = source
        self.host = self.listen_host(source)
        self.port = free_port(self.host)

    def listen_host(self, source):
        return source
        self.dir = None
        self.proc = None

    def _prepare(self):
        raise NotImplementedError

    def start(self):
        self.dir = tempfile.mkdtemp(prefix=f"q53-{self.name}-")
        argv = self._prepare()
        self.log = os.path.join(self.dir, "stdout.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        return self

    def output(self):
        out = []
        for f in ("stdout.log", "nsd.log", "named.log"):
            p = os.path.join(self.dir or "", f)
            if os.path.exists(p):
                with open(p, errors="replace") as fh:
                    out.append(fh.read())
        return "\n".join(out)

    def serial(self):
        """The SOA serial it serves, None while it has no zone."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.output()[-2000:]}")
        try:
            r = dns.query.udp(dns.message.make_query(self.zone, "SOA"), self.host,
                              port=self.port, timeout=0.5)
        except Exception:
            return None
        if r.rcode() != dns.rcode.NOERROR:
            return None
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def wait_serial(self, serial, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.serial()
            if last == serial:
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.name} serves serial {last}, not {serial}, "
                             f"after {timeout}s:\n{self.output()[-3000:]}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class KnotSecondary(_Secondary):
    name = "knot"

    def _prepare(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"))
        prim = ", ".join(f"{h}@{p}" for h, p in self.primaries)
        conf = f"""\
server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: {self.host}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{d}/knot.sock"
database:
    storage: "{d}/db"
log:
  - target: stderr
    any: info
key:
  - id: {self.key.name}
    algorithm: {self.key.algorithm}
    secret: {self.key.secret}
remote:
  - id: q53
    address: [{prim}]
    key: {self.key.name}
    via: {self.source}
acl:
  - id: notify
    address: 127.0.0.0/8
    key: {self.key.name}
    action: notify
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
  - domain: "{self.zone}"
    master: q53
    acl: [notify, transfer]
"""
        path = os.path.join(d, "knot.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [KNOTD, "-c", path]


class NSDSecondary(_Secondary):
    name = "nsd"

    def _prepare(self):
        d = self.dir
        reqs = "\n".join(f"    request-xfr: {h}@{p} {self.key.name}" for h, p in self.primaries)
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
    verbosity: 2
    zonefiles-write: 0
    reuseport: no
remote-control:
    control-enable: no
key:
    name: "{self.key.name}"
    algorithm: {self.key.algorithm}
    secret: "{self.key.secret}"
zone:
    name: "{self.zone}"
    zonefile: "{d}/zone.db"
{reqs}
    allow-notify: 127.0.0.0/8 {self.key.name}
    provide-xfr: 127.0.0.0/8 NOKEY
    outgoing-interface: {self.source}
"""
        path = os.path.join(d, "nsd.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [NSD, "-d", "-c", path]


class BindSecondary(_Secondary):
    name = "bind"

    def listen_host(self, source):
        # named listens only on the addresses of interfaces (lo: 127.0.0.1)
        return "127.0.0.1"

    def _prepare(self):
        d = self.dir
        prim = " ".join(f"{h} port {p} key \"{self.key.name}\";" for h, p in self.primaries)
        conf = f"""\
options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {self.port} {{ {self.host}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    allow-transfer {{ 127.0.0.0/8; }};
    notify no;
    transfer-source {self.source};
    notify-source {self.source};
    query-source address {self.source};
    min-refresh-time 1;
    min-retry-time 1;
}};
controls {{ }};
key "{self.key.name}" {{
    algorithm {self.key.algorithm};
    secret "{self.key.secret}";
}};
logging {{
    channel out {{ file "{d}/named.log"; severity info; print-time yes; }};
    category default {{ out; }};
    category xfer-in {{ out; }};
    category notify {{ out; }};
}};
zone "{self.zone}" {{
    type secondary;
    file "{d}/zone.db";
    primaries {{ {prim} }};
    allow-notify {{ 127.0.0.0/8; }};
}};
"""
        path = os.path.join(d, "named.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [NAMED, "-g", "-c", path]


# --- primaries: the current provider a zone is migrated from ---------------

class _Primary(_Secondary):
    """Serves zonefile as primary; AXFR only with the TSIG key."""

    def __init__(self, zone, zonefile, key, source="127.0.0.1"):
        super().__init__(zone, [], key, source)
        self.zonefile = os.path.abspath(zonefile)

    def start(self):
        super().start()
        deadline = time.monotonic() + 20
        while self.serial() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not load the zone:\n{self.output()[-3000:]}")
            time.sleep(0.05)
        return self


class KnotPrimary(_Primary):
    name = "knot-primary"

    def _prepare(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"))
        shutil.copy(self.zonefile, os.path.join(d, "zone.db"))
        conf = f"""\
server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: {self.host}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{d}/knot.sock"
database:
    storage: "{d}/db"
log:
  - target: stderr
    any: info
key:
  - id: {self.key.name}
    algorithm: {self.key.algorithm}
    secret: {self.key.secret}
acl:
  - id: transfer
    address: 127.0.0.0/8
    key: {self.key.name}
    action: transfer
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: "{self.zone}"
    file: "{d}/zone.db"
    acl: transfer
"""
        path = os.path.join(d, "knot.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [KNOTD, "-c", path]


class NSDPrimary(_Primary):
    name = "nsd-primary"

    def _prepare(self):
        d = self.dir
        shutil.copy(self.zonefile, os.path.join(d, "zone.db"))
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
    zonefiles-write: 0
    reuseport: no
remote-control:
    control-enable: no
key:
    name: "{self.key.name}"
    algorithm: {self.key.algorithm}
    secret: "{self.key.secret}"
zone:
    name: "{self.zone}"
    zonefile: "{d}/zone.db"
    provide-xfr: 127.0.0.0/8 {self.key.name}
"""
        path = os.path.join(d, "nsd.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [NSD, "-d", "-c", path]


class BindPrimary(_Primary):
    name = "bind-primary"

    def listen_host(self, source):
        return "127.0.0.1"

    def _prepare(self):
        d = self.dir
        shutil.copy(self.zonefile, os.path.join(d, "zone.db"))
        conf = f"""\
options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {self.port} {{ {self.host}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
}};
controls {{ }};
key "{self.key.name}" {{
    algorithm {self.key.algorithm};
    secret "{self.key.secret}";
}};
zone "{self.zone}" {{
    type primary;
    file "{d}/zone.db";
    check-names ignore;
    allow-transfer {{ key "{self.key.name}"; }};
}};
"""
        path = os.path.join(d, "named.conf")
        with open(path, "w") as f:
            f.write(conf)
        return [NAMED, "-g", "-c", path]
