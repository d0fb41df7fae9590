// Live: the latest report's values (updated at every report of the UI stream) and a chart
// of power over the last minutes; older history from the SD card's day files on demand.
import { call, check, h, say, feedbackBox, card, act } from './api.js';
import { drawPower } from './chart.js';

const KEEP_MS = 15 * 60 * 1000; // the chart keeps the last 15 minutes of reports
const points = [];
let canvas, chartLabel = 'kW, last minutes', historyMode = false;
const cells = new Map(); // key -> element

const pick = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

// key, label, report path, unit, decimals
const GROUPS = [
  ['Power import', [['p_in', 'Total', 'instantaneous_power.active.positive.total', 'kW', 3],
    ['p_in_l1', 'L1', 'instantaneous_power.active.positive.l1', 'kW', 3],
    ['p_in_l2', 'L2', 'instantaneous_power.active.positive.l2', 'kW', 3],
    ['p_in_l3', 'L3', 'instantaneous_power.active.positive.l3', 'kW', 3]]],
  ['Power export', [['p_out', 'Total', 'instantaneous_power.active.negative.total', 'kW', 3],
    ['p_out_l1', 'L1', 'instantaneous_power.active.negative.l1', 'kW', 3],
    ['p_out_l2', 'L2', 'instantaneous_power.active.negative.l2', 'kW', 3],
    ['p_out_l3', 'L3', 'instantaneous_power.active.negative.l3', 'kW', 3]]],
  ['Voltage', [['v_l1', 'L1', 'voltage.l1', 'V', 2], ['v_l2', 'L2', 'voltage.l2', 'V', 2],
    ['v_l3', 'L3', 'voltage.l3', 'V', 2]]],
  ['Current', [['i_l1', 'L1', 'current.l1', 'A', 2], ['i_l2', 'L2', 'current.l2', 'A', 2],
    ['i_l3', 'L3', 'current.l3', 'A', 2]]],
  ['Energy imported', [['e_in', 'Total', 'energy.active.positive.total', 'kWh', 3],
    ['e_in_t1', 'T1', 'energy.active.positive.t1', 'kWh', 3],
    ['e_in_t2', 'T2', 'energy.active.positive.t2', 'kWh', 3]]],
  ['Energy exported', [['e_out', 'Total', 'energy.active.negative.total', 'kWh', 3],
    ['e_out_t1', 'T1', 'energy.active.negative.t1', 'kWh', 3],
    ['e_out_t2', 'T2', 'energy.active.negative.t2', 'kWh', 3]]],
];
export const FIELDS = GROUPS.flatMap(([, rows]) => rows);

export function init(root) {
  const groups = GROUPS.map(([title, rows]) => card(title, h('dl', { class: 'values' },
    rows.map(([key, label, , unit]) => {
      const value = h('span', { class: 'num', id: key, 'data-key': key }, '-');
      cells.set(key, value);
      return [h('dt', {}, label), h('dd', {}, value, h('span', { class: 'unit' }, ' ' + unit))];
    }))));
  const meta = card('Report', h('dl', { class: 'values' },
    h('dt', {}, 'Tariff'), h('dd', {}, h('span', { id: 'tariff', class: 'num' }, '-')),
    h('dt', {}, 'Report'), h('dd', {}, h('span', { id: 'report_id', class: 'num' }, '-')),
    h('dt', {}, 'Time'), h('dd', {}, h('span', { id: 'when' }, '-'))));
  canvas = h('canvas', { id: 'power-chart', role: 'img', 'aria-label': 'Chart of import and export power over time' });
  const box = feedbackBox();
  const history = h('button', { type: 'button' }, 'Load today from the SD card');
  const recent = h('button', { type: 'button', hidden: true }, 'Back to live');
  history.addEventListener('click', () => act(history, box, 'Reading the day file…', () => loadHistory(history, recent)));
  recent.addEventListener('click', () => { historyMode = false; chartLabel = 'kW, last minutes'; recent.hidden = true; say(box, 'ok', 'Showing live reports.'); redraw(); });
  const chart = card('Power', h('p', { class: 'legend' },
    h('span', { class: 'swatch import' }), ' import ', h('span', { class: 'swatch export' }), ' export (below zero)'),
  canvas, h('div', { class: 'row' }, history, recent, box));
  chart.classList.add('wide');
  root.append(h('div', { class: 'grid' }, chart, ...groups, meta));
  window.addEventListener('resize', redraw);
}

let historyPoints = [];
function redraw() {
  if (canvas && canvas.offsetParent !== null) drawPower(canvas, historyMode ? historyPoints : points, chartLabel);
}

export function show() { redraw(); }

export function onReport(body) {
  const r = body.report || {};
  for (const [key, , path, , places] of FIELDS) {
    const value = pick(r, path);
    const el = cells.get(key);
    el.textContent = typeof value === 'number' ? value.toFixed(places) : '-';
  }
  document.getElementById('tariff').textContent = r.tariff ?? '-';
  document.getElementById('report_id').textContent = r.id ?? '-';
  document.getElementById('when').textContent = r.date_time_local || r.date_time || '-';
  const t = Date.parse(r.date_time_utc || '') || Date.now();
  points.push({ t, imp: pick(r, 'instantaneous_power.active.positive.total'), exp: pick(r, 'instantaneous_power.active.negative.total') });
  while (points.length && points[0].t < t - KEEP_MS) points.shift();
  if (points.length > 2000) points.splice(0, points.length - 2000);
  if (!historyMode) redraw();
}

/** The cells of one CSV line: quoted fields may hold commas and doubled quotes. */
function cellsOf(line) {
  const out = [];
  let cell = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cell); cell = ''; } else cell += c;
  }
  out.push(cell);
  return out;
}

function parseCsv(text) {
  const lines = text.trim().split(/\r?\n/);
  const head = cellsOf(lines.shift() || '');
  const col = (re) => head.findIndex((name) => re.test(name));
  const time = col(/^TIME$/), imp = col(/^IPAP(_T)?$/), exp = col(/^IPAN(_T)?$/);
  if (time < 0 || imp < 0) throw new Error('The day file has no TIME and IPAP_T columns.');
  const out = [];
  for (const line of lines) {
    const cells = cellsOf(line);
    const t = Date.parse(cells[time]);
    if (!Number.isNaN(t)) out.push({ t, imp: Number(cells[imp]) || 0, exp: exp >= 0 ? Number(cells[exp]) || 0 : 0 });
  }
  return out;
}

async function loadHistory(button, recent) {
  const listing = check(await call('GET', '/sdcard/'));
  const days = (listing.data.files || []).filter((f) => f.type === 'file' && /^\d{8}\.CSV$/i.test(f.name))
    .map((f) => f.name).sort();
  if (!days.length) throw new Error('No day files on the card yet (turn on SD logging under System).');
  const name = days[days.length - 1];
  const file = check(await call('GET', '/sdcard/' + name));
  historyPoints = parseCsv(file.text);
  if (historyPoints.length < 2) throw new Error(name + ' holds fewer than two rows so far.');
  historyMode = true;
  chartLabel = 'kW, ' + name;
  recent.hidden = false;
  redraw();
  const peak = Math.max(...historyPoints.map((p) => p.imp));
  return 'Showing ' + historyPoints.length + ' rows of ' + name + ' (peak import ' + peak.toFixed(3) + ' kW).';
}
