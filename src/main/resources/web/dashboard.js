// Live drift dashboard: polls the read-only JSON API and redraws with uPlot (vendored, no CDN).
// Every plot is history: drift windows from /api/drift (oldest first), throughput from the
// server's samples of the whole run (/api/status history). Times are UTC, like the demo's summary.
(function () {
  'use strict';
  const POLL_MS = 2000;
  const COLORS = { raw: '#1f77b4', edited: '#d62728' };
  const plots = {};
  const points = {};
  const rendered = new Set();

  function markRendered(id, n) {
    rendered.add(id);
    points[id] = n;
    document.body.dataset.rendered = String(rendered.size);
    document.body.dataset.plots = Array.from(rendered).sort().join(',');
    document.body.dataset.points = Object.keys(points).sort().map(k => k + ':' + points[k]).join(',');
  }

  async function getJson(url) {
    const r = await fetch(url, { cache: 'no-store' });
    if (!r.ok) throw new Error(url + ' → HTTP ' + r.status);
    return r.json();
  }

  // Enough decimals to tell neighbouring ticks apart: from the tick increment uPlot chose.
  function decimals(incr) {
    if (!(incr > 0) || !isFinite(incr)) return 2;
    let d = Math.max(0, -Math.floor(Math.log10(incr) + 1e-9));
    while (d < 10 && Math.abs(Math.round(incr * Math.pow(10, d)) - incr * Math.pow(10, d)) > 1e-6) d++;
    return d;
  }

  function tickValues(suffix) {
    return (u, splits, axisIdx, space, incr) => splits.map(v => v == null ? '' : compact(v, incr) + (suffix || ''));
  }

  function compact(v, incr) {
    if (Math.abs(v) >= 10000 && incr >= 1000) return (v / 1000).toFixed(decimals(incr / 1000)) + 'k';
    return v.toFixed(decimals(incr));
  }

  // A y range around the data with some air, never empty (a flat series gets ±5 % or ±0.001).
  function padRange(u, min, max) {
    if (min == null || max == null) return [0, 1];
    const span = max - min;
    const pad = span > 0 ? span * 0.1 : Math.max(Math.abs(max) * 0.05, 1e-3);
    return [min - pad, max + pad];
  }

  function yAxis(label, suffix, scale) {
    return { scale: scale || 'y', label: label, labelSize: 18, size: 70, values: tickValues(suffix),
      side: scale && scale !== 'y' ? 1 : 3, grid: { show: !scale || scale === 'y' } };
  }

  // Time ticks as HH:MM:SS UTC on one line (uPlot's default adds an overlapping date row).
  function xAxis(label) {
    return { label: label, labelSize: 18, space: 70,
      values: (u, splits, axisIdx, space, incr) => splits.map(v => utc(v * 1000, incr < 1 ? 1 : 0)) };
  }

  // The tick labels each plot drew (y axes by plot id, x axes as id#x), for tests: axes are drawn on a canvas.
  const yTicks = {};

  function recordTicks(id, axes) {
    (axes || []).forEach((axis, i) => {
      if (!axis.values) return;
      const format = axis.values;
      axis.values = (u, splits, axisIdx, space, incr) => {
        const labels = format(u, splits, axisIdx, space, incr);
        yTicks[id + (i === 0 ? '#x' : i > 1 ? '#' + i : '')] = labels.filter(l => l !== '').join('|');
        document.body.dataset.yticks = Object.keys(yTicks).sort().map(k => k + '=' + yTicks[k]).join(';');
        return labels;
      };
    });
  }

  function draw(id, opts, data, n) {
    const el = document.getElementById(id);
    recordTicks(id, opts.axes);
    const width = Math.max(300, el.clientWidth || 440);
    if (plots[id]) plots[id].destroy();
    el.querySelectorAll('.empty').forEach(e => { e.hidden = true; });
    const base = { width: width, height: 230, tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') };
    plots[id] = new uPlot(Object.assign(base, opts), data, el);
    markRendered(id, n);
  }

  // One line per stream of `field` over the windows, by window start.
  function timeSeries(id, windowsByStream, field, yLabel, suffix, scaleOf) {
    const streams = Object.keys(windowsByStream).sort().reverse(); // raw first
    const xs = Array.from(new Set(streams.flatMap(s => windowsByStream[s].map(w => w.start / 1000)))).sort((a, b) => a - b);
    const data = [xs];
    const series = [{}];
    let n = 0;
    for (const s of streams) {
      const byX = new Map(windowsByStream[s].map(w => [w.start / 1000, w[field]]));
      const ys = xs.map(x => { const v = byX.get(x); return v != null && isFinite(v) ? (scaleOf ? scaleOf(v) : v) : null; });
      if (ys.every(v => v == null)) continue;
      n += ys.filter(v => v != null).length;
      data.push(ys);
      series.push({ label: s, stroke: COLORS[s] || '#555', width: 2, points: { show: true, size: 6 } });
    }
    if (n === 0) return;
    const x = xs.length === 1 ? { time: true, range: [xs[0] - 60, xs[0] + 60] } : { time: true };
    draw(id, { series: series, scales: { x: x, y: { range: padRange } },
      axes: [xAxis('window start (UTC)'), yAxis(yLabel, suffix)] }, data, n);
  }

  // The estimate and its interval, per stream that has one (a shaded band between the bounds).
  function syntheticFraction(windowsByStream) {
    const streams = Object.keys(windowsByStream).sort().reverse()
      .filter(s => windowsByStream[s].some(w => w.syntheticFraction != null));
    if (streams.length === 0) return;
    const xs = Array.from(new Set(streams.flatMap(s => windowsByStream[s].map(w => w.start / 1000)))).sort((a, b) => a - b);
    const data = [xs];
    const series = [{}];
    const bands = [];
    let n = 0;
    for (const s of streams) {
      const byX = new Map(windowsByStream[s].map(w => [w.start / 1000, w]));
      const pick = f => xs.map(x => { const w = byX.get(x); return w && w[f] != null && isFinite(w[f]) ? 100 * w[f] : null; });
      const est = pick('syntheticFraction');
      n += est.filter(v => v != null).length;
      const color = COLORS[s] || '#555';
      data.push(est, pick('syntheticFractionLow'), pick('syntheticFractionHigh'));
      series.push({ label: s + ' estimate', stroke: color, width: 2, points: { show: true, size: 6 } },
        { label: s + ' low', stroke: color, width: 1, dash: [4, 4] },
        { label: s + ' high', stroke: color, width: 1, dash: [4, 4] });
      bands.push({ series: [series.length - 1, series.length - 2], fill: color + '22' });
    }
    draw('plot-synthetic', { series: series, bands: bands, scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [xAxis('window start (UTC)'), yAxis('synthetic (%)', ' %')] }, data, n);
  }

  function throughput(status) {
    const rows = status.history || [];
    if (rows.length < 2) return;
    const t = [];
    const docs = [];
    const tokens = [];
    for (let i = 1; i < rows.length; i++) {
      const dt = Math.max(1e-3, (rows[i][0] - rows[i - 1][0]) / 1000);
      t.push(rows[i][0] / 1000);
      docs.push(Math.max(0, (rows[i][2] - rows[i - 1][2]) / dt));
      tokens.push(Math.max(0, (rows[i][4] - rows[i - 1][4]) / dt));
    }
    draw('plot-throughput', {
      series: [{}, { label: 'documents/s', stroke: '#2ca02c', width: 2, scale: 'y' },
        { label: 'tokens/s', stroke: '#9467bd', width: 2, scale: 'tok' }],
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] },
        tok: { range: (u, min, max) => [0, Math.max(10, max * 1.1)] } },
      axes: [xAxis('time (UTC)'), yAxis('documents/s', ''), yAxis('tokens/s', '', 'tok')]
    }, [t, docs, tokens], t.length);
  }

  function histogram(latest) {
    const bins = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const data = [bins.map(b => b / 10 + 0.05)];
    const series = [{ label: 'P(token)' }];
    let n = 0;
    for (const w of latest) {
      if (!Array.isArray(w.probHistogram)) continue;
      const total = w.probHistogram.reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      data.push(w.probHistogram.map(c => 100 * c / total));
      n += w.probHistogram.length;
      series.push({ label: w.stream, stroke: COLORS[w.stream] || '#555', width: 2, fill: (COLORS[w.stream] || '#555') + '33',
        paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.4] }) : undefined });
    }
    if (data.length > 1) {
      draw('plot-hist', { series: series, scales: { x: { time: false, range: [0, 1] }, y: { range: (u, min, max) => [0, max * 1.1] } },
        axes: [Object.assign(xAxis('P(token | prefix) under the prior'), { values: tickValues('') }),
          yAxis('share of tokens (%)', ' %')] }, data, n);
    }
  }

  function ngramTables(latest) {
    let rows = 0;
    for (const stream of ['raw', 'edited']) {
      const body = document.querySelector('#ngrams-' + stream + ' tbody');
      body.textContent = '';
      const w = latest.find(x => x.stream === stream);
      for (const g of ((w && w.topNgrams) || []).slice(0, 15)) {
        const tr = document.createElement('tr');
        const visible = String(g.text).replace(/ /g, '\u2423').replace(/\n/g, '\u23ce');
        const a = document.createElement('td');
        a.textContent = visible;
        const b = document.createElement('td');
        b.className = 'num';
        b.textContent = String(g.count);
        tr.append(a, b);
        body.appendChild(tr);
        rows++;
      }
    }
    const w = latest[0];
    if (w) {
      document.getElementById('ngrams-title').textContent = 'Most frequent n-grams, latest window ('
        + utc(w.start) + '–' + utc(w.end) + ' UTC, ' + w.documents + ' documents): raw vs edited';
    }
    if (rows > 0) markRendered('ngrams', rows);
  }

  // HH:MM:SS in UTC, with a tenth of a second when asked (ticks closer than a second).
  function utc(ms, tenths) {
    return new Date(Math.round(ms)).toISOString().substring(11, tenths ? 21 : 19);
  }

  function fixed(v, d) {
    return v == null || !isFinite(v) ? '–' : Number(v).toFixed(d);
  }

  // The banner: windows whose alert (or contamination signal) is set, newest named.
  function alertBanner(source, windowsByStream) {
    const flagged = [];
    let total = 0;
    for (const s of Object.keys(windowsByStream)) {
      for (const w of windowsByStream[s]) {
        total++;
        if (w.alert === true || w.contaminated === true) flagged.push(w);
      }
    }
    const el = document.getElementById('alert');
    if (flagged.length === 0) {
      el.hidden = true;
      delete document.body.dataset.alert;
      return;
    }
    flagged.sort((a, b) => a.start - b.start);
    const w = flagged[flagged.length - 1];
    let text = '\u26a0 Contamination alert on source "' + source + '": ' + flagged.length + ' of ' + total
      + ' windows flagged; newest ' + w.stream + ' window ' + utc(w.start) + '–' + utc(w.end) + ' UTC';
    const details = [];
    if (w.syntheticFraction != null) {
      details.push('synthetic fraction ' + fixed(100 * w.syntheticFraction, 0) + ' % ['
        + fixed(100 * w.syntheticFractionLow, 0) + ', ' + fixed(100 * w.syntheticFractionHigh, 0) + ']');
    }
    if (w.contaminationScore != null) details.push('contamination score ' + fixed(w.contaminationScore, 2));
    if (w.jsd != null) details.push('JSD ' + fixed(w.jsd, 4));
    if (w.meanNll != null) details.push('mean NLL ' + fixed(w.meanNll, 3) + ' nats/token');
    if (details.length) text += ' (' + details.join(', ') + ')';
    el.textContent = text;
    el.hidden = false;
    document.body.dataset.alert = String(flagged.length);
  }

  async function pollStatus() {
    const s = await getJson('/api/status');
    throughput(s);
    document.getElementById('status').textContent =
      `${s.documentsOut} edited · ${s.deadLetters} dead letters · ${Math.round(s.tokensPerSecond)} tokens/s over the run`;
  }

  async function pollDrift() {
    const latest = await getJson('/api/windows/latest');
    const sel = document.getElementById('source');
    const sources = Array.from(new Set(latest.map(w => w.source))).sort();
    for (const s of sources) {
      if (!Array.from(sel.options).some(o => o.value === s)) sel.add(new Option(s, s));
    }
    const source = sel.value || sources[0];
    if (!source) return;
    const byStream = {};
    for (const stream of ['raw', 'edited']) {
      try {
        byStream[stream] = await getJson('/api/drift?source=' + encodeURIComponent(source) + '&stream=' + stream);
      } catch (e) { /* that stream has no windows yet */ }
    }
    timeSeries('plot-jsd', byStream, 'jsd', 'JSD (bits)', '');
    syntheticFraction(byStream);
    timeSeries('plot-nll', byStream, 'meanNll', 'nats/token', '');
    timeSeries('plot-score', byStream, 'contaminationScore', 'reference sd', '');
    timeSeries('plot-concentration', byStream, 'top40BigramShare', 'share (%)', ' %', v => 100 * v);
    timeSeries('plot-distinct', byStream, 'distinct2', 'ratio', '');
    const mine = latest.filter(w => w.source === source).sort((a, b) => (a.stream === 'raw' ? -1 : 1));
    histogram(mine);
    ngramTables(mine);
    alertBanner(source, byStream);
  }

  async function tick() {
    try {
      await pollStatus();
      await pollDrift();
    } catch (e) {
      document.getElementById('status').textContent = 'error: ' + e.message;
    }
  }

  tick();
  setInterval(tick, POLL_MS);
})();
