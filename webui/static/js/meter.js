// Meter: its status in words, identity, what detection tried and saw, the meter settings
// form (every field; keys write-only), scalers (current and custom), report objects.
import { call, check, h, card, facts, table, autoTable, feedbackBox, act, reason } from './api.js';
import { settingsForm } from './forms.js';

export const STATUS_WORDS = {
  'OK': 'Reading the meter: reports carry its values.',
  'NOT CONNECTED': 'No meter is connected (no signal on the meter port).',
  'NO DATA': 'The meter was found but has stopped sending data.',
  'RECOGNITION': 'Looking for the meter: trying line settings and protocols.',
  'ENCRYPTION KEY': 'The meter encrypts its data and the key does not decrypt it: check the encryption key.',
  'KEY REQUIRED': 'The meter encrypts its data: enter its encryption key below.',
  'NOT RECOGNIZED': 'Data arrives but no known protocol decodes it.',
};

let statusBox, identityBox, detectBox, scalersBox, objectsBox, form;

export function init(root) {
  statusBox = h('div');
  identityBox = h('div');
  detectBox = h('div');
  scalersBox = h('div');
  objectsBox = h('div');
  form = settingsForm({
    url: '/api/v1/meter/settings',
    choices: {
      parity: ['none', 'odd', 'even'], stop_bits: ['1', '1.5', '2'], method: ['Passive Push'],
      if_type: ['auto', 'p1', 'mbus', 'ttl', 'mep', 'irda', 'uart', 'p1_adapter', 'ttl_push'],
      protocol: ['auto', 'dsmr', 'hdlc', 'kmp', 'mep', 'mbus', 'mbtr'],
      if_mode: ['auto', 'push', 'pull'], scalers_set: ['default', 'lge570', 'custom'],
    },
    secrets: {
      encryption_key: 'Write-only: 32 hex digits; empty keeps the stored key, 32 zeros clear it.',
      authentication_key: 'Write-only: 32 hex digits; empty keeps the stored key, 32 zeros clear it.',
    },
    onSaved: () => refresh(),
  });
  const grid = h('div', { class: 'grid' },
    card('Status', statusBox), card('Identity', identityBox),
    wide(card('Detection', detectBox)), wide(card('Meter settings', form.form)),
    wide(card('Scalers', scalersBox)), wide(card('Report objects', objectsBox)));
  root.append(grid);
}

function wide(el) { el.classList.add('wide'); return el; }

let shownStatus = null;

export function onState(state) {
  if (!statusBox || !state.meter) return;
  renderStatus(state.meter.status, state.meter.message, state.meter.interface, state.meter.line);
  // A new status: read the diagnostics again (what the search tried, why it is not OK).
  if (state.meter.status !== shownStatus && statusBox.offsetParent !== null) refresh();
  shownStatus = state.meter.status;
}

function renderStatus(status, message, iface, line) {
  statusBox.replaceChildren(
    h('p', { class: 'status-line' }, h('strong', { class: 'badge ' + (status === 'OK' ? 'good' : 'warn') }, status || '?'),
      ' ', STATUS_WORDS[status] || ''),
    facts([['Why', message], ['Interface', iface], ['Line', line]]));
}

async function refresh() {
  const [system, link, current, custom, objects] = await Promise.all([
    call('GET', '/api/v1/system'), call('GET', '/emulator/v1/meter'),
    call('GET', '/api/v1/meter/scalers/current'), call('GET', '/api/v1/meter/scalers/custom'),
    call('GET', '/api/v1/report/objects')]);
  if (system.ok) {
    const m = system.data.meter || {};
    identityBox.replaceChildren(facts([['Manufacturer', m.manufacturer], ['Model', m.model], ['Meter id', m.id],
      ['Type', m.type], ['Protocol', [m.protocol, m.protocol_version].filter(Boolean).join(' ')],
      ['Interface', m.interface], ['Encrypted', m.enc_en ? 'yes' : 'no'], ['Authenticated', m.auth_en ? 'yes' : 'no'],
      ['Report interval', m.report_interval + ' s'], ['Tariff', m.tariff]]));
    if (!link.ok) renderStatus(m.status, '', m.interface, '');
  }
  if (link.ok) {
    const l = link.data.link || {};
    renderStatus(l.status, l.message, l.interface, l.line);
    const d = l.detection || {};
    const tried = (d.tried || []).slice(-12).reverse();
    detectBox.replaceChildren(
      facts([['Phase', d.phase], ['Verdict', d.message], ['Port', d.port], ['Line', d.line],
        ['Protocol', d.protocol], ['Frames', l.frames], ['Problems', Object.entries(l.problems || {}).map(([k, v]) => k + ' ×' + v).join(', ') || 'none'],
        ['Last problem', l.last_problem]]),
      table([['line', 'Line'], ['protocol', 'Protocol'], ['bytes', 'Bytes'], ['frames', 'Frames'],
        ['framing_errors', 'Framing errors'], ['parity_errors', 'Parity errors'], ['crc_failures', 'CRC failures'],
        ['decryption_failures', 'Decryption failures'], ['verdict', 'Verdict']], tried, 'What the search tried (newest first)'));
  } else {
    detectBox.replaceChildren(h('p', {}, 'Detection diagnostics: ' + reason(link)));
  }
  scalersBox.replaceChildren(
    autoTable(current.ok && Array.isArray(current.data) ? current.data : [], 'Current (in use now)'),
    customEditor(custom));
  objectsBox.replaceChildren(autoTable(objects.ok ? (objects.data.objects || []) : [],
    'COSEM objects of the last frame (DLMS meters)'));
}

function customEditor(custom) {
  const id = 'custom-scalers';
  const area = h('textarea', { id, rows: 4, spellcheck: 'false', 'aria-describedby': id + '-err' });
  area.value = JSON.stringify(custom.ok ? custom.data : [], null, 1);
  const box = feedbackBox();
  box.id = id + '-err';
  const save = h('button', { type: 'button' }, 'Save custom scalers');
  save.addEventListener('click', () => act(save, box, 'Saving…', async () => {
    let body;
    try { body = JSON.parse(area.value); } catch (err) { throw new Error('Not JSON: ' + err.message); }
    check(await call('POST', '/api/v1/meter/scalers/custom', body));
    return 'Saved (used when Scalers set is custom).';
  }));
  return h('div', { class: 'field' }, h('label', { for: id }, 'Custom scalers (JSON list)'), area, h('div', { class: 'row' }, save, box));
}

export async function show() {
  await Promise.all([form.load(), refresh()]);
}
