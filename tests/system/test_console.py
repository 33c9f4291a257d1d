"""The browser console (/console/), in headless Chromium driven by selenium,
against a 3-node cluster:

* the static files: Content-Type, Cache-Control, 404, the /console redirect,
  no authentication needed (the page signs its own API requests);
* sign-in with a wrong secret is refused by the API, with the right one the
  page goes on;
* a zone created through the form, a weighted record set (two members)
  added through the form as one ChangeResourceRecordSets batch, shown
  PENDING -> INSYNC; the API lists the set as given and every node answers
  it (dnspython); then one member edited and the other deleted in one
  batch (UPSERT + DELETE); TestDNSAnswer's form shows the node's answer;
* a zone exported in the page (as `q53 zone export` prints it), edited and
  imported back: every node answers the new file; the table sorts by name;
* record sets a page at a time through the API's markers, the pages
  together the API's whole listing;
* a key whose policy allows one zone sees that zone only;
* a health check created in the page turns Unhealthy in its chart when its
  endpoint stops, with the transition's log index the API reports; edited
  in the page to a live endpoint (UpdateHealthCheck) it turns Healthy;
* failover sets (PRIMARY with a health check, SECONDARY) through the form,
  listed back by Route 53's API with their role and check, and the edit form
  filled from that listing;
* at 390 px the page does not scroll sideways;
* the cluster page lists the 3 members with the leader the API names, and
  removes a follower.

Screenshots go to the test's tmp dir (console-shots/). Every wait polls
with a deadline; the nodes and the endpoints are stopped by their handles;
chromedriver is quit (it ends its Chromium)."""
import http.client
import json
import os
import shutil
import time

import dns.message
import dns.query
import pytest

from cluster import Cluster, q53
from health_endpoints import HTTPEndpoint, TCPEndpoint

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("needs Debian's chromium and chromium-driver (deploy/install-deps.sh)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver",
                                reason="needs selenium (tests/requirements-pypi.txt)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

TIMEOUT = 30.0


def wait_for(pred, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            got = pred()
        except Exception as e:  # the DOM changing under us: try again
            got, last = None, e
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s (last error: {last})")


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("console")))
    c.extra_args = ["--alarm-exec", "true"]  # the leader keeps an alarm history
    c.start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


@pytest.fixture(scope="module")
def admin(cluster):
    path = cluster.admin_key
    wait_for(lambda: os.path.exists(path), "admin-key written")
    kv = dict(line.split("=", 1) for line in open(path).read().splitlines()
              if "=" in line and not line.startswith("#"))
    return kv["AWS_ACCESS_KEY_ID"], kv["AWS_SECRET_ACCESS_KEY"]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("console-shots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager: never download a driver
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,900", "--no-first-run", "--disable-extensions",
              # nothing but the cluster on loopback: no update, safe-browsing
              # or metrics traffic
              "--disable-background-networking", "--disable-sync", "--no-proxy-server",
              "--disable-component-update", "--disable-domain-reliability", "--no-pings",
              "--disable-client-side-phishing-detection", "--disable-default-apps",
              "--metrics-recording-only", "--safebrowsing-disable-auto-update",
              f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_page_load_timeout(30)
    yield d
    d.quit()


def console_url(node, frag=""):
    return f"http://{node.http}/console/{frag}"


def js_errors(d):
    """The page's script errors since the last call (refused API requests
    are logged as "network" errors: expected in some tests)."""
    return [e for e in d.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]


def sign_in(d, node, key):
    d.get(console_url(node))
    d.execute_script("sessionStorage.clear()")
    d.get(console_url(node))
    akid = wait_for(lambda: d.find_element(By.ID, "akid"), "sign-in form")
    wait_for(lambda: akid.is_displayed(), "sign-in form shown")
    akid.clear()
    akid.send_keys(key[0])
    d.find_element(By.ID, "secret").send_keys(key[1])
    d.find_element(By.ID, "signin-btn").click()


def rows(d, table):
    return d.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")


def texts(els):
    return [e.text for e in els]


def shot(d, path):
    d.execute_script("window.scrollTo(0, 0)")
    d.save_screenshot(str(path))


# --- static files ----------------------------------------------------------


def get(node, path, method="GET"):
    host, port = node.http.split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def test_static_files(cluster):
    n = cluster.nodes[2]  # every node serves it
    st, hd, _ = get(n, "/console")
    assert st == 301 and hd["location"] == "/console/", (st, hd)
    st, hd, body = get(n, "/console/")
    assert st == 200 and hd["content-type"].startswith("text/html"), (st, hd)
    assert hd["cache-control"] == "no-cache" and "default-src 'none'" in hd["content-security-policy"]
    assert b'src="api.js"' in body and b"http://" not in body and b"https://" not in body
    for name, ctype in (("api.js", "text/javascript"), ("console.js", "text/javascript"),
                        ("chart.js", "text/javascript"), ("console.css", "text/css")):
        st, hd, body = get(n, "/console/" + name)
        src = open(os.path.join(os.path.dirname(__file__), "..", "..", "node", "api", "console",
                                name), "rb").read()
        assert st == 200 and hd["content-type"].startswith(ctype) and body == src, (name, st, hd)
    for bad in ("/console/nope.js", "/console/../rest.c", "/console/a/b.js", "/consolex"):
        st, _, _ = get(n, bad)
        assert st in (403, 404), (bad, st)  # /consolex: the REST edge's own refusal
    st, hd, body = get(n, "/console/console.js", method="HEAD")
    assert st == 200 and body == b"" and hd["content-type"].startswith("text/javascript"), (st, hd)
    st, _, _ = get(n, "/console/", method="POST")
    assert st == 405


# --- sign-in, a zone, a weighted record set through the form ---------------------


def test_signin_zone_weighted_insync(cluster, browser, admin, shots):
    d = browser
    node = cluster.nodes[1]
    # A wrong secret: the API refuses the signature, the page stays at sign-in.
    sign_in(d, node, (admin[0], "x" * 40))
    err = wait_for(lambda: d.find_element(By.ID, "signin-error").text, "sign-in refused")
    assert "SignatureDoesNotMatch" in err, err
    assert d.find_element(By.ID, "signin").is_displayed()
    assert d.execute_script("return sessionStorage.length") == 0

    sign_in(d, node, admin)
    wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed(), "zones page")
    name = f"console-{os.getpid()}.test"
    d.find_element(By.ID, "zone-name").send_keys(name)
    d.find_element(By.ID, "zone-comment").send_keys("made in the console")
    d.find_element(By.ID, "zone-create").click()
    row = wait_for(lambda: [r for r in rows(d, "zones-table")
                            if r.get_attribute("data-zone-name") == name + "."], "zone row")[0]
    zid = row.get_attribute("data-zone-id")
    # the API has it, under that id
    zones = ok(q53(cluster.nodes[3].api, "zone", "list"))
    listed = {z["Id"].split("/")[-1]: z["Name"] for z in zones["HostedZones"]}
    assert listed.get(zid) == name + ".", (zid, listed)
    shot(d, shots / "zones.png")

    row.find_element(By.CSS_SELECTOR, "a.zone-link").click()
    wait_for(lambda: d.find_element(By.ID, "zone-title").get_attribute("data-zone-id") == zid,
             "zone page")

    def add_weighted(setid, weight, value):
        d.find_element(By.ID, "rr-name").send_keys("www")
        Select(d.find_element(By.ID, "rr-type")).select_by_value("A")
        ttl = d.find_element(By.ID, "rr-ttl")
        ttl.clear()
        ttl.send_keys("60")
        d.find_element(By.ID, "rr-values").send_keys(value)
        Select(d.find_element(By.ID, "rr-policy")).select_by_value("weighted")
        assert d.find_element(By.ID, "rr-weight").is_displayed()
        assert not d.find_element(By.ID, "rr-region").is_displayed()
        d.find_element(By.ID, "rr-setid").send_keys(setid)
        w = d.find_element(By.ID, "rr-weight")
        w.clear()
        w.send_keys(str(weight))
        d.find_element(By.ID, "rr-add").click()

    add_weighted("blue", 10, "192.0.2.11")
    add_weighted("green", 5, "192.0.2.12")
    batch = texts(d.find_elements(By.CSS_SELECTOR, "#rr-batch li"))
    assert len(batch) == 2 and all(b.startswith(f"CREATE www.{name}. A") for b in batch), batch
    d.find_element(By.ID, "rr-submit").click()
    cid = wait_for(lambda: d.find_element(By.ID, "change-id").get_attribute("data-change-id"),
                   "change submitted")
    wait_for(lambda: "INSYNC" in d.find_element(By.ID, "change-status").text, "INSYNC shown")
    # INSYNC is the API's word, not the page's
    st = ok(q53(cluster.nodes[2].api, "get-change", cid))
    assert st["ChangeInfo"]["Status"] == "INSYNC", st
    # the table shows both members
    got = wait_for(lambda: sorted(r.get_attribute("data-set-id") for r in rows(d, "rrsets-table")
                                  if r.get_attribute("data-name") == f"www.{name}."),
                   "record sets listed")
    assert got == ["blue", "green"], got
    shot(d, shots / "zone.png")
    # the API lists the sets as the form gave them
    recs = ok(q53(cluster.nodes[3].api, "records", "list", zid))
    sets = {r["SetIdentifier"]: r for r in recs["ResourceRecordSets"]
            if r["Name"] == f"www.{name}." and r["Type"] == "A"}
    assert sets["blue"]["Weight"] == 10 and sets["green"]["Weight"] == 5, sets
    assert sets["blue"]["TTL"] == 60
    assert [v["Value"] for v in sets["blue"]["ResourceRecords"]] == ["192.0.2.11"]
    # every node answers it (INSYNC: already served)
    for n in cluster.members():
        r = dns.query.udp(dns.message.make_query(f"www.{name}.", "A"), n.host, port=n.dns_port,
                          timeout=2)
        addrs = {rr.address for rrset in r.answer for rr in rrset}
        assert addrs and addrs <= {"192.0.2.11", "192.0.2.12"}, (n.id, r)

    # Edit blue (weight 20) and delete green: one batch, UPSERT + DELETE.
    def row_of(setid):
        return [r for r in rows(d, "rrsets-table") if r.get_attribute("data-set-id") == setid][0]
    row_of("blue").find_element(By.CSS_SELECTOR, "button.rr-edit").click()
    assert d.find_element(By.ID, "rr-weight").get_attribute("value") == "10"
    assert d.find_element(By.ID, "rr-setid").get_attribute("value") == "blue"
    w = d.find_element(By.ID, "rr-weight")
    w.clear()
    w.send_keys("20")
    d.find_element(By.ID, "rr-add").click()
    row_of("green").find_element(By.CSS_SELECTOR, "button.rr-delete").click()
    batch = texts(d.find_elements(By.CSS_SELECTOR, "#rr-batch li"))
    assert [b.split()[0] for b in batch] == ["UPSERT", "DELETE"], batch
    d.find_element(By.ID, "rr-submit").click()
    wait_for(lambda: d.find_element(By.ID, "change-id").get_attribute("data-change-id") != cid,
             "second change submitted")
    cid2 = d.find_element(By.ID, "change-id").get_attribute("data-change-id")
    wait_for(lambda: "INSYNC" in d.find_element(By.ID, "change-status").text, "INSYNC shown")
    assert ok(q53(cluster.nodes[2].api, "get-change", cid2))["ChangeInfo"]["Status"] == "INSYNC"
    recs = ok(q53(cluster.nodes[3].api, "records", "list", zid))
    sets = {r["SetIdentifier"]: r for r in recs["ResourceRecordSets"]
            if r["Name"] == f"www.{name}." and r["Type"] == "A"}
    assert list(sets) == ["blue"] and sets["blue"]["Weight"] == 20, sets
    wait_for(lambda: sorted(r.get_attribute("data-set-id") for r in rows(d, "rrsets-table")
                            if r.get_attribute("data-name") == f"www.{name}.") == ["blue"],
             "green gone from the table")
    for n in cluster.members():
        r = dns.query.udp(dns.message.make_query(f"www.{name}.", "A"), n.host, port=n.dns_port,
                          timeout=2)
        assert {rr.address for rrset in r.answer for rr in rrset} == {"192.0.2.11"}, (n.id, r)

    # TestDNSAnswer through the form: the node's own answer
    d.get(console_url(node, "#/test"))
    wait_for(lambda: Select(d.find_element(By.ID, "ta-zone")).first_selected_option
             .get_attribute("value"), "zones offered")
    Select(d.find_element(By.ID, "ta-zone")).select_by_value(zid)
    d.find_element(By.ID, "ta-name").send_keys(f"www.{name}")
    Select(d.find_element(By.ID, "ta-type")).select_by_value("A")
    d.find_element(By.ID, "ta-submit").click()
    rcode = wait_for(lambda: d.find_element(By.ID, "ta-rcode").text, "test answer")
    assert rcode == "NOERROR"
    data = texts(d.find_elements(By.CSS_SELECTOR, "#ta-data li"))
    assert data == ["192.0.2.11"], data
    errors = js_errors(d)
    assert not errors, errors


# --- a zone file: exported, edited, imported ------------------------------------------


def test_zone_file_export_import(cluster, browser, admin):
    api = cluster.nodes[1].api
    name = f"zf-{os.getpid()}.test"
    zid = ok(q53(api, "zone", "create", name))["HostedZone"]["Id"].split("/")[-1]
    ok(q53(api, "change-batch", zid, "-", stdin=json.dumps({"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {"Name": f"old.{name}", "Type": "A", "TTL": 60,
                                                  "ResourceRecords": [{"Value": "192.0.2.31"}]}}]})))
    d = browser
    sign_in(d, cluster.nodes[3], admin)
    wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed(), "signed in")
    d.get(console_url(cluster.nodes[3], f"#/zone/{zid}"))
    wait_for(lambda: d.find_element(By.ID, "zone-title").get_attribute("data-zone-id") == zid,
             "zone page")
    d.find_element(By.ID, "zf-export").click()
    text = wait_for(lambda: d.find_element(By.ID, "zf-text").get_attribute("value"), "exported")
    assert f"old.{name}." in text and "192.0.2.31" in text, text
    assert d.find_element(By.ID, "zf-download").get_attribute("download") == f"{name}.zone"
    # what q53 exports, the page shows
    p = q53(api, "zone", "export", zid, json_out=False)
    assert p.returncode == 0 and p.stdout.strip() == text.strip(), (p.stdout, text)
    # the file without old, with new: the import replaces the records
    edited = "\n".join(line for line in text.splitlines() if not line.startswith(f"old.{name}."))
    edited += f"\nnew.{name}. 60 IN A 192.0.2.32\n"
    area = d.find_element(By.ID, "zf-text")
    area.clear()
    area.send_keys(edited)
    d.find_element(By.ID, "zf-import").click()
    wait_for(lambda: "INSYNC" in d.find_element(By.ID, "zf-status").text, "import INSYNC")
    for n in cluster.members():
        new = dns.query.udp(dns.message.make_query(f"new.{name}.", "A"), n.host,
                            port=n.dns_port, timeout=2)
        old = dns.query.udp(dns.message.make_query(f"old.{name}.", "A"), n.host,
                            port=n.dns_port, timeout=2)
        assert {rr.address for rrset in new.answer for rr in rrset} == {"192.0.2.32"}, (n.id, new)
        assert not old.answer, (n.id, old)
    # sorting the table by name, then reversed
    wait_for(lambda: f"new.{name}." in [r.get_attribute("data-name") for r in rows(d, "rrsets-table")],
             "table reloaded")
    d.find_element(By.CSS_SELECTOR, "#rrsets-table th[data-sort='name']").click()
    names = [r.get_attribute("data-name") for r in rows(d, "rrsets-table")]
    assert names == sorted(names), names
    d.find_element(By.CSS_SELECTOR, "#rrsets-table th[data-sort='name']").click()
    names = [r.get_attribute("data-name") for r in rows(d, "rrsets-table")]
    assert names == sorted(names, reverse=True), names


# --- record sets a page at a time (the API's markers) -------------------------------


def test_record_pages(cluster, browser, admin):
    api = cluster.nodes[1].api
    name = f"pages-{os.getpid()}.test"
    zid = ok(q53(api, "zone", "create", name))["HostedZone"]["Id"].split("/")[-1]
    ok(q53(api, "change-batch", zid, "-", stdin=json.dumps({"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": f"h{i:02d}.{name}", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": f"192.0.2.{i}"}]}} for i in range(30)]})))
    listed = [(r["Name"], r["Type"]) for r in
              ok(q53(api, "records", "list", zid))["ResourceRecordSets"]]
    assert len(listed) == 32, listed  # with the SOA and NS
    d = browser
    sign_in(d, cluster.nodes[1], admin)
    wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed(), "signed in")
    d.get(console_url(cluster.nodes[1], f"#/zone/{zid}"))
    wait_for(lambda: len(rows(d, "rrsets-table")) == 32, "one page of 100")
    Select(d.find_element(By.ID, "rr-page-size")).select_by_value("25")

    def page():
        return [(r.get_attribute("data-name"), r.get_attribute("data-type"))
                for r in rows(d, "rrsets-table")]
    first = wait_for(lambda: (lambda p: p if len(p) == 25 else None)(page()), "a page of 25")
    assert not d.find_element(By.ID, "rr-prev").is_enabled()
    d.find_element(By.ID, "rr-next").click()
    second = wait_for(lambda: (lambda p: p if p and p != first else None)(page()), "page 2")
    assert first + second == listed, (first, second, listed)  # in the API's order
    assert not d.find_element(By.ID, "rr-next").is_enabled()
    d.find_element(By.ID, "rr-prev").click()
    wait_for(lambda: page() == first, "back to page 1")
    # the filters work on the page shown
    d.find_element(By.ID, "rr-filter-name").send_keys("h0")
    assert page() == [x for x in first if x[0].startswith("h0")], page()


# --- a restricted key sees its zone only -------------------------------------------


def test_restricted_key_sees_its_zone(cluster, browser, tmp_path, shots):
    api = cluster.nodes[1].api
    mine = ok(q53(api, "zone", "create", f"mine-{os.getpid()}.test"))["HostedZone"]["Id"]
    other = ok(q53(api, "zone", "create", f"other-{os.getpid()}.test"))["HostedZone"]["Id"]
    mine, other = mine.split("/")[-1], other.split("/")[-1]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["route53:ListHostedZones", "route53:GetChange"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "route53:*",
         "Resource": f"arn:aws:route53:::hostedzone/{mine}"}]}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    k = ok(q53(api, "key", "create", "--policy", path, "--description", "console"))["AccessKey"]
    key = (k["AccessKeyId"], k["SecretAccessKey"])
    node = cluster.nodes[2]

    def known():  # the key applied on the node the browser talks to
        st, _, _ = get(node, "/console/")
        return st == 200
    wait_for(known, "node 2 serving")
    d = browser
    deadline = time.monotonic() + TIMEOUT
    while True:  # a node that has not applied the key yet refuses it (retryable)
        sign_in(d, node, key)
        wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed()
                 or d.find_element(By.ID, "signin-error").text, "signed in or refused")
        if d.find_element(By.ID, "zones-table").is_displayed():
            break
        assert time.monotonic() < deadline, d.find_element(By.ID, "signin-error").text
        time.sleep(0.2)
    ids = wait_for(lambda: [r.get_attribute("data-zone-id") for r in rows(d, "zones-table")
                            if r.get_attribute("data-zone-id")], "the key's zones")
    assert ids == [mine], (ids, mine, other)
    note = d.find_element(By.ID, "zones-note").text
    assert "not allowed" in note, note
    shot(d, shots / "restricted.png")
    # what the API says for the other zone: denied
    d.get(console_url(node, f"#/zone/{other}"))
    err = wait_for(lambda: d.find_element(By.ID, "rr-error").text, "other zone refused")
    assert "AccessDenied" in err, err


# --- a health check's chart ------------------------------------------------------------


def test_health_check_flips_in_chart(cluster, browser, admin, shots):
    d = browser
    ep = HTTPEndpoint("127.0.0.1").start()
    ep2 = HTTPEndpoint("127.0.0.1")
    try:
        sign_in(d, cluster.nodes[1], admin)
        wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed(), "signed in")
        d.get(console_url(cluster.nodes[1], "#/health"))
        ip = wait_for(lambda: d.find_element(By.ID, "hc-ip"), "health page")
        ip.send_keys(ep.host)
        for fid, v in (("hc-port", ep.port), ("hc-path", "/health"), ("hc-interval", 1),
                       ("hc-threshold", 2)):
            e = d.find_element(By.ID, fid)
            e.clear()
            e.send_keys(str(v))
        d.find_element(By.ID, "hc-create").click()
        created = wait_for(lambda: d.find_element(By.ID, "hc-created").text, "check created")
        hid = created.split()[1].rstrip(".")
        chart = f".chart[data-hc-id='{hid}']"
        wait_for(lambda: d.find_element(By.CSS_SELECTOR, chart).get_attribute("data-status")
                 == "Healthy", "healthy in the chart")
        st = ok(q53(cluster.nodes[1].api, "health", "status", hid))
        assert st["Status"] == "HEALTHY", st
        # each node's observation is a row of its own
        wait_for(lambda: len({e.text for e in d.find_elements(By.CSS_SELECTOR, chart + " text.lbl")})
                 == 4, "decided + 3 node rows")
        ep.stop()
        wait_for(lambda: d.find_element(By.CSS_SELECTOR, chart).get_attribute("data-status")
                 == "Unhealthy", "unhealthy in the chart")
        st = ok(q53(cluster.nodes[1].api, "health", "status", hid))
        assert st["Status"] == "UNHEALTHY", st
        index = st["TransitionIndex"]
        line = d.find_element(By.CSS_SELECTOR, f"{chart} line.transition[data-index='{index}']")
        assert line.get_attribute("data-status") == "Unhealthy"
        decided = [e.get_attribute("class") for e in
                   d.find_elements(By.CSS_SELECTOR, chart + " rect.seg.decided")]
        assert "seg decided healthy" in decided and decided[-1] == "seg decided unhealthy", decided
        # every node's own prober saw it fail: each node's row turns too
        wait_for(lambda: len(d.find_elements(
            By.CSS_SELECTOR, f"{chart} rect.seg.node.unhealthy[data-state='UNHEALTHY']")) == 3,
            "each node's observation unhealthy")
        # the leader's alarm for that transition, listed under the chart
        wait_for(lambda: d.find_elements(
            By.CSS_SELECTOR, f".hc[data-hc-id='{hid}'] .hc-alarms tr[data-index='{index}']"
            "[data-status='Unhealthy'][data-target='exec']"), "the alarm listed")
        shot(d, shots / "health.png")

        # Edit: the check moves to a live endpoint and turns healthy again.
        ep2.start()
        d.find_element(By.CSS_SELECTOR, f".hc[data-hc-id='{hid}'] button.hc-edit").click()
        assert d.find_element(By.ID, "hc-port").get_attribute("value") == str(ep.port)
        assert not d.find_element(By.ID, "hc-type").is_enabled()
        port = d.find_element(By.ID, "hc-port")
        port.clear()
        port.send_keys(str(ep2.port))
        d.find_element(By.ID, "hc-create").click()
        wait_for(lambda: d.find_element(By.ID, "hc-created").text.startswith(f"Updated {hid}"),
                 "check updated")
        cfg = ok(q53(cluster.nodes[2].api, "health", "get", hid))["HealthCheck"]
        assert cfg["HealthCheckConfig"]["Port"] == ep2.port, cfg
        assert cfg["HealthCheckVersion"] == 2, cfg
        wait_for(lambda: d.find_element(By.CSS_SELECTOR, chart).get_attribute("data-status")
                 == "Healthy", "healthy again in the chart")
        st = ok(q53(cluster.nodes[1].api, "health", "status", hid))
        assert st["Status"] == "HEALTHY" and st["TransitionIndex"] > index, st
        wait_for(lambda: d.find_elements(
            By.CSS_SELECTOR, f"{chart} line.transition[data-index='{st['TransitionIndex']}']"),
            "the second transition drawn")
        assert d.find_element(By.CSS_SELECTOR, f".hc[data-hc-id='{hid}'] .hc-target").text \
            .endswith(f":{ep2.port}/health")
        # A new page has no samples of its own from before: the earlier
        # transition comes from the alarm history.
        d.refresh()
        wait_for(lambda: d.find_elements(
            By.CSS_SELECTOR, f"{chart} line.transition[data-index='{index}'][data-status='Unhealthy']"),
            "the earlier transition after a reload")
        decided = [e.get_attribute("class") for e in
                   d.find_elements(By.CSS_SELECTOR, chart + " rect.seg.decided")]
        assert decided[-2:] == ["seg decided unhealthy", "seg decided healthy"], decided
        errors = js_errors(d)
        assert not errors, errors
    finally:
        ep.stop()
        ep2.stop()


# --- failover through the form: the role and the check listed back ----------------


def test_failover_form(cluster, browser, admin):
    boto3 = pytest.importorskip("boto3", reason="needs the test venv (tests/venv.sh)")
    api = cluster.nodes[1].api
    name = f"fo-{os.getpid()}.test"
    zid = ok(q53(api, "zone", "create", name))["HostedZone"]["Id"].split("/")[-1]
    ep = TCPEndpoint("127.0.0.1").start()
    try:
        failover_form(cluster, browser, admin, boto3, api, name, zid, ep)
    finally:
        ep.stop()


def failover_form(cluster, browser, admin, boto3, api, name, zid, ep):
    hid = ok(q53(api, "health", "create", "-", stdin=json.dumps(
        {"IPAddress": ep.host, "Port": ep.port, "Type": "TCP", "RequestInterval": 1,
         "FailureThreshold": 1})))["HealthCheck"]["Id"]
    d = browser
    sign_in(d, cluster.nodes[2], admin)
    wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed(), "signed in")
    d.get(console_url(cluster.nodes[2], f"#/zone/{zid}"))
    wait_for(lambda: d.find_element(By.ID, "zone-title").get_attribute("data-zone-id") == zid,
             "zone page")
    # the health checks are offered by id
    wait_for(lambda: hid in [o.get_attribute("value") for o in
                             d.find_elements(By.CSS_SELECTOR, "#rr-hc option")], "check offered")
    for setid, role, value, check in (("p", "PRIMARY", "192.0.2.21", hid),
                                      ("s", "SECONDARY", "192.0.2.22", "")):
        d.find_element(By.ID, "rr-name").send_keys("app")
        d.find_element(By.ID, "rr-values").send_keys(value)
        Select(d.find_element(By.ID, "rr-policy")).select_by_value("failover")
        assert not d.find_element(By.ID, "rr-weight").is_displayed()
        d.find_element(By.ID, "rr-setid").send_keys(setid)
        Select(d.find_element(By.ID, "rr-failover")).select_by_value(role)
        Select(d.find_element(By.ID, "rr-hc")).select_by_value(check)
        d.find_element(By.ID, "rr-add").click()
    d.find_element(By.ID, "rr-submit").click()
    wait_for(lambda: "INSYNC" in d.find_element(By.ID, "change-status").text, "INSYNC shown")
    # Route 53's listing names the role and the check (what the page reads back)
    r53 = boto3.client("route53", endpoint_url=f"http://{cluster.nodes[3].http}",
                       region_name="us-east-1", aws_access_key_id=admin[0],
                       aws_secret_access_key=admin[1])
    sets = {s["SetIdentifier"]: s for s in r53.list_resource_record_sets(
        HostedZoneId=zid)["ResourceRecordSets"] if s["Name"] == f"app.{name}."}
    assert sets["p"]["Failover"] == "PRIMARY" and sets["p"]["HealthCheckId"] == hid, sets
    assert sets["s"]["Failover"] == "SECONDARY" and "HealthCheckId" not in sets["s"], sets
    routing = wait_for(lambda: {r.get_attribute("data-set-id"): r.find_elements(
        By.TAG_NAME, "td")[2].text for r in rows(d, "rrsets-table")
        if r.get_attribute("data-name") == f"app.{name}."}, "failover sets listed")
    assert routing == {"p": "failover PRIMARY [p]", "s": "failover SECONDARY [s]"}, routing
    # Edit fills the form from the listing: the role and the check
    [r for r in rows(d, "rrsets-table") if r.get_attribute("data-set-id") == "p"][0] \
        .find_element(By.CSS_SELECTOR, "button.rr-edit").click()
    assert Select(d.find_element(By.ID, "rr-policy")).first_selected_option \
        .get_attribute("value") == "failover"
    assert Select(d.find_element(By.ID, "rr-failover")).first_selected_option \
        .get_attribute("value") == "PRIMARY"
    assert Select(d.find_element(By.ID, "rr-hc")).first_selected_option \
        .get_attribute("value") == hid
    # every node answers the primary (its endpoint listens)
    wait_for(lambda: ok(q53(api, "health", "status", hid))["Status"] == "HEALTHY", "healthy")
    for n in cluster.members():
        r = dns.query.udp(dns.message.make_query(f"app.{name}.", "A"), n.host, port=n.dns_port,
                          timeout=2)
        assert {rr.address for rrset in r.answer for rr in rrset} == {"192.0.2.21"}, (n.id, r)


# --- a phone-sized screen --------------------------------------------------------------------


def test_phone_width(cluster, browser, admin, shots):
    d = browser
    d.set_window_size(390, 844)
    try:
        sign_in(d, cluster.nodes[1], admin)
        wait_for(lambda: rows(d, "zones-table") and rows(d, "zones-table")[0].get_attribute(
            "data-zone-id"), "zones listed")
        zid = rows(d, "zones-table")[0].get_attribute("data-zone-id")
        for frag in ("#/zones", f"#/zone/{zid}", "#/health", "#/cluster", "#/test"):
            d.get(console_url(cluster.nodes[1], frag))
            wait_for(lambda: d.find_element(By.CSS_SELECTOR, "#page h1").text, frag)
            if frag.startswith("#/zone/"):
                wait_for(lambda: rows(d, "rrsets-table")[0].get_attribute("data-type"),
                         "record sets")
                shot(d, shots / "phone-zone.png")
            width = d.execute_script("return document.documentElement.scrollWidth")
            inner = d.execute_script("return window.innerWidth")
            assert width <= inner, (frag, width, inner)
        d.get(console_url(cluster.nodes[1], "#/zones"))
        wait_for(lambda: rows(d, "zones-table")[0].get_attribute("data-zone-id"), "zones")
        shot(d, shots / "phone.png")
    finally:
        d.set_window_size(1280, 900)


# --- the cluster page (last: it removes a node) ---------------------------------------------


def test_cluster_page_members_and_remove(cluster, browser, admin, shots):
    d = browser
    sign_in(d, cluster.nodes[1], admin)
    wait_for(lambda: d.find_element(By.ID, "zones-table").is_displayed(), "signed in")
    d.get(console_url(cluster.nodes[1], "#/cluster"))
    leader = cluster.wait_leader()

    def members():
        return {int(r.get_attribute("data-node-id")): r for r in rows(d, "nodes-table")
                if r.get_attribute("data-node-id")}
    got = wait_for(lambda: members() if len(members()) == 3 else None, "3 members")
    assert sorted(got) == [1, 2, 3]
    leaders = [nid for nid, r in got.items() if "leader" in r.text.split()]
    assert leaders == [leader.id], (leaders, leader.id)
    st = leader.status()
    term = d.find_element(By.CSS_SELECTOR, "#cluster-status dd[data-key='Term']").text
    assert int(term) == st["Term"], (term, st)
    shot(d, shots / "cluster.png")

    victim = 3 if leader.id != 3 else 2
    b = got[victim].find_element(By.CSS_SELECTOR, "button.node-remove")
    b.click()
    wait_for(lambda: b.text == "Confirm", "asks to confirm")
    b.click()
    wait_for(lambda: sorted(members()) == sorted({1, 2, 3} - {victim}), "node removed")
    cluster.removed.add(victim)
    nodes = ok(q53(cluster.nodes[1].api, "node", "list"))["Nodes"]
    assert victim not in [n["Id"] for n in nodes], nodes
    errors = js_errors(d)
    assert not errors, errors
