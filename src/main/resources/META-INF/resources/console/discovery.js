// The Discovery view: a head scan with its progress and its result as heatmaps (mean direct logit
// attribution, the target's log-prob change under ablation, the head classes), a profile suggested
// from the scan (admin), the accuracy of a steering on the model's probe sets, and a greedy head search
// for any kind: its progress, the units it chose, every unit's score alone as a heatmap, the held-out
// report beside the baseline, random sets and references, and saving its profile (admin).

import { call, stream, steering } from './api.js';
import { fmt, heatmap } from './heatmap.js';

const $ = (id) => document.getElementById(id);

export class DiscoveryView {
  constructor(models) {
    this.all = models;
    $('search-model').replaceChildren(...models.map((m) => new Option(m.name, m.name)));
    $('search-model').addEventListener('change', () => { $('search-request').value = JSON.stringify(defaultSearch(this.searchModel()), null, 1); });
    $('search-model').dispatchEvent(new Event('change'));
    $('search-run').addEventListener('click', () => this.search());
    $('search-save').addEventListener('click', () => this.saveSearch());
    const lms = models.filter((m) => m.kind === 'causal-lm');
    this.models = lms;
    const options = () => lms.map((m) => new Option(m.name, m.name));
    $('scan-model').replaceChildren(...options());
    $('scan-run').addEventListener('click', () => this.scan());
    $('suggest-run').addEventListener('click', () => this.suggest());
    $('eval-run').addEventListener('click', () => this.evaluate());
  }

  model() {
    return $('scan-model').value;
  }

  scan() {
    const request = { model: this.model(), limit: Number($('scan-limit').value || 0), sound_threshold: Number($('scan-threshold').value || 0) };
    const builtin = $('scan-builtin').value;
    try {
      if (builtin) request.builtin = builtin;
      else request.inline = { examples: JSON.parse($('scan-inline').value || '[]') };
      request.steering = steering($('scan-steering').value);
    } catch (e) {
      this.progress(`inline examples: not valid JSON (${e.message})`, 'error');
      return;
    }
    $('scan-run').disabled = true;
    $('suggest-run').disabled = true;
    $('scan-heatmaps').replaceChildren();
    $('scan-summary').textContent = '';
    this.progress('starting…');
    stream('Discovery/Scan', request, {
      progress: (p) => {
        $('scan-progress-bar').max = p.total || 1;
        $('scan-progress-bar').value = p.done;
        this.progress(`${p.phase} ${p.done}/${p.total}`);
      },
      result: (r) => this.result(r),
      error: (e) => this.progress(e.toString(), 'error'),
      end: () => { $('scan-run').disabled = false; },
    });
  }

  result(r) {
    this.scanId = r.scan_id;
    $('suggest-run').disabled = false;
    const sound = r.classes.filter((c) => c === 'SOUND').length;
    const interfering = r.classes.filter((c) => c === 'INTERFERING').length;
    this.progress(`done: ${r.examples} examples`, 'ok');
    $('scan-summary').textContent = `scan ${r.scan_id}: ${r.examples} examples, baseline accuracy ${fmt(r.baseline_accuracy)}; ${sound} sound, ${interfering} interfering heads. ${r.thresholds}`;
    const shape = { layers: r.layers, heads: r.heads };
    $('scan-heatmaps').replaceChildren(
      heatmap({ id: 'scan-attribution', title: 'mean direct logit attribution', ...shape, values: r.attribution_mean }),
      heatmap({ id: 'scan-ablation', title: 'Δ log-prob of the target, head ablated', ...shape, values: r.ablation_delta_logprob }),
      heatmap({ id: 'scan-positive', title: 'share of examples with positive attribution', ...shape, values: r.attribution_positive, center: 0.5, scale: 0.5 }),
      heatmap({ id: 'scan-classes', title: 'head classes', ...shape, values: r.classes.map((c) => (c === 'SOUND' ? 1 : c === 'INTERFERING' ? -1 : 0)), scale: 1,
        classes: r.classes.map((c) => ({ SOUND: 'S', INTERFERING: 'I', IRRELEVANT: '·' }[c] || '?')) }),
    );
    // the class cells show letters; keep the class names on them too
    $('scan-classes').querySelectorAll('td').forEach((td, i) => { td.dataset.class = r.classes[i]; });
  }

  async suggest() {
    try {
      const p = await call('Discovery/SuggestProfile', {
        model: this.model(), scan_id: this.scanId, name: $('suggest-name').value.trim(),
        boost: Number($('suggest-boost').value), top: Number($('suggest-top').value || 0),
      });
      this.suggestStatus(`wrote ${p.name}@${p.revision}: ${p.spec.gains.length} gains`, 'ok');
    } catch (e) {
      this.suggestStatus(`not written: ${e.toString()}`, 'error');
    }
  }

  async evaluate() {
    $('eval-run').disabled = true;
    this.evalStatus('evaluating…');
    try {
      const r = await call('Discovery/Evaluate', {
        model: this.model(), steering: steering($('eval-profile').value), probe_set: $('eval-set').value,
        per_group: Number($('eval-per-group').value || 0),
      });
      const table = $('eval-table');
      table.replaceChildren();
      const head = table.createTHead().insertRow();
      for (const c of ['task', 'group', 'examples', 'correct', 'accuracy']) head.append(Object.assign(document.createElement('th'), { textContent: c }));
      const body = table.createTBody();
      for (const g of r.groups) {
        const row = body.insertRow();
        for (const c of ['task', 'group', 'examples', 'correct']) row.insertCell().textContent = g[c];
        row.insertCell().textContent = fmt(g.accuracy);
      }
      this.evalStatus(`${$('eval-profile').value}: ${r.groups.length} groups`, 'ok');
    } catch (e) {
      this.evalStatus(e.toString(), 'error');
    } finally {
      $('eval-run').disabled = false;
    }
  }

  searchModel() {
    return this.all.find((m) => m.name === $('search-model').value);
  }

  search() {
    let request;
    try {
      request = { ...JSON.parse($('search-request').value), model: $('search-model').value };
    } catch (e) {
      setStatus('search-progress', `request: not valid JSON (${e.message})`, 'error');
      return;
    }
    const model = this.searchModel();
    $('search-run').disabled = true;
    $('search-save').disabled = true;
    $('search-heatmaps').replaceChildren();
    $('search-table').replaceChildren();
    $('search-summary').textContent = '';
    setStatus('search-progress', 'queued…');
    stream('Discovery/Search', request, {
      progress: (p) => {
        $('search-progress-bar').max = p.total || 1;
        $('search-progress-bar').value = p.done;
        const chosen = (p.chosen || []).map(unitName).join(' ') || 'none yet';
        setStatus('search-progress', `${p.phase}${p.round ? ` round ${p.round}/${p.rounds}` : ''}: ${p.done}/${p.total}, ${p.evaluations} evaluations; chosen: ${chosen}`);
      },
      result: (r) => this.searchResult(r, model),
      error: (e) => setStatus('search-progress', e.toString(), 'error'),
      end: () => { $('search-run').disabled = false; },
    });
  }

  searchResult(r, model) {
    this.searchId = r.search_id;
    $('search-save').disabled = !r.suggested;
    setStatus('search-progress', `done (${r.stop}): ${r.evaluations} evaluations in ${fmt(r.seconds)} s`, 'ok');
    const chosen = (r.picks || []).map((p) => unitName(p.unit)).join(' ') || 'nothing';
    $('search-summary').textContent = `search ${r.search_id}: ${r.objective}; chose ${chosen} at strength ${fmt(r.strength)}; `
      + `${r.dev_examples} development and ${r.held_out_examples} held-out examples`;
    const firstRound = r.first_round || [];
    if (firstRound.length && firstRound.every((p) => p.unit.head >= 0)) {
      const values = new Array(model.layers * model.heads).fill(0);
      const base = r.dev_baseline.score.value;
      for (const p of firstRound) values[p.unit.layer * model.heads + p.unit.head] = p.dev_score - base;
      const lower = r.dev_baseline.score.lower_is_better;
      $('search-heatmaps').replaceChildren(heatmap({ id: 'search-first-round', title: `each head alone: Δ ${r.dev_baseline.score.name} (development)`,
        layers: model.layers, heads: model.heads, values: lower ? values.map((v) => -v) : values, note: lower ? '(sign flipped: positive is better)' : '' }));
    }
    const table = $('search-table');
    const guards = (r.held_out_baseline.guards || []).map((g) => g.name);
    const head = table.createTHead().insertRow();
    for (const c of ['held-out', r.held_out_baseline.score.name, ...guards]) head.append(Object.assign(document.createElement('th'), { textContent: c }));
    const body = table.createTBody();
    const rows = [['baseline', r.held_out_baseline], [`search: ${chosen}`, r.held_out_chosen],
      ...(r.random_sets || []).map((s) => [`random ${s.units.map(unitName).join(' ')}`, s.held_out]),
      ...(r.references || []).map((s) => [s.name, s.held_out])];
    for (const [name, m] of rows) {
      const row = body.insertRow();
      row.insertCell().textContent = name;
      for (const s of [m.score, ...(m.guards || [])]) row.insertCell().textContent = scoreText(s);
    }
  }

  async saveSearch() {
    try {
      const p = await call('Discovery/SaveSearchProfile', { model: $('search-model').value, search_id: this.searchId, name: $('search-save-name').value.trim() });
      setStatus('search-save-status', `wrote ${p.name}@${p.revision}`, 'ok');
    } catch (e) {
      setStatus('search-save-status', `not written: ${e.toString()}`, 'error');
    }
  }

  progress(text, cls = '') { setStatus('scan-progress', text, cls); }
  suggestStatus(text, cls = '') { setStatus('suggest-status', text, cls); }
  evalStatus(text, cls = '') { setStatus('eval-status', text, cls); }
}

function setStatus(id, text, cls) {
  $(id).textContent = text;
  $(id).className = `status ${cls}`;
}

function unitName(u) {
  return u.head < 0 ? `L${u.layer}` : `L${u.layer}H${u.head}`;
}

function scoreText(s) {
  const se = Number(s.standard_error);
  const diff = Number(s.difference);
  return Number.isFinite(se) ? `${fmt(s.value)} (${diff >= 0 ? '+' : ''}${fmt(diff)} ± ${fmt(se)})` : `${fmt(s.value)} (${diff >= 0 ? '+' : ''}${fmt(diff)})`;
}

/** A small search that runs in seconds on each demo kind; edit it for real runs. */
function defaultSearch(model) {
  const base = { rounds: 2, random_sets: 2, seed: 1 };
  switch (model?.kind) {
    case 'causal-lm':
      return { ...base, gain: 1.6, probes: { score: { probe_set: 'brackets', min_depth: 7, max_depth: 10 }, dev_per_group: 20, held_out_per_group: 20,
        guards: [{ probe_set: 'addition', tolerance: 0.05 }] } };
    case 'diffusion':
      return { ...base, mix: 1, guidance: { perturbation_scale: 0.5 }, samples: { metric: 'frechet_distance', unconditional: true, dev_per_class: 3, held_out_per_class: 3 } };
    case 'forecast':
      return { ...base, gain: 0, max_loss: 1, windows: { metric: 'relative_mase', dev_per_frequency: 3, held_out_per_frequency: 3 } };
    default:
      return base;
  }
}
