// The Experiments view: the same prompt and seed streamed under several profiles side by side (one
// Generate call per arm, all at once, so they share the model's batches), an experiment's arms
// loaded into it, and Compare's per-arm results (live totals, canary accuracy, McNemar's test).

import { call, stream, tag } from './api.js';
import { fmt } from './heatmap.js';

const $ = (id) => document.getElementById(id);

export class ExperimentsView {
  constructor(models) {
    this.models = models;
    $('ab-model').replaceChildren(...models.filter((m) => m.kind === 'causal-lm').map((m) => new Option(m.name, m.name)));
    $('ab-run').addEventListener('click', () => this.sideBySide());
    $('experiments-load').addEventListener('click', () => this.list());
    $('experiment-save').addEventListener('click', () => this.save());
    $('experiment-arms').addEventListener('click', () => this.armsSideBySide());
    $('compare-run').addEventListener('click', () => this.compare());
  }

  model() {
    return $('ab-model').value;
  }

  sideBySide() {
    const profiles = $('ab-profiles').value.split(',').map((s) => s.trim()).filter(Boolean);
    this.handles?.forEach((h) => h.cancel());
    const columns = profiles.map((profile) => {
      const column = document.createElement('div');
      column.className = 'arm-column';
      column.dataset.profile = profile;
      const title = document.createElement('h3');
      title.textContent = profile;
      const tokens = document.createElement('div');
      tokens.className = 'tokens';
      const status = document.createElement('p');
      status.className = 'status muted';
      column.append(title, tokens, status);
      return column;
    });
    $('ab-columns').replaceChildren(...columns);
    const temperature = Number($('ab-temperature').value || 0);
    this.handles = profiles.map((profile, i) => {
      const column = columns[i];
      const start = {
        model: this.model(), text: $('ab-prompt').value, steering: { profile }, shadow: true,
        max_tokens: Number($('ab-max-tokens').value || 0),
      };
      if (temperature > 0) start.sampling = { temperature, seed: $('ab-seed').value || '0' };
      const [tokens, status] = [column.children[1], column.children[2]];
      return stream('Generator/Generate', start, {
        started: (s) => { column.children[0].textContent = tag(s.steering); },
        token: (t) => {
          const span = document.createElement('span');
          span.className = 'token';
          span.textContent = t.text;
          span.dataset.index = String(t.index);
          span.dataset.logprob = String(t.logprob);
          span.title = `token ${t.index}: log-prob ${t.logprob.toFixed(4)}${t.effect ? `, KL ${t.effect.kl.toFixed(4)}` : ''}`;
          if (t.effect) span.style.background = `rgba(245, 159, 0, ${Math.min(0.6, t.effect.kl / 2)})`;
          tokens.append(span);
        },
        finished: (f) => {
          if (f.text) tokens.append(document.createTextNode(f.text));
          status.textContent = `${f.reason}, ${f.completion_tokens} tokens`;
          column.dataset.text = tokens.textContent;
          column.dataset.finished = 'true';
        },
        error: (e) => { status.textContent = e.toString(); status.className = 'status error'; },
      });
    });
  }

  async list() {
    try {
      const r = await call('Experiments/List', { model: this.model() });
      $('experiments-list').replaceChildren(...r.experiments.map((e) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = `${e.name} @${e.revision}: ${e.spec.arms.map((a) => `${a.name}=${a.profile}×${a.weight}`).join(', ')}`;
        b.addEventListener('click', () => {
          this.current = e;
          $('experiment-name').value = e.name;
          $('experiment-spec').value = JSON.stringify(e.spec, null, 2);
        });
        li.append(b);
        return li;
      }));
      this.status(`${r.experiments.length} experiments`, 'ok');
    } catch (e) {
      this.status(e.toString(), 'error');
    }
  }

  async save() {
    const name = $('experiment-name').value.trim();
    try {
      const spec = JSON.parse($('experiment-spec').value);
      const expected = this.current && this.current.name === name ? Number(this.current.revision) : 0;
      const e = await call('Experiments/Put', { model: this.model(), name, spec, expected_revision: expected });
      this.current = e;
      this.status(`saved ${e.name}@${e.revision}`, 'ok');
    } catch (e) {
      this.status(`not saved: ${e.toString ? e.toString() : e}`, 'error');
    }
  }

  armsSideBySide() {
    try {
      const spec = JSON.parse($('experiment-spec').value);
      $('ab-profiles').value = spec.arms.map((a) => a.profile).join(', ');
      this.sideBySide();
    } catch (e) {
      this.status(`spec: not valid JSON (${e.message})`, 'error');
    }
  }

  async compare() {
    const name = $('experiment-name').value.trim();
    this.status(`comparing ${name}…`);
    $('compare-run').disabled = true;
    try {
      const r = await call('Experiments/Compare', { model: this.model(), name, per_group: Number($('compare-per-group').value || 0) });
      const cols = [['arm', (a) => a.arm], ['profile', (a) => a.profile], ['tokens', (a) => fmt(a.tokens)],
        ['TTFT s', (a) => fmt(a.mean_time_to_first_token_seconds)], ['mean KL', (a) => fmt(a.mean_kl)],
        ['canary', (a) => `${a.canary_correct}/${a.canary_examples}`], ['accuracy', (a) => fmt(a.canary_accuracy)],
        ['z', (a) => fmt(a.z)], ['p', (a) => fmt(a.p_value)], ['only first ✓', (a) => a.only_first_correct], ['only this ✓', (a) => a.only_this_correct]];
      const table = $('compare-table');
      table.replaceChildren();
      const head = table.createTHead().insertRow();
      for (const [c] of cols) head.append(Object.assign(document.createElement('th'), { textContent: c }));
      const body = table.createTBody();
      for (const a of r.arms) {
        const row = body.insertRow();
        row.dataset.arm = a.arm;
        for (const [, f] of cols) row.insertCell().textContent = f(a);
      }
      this.status(`${name}: ${r.test}`, 'ok');
    } catch (e) {
      this.status(e.toString(), 'error');
    } finally {
      $('compare-run').disabled = false;
    }
  }

  status(text, cls = '') {
    $('experiments-status').textContent = text;
    $('experiments-status').className = `status ${cls}`;
  }
}
