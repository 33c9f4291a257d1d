// The console's pages (hash routes): #/zones, #/zone/ID, #/health,
// #/cluster, #/test. Everything shown comes from the node's API, signed
// with the key in sessionStorage (api.js); nothing is cached across loads.
"use strict";

(() => {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const page = $("#page");
  const KEY = "q53.console.key";
  let key = null;
  let timers = [];  // the current page's polls, stopped when it changes
  let generation = 0;  // bumped per page: late answers of an old page are dropped

  // --- small DOM helpers ---------------------------------------------------

  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  function badge(text, cls) {
    return h("span", { class: `badge ${cls || text}` }, text);
  }
  function errorText(e) {
    return e instanceof Q53Api.ApiError ? `${e.code}: ${e.message.replace(/^[^:]*: /, "")}` : String(e);
  }
  function showError(where, e) {
    where.textContent = e ? errorText(e) : "";
  }
  function every(ms, fn) {
    const gen = generation;
    let stopped = false;
    const tick = async () => {
      if (stopped || gen !== generation) return;
      try { await fn(); } catch (e) { /* shown by fn */ }
      if (!stopped && gen === generation) timers.push(setTimeout(tick, ms));
    };
    tick();
    return () => { stopped = true; };
  }
  // A labelled input.
  function field(label, attrs) {
    return h("label", {}, label, h("input", attrs));
  }
  function select(label, attrs, options) {
    return h("label", {}, label, h("select", attrs, options.map((o) =>
      h("option", { value: Array.isArray(o) ? o[0] : o }, Array.isArray(o) ? o[1] : o))));
  }
  // A delete button that asks once more on the first click.
  function confirmButton(text, action, attrs) {
    const b = h("button", { type: "button", class: "danger", ...attrs }, text);
    let armed = false;
    b.addEventListener("click", async () => {
      if (!armed) {
        armed = true;
        b.textContent = "Confirm";
        b.classList.add("confirm");
        setTimeout(() => { armed = false; b.textContent = text; b.classList.remove("confirm"); }, 4000);
        return;
      }
      b.disabled = true;
      try { await action(); } finally { b.disabled = false; }
    });
    return b;
  }

  // --- sign-in -------------------------------------------------------------

  function loadKey() {
    try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; }
  }
  async function signIn(ev) {
    ev.preventDefault();
    const err = $("#signin-error");
    const k = { id: $("#akid").value.trim(), secret: $("#secret").value };
    err.textContent = "";
    if (!window.crypto || !crypto.subtle) {
      err.textContent = "This page needs crypto.subtle: open it over https or on 127.0.0.1 / localhost.";
      return;
    }
    try {
      await Q53Api.listZones(k);
    } catch (e) {
      // AccessDenied: the key is known and the signature good, only not
      // allowed to list; any other refusal is a wrong key or secret.
      if (!(e instanceof Q53Api.ApiError && e.code === "AccessDenied")) {
        err.textContent = errorText(e);
        return;
      }
    }
    sessionStorage.setItem(KEY, JSON.stringify(k));
    $("#secret").value = "";
    start();
  }
  function signOut() {
    sessionStorage.removeItem(KEY);
    key = null;
    location.hash = "";
    start();
  }
  function start() {
    key = loadKey();
    const signedIn = !!key;
    $("#signin").hidden = signedIn;
    page.hidden = !signedIn;
    $("#nav").hidden = !signedIn;
    $("#signout").hidden = !signedIn;
    $("#who").hidden = !signedIn;
    $("#who").textContent = signedIn ? key.id : "";
    if (signedIn) route();
  }

  // --- routing ---------------------------------------------------------------

  function route() {
    if (!key) return;
    generation++;
    timers.forEach(clearTimeout);
    timers = [];
    const [, name, arg] = (location.hash || "#/zones").split("/");
    for (const a of document.querySelectorAll("#nav a"))
      a.classList.toggle("active", a.dataset.page === (name === "zone" ? "zones" : name));
    page.replaceChildren();
    const pages = { zones: zonesPage, zone: zonePage, health: healthPage, cluster: clusterPage,
      test: testPage };
    (pages[name] || zonesPage)(decodeURIComponent(arg || ""));
  }

  // --- hosted zones -----------------------------------------------------------

  // The zones this key may see: ListHostedZones names every zone (it has no
  // resource in IAM), so each is kept only when GetHostedZone on it is
  // allowed: a key whose policy names some zones sees those.
  async function visibleZones(marker) {
    const { zones, next } = await Q53Api.listZones(key, marker);
    const seen = await Promise.all(zones.map((z) => Q53Api.getZone(key, z.id).then(
      (full) => full, (e) => (e.code === "AccessDenied" ? null : z))));
    return { zones: seen.filter(Boolean), next, hidden: seen.filter((z) => !z).length };
  }

  function zonesPage() {
    const gen = generation;
    const list = h("tbody");
    const err = h("p", { class: "error", id: "zones-error", role: "alert" });
    const note = h("p", { class: "hint", id: "zones-note" });
    const markers = [""];
    let at = 0;
    const prev = h("button", { type: "button", class: "secondary", id: "zones-prev", disabled: true,
      onclick: () => { at--; load(); } }, "Previous");
    const next = h("button", { type: "button", class: "secondary", id: "zones-next", disabled: true,
      onclick: () => { at++; load(); } }, "Next");
    async function load() {
      showError(err, null);
      try {
        const r = await visibleZones(markers[at]);
        if (gen !== generation) return;
        if (r.next) markers[at + 1] = r.next;
        prev.disabled = at === 0;
        next.disabled = !r.next;
        note.textContent = r.hidden ? `${r.hidden} zone(s) on this page are not allowed by this key's policy.` : "";
        list.replaceChildren(...r.zones.map((z) => h("tr", { dataset: { zoneId: z.id, zoneName: z.name } },
          h("td", {}, h("a", { href: `#/zone/${encodeURIComponent(z.id)}`, class: "zone-link" }, z.name)),
          h("td", { class: "wide" }, z.id),
          h("td", {}, String(z.count)),
          h("td", { class: "wide" }, z.comment || ""),
          h("td", {}, confirmButton("Delete", async () => {
            try {
              await Q53Api.deleteZone(key, z.id);
              load();
            } catch (e) { showError(err, e); }
          }, { class: "danger zone-delete" })))));
        if (!r.zones.length)
          list.appendChild(h("tr", {}, h("td", { colspan: 5, class: "hint" }, "No hosted zones.")));
      } catch (e) {
        if (gen !== generation) return;
        if (e.code === "AccessDenied")
          note.textContent = "This key may not list hosted zones; open one by its id below.";
        else showError(err, e);
      }
    }
    const createErr = h("p", { class: "error", id: "zone-create-error", role: "alert" });
    const form = h("form", { id: "zone-form", onsubmit: async (ev) => {
      ev.preventDefault();
      showError(createErr, null);
      const btn = $("#zone-create");
      btn.disabled = true;
      try {
        const r = await Q53Api.createZone(key, $("#zone-name").value.trim(), $("#zone-comment").value);
        $("#zone-name").value = "";
        $("#zone-comment").value = "";
        createErr.textContent = "";
        $("#zone-created").textContent = `Created ${r.zone.name} (${r.zone.id}).`;
        load();
      } catch (e) { showError(createErr, e); } finally { btn.disabled = false; }
    } },
    h("div", { class: "grid" },
      field("Domain name", { id: "zone-name", required: true, placeholder: "example.com", spellcheck: "false" }),
      field("Comment", { id: "zone-comment" }),
      h("button", { id: "zone-create", type: "submit" }, "Create hosted zone")),
    createErr, h("p", { class: "ok", id: "zone-created" }));
    const open = h("form", { class: "row", onsubmit: (ev) => {
      ev.preventDefault();
      location.hash = `#/zone/${encodeURIComponent($("#zone-open-id").value.trim())}`;
    } }, h("input", { id: "zone-open-id", placeholder: "hosted zone id", required: true }),
    h("button", { type: "submit", class: "secondary" }, "Open"));
    page.append(h("h1", {}, "Hosted zones"),
      h("div", { class: "card" }, h("h2", {}, "Create"), form),
      h("div", { class: "card" },
        h("div", { class: "table-wrap" }, h("table", { id: "zones-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", { class: "wide" }, "Id"),
            h("th", {}, "Record sets"), h("th", { class: "wide" }, "Comment"), h("th", {}, ""))),
          list)),
        h("div", { class: "row" }, prev, next), note, err, open));
    load();
  }

  // --- a zone's record sets -------------------------------------------------

  const TYPES = ["A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA",
    "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"];
  const POLICIES = [["simple", "Simple"], ["weighted", "Weighted"], ["failover", "Failover"],
    ["latency", "Latency"], ["geolocation", "Geolocation"], ["multivalue", "Multivalue answer"]];

  function policyOf(s) {
    if (s.failover) return "failover";
    if (s.weight !== "") return "weighted";
    if (s.region) return "latency";
    if (s.geo) return "geolocation";
    if (s.multiValue) return "multivalue";
    return "simple";
  }
  function routingText(s) {
    const p = policyOf(s);
    if (p === "weighted") return `weighted ${s.weight}`;
    if (p === "failover") return `failover ${s.failover}`;
    if (p === "latency") return `latency ${s.region}`;
    if (p === "geolocation")
      return `geo ${[s.geo.continent, s.geo.country, s.geo.subdivision].filter(Boolean).join("/")}`;
    if (p === "multivalue") return "multivalue";
    return "simple";
  }
  function changeText(c) {
    const s = c.set;
    return `${c.action} ${s.name} ${s.type}${s.setIdentifier ? ` [${s.setIdentifier}]` : ""}` +
      (c.action === "DELETE" ? "" : ` ${s.alias ? "ALIAS " + s.alias.name : s.values.join(", ")}`);
  }

  async function zonePage(zoneId) {
    const gen = generation;
    const err = h("p", { class: "error", id: "rr-error", role: "alert" });
    page.append(h("p", {}, h("a", { href: "#/zones" }, "← Hosted zones")));
    let zone;
    try {
      zone = await Q53Api.getZone(key, zoneId);
    } catch (e) {
      page.append(h("h1", {}, zoneId), err);
      showError(err, e);
      return;
    }
    if (gen !== generation) return;
    const origin = zone.name;
    const batch = [];  // [{action, set}]
    let editing = null;  // the listed set the form edits
    let hcs = [];

    // the table, a page at a time through the API's markers
    const tbody = h("tbody");
    const starts = [null];
    let at = 0;
    let shown = [];
    const pageSize = h("select", { id: "rr-page-size", onchange: () => { starts.length = 1; at = 0; load(); } },
      ["25", "50", "100", "300"].map((n) => h("option", { value: n, selected: n === "100" }, n)));
    const fName = h("input", { id: "rr-filter-name", placeholder: "name contains", spellcheck: "false",
      oninput: render });
    const fType = h("select", { id: "rr-filter-type", onchange: render },
      [h("option", { value: "" }, "any type"), ...TYPES.map((t) => h("option", { value: t }, t))]);
    const prev = h("button", { type: "button", class: "secondary", id: "rr-prev", disabled: true,
      onclick: () => { at--; load(); } }, "Previous");
    const next = h("button", { type: "button", class: "secondary", id: "rr-next", disabled: true,
      onclick: () => { at++; load(); } }, "Next");
    const pageNote = h("span", { class: "hint", id: "rr-page" });
    // Sorted by a column of this page (click its header; again: reversed).
    let sortBy = null, sortDir = 1;
    const sortKeys = { name: (s) => s.name, type: (s) => s.type, routing: (s) => routingText(s),
      ttl: (s) => Number(s.ttl || 0), values: (s) => s.values.join(" ") };
    const th = (label, k, cls) => h("th", { class: cls, dataset: { sort: k }, onclick: () => {
      sortDir = sortBy === k ? -sortDir : 1;
      sortBy = k;
      render();
    } }, label);
    function render() {
      const n = fName.value.trim().toLowerCase(), t = fType.value;
      const rows = shown.filter((s) => (!n || s.name.toLowerCase().includes(n)) && (!t || s.type === t));
      if (sortBy) {
        const kf = sortKeys[sortBy];
        rows.sort((a, b) => (kf(a) < kf(b) ? -sortDir : kf(a) > kf(b) ? sortDir : 0));
      }
      for (const e of document.querySelectorAll("#rrsets-table th[data-sort]"))
        e.textContent = e.textContent.replace(/ [▲▼]$/, "") +
          (e.dataset.sort === sortBy ? (sortDir > 0 ? " ▲" : " ▼") : "");
      tbody.replaceChildren(...rows.map((s) => h("tr", { dataset: { name: s.name, type: s.type,
        setId: s.setIdentifier } },
        h("td", {}, s.name), h("td", {}, s.type),
        h("td", {}, s.setIdentifier ? `${routingText(s)} [${s.setIdentifier}]` : routingText(s)),
        h("td", { class: "wide" }, s.alias ? "" : s.ttl),
        h("td", { class: "values" }, s.alias ? `ALIAS ${s.alias.name}` : s.policyInstance
          ? `policy record ${s.policyInstance}` : s.values.join("\n")),
        h("td", {}, (s.type === "SOA" || (s.type === "NS" && s.name === origin) || s.policyInstance) ? "" :
          h("div", { class: "row" },
            h("button", { type: "button", class: "secondary rr-edit", onclick: () => edit(s),
              disabled: !!(s.alias || s.other),
              title: s.alias || s.other ? "this routing is edited with q53 or the AWS CLI" : null }, "Edit"),
            h("button", { type: "button", class: "danger rr-delete",
              onclick: () => addChange({ action: "DELETE", set: s }) }, "Delete"))))));
      if (!rows.length)
        tbody.appendChild(h("tr", {}, h("td", { colspan: 6, class: "hint" }, "No record sets here.")));
    }
    async function load() {
      showError(err, null);
      try {
        const r = await Q53Api.listRecordSets(key, zoneId, starts[at], Number(pageSize.value));
        if (gen !== generation) return;
        if (r.next) starts[at + 1] = r.next;
        shown = r.sets;
        prev.disabled = at === 0;
        next.disabled = !r.next;
        pageNote.textContent = `page ${at + 1}`;
        render();
      } catch (e) { showError(err, e); }
    }

    // the form
    const f = {
      name: h("input", { id: "rr-name", placeholder: `www (relative to ${origin}) or absolute`, spellcheck: "false" }),
      type: h("select", { id: "rr-type" }, TYPES.filter((t) => t !== "SOA").map((t) => h("option", { value: t }, t))),
      ttl: h("input", { id: "rr-ttl", type: "number", min: 0, value: 300 }),
      values: h("textarea", { id: "rr-values", placeholder: "one value per line", spellcheck: "false" }),
      policy: h("select", { id: "rr-policy", onchange: showPolicy },
        POLICIES.map(([v, l]) => h("option", { value: v }, l))),
      setId: h("input", { id: "rr-setid", spellcheck: "false" }),
      weight: h("input", { id: "rr-weight", type: "number", min: 0, max: 255, value: 1 }),
      failover: h("select", { id: "rr-failover" }, ["PRIMARY", "SECONDARY"].map((v) => h("option", { value: v }, v))),
      region: h("input", { id: "rr-region", placeholder: "us-east-1", spellcheck: "false" }),
      continent: h("input", { id: "rr-geo-continent", placeholder: "EU", spellcheck: "false" }),
      country: h("input", { id: "rr-geo-country", placeholder: "DE or *", spellcheck: "false" }),
      subdivision: h("input", { id: "rr-geo-subdivision", placeholder: "(US states)", spellcheck: "false" }),
      hc: h("select", { id: "rr-hc" }, h("option", { value: "" }, "none")),
    };
    const wrap = (label, input) => h("label", {}, label, input);
    const groups = {
      setId: h("div", { class: "policy-fields", dataset: { for: "weighted failover latency geolocation multivalue" } },
        wrap("Record id (SetIdentifier)", f.setId)),
      weighted: h("div", { class: "policy-fields", dataset: { for: "weighted" } }, wrap("Weight", f.weight)),
      failover: h("div", { class: "policy-fields", dataset: { for: "failover" } }, wrap("Failover", f.failover)),
      latency: h("div", { class: "policy-fields", dataset: { for: "latency" } }, wrap("Region", f.region)),
      geo: h("div", { class: "policy-fields grid", dataset: { for: "geolocation" } },
        wrap("Continent", f.continent), wrap("Country", f.country), wrap("Subdivision", f.subdivision)),
    };
    function showPolicy() {
      for (const g of Object.values(groups)) g.hidden = !g.dataset.for.split(" ").includes(f.policy.value);
    }
    const absolute = (n) => {
      n = n.trim();
      if (n === "" || n === "@") return origin;
      if (n.endsWith(".")) return n;
      return n.toLowerCase().endsWith(origin.slice(0, -1).toLowerCase()) ? n + "." : `${n}.${origin}`;
    };
    function formSet() {
      const p = f.policy.value;
      return {
        name: absolute(f.name.value), type: f.type.value, ttl: f.ttl.value,
        values: f.values.value.split("\n").map((v) => v.trim()).filter(Boolean),
        setIdentifier: p === "simple" ? "" : f.setId.value.trim(),
        weight: p === "weighted" ? f.weight.value : "",
        failover: p === "failover" ? f.failover.value : "",
        region: p === "latency" ? f.region.value.trim() : "",
        geo: p === "geolocation" ? { continent: f.continent.value.trim(), country: f.country.value.trim(),
          subdivision: f.subdivision.value.trim() } : null,
        multiValue: p === "multivalue",
        healthCheckId: f.hc.value,
        alias: null,
      };
    }
    function edit(s) {
      editing = s;
      f.name.value = s.name;
      f.type.value = s.type;
      f.ttl.value = s.ttl || 300;
      f.values.value = s.values.join("\n");
      f.policy.value = policyOf(s);
      f.setId.value = s.setIdentifier;
      f.weight.value = s.weight || 1;
      f.failover.value = s.failover || "PRIMARY";
      f.region.value = s.region;
      f.continent.value = s.geo ? s.geo.continent : "";
      f.country.value = s.geo ? s.geo.country : "";
      f.subdivision.value = s.geo ? s.geo.subdivision : "";
      f.hc.value = s.healthCheckId || "";
      $("#rr-form-title").textContent = `Edit ${s.name} ${s.type}`;
      showPolicy();
      $("#rr-form").scrollIntoView({ block: "start" });
    }
    function clearForm() {
      editing = null;
      f.name.value = "";
      f.values.value = "";
      f.setId.value = "";
      $("#rr-form-title").textContent = "Create record set";
    }
    const batchList = h("ul", { class: "batch", id: "rr-batch" });
    const submit = h("button", { type: "button", id: "rr-submit", disabled: true, onclick: submitBatch },
      "Submit batch");
    const discard = h("button", { type: "button", class: "secondary", id: "rr-discard", disabled: true,
      onclick: () => { batch.length = 0; renderBatch(); } }, "Discard");
    const status = h("p", { id: "change-status" });
    function renderBatch() {
      batchList.replaceChildren(...batch.map((c) => h("li", {}, changeText(c))));
      submit.disabled = discard.disabled = !batch.length;
      submit.textContent = batch.length ? `Submit batch (${batch.length} change${batch.length > 1 ? "s" : ""})`
        : "Submit batch";
    }
    function addChange(c) {
      batch.push(c);
      renderBatch();
    }
    const formErr = h("p", { class: "error", id: "rr-form-error", role: "alert" });
    function addFromForm(ev) {
      ev.preventDefault();
      formErr.textContent = "";
      const s = formSet();
      if (!s.values.length) { formErr.textContent = "Give at least one value."; return; }
      if (f.policy.value !== "simple" && !s.setIdentifier) {
        formErr.textContent = "This routing policy needs a record id (SetIdentifier).";
        return;
      }
      // An edit of the same set is an UPSERT; one that renames it deletes
      // the listed set and creates the new one, in the same batch.
      if (editing && (editing.name !== s.name || editing.type !== s.type ||
          editing.setIdentifier !== s.setIdentifier)) {
        addChange({ action: "DELETE", set: editing });
        addChange({ action: "CREATE", set: s });
      } else addChange({ action: editing ? "UPSERT" : "CREATE", set: s });
      clearForm();
    }
    async function submitBatch() {
      submit.disabled = true;
      status.replaceChildren();
      try {
        const c = await Q53Api.changeRecordSets(key, zoneId, batch.slice(), "console");
        batch.length = 0;
        renderBatch();
        watchChange(c, status, load);
        load();
      } catch (e) {
        status.replaceChildren(h("span", { class: "error" }, errorText(e)));
        submit.disabled = false;
      }
    }
    // Export the zone as a file; import one (it replaces every record).
    const zfText = h("textarea", { id: "zf-text", spellcheck: "false",
      placeholder: "a zone file (RFC 1035 text): Import replaces the zone's records with it" });
    const zfStatus = h("p", { id: "zf-status" });
    const zoneFile = h("div", {},
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", id: "zf-export", onclick: async () => {
          zfStatus.replaceChildren();
          try {
            const text = await Q53Api.exportZone(key, zoneId);
            zfText.value = text;
            const url = URL.createObjectURL(new Blob([text], { type: "text/dns" }));
            zfStatus.replaceChildren(h("a", { href: url, download: `${origin}zone`, id: "zf-download" },
              `Download ${origin}zone`));
          } catch (e) { zfStatus.replaceChildren(h("span", { class: "error" }, errorText(e))); }
        } }, "Export"),
        h("input", { type: "file", id: "zf-file", accept: ".zone,.txt,text/*", onchange: async (ev) => {
          const file = ev.target.files[0];
          if (file) zfText.value = await file.text();
        } }),
        h("button", { type: "button", class: "danger", id: "zf-import", onclick: async () => {
          zfStatus.replaceChildren();
          try {
            const c = await Q53Api.importZone(key, zoneId, zfText.value);
            watchChange(c, zfStatus, load);
          } catch (e) { zfStatus.replaceChildren(h("span", { class: "error" }, errorText(e))); }
        } }, "Import")),
      zfText, zfStatus);
    const form = h("form", { id: "rr-form", onsubmit: addFromForm },
      h("h2", { id: "rr-form-title" }, "Create record set"),
      h("div", { class: "grid" }, wrap("Name", f.name), wrap("Type", f.type), wrap("TTL", f.ttl),
        wrap("Routing policy", f.policy)),
      wrap("Values", f.values),
      h("div", { class: "grid" }, groups.setId, groups.weighted, groups.failover, groups.latency,
        wrap("Health check", f.hc)),
      groups.geo,
      h("div", { class: "row" }, h("button", { type: "submit", id: "rr-add" }, "Add to batch"),
        h("button", { type: "button", class: "secondary", onclick: clearForm }, "Clear")),
      formErr);
    showPolicy();

    page.append(h("h1", { id: "zone-title", dataset: { zoneId } }, origin),
      h("p", { class: "hint" }, `${zone.id} · ${zone.count} record sets · ${zone.nameservers.join(" ")}`),
      h("div", { class: "card" }, h("h2", {}, "Record sets"),
        h("div", { class: "row" }, fName, fType, h("label", { class: "inline" }, "per page", pageSize)),
        h("div", { class: "table-wrap" }, h("table", { id: "rrsets-table" },
          h("thead", {}, h("tr", {}, th("Name", "name"), th("Type", "type"), th("Routing", "routing"),
            th("TTL", "ttl", "wide"), th("Values", "values"), h("th", {}, ""))),
          tbody)),
        h("div", { class: "row" }, prev, next, pageNote), err),
      h("div", { class: "card" }, h("h2", {}, "Zone file"), zoneFile),
      h("div", { class: "card" }, h("h2", {}, "Change batch"), batchList,
        h("div", { class: "row" }, submit, discard), status),
      h("div", { class: "card" }, form));
    load();
    try {
      hcs = await Q53Api.listHealthChecks(key);
      for (const c of hcs)
        f.hc.appendChild(h("option", { value: c.id }, `${c.id.slice(0, 8)}… ${hcTarget(c)}`));
    } catch (e) { /* a key without ListHealthChecks: no choice offered */ }
  }

  // Polls GetChange until INSYNC, showing each status.
  function watchChange(c, where, done) {
    const gen = generation;
    const show = (st) => where.replaceChildren(
      h("span", { id: "change-id", dataset: { changeId: c.id } }, `Change ${c.id}: `),
      badge(st, st), st === "INSYNC" ? " — every node serves it" : " — waiting for every node");
    show(c.status);
    if (c.status === "INSYNC") { done(); return; }
    const deadline = Date.now() + 120e3;
    const poll = async () => {
      if (gen !== generation) return;
      try {
        const st = await Q53Api.getChange(key, c.id);
        show(st.status);
        if (st.status === "INSYNC") { done(); return; }
      } catch (e) {
        where.appendChild(h("span", { class: "error" }, " " + errorText(e)));
      }
      if (Date.now() < deadline) timers.push(setTimeout(poll, 500));
    };
    timers.push(setTimeout(poll, 300));
  }

  // --- health checks --------------------------------------------------------

  function hcTarget(c) {
    const cfg = c.config;
    const host = cfg.FullyQualifiedDomainName || cfg.IPAddress || "";
    if (cfg.Type === "CALCULATED") return "calculated";
    return `${cfg.Type} ${host}:${cfg.Port || ""}${cfg.ResourcePath || ""}`;
  }

  // Samples of each check's status, kept while the tab lives (the chart's
  // history starts when the page was first opened).
  const hcHistory = {};

  function healthPage() {
    const gen = generation;
    const err = h("p", { class: "error", id: "hc-error", role: "alert" });
    const list = h("div", { id: "hc-list" });
    let checks = [];
    const f = {
      type: h("select", { id: "hc-type" }, ["HTTP", "HTTPS", "TCP", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"]
        .map((t) => h("option", { value: t }, t))),
      ip: h("input", { id: "hc-ip", placeholder: "192.0.2.10", spellcheck: "false" }),
      fqdn: h("input", { id: "hc-fqdn", placeholder: "or a host name", spellcheck: "false" }),
      port: h("input", { id: "hc-port", type: "number", min: 1, max: 65535, value: 80 }),
      path: h("input", { id: "hc-path", value: "/", spellcheck: "false" }),
      search: h("input", { id: "hc-search", placeholder: "(STR_MATCH)" }),
      interval: h("input", { id: "hc-interval", type: "number", min: 1, value: 10 }),
      threshold: h("input", { id: "hc-threshold", type: "number", min: 1, max: 10, value: 3 }),
    };
    const wrap = (label, input) => h("label", {}, label, input);
    const createErr = h("p", { class: "error", id: "hc-create-error", role: "alert" });
    let editing = null;  // the check the form updates (null: creates)
    const submitBtn = h("button", { type: "submit", id: "hc-create" }, "Create health check");
    const cancelBtn = h("button", { type: "button", class: "secondary", id: "hc-cancel", hidden: true,
      onclick: () => stopEditing() }, "Cancel");
    function stopEditing() {
      editing = null;
      f.type.disabled = f.interval.disabled = false;
      submitBtn.textContent = "Create health check";
      cancelBtn.hidden = true;
      $("#hc-form-title").textContent = "Create";
    }
    function edit(c) {
      const cfg = c.config;
      editing = c;
      f.type.value = cfg.Type;
      f.ip.value = cfg.IPAddress || "";
      f.fqdn.value = cfg.FullyQualifiedDomainName || "";
      f.port.value = cfg.Port || "";
      f.path.value = cfg.ResourcePath || "";
      f.search.value = cfg.SearchString || "";
      f.interval.value = cfg.RequestInterval || "";
      f.threshold.value = cfg.FailureThreshold || "";
      // Route 53 does not change these after creation
      f.type.disabled = f.interval.disabled = true;
      submitBtn.textContent = "Update health check";
      cancelBtn.hidden = false;
      $("#hc-form-title").textContent = `Edit ${c.id}`;
      $("#hc-form").scrollIntoView({ block: "start" });
    }
    const form = h("form", { id: "hc-form", onsubmit: async (ev) => {
      ev.preventDefault();
      createErr.textContent = "";
      const t = f.type.value;
      const cfg = { IPAddress: f.ip.value.trim(), Port: f.port.value, Type: t,
        ResourcePath: t === "TCP" ? "" : f.path.value.trim(),
        FullyQualifiedDomainName: f.fqdn.value.trim(),
        SearchString: t.endsWith("STR_MATCH") ? f.search.value : "",
        RequestInterval: f.interval.value, FailureThreshold: f.threshold.value };
      try {
        if (editing) {
          delete cfg.Type;
          delete cfg.RequestInterval;
          const c = await Q53Api.updateHealthCheck(key, editing.id, editing.version, cfg);
          $("#hc-created").textContent = `Updated ${c.id} (version ${c.version}).`;
          stopEditing();
        } else {
          const c = await Q53Api.createHealthCheck(key, cfg);
          $("#hc-created").textContent = `Created ${c.id}.`;
        }
        refresh();
      } catch (e) { showError(createErr, e); }
    } },
    h("div", { class: "grid" }, wrap("Type", f.type), wrap("IP address", f.ip), wrap("Host name", f.fqdn),
      wrap("Port", f.port), wrap("Path", f.path), wrap("Search string", f.search),
      wrap("Interval (s)", f.interval), wrap("Failure threshold", f.threshold),
      h("div", { class: "row" }, submitBtn, cancelBtn)),
    createErr, h("p", { class: "ok", id: "hc-created" }));

    const cards = {};  // id -> {card, status, chart}
    async function refresh() {
      try {
        checks = await Q53Api.listHealthChecks(key);
      } catch (e) { showError(err, e); return; }
      if (gen !== generation) return;
      showError(err, null);
      const ids = new Set(checks.map((c) => c.id));
      for (const id of Object.keys(cards)) if (!ids.has(id)) { cards[id].card.remove(); delete cards[id]; }
      for (const c of checks) {
        if (cards[c.id]) {
          cards[c.id].title.textContent = hcTarget(c);
          cards[c.id].check = c;
          continue;
        }
        const st = h("span", { class: "hc-status" }, badge("…", "unknown"));
        const detail = h("p", { class: "hint hc-detail" });
        const chart = h("div", { class: "chart", dataset: { hcId: c.id } });
        const alarms = h("div", { class: "hc-alarms" });
        const title = h("strong", { class: "hc-target" }, hcTarget(c));
        const ui = { title, check: c };
        const card = h("div", { class: "card hc", dataset: { hcId: c.id } },
          h("div", { class: "row" }, title, st,
            h("button", { type: "button", class: "secondary hc-edit", onclick: () => edit(ui.check) },
              "Edit"),
            confirmButton("Delete", async () => {
              try { await Q53Api.deleteHealthCheck(key, c.id); refresh(); } catch (e) { showError(err, e); }
            }, { class: "danger hc-delete" })),
          h("p", { class: "hint" }, c.id), detail, chart, alarms);
        cards[c.id] = Object.assign(ui, { card, st, detail, chart, alarms });
        list.appendChild(card);
      }
      if (!checks.length) list.replaceChildren(h("p", { class: "hint" }, "No health checks."));
      else if (list.firstChild && !list.firstChild.classList.contains("hc")) list.firstChild.remove();
    }
    async function poll() {
      for (const c of checks.slice(0, 20)) {
        const ui = cards[c.id];
        if (!ui) continue;
        let s;
        try {
          s = await Q53Api.healthCheckStatus(key, c.id);
        } catch (e) {
          ui.detail.textContent = errorText(e);
          continue;
        }
        if (gen !== generation) return;
        const hist = (hcHistory[c.id] = hcHistory[c.id] || { samples: [], transitions: [] });
        const nodes = {};
        // what each node sees: its vote (sent when its observation
        // changes, so its time is the change's), else its prober's state
        for (const n of s.nodes)
          nodes[n.name || `node ${n.nodeId}`] = !n.reachable ? { state: "" }
            : n.voted ? { state: n.voteHealthy ? "HEALTHY" : "UNHEALTHY", at: n.voteAtMs }
            : { state: n.observedState || "" };
        hist.samples.push({ t: Date.now(), healthy: s.healthy, transitionIndex: s.transitionIndex,
          transitionAtMs: s.transitionAtMs, nodes });
        if (hist.samples.length > 900) hist.samples.shift();
        // the FSM's own time of the transition (an alarm's is its delivery's)
        const known = hist.transitions.find((t) => t.index === s.transitionIndex);
        if (known) known.atMs = s.transitionAtMs || known.atMs;
        else if (s.transitionIndex)
          hist.transitions.push({ index: s.transitionIndex, atMs: s.transitionAtMs, healthy: s.healthy });
        const label = s.healthy ? "Healthy" : "Unhealthy";
        ui.st.replaceChildren(badge(label, label.toLowerCase()));
        ui.st.dataset.status = label;
        ui.detail.textContent = `${s.basis}: ${s.healthyVotes} of ${s.reporting} reporting nodes ` +
          `(${s.members} members) see it healthy; last transition at log index ${s.transitionIndex}` +
          (s.transitionAtMs ? ` (${new Date(s.transitionAtMs).toISOString()})` : "") +
          `; answered by node ${s.answeredBy} at index ${s.appliedIndex}.`;
        ui.chart.replaceChildren(Q53Chart.draw(hist.samples, hist.transitions, Date.now()));
        ui.chart.dataset.status = label;
        ui.chart.dataset.transitions = hist.transitions.map((t) => t.index).join(" ");
      }
    }
    // The leader's alarm history (webhook / --alarm-exec), for keys that
    // may read it; the node asked is the one the page came from.
    let alarmsAllowed = true;
    async function pollAlarms() {
      if (!alarmsAllowed) return;
      for (const c of checks.slice(0, 20)) {
        const ui = cards[c.id];
        if (!ui) continue;
        let list;
        try {
          list = await Q53Api.alarms(key, c.id);
        } catch (e) {
          if (e.status === 403) alarmsAllowed = false;
          return;
        }
        if (gen !== generation) return;
        // each alarm names a decided transition: one on the chart too
        const hist = (hcHistory[c.id] = hcHistory[c.id] || { samples: [], transitions: [] });
        for (const a of list)
          if (!hist.transitions.some((t) => t.index === a.Index))
            hist.transitions.push({ index: a.Index, atMs: a.TimeMs, healthy: a.Status === "Healthy" });
        ui.alarms.replaceChildren(...(list.length ? [h("h2", {}, "Alarms"), h("div", { class: "table-wrap" },
          h("table", { class: "alarms" }, h("thead", {}, h("tr", {}, ["Time", "Index", "Status", "Target",
            "Result", "Attempts"].map((x) => h("th", {}, x)))),
          h("tbody", {}, list.map((a) => h("tr", { dataset: { index: a.Index, status: a.Status,
            target: a.Target } }, h("td", {}, new Date(a.TimeMs).toISOString()),
            h("td", {}, String(a.Index)), h("td", {}, a.Status), h("td", {}, a.Target),
            h("td", {}, a.Result), h("td", {}, String(a.Attempts)))))))] : []));
      }
    }
    page.append(h("h1", {}, "Health checks"),
      h("div", { class: "card" }, h("h2", { id: "hc-form-title" }, "Create"), form), err, list);
    refresh().then(() => {
      if (gen !== generation) return;
      every(2000, poll);
      every(5000, pollAlarms);
    });
    every(10000, refresh);
  }

  // --- cluster ------------------------------------------------------------------

  function clusterPage() {
    const gen = generation;
    const err = h("p", { class: "error", id: "cluster-error", role: "alert" });
    const dl = h("dl", { class: "kv", id: "cluster-status" });
    const tbody = h("tbody");
    async function load() {
      let st, nodes;
      try {
        [st, nodes] = await Promise.all([Q53Api.status(key), Q53Api.listNodes(key)]);
      } catch (e) { if (gen === generation) showError(err, e); return; }
      if (gen !== generation) return;
      showError(err, null);
      const kv = [["This node", `node ${st.nodeId} (${st.state})`], ["Leader", `node ${st.leaderId}`],
        ["Term", st.term], ["Commit index", st.commitIndex], ["Applied index", st.appliedIndex],
        ["Quorum contact", st.quorumContact ? "yes" : "no"], ["Zones", st.zones], ["Version", st.version]];
      dl.replaceChildren(...kv.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { dataset: { key: k } }, String(v))]));
      const leader = nodes.find((n) => n.leader);
      const top = leader ? leader.appliedIndex : st.appliedIndex;
      tbody.replaceChildren(...nodes.map((n) => h("tr", { dataset: { nodeId: n.id, role: n.role } },
        h("td", {}, String(n.id)), h("td", {}, n.role),
        h("td", {}, n.leader ? badge("leader", "yes") : ""),
        h("td", {}, badge(n.reachable ? "yes" : "no")),
        h("td", { class: "applied" }, String(n.appliedIndex)),
        h("td", {}, String(Math.max(0, top - n.appliedIndex))),
        h("td", { class: "wide" }, n.raftAddress), h("td", { class: "wide" }, n.site || ""),
        h("td", {}, confirmButton("Remove", async () => {
          try { await Q53Api.removeNode(key, n.id); load(); } catch (e) { showError(err, e); }
        }, { class: "danger node-remove" })))));
    }
    page.append(h("h1", {}, "Cluster"),
      h("div", { class: "card" }, dl),
      h("div", { class: "card" }, h("h2", {}, "Members"),
        h("div", { class: "table-wrap" }, h("table", { id: "nodes-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Role"), h("th", {}, "Leader"),
            h("th", {}, "Reachable"), h("th", {}, "Applied"), h("th", {}, "Lag"),
            h("th", { class: "wide" }, "Raft address"), h("th", { class: "wide" }, "Site"), h("th", {}, ""))),
          tbody)), err));
    every(2000, load);
  }

  // --- TestDNSAnswer --------------------------------------------------------------

  async function testPage() {
    const gen = generation;
    const err = h("p", { class: "error", id: "ta-error", role: "alert" });
    const out = h("div", { id: "ta-result" });
    const zoneSel = h("select", { id: "ta-zone" });
    const f = {
      name: h("input", { id: "ta-name", placeholder: "www.example.com", spellcheck: "false" }),
      type: h("select", { id: "ta-type" }, TYPES.map((t) => h("option", { value: t }, t))),
      subnet: h("input", { id: "ta-subnet", placeholder: "198.51.100.0/24", spellcheck: "false" }),
      resolver: h("input", { id: "ta-resolver", placeholder: "resolver IP (optional)", spellcheck: "false" }),
    };
    const wrap = (label, input) => h("label", {}, label, input);
    const form = h("form", { id: "ta-form", onsubmit: async (ev) => {
      ev.preventDefault();
      showError(err, null);
      out.replaceChildren();
      try {
        let name = f.name.value.trim();
        if (name && !name.endsWith(".")) name += ".";
        const r = await Q53Api.testAnswer(key, zoneSel.value, name, f.type.value, f.subnet.value.trim(),
          f.resolver.value.trim());
        out.replaceChildren(h("dl", { class: "kv" },
          h("dt", {}, "Response code"), h("dd", { id: "ta-rcode" }, r.responseCode),
          h("dt", {}, "Answer"), h("dd", {}, h("ul", { id: "ta-data", class: "batch" },
            r.recordData.map((d) => h("li", {}, d)))),
          h("dt", {}, "Branch"), h("dd", { id: "ta-branch" }, r.branch || "—"),
          h("dt", {}, "Record"), h("dd", {}, `${r.recordName} ${r.recordType}`),
          h("dt", {}, "Nameserver"), h("dd", { id: "ta-ns" }, `${r.nameserver} (${r.protocol})`)));
      } catch (e) { showError(err, e); }
    } },
    h("div", { class: "grid" }, wrap("Hosted zone", zoneSel), wrap("Record name", f.name),
      wrap("Type", f.type), wrap("Client subnet (EDNS)", f.subnet), wrap("Resolver IP", f.resolver),
      h("button", { type: "submit", id: "ta-submit" }, "Test")));
    page.append(h("h1", {}, "Test answer"), h("div", { class: "card" }, form, err, out));
    try {
      const r = await visibleZones("");
      if (gen !== generation) return;
      zoneSel.replaceChildren(...r.zones.map((z) => h("option", { value: z.id }, z.name)));
    } catch (e) { showError(err, e); }
  }

  // --- start ------------------------------------------------------------------------

  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  start();
})();
