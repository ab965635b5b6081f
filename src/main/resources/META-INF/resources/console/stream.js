// The Stream view: one stream of any kind, started from the form, watched as it arrives and
// re-steered while it runs. A SteeringApplied event puts a marker before the token (or step) it
// took effect from; a pause point holds acknowledgements back so the stream stops there (the
// credit window) and a switch made while paused lands on the very next token.

import { ApiError, stream, steering, tag } from './api.js';
import { ForecastChart } from './forecast-chart.js';

const $ = (id) => document.getElementById(id);

const METHOD = { 'causal-lm': 'Generator/Generate', diffusion: 'Diffusion/Generate', forecast: 'Forecaster/Forecast' };

export class StreamView {
  constructor(models) {
    this.models = models;
    this.handle = null;
    this.chart = new ForecastChart($('forecast-chart'));
    $('stream-model').replaceChildren(...models.map((m) => new Option(`${m.name} (${m.kind})`, m.name)));
    $('stream-model').value = (models.find((m) => m.kind === 'causal-lm') || models[0])?.name;
    $('stream-model').addEventListener('change', () => this.modelChanged());
    $('stream-form').addEventListener('submit', (e) => { e.preventDefault(); this.start(); });
    $('stream-stop').addEventListener('click', () => this.handle?.cancel());
    $('switch-apply').addEventListener('click', () => this.switchProfile());
    $('stream-resume').addEventListener('click', () => this.resume());
    $('forecast-send').addEventListener('click', () => {
      try {
        this.observe(parseNumbers($('forecast-actuals').value));
      } catch (e) {
        this.status(`actuals: ${e.message}`, 'error');
      }
    });
    $('forecast-send-next').addEventListener('click', () => this.observe(this.heldBack.splice(0, 1)));
    $('forecast-close').addEventListener('click', () => this.handle?.send('close', {}));
    $('stream-inline').addEventListener('input', () => { $('steer-mode-inline').checked = true; });
    $('forecast-history').value = demoSeries().map((v) => v.toFixed(1)).join(' ');
    this.tip = $('token-tip');
    this.modelChanged();
  }

  model() {
    return this.models.find((m) => m.name === $('stream-model').value);
  }

  modelChanged() {
    const m = this.model();
    if (!m) return;
    const view = $('view-stream');
    view.classList.remove('kind-causal-lm', 'kind-diffusion', 'kind-forecast');
    view.classList.add(`kind-${m.kind}`);
    if (m.kind === 'diffusion') {
      const labels = [...Array(10).keys()].map((l) => new Option(`${l}`, l));
      $('diffusion-label').replaceChildren(...labels, new Option('unconditional', 'unconditional'));
      $('diffusion-label').value = '3';
    }
    $('switch-profile').value = { 'causal-lm': 'pag-l1', diffusion: 'pag-l0', forecast: 'prune-2' }[m.kind] || 'identity';
    document.dispatchEvent(new CustomEvent('headgate:model', { detail: m.name }));
  }

  // ------------------------------------------------------------------ starting

  start() {
    this.handle?.cancel();
    const m = this.model();
    let start;
    try {
      start = this.startMessage(m);
    } catch (e) {
      this.status(`${e.message}`, 'error');
      return;
    }
    this.reset(m);
    const on = {
      started: (s) => this.started(s),
      token: (t) => this.token(t),
      step: (s) => this.step(s),
      forecast: (f) => this.forecastIssued(f),
      scored: (s) => this.scored(s),
      steering_applied: (a) => this.applied(a),
      steering_rejected: (r) => this.rejected(r),
      finished: (f) => this.finished(f),
      error: (e) => this.status(e.toString(), 'error'),
      end: () => this.ended(),
    };
    this.log(`→ ${METHOD[m.kind]} ${JSON.stringify(start).slice(0, 300)}`);
    this.handle = stream(METHOD[m.kind], start, on);
    this.running(true);
  }

  startMessage(m) {
    const inline = $('steer-mode-inline').checked ? $('stream-inline').value : null;
    let steer;
    try {
      steer = steering($('stream-profile').value, inline);
    } catch (e) {
      throw new Error(`inline controls: not valid JSON (${e.message})`);
    }
    const credit = intOr($('stream-credit').value, 0);
    const pauseAt = $('stream-pause-at').value === '' ? null : Number($('stream-pause-at').value);
    // a pause at K needs the server at most K+1 outputs ahead: then acks held at K+1-window stop it after K
    this.window = pauseAt == null ? credit : Math.min(credit || pauseAt + 1, pauseAt + 1);
    this.pauseAt = pauseAt;
    if (m.kind === 'causal-lm') {
      const start = {
        model: m.name, text: $('stream-prompt').value, steering: steer,
        max_tokens: intOr($('stream-max-tokens').value, 0), ignore_eos: $('stream-ignore-eos').checked,
        shadow: $('stream-shadow').checked, credit_window: this.window,
      };
      const temperature = Number($('stream-temperature').value || 0);
      if (temperature > 0 || $('stream-seed').value !== '') {
        start.sampling = { temperature };
        if ($('stream-seed').value !== '') start.sampling.seed = $('stream-seed').value;
      }
      return start;
    }
    if (m.kind === 'diffusion') {
      const label = $('diffusion-label').value;
      const guidance = {};
      if ($('diffusion-cfg').value !== '') guidance.cfg_scale = Number($('diffusion-cfg').value);
      if ($('diffusion-pag').value !== '') guidance.perturbation_scale = Number($('diffusion-pag').value);
      const start = {
        model: m.name, steering: steer, steps: intOr($('diffusion-steps').value, 0), guidance, credit_window: this.window,
        preview: { every: intOr($('diffusion-preview-every').value, 0), scale: 8, source: 'X0_ESTIMATE', format: 'PNG' },
      };
      if (label === 'unconditional') start.unconditional = true; else start.label = Number(label);
      if ($('diffusion-seed').value !== '') start.seed = $('diffusion-seed').value;
      return start;
    }
    let values;
    try {
      values = parseNumbers($('forecast-history').value);
    } catch (e) {
      throw new Error(`history: ${e.message}`);
    }
    const hold = Math.min(intOr($('forecast-holdback').value, 0), Math.max(0, values.length - 1));
    this.history = values.slice(0, values.length - hold);
    this.heldBack = values.slice(values.length - hold);
    const compare = $('forecast-compare').value.split(',').map((s) => s.trim()).filter(Boolean).map((profile) => ({ profile }));
    return {
      model: m.name, context: jsonDoubles(this.history), frequency: $('forecast-frequency').value,
      horizon: intOr($('forecast-horizon').value, 1), steering: steer, compare, credit_window: this.window,
    };
  }

  reset(m) {
    this.kind = m.kind;
    this.layers = m.layers;
    this.pendingMarkers = new Map();
    this.acked = 0;
    this.lastIndex = -1;
    this.paused = false;
    this.pauseReleased = this.pauseAt == null;
    $('tokens').replaceChildren();
    $('diffusion-strip').replaceChildren();
    $('diffusion-final').hidden = true;
    $('diffusion-final').removeAttribute('src');
    $('diffusion-final-caption').textContent = '';
    $('forecast-scores').replaceChildren();
    $('stream-log').replaceChildren();
    if (m.kind === 'forecast') this.chart.reset(this.history);
    this.status('starting…');
  }

  running(on) {
    $('stream-start').disabled = false;
    $('stream-stop').disabled = !on;
    $('switch-apply').disabled = !on;
    for (const id of ['forecast-send', 'forecast-close']) $(id).disabled = !on || this.kind !== 'forecast';
    $('forecast-send-next').disabled = !on || this.kind !== 'forecast' || !this.heldBack?.length;
    if (!on) $('stream-resume').disabled = true;
  }

  // ------------------------------------------------------------------ events of every kind

  started(s) {
    const st = s.started || s; // a forecast's ForecastStarted wraps Started
    this.streamId = st.stream_id;
    this.status(`streaming ${st.stream_id} under ${tag(st.steering)}${st.following ? ' (following)' : ''}${st.arm && st.arm !== 'none' ? `, arm ${st.arm}` : ''}`);
    if (s.profiles) this.log(`profiles side by side: ${s.profiles.join(', ')}; season ${s.season_length}, horizon ${s.horizon}, context ${s.context_used} (cut ${s.context_dropped})`);
  }

  applied(a) {
    const marker = document.createElement('span');
    marker.className = 'marker';
    marker.dataset.fromIndex = String(a.from_index);
    marker.dataset.profile = a.steering.profile;
    marker.dataset.revision = String(a.steering.revision);
    marker.textContent = `⟦${tag(a.steering)}${a.reprefilled ? ' re-prefilled' : ''}⟧`;
    marker.title = `${a.reason}: from ${this.kind === 'causal-lm' ? 'token' : this.kind === 'diffusion' ? 'step' : 'event'} ${a.from_index}`;
    this.log(`steering ${tag(a.steering)} from ${a.from_index} (${a.reason})`);
    const container = this.kind === 'diffusion' ? $('diffusion-strip') : $('tokens');
    const at = container.querySelector(`[data-index="${a.from_index}"]`);
    if (at) at.before(marker);
    else if (this.kind === 'forecast') this.chartMarker(a, marker);
    else this.pendingMarkers.set(Number(a.from_index), marker);
  }

  chartMarker(a, marker) {
    marker.classList.add('forecast-marker');
    $('stream-log').prepend(Object.assign(document.createElement('li'), { textContent: marker.textContent }));
  }

  rejected(r) {
    this.status(`steering rejected: ${r.field}: ${r.reason}`, 'error');
    this.log(`rejected ${r.field}: ${r.reason}`);
  }

  /** Places an output, after any marker waiting for its index. */
  place(container, element, index) {
    const marker = this.pendingMarkers.get(index);
    if (marker) { container.append(marker); this.pendingMarkers.delete(index); }
    container.append(element);
  }

  /** After showing output `index`: acknowledge it, unless holding at the pause point. */
  consumed(index) {
    this.lastIndex = index;
    if (!this.window) return;
    let upTo = index + 1;
    let held = false;
    if (!this.pauseReleased) {
      held = upTo > this.pauseAt + 1 - this.window;
      upTo = Math.min(upTo, this.pauseAt + 1 - this.window);
      if (index >= this.pauseAt && !this.paused) {
        this.paused = true;
        $('stream-resume').disabled = false;
        this.status(`paused after ${this.kind === 'diffusion' ? 'step' : 'token'} ${index}: switch now, then Resume`);
      }
    }
    // every other output or so; when the server has run out of credit the gap is the whole window
    const due = held || upTo - this.acked >= Math.max(1, Math.floor(this.window / 2));
    if (upTo > this.acked && due) {
      this.acked = upTo;
      this.handle.send('ack', { consumed: upTo });
    }
  }

  resume() {
    this.pauseReleased = true;
    this.paused = false;
    $('stream-resume').disabled = true;
    this.status('resumed');
    if (this.lastIndex >= 0) this.consumed(this.lastIndex);
  }

  async switchProfile() {
    const reference = $('switch-profile').value.trim();
    const message = { steering: { profile: reference || 'identity' } };
    if ($('switch-reprefill').checked) message.reprefill = true;
    this.log(`→ steer ${reference}`);
    const ok = await this.handle?.send('steer', message);
    if (ok) this.status(`asked for ${reference}${this.paused ? '; it applies from the next token after Resume' : ''}`);
  }

  finished(f) {
    if (this.kind === 'causal-lm') {
      if (f.text) $('tokens').append(document.createTextNode(f.text));
      this.status(`finished: ${f.reason}, ${f.completion_tokens} tokens, first after ${ms(f.time_to_first_token_seconds)}, total ${ms(f.total_seconds)}`, 'ok');
    } else if (this.kind === 'diffusion') {
      const img = $('diffusion-final');
      if (f.image?.png) {
        img.src = `data:image/png;base64,${f.image.png}`;
        img.hidden = false;
        img.dataset.seed = String(f.seed);
      }
      $('diffusion-final-caption').textContent = `seed ${f.seed}, ${f.steps} steps, ${ms(f.total_seconds)}`;
      this.status(`finished: ${f.reason}, seed ${f.seed}`, 'ok');
    } else {
      this.scoresTable(f.profiles, f.seasonal_naive);
      this.status(`finished: ${f.reason}, ${f.observations} observations, ${f.forecasts} forecasts`, 'ok');
    }
  }

  ended() {
    this.running(false);
    if (!$('stream-status').classList.contains('error') && !$('stream-status').classList.contains('ok')) this.status('ended');
  }

  // ------------------------------------------------------------------ language models

  token(t) {
    const span = document.createElement('span');
    span.className = 'token';
    span.textContent = t.text;
    span.dataset.index = String(t.index);
    span.dataset.id = String(t.id);
    span.dataset.profile = t.steering.profile;
    span.dataset.revision = String(t.steering.revision);
    span.dataset.logprob = String(t.logprob);
    if (t.effect) {
      span.dataset.kl = String(t.effect.kl);
      span.dataset.top1Changed = String(t.effect.top1_changed);
      span.style.background = `rgba(245, 159, 0, ${Math.min(0.6, t.effect.kl / 2)})`;
    }
    span.addEventListener('mouseenter', (e) => this.showTip(span, e));
    span.addEventListener('mouseleave', () => { this.tip.hidden = true; });
    this.place($('tokens'), span, t.index);
    this.consumed(t.index);
  }

  showTip(span, e) {
    const d = span.dataset;
    const lines = [`token ${d.index} (id ${d.id}) ${JSON.stringify(span.textContent)}`, `profile ${d.profile}@${d.revision}`, `log-prob ${Number(d.logprob).toFixed(4)}`];
    if (d.kl !== undefined) lines.push(`KL ${Number(d.kl).toFixed(4)} nats${d.top1Changed === 'true' ? ', top-1 changed' : ''}`);
    this.tip.textContent = lines.join('\n');
    const r = span.getBoundingClientRect();
    this.tip.style.left = `${r.left}px`;
    this.tip.style.top = `${r.bottom + 6}px`;
    this.tip.hidden = false;
  }

  // ------------------------------------------------------------------ diffusion

  step(s) {
    const figure = document.createElement('figure');
    figure.className = 'step';
    figure.dataset.index = String(s.index);
    figure.dataset.profile = s.steering.profile;
    if (s.preview?.png) {
      const img = document.createElement('img');
      img.src = `data:image/png;base64,${s.preview.png}`;
      img.alt = `step ${s.index}`;
      figure.append(img);
    }
    const caption = document.createElement('figcaption');
    caption.textContent = `${s.index + 1}/${s.total} t=${Number(s.t).toFixed(2)} ${tag(s.steering)} s=${Number(s.guidance.perturbation_scale).toFixed(2)}`;
    figure.append(caption);
    if (s.preview?.png || this.pendingMarkers.has(s.index) || s.index === s.total - 1) this.place($('diffusion-strip'), figure, s.index);
    this.status(`step ${s.index + 1} of ${s.total} under ${tag(s.steering)} (${s.rows} rows)`);
    this.consumed(s.index);
  }

  // ------------------------------------------------------------------ forecasts

  forecastIssued(f) {
    this.chart.issue(f);
    this.log(`forecast at origin ${f.origin}: ${f.profiles.map((p) => `${tag(p.steering)} median[0] ${p.median[0]?.toFixed(2)}`).join(', ')}`);
    this.events = (this.events ?? -1) + 1;
    this.consumed(this.events);
  }

  scored(s) {
    this.scoresTable(s.profiles, s.seasonal_naive);
    this.events = (this.events ?? -1) + 1;
    this.consumed(this.events);
  }

  observe(values) {
    if (!values.length || !this.handle) return;
    this.chart.observe(values);
    this.handle.send('observe', { values: jsonDoubles(values) });
    $('forecast-send-next').disabled = !this.heldBack?.length;
    this.log(`→ observe ${values.join(' ')}`);
  }

  scoresTable(profiles, naive) {
    const table = $('forecast-scores');
    const cols = ['steps', 'mae', 'mase', 'smape', 'wql', 'coverage', 'relative_mase', 'relative_wql'];
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const c of ['profile', ...cols]) head.append(Object.assign(document.createElement('th'), { textContent: c }));
    const body = table.createTBody();
    for (const p of [...profiles, { ...naive, profile: 'seasonal naive' }]) {
      const row = body.insertRow();
      row.dataset.profile = p.profile;
      row.insertCell().textContent = p.profile;
      for (const c of cols) {
        const cell = row.insertCell();
        cell.dataset.col = c;
        cell.dataset.value = String(p[c]);
        cell.textContent = c === 'steps' ? p[c] : Number(p[c]).toFixed(3);
      }
    }
  }

  // ------------------------------------------------------------------ page

  status(text, cls = '') {
    const s = $('stream-status');
    s.textContent = text;
    s.className = `status ${cls}`;
  }

  log(text) {
    const li = document.createElement('li');
    li.textContent = text;
    $('stream-log').append(li);
  }
}

/** Numbers separated by spaces, commas or semicolons; "NaN" (or "nan", "NA", "?") marks a missing value. */
export function parseNumbers(text) {
  return text.split(/[\s,;]+/).filter(Boolean).map((v) => {
    if (/^(nan|na|\?)$/i.test(v)) return NaN;
    const n = Number(v);
    if (Number.isNaN(n)) throw new Error(`not a number: '${v}'`);
    return n;
  });
}

/** Doubles as protobuf's JSON mapping writes them: NaN as the string "NaN" (JSON has no NaN). */
function jsonDoubles(values) {
  return values.map((v) => (Number.isNaN(v) ? 'NaN' : v));
}

function intOr(v, fallback) {
  const n = parseInt(v, 10);
  return Number.isFinite(n) ? n : fallback;
}

function ms(seconds) {
  return `${(Number(seconds) * 1000).toFixed(0)} ms`;
}

/** Eight years of a monthly series with a trend and a yearly season, for a first look. */
function demoSeries() {
  return [...Array(96).keys()].map((i) => 200 + 1.5 * i + 25 * Math.sin((2 * Math.PI * i) / 12) + 8 * Math.cos((2 * Math.PI * i) / 6));
}

export { ApiError };
