// Live drift dashboard: polls the read-only JSON API and redraws with uPlot (vendored, no CDN).
(function () {
  'use strict';
  const POLL_MS = 2000;
  const plots = {};
  const throughput = { t: [], docs: [], tokens: [] };
  let lastStatus = null;
  const rendered = new Set();

  function markRendered(id) {
    rendered.add(id);
    document.body.dataset.rendered = String(rendered.size);
    document.body.dataset.plots = Array.from(rendered).sort().join(',');
  }

  async function getJson(url) {
    const r = await fetch(url, { cache: 'no-store' });
    if (!r.ok) throw new Error(url + ' → HTTP ' + r.status);
    return r.json();
  }

  function draw(id, opts, data) {
    const el = document.getElementById(id);
    const width = Math.max(300, el.clientWidth || 440);
    if (plots[id]) plots[id].destroy();
    plots[id] = new uPlot(Object.assign({ width: width, height: 220 }, opts), data, el);
    markRendered(id);
  }

  function timeSeries(id, windowsByStream, field) {
    const streams = Object.keys(windowsByStream).sort();
    const xs = Array.from(new Set(streams.flatMap(s => windowsByStream[s].map(w => w.start / 1000)))).sort((a, b) => a - b);
    if (xs.length === 0) return;
    const data = [xs];
    const series = [{}];
    const colors = { raw: '#1f77b4', edited: '#d62728' };
    for (const s of streams) {
      const byX = new Map(windowsByStream[s].map(w => [w.start / 1000, w[field]]));
      data.push(xs.map(x => (byX.has(x) && byX.get(x) != null && isFinite(byX.get(x))) ? byX.get(x) : null));
      series.push({ label: s, stroke: colors[s] || '#555', width: 2, points: { show: xs.length < 40 } });
    }
    // a single window would make uPlot's auto range span years: pad it by a window on each side
    const pad = xs.length === 1 ? 60 : 0;
    const range = pad ? [xs[0] - pad, xs[0] + pad] : null;
    draw(id, { series: series, scales: { x: range ? { time: true, range: range } : { time: true } } }, data);
  }

  function histogram(latest) {
    const bins = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const data = [bins.map(b => b / 10 + 0.05)];
    const series = [{ label: 'P' }];
    const colors = { raw: '#1f77b4', edited: '#d62728' };
    for (const w of latest) {
      if (!Array.isArray(w.probHistogram)) continue;
      const total = w.probHistogram.reduce((a, b) => a + b, 0) || 1;
      data.push(w.probHistogram.map(c => c / total));
      series.push({ label: w.stream, stroke: colors[w.stream] || '#555', width: 2, fill: (colors[w.stream] || '#555') + '33',
        paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.4] }) : undefined });
    }
    if (data.length > 1) draw('plot-hist', { series: series, scales: { x: { time: false } } }, data);
  }

  function ngramTable(latest) {
    const body = document.querySelector('#ngrams tbody');
    body.textContent = '';
    for (const w of latest) {
      for (const g of (w.topNgrams || []).slice(0, 10)) {
        const tr = document.createElement('tr');
        const visible = String(g.text).replace(/ /g, '\u2423').replace(/\n/g, '\u23ce');
        for (const v of [w.stream, visible, g.count]) {
          const td = document.createElement('td');
          td.textContent = String(v);
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
    }
    if (body.children.length > 0) markRendered('ngrams');
  }

  async function pollStatus() {
    const s = await getJson('/api/status');
    const now = Date.now() / 1000;
    if (lastStatus) {
      const dt = Math.max(1e-3, now - lastStatus.at);
      throughput.t.push(now);
      throughput.docs.push(Math.max(0, (s.documentsOut - lastStatus.s.documentsOut) / dt));
      throughput.tokens.push(Math.max(0, (s.tokensIn - lastStatus.s.tokensIn) / dt / 100));
      for (const k of ['t', 'docs', 'tokens']) if (throughput[k].length > 300) throughput[k].shift();
      draw('plot-throughput', {
        series: [{}, { label: 'docs/s', stroke: '#2ca02c', width: 2 }, { label: 'tokens/s ÷ 100', stroke: '#9467bd', width: 2 }],
        scales: { x: { time: true } }
      }, [throughput.t, throughput.docs, throughput.tokens]);
    }
    lastStatus = { at: now, s: s };
    document.getElementById('status').textContent =
      `${s.documentsOut} edited · ${s.deadLetters} dead letters · ${Math.round(s.tokensPerSecond)} tokens/s`;
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
    timeSeries('plot-jsd', byStream, 'jsd');
    timeSeries('plot-concentration', byStream, 'top40BigramShare');
    timeSeries('plot-distinct', byStream, 'distinct2');
    timeSeries('plot-nll', byStream, 'meanNll');
    const mine = latest.filter(w => w.source === source);
    histogram(mine);
    ngramTable(mine);
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
