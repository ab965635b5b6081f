// The console's entry: the views, the tabs, the admin token (kept for this browser tab only) and
// the profile names offered in every steering field (listing profiles is an admin call).

import { adminToken, call, models } from './api.js';
import { DiscoveryView } from './discovery.js';
import { ExperimentsView } from './experiments.js';
import { ProfilesView } from './profiles.js';
import { StreamView } from './stream.js';

const $ = (id) => document.getElementById(id);

function showView() {
  const name = (location.hash || '#stream').slice(1);
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== `view-${name}`;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.dataset.view === name);
}

async function profileNames(model) {
  const names = new Set(['identity']);
  if (adminToken.get()) {
    try {
      for (const p of (await call('Profiles/List', { model })).profiles) names.add(p.name);
    } catch {
      // without a valid token the names stay unknown; any name can still be typed
    }
  }
  $('profile-names').replaceChildren(...[...names].map((n) => new Option(n, n)));
}

async function main() {
  $('admin-token').value = adminToken.get();
  $('admin-token').addEventListener('change', () => {
    adminToken.set($('admin-token').value.trim());
    profileNames($('stream-model').value);
  });
  window.addEventListener('hashchange', showView);
  showView();
  let list;
  try {
    list = await models();
  } catch (e) {
    $('models-status').textContent = `models: ${e}`;
    return;
  }
  $('models-status').textContent = list.map((m) => `${m.name}: ${m.state}`).join(' · ');
  const ready = list.filter((m) => m.state === 'ready');
  document.addEventListener('headgate:model', (e) => profileNames(e.detail));
  window.headgate = {
    stream: new StreamView(ready),
    profiles: new ProfilesView(ready),
    discovery: new DiscoveryView(ready),
    experiments: new ExperimentsView(ready),
  };
  document.body.dataset.ready = 'true';
}

main();
