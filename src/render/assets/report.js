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
  if (comparison) comparison.handlers.forEach((c, i) => { c.words = data.words[i]; byKey.set(c.key, c); });
  const plural = (n, w) => n + " " + w + (n === 1 ? "" : "s");
  // A log location relative to the directory every one of them shares (said once).
  const where = (file, line) => (data.fileRoot && file.startsWith(data.fileRoot) ? file.slice(data.fileRoot.length) : file) + ":" + line;
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
  // The dot of a heat band (an analysis's rows, the histogram's bars).
  function heatColor(ms) {
    if (ms === null || ms === undefined) return "#c9ced8";
    const [fast, medium, slow] = data.bands;
    return ms > slow ? "#d93f3f" : ms > medium ? "#f08c2e" : ms >= fast ? "#e8c62c" : "#3fa04f";
  }
  // A handler's colour is its severity's, as the gate decided it (fail, warn, info, pass): a
  // passing page has no red. Tints for cells (their text stays), strong colours for dots.
  function severityColor(s) {
    return { fail: "#c62828", warn: "#f0b429", info: "#2e7d32" }[s] || "#c9ced8";
  }
  function severityTint(s) {
    return { fail: "#f9d5d2", warn: "#fcefc7", info: "#d8f0dc" }[s] || "transparent";
  }
  // The heat bands of an analysis (the configured or derived bands), as cell tints.
  function bandTint(ms) {
    if (ms === null || ms === undefined) return "transparent";
    const [fast, medium, slow] = data.bands;
    return ms > slow ? "#f9d5d2" : ms > medium ? "#fde0c2" : ms >= fast ? "#fbf1c0" : "#d8f0dc";
  }
  // Header.
  document.getElementById("title").textContent = data.title;
  const s = report.summary;
  document.getElementById("summary").textContent =
    plural(s.totalHandlers, "handler") + ", " + plural(s.totalExecutions, "execution") + ", " + fmt(s.totalTime) + " ms in total" +
    (data.slowest ? "; slowest on average: " + shown(data.slowest) : "") + ".";
  if (comparison) {
    const v = document.getElementById("verdict");
    v.textContent = data.outcome + " — " + data.counts + ". " + data.drift + ".";
    v.className = comparison.outcome;
  }
  const [b0, b1, b2] = data.bands;
  document.getElementById("legend").textContent = comparison
    ? "Each row coloured by its verdict: red fails the run, amber warns, green is faster; uncoloured passed. The change is the headline statistic's, base → now."
    : "Times coloured by heat band" + (data.bandsNote ? " (" + data.bandsNote + ")" : "") + ": red above " + b2 + " ms, orange " + b1 + "–" + b2 + " ms, yellow " + b0 + "–" + b1 + " ms, green below " + b0 + " ms.";
  document.getElementById("latency-legend").textContent =
    "Each row a handler, each column a duration bucket (doubling; labelled by its upper edge); the darker the cell, the larger the share of the handler's executions in it.";
  const d = report.diagnostics;
  document.getElementById("diagnostics").textContent =
    "Diagnostics: " + plural(d.files.length, "file") + ", " + plural(d.lines, "line") + ", " + d.recognizedLines + " recognized, " + plural(d.samples, "sample") + ", " +
    d.failed + " failed, " + d.incomplete + " incomplete, " + plural(d.orphans, "orphan completion") + ", " + plural(d.unmappedBeats, "unmapped beat") + "." +
    (data.fileRoot ? " Log locations are relative to " + shown(data.fileRoot) + "." : "");

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
    const w = (h) => (byKey.get(keyOf(h)) || {}).words || {};
    columns.splice(2, 0,
      { key: "verdict", label: "Verdict", value: (h) => w(h).state || "new", text: true },
      { key: "change", label: "Change", value: (h) => (w(h).rawChange === undefined ? null : w(h).rawChange), num: true, render: (v, h) => w(h).change || "–" });
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

  // A name that fits `chars`: its end kept (the handler), the start cut.
  const shorten = (name, chars) => (name.length > chars ? "…" + name.slice(name.length - chars + 1) : name);
  // The width of the names' column of a grid: what the box leaves for at least three cells,
  // between 120 and 340 px.
  const labelWidth = (box, cellW) => Math.max(120, Math.min(340, (box.clientWidth || 1000) - 3 * cellW));
  // Shortens every grid label of `root` (in the page) until it fits `width` px.
  function fitLabels(root, width) {
    for (const label of root.querySelectorAll(".label")) {
      const full = label.dataset.full;
      let chars = full.length;
      while (chars > 4 && label.getComputedTextLength() > width) {
        chars = Math.min(chars - 1, Math.floor(chars * width / label.getComputedTextLength()));
        label.firstChild.textContent = shown(shorten(full, chars));
      }
    }
  }

  // The statistics grid. A check colours each row by its verdict (red only for what fails the
  // run) and shows the headline change; an analysis colours times by their heat band. Every
  // coloured cell has its number.
  function renderHeatmap(idx) {
    const cmpOf = (h) => byKey.get(keyOf(h));
    const rowTint = (h) => severityTint((cmpOf(h) || {}).severity);
    const time = (f) => ({ value: f, color: comparison ? rowTint : (v) => bandTint(v) });
    const stats = [
      { label: "count", value: (h) => h.executions, color: comparison ? rowTint : () => "transparent", digits: 0, byRow: true },
      { label: "p50", ...time((h) => t(h, "p50")) },
      { label: "p95", ...time((h) => t(h, "p95")) },
      { label: "p99", ...time((h) => t(h, "p99")) },
      { label: "max", ...time((h) => t(h, "max")) },
    ];
    // The headline statistic's change, base → now, labelled with the statistic.
    const change = (h) => { const w = (cmpOf(h) || {}).words; return w && w.stat && w.rawChange !== null ? w.stat + " " + pct(w.rawChange) : "–"; };
    // First after the names, so that on a phone the change is what shows beside each name.
    if (comparison) stats.unshift({ label: "change", value: change, color: rowTint, text: true, wide: true });
    for (const st of stats) if (comparison || st.byRow) st.byRow = true;
    const box = document.getElementById("heatmap");
    const cellW = 72, wideW = 124, cellH = 24, headH = 26;
    const labelW = labelWidth(box, cellW);
    const xs = [];
    let x = labelW;
    for (const st of stats) { xs.push(x); x += st.wide ? wideW : cellW; }
    const root = svg("svg", { width: x, height: headH + cellH * idx.length, role: "img", "aria-label": "Heatmap of handlers by statistic" });
    stats.forEach((st, j) => root.appendChild(svg("text", { x: xs[j] + (st.wide ? wideW : cellW) / 2, y: 17, "text-anchor": "middle", "font-weight": "600" }, st.label)));
    idx.forEach((i, r) => {
      const h = handlers[i];
      const y = headH + r * cellH;
      root.appendChild(nameLabel(h, i, labelW, y));
      stats.forEach((st, j) => {
        const v = st.value(h);
        const w = st.wide ? wideW : cellW;
        const text = st.text ? v : fmt(v, st.digits === undefined ? 1 : st.digits);
        const fill = st.byRow ? st.color(h) : st.color(v);
        const g = svg("g", { class: "cell", "data-handler": i, "data-stat": st.label });
        g.appendChild(svg("rect", { x: xs[j] + 1, y: y + 1, width: w - 2, height: cellH - 2, rx: 3, fill: fill === "transparent" ? "#f3f4f7" : fill, class: "cell-bg" }));
        g.appendChild(svg("text", { x: xs[j] + w / 2, y: y + 16, "text-anchor": "middle" }, text));
        g.appendChild(svg("title", {}, keyOf(h) + " — " + st.label + ": " + (st.text ? v : fmt(v, st.digits === undefined ? 2 : st.digits))));
        g.addEventListener("click", () => openDrill(i));
        root.appendChild(g);
      });
    });
    box.replaceChildren(root);
    fitLabels(root, labelW - 12);
  }

  // A handler's name at the left of a grid row: shortened to fit, the full name as a tooltip.
  function nameLabel(h, i, labelW, y) {
    const label = svg("text", { x: labelW - 8, y: y + 16, "text-anchor": "end", class: "label", "data-handler": i, "data-full": keyOf(h), tabindex: 0 }, keyOf(h));
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
  // A duration in the unit a person reads it in: 0.25 ms, 16 ms, 1 s.
  const durationText = (ms) => (ms >= 1000 ? ms / 1000 + " s" : ms + " ms");
  // The buckets a set of rows (arrays of shares or counts) uses, first to last non-empty.
  function bucketRange(rows) {
    let lo = buckets - 1, hi = 0;
    for (const row of rows) row.forEach((x, k) => { if (x > 0.0005) { lo = Math.min(lo, k); hi = Math.max(hi, k); } });
    return lo > hi ? [0, buckets - 1] : [lo, hi];
  }
  // Column ticks: each bucket's upper edge (the last, open bucket its lower edge with ≥).
  function latencyTicks(root, x0, cellW, y, lo, hi) {
    for (let k = lo; k <= hi; k++) {
      const x = x0 + (k - lo) * cellW + cellW / 2;
      const text = k === buckets - 1 ? "≥" + durationText(data.latencyEdges[k - 1]) : "≤" + durationText(data.latencyEdges[k]);
      root.appendChild(svg("text", { x, y, transform: "rotate(-40 " + x + " " + y + ")", class: "tick" }, text));
    }
  }
  function latencyRow(root, shares, y, labelW, cellW, cellH, name, lo, hi) {
    for (let k = lo; k <= hi; k++) {
      const x = shares[k];
      const rect = svg("rect", { x: labelW + (k - lo) * cellW, y: y + 1, width: cellW - 1, height: cellH - 2, fill: shareColor(x), class: x ? "lat" : "lat empty" });
      rect.appendChild(svg("title", {}, name + " — " + bucketLabel(k) + ": " + (x * 100).toFixed(1) + "% of executions"));
      root.appendChild(rect);
    }
  }
  function renderLatency(idx) {
    const box = document.getElementById("latency");
    const cellW = 34, cellH = 20, headH = 64;
    const labelW = labelWidth(box, cellW);
    const lats = idx.map((i) => (data.histograms[i].latency.length ? data.histograms[i].latency : new Array(buckets).fill(0)));
    const [lo, hi] = bucketRange(lats);
    const root = svg("svg", { width: labelW + cellW * (hi - lo + 1) + 40, height: headH + cellH * idx.length, role: "img", "aria-label": "Latency heatmap: share of each handler's executions by duration", id: "latency-svg", "data-buckets": hi - lo + 1 });
    latencyTicks(root, labelW, cellW, headH - 8, lo, hi);
    idx.forEach((i, r) => {
      const h = handlers[i];
      const y = headH + r * cellH;
      root.appendChild(nameLabel(h, i, labelW, y - 2));
      // A handler without samples (only failed or incomplete beats) has an empty row.
      const lat = lats[r];
      const n = lat.reduce((a, b) => a + b, 0);
      latencyRow(root, lat.map((c) => (n ? c / n : 0)), y, labelW, cellW, cellH, keyOf(h), lo, hi);
    });
    box.replaceChildren(root);
    fitLabels(root, labelW - 12);
  }
  // A round step near `raw`: 1, 2 or 5 times a power of ten.
  function niceStep(raw) {
    if (!(raw > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  }
  const tickText = (v, step) => v.toFixed(Math.max(0, -Math.floor(Math.log10(step))));
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
    document.getElementById("handlers").classList.toggle("check", !!comparison);
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
      const cmp = byKey.get(keyOf(h));
      for (const c of columns) {
        const v = c.value(h);
        const td = el("td", c.num ? (c.render ? c.render(v, h) : fmt(v, c.digits === undefined ? 2 : c.digits)) : c.key === "name" ? null : v, c.num ? "num" : "");
        if (c.key === "name") {
          // The plugin once, as a muted prefix that gives way first; the whole name on hover or focus.
          const dot = el("span", null, "dot");
          dot.style.background = comparison ? severityColor(cmp ? cmp.severity : "") : heatColor(t(h, "avg"));
          const name = el("span", null, "nm");
          if (h.plugin) name.appendChild(el("span", h.plugin + ".", "pl"));
          name.appendChild(el("span", h.name, "hn"));
          td.append(dot, name);
          td.title = shown(keyOf(h)) + (cmp ? " — " + cmp.verdict : "");
          td.classList.add("name");
          // Reached by the keyboard, a shortened name shows whole (CSS: td.name:focus).
          td.tabIndex = 0;
        }
        // A check colours what its verdict says (red only for what fails); an analysis, the
        // average's heat band. The text is always there.
        // Beside the change base → now, what the gate judged net of the runner's shift (said in full on hover).
        const net = c.key === "change" && cmp && cmp.words.net;
        if (net) {
          const span = el("span", " net " + net[0], "net");
          span.title = net[0] + " net of the runner's " + net[1] + " (the verdict rests on it)";
          td.appendChild(span);
        }
        if (comparison && (c.key === "verdict" || c.key === "change")) {
          td.style.background = severityTint(cmp ? cmp.severity : "");
          if (c.key === "verdict") td.classList.add("verdict", "sev-" + (cmp ? cmp.severity : "pass"));
          if (cmp && c.key === "verdict") td.title = cmp.words.reason;
        }
        if (!comparison && c.key === "avg") td.style.background = bandTint(v);
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
      ". " + plural(h.executions, "execution") + ", " + h.failed + " failed, " + h.incomplete + " incomplete, " + plural(h.orphans, "orphan completion") + ".");
    const cmp = document.getElementById("dd-compare");
    cmp.replaceChildren();
    const c = byKey.get(keyOf(h));
    if (c) {
      const table = el("table");
      const head = el("tr");
      for (const x of ["Statistic", "Baseline (ms)", "Now (ms)", "Base → now", "Verdict", "In words", "How this was decided"]) head.appendChild(el("th", x));
      table.appendChild(head);
      c.stats.forEach((st, j) => {
        const tr = el("tr");
        const raw = st.base && st.now !== null ? st.now / st.base - 1 : st.change;
        [st.stat + (st.gated ? "" : " (warn only)"), fmt(st.base), fmt(st.now), pct(raw), st.verdict, c.words.reasons[j] || "", c.words.details[j] || ""]
          .forEach((x, k) => tr.appendChild(el("td", x, k >= 1 && k <= 3 ? "num" : k === 6 ? "detail" : "")));
        table.appendChild(tr);
      });
      cmp.appendChild(el("p", "Against the baseline (" + plural(c.baseCount, "baseline sample") + ", " + c.nowCount + " now): " + c.words.state + (c.words.reason && c.words.reason !== "within the noise" ? " — " + c.words.reason : "") + "."));
      const scroll = el("div", null, "scroll");
      scroll.appendChild(table);
      cmp.appendChild(scroll);
    }
    // Its latency: this run, and the baseline's (a check) side by side.
    const lb = document.getElementById("dd-latency");
    lb.replaceChildren();
    const lat = data.histograms[i].latency;
    const n = lat.reduce((a, b) => a + b, 0);
    if (n) {
      const base = data.baselines[i];
      const rows = base ? [["baseline (log-normal of its runs)", baselineShares(base[0], base[1])], ["now", lat.map((x) => x / n)]] : [["now", lat.map((x) => x / n)]];
      const [lo, hi] = bucketRange(rows.map((r) => r[1]));
      const labelW = Math.min(240, Math.max(110, lb.clientWidth - 6 * 34)), cellW = 34, cellH = 22, headH = 58;
      const root = svg("svg", { width: labelW + cellW * (hi - lo + 1) + 40, height: headH + 8 + cellH * rows.length, role: "img", "aria-label": "Latency of " + keyOf(h), id: "dd-latency-svg", "data-buckets": hi - lo + 1 });
      latencyTicks(root, labelW, cellW, headH - 6, lo, hi);
      rows.forEach(([name, shares], r) => {
        root.appendChild(svg("text", { x: labelW - 8, y: headH + 4 + r * cellH + 15, "text-anchor": "end" }, name === "now" ? "now" : labelW < 200 ? "baseline" : name));
        latencyRow(root, shares, headH + 4 + r * cellH, labelW, cellW, cellH, name, lo, hi);
      });
      lb.appendChild(root);
    }
    // Histogram of every duration, with ticks on both axes.
    const hist = data.histograms[i];
    const hb = document.getElementById("dd-histogram");
    hb.replaceChildren();
    if (hist.counts.length) {
      // A check's bars take the handler's verdict colour (a passing handler's are grey); an
      // analysis's, the heat band of their durations.
      const barColor = c ? () => severityColor(c.severity) : heatColor;
      const W = Math.max(300, Math.min(720, hb.clientWidth || 720)), H = 150, left = 44, right = 16, top = 8;
      const bins = hist.counts.length, span = hist.max - hist.min, max = Math.max(...hist.counts);
      const bw = (W - left - right) / bins;
      const xOf = (ms) => left + (span > 0 ? (ms - hist.min) / span : 0) * (W - left - right);
      const root = svg("svg", { width: W, height: top + H + 40, role: "img", "aria-label": "Histogram of durations", id: "histogram" });
      hist.counts.forEach((c, k) => {
        const hgt = max ? (c / max) * H : 0;
        const lo = hist.min + k * span / bins, hi = hist.min + (k + 1) * span / bins;
        const bar = svg("rect", { x: left + k * bw + 1, y: top + H - hgt, width: Math.max(1, bw - 2), height: hgt, fill: barColor((lo + hi) / 2), class: "bar" });
        bar.appendChild(svg("title", {}, plural(c, "execution") + " between " + fmt(lo) + " and " + fmt(hi) + " ms"));
        root.appendChild(bar);
      });
      root.appendChild(svg("line", { x1: left, x2: W - right, y1: top + H + 0.5, y2: top + H + 0.5, stroke: "currentColor", class: "axis" }));
      // x: round durations between min and max; y: 0, half and the tallest bar's count.
      const step = niceStep(span / Math.max(2, Math.floor((W - left - right) / 90)));
      const ticks = span > 0 ? [] : [hist.min];
      for (let v = Math.ceil(hist.min / step) * step; span > 0 && v <= hist.max + 1e-9; v += step) ticks.push(v);
      for (const v of ticks) {
        const x = xOf(v);
        root.appendChild(svg("line", { x1: x, x2: x, y1: top + H, y2: top + H + 5, stroke: "currentColor", class: "axis" }));
        root.appendChild(svg("text", { x, y: top + H + 18, "text-anchor": "middle", class: "tick" }, tickText(v, step)));
      }
      root.appendChild(svg("text", { x: (W + left) / 2, y: top + H + 36, "text-anchor": "middle", class: "tick" }, "duration (ms)"));
      for (const c of [0, Math.round(max / 2), max]) {
        root.appendChild(svg("text", { x: left - 6, y: top + H - (max ? (c / max) * H : 0) + 4, "text-anchor": "end", class: "tick" }, String(c)));
      }
      hb.appendChild(root);
    }
    document.getElementById("dd-note").textContent = h.executionsTruncated
      ? "Listing " + h.executionList.length + " of " + h.executions + " executions: the slowest tenth and a uniform sample of the rest (the statistics use all)."
      : "All " + h.executionList.length + " executions.";
    const rows = h.executionList.map((e) => {
      const tr = el("tr");
      for (const [x, num] of [[e.timestamp || "–"], [e.sequence || "–"], [e.beat], [e.event || "–"], [e.requestId || "–"], [fmt(e.durationMs, 3), true], [e.source], [where(e.file, e.line)]]) tr.appendChild(el("td", x, num ? "num" : ""));
      return tr;
    });
    document.querySelector("#dd-executions tbody").replaceChildren(...rows);
    const issues = h.issues.map((e) => {
      const tr = el("tr");
      for (const x of [e.status, e.timestamp || "–", e.sequence || "–", e.beat, e.event || "–", where(e.file, e.line)]) tr.appendChild(el("td", x));
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
