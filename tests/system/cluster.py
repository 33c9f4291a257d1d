"""Start and stop a q53d cluster (real processes) for system tests.

Node i listens on 127.0.0.<i+1> (DNS, Raft, the NNG API and the HTTP API on
free ports) with its own data dir. Node 1 bootstraps; the others start with
--join. Every wait is a poll with a deadline on `q53 status --json` or a DNS
query; processes are stopped (SIGTERM) or killed (SIGKILL) by their PID only.

The CLI talks to a node's HTTP API (--endpoint), signed with the cluster's
administrator key (the bootstrapping node's DATA/admin-key): q53(node.api,
...) takes a node's NNG address (what --join and membership use) or its
HTTP address and finds that node's endpoint.
"""
import json
import os
import signal
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rcode

from q53d import free_port, q53d_binary

# Generous for 5 ASan nodes on 2 shared cores; still sub-second elections.
ELECTION_MS = int(os.environ.get("Q53_TEST_ELECTION_MS", "600"))
HEARTBEAT_MS = int(os.environ.get("Q53_TEST_HEARTBEAT_MS", "60"))


def q53_binary():
    path = os.environ.get("Q53") or os.path.join(os.path.dirname(q53d_binary()), "q53")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"q53 binary not found at {path}: build it or set Q53")
    return path


# Node.api and Node.http -> the Node, for q53() (every Cluster's nodes).
_NODES = {}


def cli_target(api):
    """(endpoint URL, key file or None, CA file or None) for the CLI: api is
    a node's NNG or HTTP address (a known Node), or an endpoint as is."""
    node = _NODES.get(api)
    if node is None:
        return api, None, None
    c = node.cluster
    scheme = "https" if c.http_tls else "http"
    return (f"{scheme}://{node.http}", c.admin_key,
            c.http_tls[0] if c.http_tls else None)


def q53(api, *args, json_out=True, stdin=None, timeout_s=10, proc_timeout=60,
        key_file=None, env=None):
    """Runs the CLI against api (see cli_target), signed with key_file (None:
    the cluster's administrator key); env: extra environment. Returns the
    CompletedProcess."""
    endpoint, admin, ca = cli_target(api)
    if admin and not key_file:
        # A new cluster's key appears once its creation is committed.
        deadline = time.monotonic() + 15
        while not os.path.exists(admin) and time.monotonic() < deadline:
            time.sleep(0.05)
    cmd = [q53_binary(), "--endpoint", endpoint, "--timeout", str(timeout_s)]
    if key_file or admin:
        cmd += ["--key-file", key_file or admin]
    if ca:
        cmd += ["--ca-file", ca]
    if json_out:
        cmd.append("--json")
    cmd += [str(a) for a in args]
    run_env = None
    if env is not None:
        run_env = dict(os.environ)
        run_env.update(env)
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin,
                          timeout=proc_timeout, env=run_env)


class Node:
    def __init__(self, cluster, nid, join=None):
        self.cluster = cluster
        self.id = nid
        self.host = f"127.0.0.{nid}"
        self.dns_port = free_port(self.host)
        self.raft = f"{self.host}:{free_port(self.host)}"
        self.api = f"{self.host}:{free_port(self.host)}"
        # The HTTP API: the CLI's and Route 53's REST API.
        self.http = f"{self.host}:{free_port(self.host)}"
        _NODES[self.api] = self
        _NODES[self.http] = self
        self.dir = os.path.join(cluster.root, f"node{nid}")
        self.join = join
        if not join and cluster.admin_key is None:
            # This node bootstraps: it writes the administrator key.
            cluster.admin_key = os.path.join(self.dir, "admin-key")
        self.proc = None
        self.logs = []

    def args(self):
        a = [q53d_binary(), "--dns", f"{self.host}:{self.dns_port}", "--workers", "1",
             "--data-dir", self.dir, "--id", str(self.id), "--raft", self.raft,
             "--api", self.api, "--name", f"n{self.id}",
             "--election-timeout", str(self.cluster.election_ms or ELECTION_MS),
             "--heartbeat", str(self.cluster.heartbeat_ms or HEARTBEAT_MS),
             "--snapshot-threshold", str(self.cluster.snapshot_threshold),
             "--nameservers", "ns1.q53.test.,ns2.q53.test."]
        if self.join:
            a += ["--join", self.join]
        a += ["--http", self.http]
        if self.cluster.http_keys:
            a += ["--http-keys", self.cluster.http_keys]
        if self.cluster.http_tls:
            a += ["--http-tls-cert", self.cluster.http_tls[0],
                  "--http-tls-key", self.cluster.http_tls[1]]
        if self.cluster.peer_tls:
            d = self.cluster.peer_tls
            a += ["--peer-tls-ca", os.path.join(d, "ca.pem"),
                  "--peer-tls-cert", os.path.join(d, f"node-{self.id}.pem"),
                  "--peer-tls-key", os.path.join(d, f"node-{self.id}.key")]
        for origin, path in self.cluster.seeds:
            a += ["--zone", f"{origin}={path}"]
        a += self.cluster.extra_args
        return a

    def start(self):
        log = tempfile.NamedTemporaryFile(prefix=f"q53d-n{self.id}-", suffix=".log",
                                          delete=False, dir=self.cluster.root)
        self.logs.append(log.name)
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """kill -9 by PID."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=20):
        """SIGTERM by PID; returns the exit code (sanitizer reports make it non-zero)."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                return "timeout"
        return self.proc.returncode if self.proc else 0

    def output(self):
        out = []
        for name in self.logs:
            with open(name, errors="replace") as f:
                out.append(f.read())
        return "\n".join(out)

    def status(self):
        p = q53(self.api, "status", timeout_s=2, proc_timeout=10)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def query(self, qname, rdtype="A", timeout=2.0):
        q = dns.message.make_query(qname, rdtype)
        return dns.query.udp(q, self.host, port=self.dns_port, timeout=timeout)


def answer_key(r):
    """A comparable form of a DNS answer: rcode and sorted answer text."""
    return (dns.rcode.to_text(r.rcode()),
            sorted(rr.to_text() for rr in r.answer))


class Cluster:
    def __init__(self, root, seeds=(), snapshot_threshold=1024, keys=None, tls=None,
                 election_ms=None, heartbeat_ms=None):
        """keys: [(access key id, secret)]: static administrator keys of
        the HTTP API (Node.http: --http-keys) besides the admin key; tls:
        (cert file, key file) to serve it over HTTPS. election_ms / heartbeat_ms: None for
        ELECTION_MS / HEARTBEAT_MS."""
        self.root = root
        self.election_ms = election_ms
        self.heartbeat_ms = heartbeat_ms
        self.http_tls = tls
        self.admin_key = None  # DATA/admin-key of the bootstrapping node
        self.http_keys = None
        if keys:
            self.http_keys = os.path.join(root, "http-keys")
            fd = os.open(self.http_keys, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("# access key id, secret\n")
                for akid, secret in keys:
                    f.write(f"{akid} {secret}\n")
        self.seeds = list(seeds)
        self.extra_args = []  # appended to every node's q53d arguments
        # mutual TLS between members: a directory of
        # deploy/peer-tls-certs.sh (ca.pem, node-ID.pem, node-ID.key)
        self.peer_tls = None
        self.snapshot_threshold = snapshot_threshold
        self.nodes = {}
        self.removed = set()  # ids removed from the cluster (may still run)

    # --- lifecycle ---------------------------------------------------------

    def start(self, n):
        first = self.add_node(1)
        self.wait_leader([first])
        for i in range(2, n + 1):
            self.add_node(i, join=first.api)
        self.wait_members(range(1, n + 1))
        return self

    def add_node(self, nid, join=None):
        node = Node(self, nid, join=join)
        self.nodes[nid] = node
        return node.start()

    def members(self):
        """Running nodes that were not removed from the cluster."""
        return [n for n in list(self.nodes.values())
                if n.alive() and n.id not in self.removed]

    def stop_all(self):
        """SIGTERM every running node; returns {id: exit code} of unclean ones."""
        bad = {}
        for n in list(self.nodes.values()):
            rc = n.stop()
            if rc not in (0, None, -9):
                bad[n.id] = (rc, n.output()[-3000:])
        return bad

    # --- waits (poll with deadline) ----------------------------------------

    def wait_leader(self, nodes=None, timeout=30.0, exclude=()):
        """The leader every given live node agrees on (its Node)."""
        nodes = [n for n in (nodes or self.members()) if n.alive()]
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            sts = [n.status() for n in nodes]
            ids = {s["LeaderId"] for s in sts if s}
            if None not in sts and len(ids) == 1:
                lid = ids.pop()
                if lid in self.nodes and lid not in exclude and self.nodes[lid].alive():
                    return self.nodes[lid]
            last = sts
            time.sleep(0.05)
        # What the nodes said, so that a failure can be read afterwards.
        tails = "\n".join(f"--- node {n.id} ({'alive' if n.alive() else 'exited'}):\n"
                          f"{n.output()[-2000:]}" for n in nodes)
        raise AssertionError(f"no agreed leader within {timeout}s: {last}\n{tails}")

    def wait_members(self, ids, timeout=60.0):
        """Until the voters are exactly ids and each of them serves DNS."""
        want = sorted(ids)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            leader = self.wait_leader(timeout=max(1.0, deadline - time.monotonic()))
            p = q53(leader.api, "node", "list", timeout_s=3)
            if p.returncode == 0:
                nodes = json.loads(p.stdout)["Nodes"]
                voters = sorted(n["Id"] for n in nodes if n["Role"] == "voter")
                reach = all(n["Reachable"] and n["ApiAddress"] for n in nodes)
                if voters == want and reach and len(nodes) == len(want):
                    return nodes
                last = nodes
            time.sleep(0.1)
        raise AssertionError(f"members not {want} within {timeout}s: {last}")

    def wait_insync(self, api, change_id, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            p = q53(api, "get-change", change_id, timeout_s=3)
            if p.returncode == 0:
                st = json.loads(p.stdout)
                if st["ChangeInfo"]["Status"] == "INSYNC":
                    return st
                last = st
            else:
                last = p.stderr
            time.sleep(0.05)
        raise AssertionError(f"change {change_id} not INSYNC within {timeout}s: {last}")

    def wait_identical(self, names, nodes=None, timeout=30.0):
        """Until every node gives the same answers to every (qname, type)."""
        nodes = nodes or self.members()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                keys = [tuple(answer_key(n.query(q, t, timeout=1.0)) for q, t in names)
                        for n in nodes]
            except Exception as e:  # a node not answering yet
                last = e
                time.sleep(0.1)
                continue
            if all(k == keys[0] for k in keys):
                return keys[0]
            last = keys
            time.sleep(0.1)
        raise AssertionError(f"answers differ after {timeout}s: {last}")
