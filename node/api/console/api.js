// The console's client of the node's own API: every request signed with
// SigV4 (service "route53", as the AWS CLI signs) by crypto.subtle, with
// the access key the user signed in with. Route 53's REST/XML operations
// for zones, record sets, changes, health checks; POST /q53/api (a packed
// q53.api.Request, proto/api.proto) for what only the q53 CLI's API has:
// the cluster's members and status, a node's removal, a health check's
// per-node observations, TestDNSAnswer's branch.
"use strict";

const Q53Api = (() => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const R53 = "/2013-04-01";
  const NS = "https://route53.amazonaws.com/doc/2013-04-01/";

  // --- SigV4 -------------------------------------------------------------

  function hex(buf) {
    return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function bytes(x) {
    return typeof x === "string" ? enc.encode(x) : x;
  }
  async function sha256Hex(data) {
    return hex(await crypto.subtle.digest("SHA-256", bytes(data)));
  }
  async function hmac(key, msg) {
    const k = await crypto.subtle.importKey("raw", bytes(key), { name: "HMAC", hash: "SHA-256" },
      false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", k, bytes(msg)));
  }
  // RFC 3986: everything but unreserved characters %-escaped (UTF-8).
  function uriEncode(s, keepSlash) {
    let out = "";
    for (const b of enc.encode(s)) {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
      else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  }
  function amzDate(d) {
    return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  }

  // The headers that sign (method, path, query, body) with key
  // {id, secret}: Authorization and X-Amz-Date (Host is the browser's).
  async function sign(key, method, path, query, body, now) {
    const date = amzDate(now || new Date());
    const day = date.slice(0, 8);
    const region = "us-east-1";
    const service = "route53";
    const q = Object.keys(query || {})
      .map((k) => [uriEncode(k), uriEncode(String(query[k]))])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    const host = location.host;
    const signed = "host;x-amz-date";
    // The path is encoded twice (AWS's rule for every service but S3).
    const canonical = [method, uriEncode(uriEncode(path, true), true), q,
      `host:${host}\nx-amz-date:${date}\n`, signed, await sha256Hex(body || "")].join("\n");
    const scope = `${day}/${region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
    let k = await hmac("AWS4" + key.secret, day);
    k = await hmac(k, region);
    k = await hmac(k, service);
    k = await hmac(k, "aws4_request");
    const sig = hex(await hmac(k, toSign));
    return {
      "X-Amz-Date": date,
      Authorization: `AWS4-HMAC-SHA256 Credential=${key.id}/${scope}, ` +
        `SignedHeaders=${signed}, Signature=${sig}`,
    };
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(`${code}: ${message}`);
      this.status = status;
      this.code = code;
    }
  }

  async function signedFetch(key, method, path, query, body, contentType) {
    const headers = await sign(key, method, path, query, body);
    if (body !== undefined && body !== null) headers["Content-Type"] = contentType;
    const qs = Object.keys(query || {}).map((k) => `${uriEncode(k)}=${uriEncode(String(query[k]))}`)
      .join("&");
    const resp = await fetch(path + (qs ? "?" + qs : ""), {
      method, headers, body: body === null || body === undefined ? undefined : body,
      cache: "no-store", credentials: "omit",
    });
    return resp;
  }

  // --- XML ---------------------------------------------------------------

  function esc(s) {
    return String(s).replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;",
      '"': "&quot;", "'": "&apos;" })[c]);
  }
  // {Tag: value | [values] | {…}} as XML elements, in the object's order.
  function toXml(obj) {
    let s = "";
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined || v === null || v === "") continue;
      if (Array.isArray(v)) v.forEach((x) => { s += toXml({ [k]: x }); });
      else if (typeof v === "object") s += `<${k}>${toXml(v)}</${k}>`;
      else s += `<${k}>${esc(v)}</${k}>`;
    }
    return s;
  }
  function xmlDoc(root, obj) {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${toXml(obj)}</${root}>`;
  }
  function kids(el, name) {
    return el ? Array.from(el.children).filter((c) => c.localName === name) : [];
  }
  function kid(el, name) {
    return kids(el, name)[0] || null;
  }
  function text(el, name) {
    const c = name ? kid(el, name) : el;
    return c ? c.textContent : "";
  }

  async function rest(key, method, path, query, body) {
    const resp = await signedFetch(key, method, R53 + path, query, body, "text/xml");
    const raw = await resp.text();
    const doc = raw ? new DOMParser().parseFromString(raw, "application/xml") : null;
    if (!resp.ok) {
      const err = doc && doc.getElementsByTagNameNS("*", "Error")[0];
      throw new ApiError(resp.status, err ? text(err, "Code") : `HTTP ${resp.status}`,
        err ? text(err, "Message") : raw.slice(0, 200));
    }
    return doc ? doc.documentElement : null;
  }

  // --- protobuf (the few q53.api messages the console uses) ---------------

  function pbVarint(out, n) {
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
  }
  // fields: [[number, value]]; value: number (varint), string, Uint8Array
  // or a nested array of fields (a message).
  function pbEncode(fields) {
    const out = [];
    for (const [num, v] of fields) {
      if (typeof v === "number" || typeof v === "boolean") {
        pbVarint(out, num * 8);
        pbVarint(out, Number(v));
        continue;
      }
      const b = Array.isArray(v) ? pbEncode(v) : bytes(v);
      pbVarint(out, num * 8 + 2);
      pbVarint(out, b.length);
      for (const x of b) out.push(x);
    }
    return new Uint8Array(out);
  }
  // {number: [values]}: varints as numbers, length-delimited as Uint8Array.
  function pbDecode(buf) {
    const f = {};
    let i = 0;
    const varint = () => {
      let n = 0, mul = 1, b;
      do {
        if (i >= buf.length) throw new Error("truncated protobuf");
        b = buf[i++];
        n += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80);
      return n;
    };
    while (i < buf.length) {
      const tag = varint();
      const num = Math.floor(tag / 8), wt = tag % 8;
      let v;
      if (wt === 0) v = varint();
      else if (wt === 2) {
        const n = varint();
        v = buf.subarray(i, i + n);
        i += n;
      } else if (wt === 1) { v = buf.subarray(i, i + 8); i += 8; }
      else if (wt === 5) { v = buf.subarray(i, i + 4); i += 4; }
      else throw new Error("protobuf wire type " + wt);
      (f[num] = f[num] || []).push(v);
    }
    return f;
  }
  // A decoded message read through a schema {name: [number, kind]} with
  // kind "u" (varint), "b" (bool), "s" (string), "S" (repeated string),
  // {schema} (a message) or [{schema}] (repeated messages).
  function pbRead(buf, schema) {
    const f = pbDecode(buf);
    const o = {};
    for (const [name, [num, kind]] of Object.entries(schema)) {
      const vs = f[num] || [];
      const last = vs[vs.length - 1];
      if (kind === "u") o[name] = last || 0;
      else if (kind === "b") o[name] = !!last;
      else if (kind === "s") o[name] = last ? dec.decode(last) : "";
      else if (kind === "S") o[name] = vs.map((v) => dec.decode(v));
      else if (Array.isArray(kind)) o[name] = vs.map((v) => pbRead(v, kind[0]));
      else o[name] = last ? pbRead(last, kind) : null;
    }
    return o;
  }

  const NODE = { id: [1, "u"], raftAddress: [2, "s"], apiAddress: [3, "s"], role: [4, "s"],
    leader: [5, "b"], reachable: [6, "b"], appliedIndex: [7, "u"], site: [9, "s"] };
  const STATUS = { nodeId: [1, "u"], state: [2, "s"], leaderId: [3, "u"], term: [5, "u"],
    commitIndex: [6, "u"], appliedIndex: [7, "u"], zones: [8, "u"], nodes: [9, "u"],
    version: [10, "s"], quorumContact: [11, "b"] };
  const HC_NODE = { nodeId: [1, "u"], name: [2, "s"], reachable: [3, "b"],
    observedState: [4, "s"], observedReason: [5, "s"], observedAtMs: [6, "u"],
    voted: [8, "b"], voteHealthy: [9, "b"], voteIndex: [11, "u"], voteAtMs: [12, "u"],
    appliedIndex: [13, "u"] };
  const HC_STATUS = { id: [1, "s"], healthy: [2, "b"], basis: [3, "s"], members: [4, "u"],
    reporting: [5, "u"], healthyVotes: [6, "u"], transitionIndex: [7, "u"],
    transitionAtMs: [8, "u"], appliedIndex: [9, "u"], answeredBy: [10, "u"],
    nodes: [11, [HC_NODE]] };
  const TEST_ANSWER = { nameserver: [1, "s"], recordName: [2, "s"], recordType: [3, "s"],
    recordData: [4, "S"], responseCode: [5, "s"], protocol: [6, "s"], branch: [7, "s"] };

  // POST /q53/api with Request{version 1, body field `num` = fields};
  // the Response's body field `num` read with schema.
  async function q53(key, num, fields, schema) {
    const body = pbEncode([[1, 1], [num, fields]]);
    const resp = await signedFetch(key, "POST", "/q53/api", {}, body, "application/x-protobuf");
    const buf = new Uint8Array(await resp.arrayBuffer());
    if (!resp.ok) {
      // refused by the REST edge: Route 53's XML error
      const doc = new DOMParser().parseFromString(dec.decode(buf), "application/xml");
      const err = doc.getElementsByTagNameNS("*", "Error")[0];
      throw new ApiError(resp.status, err ? text(err, "Code") : `HTTP ${resp.status}`,
        err ? text(err, "Message") : "");
    }
    const r = pbRead(buf, { error: [1, "s"], message: [2, "s"], body: [num, schema] });
    if (r.error) throw new ApiError(400, r.error, r.message);
    return r.body || {};
  }

  // --- operations ----------------------------------------------------------

  function zoneOf(el) {
    return {
      id: text(el, "Id").replace(/^\/hostedzone\//, ""),
      name: text(el, "Name"),
      comment: text(kid(el, "Config"), "Comment"),
      count: Number(text(el, "ResourceRecordSetCount") || 0),
    };
  }
  function rrsetOf(el) {
    const geo = kid(el, "GeoLocation");
    const alias = kid(el, "AliasTarget");
    return {
      name: text(el, "Name").replace(/\\052/g, "*"),
      type: text(el, "Type"),
      ttl: text(el, "TTL"),
      setIdentifier: text(el, "SetIdentifier"),
      weight: text(el, "Weight"),
      region: text(el, "Region"),
      failover: text(el, "Failover"),
      healthCheckId: text(el, "HealthCheckId"),
      multiValue: text(el, "MultiValueAnswer") === "true",
      geo: geo ? { continent: text(geo, "ContinentCode"), country: text(geo, "CountryCode"),
        subdivision: text(geo, "SubdivisionCode") } : null,
      alias: alias ? { zone: text(alias, "HostedZoneId"), name: text(alias, "DNSName"),
        evaluate: text(alias, "EvaluateTargetHealth") === "true" } : null,
      policyInstance: text(el, "TrafficPolicyInstanceId"),
      // routing the form does not edit (IP-based, geoproximity)
      other: !!(kid(el, "CidrRoutingConfig") || kid(el, "GeoProximityLocation")),
      // the set exactly as listed: what a DELETE of it sends back
      raw: new XMLSerializer().serializeToString(el),
      values: kids(kid(el, "ResourceRecords"), "ResourceRecord").map((r) => text(r, "Value")),
    };
  }
  // A record set as Route 53's ResourceRecordSet element's members.
  function rrsetXml(s) {
    const o = { Name: s.name, Type: s.type, SetIdentifier: s.setIdentifier };
    if (s.weight !== "" && s.weight !== undefined) o.Weight = s.weight;
    o.Region = s.region;
    if (s.geo && (s.geo.continent || s.geo.country))
      o.GeoLocation = { ContinentCode: s.geo.continent, CountryCode: s.geo.country,
        SubdivisionCode: s.geo.subdivision };
    o.Failover = s.failover;
    if (s.multiValue) o.MultiValueAnswer = "true";
    if (s.alias) {
      o.AliasTarget = { HostedZoneId: s.alias.zone, DNSName: s.alias.name,
        EvaluateTargetHealth: s.alias.evaluate ? "true" : "false" };
    } else {
      o.TTL = s.ttl;
      o.ResourceRecords = { ResourceRecord: s.values.map((v) => ({ Value: v })) };
    }
    o.HealthCheckId = s.healthCheckId;
    return o;
  }
  function changeOf(el) {
    const c = kid(el, "ChangeInfo");
    return { id: text(c, "Id").replace(/^\/change\//, ""), status: text(c, "Status"),
      submittedAt: text(c, "SubmittedAt") };
  }
  function healthCheckOf(el) {
    const c = kid(el, "HealthCheckConfig");
    const cfg = {};
    for (const x of c ? Array.from(c.children) : []) cfg[x.localName] = x.textContent;
    return { id: text(el, "Id"), callerReference: text(el, "CallerReference"), config: cfg,
      version: text(el, "HealthCheckVersion") };
  }
  function ref() {
    return `console-${Date.now()}-${Math.random().toString(16).slice(2, 10)}`;
  }

  return {
    ApiError, sign, uriEncode,
    async listZones(key, marker) {
      const q = { maxitems: 100 };
      if (marker) q.marker = marker;
      const r = await rest(key, "GET", "/hostedzone", q);
      return { zones: kids(kid(r, "HostedZones"), "HostedZone").map(zoneOf),
        next: text(r, "IsTruncated") === "true" ? text(r, "NextMarker") : "" };
    },
    async getZone(key, id) {
      const r = await rest(key, "GET", `/hostedzone/${id}`);
      const ns = kids(kid(kid(r, "DelegationSet"), "NameServers"), "NameServer")
        .map((e) => e.textContent);
      return { ...zoneOf(kid(r, "HostedZone")), nameservers: ns };
    },
    async createZone(key, name, comment) {
      const r = await rest(key, "POST", "/hostedzone", {}, xmlDoc("CreateHostedZoneRequest",
        { Name: name, CallerReference: ref(), HostedZoneConfig: { Comment: comment } }));
      return { zone: zoneOf(kid(r, "HostedZone")), change: changeOf(r) };
    },
    async deleteZone(key, id) {
      return changeOf(await rest(key, "DELETE", `/hostedzone/${id}`));
    },
    // A page of record sets from (name, type, identifier) on.
    async listRecordSets(key, zone, start, maxItems) {
      const q = { maxitems: maxItems || 100 };
      if (start && start.name) q.name = start.name;
      if (start && start.type) q.type = start.type;
      if (start && start.identifier) q.identifier = start.identifier;
      const r = await rest(key, "GET", `/hostedzone/${zone}/rrset`, q);
      const more = text(r, "IsTruncated") === "true";
      return {
        sets: kids(kid(r, "ResourceRecordSets"), "ResourceRecordSet").map(rrsetOf),
        next: more ? { name: text(r, "NextRecordName"), type: text(r, "NextRecordType"),
          identifier: text(r, "NextRecordIdentifier") } : null,
      };
    },
    // changes: [{action, set}] as one batch. A DELETE of a listed set
    // sends it back as listed (Route 53 deletes only an exact match).
    async changeRecordSets(key, zone, changes, comment) {
      const xml = changes.map((c) => `<Change>${toXml({ Action: c.action })}` +
        (c.action === "DELETE" && c.set.raw ? c.set.raw
          : `<ResourceRecordSet>${toXml(rrsetXml(c.set))}</ResourceRecordSet>`) + "</Change>").join("");
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="${NS}">` +
        `<ChangeBatch>${toXml({ Comment: comment })}<Changes>${xml}</Changes></ChangeBatch>` +
        "</ChangeResourceRecordSetsRequest>";
      return changeOf(await rest(key, "POST", `/hostedzone/${zone}/rrset`, {}, body));
    },
    async getChange(key, id) {
      return changeOf(await rest(key, "GET", `/change/${id}`));
    },
    async listHealthChecks(key) {
      let marker = "", all = [];
      for (;;) {
        const q = { maxitems: 100 };
        if (marker) q.marker = marker;
        const r = await rest(key, "GET", "/healthcheck", q);
        all = all.concat(kids(kid(r, "HealthChecks"), "HealthCheck").map(healthCheckOf));
        if (text(r, "IsTruncated") !== "true") return all;
        marker = text(r, "NextMarker");
      }
    },
    async createHealthCheck(key, cfg) {
      const r = await rest(key, "POST", "/healthcheck", {}, xmlDoc("CreateHealthCheckRequest",
        { CallerReference: ref(), HealthCheckConfig: cfg }));
      return healthCheckOf(kid(r, "HealthCheck"));
    },
    // Route 53's UpdateHealthCheck: the fields given change (not Type or
    // RequestInterval), at the version the page read.
    async updateHealthCheck(key, id, version, fields) {
      const r = await rest(key, "POST", `/healthcheck/${id}`, {}, xmlDoc("UpdateHealthCheckRequest",
        { HealthCheckVersion: version, ...fields }));
      return healthCheckOf(kid(r, "HealthCheck"));
    },
    async deleteHealthCheck(key, id) {
      await rest(key, "DELETE", `/healthcheck/${id}`);
    },
    // The decided status and every node's observation and vote.
    healthCheckStatus(key, id) {
      return q53(key, 28, [[1, id]], HC_STATUS);
    },
    // GET /q53/alarms: the leader's alarm history (administrators).
    async alarms(key, id) {
      const resp = await signedFetch(key, "GET", "/q53/alarms", { health_check_id: id }, null);
      if (!resp.ok) throw new ApiError(resp.status, `HTTP ${resp.status}`, "alarms");
      return (await resp.json()).Alarms || [];
    },
    listNodes(key) {
      return q53(key, 19, [], { nodes: [1, [NODE]] }).then((r) => r.nodes || []);
    },
    status(key) {
      return q53(key, 22, [], STATUS);
    },
    removeNode(key, id) {
      return q53(key, 21, [[1, id]], {});
    },
    // The zone as RFC 1035 text (absolute names).
    exportZone(key, zone) {
      return q53(key, 15, [[1, zone]], { zoneFile: [1, "s"] }).then((r) => r.zoneFile);
    },
    // Replaces the zone's records with a zone file's: one change.
    async importZone(key, zone, text) {
      const r = await q53(key, 14, [[1, zone], [2, text]],
        { change: [1, { id: [1, "s"], status: [2, "u"], submittedAtMs: [3, "u"] }] });
      const c = r.change || {};
      return { id: c.id || "", status: c.status === 2 ? "INSYNC" : "PENDING" };
    },
    testAnswer(key, zone, name, type, subnet, resolver) {
      const f = [[1, zone], [2, name], [3, type]];
      if (resolver) f.push([4, resolver]);
      if (subnet) f.push([5, subnet]);
      return q53(key, 50, f, TEST_ANSWER);
    },
  };
})();
