"""IP-based routing (CIDR collections) on a 3-node cluster (real q53d
processes, Route 53's REST API with boto3, the q53 CLI, dig and kdig):

* A collection made with boto3 (201, a UUID id, version 1; a retry with the
  same CallerReference answers the same collection), locations added with
  boto3 (CollectionVersion checked: a stale one is
  CidrCollectionVersionMismatchException, 409) and with `q53 cidr put`;
  the listings page (MaxResults 1) and agree on every node.
* The AWS CLI file batch-cidr.json applies verbatim (CidrRoutingConfig
  naming the collection); ListResourceRecordSets shows the collection's
  id; an unknown location is an InvalidChangeBatch.
* dig +subnet / kdig +subnet at every node: the longest prefix of the
  client's network picks the location, the ECS scope is the matched prefix
  (16), other clients get the '*' default; without ECS the source address
  (127.0.0.x) decides (default).
* `q53 test-answer --client-subnet` agrees with dig and names the branch.
* The same 300 query packets give the same bytes on the three nodes.
* A collection change moves answers on every node; deleting a used
  collection or emptying a used location is refused in Route 53's words.
* `q53 cidr ...` over POST /q53/api checks Route 53's IAM actions: a key
  allowed only the listings of one collection lists it and is denied
  CreateCidrCollection, ChangeCidrCollection and DeleteCidrCollection.

Every wait polls with a deadline; nodes are stopped by PID."""
import json
import os
import random
import re
import subprocess
import sys
import time

import dns.edns
import dns.message
import dns.rcode
import pytest

boto3 = pytest.importorskip("boto3", reason="needs the test venv (tests/venv.sh)")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from cluster import Cluster, q53  # noqa: E402
from test_cli import q53d_has_api  # noqa: E402
from test_health import ok  # noqa: E402
from test_routing_policies import DATA, exchange  # noqa: E402

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

AKID = "AKIAQ53SYSTEMTEST001"
SECRET = "q53-system-test-secret-0123456789abcdef"
ZONE = "example.com"
NAME = "intra.example.com."
UUID = re.compile(r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$")


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path), keys=[(AKID, SECRET)]).start(3)
    try:
        yield c
    finally:
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"


def client(node):
    return boto3.client(
        "route53", endpoint_url=f"http://{node.http}", region_name="eu-west-3",
        aws_access_key_id=AKID, aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 2}))


def aws(node, *args):
    """The AWS CLI of the test venv against node (the README's lines)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    exe = os.path.join(os.path.dirname(sys.executable), "aws")
    p = subprocess.run([exe, "--endpoint-url", f"http://{node.http}", "--output", "json",
                        "route53", *args], capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout) if p.stdout.strip() else None


def error_of(call, *a, **kw):
    with pytest.raises(ClientError) as e:
        call(*a, **kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def dig(tool, node, subnet=None):
    """The answer's addresses and the echoed ECS scope (None without)."""
    args = [tool, f"@{node.host}", "-p", str(node.dns_port), "+notcp",
            "+time=2", "+tries=2" if tool == "dig" else "+retry=1", NAME, "A"]
    if subnet:
        args.insert(4, f"+subnet={subnet}")
    out = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    addrs = sorted(set(re.findall(r"\sA\s+(192\.0\.2\.\d+)", out.stdout)))
    m = re.search(r"SUBNET: ([0-9a-f.:]+/\d+)/(\d+)", out.stdout)
    return addrs, int(m.group(2)) if m else None, out.stdout


def wait_all(c, pred, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = [pred(n) for n in c.members()]
        if all(x for x, _ in last):
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: {[y for _, y in last]}")


CASES = [
    # (ECS subnet, answer, scope)
    ("10.49.7.0/24", "192.0.2.91", 16),    # berlin
    ("10.212.1.0/24", "192.0.2.92", 16),   # nyc
    ("2001:db8:49::/56", "192.0.2.91", 48),  # berlin over IPv6
    ("192.0.2.0/24", "192.0.2.99", None),  # the default
]


def test_ip_based_routing(cluster):
    c = cluster
    nodes = c.members()
    leader = c.wait_leader()
    follower = next(n for n in nodes if n.id != leader.id)
    r53 = client(follower)

    # The collection, through a follower (forwarded to the leader).
    made = r53.create_cidr_collection(Name="offices", CallerReference="ref-1")
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    col = made["Collection"]
    cid = col["Id"]
    assert UUID.match(cid), col
    assert col["Version"] == 1 and col["Name"] == "offices"
    assert col["Arn"] == f"arn:aws:route53:::cidrcollection/{cid}"
    assert made["Location"].endswith(f"/cidrcollection/{cid}")
    again = r53.create_cidr_collection(Name="offices", CallerReference="ref-1")
    assert again["Collection"]["Id"] == cid
    code, status, _ = error_of(r53.create_cidr_collection, Name="offices",
                               CallerReference="ref-2")
    assert code == "CidrCollectionAlreadyExistsException", code

    r53.change_cidr_collection(Id=cid, CollectionVersion=1, Changes=[
        {"LocationName": "berlin", "Action": "PUT",
         "CidrList": ["10.49.0.0/16", "2001:db8:49::/48"]}])
    code, status, _ = error_of(r53.change_cidr_collection, Id=cid, CollectionVersion=1,
                               Changes=[{"LocationName": "x", "Action": "PUT",
                                         "CidrList": ["10.9.0.0/16"]}])
    assert (code, status) == ("CidrCollectionVersionMismatchException", 409)
    code, status, _ = error_of(r53.change_cidr_collection, Id=cid, Changes=[
        {"LocationName": "x", "Action": "PUT", "CidrList": ["10.9.0.1/25"]}])
    assert (code, status) == ("InvalidInput", 400)
    code, status, _ = error_of(r53.list_cidr_locations,
                               CollectionId="00000000-0000-4000-8000-000000000000")
    assert (code, status) == ("NoSuchCidrCollectionException", 404)

    # The q53 CLI adds the second location (and makes its own collection).
    out = ok(q53(nodes[2].api, "cidr", "put", cid, "nyc", "10.212.0.0/16"))
    assert out["CollectionVersion"] == 3
    own = ok(q53(nodes[0].api, "cidr", "create", "spare"))["Collection"]
    assert UUID.match(own["Id"]) and own["Version"] == 1

    # Listings page and agree on every node.
    for n in nodes:
        r = client(n)
        names = sorted(x["Name"] for p in r.get_paginator("list_cidr_collections")
                       .paginate(PaginationConfig={"PageSize": 1})
                       for x in p["CidrCollections"])
        assert names == ["offices", "spare"], (n.id, names)
        locs = [x["LocationName"] for p in r.get_paginator("list_cidr_locations")
                .paginate(CollectionId=cid, PaginationConfig={"PageSize": 1})
                for x in p["CidrLocations"]]
        assert locs == ["berlin", "nyc"], (n.id, locs)
        blocks = [(x["LocationName"], x["CidrBlock"])
                  for p in r.get_paginator("list_cidr_blocks")
                  .paginate(CollectionId=cid, PaginationConfig={"PageSize": 1})
                  for x in p["CidrBlocks"]]
        assert blocks == [("berlin", "10.49.0.0/16"), ("berlin", "2001:db8:49::/48"),
                          ("nyc", "10.212.0.0/16")], (n.id, blocks)
        only = r.list_cidr_blocks(CollectionId=cid, LocationName="nyc")["CidrBlocks"]
        assert [x["CidrBlock"] for x in only] == ["10.212.0.0/16"]
    cli_blocks = ok(q53(nodes[1].api, "cidr", "blocks", cid))["CidrBlocks"]
    assert len(cli_blocks) == 3

    # The record sets: the AWS CLI file verbatim (CollectionId names the
    # collection), through the q53 CLI.
    api = nodes[1].api
    ok(q53(api, "zone", "create", ZONE))
    with open(os.path.join(DATA, "batch-cidr.json")) as f:
        ch = ok(q53(api, "change-batch", ZONE, "-", stdin=f.read()))["ChangeInfo"]["Id"]
    c.wait_insync(api, ch)
    zid = next(z["Id"] for z in r53.list_hosted_zones()["HostedZones"]
               if z["Name"] == ZONE + ".").split("/")[-1]
    listed = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    cfgs = sorted((x["SetIdentifier"], x["CidrRoutingConfig"]["LocationName"],
                   x["CidrRoutingConfig"]["CollectionId"])
                  for x in listed if "CidrRoutingConfig" in x)
    assert cfgs == [("berlin", "berlin", cid), ("elsewhere", "*", cid),
                    ("nyc", "nyc", cid)], cfgs
    code, status, msg = error_of(r53.change_resource_record_sets, HostedZoneId=zid,
                                 ChangeBatch={"Changes": [{"Action": "CREATE",
                                  "ResourceRecordSet": {
                                      "Name": "other.example.com", "Type": "A", "TTL": 60,
                                      "SetIdentifier": "x",
                                      "CidrRoutingConfig": {"CollectionId": cid,
                                                            "LocationName": "tokyo"},
                                      "ResourceRecords": [{"Value": "192.0.2.1"}]}}]})
    assert code == "InvalidChangeBatch" and "no location tokyo" in msg, (code, msg)

    # dig and kdig at every node.
    wait_all(c, lambda n: (dig("dig", n, CASES[0][0])[0] == [CASES[0][1]],
                           dig("dig", n, CASES[0][0])[:2]), "berlin everywhere")
    for n in nodes:
        for tool in ("dig", "kdig"):
            for subnet, want, scope in CASES:
                addrs, got_scope, out = dig(tool, n, subnet)
                assert addrs == [want], (n.id, tool, subnet, out)
                if scope is not None:
                    assert got_scope == scope, (n.id, tool, subnet, out)
        # No ECS: the source address 127.0.0.1 matches no block.
        assert dig("dig", n)[0] == ["192.0.2.99"]
        # test-answer agrees with dig and names the branch.
        for subnet, want, _ in CASES:
            a = ok(q53(n.api, "test-answer", ZONE, NAME, "A", "--client-subnet", subnet))
            assert a["ResponseCode"] == "NOERROR" and a["RecordData"] == [want], (subnet, a)
            assert a["RecordData"] == dig("dig", n, subnet)[0]
            sid = {"192.0.2.91": "berlin", "192.0.2.92": "nyc",
                   "192.0.2.99": "elsewhere"}[want]
            assert a["Branch"] == f"IP-based \"{sid}\"", a

    # Byte identity across the nodes.
    rng = random.Random(7)
    nets = [s for s, _, _ in CASES] + ["10.49.200.0/24", "10.208.0.0/12",
                                       "10.0.0.0/8", "2001:db8::/32"]
    pk = []
    for qid in rng.sample(range(65536), 300):
        addr, bits = rng.choice(nets).split("/")
        m = dns.message.make_query(NAME, "A", use_edns=0)
        m.use_edns(0, options=[dns.edns.ECSOption(addr, int(bits))])
        m.id = qid
        pk.append(m.to_wire())
    got = [exchange(x, pk) for x in nodes]
    for qid, wire in got[0].items():
        assert got[1][qid] == wire and got[2][qid] == wire, qid
    # A client network shorter than the block: Route 53 matches only
    # blocks no longer than it (here none: the default).
    r = dns.message.from_wire(got[0][next(
        int.from_bytes(p[:2], "big") for p in pk
        if dns.message.from_wire(p).options[0].address == "10.208.0.0")])
    assert [x.address for a in r.answer for x in a] == ["192.0.2.99"]

    # A change of the collection (the AWS CLI, as the README has it) moves
    # the answers on every node.
    aws(nodes[0], "change-cidr-collection", "--id", cid, "--changes",
        '[{"LocationName":"berlin","Action":"PUT","CidrList":["198.51.100.0/24"]}]')
    got = aws(nodes[2], "list-cidr-blocks", "--collection-id", cid, "--location-name",
              "berlin")["CidrBlocks"]
    assert "198.51.100.0/24" in [b["CidrBlock"] for b in got], got
    wait_all(c, lambda n: (dig("dig", n, "198.51.100.0/24")[0] == ["192.0.2.91"],
                           dig("dig", n, "198.51.100.0/24")[:2]), "moved to berlin")

    # Refusals while record sets use it.
    code, status, _ = error_of(r53.delete_cidr_collection, Id=cid)
    assert (code, status) == ("CidrCollectionInUseException", 400)
    code, status, _ = error_of(r53.change_cidr_collection, Id=cid, Changes=[
        {"LocationName": "nyc", "Action": "DELETE_IF_EXISTS", "CidrList": ["10.212.0.0/16"]}])
    assert code == "CidrBlockInUseException", code
    # The unused one goes.
    r53.delete_cidr_collection(Id=own["Id"])
    left = [x["Name"] for x in r53.list_cidr_collections()["CidrCollections"]]
    assert left == ["offices"], left

    # The q53 CLI's CIDR requests (POST /q53/api) are Route 53's IAM
    # actions: a key allowed only the listings of this collection lists,
    # and is denied the writes, named by action and collection ARN.
    arn = f"arn:aws:route53:::cidrcollection/{cid}"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "route53:ListCidrCollections", "Resource": "*"},
        {"Effect": "Allow", "Action": ["route53:ListCidrLocations",
                                       "route53:ListCidrBlocks"], "Resource": arn}]}
    pol = os.path.join(c.root, "cidr-read-policy.json")
    with open(pol, "w") as f:
        json.dump(policy, f)
    key = ok(q53(leader.api, "key", "create", "--policy", pol))["AccessKey"]
    kf = pol + ".key"
    with open(kf, "w") as f:
        f.write(f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\n"
                f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n")
    deadline = time.monotonic() + 15
    while True:  # the key counts once the node applied its creation
        p = q53(leader.api, "cidr", "list", key_file=kf)
        if p.returncode == 0 or "InvalidClientTokenId" not in p.stderr \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [x["Name"] for x in ok(p)["CidrCollections"]] == ["offices"]
    assert len(ok(q53(leader.api, "cidr", "blocks", cid, key_file=kf))["CidrBlocks"]) == 4
    assert ok(q53(leader.api, "cidr", "locations", cid, key_file=kf))
    for args, action, resource in (
            (("cidr", "create", "denied"), "route53:CreateCidrCollection", "*"),
            (("cidr", "put", cid, "x", "10.8.0.0/16"), "route53:ChangeCidrCollection", arn),
            (("cidr", "delete", cid), "route53:DeleteCidrCollection", arn)):
        p = q53(leader.api, *args, key_file=kf)
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        assert json.loads(p.stdout)["Error"]["Code"] == "AccessDenied", (args, p.stdout)
        assert action in p.stderr and resource in p.stderr, (args, p.stderr)
    after = [x["Name"] for x in r53.list_cidr_collections()["CidrCollections"]]
    assert after == ["offices"], after
