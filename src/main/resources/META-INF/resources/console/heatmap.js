// Layers × heads heatmaps as tables: one row per layer, one cell per head, each cell carrying its
// layer, head and value (data-*) and showing the value, coloured on a diverging scale around
// `center` (blue below, red above).

export function heatmap({ id, title, layers, heads, values, center = 0, scale, format = fmt, classes, onCell, note }) {
  const figure = document.createElement('figure');
  figure.className = 'heatmap';
  if (id) figure.id = id;
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  if (note) {
    const small = document.createElement('small');
    small.textContent = ` ${note}`;
    caption.append(small);
  }
  figure.append(caption);
  const span = scale ?? Math.max(1e-9, ...values.map((v) => Math.abs(v - center)));
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  head.insertCell().outerHTML = '<th>layer \\ head</th>';
  for (let h = 0; h < heads; h++) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (let l = 0; l < layers; l++) {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.textContent = l;
    row.append(th);
    for (let h = 0; h < heads; h++) {
      const v = values[l * heads + h];
      const cell = row.insertCell();
      cell.dataset.layer = l;
      cell.dataset.head = h;
      cell.dataset.value = String(v);
      cell.textContent = classes ? classes[l * heads + h] : format(v);
      cell.title = `layer ${l}, head ${h}: ${format(v)}`;
      cell.style.background = color((v - center) / span);
      if (classes) cell.className = `class-${classes[l * heads + h].toLowerCase()}`;
      if (onCell) {
        cell.classList.add('editable');
        cell.addEventListener('click', () => onCell(l, h, v, cell));
      }
    }
  }
  figure.append(table);
  return figure;
}

/** -1 → blue, 0 → white, 1 → red. */
export function color(x) {
  const t = Math.max(-1, Math.min(1, Number.isFinite(x) ? x : 0));
  const a = Math.abs(t);
  const [r, g, b] = t >= 0 ? [220, 60, 50] : [40, 110, 210];
  const mix = (c) => Math.round(255 + (c - 255) * a * 0.85);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

export function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return String(Number(v.toFixed(2)));
  if (a >= 0.01) return String(Number(v.toFixed(3)));
  return v.toExponential(1);
}

/**
 * A profile's controls expanded to dense layers × heads arrays, as the server compiles them:
 * identity first, then each entry in order (a later one overrides), -1 covering every layer or head.
 */
export function expand(spec, layers, heads) {
  const gain = new Array(layers * heads).fill(1);
  const mix = new Array(layers * heads).fill(0);
  const bias = new Array(layers * heads).fill(0);
  const cover = (entry, set) => {
    const layer = entry.layer ?? 0, head = entry.head ?? 0; // JSON may leave out zeros
    const ls = layer < 0 ? [...Array(layers).keys()] : [layer];
    const hs = head < 0 ? [...Array(heads).keys()] : [head];
    for (const l of ls) for (const h of hs) if (l < layers && h < heads) set(l * heads + h);
  };
  for (const g of spec.gains || []) cover(g, (i) => { gain[i] = g.gain; });
  for (const b of spec.biases || []) {
    const norm = Math.sqrt((b.vector || []).reduce((s, x) => s + x * x, 0));
    cover(b, (i) => { bias[i] = norm; });
  }
  for (const m of spec.mixes || []) cover(m, (i) => { mix[i] = m.mix; });
  return { gain, mix, bias };
}
