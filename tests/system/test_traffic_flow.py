"""Traffic Flow on a 3-node cluster (real q53d processes), driven by boto3
through Route 53's REST API:

* CreateTrafficPolicy with a document whose failover rule's primary is a
  weighted rule over two endpoints (3:1), the secondary an endpoint; the
  primary carries a health check on an HTTP endpoint this test runs.
* CreateTrafficPolicyInstance binds it to www.flow.example with TTL 60;
  Get/List* and GetTrafficPolicyInstanceCount show it; the name refuses an
  ordinary A record set; DeleteTrafficPolicy is refused while it is used
  (TrafficPolicyInUse); a bad document is InvalidTrafficPolicyDocument
  naming the JSON path.
* 10,000 query IDs to every node: the weighted shares pass a chi-square
  test (p > 0.001); the same 1,000 packets give the same bytes on all
  three nodes.
* Stopping the primary's health-check endpoint moves every node's answers
  to the secondary; `q53 test-answer --id N` agrees with the DNS answer to
  a packet of ID N; dig and kdig see the answers.

test_policy_records_listed_and_paged (one node): policy records listed by
ListResourceRecordSets with TrafficPolicyInstanceId in canonical position
(and by `q53 records list`), changes to their name and type refused as
InvalidChangeBatch, ListTrafficPolicyInstances* paged by Route 53's
markers; a geoproximity and a cidr policy record answer over DNS.

Waits poll with a deadline; processes and endpoints are started here and
stopped by their own handles."""
import json
import subprocess
import time

import pytest

boto3 = pytest.importorskip("boto3", reason="needs the test venv (tests/venv.sh)")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from cluster import Cluster, q53  # noqa: E402
from health_endpoints import HTTPEndpoint  # noqa: E402
from test_routing_policies import addresses, chi2, exchange, packets  # noqa: E402

AKID = "AKIAQ53SYSTEMTEST001"
SECRET = "q53-system-test-secret-0123456789abcdef"
ZONE = "flow.example"
WWW = "www.flow.example."
A, B, S = "192.0.2.1", "192.0.2.2", "192.0.2.9"
QUERIES = 10000
CHI2_999_DF1 = 10.828


def document(check_id):
    return json.dumps({
        "AWSPolicyFormatVersion": "2015-10-01",
        "RecordType": "A",
        "StartRule": "site",
        "Endpoints": {
            "a": {"Type": "value", "Value": A},
            "b": {"Type": "value", "Value": B},
            "s": {"Type": "value", "Value": S},
        },
        "Rules": {
            "site": {
                "RuleType": "failover",
                "Primary": {"RuleReference": "pool", "HealthCheck": check_id,
                            "EvaluateTargetHealth": True},
                "Secondary": {"EndpointReference": "s"},
            },
            "pool": {
                "RuleType": "weighted",
                "Items": [{"EndpointReference": "a", "Weight": "3"},
                          {"EndpointReference": "b", "Weight": "1"}],
            },
        },
    })


@pytest.fixture
def cluster(tmp_path):
    # Snapshots every 16 entries: a restarted node loads the policies and
    # policy records from one (FsmSnapshot 12, 13).
    c = Cluster(str(tmp_path), keys=[(AKID, SECRET)], snapshot_threshold=16).start(3)
    ep = HTTPEndpoint("127.0.0.70").start()
    c.endpoint = ep
    yield c
    ep.stop()
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def client(node):
    return boto3.client(
        "route53", endpoint_url=f"http://{node.http}", region_name="eu-west-3",
        aws_access_key_id=AKID, aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 2}))


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def shares(node, n, seed):
    counts = {}
    for wire in exchange(node, packets(WWW, n, seed)).values():
        a = addresses(wire)
        assert len(a) == 1, a
        counts[a[0]] = counts.get(a[0], 0) + 1
    return counts


def wait_all(c, pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = {n.id: shares(n, 64, 11) for n in c.members()}
        if all(pred(v) for v in last.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s: {last}")


def test_traffic_policy_instance(cluster):
    c = cluster
    nodes = c.members()
    r = client(nodes[1])
    zid = r.create_hosted_zone(Name=ZONE, CallerReference=f"tf-{time.time()}")[
        "HostedZone"]["Id"].split("/")[-1]
    # A fast check (q53's 1 s interval; Route 53's REST takes 10 or 30).
    p = q53(nodes[0].api, "health", "create", "-", stdin=json.dumps({
        "IPAddress": c.endpoint.host, "Port": c.endpoint.port, "Type": "HTTP",
        "ResourcePath": "/health", "RequestInterval": 1, "FailureThreshold": 2}))
    assert p.returncode == 0, p.stderr
    hc = json.loads(p.stdout)["HealthCheck"]["Id"]

    # Documents Route 53 refuses, in its words.
    code, status, msg = error_of(r.create_traffic_policy, Name="bad",
                                 Document=document(hc).replace('"3"', '"300"'))
    assert (code, status) == ("InvalidTrafficPolicyDocument", 400), msg
    assert "$.Rules.pool.Items[0].Weight" in msg, msg
    lat = json.loads(document(hc))
    lat["Rules"]["pool"] = {"RuleType": "geoproximity",
                            "GeoproximityLocations": []}
    code, _, msg = error_of(r.create_traffic_policy, Name="lat",
                            Document=json.dumps(lat))
    assert code == "InvalidTrafficPolicyDocument" and \
        "$.Rules.pool.GeoproximityLocations: must be an array" in msg, msg

    code, status, msg = error_of(r.create_traffic_policy, Name="nohc",
                                 Document=document("no-such-check"))
    assert (code, status) == ("NoSuchHealthCheck", 404), msg
    created = r.create_traffic_policy(Name="site", Document=document(hc),
                                      Comment="weighted under failover")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    tp = created["TrafficPolicy"]
    assert (tp["Version"], tp["Name"], tp["Type"]) == (1, "site", "A")
    assert created["Location"].endswith(f"/trafficpolicy/{tp['Id']}/1")
    assert json.loads(tp["Document"]) == json.loads(document(hc))
    code, status, _ = error_of(r.create_traffic_policy, Name="site",
                               Document=document(hc))
    assert (code, status) == ("TrafficPolicyAlreadyExists", 409)
    v2 = r.create_traffic_policy_version(Id=tp["Id"], Document=document(hc))
    assert v2["TrafficPolicy"]["Version"] == 2
    got = client(nodes[2]).get_traffic_policy(Id=tp["Id"], Version=1)["TrafficPolicy"]
    assert got["Comment"] == "weighted under failover"
    r.update_traffic_policy_comment(Id=tp["Id"], Version=2, Comment="v2")
    listed = r.list_traffic_policies()["TrafficPolicySummaries"]
    assert [(p["Id"], p["LatestVersion"], p["TrafficPolicyCount"]) for p in listed] == \
        [(tp["Id"], 2, 2)]
    versions = r.list_traffic_policy_versions(Id=tp["Id"])["TrafficPolicies"]
    assert [(v["Version"], v.get("Comment")) for v in versions] == \
        [(1, "weighted under failover"), (2, "v2")]
    # A check a policy uses is not deleted.
    code, status, msg = error_of(r.delete_health_check, HealthCheckId=hc)
    assert (code, status) == ("HealthCheckInUse", 400) and "traffic policy" in msg, msg
    r.delete_traffic_policy(Id=tp["Id"], Version=2)
    code, status, _ = error_of(r.get_traffic_policy, Id=tp["Id"], Version=2)
    assert (code, status) == ("NoSuchTrafficPolicy", 404)

    inst = r.create_traffic_policy_instance(
        HostedZoneId=zid, Name="www.flow.example", TTL=60,
        TrafficPolicyId=tp["Id"], TrafficPolicyVersion=1)
    assert inst["ResponseMetadata"]["HTTPStatusCode"] == 201
    ti = inst["TrafficPolicyInstance"]
    assert (ti["Name"], ti["TTL"], ti["State"], ti["TrafficPolicyType"]) == \
        (WWW, 60, "Applied", "A")
    assert r.get_traffic_policy_instance(Id=ti["Id"])["TrafficPolicyInstance"]["Id"] == ti["Id"]
    assert r.get_traffic_policy_instance_count()["TrafficPolicyInstanceCount"] == 1
    assert [i["Id"] for i in r.list_traffic_policy_instances()["TrafficPolicyInstances"]] == \
        [ti["Id"]]
    assert [i["Id"] for i in r.list_traffic_policy_instances_by_hosted_zone(
        HostedZoneId=zid)["TrafficPolicyInstances"]] == [ti["Id"]]
    assert [i["Id"] for i in r.list_traffic_policy_instances_by_policy(
        TrafficPolicyId=tp["Id"], TrafficPolicyVersion=1)["TrafficPolicyInstances"]] == \
        [ti["Id"]]
    code, status, _ = error_of(r.delete_traffic_policy, Id=tp["Id"], Version=1)
    assert (code, status) == ("TrafficPolicyInUse", 400)
    # The q53 CLI sees the same, from another node.
    p = q53(nodes[2].api, "policy-record", "get", ti["Id"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["TrafficPolicyInstance"]["Name"] == WWW
    p = q53(nodes[2].api, "traffic-policy", "versions", tp["Id"])
    assert [v["Version"] for v in json.loads(p.stdout)["TrafficPolicies"]] == [1]
    p = q53(nodes[0].api, "traffic-policy", "delete", tp["Id"], "1")
    assert p.returncode == 1 and "TrafficPolicyInUse" in p.stderr, p.stderr
    p = q53(nodes[0].api, "traffic-policy", "create", "cli", "-",
            stdin=document(hc).replace("2015-10-01", "2015-10-02"))
    assert p.returncode == 1 and "InvalidTrafficPolicyDocument" in p.stderr, p.stderr
    code, status, msg = error_of(
        r.change_resource_record_sets, HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": "www.flow.example", "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.77"}]}}]})
    assert (code, status) == ("InvalidChangeBatch", 400) and "traffic policy" in msg, msg

    # The weighted shares under the healthy primary, on every node.
    wait_all(c, lambda v: set(v) <= {A, B} and len(v) == 2, 30, "the weighted pool")
    pk = packets(WWW, QUERIES, 1)
    for n in nodes:
        counts = {}
        for wire in exchange(n, pk).values():
            a = addresses(wire)
            assert len(a) == 1, a
            counts[a[0]] = counts.get(a[0], 0) + 1
        x = chi2(counts, {A: 0.75, B: 0.25}, QUERIES)
        assert set(counts) == {A, B} and x < CHI2_999_DF1, (n.id, counts, x)
    # Byte identity.
    pk = packets(WWW, 1000, 3)
    got = [exchange(n, pk) for n in nodes]
    for qid, wire in got[0].items():
        assert got[1][qid] == wire and got[2][qid] == wire, qid

    # q53 test-answer agrees with the DNS answer to the same query ID.
    def test_answer(qid):
        p = q53(nodes[0].api, "test-answer", zid, WWW, "A", "--id", qid,
                "--resolver-ip", "127.0.0.1")
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)
    for qid in (1, 2, 3, 500, 4096, 65535):
        ta = test_answer(qid)
        want = exchange(nodes[0], [_with_id(WWW, qid)])[qid]
        assert sorted(ta["RecordData"]) == sorted(addresses(want)), (qid, ta)
        assert "traffic policy instance" in ta["Branch"], ta
        assert '> failover "site" Primary > weighted "pool" item' in ta["Branch"], ta
    out = subprocess.run(["dig", "+short", "-p", str(nodes[0].dns_port),
                          f"@{nodes[0].host}", WWW, "A"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0 and out.stdout.split() in ([A], [B]), out
    out = subprocess.run(["kdig", f"@{nodes[1].host}", "-p", str(nodes[1].dns_port),
                          "+short", "+notcp", WWW, "A"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0 and out.stdout.split() in ([A], [B]), out

    # The primary's health check fails: every node answers the secondary.
    c.endpoint.stop()
    wait_all(c, lambda v: set(v) == {S}, 60, "the secondary after the primary failed")
    ta = test_answer(7)
    assert ta["RecordData"] == [S], ta
    assert ta["Branch"].endswith('> failover "site" Secondary (s)'), ta

    # A node restarted (from its snapshot and log) answers the same bytes.
    assert nodes[2].stop() == 0
    nodes[2].start()
    pk = packets(WWW, 200, 5)
    deadline = time.monotonic() + 60
    while True:
        try:
            got = [exchange(n, pk, timeout=0.5) for n in nodes]
            if all(g == got[0] for g in got):
                break
        except AssertionError:
            pass
        assert time.monotonic() < deadline, "the restarted node differs"
        time.sleep(0.2)
    assert all(addresses(w) == [S] for w in got[0].values())

    # UpdateTrafficPolicyInstance (TTL), then delete it and the policy.
    up = r.update_traffic_policy_instance(Id=ti["Id"], TTL=30,
                                          TrafficPolicyId=tp["Id"],
                                          TrafficPolicyVersion=1)
    assert up["TrafficPolicyInstance"]["TTL"] == 30
    r.delete_traffic_policy_instance(Id=ti["Id"])
    code, status, _ = error_of(r.get_traffic_policy_instance, Id=ti["Id"])
    assert (code, status) == ("NoSuchTrafficPolicyInstance", 404)
    r.delete_traffic_policy(Id=tp["Id"], Version=1)
    assert r.list_traffic_policies()["TrafficPolicySummaries"] == []


def _with_id(qname, qid):
    import dns.message
    m = dns.message.make_query(qname, "A")
    m.id = qid
    return m.to_wire()


def simple_doc(value, rtype="A"):
    return json.dumps({
        "AWSPolicyFormatVersion": "2015-10-01", "RecordType": rtype,
        "StartEndpoint": "e",
        "Endpoints": {"e": {"Type": "value", "Value": value}}})


def dig_short(node, name, rtype="A"):
    out = subprocess.run(["dig", "+short", "-p", str(node.dns_port),
                          f"@{node.host}", name, rtype],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out
    return out.stdout.split()


def wait_dig(node, name, want, timeout=20):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = dig_short(node, name)
        if got == want:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name}: {got}, not {want}")


@pytest.fixture
def one_node(tmp_path):
    c = Cluster(str(tmp_path), keys=[(AKID, SECRET)]).start(1)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def test_policy_records_listed_and_paged(one_node):
    node = one_node.members()[0]
    r = client(node)
    zids = []
    for zname in ("flow.example", "other.example"):
        zids.append(r.create_hosted_zone(
            Name=zname, CallerReference=f"{zname}-{time.time()}")[
                "HostedZone"]["Id"].split("/")[-1])
    zid = zids[0]
    r.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": n, "Type": t, "TTL": 60, "ResourceRecords": [{"Value": v}]}}
        for n, t, v in (("a.flow.example", "A", "192.0.2.50"),
                        ("www.flow.example", "TXT", '"t"'),
                        ("zzz.flow.example", "A", "192.0.2.51"))]})
    tp = r.create_traffic_policy(Name="one", Document=simple_doc("192.0.2.60"))[
        "TrafficPolicy"]
    tp6 = r.create_traffic_policy(Name="six", Document=simple_doc("2001:db8::6", "AAAA"))[
        "TrafficPolicy"]
    inst = r.create_traffic_policy_instance(
        HostedZoneId=zid, Name="www.flow.example", TTL=45,
        TrafficPolicyId=tp["Id"], TrafficPolicyVersion=1)["TrafficPolicyInstance"]

    # ListResourceRecordSets: the policy record in canonical position
    # (www A before www TXT), with its instance's id and TTL.
    sets = r.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    keys = [(s["Name"], s["Type"]) for s in sets]
    assert keys == [("flow.example.", "NS"), ("flow.example.", "SOA"),
                    ("a.flow.example.", "A"), ("www.flow.example.", "A"),
                    ("www.flow.example.", "TXT"), ("zzz.flow.example.", "A")], keys
    pr = sets[3]
    assert pr["TrafficPolicyInstanceId"] == inst["Id"] and pr["TTL"] == 45, pr
    assert all("TrafficPolicyInstanceId" not in s for i, s in enumerate(sets) if i != 3)
    # Page by page (MaxItems 1), from StartRecordName too.
    paged, kw = [], {}
    for _ in range(20):
        page = r.list_resource_record_sets(HostedZoneId=zid, MaxItems="1", **kw)
        paged += [(s["Name"], s["Type"]) for s in page["ResourceRecordSets"]]
        if not page["IsTruncated"]:
            break
        kw = {"StartRecordName": page["NextRecordName"],
              "StartRecordType": page["NextRecordType"]}
    assert paged == keys, paged
    page = r.list_resource_record_sets(HostedZoneId=zid, StartRecordName="www.flow.example",
                                       StartRecordType="A", MaxItems="1")
    assert [s.get("TrafficPolicyInstanceId") for s in page["ResourceRecordSets"]] == \
        [inst["Id"]]
    assert (page["NextRecordName"], page["NextRecordType"]) == ("www.flow.example.", "TXT")
    # The q53 CLI lists it too.
    p = q53(node.api, "records", "list", "flow.example")
    assert p.returncode == 0, p.stderr
    got = [s for s in json.loads(p.stdout)["ResourceRecordSets"]
           if s.get("TrafficPolicyInstanceId")]
    assert [(s["Name"], s["Type"], s["TrafficPolicyInstanceId"]) for s in got] == \
        [("www.flow.example.", "A", inst["Id"])], got
    p = q53(node.api, "records", "list", "flow.example", json_out=False)
    assert p.returncode == 0 and f"traffic policy instance {inst['Id']}" in p.stdout, p.stdout

    # Changes to the policy record's name and type: refused, named.
    for action in ("CREATE", "UPSERT", "DELETE"):
        code, status, msg = error_of(
            r.change_resource_record_sets, HostedZoneId=zid, ChangeBatch={"Changes": [
                {"Action": action, "ResourceRecordSet": {
                    "Name": "www.flow.example", "Type": "A", "TTL": 45,
                    "ResourceRecords": [{"Value": "192.0.2.60"}]}}]})
        assert (code, status) == ("InvalidChangeBatch", 400), (action, msg)
        assert "traffic policy instance" in msg, (action, msg)
    wait_dig(node, "www.flow.example", ["192.0.2.60"])

    # ListTrafficPolicyInstances*: Route 53's markers (hosted zone, name,
    # type), > MaxItems instances.
    made = [inst]
    for zi, name, t in ((0, "b.flow.example", tp), (0, "b.flow.example", tp6),
                        (1, "m.other.example", tp), (0, "c.flow.example", tp6),
                        (1, "a.other.example", tp6)):
        made.append(r.create_traffic_policy_instance(
            HostedZoneId=zids[zi], Name=name, TTL=30, TrafficPolicyId=t["Id"],
            TrafficPolicyVersion=1)["TrafficPolicyInstance"])
    order = sorted(made, key=lambda i: (i["HostedZoneId"],
                                        list(reversed(i["Name"].rstrip(".").split("."))),
                                        {"A": 1, "AAAA": 28}[i["TrafficPolicyType"]]))

    def pages(call, marker_keys, **kw):
        seen, mk = [], {}
        for _ in range(10):
            page = call(MaxItems="2", **kw, **mk)
            seen += [i["Id"] for i in page["TrafficPolicyInstances"]]
            assert len(page["TrafficPolicyInstances"]) <= 2
            if not page["IsTruncated"]:
                assert "TrafficPolicyInstanceNameMarker" not in page
                return seen
            mk = {k: page[k] for k in marker_keys}
        raise AssertionError("no last page")
    all3 = ("HostedZoneIdMarker", "TrafficPolicyInstanceNameMarker",
            "TrafficPolicyInstanceTypeMarker")
    assert pages(r.list_traffic_policy_instances, all3) == [i["Id"] for i in order]
    assert pages(r.list_traffic_policy_instances_by_hosted_zone, all3[1:],
                 HostedZoneId=zid) == [i["Id"] for i in order if i["HostedZoneId"] == zid]
    by6 = [i["Id"] for i in order if i["TrafficPolicyId"] == tp6["Id"]]
    assert pages(r.list_traffic_policy_instances_by_policy, all3,
                 TrafficPolicyId=tp6["Id"], TrafficPolicyVersion=1) == by6
    # A marker in the middle: from that instance on.
    mid = order[3]
    page = r.list_traffic_policy_instances(
        HostedZoneIdMarker=mid["HostedZoneId"],
        TrafficPolicyInstanceNameMarker=mid["Name"],
        TrafficPolicyInstanceTypeMarker=mid["TrafficPolicyType"], MaxItems="100")
    assert [i["Id"] for i in page["TrafficPolicyInstances"]] == [i["Id"] for i in order[3:]]
    code, status, _ = error_of(r.list_traffic_policy_instances,
                               TrafficPolicyInstanceNameMarker="a..b",
                               TrafficPolicyInstanceTypeMarker="A",
                               HostedZoneIdMarker=zid)
    assert (code, status) == ("InvalidInput", 400)

    # A geoproximity and a cidr policy record answer over DNS (no --geoip:
    # the location of the largest Bias; a client in no block: "*").
    gp = r.create_traffic_policy(Name="gp", Document=json.dumps({
        "AWSPolicyFormatVersion": "2015-10-01", "RecordType": "A",
        "StartRule": "g",
        "Endpoints": {"n": {"Type": "value", "Value": "192.0.2.71"},
                      "l": {"Type": "value", "Value": "192.0.2.72"}},
        "Rules": {"g": {"RuleType": "geoproximity", "GeoproximityLocations": [
            {"EndpointReference": "n", "Region": "aws:route53:us-east-1", "Bias": "-5"},
            {"EndpointReference": "l", "Latitude": "51.50", "Longitude": "-0.16",
             "Bias": "20"}]}}}))["TrafficPolicy"]
    r.create_traffic_policy_instance(HostedZoneId=zid, Name="gp.flow.example", TTL=30,
                                     TrafficPolicyId=gp["Id"], TrafficPolicyVersion=1)
    wait_dig(node, "gp.flow.example", ["192.0.2.72"])
    nocol = json.dumps({
        "AWSPolicyFormatVersion": "2015-10-01", "RecordType": "A", "StartRule": "c",
        "Endpoints": {"d": {"Type": "value", "Value": "192.0.2.89"}},
        "Rules": {"c": {"RuleType": "cidr", "Locations": [
            {"EndpointReference": "d", "LocationName": "*",
             "CollectionId": "00000000-0000-4000-8000-000000000000"}]}}})
    code, status, msg = error_of(r.create_traffic_policy, Name="nocol", Document=nocol)
    assert (code, status) == ("NoSuchCidrCollectionException", 404), (code, status, msg)
    col = r.create_cidr_collection(Name="isps", CallerReference=f"c-{time.time()}")[
        "Collection"]
    r.change_cidr_collection(Id=col["Id"], Changes=[
        {"LocationName": "loop", "Action": "PUT", "CidrList": ["127.0.0.0/8"]}])
    ip = r.create_traffic_policy(Name="ip", Document=json.dumps({
        "AWSPolicyFormatVersion": "2015-10-01", "RecordType": "A",
        "StartRule": "c",
        "Endpoints": {"lo": {"Type": "value", "Value": "192.0.2.81"},
                      "d": {"Type": "value", "Value": "192.0.2.89"}},
        "Rules": {"c": {"RuleType": "cidr", "Locations": [
            {"EndpointReference": "lo", "CollectionId": col["Id"], "LocationName": "loop"},
            {"EndpointReference": "d", "CollectionId": col["Id"],
             "LocationName": "*"}]}}}))["TrafficPolicy"]
    r.create_traffic_policy_instance(HostedZoneId=zid, Name="ip.flow.example", TTL=30,
                                     TrafficPolicyId=ip["Id"], TrafficPolicyVersion=1)
    wait_dig(node, "ip.flow.example", ["192.0.2.81"])
    # The collection changes: the policy record follows.
    r.change_cidr_collection(Id=col["Id"], Changes=[
        {"LocationName": "loop", "Action": "PUT", "CidrList": ["10.0.0.0/8"]},
        {"LocationName": "loop", "Action": "DELETE_IF_EXISTS", "CidrList": ["127.0.0.0/8"]}])
    wait_dig(node, "ip.flow.example", ["192.0.2.89"])
