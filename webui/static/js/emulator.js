// The Emulator panel: controls no real device has (virtual meter values and faults, meter
// line, clock, licence, protection, device events, scenarios) and the device's log tail.
// Routes a build does not have yet answer 404: their card says so instead of failing.
import { call, h, card, facts, table, feedbackBox, act, check, reason, absent } from './api.js';
import { simpleForm } from './forms.js';

let meterForm, licenceForm, protectionForm, meterBox, clockBox, faultsBox, scenarioBox, logBox, logTimer, root;
let extras = null; // the control routes of this build beyond meter and clock (GET /emulator/v1/state)

const post = (url, body) => call('POST', url, body);
const pruned = (obj) => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== ''));

export function init(container) {
  root = container;
  meterBox = h('div');
  clockBox = h('div');
  faultsBox = h('div');
  scenarioBox = h('div');
  logBox = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Log tail of the device' });
  meterForm = simpleForm({
    submit: 'Apply to the virtual meter',
    fields: [
      { name: 'silent', label: 'Silent (the meter stops sending)', type: 'checkbox' },
      { name: 'corrupt_frames', label: 'Corrupt the next frames', type: 'number', placeholder: '0' },
      { name: 'drop_rate', label: 'Drop rate (0..1 of frames)', type: 'number', placeholder: '0' },
      { name: 'flip_rate', label: 'Bit flip rate (0..1)', type: 'number', placeholder: '0' },
      { name: 'noise_seconds', label: 'Line noise for (s)', type: 'number' },
      { name: 'meter_line', label: 'Meter line settings', type: 'text', placeholder: '115200 8N1' },
      { name: 'obis', label: 'Force a value: OBIS code or name', type: 'text', placeholder: '1.7.0' },
      { name: 'value', label: 'Forced value (in the meter\'s unit, e.g. W; empty releases it)', type: 'number' },
      { name: 'duration_s', label: 'Revert after (s, optional)', type: 'number' },
    ],
    send: (v) => {
      const body = pruned({ silent: v.silent, corrupt_frames: v.corrupt_frames, drop_rate: v.drop_rate,
        flip_rate: v.flip_rate, noise_seconds: v.noise_seconds, meter_line: v.meter_line, duration_s: v.duration_s });
      if (v.obis) body.values = { [v.obis]: v.value === undefined ? null : v.value };
      return post('/emulator/v1/meter', body);
    },
    done: (res) => { renderMeter(res.data); return 'Applied.'; },
  });
  const clockForm = simpleForm({
    submit: 'Set the clock',
    fields: [{ name: 'time', label: 'Device time (ISO 8601 with zone)', type: 'text', placeholder: '2025-01-22T11:54:00+01:00' }],
    send: (v) => post('/emulator/v1/clock', { time: v.time }),
    done: (res) => { renderClock(res.data); return 'Clock set.'; },
  });
  const advanceForm = simpleForm({
    submit: 'Advance',
    fields: [{ name: 'advance_s', label: 'Advance a manual clock by (s)', type: 'number' }],
    send: (v) => post('/emulator/v1/clock', { advance_s: v.advance_s }),
    done: (res) => { renderClock(res.data); return 'Advanced.'; },
  });
  const faultForm = simpleForm({
    submit: 'Add fault',
    fields: [
      { name: 'route', label: 'Route (glob)', type: 'text', value: '/api/v1/report' },
      { name: 'method', label: 'Method', type: 'select', options: ['any', 'GET', 'POST', 'PUT', 'DELETE'] },
      { name: 'latency_ms', label: 'Added latency (ms)', type: 'number' },
      { name: 'status', label: 'Answer with status', type: 'number' },
      { name: 'drop', label: 'Drop the connection', type: 'checkbox' },
      { name: 'sse_stop_after', label: 'End event streams after n events', type: 'number' },
      { name: 'duration_s', label: 'For (s, optional)', type: 'number' },
    ],
    send: (v) => post('/emulator/v1/faults', pruned({ ...v, method: v.method === 'any' ? null : v.method })),
    done: () => { refreshFaults(); return 'Fault added.'; },
  });
  licenceForm = simpleForm({
    submit: 'Set licence',
    fields: [{ name: 'license', label: 'Licence', type: 'select', options: ['FREE', 'PLUS', 'PRO'] },
      { name: 'duration_s', label: 'For (s, optional)', type: 'number' }],
    send: (v) => post('/emulator/v1/license', pruned(v)),
    done: (res) => 'Licence is now ' + (res.data || {}).license + '.',
  });
  protectionForm = simpleForm({
    submit: 'Apply protection',
    fields: [{ name: 'enabled', label: 'Protection on', type: 'checkbox' },
      { name: 'password', label: 'Password', type: 'password' }],
    send: (v) => post('/emulator/v1/protection', pruned(v)),
    done: (res) => 'Protection ' + ((res.data || {}).enabled ? 'on: the browser asks for the password.' : 'off.'),
  });
  const scenarioForm = simpleForm({
    submit: 'Start scenario',
    fields: [{ name: 'doc', label: 'Scenario (JSON)', type: 'textarea', rows: 8,
      value: JSON.stringify({ name: 'demo', steps: [{ at_s: 5, do: 'meter', silent: true }, { at_s: 20, do: 'meter', silent: false }] }, null, 1) }],
    send: (v) => {
      let doc;
      try { doc = JSON.parse(v.doc); } catch (err) { throw new Error('Not JSON: ' + err.message); }
      return post('/emulator/v1/scenario', doc);
    },
    done: (res) => { renderScenario(res.data); return 'Scenario started.'; },
  });
  const stopScenario = h('button', { type: 'button' }, 'Stop scenario');
  const scenarioFeedback = feedbackBox();
  stopScenario.addEventListener('click', () => act(stopScenario, scenarioFeedback, 'Stopping…', async () => {
    const res = await call('DELETE', '/emulator/v1/scenario');
    if (!res.ok && res.status !== 404) throw new Error(reason(res));
    renderScenario(null);
    return 'Stopped.';
  }));
  const clearFaults = h('button', { type: 'button' }, 'Clear all faults');
  const faultFeedback = feedbackBox();
  clearFaults.addEventListener('click', () => act(clearFaults, faultFeedback, 'Clearing…', async () => {
    check(await call('DELETE', '/emulator/v1/faults'));
    await refreshFaults();
    return 'All faults cleared.';
  }));
  const logRefresh = h('button', { type: 'button' }, 'Refresh log');
  const logFeedback = feedbackBox();
  logRefresh.addEventListener('click', () => act(logRefresh, logFeedback, 'Reading…', async () => { await refreshLog(); return 'Log read.'; }));

  const wide = (el) => { el.classList.add('wide'); return el; };
  container.append(
    h('p', { class: 'banner', role: 'note' }, 'Emulator controls: no real whatwatt Go has this panel. It steers the emulator (meter, faults, clock) for tests and demos.'),
    h('div', { class: 'grid' },
      wide(card('Virtual meter', meterBox, meterForm.form)),
      card('Clock', clockBox, clockForm.form, advanceForm.form),
      wide(card('HTTP faults', h('div', { 'data-needs': 'state' }, faultsBox, faultForm.form, h('div', { class: 'row' }, clearFaults, faultFeedback)))),
      card('Device events', h('div', { 'data-needs': 'state' }, deviceEvents())),
      card('Licence and protection', h('div', { 'data-needs': 'state' }, licenceForm.form, protectionForm.form)),
      wide(card('Scenario', h('div', { 'data-needs': 'state' }, scenarioBox, scenarioForm.form, h('div', { class: 'row' }, stopScenario, scenarioFeedback)))),
      wide(card('Device log', h('div', { class: 'row' }, logRefresh, logFeedback), logBox))));
}

function deviceEvents() {
  const box = feedbackBox();
  const id = 'brownout-seconds';
  const seconds = h('input', { id, type: 'text', inputmode: 'decimal', value: '2', size: 4 });
  const button = (event, label, extra) => {
    const b = h('button', { type: 'button' }, label);
    b.addEventListener('click', () => act(b, box, label + '…', async () => {
      const res = await post('/emulator/v1/device', { event, ...extra() });
      if (absent(res)) throw new Error('Not available in this build.');
      check(res);
      return label + ' accepted.';
    }));
    return b;
  };
  return h('div', {},
    h('div', { class: 'row' }, button('reboot', 'Reboot', () => ({})), button('power_cut', 'Power cut', () => ({}))),
    h('div', { class: 'row' }, h('label', { for: id }, 'Brownout for (s)'), seconds,
      button('brownout', 'Brownout', () => ({ duration_s: Number(seconds.value) }))),
    box);
}

function renderMeter(vm) {
  if (!vm) { meterBox.replaceChildren(h('p', {}, 'The meter is not a virtual one: nothing to steer.')); return; }
  meterForm.inputs.get('silent').input.checked = Boolean(vm.silent);
  const forced = Object.entries(vm.values || {}).map(([k, v]) => k + ' = ' + v).join(', ');
  meterBox.replaceChildren(facts([['Profile', vm.profile], ['Silent', vm.silent ? 'yes' : 'no'],
    ['Line', vm.meter_line], ['Drop / flip rate', vm.drop_rate + ' / ' + vm.flip_rate],
    ['Corrupt frames left', vm.corrupt_frames], ['Forced values', forced || 'none']]));
}

function renderClock(c) {
  clockBox.replaceChildren(facts([['Device time', c.time], ['Speed', c.speed + '×'], ['Mode', c.mode]]));
}

function renderScenario(s) {
  scenarioBox.replaceChildren(s ? facts([['Name', s.name], ['Started', s.started], ['Elapsed', s.elapsed_s + ' s'],
    ['Steps done', s.done + ' of ' + s.total], ['Next', s.next ? s.next.at_s + ' s: ' + s.next.do : '–'],
    ['Finished', s.finished ? 'yes' : 'no']]) : h('p', {}, 'No scenario is running.'));
}

async function refreshFaults() {
  const res = await call('GET', '/emulator/v1/faults');
  if (!res.ok) { faultsBox.replaceChildren(h('p', {}, reason(res))); return; }
  const remove = (f) => {
    const b = h('button', { type: 'button', 'aria-label': 'Remove fault ' + f.id }, 'Remove');
    b.addEventListener('click', async () => { await call('DELETE', '/emulator/v1/faults/' + encodeURIComponent(f.id)); refreshFaults(); });
    return b;
  };
  faultsBox.replaceChildren(table([['route', 'Route'], ['method', 'Method'], ['latency_ms', 'Latency'], ['status', 'Status'],
    ['drop', 'Drop'], ['sse_stop_after', 'SSE stop'], ['expires', 'Expires'], [remove, '']], res.data, 'Active faults'));
}

async function refreshLog() {
  const res = await call('GET', '/emulator/v1/log?lines=200');
  if (absent(res)) { logBox.textContent = 'Not available in this build.'; return; }
  check(res);
  logBox.textContent = res.data.lines.length ? res.data.lines.join('\n') : '(nothing logged yet at this log level)';
  logBox.scrollTop = logBox.scrollHeight;
}

export async function show() {
  const [meter, clock, state] = await Promise.all([call('GET', '/emulator/v1/meter'), call('GET', '/emulator/v1/clock'),
    extras === false ? Promise.resolve(null) : call('GET', '/emulator/v1/state')]);
  if (meter.ok) renderMeter(meter.data.virtual_meter); else meterBox.replaceChildren(h('p', {}, reason(meter)));
  if (clock.ok) renderClock(clock.data);
  if (state) extras = state.ok;
  for (const el of root.querySelectorAll('[data-needs="state"]')) {
    if (extras) continue;
    el.replaceChildren(h('p', { class: 'unavailable' }, 'Not available in this build (the route answers 404).'));
  }
  if (extras && state) {
    const device = state.data.device || {};
    if (device.license) licenceForm.inputs.get('license').input.value = String(device.license).toUpperCase();
    protectionForm.inputs.get('enabled').input.checked = Boolean(device.protection);
    renderScenario(state.data.scenario);
    refreshFaults();
  }
  await refreshLog().catch((err) => { logBox.textContent = err.message; });
  clearInterval(logTimer);
  logTimer = setInterval(() => {
    if (root.hidden) { clearInterval(logTimer); return; }
    refreshLog().catch(() => {});
  }, 3000);
}

