"""Route 53's REST API (2013-04-01) on every node, driven by real clients
that nobody here wrote: boto3 and the AWS CLI (from the test venv, pinned in
tests/requirements-pypi.txt), against a 3-node cluster, each write confirmed
over DNS on every node. Writes go to followers too (forwarded to the leader,
answered after the Raft commit). Errors are checked as botocore parses them
(code and HTTP status), including SigV4 refusals.
"""
import datetime
import json
import os
import subprocess
import sys
import time
from unittest import mock

import pytest

boto3 = pytest.importorskip("boto3", reason="needs the test venv (tests/venv.sh)")
import botocore  # noqa: E402
from botocore import UNSIGNED  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from cluster import Cluster, q53  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AKID = "AKIAQ53SYSTEMTEST001"
SECRET = "q53-system-test-secret-0123456789abcdef"
AKID2 = "AKIAQ53SYSTEMTEST002"
SECRET2 = "q53-second-key-secret-0123456789abcdef"


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path), keys=[(AKID, SECRET), (AKID2, SECRET2)]).start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def client(node, akid=AKID, secret=SECRET, **cfg):
    return boto3.client(
        "route53", endpoint_url=f"http://{node.http}", region_name="eu-west-3",
        aws_access_key_id=akid, aws_secret_access_key=secret,
        config=Config(**{"retries": {"max_attempts": 2}, **cfg}))


def error_of(call, *a, **kw):
    with pytest.raises(ClientError) as e:
        call(*a, **kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def dig(node, name, rtype):
    p = subprocess.run(["dig", "+short", "+time=2", "+tries=2", "-p", str(node.dns_port),
                        f"@{node.host}", name, rtype], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    return sorted(p.stdout.split("\n")[:-1])


def wait_dig(c, name, rtype, want, timeout=20.0):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = [dig(n, name, rtype) for n in c.members()]
        if all(g == sorted(want) for g in got):
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} {rtype}: {got}, want {want} on every node")


def followers(c):
    leader = c.wait_leader()
    return leader, [n for n in c.members() if n.id != leader.id]


def test_zone_records_and_changes_with_boto3(cluster):
    leader, (f1, f2) = followers(cluster)
    ref = f"ref-{time.time()}"
    # A write through a follower.
    z = client(f1).create_hosted_zone(Name="example.com", CallerReference=ref,
                                      HostedZoneConfig={"Comment": "made by boto3"})
    assert z["ResponseMetadata"]["HTTPStatusCode"] == 201
    zid = z["HostedZone"]["Id"]
    assert zid.startswith("/hostedzone/Z")
    assert z["Location"].endswith("/2013-04-01" + zid)
    assert z["HostedZone"]["Name"] == "example.com."
    assert z["HostedZone"]["Config"] == {"Comment": "made by boto3", "PrivateZone": False}
    assert z["DelegationSet"]["NameServers"] == ["ns1.q53.test.", "ns2.q53.test."]
    assert z["ChangeInfo"]["Id"].startswith("/change/C")
    # The same CallerReference again: HostedZoneAlreadyExists (409).
    code, status, _ = error_of(client(f2).create_hosted_zone, Name="example.com",
                               CallerReference=ref)
    assert (code, status) == ("HostedZoneAlreadyExists", 409)

    # The record sets of shared/data/route53/batch-simple.json, verbatim,
    # through the other follower; the waiter polls GetChange to INSYNC.
    with open(os.path.join(HERE, "data", "batch-simple.json")) as f:
        batch = json.load(f)
    r53 = client(f2)
    ch = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch)
    assert ch["ChangeInfo"]["Status"] in ("PENDING", "INSYNC")
    assert ch["ChangeInfo"]["Comment"] == "basic record types"
    r53.get_waiter("resource_record_sets_changed").wait(
        Id=ch["ChangeInfo"]["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert r53.get_change(Id=ch["ChangeInfo"]["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    wait_dig(cluster, "www.example.com", "A", ["192.0.2.10", "192.0.2.11"])
    wait_dig(cluster, "example.com", "MX", ["10 mail.example.com.", "20 mail2.example.com."])
    wait_dig(cluster, "example.com", "TXT", ['"v=spf1 -all"', '"part one" "part two"'])
    wait_dig(cluster, "_sip._tcp.example.com", "SRV", ["10 60 5060 sip.example.com."])

    # GetHostedZone / ListHostedZones from the leader.
    r = client(leader)
    g = r.get_hosted_zone(Id=zid)
    assert g["HostedZone"]["ResourceRecordSetCount"] == 2 + 7
    assert [hz["Id"] for hz in r.list_hosted_zones()["HostedZones"]] == [zid]

    # ListResourceRecordSets: a paginator with 2 per page gives what one
    # page gives, in the same order, every name with its final dot.
    whole = r.list_resource_record_sets(HostedZoneId=zid)
    assert whole["IsTruncated"] is False
    sets = [(s["Name"], s["Type"]) for s in whole["ResourceRecordSets"]]
    assert len(sets) == 9 and ("www.example.com.", "AAAA") in sets
    pages = list(r.get_paginator("list_resource_record_sets").paginate(
        HostedZoneId=zid, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 5
    assert [(s["Name"], s["Type"]) for p in pages for s in p["ResourceRecordSets"]] == sets
    # StartRecordName/Type start at that set.
    part = r.list_resource_record_sets(HostedZoneId=zid, StartRecordName="www.example.com",
                                       StartRecordType="A", MaxItems="1")
    assert [(s["Name"], s["Type"]) for s in part["ResourceRecordSets"]] == [("www.example.com.", "A")]
    assert part["IsTruncated"] is True
    assert (part["NextRecordName"], part["NextRecordType"]) == ("www.example.com.", "AAAA")
    www = next(s for s in whole["ResourceRecordSets"] if s["Name"] == "www.example.com." and s["Type"] == "A")
    assert www["TTL"] == 300
    assert sorted(v["Value"] for v in www["ResourceRecords"]) == ["192.0.2.10", "192.0.2.11"]

    # Route 53's refusals, as botocore parses them.
    dup = {"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "www.example.com", "Type": "A", "TTL": 300,
        "ResourceRecords": [{"Value": "192.0.2.10"}]}}]}
    code, status, msg = error_of(r.change_resource_record_sets, HostedZoneId=zid, ChangeBatch=dup)
    assert (code, status) == ("InvalidChangeBatch", 400)
    assert "already exists" in msg
    code, status, _ = error_of(r.get_hosted_zone, Id="ZNOSUCHZONE00000000")
    assert (code, status) == ("NoSuchHostedZone", 404)
    code, status, _ = error_of(r.get_change, Id="CNOSUCHCHANGE000000")
    assert (code, status) == ("NoSuchChange", 404)
    code, status, _ = error_of(r.delete_hosted_zone, Id=zid)
    assert (code, status) == ("HostedZoneNotEmpty", 400)

    # Emptied, then deleted: gone on every node.
    deletes = {"Changes": [{"Action": "DELETE", "ResourceRecordSet": s}
                           for s in whole["ResourceRecordSets"] if s["Type"] not in ("SOA", "NS")]}
    ch = r.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=deletes)
    r.get_waiter("resource_record_sets_changed").wait(Id=ch["ChangeInfo"]["Id"],
                                                      WaiterConfig={"Delay": 1})
    wait_dig(cluster, "www.example.com", "A", [])
    d = client(f1).delete_hosted_zone(Id=zid)
    assert d["ChangeInfo"]["Id"].startswith("/change/")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(client(n).list_hosted_zones()["HostedZones"] == [] for n in cluster.members()):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the zone is still listed")


def test_sigv4_refusals(cluster):
    leader, (f1, _) = followers(cluster)
    # A second key works as well as the first.
    assert client(f1, AKID2, SECRET2).list_hosted_zones()["HostedZones"] == []
    cases = [
        (client(f1, secret="not-the-secret-0123456789"), "SignatureDoesNotMatch", 403),
        (client(f1, akid="AKIAQ53UNKNOWNKEY999"), "InvalidClientTokenId", 403),
        (boto3.client("route53", endpoint_url=f"http://{f1.http}", region_name="us-east-1",
                      config=Config(signature_version=UNSIGNED)),
         "MissingAuthenticationToken", 403),
    ]
    for c, want, status in cases:
        code, got_status, _ = error_of(c.list_hosted_zones)
        assert (code, got_status) == (want, status)
    # A request signed 10 minutes in the past (a client clock off by more
    # than AWS's 5 minutes).
    real = datetime.datetime

    class Past(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - datetime.timedelta(minutes=10)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - datetime.timedelta(minutes=10)

    old = client(leader, retries={"max_attempts": 1})
    with mock.patch("botocore.auth.datetime.datetime", Past):
        code, status, _ = error_of(old.list_hosted_zones)
    assert (code, status) == ("RequestExpired", 403)
    # A tampered body (signed for one zone name, sent with another).
    r = client(leader)

    def tamper(request, **kw):  # the signed, prepared request, before sending
        request.body = request.body.replace(b"signed.example", b"sneaky.example")

    r.meta.events.register("before-send.route-53.CreateHostedZone", tamper)
    code, status, _ = error_of(r.create_hosted_zone, Name="signed.example", CallerReference="t")
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert client(leader).list_hosted_zones()["HostedZones"] == []


def aws(node, *args, akid=AKID, secret=SECRET):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    exe = os.path.join(os.path.dirname(sys.executable), "aws")
    return subprocess.run([exe, "--endpoint-url", f"http://{node.http}", "--output", "json",
                           "route53", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_aws_cli(cluster):
    leader, (f1, f2) = followers(cluster)
    p = aws(f1, "create-hosted-zone", "--name", "cli.example", "--caller-reference", "cli-1")
    assert p.returncode == 0, p.stderr
    zid = json.loads(p.stdout)["HostedZone"]["Id"]
    p = aws(f2, "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch",
            json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": "api.cli.example", "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": "198.51.100.7"}]}}]}))
    assert p.returncode == 0, p.stderr
    cid = json.loads(p.stdout)["ChangeInfo"]["Id"]
    p = aws(leader, "wait", "resource-record-sets-changed", "--id", cid)
    assert p.returncode == 0, p.stderr
    wait_dig(cluster, "api.cli.example", "A", ["198.51.100.7"])
    p = aws(leader, "list-resource-record-sets", "--hosted-zone-id", zid)
    assert p.returncode == 0, p.stderr
    names = [(s["Name"], s["Type"]) for s in json.loads(p.stdout)["ResourceRecordSets"]]
    assert ("api.cli.example.", "A") in names
    # The CLI shows Route 53's error and fails (v1 exits 255, v2 254).
    p = aws(leader, "get-hosted-zone", "--id", "ZNOSUCHZONE00000000")
    assert p.returncode in (254, 255) and "NoSuchHostedZone" in p.stderr, (p.returncode, p.stderr)
    p = aws(leader, "list-hosted-zones", secret="wrong-secret-0123456789")
    assert p.returncode in (254, 255) and "SignatureDoesNotMatch" in p.stderr, p.stderr


def test_bad_requests_get_route53_errors(cluster):
    """Hand-made requests (signed with botocore's signer): malformed XML, a
    DTD, an unknown path; each gets Route 53's ErrorResponse."""
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    node = cluster.wait_leader()
    creds = Credentials(AKID, SECRET)

    def send(method, path, body=b""):
        url = f"http://{node.http}{path}"
        req = AWSRequest(method=method, url=url, data=body)
        SigV4Auth(creds, "route53", "us-east-1").add_auth(req)
        hreq = urllib.request.Request(url, data=body or None, method=method,
                                      headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(hreq, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    status, body = send("POST", "/2013-04-01/hostedzone", b"<CreateHostedZoneRequest><Name>")
    assert status == 400 and "<Code>InvalidInput</Code>" in body and "not XML" in body, body
    dtd = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>'
           b'<CreateHostedZoneRequest><Name>&a;</Name><CallerReference>x</CallerReference>'
           b'</CreateHostedZoneRequest>')
    status, body = send("POST", "/2013-04-01/hostedzone", dtd)
    assert status == 400 and "document type" in body, body
    status, body = send("GET", "/2013-04-01/nonsense")
    assert status == 404 and "<ErrorResponse" in body, body
    status, body = send("POST", "/2013-04-01/hostedzone/ZNOSUCHZONE00000000/rrset/",
                        b"<ChangeResourceRecordSetsRequest xmlns='https://route53.amazonaws.com/"
                        b"doc/2013-04-01/'><ChangeBatch><Changes><Change><Action>CREATE</Action>"
                        b"<ResourceRecordSet><Name>a.b</Name><Type>A</Type><TTL>x</TTL>"
                        b"</ResourceRecordSet></Change></Changes></ChangeBatch>"
                        b"</ChangeResourceRecordSetsRequest>")
    assert status in (400, 404) and "<ErrorResponse" in body, body


def test_health_checks_with_boto3(cluster):
    leader, (f1, f2) = followers(cluster)
    # The shape of shared/data/route53/hc-http.json (an endpoint that is down).
    cfg = {"IPAddress": "127.0.0.1", "Port": 1, "Type": "HTTP", "ResourcePath": "/health",
           "RequestInterval": 10, "FailureThreshold": 3}
    r = client(f1)
    h = r.create_health_check(CallerReference="hc-1", HealthCheckConfig=cfg)
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 201
    hid = h["HealthCheck"]["Id"]
    assert h["Location"].endswith("/healthcheck/" + hid)
    got = h["HealthCheck"]["HealthCheckConfig"]
    for k in ("IPAddress", "Port", "Type", "ResourcePath", "RequestInterval", "FailureThreshold"):
        assert got[k] == cfg[k], (k, got)
    assert h["HealthCheck"]["HealthCheckVersion"] == 1
    # quorum53 refuses Regions (every member probes every check), clearly.
    code, status, msg = error_of(r.create_health_check, CallerReference="hc-regions",
                                 HealthCheckConfig=dict(cfg, Regions=["us-east-1", "eu-west-1",
                                                                      "ap-southeast-1"]))
    assert (code, status) == ("InvalidInput", 400) and "Regions" in msg
    # A calculated check: a list member (ChildHealthChecks) both ways.
    calc = r.create_health_check(CallerReference="hc-calc", HealthCheckConfig={
        "Type": "CALCULATED", "ChildHealthChecks": [hid], "HealthThreshold": 1,
        "Inverted": True})["HealthCheck"]
    assert calc["HealthCheckConfig"]["ChildHealthChecks"] == [hid]
    assert calc["HealthCheckConfig"]["Inverted"] is True
    code, status, _ = error_of(client(f2).create_health_check, CallerReference="hc-1",
                               HealthCheckConfig=dict(cfg, Port=9))
    assert (code, status) == ("HealthCheckAlreadyExists", 409)
    code, status, _ = error_of(r.create_health_check, CallerReference="hc-bad",
                               HealthCheckConfig=dict(cfg, IPAddress="999.1.1.1"))
    assert (code, status) == ("InvalidInput", 400)

    # Get / list / count from another node.
    r2 = client(f2)
    assert r2.get_health_check(HealthCheckId=hid)["HealthCheck"]["Id"] == hid
    assert sorted(x["Id"] for x in r2.list_health_checks()["HealthChecks"]) == sorted([hid, calc["Id"]])
    assert r2.get_health_check_count()["HealthCheckCount"] == 2
    pages = list(r2.get_paginator("list_health_checks").paginate(PaginationConfig={"PageSize": 1}))
    assert sorted(x["Id"] for p in pages for x in p["HealthChecks"]) == sorted([hid, calc["Id"]])
    assert client(leader).get_hosted_zone_count()["HostedZoneCount"] == 0

    # Update: the version must match when given; the fields merge.
    code, status, _ = error_of(r2.update_health_check, HealthCheckId=hid, HealthCheckVersion=5,
                               FailureThreshold=5)
    assert (code, status) == ("HealthCheckVersionMismatch", 409)
    u = r2.update_health_check(HealthCheckId=hid, HealthCheckVersion=1, FailureThreshold=5,
                               ResourcePath="/ready")
    assert u["HealthCheck"]["HealthCheckVersion"] == 2
    assert u["HealthCheck"]["HealthCheckConfig"]["FailureThreshold"] == 5
    assert u["HealthCheck"]["HealthCheckConfig"]["ResourcePath"] == "/ready"
    assert u["HealthCheck"]["HealthCheckConfig"]["Port"] == cfg["Port"]

    # Status: one observation per probing node (Region: its name), once
    # the nodes have probed (the endpoint is down: Failure).
    deadline = time.monotonic() + 30
    obs = []
    while time.monotonic() < deadline:
        obs = client(leader).get_health_check_status(HealthCheckId=hid)["HealthCheckObservations"]
        if len(obs) == 3:
            break
        time.sleep(0.2)
    assert sorted(o["Region"] for o in obs) == ["n1", "n2", "n3"], obs
    assert all(o["StatusReport"]["Status"].startswith(("Success", "Failure")) for o in obs)
    # The last failure each node saw (the endpoint refuses connections).
    deadline = time.monotonic() + 30
    last = []
    while time.monotonic() < deadline:
        last = r2.get_health_check_last_failure_reason(
            HealthCheckId=hid)["HealthCheckObservations"]
        if len(last) == 3:
            break
        time.sleep(0.2)
    assert sorted(o["Region"] for o in last) == ["n1", "n2", "n3"], last
    assert all(o["StatusReport"]["Status"].startswith("Failure: ") for o in last), last
    assert all(isinstance(o["StatusReport"]["CheckedTime"], datetime.datetime) for o in last)
    code, status, _ = error_of(r2.get_health_check_last_failure_reason,
                               HealthCheckId="no-such-check")
    assert (code, status) == ("NoSuchHealthCheck", 404)

    # In use by a failover record set: cannot be deleted until the set goes.
    z = r.create_hosted_zone(Name="hc.example", CallerReference="z-hc")
    zid = z["HostedZone"]["Id"]
    rs = {"Name": "www.hc.example", "Type": "A", "TTL": 30, "SetIdentifier": "p",
          "Failover": "PRIMARY", "HealthCheckId": hid,
          "ResourceRecords": [{"Value": "192.0.2.1"}]}
    ch = r.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={
        "Changes": [{"Action": "CREATE", "ResourceRecordSet": rs}]})
    r.get_waiter("resource_record_sets_changed").wait(Id=ch["ChangeInfo"]["Id"],
                                                      WaiterConfig={"Delay": 1})
    listed = r.list_resource_record_sets(HostedZoneId=zid, StartRecordName="www.hc.example",
                                         StartRecordType="A")["ResourceRecordSets"][0]
    assert listed["SetIdentifier"] == "p"
    code, status, _ = error_of(r.delete_health_check, HealthCheckId=hid)
    assert (code, status) == ("HealthCheckInUse", 400)
    r.delete_health_check(HealthCheckId=calc["Id"])
    r.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": rs}]})
    assert r.delete_health_check(HealthCheckId=hid)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Reads are answered by the node asked, from what it has applied.
    deadline = time.monotonic() + 10
    while True:
        try:
            r2.get_health_check(HealthCheckId=hid)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchHealthCheck"
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
            break
        assert time.monotonic() < deadline, "the deleted check is still there"
        time.sleep(0.1)


def test_octodns_sync_then_no_changes(cluster, tmp_path):
    """octodns with octodns-route53 (unmodified; pointed at a follower by
    AWS_ENDPOINT_URL_ROUTE_53) creates the zone of a YAML config, every node
    serves it, and a second run plans no changes."""
    exe = os.path.join(os.path.dirname(sys.executable), "octodns-sync")
    if not os.access(exe, os.X_OK):
        pytest.skip("needs the test venv's octodns (tests/venv.sh)")
    _, (f1, _) = followers(cluster)
    cfg = tmp_path / "octodns.yaml"
    cfg.write_text(f"""providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {os.path.join(HERE, "data", "octodns", "zones")}
    default_ttl: 300
  route53:
    class: octodns_route53.Route53Provider
    access_key_id: env/AWS_ACCESS_KEY_ID
    secret_access_key: env/AWS_SECRET_ACCESS_KEY
zones:
  octo.example.:
    sources: [config]
    targets: [route53]
""")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_ENDPOINT_URL_ROUTE_53=f"http://{f1.http}")
    p = subprocess.run([exe, "--config-file", str(cfg), "--doit"], capture_output=True,
                       text=True, env=env, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Creates=7" in p.stderr, p.stderr[-3000:]
    wait_dig(cluster, "www.octo.example", "A", ["192.0.2.1", "192.0.2.2"])
    wait_dig(cluster, "octo.example", "TXT", ['"some text; with a semicolon"', '"v=spf1 -all"'])
    wait_dig(cluster, "caa.octo.example", "CAA", ['0 issue "ca.example.net"'])
    wait_dig(cluster, "blog.octo.example", "CNAME", ["www.octo.example."])
    p = subprocess.run([exe, "--config-file", str(cfg)], capture_output=True, text=True,
                       env=env, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "No changes were planned" in p.stdout + p.stderr, (p.stdout + p.stderr)[-3000:]


def test_read_your_writes_through_a_follower(cluster):
    """A write answered by a follower (forwarded to the leader) is visible
    to the next read on that follower: it answers once it applied it."""
    _, (f1, _) = followers(cluster)
    r = client(f1)
    for i in range(10):
        z = r.create_hosted_zone(Name=f"ryw{i}.example", CallerReference=f"ryw-{i}")
        zid = z["HostedZone"]["Id"]
        assert r.get_hosted_zone(Id=zid)["HostedZone"]["Name"] == f"ryw{i}.example."
        r.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{
            "Action": "CREATE", "ResourceRecordSet": {
                "Name": f"a.ryw{i}.example", "Type": "A", "TTL": 5,
                "ResourceRecords": [{"Value": "192.0.2.5"}]}}]})
        sets = r.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
        assert (f"a.ryw{i}.example.", "A") in [(s["Name"], s["Type"]) for s in sets]


def test_certbot_dns_route53_plugin(cluster):
    """certbot's dns-route53 authenticator, driven directly (no ACME server):
    perform() publishes the DNS-01 TXT record through a follower and waits
    for INSYNC with GetChange; every node serves it; cleanup() removes it."""
    certbot_route53 = pytest.importorskip("certbot_dns_route53._internal.dns_route53")
    import josepy as jose
    from acme import challenges, messages
    from certbot import achallenges
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, (f1, _) = followers(cluster)
    client(f1).create_hosted_zone(Name="cert.example", CallerReference="certbot")
    key = jose.JWKRSA(key=rsa.generate_private_key(65537, 2048))
    challb = messages.ChallengeBody(chall=challenges.DNS01(token=b"q53-token-0123456"),
                                    uri="https://ca.invalid/c", status=messages.STATUS_PENDING)
    achall = achallenges.KeyAuthorizationAnnotatedChallenge(
        challb=challb, account_key=key,
        identifier=messages.Identifier(typ=messages.IDENTIFIER_FQDN, value="www.cert.example"))
    env = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_ENDPOINT_URL_ROUTE_53": f"http://{f1.http}"}
    with mock.patch.dict(os.environ, env):
        auth = certbot_route53.Authenticator(mock.MagicMock(), "dns-route53")
        auth.perform([achall])
        wait_dig(cluster, "_acme-challenge.www.cert.example", "TXT",
                 [f'"{achall.validation(key)}"'])
        auth.cleanup([achall])
    wait_dig(cluster, "_acme-challenge.www.cert.example", "TXT", [])


def test_dns_lexicon_route53(cluster, tmp_path):
    """dns-lexicon's route53 provider (its CLI): create, list, delete a TXT
    record; it finds the zone with ListHostedZonesByName."""
    exe = os.path.join(os.path.dirname(sys.executable), "lexicon")
    if not os.access(exe, os.X_OK):
        pytest.skip("needs the test venv's dns-lexicon (tests/venv.sh)")
    leader, (f1, f2) = followers(cluster)
    for name in ("a.example.org", "example.net", "b.example.net"):
        client(leader).create_hosted_zone(Name=name, CallerReference=f"lex-{name}")
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_ENDPOINT_URL_ROUTE_53=f"http://{f2.http}",
               TLDEXTRACT_CACHE=str(tmp_path / "tld"))
    base = [exe, "route53", "--auth-access-key", AKID, "--auth-access-secret", SECRET]

    def lex(*args):
        p = subprocess.run(base + list(args), capture_output=True, text=True, env=env,
                           timeout=60)
        assert p.returncode == 0, p.stderr[-2000:]
        return p.stdout

    lex("create", "example.net", "TXT", "--name", "lex", "--content", "hello lexicon")
    wait_dig(cluster, "lex.example.net", "TXT", ['"hello lexicon"'])
    assert "hello lexicon" in lex("list", "example.net", "TXT")
    lex("delete", "example.net", "TXT", "--name", "lex", "--content", "hello lexicon")
    wait_dig(cluster, "lex.example.net", "TXT", [])
    # ListHostedZonesByName: Route 53's order (labels reversed), paging.
    r = client(f1)
    names = [z["Name"] for z in r.list_hosted_zones_by_name()["HostedZones"]]
    assert names == ["example.net.", "b.example.net.", "a.example.org."]
    page = r.list_hosted_zones_by_name(DNSName="b.example.net", MaxItems="1")
    assert [z["Name"] for z in page["HostedZones"]] == ["b.example.net."]
    assert page["IsTruncated"] is True and page["NextDNSName"] == "a.example.org."


def test_https_and_plain_http_only_on_loopback(tmp_path):
    """--http-tls-cert/--http-tls-key: the API over HTTPS (boto3 checks the
    certificate against the CA it is given); plain HTTP on a non-loopback
    address is refused at start with a message saying what to do."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", str(key), "-out", str(cert), "-days", "2",
                        "-subj", "/CN=quorum53 test",
                        "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    os.chmod(key, 0o600)
    c = Cluster(str(tmp_path), keys=[(AKID, SECRET)], tls=(str(cert), str(key))).start(3)
    try:
        _, (f1, _) = followers(c)
        r = boto3.client("route53", endpoint_url=f"https://{f1.http}", region_name="us-east-1",
                         aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                         verify=str(cert))
        zid = r.create_hosted_zone(Name="tls.example", CallerReference="tls")["HostedZone"]["Id"]
        assert r.get_hosted_zone(Id=zid)["HostedZone"]["Name"] == "tls.example."
        # Plain HTTP to the HTTPS port gets no Route 53 answer.
        plain = client(f1, retries={"max_attempts": 1})
        with pytest.raises(Exception) as e:
            plain.list_hosted_zones()
        assert not isinstance(e.value, ClientError) or \
            e.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 400
        # A certificate the client does not trust: refused by the client.
        with pytest.raises(botocore.exceptions.SSLError):
            boto3.client("route53", endpoint_url=f"https://{f1.http}", region_name="us-east-1",
                         aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                         config=Config(retries={"max_attempts": 1})).list_hosted_zones()
    finally:
        bad = c.stop_all()
    assert not bad, bad
    # Plain HTTP on 0.0.0.0 without --http-insecure: refused before start.
    keys = tmp_path / "keys"
    keys.write_text(f"{AKID} {SECRET}\n")
    os.chmod(keys, 0o600)
    from q53d import free_port, q53d_binary
    d = tmp_path / "refused"
    d.mkdir()
    p = subprocess.run([q53d_binary(), "--dns", f"127.0.0.1:{free_port()}", "--data-dir", str(d),
                        "--raft", f"127.0.0.1:{free_port()}", "--api", f"127.0.0.1:{free_port()}",
                        "--http", f"0.0.0.0:{free_port()}", "--http-keys", str(keys)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "not a loopback address" in p.stderr and "--http-insecure" in p.stderr, p.stderr
    assert os.listdir(d) == []


def test_zone_comment_tags_limits_dnssec_with_boto3(cluster):
    leader, (f1, f2) = followers(cluster)
    r1, r2, rl = client(f1), client(f2), client(leader)
    zid = r1.create_hosted_zone(Name="tags.example", CallerReference="z-tags",
                                HostedZoneConfig={"Comment": "first"})["HostedZone"]["Id"]
    short = zid.split("/")[-1]

    # UpdateHostedZoneComment through a follower; read on the others.
    u = r2.update_hosted_zone_comment(Id=zid, Comment="second")
    assert u["HostedZone"]["Id"] == zid and u["HostedZone"]["Config"]["Comment"] == "second"
    assert rl.get_hosted_zone(Id=zid)["HostedZone"]["Config"]["Comment"] == "second"
    assert "Comment" not in r1.update_hosted_zone_comment(Id=zid)["HostedZone"]["Config"]
    assert "Comment" not in rl.get_hosted_zone(Id=zid)["HostedZone"]["Config"]
    # The q53 CLI's zone comment is the same operation.
    p = q53(f1.api, "zone", "comment", short, "from q53")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["HostedZone"]["Config"]["Comment"] == "from q53"
    assert rl.get_hosted_zone(Id=zid)["HostedZone"]["Config"]["Comment"] == "from q53"
    p = q53(f1.api, "zone", "comment", "ZNOSUCHZONE00000000", "x")
    assert p.returncode != 0 and "NoSuchHostedZone" in p.stderr, p.stderr
    code, status, _ = error_of(r1.update_hosted_zone_comment, Id="ZNOSUCHZONE00000000",
                               Comment="x")
    assert (code, status) == ("NoSuchHostedZone", 404)
    code, status, _ = error_of(r1.update_hosted_zone_comment, Id=zid, Comment="c" * 257)
    assert (code, status) == ("InvalidInput", 400)

    # Tags: add through a follower, list on the leader (a write is answered
    # once the leader and the node asked applied it; reads go there).
    r1.change_tags_for_resource(ResourceType="hostedzone", ResourceId=short, AddTags=[
        {"Key": "team", "Value": "dns"}, {"Key": "env", "Value": "prod"}])
    got = rl.list_tags_for_resource(ResourceType="hostedzone", ResourceId=short)["ResourceTagSet"]
    assert got["ResourceType"] == "hostedzone" and got["ResourceId"] == short
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "dns"}]
    # Removals first, then additions; a key added again gets the new value.
    r2.change_tags_for_resource(ResourceType="hostedzone", ResourceId=short,
                                AddTags=[{"Key": "env", "Value": "staging"}],
                                RemoveTagKeys=["team", "env"])
    got = rl.list_tags_for_resource(ResourceType="hostedzone", ResourceId=short)["ResourceTagSet"]
    assert got["Tags"] == [{"Key": "env", "Value": "staging"}]
    # 50 tags per resource: 49 more fit, the 51st does not.
    for k in range(0, 49, 10):
        r1.change_tags_for_resource(ResourceType="hostedzone", ResourceId=short, AddTags=[
            {"Key": f"k{i:02d}", "Value": "v" * 256} for i in range(k, min(k + 10, 49))])
    assert len(rl.list_tags_for_resource(ResourceType="hostedzone", ResourceId=short)[
        "ResourceTagSet"]["Tags"]) == 50
    code, status, msg = error_of(r1.change_tags_for_resource, ResourceType="hostedzone",
                                 ResourceId=short, AddTags=[{"Key": "one-too-many", "Value": ""}])
    assert (code, status) == ("InvalidInput", 400) and "50" in msg, msg
    # Route 53's other refusals.
    for bad in ({"Key": "k" * 129, "Value": ""}, {"Key": "x", "Value": "v" * 257},
                {"Key": "aws:reserved", "Value": ""}):
        code, status, _ = error_of(r1.change_tags_for_resource, ResourceType="hostedzone",
                                   ResourceId=short, AddTags=[bad])
        assert (code, status) == ("InvalidInput", 400), bad
    code, status, _ = error_of(r1.change_tags_for_resource, ResourceType="hostedzone",
                               ResourceId="ZNOSUCHZONE00000000", AddTags=[{"Key": "a", "Value": "b"}])
    assert (code, status) == ("NoSuchHostedZone", 404)
    code, status, _ = error_of(r2.list_tags_for_resource, ResourceType="healthcheck",
                               ResourceId="no-such-check")
    assert (code, status) == ("NoSuchHealthCheck", 404)

    # Health checks' tags; ListTagsForResources in the order asked.
    cfg = {"IPAddress": "127.0.0.1", "Port": 1, "Type": "TCP", "RequestInterval": 30,
           "FailureThreshold": 3}
    h1 = r1.create_health_check(CallerReference="t-h1", HealthCheckConfig=cfg)["HealthCheck"]["Id"]
    h2 = r1.create_health_check(CallerReference="t-h2",
                                HealthCheckConfig=dict(cfg, Port=2))["HealthCheck"]["Id"]
    r2.change_tags_for_resource(ResourceType="healthcheck", ResourceId=h2,
                                AddTags=[{"Key": "Name", "Value": "second"}])
    sets = rl.list_tags_for_resources(ResourceType="healthcheck",
                                      ResourceIds=[h2, h1])["ResourceTagSets"]
    assert [(x["ResourceId"], x.get("Tags", [])) for x in sets] == [
        (h2, [{"Key": "Name", "Value": "second"}]), (h1, [])]
    # Deleting a resource drops its tags: its id is unknown afterwards.
    r1.delete_health_check(HealthCheckId=h2)
    code, status, _ = error_of(r1.list_tags_for_resource, ResourceType="healthcheck",
                               ResourceId=h2)
    assert (code, status) == ("NoSuchHealthCheck", 404)

    # Limits: a new zone has Route 53's default 10,000 record sets (q53d
    # --zone-record-limit); Count is the usage.
    lim = rl.get_hosted_zone_limit(Type="MAX_RRSETS_BY_ZONE", HostedZoneId=zid)
    assert lim["Limit"] == {"Type": "MAX_RRSETS_BY_ZONE", "Value": 10000}
    assert lim["Count"] == 2  # SOA and NS
    code, status, _ = error_of(rl.get_hosted_zone_limit, Type="MAX_VPCS_ASSOCIATED_BY_ZONE",
                               HostedZoneId=zid)
    assert (code, status) == ("HostedZoneNotPrivate", 400)
    code, status, _ = error_of(rl.get_hosted_zone_limit, Type="MAX_RRSETS_BY_ZONE",
                               HostedZoneId="ZNOSUCHZONE00000000")
    assert (code, status) == ("NoSuchHostedZone", 404)
    acct = r1.get_account_limit(Type="MAX_HOSTED_ZONES_BY_OWNER")
    assert acct["Count"] == 1 and acct["Limit"]["Value"] == 2**63 - 1
    assert r1.get_account_limit(Type="MAX_HEALTH_CHECKS_BY_OWNER")["Count"] == 1
    tp = r2.get_account_limit(Type="MAX_TRAFFIC_POLICIES_BY_OWNER")
    assert (tp["Limit"]["Value"], tp["Count"]) == (0, 0)

    # The members' probe source addresses.
    want = sorted(f"{n.host}/32" for n in cluster.members())
    assert r1.get_checker_ip_ranges()["CheckerIpRanges"] == sorted(set(want))

    # DNSSEC: not signing (no KSKs) until DNSSEC lands.
    d = r1.get_dnssec(HostedZoneId=zid)
    assert d["Status"]["ServeSignature"] == "NOT_SIGNING" and d["KeySigningKeys"] == []
    code, status, _ = error_of(r2.get_dnssec, HostedZoneId="ZNOSUCHZONE00000000")
    assert (code, status) == ("NoSuchHostedZone", 404)

    # Deleting the zone drops its tags.
    r1.delete_hosted_zone(Id=zid)
    code, status, _ = error_of(r1.list_tags_for_resource, ResourceType="hostedzone",
                               ResourceId=short)
    assert (code, status) == ("NoSuchHostedZone", 404)


def test_tags_with_the_aws_cli(cluster):
    leader, (f1, f2) = followers(cluster)
    p = aws(f1, "create-hosted-zone", "--name", "clitags.example", "--caller-reference", "ct-1")
    assert p.returncode == 0, p.stderr
    short = json.loads(p.stdout)["HostedZone"]["Id"].split("/")[-1]
    p = aws(f2, "change-tags-for-resource", "--resource-type", "hostedzone", "--resource-id",
            short, "--add-tags", "Key=owner,Value=ops", "Key=cost,Value=42")
    assert p.returncode == 0, p.stderr
    p = aws(leader, "list-tags-for-resource", "--resource-type", "hostedzone", "--resource-id",
            short)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ResourceTagSet"]["Tags"] == [
        {"Key": "cost", "Value": "42"}, {"Key": "owner", "Value": "ops"}]
    p = aws(f1, "change-tags-for-resource", "--resource-type", "hostedzone", "--resource-id",
            short, "--remove-tag-keys", "cost")
    assert p.returncode == 0, p.stderr
    p = aws(f1, "list-tags-for-resources", "--resource-type", "hostedzone", "--resource-ids",
            short)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ResourceTagSets"][0]["Tags"] == [{"Key": "owner", "Value": "ops"}]
    p = aws(f1, "change-tags-for-resource", "--resource-type", "hostedzone", "--resource-id",
            "ZNOSUCHZONE00000000", "--add-tags", "Key=a,Value=b")
    assert p.returncode in (254, 255) and "NoSuchHostedZone" in p.stderr, p.stderr


def test_weighted_multivalue_with_boto3(cluster):
    """Weight (0 included) and MultiValueAnswer through Route 53's XML, both
    ways: ChangeResourceRecordSets takes them, ListResourceRecordSets gives
    them back; a record set differing only in Weight is not the same one
    for DELETE."""
    leader, (f1, _) = followers(cluster)
    r = client(f1)
    zid = r.create_hosted_zone(Name="w.example", CallerReference=f"w-{time.time()}")[
        "HostedZone"]["Id"]

    def rrs(sid, **kw):
        return {"Name": "app.w.example", "Type": "A", "TTL": 60, "SetIdentifier": sid,
                "ResourceRecords": [{"Value": kw.pop("value")}], **kw}

    ch = r.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": rrs("blue", Weight=90, value="192.0.2.41")},
        {"Action": "CREATE", "ResourceRecordSet": rrs("off", Weight=0, value="192.0.2.43")},
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "pool.w.example", "Type": "A", "TTL": 60, "SetIdentifier": "m1",
            "MultiValueAnswer": True, "ResourceRecords": [{"Value": "192.0.2.61"}]}}]})
    r.get_waiter("resource_record_sets_changed").wait(
        Id=ch["ChangeInfo"]["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    sets = client(leader).list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    got = {(s["Name"], s.get("SetIdentifier")): s for s in sets}
    assert got[("app.w.example.", "blue")]["Weight"] == 90
    assert got[("app.w.example.", "off")]["Weight"] == 0
    assert "MultiValueAnswer" not in got[("app.w.example.", "off")]
    assert got[("pool.w.example.", "m1")]["MultiValueAnswer"] is True
    assert "Weight" not in got[("pool.w.example.", "m1")]
    code, status, msg = error_of(r.change_resource_record_sets, HostedZoneId=zid,
                                 ChangeBatch={"Changes": [{"Action": "DELETE",
                                              "ResourceRecordSet": rrs("off", Weight=1,
                                                                       value="192.0.2.43")}]})
    assert (code, status) == ("InvalidChangeBatch", 400), msg
    wait_dig(cluster, "app.w.example", "A", ["192.0.2.41"])
