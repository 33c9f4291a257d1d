#!/usr/bin/env python3
"""A quorum53 cluster of q53d processes on this machine (no Docker).

  deploy/local-cluster up [-n N]      start N nodes (default 3); idempotent
  deploy/local-cluster status [--json]
  deploy/local-cluster add            start one more node; it joins
  deploy/local-cluster remove ID      `q53 node remove ID`, then stop it
  deploy/local-cluster pause ID       kill -STOP the node (cut it off)
  deploy/local-cluster resume ID      kill -CONT it (it catches up)
  deploy/local-cluster down [--purge] stop exactly the processes it started
                                      (--purge also deletes their data)
  deploy/local-cluster aws-env        the AWS_* variables for the AWS CLI /
                                      boto3 (this cluster's access key)

Node N listens on 127.0.0.(10+N): DNS :5353 (UDP+TCP), Raft :7053, the NNG
API :8053 (node to node: forwarding, --join), the HTTP API :9053 (the q53 CLI
and Route 53's REST API, SigV4; access key in build/local-cluster/http-keys,
and the same key for q53 --key-file in build/local-cluster/cli-key, both
made on the first `up`), with its data, log and pidfile in
build/local-cluster/nodeN/.
Node 1 bootstraps with the demo zone deploy/demo/example.com.zone; the
others start with --join. `up` after `down` restarts the same cluster from
its data (restart = snapshot + log tail); `up -n 5` on a running 3-node
cluster adds two nodes.

Binaries: $Q53D and $Q53 if set, else build/release/{q53d,q53}, built
(cmake, Release, after deploy/install-deps.sh) when missing.
Environment: Q53_LC_DIR (state dir), Q53_LC_NET (default 127.0.0),
Q53_LC_FIRST (host octet of node 1, default 11), Q53_LC_DNS_PORT,
Q53_LC_RAFT_PORT, Q53_LC_API_PORT, Q53_LC_HTTP_PORT, Q53_LC_WORKERS (default 1),
Q53_LC_ELECTION_MS / Q53_LC_HEARTBEAT_MS (default 1000 / 100),
Q53_LC_INSECURE=1: plain TCP between the nodes (by default a new cluster's
nodes talk mutual TLS: q53d --peer-tls-*, a CA and node certificates made by
deploy/peer-tls-certs.sh in build/local-cluster/tls/; the choice is kept in
build/local-cluster/transport, and a state dir from before it stays plain),
Q53_LC_ANYCAST: q53d --anycast for every node, "{id}" replaced by the node
id (e.g. 10.53.53.{id}/32@lo; adding addresses needs CAP_NET_ADMIN, e.g. run
the whole cluster under `unshare -rn`); each node writes its announcement
to nodeN/anycast, shown by `status` (the QuorumContact column is what the
announcer reads).
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.abspath(os.environ.get("Q53_LC_DIR") or os.path.join(TOP, "build", "local-cluster"))
NET = os.environ.get("Q53_LC_NET", "127.0.0")
FIRST = int(os.environ.get("Q53_LC_FIRST", "11"))
DNS_PORT = int(os.environ.get("Q53_LC_DNS_PORT", "5353"))
RAFT_PORT = int(os.environ.get("Q53_LC_RAFT_PORT", "7053"))
API_PORT = int(os.environ.get("Q53_LC_API_PORT", "8053"))
HTTP_PORT = int(os.environ.get("Q53_LC_HTTP_PORT", "9053"))  # the HTTP API
WORKERS = os.environ.get("Q53_LC_WORKERS", "1")
ELECTION_MS = os.environ.get("Q53_LC_ELECTION_MS", "1000")
HEARTBEAT_MS = os.environ.get("Q53_LC_HEARTBEAT_MS", "100")
ANYCAST = os.environ.get("Q53_LC_ANYCAST", "")
DEMO_ZONE = os.path.join(TOP, "deploy", "demo", "example.com.zone")
ORIGIN = "example.com"
BUILD = os.path.join(TOP, "build", "release")


def http_keys():
    """The cluster's Route 53 API access key (one file, mode 0600, shared by
    every node): made on the first `up`. Returns (path, key id, secret)."""
    path = os.path.join(STATE, "http-keys")
    if not os.path.exists(path):
        os.makedirs(STATE, exist_ok=True)
        akid = "AKIAQ53" + secrets.token_hex(7).upper()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"# Route 53 API access keys: ACCESS_KEY_ID SECRET\n{akid} {secrets.token_hex(20)}\n")
    with open(path) as f:
        akid, secret = [l.split() for l in f if l.strip() and not l.startswith("#")][0]
    return path, akid, secret


def transport():
    """"tls" or "insecure": chosen when the cluster is created (a state dir
    with nodes and no choice predates it: plain, as its nodes' addresses
    are), then kept in STATE/transport."""
    path = os.path.join(STATE, "transport")
    if not os.path.exists(path):
        old = os.path.isdir(STATE) and any(
            d.startswith("node") and os.listdir(os.path.join(STATE, d, "data"))
            for d in os.listdir(STATE) if os.path.isdir(os.path.join(STATE, d, "data")))
        mode = "insecure" if old or os.environ.get("Q53_LC_INSECURE") else "tls"
        os.makedirs(STATE, exist_ok=True)
        with open(path, "w") as f:
            f.write(mode + "\n")
    with open(path) as f:
        return f.read().strip()


def peer_tls_args(nid):
    """q53d's --peer-tls-* for node nid (certificate made on first use)."""
    if transport() != "tls":
        return []
    d = os.path.join(STATE, "tls")
    crt, key = os.path.join(d, f"node-{nid}.pem"), os.path.join(d, f"node-{nid}.key")
    if not os.path.exists(crt):
        subprocess.run(["sh", os.path.join(TOP, "deploy", "peer-tls-certs.sh"), d, str(nid)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["--peer-tls-ca", os.path.join(d, "ca.pem"), "--peer-tls-cert", crt,
            "--peer-tls-key", key]


def cli_key():
    """The same key in the form q53 --key-file reads (DATA/admin-key's):
    STATE/cli-key, mode 0600, made with http-keys. Returns its path."""
    path = os.path.join(STATE, "cli-key")
    if not os.path.exists(path):
        _, akid, secret = http_keys()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# quorum53 local cluster: q53 --key-file (an administrator key)\n"
                    f"AWS_ACCESS_KEY_ID={akid}\nAWS_SECRET_ACCESS_KEY={secret}\n")
    return path


def say(msg):
    print(f"local-cluster: {msg}", flush=True)


def die(msg, code=1):
    print(f"local-cluster: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


# --- binaries ---------------------------------------------------------------

def binaries():
    q53d = os.environ.get("Q53D") or os.path.join(BUILD, "q53d")
    q53 = os.environ.get("Q53") or os.path.join(os.path.dirname(q53d), "q53")
    if os.access(q53d, os.X_OK) and os.access(q53, os.X_OK):
        return q53d, q53
    if os.environ.get("Q53D") or os.environ.get("Q53"):
        die(f"binaries not found: {q53d} / {q53}")
    say("q53d/q53 missing: installing dependencies and building (Release) into build/release")
    subprocess.run(["bash", os.path.join(TOP, "deploy", "install-deps.sh")], check=True)
    subprocess.run(["cmake", "-S", TOP, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j", str(os.cpu_count() or 2),
                    "--target", "q53d", "q53"], check=True, stdout=subprocess.DEVNULL)
    return q53d, q53


# --- node records (one directory per node) -----------------------------------

class Node:
    def __init__(self, nid):
        self.id = nid
        self.dir = os.path.join(STATE, f"node{nid}")
        self.meta_path = os.path.join(self.dir, "node.json")
        meta = {}
        if os.path.exists(self.meta_path):
            with open(self.meta_path) as f:
                meta = json.load(f)
        self.host = meta.get("host", f"{NET}.{FIRST + nid - 1}")
        self.dns = meta.get("dns", f"{self.host}:{DNS_PORT}")
        self.raft = meta.get("raft", f"{self.host}:{RAFT_PORT}")
        self.api = meta.get("api", f"{self.host}:{API_PORT}")
        self.http = meta.get("http", f"{self.host}:{HTTP_PORT}")
        self.removed = meta.get("removed", False)
        self.data = os.path.join(self.dir, "data")
        self.pidfile = os.path.join(self.dir, "q53d.pid")
        self.log = os.path.join(self.dir, "q53d.log")

    def save(self):
        os.makedirs(self.dir, exist_ok=True)
        tmp = self.meta_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"id": self.id, "host": self.host, "dns": self.dns, "raft": self.raft,
                       "api": self.api, "http": self.http, "removed": self.removed},
                      f, indent=1)
        os.replace(tmp, self.meta_path)

    def pid(self):
        """The PID in the pidfile if that process is still our q53d, else None."""
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except (OSError, ValueError):
            return None
        # Guard against a recycled PID: the process must be q53d on our data dir.
        if os.path.basename(cmd[0]) == b"q53d" and self.data.encode() in cmd:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        return None
            except OSError:
                return None
            return pid
        return None

    def paused(self):
        pid = self.pid()
        if pid is None:
            return False
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"

    def start(self, q53d, join=None, seed=False):
        os.makedirs(self.data, exist_ok=True)
        self.save()
        args = [q53d, "--dns", self.dns, "--workers", WORKERS, "--data-dir", self.data,
                "--id", str(self.id), "--raft", self.raft, "--api", self.api,
                "--name", f"node{self.id}", "--election-timeout", ELECTION_MS,
                "--heartbeat", HEARTBEAT_MS,
                "--http", self.http, "--http-keys", http_keys()[0]]
        args += peer_tls_args(self.id)
        fresh = not os.listdir(self.data)
        if fresh and join:
            args += ["--join", join]
        if seed and fresh:
            args += ["--zone", f"{ORIGIN}={DEMO_ZONE}"]  # the bootstrapping node
        if ANYCAST:
            args += ["--anycast", ANYCAST.replace("{id}", str(self.id)),
                     "--anycast-check", ORIGIN,
                     "--anycast-state", os.path.join(self.dir, "anycast")]
        with open(self.log, "ab") as log:
            log.write(f"--- {time.strftime('%F %T')} {' '.join(args)}\n".encode())
            log.flush()
            p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        with open(self.pidfile, "w") as f:
            f.write(f"{p.pid}\n")
        return p.pid

    def stop(self, timeout=15.0):
        pid = self.pid()
        if pid is None:
            self._clear_pidfile()
            return None
        os.kill(pid, signal.SIGCONT)  # a paused node must be able to exit
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() == pid:
            time.sleep(0.05)
        if self.pid() == pid:
            os.kill(pid, signal.SIGKILL)
            while self.pid() == pid:
                time.sleep(0.05)
        self._clear_pidfile()
        return pid

    def _clear_pidfile(self):
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass


def nodes():
    out = []
    if os.path.isdir(STATE):
        for d in os.listdir(STATE):
            if d.startswith("node") and d[4:].isdigit() and \
                    os.path.exists(os.path.join(STATE, d, "node.json")):
                out.append(Node(int(d[4:])))
    return sorted(out, key=lambda n: n.id)


def members():
    return [n for n in nodes() if not n.removed]


# --- talking to the cluster ---------------------------------------------------

def cli(q53bin, api, timeout):
    """q53's command line for the node whose NNG API is api: its HTTP API,
    signed with the cluster's key."""
    http = next((n.http for n in nodes() if n.api == api), api)
    return [q53bin, "--endpoint", f"http://{http}", "--key-file", cli_key(),
            "--timeout", str(timeout)]


def q53(q53bin, api, *args, timeout=3):
    try:
        p = subprocess.run(cli(q53bin, api, timeout) + ["--json", *args],
                           capture_output=True, text=True, timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode != 0:
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def dns_answers(node):
    """True when the node answers the demo zone's SOA (its responder works)."""
    host, port = node.dns.rsplit(":", 1)
    try:
        p = subprocess.run(["dig", "+short", "+time=1", "+tries=1", f"@{host}", "-p", port,
                            ORIGIN, "SOA"], capture_output=True, text=True, timeout=5)
        return p.returncode == 0 and p.stdout.strip() != ""
    except (OSError, subprocess.TimeoutExpired):
        return None  # no dig: do not hold anything up on it


def live_api(q53bin, exclude=()):
    for n in members():
        if n.id in exclude or n.pid() is None or n.paused():
            continue
        st = q53(q53bin, n.api, "status", timeout=2)
        if st and st.get("LeaderId"):
            return n.api
    return None


def node_list(q53bin, exclude=()):
    api = live_api(q53bin, exclude)
    if api is None:
        return None
    r = q53(q53bin, api, "node", "list")
    return r["Nodes"] if r else None


def wait(what, pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = pred()
        if r:
            return r
        time.sleep(0.1)
    die(f"timed out after {timeout:.0f}s waiting for {what} (logs: {STATE}/node*/q53d.log)")


def wait_voters(q53bin, ids, timeout=60.0):
    want = sorted(ids)

    def ok():
        nl = node_list(q53bin)
        if not nl:
            return None
        voters = sorted(n["Id"] for n in nl if n["Role"] == "voter")
        if voters != want or len(nl) != len(want):
            return None
        if not all(n["Reachable"] for n in nl):
            return None
        by_id = {n.id: n for n in nodes()}
        return all(i in by_id and dns_answers(by_id[i]) is not False for i in want)
    wait(f"voters {want} serving DNS", ok, timeout)


# --- commands ------------------------------------------------------------------

def cmd_up(n):
    q53d, q53bin = binaries()
    os.makedirs(STATE, exist_ok=True)
    known = members()
    started = []
    if not known:
        first = Node(1)
        say(f"bootstrapping node 1 on {first.host} with the demo zone {ORIGIN}")
        first.start(q53d, seed=True)
        started.append(1)
        wait("node 1 to lead", lambda: (q53(q53bin, first.api, "status", timeout=1) or {})
             .get("State") == "leader", 30)
        wait(f"node 1 to serve {ORIGIN}", lambda: dns_answers(first) is not False, 30)
        known = [first]
    # Restart members that are not running (after `down` or a reboot).
    for node in known:
        if node.pid() is None:
            node.start(q53d)
            started.append(node.id)
    if len(known) > 1 and started:
        wait("a leader", lambda: live_api(q53bin), 60)
    ids = [m.id for m in known]
    while len(ids) < n:
        nid = next_id()
        join = live_api(q53bin) or wait("a leader", lambda: live_api(q53bin), 60)
        Node(nid).start(q53d, join=join)
        started.append(nid)
        ids.append(nid)
    wait_voters(q53bin, ids)
    if started:
        say(f"started node(s) {', '.join(map(str, started))}")
    else:
        say(f"already up ({len(ids)} nodes); nothing started")
    if len(ids) > n:
        say(f"note: {len(ids)} members (more than -n {n}); use `remove ID` to shrink")
    show_status(q53bin)
    hints()


def next_id():
    used = [m.id for m in nodes()]  # removed ids are not reused
    return max(used, default=0) + 1


def cmd_add():
    q53d, q53bin = binaries()
    if not members():
        die("no cluster: run `deploy/local-cluster up` first")
    join = live_api(q53bin) or die("no live member with a leader to join through")
    nid = next_id()
    node = Node(nid)
    say(f"starting node {nid} on {node.host}, joining through {join}")
    node.start(q53d, join=join)
    wait_voters(q53bin, [m.id for m in members()])
    say(f"node {nid} is a voter and serves DNS on {node.dns}")


def cmd_remove(nid):
    _, q53bin = binaries()
    node = {m.id: m for m in members()}.get(nid)
    if node is None:
        die(f"node {nid} is not a member of this local cluster")
    api = live_api(q53bin, exclude=(nid,)) or live_api(q53bin)
    if api is None:
        die("no live member with a leader to remove it through")
    p = subprocess.run(cli(q53bin, api, 15) + ["node", "remove", str(nid)],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        # The leader removing itself may step down before it answers; q53
        # then retries through another node, which no longer has it.
        out = p.stderr + p.stdout
        nl = node_list(q53bin, exclude=(nid,)) if "NoSuchNode" in out else None
        if nl is None or nid in [x["Id"] for x in nl]:
            die(f"q53 node remove {nid} failed: {p.stderr.strip() or p.stdout.strip()}")
    node.removed = True
    node.save()
    rest = [m.id for m in members()]

    def gone():
        nl = node_list(q53bin, exclude=(nid,))
        return nl is not None and nid not in [x["Id"] for x in nl]
    wait(f"node {nid} to leave the configuration", gone, 60)
    pid = node.stop()
    say(f"removed node {nid} from the cluster and stopped it (pid {pid}); members: {rest}")


def cmd_pause(nid, stop):
    node = {m.id: m for m in members()}.get(nid)
    pid = node.pid() if node else None
    if pid is None:
        die(f"node {nid} is not running")
    os.kill(pid, signal.SIGSTOP if stop else signal.SIGCONT)
    say(f"node {nid} (pid {pid}) {'paused (SIGSTOP)' if stop else 'resumed (SIGCONT)'}")


def cmd_down(purge):
    stopped = []
    for node in nodes():
        pid = node.stop()
        if pid:
            stopped.append(f"node{node.id}={pid}")
    say("stopped " + (", ".join(stopped) if stopped else "nothing (no node running)"))
    if purge and os.path.isdir(STATE):
        import shutil
        shutil.rmtree(STATE)
        say(f"purged {STATE}")


def collect_status(q53bin):
    rows = []
    for node in nodes():
        pid = node.pid()
        st = None
        if pid and not node.paused():
            st = q53(q53bin, node.api, "status", timeout=1)
        try:
            with open(os.path.join(node.dir, "anycast")) as f:
                anycast = f.read().strip()
        except OSError:
            anycast = None
        rows.append({"Id": node.id, "Pid": pid, "Removed": node.removed,
                     "Paused": node.paused(), "Dns": node.dns, "Api": node.api,
                     "Http": node.http,
                     "Raft": node.raft, "Dir": node.dir, "Status": st,
                     "Anycast": anycast})
    return rows


def show_status(q53bin):
    rows = collect_status(q53bin)
    print(f"{'id':>3} {'pid':>8} {'state':<10} {'leader':>6} {'applied':>8} {'quorum':>6}"
          f"  dns / api / http")
    for r in rows:
        st = r["Status"] or {}
        state = ("removed" if r["Removed"] else "stopped" if not r["Pid"]
                 else "paused" if r["Paused"] else st.get("State", "no-answer"))
        quorum = {True: "yes", False: "no"}.get(st.get("QuorumContact"), "-")
        print(f"{r['Id']:>3} {r['Pid'] or '-':>8} {state:<10} {st.get('LeaderId') or '-':>6} "
              f"{st.get('AppliedIndex', '-'):>8} {quorum:>6}  {r['Dns']} / {r['Api']} / {r['Http']}")
        if r["Anycast"]:
            print(f"    anycast: {r['Anycast']}")


def hints():
    live = [m for m in members() if m.pid()]
    if not live:
        return
    a = live[0]
    h, p = a.dns.rsplit(":", 1)
    b = live[1] if len(live) > 1 else a
    me = os.path.relpath(os.path.join(TOP, "deploy", "local-cluster"))
    q53bin = os.path.relpath(binaries()[1])
    print(f"""
Try:
  dig @{h} -p {p} www.example.com
  dig @{b.dns.rsplit(':', 1)[0]} -p {p} anything.apps.example.com
  export Q53_KEY_FILE={os.path.relpath(cli_key())}   # the key q53 signs with
  {q53bin} --endpoint http://{b.http} node list
  {q53bin} --endpoint http://{b.http} records list example.com
  echo '{{"Changes":[{{"Action":"UPSERT","ResourceRecordSet":{{"Name":"hello.example.com","Type":"A","TTL":60,"ResourceRecords":[{{"Value":"192.0.2.99"}}]}}}}]}}' \\
    | {q53bin} --endpoint http://{b.http} change-batch example.com -
  {q53bin} --endpoint http://{b.http} get-change ID --wait
  {me} add | remove ID | pause ID | resume ID | status | down

Route 53's own API (the AWS CLI, boto3, ...) on every node, port {HTTP_PORT}:
  {me} aws-env        # prints the AWS_* variables of this cluster's access key
  aws --endpoint-url http://{b.host}:{HTTP_PORT} route53 list-hosted-zones""")


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "up":
        n = 3
        if rest[:1] == ["-n"] and len(rest) == 2 and rest[1].isdigit() and int(rest[1]) >= 1:
            n = int(rest[1])
        elif rest:
            die("usage: local-cluster up [-n N]", 2)
        cmd_up(n)
    elif cmd == "aws-env":
        _, akid, secret = http_keys()
        print(f"export AWS_ACCESS_KEY_ID={akid}\nexport AWS_SECRET_ACCESS_KEY={secret}\n"
              f"export AWS_DEFAULT_REGION=us-east-1\n"
              f"export AWS_ENDPOINT_URL_ROUTE_53=http://{NET}.{FIRST}:{HTTP_PORT}")
    elif cmd == "status":
        _, q53bin = binaries()
        if rest == ["--json"]:
            print(json.dumps(collect_status(q53bin), indent=1))
        else:
            if not nodes():
                say("no cluster (run `deploy/local-cluster up`)")
                return 0
            show_status(q53bin)
    elif cmd == "add" and not rest:
        cmd_add()
    elif cmd in ("remove", "pause", "resume") and len(rest) == 1 and rest[0].isdigit():
        if cmd == "remove":
            cmd_remove(int(rest[0]))
        else:
            cmd_pause(int(rest[0]), cmd == "pause")
    elif cmd == "down" and rest in ([], ["--purge"]):
        cmd_down(bool(rest))
    else:
        die(f"unknown command: {' '.join(argv)} (see --help)", 2)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    sys.exit(main(sys.argv[1:]))
