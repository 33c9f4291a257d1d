"""Access keys with IAM policies on the Route 53 REST API, 3 nodes, boto3:
keys made with `q53 key create --policy FILE` live in the replicated state,
so every node accepts a key once it applied its creation and refuses it once
it applied its deletion; a certbot-style key may change its TXT records and
nothing else; a read-only key cannot write; the first node's administrator
key file works; the audit shows who made a change.
"""
import json
import os
import stat
import time

import pytest

boto3 = pytest.importorskip("boto3", reason="needs the test venv (tests/venv.sh)")
from botocore import UNSIGNED  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from cluster import Cluster, q53  # noqa: E402

STATIC = ("AKIAQ53IAMTESTSTATIC", "q53-iam-test-static-secret-0123456789ab")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("iam")), keys=[STATIC]).start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def client(node, key=STATIC, **cfg):
    return boto3.client(
        "route53", endpoint_url=f"http://{node.http}", region_name="us-east-1",
        aws_access_key_id=key[0], aws_secret_access_key=key[1],
        config=Config(**{"retries": {"max_attempts": 1}, **cfg}))


def error_of(call, *a, **kw):
    with pytest.raises(ClientError) as e:
        call(*a, **kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def create_key(node, policy, tmp_path, description="test"):
    path = tmp_path / f"policy-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(policy))
    p = q53(node.api, "key", "create", "--policy", path, "--description", description)
    assert p.returncode == 0, p.stderr
    k = json.loads(p.stdout)["AccessKey"]
    assert k["AccessKeyId"].startswith("AKIA") and len(k["AccessKeyId"]) == 20
    assert len(k["SecretAccessKey"]) == 40
    return k["AccessKeyId"], k["SecretAccessKey"]


def accepted(node, key):
    """True when node accepts key (a signed ListHostedZones); False when it
    says the key does not exist."""
    try:
        client(node, key).list_hosted_zones()
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidClientTokenId", e.response
        return False


def wait_all(nodes, pred, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        left = [n.id for n in nodes if not pred(n)]
        if not left:
            return
        assert time.monotonic() < deadline, f"{what}: not yet on nodes {left}"
        time.sleep(0.05)


def change(r53, zid, action, name, rtype, value):
    return r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={
        "Comment": f"{action} {name} {rtype}",
        "Changes": [{"Action": action, "ResourceRecordSet": {
            "Name": name, "Type": rtype, "TTL": 60,
            "ResourceRecords": [{"Value": value}]}}]})


def zone(node, name):
    z = client(node).create_hosted_zone(Name=name, CallerReference=f"{name}-{time.time()}")
    return z["HostedZone"]["Id"].split("/")[-1]


def test_admin_key_file(cluster):
    first = cluster.nodes[1]
    path = os.path.join(first.dir, "admin-key")
    wait_all([first], lambda n: os.path.exists(path), "admin-key written")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(path + ".new")
    env = dict(line.split("=", 1) for line in open(path).read().splitlines()
               if line and not line.startswith("#"))
    admin = (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    assert "admin-key" in first.output()
    # Every node knows it (replicated), and it may write.
    for n in cluster.members():
        assert accepted(n, admin)
    zid = zone(cluster.nodes[2], "admin-file.test")
    c = change(client(cluster.nodes[3], admin), zid, "UPSERT", "www.admin-file.test", "A",
               "192.0.2.1")
    assert c["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The list shows it, never a secret.
    p = q53(cluster.nodes[3].api, "key", "list")
    assert p.returncode == 0, p.stderr
    keys = json.loads(p.stdout)["AccessKeys"]
    assert admin[0] in [k["AccessKeyId"] for k in keys]
    assert admin[1] not in p.stdout
    p = q53(cluster.nodes[3].api, "key", "list", json_out=False)
    assert admin[0] in p.stdout and admin[1] not in p.stdout


CERTBOT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["route53:ListHostedZones", "route53:GetChange"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
         "Resource": "arn:aws:route53:::hostedzone/ZONE",
         "Condition": {
             "ForAllValues:StringLike": {
                 "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"]},
             "ForAllValues:StringEquals": {
                 "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                 "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"]}}},
    ],
}


def test_certbot_key_and_audit(cluster, tmp_path):
    leader = cluster.wait_leader()
    zid = zone(leader, "certbot.test")
    other = zone(leader, "other.test")
    policy = json.loads(json.dumps(CERTBOT_POLICY).replace("ZONE", zid))
    key = create_key(cluster.nodes[2], policy, tmp_path, "certbot")
    wait_all(cluster.members(), lambda n: accepted(n, key), "certbot key accepted")
    for n in cluster.members():
        r53 = client(n, key)
        # Its own TXT name: UPSERT and DELETE pass (on every node).
        c = change(r53, zid, "UPSERT", "_acme-challenge.certbot.test.", "TXT", f'"{n.id}"')
        change(r53, zid, "DELETE", "_acme-challenge.certbot.test.", "TXT", f'"{n.id}"')
        # ... not an A record, another name, CREATE, or another zone.
        for z, action, name, rtype, value in [
                (zid, "UPSERT", "_acme-challenge.certbot.test.", "A", "192.0.2.7"),
                (zid, "UPSERT", "www.certbot.test.", "TXT", '"x"'),
                (zid, "CREATE", "_acme-challenge.certbot.test.", "TXT", '"x"'),
                (other, "UPSERT", "_acme-challenge.other.test.", "TXT", '"x"')]:
            code, status, msg = error_of(change, r53, z, action, name, rtype, value)
            assert (code, status) == ("AccessDenied", 403), (name, rtype, msg)
            assert msg == (f"User: arn:aws:iam::000000000000:user/{key[0]} is not "
                           "authorized to perform: route53:ChangeResourceRecordSets on "
                           f"resource: arn:aws:route53:::hostedzone/{z}")
        # Reads outside the policy too.
        code, status, _ = error_of(r53.list_resource_record_sets, HostedZoneId=zid)
        assert (code, status) == ("AccessDenied", 403)
    # Nothing denied reached the zone.
    sets = client(leader).list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    assert sorted(s["Type"] for s in sets) == ["NS", "SOA"]

    # The audit: who made the change, through get-change and the listing.
    cid = c["ChangeInfo"]["Id"].split("/")[-1]
    p = q53(cluster.nodes[3].api, "get-change", cid)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ChangeInfo"]["AccessKeyId"] == key[0]
    p = q53(cluster.nodes[1].api, "audit", "--zone", zid)
    assert p.returncode == 0, p.stderr
    changes = json.loads(p.stdout)["Changes"]
    assert [ch["AccessKeyId"] for ch in changes].count(key[0]) == 6  # 3 nodes x 2
    mine = [ch for ch in changes if ch["Id"] == cid]
    assert len(mine) == 1 and mine[0]["HostedZoneId"] == zid
    assert mine[0]["Comment"] == "UPSERT _acme-challenge.certbot.test. TXT"
    # A change batch through the q53 CLI is signed too: the admin key's.
    batch = tmp_path / "b.json"
    batch.write_text(json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "cli.certbot.test.", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.9"}]}}]}))
    p = q53(leader.api, "change-batch", zid, batch)
    assert p.returncode == 0, p.stderr
    p = q53(leader.api, "audit", "--zone", zid, "--max-items", "1", json_out=False)
    assert p.returncode == 0, p.stderr
    admin = [line.split("=", 1)[1] for line in open(cluster.admin_key).read().splitlines()
             if line.startswith("AWS_ACCESS_KEY_ID=")][0]
    assert admin in p.stdout.splitlines()[1] and "local" not in p.stdout, p.stdout


def test_zone_lifecycle_audited_as_the_rest_key(cluster):
    """CreateHostedZone and DeleteHostedZone through Route 53's REST API
    (boto3, on a follower: forwarded) are audited as the key that signed
    them, on every node."""
    leader = cluster.wait_leader()
    f = [n for n in cluster.members() if n.id != leader.id][0]
    r53 = client(f)
    z = r53.create_hosted_zone(Name="rest-audit.test.", CallerReference="rest-audit-1")
    zid = z["HostedZone"]["Id"].split("/")[-1]
    create_cid = z["ChangeInfo"]["Id"].split("/")[-1]
    delete_cid = r53.delete_hosted_zone(Id=zid)["ChangeInfo"]["Id"].split("/")[-1]
    for n in cluster.members():
        def audited(n=n):
            p = q53(n.api, "audit", "--max-items", "100")
            assert p.returncode == 0, p.stderr
            by_id = {ch["Id"]: ch["AccessKeyId"] for ch in json.loads(p.stdout)["Changes"]}
            return by_id.get(create_cid) == STATIC[0] and by_id.get(delete_cid) == STATIC[0]
        wait_all([n], lambda _n: audited(), f"zone create/delete audited as {STATIC[0]}")


def test_read_only_key(cluster, tmp_path):
    leader = cluster.wait_leader()
    zid = zone(leader, "readonly.test")
    key = create_key(leader, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["route53:Get*", "route53:List*"], "Resource": "*"}]},
        tmp_path, "read-only")
    n = cluster.nodes[3]
    wait_all([n], lambda n: accepted(n, key), "read-only key accepted")
    r53 = client(n, key)
    assert zid in [z["Id"].split("/")[-1] for z in r53.list_hosted_zones()["HostedZones"]]
    assert r53.get_hosted_zone(Id=zid)["HostedZone"]["Name"] == "readonly.test."
    r53.list_resource_record_sets(HostedZoneId=zid)
    code, status, msg = error_of(change, r53, zid, "UPSERT", "www.readonly.test", "A",
                                 "192.0.2.1")
    assert (code, status) == ("AccessDenied", 403)
    code, status, msg = error_of(r53.create_hosted_zone, Name="nope.test", CallerReference="x")
    assert (code, status) == ("AccessDenied", 403)
    assert "route53:CreateHostedZone on resource: *" in msg
    code, status, _ = error_of(r53.delete_hosted_zone, Id=zid)
    assert (code, status) == ("AccessDenied", 403)
    # An explicit Deny beats the Allow.
    key2 = create_key(leader, {"Statement": [
        {"Effect": "Allow", "Action": "route53:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "route53:DeleteHostedZone", "Resource": "*"}]},
        tmp_path)
    wait_all([n], lambda n: accepted(n, key2), "deny key accepted")
    code, status, msg = error_of(client(n, key2).delete_hosted_zone, Id=zid)
    assert (code, status) == ("AccessDenied", 403)
    assert msg.endswith("with an explicit deny in an identity-based policy")


def test_unsigned_and_wrongly_signed(cluster):
    n = cluster.nodes[2]
    code, status, _ = error_of(client(n, signature_version=UNSIGNED).list_hosted_zones)
    assert (code, status) == ("MissingAuthenticationToken", 403)
    code, status, _ = error_of(client(n, (STATIC[0], "x" * 40)).list_hosted_zones)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    code, status, _ = error_of(client(n, ("AKIANOSUCHKEY0000000", "x" * 40)).list_hosted_zones)
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_malformed_policy_refused(cluster, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"Statement": [{"Effect": "Allow", "NotAction": "route53:*", '
                    '"Resource": "*"}]}')
    p = q53(cluster.nodes[2].api, "key", "create", "--policy", path, json_out=False)
    assert p.returncode == 1
    assert "MalformedPolicyDocument" in p.stderr and "NotAction" in p.stderr


def test_deleted_key_refused_on_every_node(cluster, tmp_path):
    key = create_key(cluster.nodes[1], {"Statement": {
        "Effect": "Allow", "Action": "route53:List*", "Resource": "*"}}, tmp_path)
    wait_all(cluster.members(), lambda n: accepted(n, key), "new key accepted")
    p = q53(cluster.nodes[2].api, "key", "delete", key[0])
    assert p.returncode == 0, p.stderr
    # The node that answered waited to apply the delete; the others follow.
    assert not accepted(cluster.nodes[2], key)
    wait_all(cluster.members(), lambda n: not accepted(n, key), "deleted key refused")
    p = q53(cluster.nodes[3].api, "key", "delete", key[0], json_out=False)
    assert p.returncode == 1 and "NoSuchEntity" in p.stderr


def signed(node, key, method, path, body=None):
    """A SigV4-signed request (service route53) to node's REST API:
    (status, the JSON body parsed, None when empty, else its text)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://{node.http}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = AWSRequest(method=method, url=url, data=data)
    SigV4Auth(Credentials(*key), "route53", "us-east-1").add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(url, data=data, method=method, headers=dict(p.headers))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text.decode()


def test_rest_key_management_admin_only(cluster, tmp_path):
    n = cluster.nodes[3]
    policy = {"Statement": {"Effect": "Allow", "Action": "route53:*", "Resource": "*"}}
    # An administrator (the static key) creates one over SigV4.
    status, body = signed(n, STATIC, "POST", "/q53/accesskeys",
                          {"PolicyDocument": policy, "Description": "over REST"})
    assert status == 201, body
    key = (body["AccessKey"]["AccessKeyId"], body["AccessKey"]["SecretAccessKey"])
    assert accepted(n, key)
    status, body = signed(n, STATIC, "GET", "/q53/accesskeys")
    assert status == 200
    listed = {k["AccessKeyId"]: k for k in body["AccessKeys"]}
    assert listed[key[0]]["Description"] == "over REST"
    assert "SecretAccessKey" not in listed[key[0]]
    # route53:* does not make an administrator.
    status, body = signed(n, key, "GET", "/q53/accesskeys")
    assert status == 403 and "<Code>AccessDenied</Code>" in body, body
    assert "perform: q53:ListAccessKeys on resource: *" in body
    status, body = signed(n, key, "DELETE", f"/q53/accesskeys/{key[0]}")
    assert status == 403 and "q53:DeleteAccessKey" in body, body
    # A malformed policy: IAM's error, nothing created.
    status, body = signed(n, STATIC, "POST", "/q53/accesskeys",
                          {"PolicyDocument": {"Statement": []}})
    assert status == 400 and body["Error"]["Code"] == "MalformedPolicyDocument", body
    status, _ = signed(n, STATIC, "DELETE", f"/q53/accesskeys/{key[0]}")
    assert status == 204
    assert not accepted(n, key)
    status, body = signed(n, STATIC, "DELETE", f"/q53/accesskeys/{key[0]}")
    assert status == 404 and body["Error"]["Code"] == "NoSuchEntity"
