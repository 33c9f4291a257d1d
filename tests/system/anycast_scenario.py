"""The anycast scenario of test_anycast.py, run inside a network namespace
of its own (`unshare -rn`: a user + network namespace, so adding addresses
needs no privilege on the host and touches nothing outside).

A 3-node cluster; node i announces 10.53.53.i/32 on lo (one address per
node: the namespace has one lo, and an address can be on it once). Checks:
  1. every node announces once it serves and is in contact with a quorum;
  2. a node whose peers are paused (SIGSTOP: it is cut off) withdraws,
     `q53 status` shows QuorumContact false there, and it announces again
     when they come back;
  3. a leader whose followers are paused withdraws the same way;
  4. SIGTERM withdraws before the node exits.
Exits 0 when all hold; prints what failed otherwise."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster as clu  # noqa: E402

ZONES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zones")


class AnycastNode(clu.Node):
    def anycast_addr(self):
        return f"10.53.53.{self.id}"

    def state_path(self):
        return os.path.join(self.cluster.root, f"anycast{self.id}")

    def args(self):
        return super().args() + [
            "--anycast", f"{self.anycast_addr()}/32@lo",
            "--anycast-state", self.state_path(),
            "--anycast-interval", "100", "--anycast-drain", "0"]

    def state(self):
        try:
            with open(self.state_path()) as f:
                return f.read().strip()
        except OSError:
            return ""

    def on_lo(self):
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lo"],
                             capture_output=True, text=True, check=True).stdout
        return f" {self.anycast_addr()}/32 " in out


class AnycastCluster(clu.Cluster):
    def add_node(self, nid, join=None):
        node = AnycastNode(self, nid, join=join)
        self.nodes[nid] = node
        return node.start()


def wait(what, pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def announced(n):
    return n.state().startswith("announced") and n.on_lo()


def withdrawn(n):
    return n.state().startswith("withdrawn") and not n.on_lo()


def quorum_contact(n):
    p = clu.q53(n.api, "status", timeout_s=2, proc_timeout=10)
    return json.loads(p.stdout)["QuorumContact"] if p.returncode == 0 else None


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    root = tempfile.mkdtemp(prefix="q53-anycast-")
    c = AnycastCluster(root, seeds=[("example.com", os.path.join(ZONES, "example.com.zone"))])
    try:
        c.start(3)
        nodes = list(c.nodes.values())
        for n in nodes:
            wait(f"node {n.id} announces", lambda n=n: announced(n))
            assert quorum_contact(n) is True, n.id
        print("1. all three announce")

        leader = c.wait_leader()
        cut = [n for n in nodes if n is not leader][0]
        others = [n for n in nodes if n is not cut]
        t0 = time.monotonic()
        for n in others:
            os.kill(n.proc.pid, signal.SIGSTOP)
        wait(f"cut-off follower {cut.id} withdraws", lambda: withdrawn(cut))
        took = time.monotonic() - t0
        assert quorum_contact(cut) is False, cut.id
        assert "no contact with a quorum" in cut.state(), cut.state()
        for n in others:
            os.kill(n.proc.pid, signal.SIGCONT)
        wait(f"node {cut.id} announces again", lambda: announced(cut), timeout=30)
        print(f"2. cut-off follower withdrew after {took:.2f} s, announced again")

        leader = c.wait_leader()
        followers = [n for n in nodes if n is not leader]
        t0 = time.monotonic()
        for n in followers:
            os.kill(n.proc.pid, signal.SIGSTOP)
        wait(f"lone leader {leader.id} withdraws", lambda: withdrawn(leader))
        took = time.monotonic() - t0
        for n in followers:
            os.kill(n.proc.pid, signal.SIGCONT)
        for n in nodes:
            wait(f"node {n.id} announces again", lambda n=n: announced(n), timeout=30)
        print(f"3. leader without followers withdrew after {took:.2f} s")

        n = nodes[-1]
        rc = n.stop()
        assert rc == 0, n.output()[-3000:]
        assert withdrawn(n), n.state()
        print("4. SIGTERM withdrew before exit")
    except AssertionError as e:
        print(f"FAILED: {e}")
        for n in c.nodes.values():
            print(f"--- node {n.id} ({n.state()})\n" + n.output()[-2500:])
        return 1
    finally:
        for n in c.nodes.values():
            if n.alive():
                os.kill(n.proc.pid, signal.SIGCONT)
        c.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
