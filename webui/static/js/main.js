// The page: tabs (one per area, addressed by #hash), the header, and the UI's own event
// stream (/emulator/v1/ui/stream). /api/v1/live is left to integrations: the device serves
// one live client at a time, and this page must not take it away.
import { call, h } from './api.js';
import * as live from './live.js';
import * as meter from './meter.js';
import * as system from './system.js';
import * as mqtt from './mqtt.js';
import * as actions from './actions.js';
import * as modbus from './modbus.js';
import * as emulator from './emulator.js';
import { browser } from './sd.js';

const sd = (() => {
  let b;
  return {
    init(root) { b = browser(); root.append(h('section', { class: 'card wide', 'aria-label': 'SD card files' }, b.element)); },
    show() { return b.show(); },
  };
})();

const TABS = [
  ['live', 'Live', live], ['meter', 'Meter', meter], ['system', 'System', system], ['mqtt', 'MQTT', mqtt],
  ['sd', 'SD card', sd], ['actions', 'Actions', actions], ['modbus', 'Modbus', modbus], ['emulator', 'Emulator', emulator],
];
const started = new Set();
let lastState = null; // the latest state event, for tabs opened after it came

function select(name) {
  const tab = TABS.find(([id]) => id === name) || TABS[0];
  for (const [id] of TABS) {
    document.getElementById('tab-' + id).hidden = id !== tab[0];
    const link = document.querySelector(`nav a[href="#${id}"]`);
    if (id === tab[0]) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  const [id, , module] = tab;
  if (!started.has(id)) {
    module.init(document.getElementById('tab-' + id));
    started.add(id);
    if (lastState && module.onState) module.onState(lastState);
  }
  document.title = tab[1] + ' · whatwatt Go';
  Promise.resolve(module.show()).catch((err) => console.warn(id, err));
}

function header(state) {
  const status = (state.meter || {}).status || '?';
  const el = document.getElementById('meter-status');
  el.textContent = status;
  el.className = 'badge ' + (status === 'OK' ? 'good' : 'warn');
}

function connect() {
  const stream = new EventSource('/emulator/v1/ui/stream');
  const conn = document.getElementById('connection');
  stream.addEventListener('open', () => { conn.textContent = 'live'; conn.className = 'badge good'; });
  stream.addEventListener('error', () => { conn.textContent = 'reconnecting…'; conn.className = 'badge warn'; });
  stream.addEventListener('state', (ev) => {
    const state = JSON.parse(ev.data);
    lastState = state;
    header(state);
    for (const [id, , module] of TABS) if (started.has(id) && module.onState) module.onState(state);
  });
  stream.addEventListener('report', (ev) => {
    const body = JSON.parse(ev.data);
    live.onReport(body);
    if (body.meter) header({ meter: body.meter });
  });
}

async function identity() {
  const res = await call('GET', '/api/v1/system');
  if (!res.ok) return;
  const d = res.data.device || {};
  document.getElementById('device-name').textContent = d.name || d.id || 'whatwatt Go';
}

for (const [id, , module] of TABS) if (id === 'live') { module.init(document.getElementById('tab-live')); started.add(id); }
window.addEventListener('hashchange', () => select(location.hash.slice(1)));
select(location.hash.slice(1));
connect();
identity();
