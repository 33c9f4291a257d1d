"""Issue 11's resource findings with real q53d processes: refused change
batches never reach the Raft log (the commit index of every node moves by
exactly the one valid batch sent after six refused ones), and the HTTP
listener's limits (idle connections closed, a trickled body ended, the
global cap on buffered request bytes and the per-request cap answered
503 / 413 before the body is read) while normal requests are served.

Every wait polls with a deadline; processes are started here and stopped
by PID (cluster.py)."""
import json
import socket
import time

import pytest

from cluster import Cluster, q53
from test_cli import q53d_has_api

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.test"


@pytest.fixture
def make_cluster(tmp_path):
    made = []

    def make(n, extra=(), **kw):
        c = Cluster(str(tmp_path), **kw)
        c.extra_args = list(extra)
        made.append(c)
        return c.start(n)

    yield make
    bad = {}
    for c in made:
        bad.update(c.stop_all())
    assert not bad, f"q53d exited uncleanly: {bad}"


def one(name, rtype, value, ttl=60):
    return json.dumps({"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl,
        "ResourceRecords": [{"Value": value}]}}]})


def submit(api, body):
    return q53(api, "change-batch", ZONE, "-", stdin=body, timeout_s=15,
               proc_timeout=60)


def commit_indexes(c):
    out = {}
    for n in c.members():
        st = n.status()
        assert st is not None, f"node {n.id} gave no status"
        out[n.id] = st["CommitIndex"]
    return out


def wait_indexes(c, want, timeout=20.0):
    """Every node's CommitIndex equal to want[id] (poll with deadline)."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = commit_indexes(c)
        if got == want:
            return got
        time.sleep(0.1)
    return got


def test_refused_batches_never_proposed(make_cluster):
    c = make_cluster(3)
    leader = c.wait_leader()
    p = q53(leader.api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    # Settled: every node at the leader's index.
    before = commit_indexes(c)
    top = max(before.values())
    before = wait_indexes(c, {i: top for i in before})
    assert set(before.values()) == {top}, before

    follower = next(n for n in c.members() if n.id != leader.id)
    # What one valid batch adds to the log (its entry and what follows it,
    # e.g. the change's status), measured first.
    p = submit(follower.api, one("ref." + ZONE, "A", "192.0.2.1"))
    assert p.returncode == 0, p.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mid = commit_indexes(c)
        if len(set(mid.values())) == 1 and max(mid.values()) > top:
            break
        time.sleep(0.1)
    step = max(mid.values()) - top
    top = max(mid.values())
    assert 1 <= step <= 3, (before, mid)
    big_name = "a" * (1 << 20) + "." + ZONE          # 1 MiB Name
    big_doc = json.dumps({"Changes": [json.loads(one("x." + ZONE, "A", "192.0.2.1"))["Changes"][0]],
                          "Comment": "x"}) + " " * (3 << 20)  # 3 MiB document
    refused = [
        (one("*." + ZONE, "NS", "ns.attacker.test"), "RRSet of type NS"),
        (one("caa." + ZONE, "CAA", '0 is-sue "x"'), "InvalidCAATag"),
        (one("txt." + ZONE, "TXT", '"' + "a" * 300 + '"'), "CharacterStringTooLong"),
        (one("a." + ZONE, "A", "192.0.2.300"), "Invalid Resource Record"),
        (one(big_name, "A", "192.0.2.1"), "longer than 1024 characters"),
        (big_doc, "more than the limit"),
    ]
    for api in (leader.api, follower.api):
        for body, needle in refused:
            p = submit(api, body)
            assert p.returncode != 0, f"accepted: {body[:80]}"
            assert needle in p.stderr, p.stderr[:500]
    # One more valid batch: every node's index moves by what one valid
    # batch adds, nothing for the twelve refused ones.
    p = submit(follower.api, one("ok." + ZONE, "A", "192.0.2.1"))
    assert p.returncode == 0, p.stderr
    want = {i: top + step for i in before}
    after = wait_indexes(c, want)
    assert after == want, (mid, after, step)


def http_addr(node):
    host, port = node.http.rsplit(":", 1)
    return host, int(port)


def status_ok(node, timeout=15.0):
    """Polls q53 status over the HTTP API until it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.status() is not None:
            return True
        time.sleep(0.1)
    return False


def post_head(length):
    return (f"POST /q53/api HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/x-protobuf\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def read_answer(s, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def closed_by_server(s, timeout):
    """True when the server closes s within timeout (recv gives EOF or a
    reset)."""
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_http_limits(make_cluster):
    c = make_cluster(1, extra=["--http-max-connections", "24",
                               "--http-idle-timeout", "2",
                               "--http-body-timeout", "4",
                               "--http-max-buffered", "8"])
    node = c.wait_leader()
    addr = http_addr(node)
    socks = []
    try:
        # 1. Past the cap: idle connections (no request) are closed by
        # the idle timeout and normal requests are served again.
        for _ in range(30):
            socks.append(socket.create_connection(addr, timeout=5))
        t0 = time.monotonic()
        assert status_ok(node), "status never answered after idle connections"
        closed = [closed_by_server(s, 6.0) for s in socks]
        assert all(closed), f"{closed.count(False)} idle connections left open"
        assert time.monotonic() - t0 < 15
        for s in socks:
            s.close()
        socks = []

        # 2. Per-request cap: a body over the q53 API's 64 MiB is answered
        # 413 before it is sent.
        s = socket.create_connection(addr, timeout=5)
        socks.append(s)
        s.sendall(post_head(100 << 20))
        ans = read_answer(s)
        assert ans.startswith(b"HTTP/1.1 413"), ans[:200]

        # 3. Global cap (8 MiB): two 3 MiB bodies held open are counted,
        # the third is answered 503 at once, normal requests still served.
        held = []
        for _ in range(2):
            h = socket.create_connection(addr, timeout=5)
            h.sendall(post_head(3 << 20) + b"x" * 1000)
            held.append(h)
            socks.append(h)
        s = socket.create_connection(addr, timeout=5)
        socks.append(s)
        s.sendall(post_head(3 << 20))
        ans = read_answer(s)
        assert ans.startswith(b"HTTP/1.1 503"), ans[:200]
        assert b"buffered" in ans
        assert status_ok(node)

        # 4. A body trickled in (one byte every 0.5 s keeps the idle
        # timer from firing) is ended by the body timeout; meanwhile
        # normal requests are served.
        slow = socket.create_connection(addr, timeout=5)
        socks.append(slow)
        slow.sendall(post_head(1 << 20))
        t0 = time.monotonic()
        ended = False
        while time.monotonic() - t0 < 12:
            try:
                slow.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                ended = True
                break
            assert node.status() is not None
            if closed_by_server(slow, 0.5):
                ended = True
                break
        assert ended, "trickled body never ended"
        assert time.monotonic() - t0 < 10
        assert status_ok(node)
    finally:
        for s in socks:
            s.close()


def test_zone_record_limit(make_cluster, tmp_path):
    """MAX_RRSETS_BY_ZONE: a new zone's limit (--zone-record-limit 4), seen
    by q53 zone limit and Route 53's GetHostedZoneLimit, refuses growth past
    it on every node alike, and raised it takes more."""
    import boto3
    from botocore.config import Config
    akid, secret = "AKIAQ53VALIDATION001", "q53-validation-secret-0123456789abcdef"
    c = make_cluster(3, extra=["--zone-record-limit", "4"], keys=[(akid, secret)])
    leader = c.wait_leader()
    follower = next(n for n in c.members() if n.id != leader.id)
    p = q53(follower.api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    zid = json.loads(p.stdout)["HostedZone"]["Id"]
    p = q53(follower.api, "zone", "limit", ZONE)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"Limit": {"Type": "MAX_RRSETS_BY_ZONE", "Value": 4},
                                    "Count": 2}
    for i in range(2):
        p = submit(follower.api, one(f"n{i}." + ZONE, "A", "192.0.2.1"))
        assert p.returncode == 0, p.stderr
    p = submit(follower.api, one("n2." + ZONE, "A", "192.0.2.1"))
    assert p.returncode != 0
    assert "more than its limit of 4" in p.stderr, p.stderr
    p = q53(follower.api, "zone", "limit", ZONE, "6")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["Limit"]["Value"] == 6
    p = submit(follower.api, one("n2." + ZONE, "A", "192.0.2.1"))
    assert p.returncode == 0, p.stderr
    r53 = boto3.client("route53", endpoint_url=f"http://{leader.http}",
                       region_name="us-east-1", aws_access_key_id=akid,
                       aws_secret_access_key=secret,
                       config=Config(retries={"max_attempts": 2}))
    lim = r53.get_hosted_zone_limit(Type="MAX_RRSETS_BY_ZONE", HostedZoneId=zid)
    assert lim["Limit"] == {"Type": "MAX_RRSETS_BY_ZONE", "Value": 6}
    assert lim["Count"] == 5
    # Every node holds the same limit and count.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = [q53(n.api, "zone", "limit", zid).stdout for n in c.members()]
        if all(g and json.loads(g) == {"Limit": {"Type": "MAX_RRSETS_BY_ZONE", "Value": 6},
                                       "Count": 5} for g in got):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(got)
