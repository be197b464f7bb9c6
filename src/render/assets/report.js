"use strict";
// perfgate's report page. Every log-derived string is inserted with textContent or as an SVG
// text node, never as markup.
(function () {
  const data = JSON.parse(document.getElementById("perfgate-data").textContent);
  const report = data.report;
  const handlers = report.handlers;
  const comparison = data.comparison;
  const SVG = "http://www.w3.org/2000/svg";
  const byKey = new Map();
  if (comparison) comparison.handlers.forEach((c, i) => { c.why = data.reasons[i] || []; byKey.set(c.key, c); });
  const keyOf = (h) => (h.plugin ? h.plugin + "." + h.name : h.name);
  const t = (h, s) => (h.timing ? h.timing[s] : null);
  const fmt = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
  const pct = (v) => (v === null || v === undefined ? "–" : (v >= 0 ? "+" : "") + (v * 100).toFixed(1) + "%");

  // Characters that change how text looks without being seen (bidi marks, overrides and
  // isolates, zero-width ones, the BOM) are shown as ⟨U+XXXX⟩, as in every other report.
  function shown(text) {
    return String(text).replace(/[\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g,
      (c) => "⟨U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "⟩");
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = shown(text);
    if (cls) e.className = cls;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = shown(text);
    return e;
  }
  // Heat from green (fast) to red (slow), by the configured bands.
  function heatColor(ms) {
    if (ms === null || ms === undefined) return "#e8eaee";
    const slow = data.bands[2] || 1;
    const x = Math.max(0, Math.min(1, ms / (slow * 1.4)));
    return "hsl(" + Math.round(120 - 120 * x) + ", 62%, " + Math.round(72 - 18 * x) + "%)";
  }
  function rankColor(v, max) {
    const x = max > 0 ? Math.max(0, Math.min(1, v / max)) : 0;
    return "hsl(" + Math.round(120 - 120 * x) + ", 55%, " + Math.round(76 - 20 * x) + "%)";
  }
  // A handler's colour is its severity's, as the gate decided it (fail, warn, info, pass).
  function severityColor(s) {
    return { fail: "#c62828", warn: "#e0a100", info: "#2e7d32" }[s] || "#c9ced8";
  }
  function changeColor(c) {
    if (c === null || c === undefined) return "#e8eaee";
    const x = Math.max(-1, Math.min(1, c / 0.5));
    return x <= 0 ? "hsl(120, 50%, " + Math.round(80 + 10 * x) + "%)" : "hsl(" + Math.round(60 - 60 * x) + ", 70%, " + Math.round(75 - 15 * x) + "%)";
  }

  // Header.
  document.getElementById("title").textContent = data.title;
  const s = report.summary;
  document.getElementById("summary").textContent =
    s.totalHandlers + " handlers, " + s.totalExecutions + " executions, " + fmt(s.totalTime) + " ms in total" +
    (s.slowestHandler ? "; slowest on average: " + shown(s.slowestHandler) : "") + ".";
  if (comparison) {
    const v = document.getElementById("verdict");
    const counts = Object.entries(comparison.counts).map(([k, n]) => n + " " + k).join(" · ");
    v.textContent = comparison.outcome.toUpperCase() + " — " + counts + " — run-wide shift " +
      (comparison.drift.factor === null ? "not estimated" : pct(comparison.drift.factor - 1));
    v.className = comparison.outcome;
  }
  document.getElementById("legend").textContent =
    "Colour within each column, on a log scale: green its lowest value shown, red its highest" + (comparison ? "; Δ% from green (faster) to red (slower)." : ".");
  document.getElementById("latency-legend").textContent =
    "Each row a handler, each column a duration bucket (ms, doubling); the darker the cell, the larger the share of the handler's executions in it.";
  const d = report.diagnostics;
  document.getElementById("diagnostics").textContent =
    "Diagnostics: " + d.files.length + " files, " + d.lines + " lines, " + d.recognizedLines + " recognized, " + d.samples + " samples, " +
    d.failed + " failed, " + d.incomplete + " incomplete, " + d.orphans + " orphan completions, " + d.unmappedBeats + " unmapped beats.";

  // Filters.
  const plugins = [...new Set(handlers.map((h) => h.plugin).filter((p) => p))].sort();
  const sequences = [...new Set(handlers.flatMap((h) => h.sequences))].sort();
  for (const [id, values] of [["plugin", plugins], ["sequence", sequences]]) {
    const sel = document.getElementById(id);
    for (const v of values) { const o = el("option", v); o.value = v; sel.appendChild(o); }
  }
  // A check lists handlers in the comparison's order (what fails, warnings, improvements, then
  // the rest); an analysis by average duration.
  const order = new Map();
  if (comparison) comparison.handlers.forEach((c, k) => order.set(c.key, k));
  const state = { sort: comparison ? "order" : "avg", dir: comparison ? 1 : -1, filter: "", plugin: "", sequence: "", showAll: false, selected: -1, expanded: false, folded: [] };

  const columns = [
    { key: "name", label: "Handler", value: (h) => keyOf(h), text: true },
    { key: "plugin", label: "Plugin", value: (h) => h.plugin, text: true },
    { key: "count", label: "Executions", value: (h) => h.executions, num: true, digits: 0 },
    { key: "avg", label: "avg ms", value: (h) => t(h, "avg"), num: true },
    { key: "p50", label: "p50", value: (h) => t(h, "p50"), num: true },
    { key: "p95", label: "p95", value: (h) => t(h, "p95"), num: true },
    { key: "p99", label: "p99", value: (h) => t(h, "p99"), num: true },
    { key: "max", label: "max", value: (h) => t(h, "max"), num: true },
    { key: "total", label: "total ms", value: (h) => h.totalTime, num: true },
  ];
  if (comparison) {
    columns.unshift({ key: "order", label: "#", value: (h) => (order.has(keyOf(h)) ? order.get(keyOf(h)) + 1 : Infinity), num: true, digits: 0 });
    columns.push({ key: "base", label: "base p95", value: (h) => (byKey.get(keyOf(h)) || {}).baseP95, num: true });
    columns.push({ key: "change", label: "Δ", value: (h) => headline(byKey.get(keyOf(h))), num: true, render: pct });
    columns.push({ key: "verdict", label: "Verdict", value: (h) => (byKey.get(keyOf(h)) || {}).verdict || "", text: true });
  }
  function headline(c) {
    if (!c) return null;
    const g = c.stats.find((x) => x.gated && x.change !== null) || c.stats.find((x) => x.change !== null);
    return g ? g.change : null;
  }

  function visible() {
    const f = state.filter.toLowerCase();
    let idx = handlers.map((h, i) => i).filter((i) => {
      const h = handlers[i];
      if (state.plugin && h.plugin !== state.plugin) return false;
      if (state.sequence && !h.sequences.includes(state.sequence)) return false;
      if (!f) return true;
      return [keyOf(h), ...h.sequences, ...h.events].some((x) => x.toLowerCase().includes(f));
    });
    const col = columns.find((c) => c.key === state.sort);
    idx.sort((a, b) => {
      const va = col.value(handlers[a]), vb = col.value(handlers[b]);
      if (col.key === "order") return va - vb || a - b;
      if (col.text) return state.dir * String(va).localeCompare(String(vb));
      return state.dir * ((va === null || va === undefined ? -Infinity : va) - (vb === null || vb === undefined ? -Infinity : vb)) || a - b;
    });
    const total = idx.length;
    const changed = idx.filter((i) => (byKey.get(keyOf(handlers[i])) || {}).changed).length;
    if (!state.showAll) idx = idx.slice(0, Math.max(data.top, changed));
    document.getElementById("shown").textContent = "showing " + idx.length + " of " + total;
    return idx;
  }

  // A colour relative to the column: from its lowest shown value (green) to its highest (red),
  // on a log scale, so that every column carries information whatever its unit.
  function columnColor(values) {
    const logs = values.filter((v) => v !== null && v !== undefined && v > 0).map(Math.log);
    const lo = Math.min(...logs), hi = Math.max(...logs);
    return (v) => {
      if (v === null || v === undefined) return "#e8eaee";
      if (!(hi > lo)) return rankColor(0, 1);
      return rankColor(v > 0 ? Math.log(v) - lo : 0, hi - lo);
    };
  }
  // A name that fits `chars`: its end kept (the handler), the start cut.
  const shorten = (name, chars) => (name.length > chars ? "…" + name.slice(name.length - chars + 1) : name);
  const LABEL_CHARS = 44;

  function renderHeatmap(idx) {
    const col = (f) => ({ value: f, color: columnColor(idx.map((i) => f(handlers[i]))) });
    const stats = [
      { label: "count", ...col((h) => h.executions), digits: 0 },
      { label: "p50", ...col((h) => t(h, "p50")) },
      { label: "p95", ...col((h) => t(h, "p95")) },
      { label: "p99", ...col((h) => t(h, "p99")) },
      { label: "max", ...col((h) => t(h, "max")) },
      { label: "total", ...col((h) => h.totalTime) },
    ];
    if (comparison) stats.push({ label: "Δ%", value: (h) => headline(byKey.get(keyOf(h))), color: changeColor, render: pct });
    const labelW = 340, cellW = 86, cellH = 24, headH = 26;
    const root = svg("svg", { width: labelW + cellW * stats.length, height: headH + cellH * idx.length, role: "img", "aria-label": "Heatmap of handlers by statistic" });
    stats.forEach((st, j) => root.appendChild(svg("text", { x: labelW + cellW * j + cellW / 2, y: 17, "text-anchor": "middle", "font-weight": "600" }, st.label)));
    idx.forEach((i, r) => {
      const h = handlers[i];
      const y = headH + r * cellH;
      root.appendChild(nameLabel(h, i, labelW, y));
      stats.forEach((st, j) => {
        const v = st.value(h);
        const g = svg("g", { class: "cell", "data-handler": i, "data-stat": st.label });
        g.appendChild(svg("rect", { x: labelW + cellW * j + 1, y: y + 1, width: cellW - 2, height: cellH - 2, rx: 3, fill: st.color(v) }));
        g.appendChild(svg("text", { x: labelW + cellW * j + cellW / 2, y: y + 16, "text-anchor": "middle" }, st.render ? st.render(v) : fmt(v, st.digits === undefined ? 1 : st.digits)));
        g.appendChild(svg("title", {}, keyOf(h) + " — " + st.label + ": " + (st.render ? st.render(v) : fmt(v, st.digits === undefined ? 2 : st.digits))));
        g.addEventListener("click", () => openDrill(i));
        root.appendChild(g);
      });
    });
    const box = document.getElementById("heatmap");
    box.replaceChildren(root);
  }

  // A handler's name at the left of a grid row: shortened to fit, the full name as a tooltip.
  function nameLabel(h, i, labelW, y) {
    const label = svg("text", { x: labelW - 8, y: y + 16, "text-anchor": "end", class: "label", "data-handler": i, tabindex: 0 }, shorten(keyOf(h), LABEL_CHARS));
    label.appendChild(svg("title", {}, keyOf(h)));
    label.addEventListener("click", () => openDrill(i));
    label.addEventListener("keydown", (e) => { if (e.key === "Enter") openDrill(i); });
    return label;
  }

  // Share of a handler's executions in each latency bucket.
  const buckets = data.latencyEdges.length + 1;
  const bucketLabel = (k) => (k === 0 ? "< " + data.latencyEdges[0] : k === buckets - 1 ? "≥ " + data.latencyEdges[k - 1] : data.latencyEdges[k - 1] + "–" + data.latencyEdges[k]) + " ms";
  function shareColor(x) {
    if (!x) return "#f1f3f6";
    return "hsl(220, 70%, " + Math.round(88 - 58 * Math.min(1, x)) + "%)";
  }
  function latencyRow(root, shares, y, labelW, cellW, cellH, name) {
    shares.forEach((x, k) => {
      const rect = svg("rect", { x: labelW + k * cellW, y: y + 1, width: cellW - 1, height: cellH - 2, fill: shareColor(x), class: x ? "lat" : "lat empty" });
      rect.appendChild(svg("title", {}, name + " — " + bucketLabel(k) + ": " + (x * 100).toFixed(1) + "% of executions"));
      root.appendChild(rect);
    });
  }
  function renderLatency(idx) {
    const labelW = 340, cellW = 34, cellH = 20, headH = 56;
    const root = svg("svg", { width: labelW + cellW * buckets, height: headH + cellH * idx.length, role: "img", "aria-label": "Latency heatmap: share of each handler's executions by duration", id: "latency-svg" });
    for (let k = 0; k < buckets; k += 2) {
      const x = labelW + k * cellW + cellW / 2;
      root.appendChild(svg("text", { x, y: headH - 6, transform: "rotate(-45 " + x + " " + (headH - 6) + ")" }, k === 0 ? "<" + data.latencyEdges[0] : data.latencyEdges[k - 1]));
    }
    idx.forEach((i, r) => {
      const h = handlers[i];
      const y = headH + r * cellH;
      root.appendChild(nameLabel(h, i, labelW, y - 2));
      // A handler without samples (only failed or incomplete beats) has an empty row.
      const lat = data.histograms[i].latency.length ? data.histograms[i].latency : new Array(buckets).fill(0);
      const n = lat.reduce((a, b) => a + b, 0);
      latencyRow(root, lat.map((c) => (n ? c / n : 0)), y, labelW, cellW, cellH, keyOf(h));
    });
    document.getElementById("latency").replaceChildren(root);
  }
  // The standard normal CDF (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7).
  function phi(z) {
    const t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.SQRT2);
    const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z / 2);
    return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
  }
  // The baseline's shares: the log-normal of its pooled mean and sd of ln(ms + 0.1).
  function baselineShares(mu, sd) {
    const cdf = (ms) => (sd > 0 ? phi((Math.log(ms + 0.1) - mu) / sd) : (Math.log(ms + 0.1) >= mu ? 1 : 0));
    const edges = data.latencyEdges;
    return Array.from({ length: buckets }, (_, k) => (k === buckets - 1 ? 1 : cdf(edges[k])) - (k === 0 ? 0 : cdf(edges[k - 1])));
  }

  function renderTable(idx) {
    const head = document.querySelector("#handlers thead tr");
    head.replaceChildren(...columns.map((c) => {
      const th = el("th", c.label, (c.num ? "num " : "") + (state.sort === c.key ? "sorted" + (state.dir > 0 ? " asc" : "") : ""));
      th.dataset.key = c.key;
      th.addEventListener("click", () => {
        if (state.sort === c.key) state.dir = -state.dir; else { state.sort = c.key; state.dir = c.text ? 1 : -1; }
        update();
      });
      return th;
    }));
    const body = document.querySelector("#handlers tbody");
    // A check folds what did not change (unchanged, insufficient, new, missing) into one group.
    const isChanged = (i) => (byKey.get(keyOf(handlers[i])) || {}).changed;
    state.folded = comparison && !state.expanded ? idx.filter((i) => !isChanged(i)) : [];
    if (state.folded.length) idx = idx.filter(isChanged);
    const rows = idx.map((i) => {
      const h = handlers[i];
      const tr = el("tr");
      tr.dataset.handler = i;
      if (i === state.selected) tr.className = "selected";
      for (const c of columns) {
        const v = c.value(h);
        const td = el("td", c.num ? (c.render ? c.render(v) : fmt(v, c.digits === undefined ? 2 : c.digits)) : v, c.num ? "num" : "");
        if (c.key === "name") {
          // A check's dot is its verdict; an analysis's, the heat of its average.
          const dot = el("span", null, "dot");
          const cmp = byKey.get(keyOf(h));
          dot.style.background = comparison ? severityColor(cmp ? cmp.severity : "") : heatColor(t(h, "avg"));
          td.prepend(dot);
          td.title = shown(keyOf(h)) + (cmp ? " — " + cmp.verdict : "");
          td.classList.add("name");
        }
        if (c.key === "verdict" && v) td.className = "verdict-" + v;
        tr.appendChild(td);
      }
      tr.tabIndex = 0;
      tr.addEventListener("click", () => openDrill(i));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") openDrill(i); });
      return tr;
    });
    if (state.folded.length) {
      const counts = {};
      for (const i of state.folded) { const v = (byKey.get(keyOf(handlers[i])) || {}).verdict || "new"; counts[v] = (counts[v] || 0) + 1; }
      const tr = el("tr", null, "group");
      const td = el("td");
      td.colSpan = columns.length;
      const button = el("button", "▸ " + state.folded.length + " more handler" + (state.folded.length === 1 ? "" : "s") + ": " + Object.entries(counts).map(([v, n]) => n + " " + v).join(", "));
      button.id = "expand";
      button.addEventListener("click", () => { state.expanded = true; update(); });
      td.appendChild(button);
      tr.appendChild(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function openDrill(i) {
    state.selected = i;
    const h = handlers[i];
    const box = document.getElementById("drilldown");
    box.hidden = false;
    box.dataset.handler = i;
    document.getElementById("dd-title").textContent = shown(keyOf(h));
    const src = h.sourceFile ? h.sourceFile + (h.sourceLine ? ":" + h.sourceLine : "") : "not resolved";
    document.getElementById("dd-meta").textContent = shown(
      "Named by: " + h.mapping + ". Source: " + src + ". Sequences: " + (h.sequences.join(", ") || "–") + ". Beats: " + (h.beats.join(", ") || "–") +
      ". Events: " + (h.events.join(", ") || "–") + (h.kinds.length ? ". Kind: " + h.kinds.join(", ") : "") +
      ". " + h.executions + " executions, " + h.failed + " failed, " + h.incomplete + " incomplete, " + h.orphans + " orphan completions.");
    const cmp = document.getElementById("dd-compare");
    cmp.replaceChildren();
    const c = byKey.get(keyOf(h));
    if (c) {
      const table = el("table");
      const head = el("tr");
      for (const x of ["Statistic", "Baseline", "Now", "Change", "Interval", "Verdict", "Why"]) head.appendChild(el("th", x));
      table.appendChild(head);
      c.stats.forEach((st, j) => {
        const tr = el("tr");
        for (const x of [st.stat + (st.gated ? "" : " (warn only)"), fmt(st.base), fmt(st.now), pct(st.change), st.lower === null ? "–" : "[" + pct(st.lower) + ", " + pct(st.upper) + "]", st.verdict, c.why[j] || ""]) tr.appendChild(el("td", x));
        table.appendChild(tr);
      });
      cmp.appendChild(el("p", "Against the baseline (" + c.baseCount + " baseline samples, " + c.nowCount + " now): " + c.verdict + "."));
      cmp.appendChild(table);
    }
    // Its latency: this run, and the baseline's (a check) side by side.
    const lb = document.getElementById("dd-latency");
    lb.replaceChildren();
    const lat = data.histograms[i].latency;
    const n = lat.reduce((a, b) => a + b, 0);
    if (n) {
      const base = data.baselines[i];
      const rows = base ? [["baseline (log-normal of its runs)", baselineShares(base[0], base[1])], ["now", lat.map((x) => x / n)]] : [["now", lat.map((x) => x / n)]];
      const labelW = 240, cellW = 34, cellH = 22;
      const root = svg("svg", { width: labelW + cellW * buckets, height: 8 + cellH * rows.length, role: "img", "aria-label": "Latency of " + keyOf(h), id: "dd-latency-svg" });
      rows.forEach(([name, shares], r) => {
        root.appendChild(svg("text", { x: labelW - 8, y: 4 + r * cellH + 15, "text-anchor": "end" }, name));
        latencyRow(root, shares, 4 + r * cellH, labelW, cellW, cellH, name);
      });
      lb.appendChild(root);
    }
    // Histogram of every duration.
    const hist = data.histograms[i];
    const hb = document.getElementById("dd-histogram");
    hb.replaceChildren();
    if (hist.counts.length) {
      const W = 720, H = 160, pad = 30, bw = (W - 2 * pad) / hist.counts.length, max = Math.max(...hist.counts);
      const root = svg("svg", { width: W, height: H + 30, role: "img", "aria-label": "Histogram of durations", id: "histogram" });
      hist.counts.forEach((n, k) => {
        const hgt = max ? (n / max) * H : 0;
        const bar = svg("rect", { x: pad + k * bw + 1, y: H - hgt + 5, width: Math.max(1, bw - 2), height: hgt, fill: heatColor(hist.min + (k + 0.5) * (hist.max - hist.min) / hist.counts.length), class: "bar" });
        bar.appendChild(svg("title", {}, n + " executions between " + fmt(hist.min + k * (hist.max - hist.min) / hist.counts.length) + " and " + fmt(hist.min + (k + 1) * (hist.max - hist.min) / hist.counts.length) + " ms"));
        root.appendChild(bar);
      });
      root.appendChild(svg("text", { x: pad, y: H + 24 }, fmt(hist.min) + " ms"));
      root.appendChild(svg("text", { x: W - pad, y: H + 24, "text-anchor": "end" }, fmt(hist.max) + " ms"));
      hb.appendChild(root);
    }
    document.getElementById("dd-note").textContent = h.executionsTruncated
      ? "Listing " + h.executionList.length + " of " + h.executions + " executions: the slowest tenth and a uniform sample of the rest (the statistics use all)."
      : "All " + h.executionList.length + " executions.";
    const rows = h.executionList.map((e) => {
      const tr = el("tr");
      for (const [x, num] of [[e.timestamp || "–"], [e.sequence || "–"], [e.beat], [e.event || "–"], [e.requestId || "–"], [fmt(e.durationMs, 3), true], [e.source], [e.file + ":" + e.line]]) tr.appendChild(el("td", x, num ? "num" : ""));
      return tr;
    });
    document.querySelector("#dd-executions tbody").replaceChildren(...rows);
    const issues = h.issues.map((e) => {
      const tr = el("tr");
      for (const x of [e.status, e.timestamp || "–", e.sequence || "–", e.beat, e.event || "–", e.file + ":" + e.line]) tr.appendChild(el("td", x));
      return tr;
    });
    document.querySelector("#dd-issues tbody").replaceChildren(...issues);
    for (const tr of document.querySelectorAll("#handlers tbody tr")) tr.classList.toggle("selected", Number(tr.dataset.handler) === i);
    box.scrollIntoView({ block: "start" });
  }

  function update() {
    const idx = visible();
    renderHeatmap(idx);
    renderLatency(idx);
    renderTable(idx);
  }
  document.getElementById("filter").addEventListener("input", (e) => { state.filter = e.target.value; update(); });
  document.getElementById("plugin").addEventListener("change", (e) => { state.plugin = e.target.value; update(); });
  document.getElementById("sequence").addEventListener("change", (e) => { state.sequence = e.target.value; update(); });
  document.getElementById("show-all").addEventListener("change", (e) => { state.showAll = e.target.checked; update(); });
  update();
})();
