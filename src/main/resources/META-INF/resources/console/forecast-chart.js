// A forecast chart in SVG: the history, the latest forecast of every compared profile as a band
// (lowest to highest quantile) around its median, seasonal naive dashed, and the actuals as they
// are observed. Every band and line carries its profile and values (data-*), for tests and tools.

const NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#d9480f', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599'];

export class ForecastChart {
  constructor(svg) {
    this.svg = svg;
    this.history = [];
    this.actuals = [];     // [{index, value}]
    this.forecast = null;  // the latest ForecastIssued
  }

  reset(history) {
    this.history = history;
    this.actuals = [];
    this.forecast = null;
    this.draw();
  }

  observe(values) {
    const start = this.history.length + this.actuals.length;
    values.forEach((value, i) => this.actuals.push({ index: start + i, value }));
    this.draw();
  }

  issue(forecast) {
    this.forecast = forecast;
    this.draw();
  }

  draw() {
    const svg = this.svg;
    svg.replaceChildren();
    const width = 720, height = 300, pad = 36, legendRow = 22;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const shown = Math.min(this.history.length, 160); // the recent history only
    const first = this.history.length - shown;
    const points = [];
    for (let i = first; i < this.history.length; i++) points.push([i, this.history[i]]);
    for (const a of this.actuals) points.push([a.index, a.value]);
    let last = this.history.length + this.actuals.length;
    const ys = points.map((p) => p[1]).filter(Number.isFinite);
    const f = this.forecast;
    if (f) {
      const horizon = f.profiles[0]?.median.length || 0;
      last = Math.max(last, Number(f.origin) + horizon);
      for (const p of f.profiles) for (const q of p.quantiles) ys.push(...q.values);
      ys.push(...f.seasonal_naive);
    }
    if (!ys.length) return;
    let lo = Math.min(...ys), hi = Math.max(...ys);
    if (hi === lo) { hi += 1; lo -= 1; }
    const x = (i) => pad + (i - first) / Math.max(1, last - first) * (width - 2 * pad);
    const plotBottom = height - pad - legendRow;
    const y = (v) => plotBottom - (v - lo) / (hi - lo) * (plotBottom - pad / 2);
    this.axes(width, plotBottom, pad, lo, hi, y);
    const line = (pts, cls, stroke, dash) => {
      const path = el('path', { d: pts.filter((p) => Number.isFinite(p[1])).map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(''), class: cls, fill: 'none', stroke, 'stroke-width': 1.5 });
      if (dash) path.setAttribute('stroke-dasharray', dash);
      svg.append(path);
      return path;
    };
    line(points.filter((p) => p[0] < this.history.length), 'history', '#333');
    if (f) {
      const origin = Number(f.origin);
      f.profiles.forEach((p, k) => {
        const c = PALETTE[k % PALETTE.length];
        const lowQ = p.quantiles[0], highQ = p.quantiles[p.quantiles.length - 1];
        if (lowQ && highQ) {
          const upper = highQ.values.map((v, i) => [origin + i, v]);
          const lower = lowQ.values.map((v, i) => [origin + i, v]).reverse();
          const band = el('path', {
            d: [...upper, ...lower].map((q, i) => `${i ? 'L' : 'M'}${x(q[0]).toFixed(1)},${y(q[1]).toFixed(1)}`).join('') + 'Z',
            class: 'band', fill: c, 'fill-opacity': 0.18, stroke: 'none',
          });
          band.dataset.profile = p.profile;
          band.dataset.origin = String(origin);
          band.dataset.low = JSON.stringify(lowQ.values);
          band.dataset.high = JSON.stringify(highQ.values);
          band.dataset.levels = `${lowQ.level}-${highQ.level}`;
          svg.append(band);
        }
        const median = line(p.median.map((v, i) => [origin + i, v]), 'median', c);
        median.dataset.profile = p.profile;
        median.dataset.values = JSON.stringify(p.median);
      });
      const naive = line(f.seasonal_naive.map((v, i) => [origin + i, v]), 'naive', '#777', '4 3');
      naive.dataset.values = JSON.stringify(f.seasonal_naive);
      svg.append(el('line', { x1: x(origin), x2: x(origin), y1: pad / 2, y2: plotBottom, stroke: '#aaa', 'stroke-dasharray': '2 3' }));
    }
    for (const a of this.actuals) {
      if (!Number.isFinite(a.value)) continue;
      const dot = el('circle', { cx: x(a.index), cy: y(a.value), r: 3, class: 'actual', fill: '#000' });
      dot.dataset.index = String(a.index);
      dot.dataset.value = String(a.value);
      svg.append(dot);
    }
    this.legend(f, height);
  }

  axes(width, bottom, pad, lo, hi, y) {
    this.svg.append(el('line', { x1: pad, x2: width - pad, y1: bottom, y2: bottom, stroke: '#ccc' }));
    for (const v of [lo, (lo + hi) / 2, hi]) {
      const t = el('text', { x: 2, y: y(v) + 4, class: 'tick' });
      t.textContent = Number(v.toPrecision(3));
      this.svg.append(t);
    }
  }

  /** One row under the plot: each series' name in its colour. */
  legend(f, height) {
    const items = [['history', '#333'], ...(f ? f.profiles.map((p, k) => [`${p.profile} (${bandLevels(p)})`, PALETTE[k % PALETTE.length]]) : []), ...(f ? [['seasonal naive', '#777']] : []), ['actuals', '#000']];
    let x = 36;
    for (const [label, c] of items) {
      const t = el('text', { x, y: height - 8, fill: c, class: 'legend' });
      t.textContent = `■ ${label}`;
      this.svg.append(t);
      x += 14 + 6.5 * label.length;
    }
  }
}

function bandLevels(p) {
  const q = p.quantiles;
  return q.length ? `${q[0].level}–${q[q.length - 1].level}` : 'median';
}

function el(name, attrs) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
