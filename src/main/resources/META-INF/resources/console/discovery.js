// The Discovery view: a head scan with its progress and its result as heatmaps (mean direct logit
// attribution, the target's log-prob change under ablation, the head classes), a profile suggested
// from the scan (admin), and the accuracy of a steering on the model's probe sets.

import { call, stream, steering } from './api.js';
import { fmt, heatmap } from './heatmap.js';

const $ = (id) => document.getElementById(id);

export class DiscoveryView {
  constructor(models) {
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

  progress(text, cls = '') { setStatus('scan-progress', text, cls); }
  suggestStatus(text, cls = '') { setStatus('suggest-status', text, cls); }
  evalStatus(text, cls = '') { setStatus('eval-status', text, cls); }
}

function setStatus(id, text, cls) {
  $(id).textContent = text;
  $(id).className = `status ${cls}`;
}
