"""The q53 CLI is a client of the HTTP API like boto3 (3 nodes): every
request goes to a node's --http address as POST /q53/api, SigV4-signed with
an access key, and IAM's policies and the audit apply to it exactly as to
Route 53's REST requests.

- The CLI's writes are signed: the audit names the administrator key, not
  "local"; a write sent to a follower is forwarded and served by every node.
- A restricted key (only TXT changes in one zone) used by the CLI changes its
  TXT records and gets AccessDenied for anything else, node add included;
  nothing denied takes effect.
- No key, an unknown key or a wrong secret: a clear error, nothing changes.
- A cluster without any key gets an administrator key from its leader.
"""
import json
import os
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import pytest

from cluster import Cluster, q53, q53_binary


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("cliauth"))).start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def admin_id(c):
    return [line.split("=", 1)[1] for line in open(c.admin_key).read().splitlines()
            if line.startswith("AWS_ACCESS_KEY_ID=")][0]


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} {p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


def batch(path, action, name, rtype, value):
    path.write_text(json.dumps({"Comment": f"{action} {name} {rtype}", "Changes": [
        {"Action": action, "ResourceRecordSet": {
            "Name": name, "Type": rtype, "TTL": 60, "ResourceRecords": [{"Value": value}]}}]}))
    return path


def followers(c):
    leader = c.wait_leader()
    return leader, [n for n in c.members() if n.id != leader.id]


def wait_txt(c, name, want, timeout=20.0):
    """Until every node answers name TXT with want (a list of strings)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        got = []
        for n in c.members():
            try:
                r = n.query(name, "TXT", timeout=1.0)
            except Exception as e:  # not answering yet
                got.append(repr(e))
                continue
            got.append(sorted(b"".join(rr.strings).decode() for rs in r.answer
                              if rs.rdtype == dns.rdatatype.TXT for rr in rs))
        if all(g == want for g in got):
            return
        last = got
        time.sleep(0.1)
    raise AssertionError(f"{name} TXT not {want} on every node within {timeout}s: {last}")


def raw_cli(node, *args, env=None, key_file=None):
    """q53 against node's HTTP API with only what is given (no admin key),
    the caller's AWS_/Q53_ credentials removed from the environment."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("AWS_", "Q53_ACCESS", "Q53_SECRET", "Q53_KEY"))}
    e.update(env or {})
    cmd = [q53_binary(), "--endpoint", f"http://{node.http}", "--timeout", "5", "--json"]
    if key_file:
        cmd += ["--key-file", str(key_file)]
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                          env=e, timeout=60)


def record_names(c, node, zone):
    sets = ok(q53(node.api, "records", "list", zone))["ResourceRecordSets"]
    return sorted((s["Name"], s["Type"]) for s in sets)


def members(node):
    return sorted((n["Id"], n["Role"], n["RaftAddress"])
                  for n in ok(q53(node.api, "node", "list"))["Nodes"])


def test_cli_writes_signed_and_forwarded(cluster, tmp_path):
    leader, (f1, f2) = followers(cluster)
    zid = ok(q53(f1.api, "zone", "create", "signed.test"))["HostedZone"]["Id"]
    # A write on a follower is forwarded to the leader and served everywhere.
    cid = ok(q53(f2.api, "change-batch", zid,
                 batch(tmp_path / "b.json", "UPSERT", "w.signed.test.", "TXT", '"fwd"')))
    cid = cid["ChangeInfo"]["Id"]
    cluster.wait_insync(f1.api, cid)
    wait_txt(cluster, "w.signed.test.", ["fwd"])
    # Signed with the admin key: the audit and get-change name it.
    admin = admin_id(cluster)
    st = ok(q53(leader.api, "get-change", cid))
    assert st["ChangeInfo"]["AccessKeyId"] == admin, st
    changes = ok(q53(f2.api, "audit", "--zone", zid))["Changes"]
    mine = [ch for ch in changes if ch["Id"] == cid]
    assert len(mine) == 1 and mine[0]["AccessKeyId"] == admin, changes
    p = q53(f1.api, "audit", "--zone", zid, "--max-items", "1", json_out=False)
    assert p.returncode == 0 and admin in p.stdout and "local" not in p.stdout, p.stdout


def test_zone_create_and_delete_audited_as_their_key(cluster):
    """CreateHostedZone and DeleteHostedZone are changes too: the audit names
    the key that made them (the admin key), on every node, before and after
    the zone is gone; none of them says "local"."""
    leader, (f1, f2) = followers(cluster)
    admin = admin_id(cluster)
    zc = ok(q53(f1.api, "zone", "create", "audited.test"))
    zid, create_cid = zc["HostedZone"]["Id"], zc["ChangeInfo"]["Id"]
    cluster.wait_insync(f1.api, create_cid)
    st = ok(q53(leader.api, "get-change", create_cid))
    assert st["ChangeInfo"]["AccessKeyId"] == admin, st
    delete_cid = ok(q53(f2.api, "zone", "delete", zid))["ChangeInfo"]["Id"]
    cluster.wait_insync(f2.api, delete_cid)
    st = ok(q53(leader.api, "get-change", delete_cid))
    assert st["ChangeInfo"]["AccessKeyId"] == admin, st
    for n in cluster.members():
        changes = ok(q53(n.api, "audit", "--max-items", "100"))["Changes"]
        by_id = {ch["Id"]: ch for ch in changes}
        for cid in (create_cid, delete_cid):
            assert cid in by_id, (n.id, cid, changes)
            assert by_id[cid]["AccessKeyId"] == admin, (n.id, by_id[cid])


def test_restricted_key_only_its_txt(cluster, tmp_path):
    leader, (f1, f2) = followers(cluster)
    zid = ok(q53(leader.api, "zone", "create", "acme.test"))["HostedZone"]["Id"]
    other = ok(q53(leader.api, "zone", "create", "other-acme.test"))["HostedZone"]["Id"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
         "Resource": f"arn:aws:route53:::hostedzone/{zid}",
         "Condition": {"ForAllValues:StringEquals": {
             "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]}}},
        {"Effect": "Allow", "Action": "route53:GetChange", "Resource": "*"}]}
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps(policy))
    key = ok(q53(f1.api, "key", "create", "--policy", pol, "--description", "txt-only"))
    key = key["AccessKey"]
    kf = tmp_path / "txt-key"
    kf.write_text(f"# a restricted key\nAWS_ACCESS_KEY_ID={key['AccessKeyId']}\n"
                  f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n")
    before_zone = record_names(cluster, leader, zid)
    before_nodes = members(leader)

    # Its TXT record, through a follower (forwarded): allowed, audited as it.
    deadline = time.monotonic() + 15
    while True:  # the key counts on f2 once f2 applied its creation
        p = raw_cli(f2, "change-batch", zid,
                    batch(tmp_path / "t.json", "UPSERT", "_acme-challenge.acme.test.", "TXT",
                          '"token"'), key_file=kf)
        if p.returncode == 0 or "InvalidClientTokenId" not in p.stderr \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    cid = ok(p)["ChangeInfo"]["Id"]
    assert ok(raw_cli(f2, "get-change", cid, key_file=kf))["ChangeInfo"]["AccessKeyId"] == \
        key["AccessKeyId"]
    wait_txt(cluster, "_acme-challenge.acme.test.", ["token"])

    # Anything else: AccessDenied (exit 1), naming the action and resource.
    denied = [
        ("change-batch", zid, batch(tmp_path / "a.json", "UPSERT", "a.acme.test.", "A",
                                    "192.0.2.1")),
        ("change-batch", other, batch(tmp_path / "o.json", "UPSERT",
                                      "_acme-challenge.other-acme.test.", "TXT", '"x"')),
        ("node", "add", "9", "127.0.0.9:1"),
        ("node", "remove", str(f1.id)),
        ("zone", "create", "new-acme.test"),
        ("zone", "delete", zid),
        ("zone", "import", zid, batch(tmp_path / "z.txt", "UPSERT", "x", "A", "1")),
        ("records", "list", zid),
        ("key", "create", "--policy", pol),
        ("key", "list"),
        ("status",),
    ]
    for args in denied:
        p = raw_cli(f1, *args, key_file=kf)
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        err = json.loads(p.stdout)["Error"]
        assert err["Code"] == "AccessDenied", (args, err)
        assert "is not authorized to perform" in err["Message"], err
        assert key["AccessKeyId"] in p.stderr and "policy" in p.stderr, p.stderr
    p = raw_cli(f1, "node", "add", "9", "127.0.0.9:1", key_file=kf)
    assert "q53:AddNode" in p.stderr, p.stderr
    p = raw_cli(f1, "change-batch", zid, tmp_path / "a.json", key_file=kf)
    assert f"route53:ChangeResourceRecordSets on resource: " \
           f"arn:aws:route53:::hostedzone/{zid}" in p.stderr, p.stderr
    # A zone named instead of its id: the same resource (resolved first).
    p = raw_cli(f1, "change-batch", "acme.test",
                batch(tmp_path / "t2.json", "UPSERT", "_acme-challenge.acme.test.", "TXT",
                      '"token2"'), key_file=kf)
    assert p.returncode == 0, p.stderr
    wait_txt(cluster, "_acme-challenge.acme.test.", ["token2"])

    # Nothing denied took effect.
    after = record_names(cluster, leader, zid)
    assert after == sorted(before_zone + [("_acme-challenge.acme.test.", "TXT")]), after
    assert members(leader) == before_nodes
    zones = [z["Name"] for z in ok(q53(leader.api, "zone", "list"))["HostedZones"]]
    assert "new-acme.test." not in zones and "acme.test." in zones


def test_no_or_wrong_key_clear_error(cluster, tmp_path):
    leader, (f1, _) = followers(cluster)
    ok(q53(leader.api, "zone", "create", "wrongkey.test"))
    zones_before = ok(q53(leader.api, "zone", "list"))["HostedZones"]
    b = batch(tmp_path / "b.json", "UPSERT", "x.nokey.test.", "TXT", '"x"')

    # No key at all: exit 2 before anything is sent, saying what to give.
    p = raw_cli(f1, "zone", "create", "nokey.test")
    assert p.returncode == 2, p.stderr
    assert "no access key" in p.stderr and "--key-file" in p.stderr \
        and "AWS_ACCESS_KEY_ID" in p.stderr, p.stderr
    # --data DIR without an admin-key there.
    p = raw_cli(f1, "--data", str(tmp_path), "status")
    assert p.returncode == 2 and "admin-key" in p.stderr, p.stderr
    # A key the cluster does not know.
    env = {"AWS_ACCESS_KEY_ID": "AKIAQ53UNKNOWNKEY000",
           "AWS_SECRET_ACCESS_KEY": "0123456789012345678901234567890123456789"}
    p = raw_cli(f1, "zone", "create", "nokey.test", env=env)
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith("q53: InvalidClientTokenId: ") and \
        "AKIAQ53UNKNOWNKEY000" in p.stderr and "$AWS_ACCESS_KEY_ID" in p.stderr, p.stderr
    # The admin key with a wrong secret (the Q53_ variables win over AWS_).
    env = {"Q53_ACCESS_KEY_ID": admin_id(cluster),
           "Q53_SECRET_ACCESS_KEY": "wrong-secret-0123456789012345678901234567",
           "AWS_ACCESS_KEY_ID": "AKIAQ53UNKNOWNKEY000", "AWS_SECRET_ACCESS_KEY": "x"}
    p = raw_cli(f1, "change-batch", "wrongkey.test", b, env=env)
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith("q53: SignatureDoesNotMatch: ") and "secret" in p.stderr \
        and admin_id(cluster) in p.stderr and "$Q53_ACCESS_KEY_ID" in p.stderr, p.stderr
    assert json.loads(p.stdout)["Error"]["Code"] == "SignatureDoesNotMatch"
    # A key file that is not one.
    bad = tmp_path / "bad-key"
    bad.write_text("hello\n")
    p = raw_cli(f1, "status", key_file=bad)
    assert p.returncode == 2 and "AWS_ACCESS_KEY_ID=" in p.stderr, p.stderr
    # The old NNG flag: refused with the new one named.
    p = raw_cli(f1, "--node", f1.api, "status")
    assert p.returncode == 2 and "--endpoint" in p.stderr, p.stderr
    # The NNG --api port is not the HTTP API: says so.
    p = subprocess.run([q53_binary(), "--endpoint", f"http://{f1.api}", "--key-file",
                        cluster.admin_key, "--timeout", "3", "status"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and "--http" in p.stderr, p.stderr
    # Nothing changed; the admin key file (DATA/admin-key via --data) works.
    p = raw_cli(leader, "--data", os.path.dirname(cluster.admin_key), "zone", "list")
    assert ok(p)["HostedZones"] == zones_before
    sets = ok(q53(leader.api, "records", "list", "wrongkey.test"))["ResourceRecordSets"]
    assert sorted(s["Type"] for s in sets) == ["NS", "SOA"], sets


def test_cluster_without_keys_gets_an_admin_key(tmp_path):
    """A cluster with no access key at all (a data directory from before
    the HTTP API, or every key deleted): its caught-up leader draws an
    administrator key into its DATA/admin-key, so the CLI is never locked
    out (test_upgrade.py does it on real old data directories)."""
    c = Cluster(str(tmp_path)).start(1)
    try:
        n = c.nodes[1]
        old = admin_id(c)
        p = q53(n.api, "key", "delete", old)
        assert p.returncode == 0, p.stderr
        os.unlink(c.admin_key)
        assert n.stop() == 0
        n.start()
        deadline = time.monotonic() + 30
        while not os.path.exists(c.admin_key):
            assert n.alive() and time.monotonic() < deadline, n.output()[-2000:]
            time.sleep(0.1)
        new = admin_id(c)
        assert new != old
        keys = ok(q53(n.api, "key", "list"))["AccessKeys"]
        assert [k["AccessKeyId"] for k in keys] == [new], keys
        assert "no access key" in n.output()
        # The old key stays refused.
        p = raw_cli(n, "status", env={"AWS_ACCESS_KEY_ID": old,
                                      "AWS_SECRET_ACCESS_KEY": "x" * 40})
        assert p.returncode == 1 and "InvalidClientTokenId" in p.stderr, p.stderr
    finally:
        bad = c.stop_all()
    assert not bad, bad
