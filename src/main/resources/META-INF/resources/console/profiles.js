// The Profiles view: a model's profiles (admin), each revision's controls as layers × heads
// heatmaps, and editing: a clicked gain or mix cell becomes an entry for that head (appended, so
// it overrides wildcards as the server compiles them), and Save writes a new revision expecting
// the one shown, so a concurrent change is refused rather than overwritten.

import { call } from './api.js';
import { expand, heatmap } from './heatmap.js';

const $ = (id) => document.getElementById(id);

export class ProfilesView {
  constructor(models) {
    this.models = models;
    this.current = null; // the Profile shown (null: a new one)
    $('profiles-model').replaceChildren(...models.map((m) => new Option(`${m.name} (${m.kind})`, m.name)));
    $('profiles-load').addEventListener('click', () => this.list());
    $('profiles-model').addEventListener('change', () => this.list());
    $('profile-revision').addEventListener('change', () => this.open($('profile-name').value, Number($('profile-revision').value)));
    $('profile-render').addEventListener('click', () => this.renderFromText());
    $('profile-save').addEventListener('click', () => this.save());
    $('profile-delete').addEventListener('click', () => this.remove());
    $('cell-editor-cancel').addEventListener('click', () => { $('cell-editor').hidden = true; });
    $('cell-editor-ok').addEventListener('click', () => this.applyCell());
    $('profile-spec').value = JSON.stringify({ description: '', gains: [], biases: [], mixes: [] }, null, 2);
  }

  model() {
    return this.models.find((m) => m.name === $('profiles-model').value);
  }

  async list() {
    const m = this.model();
    try {
      const r = await call('Profiles/List', { model: m.name });
      const items = r.profiles.map((p) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = `${p.name} @${p.revision}`;
        b.dataset.profile = p.name;
        b.addEventListener('click', () => this.open(p.name, 0));
        li.append(b);
        return li;
      });
      $('profiles-list').replaceChildren(...items);
      this.status(`${r.profiles.length} profiles of ${m.name}`, 'ok');
      document.dispatchEvent(new CustomEvent('headgate:profiles', { detail: { model: m.name, names: r.profiles.map((p) => p.name) } }));
    } catch (e) {
      $('profiles-list').replaceChildren();
      this.status(e.toString(), 'error');
    }
  }

  /** Shows a profile at a revision (0: the latest). */
  async open(name, revision) {
    const m = this.model();
    try {
      const latest = await call('Profiles/Get', { model: m.name, name });
      const p = revision && revision !== Number(latest.revision)
        ? await call('Profiles/Get', { model: m.name, name, revision }) : latest;
      this.current = p;
      this.latestRevision = Number(latest.revision);
      $('profile-name').value = p.name;
      const revisions = [...Array(this.latestRevision).keys()].map((i) => i + 1).reverse();
      $('profile-revision').replaceChildren(...revisions.map((r) => new Option(r === this.latestRevision ? `${r} (latest)` : `${r}`, r)));
      $('profile-revision').value = String(p.revision);
      $('profile-meta').textContent = `revision ${p.revision} of ${this.latestRevision}, written ${p.created_at}`;
      $('profile-spec').value = JSON.stringify(p.spec, null, 2);
      this.render(p.spec);
      this.status(`${p.name}@${p.revision}`, 'ok');
    } catch (e) {
      this.status(e.toString(), 'error');
    }
  }

  renderFromText() {
    try {
      this.render(JSON.parse($('profile-spec').value));
      this.status('shown from the spec above (not saved)');
    } catch (e) {
      this.status(`spec: not valid JSON (${e.message})`, 'error');
    }
  }

  render(spec) {
    const m = this.model();
    const { gain, mix, bias } = expand(spec, m.layers, m.heads);
    const maps = [
      heatmap({ id: 'heatmap-gain', title: 'head_gain', note: '(1: identity, 0: ablated)', layers: m.layers, heads: m.heads, values: gain, center: 1, scale: 1, onCell: (l, h, v) => this.editCell('gain', l, h, v) }),
      heatmap({ id: 'heatmap-mix', title: 'attn_identity_mix', note: '(0: identity, 1: PAG)', layers: m.layers, heads: m.heads, values: mix, center: 0, scale: 1, onCell: (l, h, v) => this.editCell('mix', l, h, v) }),
      heatmap({ id: 'heatmap-bias', title: 'head_bias', note: '(norm of the vector)', layers: m.layers, heads: m.heads, values: bias, center: 0 }),
    ];
    $('profile-heatmaps').replaceChildren(...maps);
    if (spec.guidance && Object.keys(spec.guidance).length) {
      const p = document.createElement('p');
      p.id = 'profile-guidance';
      p.textContent = `guidance: ${JSON.stringify(spec.guidance)}`;
      $('profile-heatmaps').append(p);
    }
  }

  editCell(control, layer, head, value) {
    this.editing = { control, layer, head };
    $('cell-editor-label').textContent = `${control === 'gain' ? 'gain' : 'mix'} of layer ${layer}, head ${head}:`;
    $('cell-editor-value').value = String(value);
    $('cell-editor').hidden = false;
    $('cell-editor-value').focus();
  }

  applyCell() {
    const { control, layer, head } = this.editing;
    const value = Number($('cell-editor-value').value);
    let spec;
    try {
      spec = JSON.parse($('profile-spec').value);
    } catch (e) {
      this.status(`spec: not valid JSON (${e.message})`, 'error');
      return;
    }
    const key = control === 'gain' ? 'gains' : 'mixes';
    spec[key] = (spec[key] || []).filter((e) => !((e.layer ?? 0) === layer && (e.head ?? 0) === head));
    spec[key].push({ layer, head, [control]: value });
    $('profile-spec').value = JSON.stringify(spec, null, 2);
    $('cell-editor').hidden = true;
    this.render(spec);
    this.status(`layer ${layer}, head ${head}: ${control} ${value} (not saved)`);
  }

  async save() {
    const m = this.model();
    const name = $('profile-name').value.trim();
    let spec;
    try {
      spec = JSON.parse($('profile-spec').value);
    } catch (e) {
      this.status(`spec: not valid JSON (${e.message})`, 'error');
      return;
    }
    const same = this.current && this.current.name === name;
    try {
      const p = await call('Profiles/Put', { model: m.name, name, spec, expected_revision: same ? this.latestRevision : 0 });
      this.status(`saved ${p.name}@${p.revision}`, 'ok');
      await this.open(p.name, 0);
      this.status(`saved ${p.name}@${p.revision}`, 'ok');
    } catch (e) {
      this.status(`not saved: ${e.toString()}`, 'error');
    }
  }

  async remove() {
    const m = this.model();
    const name = $('profile-name').value.trim();
    try {
      const r = await call('Profiles/Delete', { model: m.name, name, expected_revision: this.latestRevision || 0 });
      this.status(`deleted ${name} (revision ${r.revision})`, 'ok');
      this.current = null;
      await this.list();
    } catch (e) {
      this.status(`not deleted: ${e.toString()}`, 'error');
    }
  }

  status(text, cls = '') {
    $('profiles-status').textContent = text;
    $('profiles-status').className = `status ${cls}`;
  }
}
