// A health check's status over time as SVG: one band for the decided
// status (the FSM's), one per node for what that node's prober observed,
// and a dashed line at each decided transition labelled with its log
// index. Samples are what the page polled (GetHealthCheckStatus) since it
// opened, plus the last transition the API reports.
"use strict";

const Q53Chart = (() => {
  const SVGNS = "http://www.w3.org/2000/svg";
  const W = 640, LEFT = 90, RIGHT = 10, ROW = 18, GAP = 6, TOP = 18;

  function el(name, attrs, textContent) {
    const e = document.createElementNS(SVGNS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (textContent !== undefined) e.textContent = textContent;
    return e;
  }
  function clock(ms) {
    return new Date(ms).toISOString().slice(11, 19);
  }
  function stateClass(s) {
    return s === "HEALTHY" || s === true ? "healthy"
      : s === "UNHEALTHY" || s === false ? "unhealthy" : "unknown";
  }

  // samples: [{t, healthy, transitionIndex, transitionAtMs,
  //            nodes: {name: {state, at}}}] (at: when that node's view
  //            changed, if known)
  // oldest first; transitions: [{index, atMs, healthy}].
  function draw(samples, transitions, now) {
    const names = [];
    for (const s of samples)
      for (const n of Object.keys(s.nodes)) if (!names.includes(n)) names.push(n);
    names.sort();
    const rows = [{ label: "decided", key: null }].concat(names.map((n) => ({ label: n, key: n })));
    const H = TOP + rows.length * (ROW + GAP) + 16;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "health status over time" });
    if (!samples.length) {
      svg.appendChild(el("text", { x: LEFT, y: TOP + 12, class: "axis" }, "no samples yet"));
      return svg;
    }
    let t0 = samples[0].t;
    for (const tr of transitions) if (tr.atMs && tr.atMs < t0 && now - tr.atMs < 15 * 60e3) t0 = tr.atMs;
    const t1 = Math.max(now, t0 + 1000);
    const x = (t) => LEFT + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (W - LEFT - RIGHT);

    // Each row as change points [time, state], merged when unchanged. The
    // decided status changes at its transition's own time when that fell
    // between two samples (and before the first one, it is the status its
    // last transition set); a node's at its vote's time, else the sample's.
    const points = (row) => {
      const pts = [];
      const push = (t, st) => {
        if (!pts.length || pts[pts.length - 1][1] !== st) pts.push([t, st]);
      };
      // before the first sample: the transitions known (alarm history)
      if (row.key === null)
        transitions.filter((tr) => tr.atMs >= t0 && tr.atMs < samples[0].t)
          .sort((a, b) => a.atMs - b.atMs).forEach((tr) => push(tr.atMs, tr.healthy));
      samples.forEach((s, i) => {
        const prev = samples[i - 1];
        if (row.key !== null) {
          const n = s.nodes[row.key] || { state: undefined };
          // a node's change at its own time when that fell since the last sample
          return push(prev && n.at > prev.t && n.at < s.t ? n.at : s.t, n.state);
        }
        if (i === 0 && s.transitionAtMs && s.transitionAtMs < s.t) {
          if (s.transitionAtMs >= (pts.length ? pts[pts.length - 1][0] : 0)) push(s.transitionAtMs, s.healthy);
          else push(s.t, s.healthy);
        }
        else if (prev && s.transitionIndex !== prev.transitionIndex &&
                 s.transitionAtMs > prev.t && s.transitionAtMs < s.t) push(s.transitionAtMs, s.healthy);
        else push(s.t, s.healthy);
      });
      return pts;
    };
    rows.forEach((row, r) => {
      const y = TOP + r * (ROW + GAP);
      svg.appendChild(el("text", { x: LEFT - 6, y: y + ROW - 5, "text-anchor": "end",
        class: "lbl" }, row.label));
      const pts = points(row);
      pts.forEach(([t, state], j) => {
        const last = j + 1 === pts.length;
        const end = last ? now : pts[j + 1][0];
        // the current state is never narrower than a few pixels (it began
        // at the latest sample, a moment ago)
        const min = last ? 4 : 0.5;
        const left = Math.min(x(t), W - RIGHT - min);
        svg.appendChild(el("rect", { x: left, y, height: ROW,
          width: Math.max(min, x(end) - left),
          class: `seg ${row.key === null ? "decided" : "node"} ${stateClass(state)}`,
          "data-state": state === undefined ? "" : String(state),
          "data-from": Math.round(t) }));
      });
    });
    const bottom = TOP + rows.length * (ROW + GAP);
    for (const tr of transitions) {
      if (!tr.atMs || tr.atMs < t0) continue;
      const tx = x(tr.atMs);
      svg.appendChild(el("line", { x1: tx, x2: tx, y1: TOP - 4, y2: bottom - GAP,
        class: "transition", "data-index": tr.index,
        "data-status": tr.healthy ? "Healthy" : "Unhealthy" }));
      // labels near the right edge end at their line
      const right = tx > W - 110;
      svg.appendChild(el("text", { x: right ? tx - 3 : tx + 3, y: TOP - 6, class: "tlabel",
        "text-anchor": right ? "end" : "start" },
        `#${tr.index} ${tr.healthy ? "healthy" : "unhealthy"}`));
    }
    svg.appendChild(el("text", { x: LEFT, y: bottom + 8, class: "axis" }, clock(t0)));
    svg.appendChild(el("text", { x: W - RIGHT, y: bottom + 8, "text-anchor": "end", class: "axis" },
      clock(t1) + " UTC"));
    return svg;
  }

  return { draw };
})();
