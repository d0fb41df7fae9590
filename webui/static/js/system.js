// System: the device, its settings (name, host name, protection, services), Wi-Fi (scan,
// WPS), Ethernet, licence, firmware upload with progress, reboot and factory reset.
import { call, check, h, card, facts, table, feedbackBox, act, say, confirmButton } from './api.js';
import { settingsForm } from './forms.js';

let deviceBox, networkBox, scanBox, servicesBox, forms;

export function init(root) {
  deviceBox = h('div');
  networkBox = h('div');
  scanBox = h('div');
  servicesBox = h('div', { 'aria-live': 'polite' });
  forms = {
    system: settingsForm({
      url: '/api/v1/settings',
      secrets: { 'system.password': 'Write-only: the password protection asks for (user admin); empty keeps it.' },
      help: { 'services.report_interval': 'Seconds between reports to clouds and MQTT.',
        'services.sd.frequency': 'Seconds between rows of the SD card log.' },
      onSaved: () => refresh(),
    }),
    wifi: settingsForm({ url: '/api/v1/wifi/sta/settings', secrets: { password: 'Write-only: empty keeps it.' } }),
    eth: settingsForm({ url: '/api/v1/eth/settings' }),
  };
  const scanBtn = h('button', { type: 'button' }, 'Scan for networks');
  const wpsBtn = h('button', { type: 'button' }, 'Start WPS');
  const wifiBox = feedbackBox();
  scanBtn.addEventListener('click', () => act(scanBtn, wifiBox, 'Scanning…', async () => {
    const res = check(await call('GET', '/api/v1/wifi/scan'));
    scanBox.replaceChildren(table([['ssid', 'SSID'], ['signal', 'Signal %'], ['rssi', 'RSSI'], ['channel', 'Channel'],
      ['auth_mode', 'Security'], ['wps', 'WPS']], res.data, 'Networks in range'));
    return res.data.length + ' networks found.';
  }));
  wpsBtn.addEventListener('click', () => act(wpsBtn, wifiBox, 'Opening the WPS window…', async () => {
    check(await call('POST', '/api/v1/wifi/wps'));
    return 'WPS started: press the WPS button on your router within two minutes.';
  }));
  const grid = h('div', { class: 'grid' },
    card('Device', deviceBox),
    card('Network', networkBox),
    card('Services', servicesBox),
    wide(card('Settings', forms.system.form)),
    wide(card('Wi-Fi', forms.wifi.form, h('div', { class: 'row' }, scanBtn, wpsBtn, wifiBox), scanBox)),
    card('Ethernet', forms.eth.form),
    card('Firmware', firmware()),
    card('Restart', restart()));
  root.append(grid);
}

export function onState(state) {
  if (!servicesBox) return;
  const rows = Object.entries(state.services || {}).map(([name, st]) => ({ name: name.replace(/_/g, ' '), ...st }));
  servicesBox.replaceChildren(table([['name', 'Service'], ['state', 'State'], ['detail', 'Detail']], rows));
}

function wide(el) { el.classList.add('wide'); return el; }

function firmware() {
  const id = 'firmware-file';
  const file = h('input', { type: 'file', id, accept: '.bin,application/octet-stream' });
  const progress = h('progress', { max: 100, value: 0, 'aria-label': 'Upload progress', hidden: true });
  const box = feedbackBox();
  const upload = h('button', { type: 'button' }, 'Upload firmware');
  const state = h('p', { class: 'hint', id: 'firmware-state' });
  upload.addEventListener('click', () => {
    if (!file.files.length) { say(box, 'error', 'Choose a firmware file first.'); file.focus(); return; }
    const data = new FormData();
    data.append('file', file.files[0]);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/load');
    progress.hidden = false;
    progress.value = 0;
    upload.disabled = true;
    say(box, 'busy', 'Uploading…');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      upload.disabled = false;
      const text = (xhr.responseText || '').trim() || 'HTTP ' + xhr.status;
      say(box, xhr.status === 200 ? 'ok' : 'error', text);
    });
    xhr.addEventListener('error', () => { upload.disabled = false; say(box, 'error', 'The upload was cut off.'); });
    xhr.send(data);
  });
  return h('div', {}, state, h('div', { class: 'field' }, h('label', { for: id }, 'Firmware image'), file),
    h('div', { class: 'row' }, upload, progress), box);
}

function restart() {
  const box = feedbackBox();
  const reboot = confirmButton('Reboot', 'Reboot the device now?', (button) => act(button, box, 'Rebooting…', async () => {
    check(await call('POST', '/api/v1/reboot'));
    return 'Rebooting: the page reconnects when the device is back.';
  }));
  const reset = confirmButton('Factory reset', 'Erase all settings and reboot?', (button) => act(button, box, 'Resetting…', async () => {
    check(await call('POST', '/api/v1/restore'));
    return 'Factory settings restored; the device reboots.';
  }));
  return h('div', {}, h('p', {}, 'A reboot keeps the settings; a factory reset erases them.'),
    h('div', { class: 'row' }, reboot, reset), box);
}

async function refresh() {
  const [system, load] = await Promise.all([call('GET', '/api/v1/system'), call('GET', '/load')]);
  if (system.ok) {
    const d = system.data.device || {};
    const lic = d.license || {};
    deviceBox.replaceChildren(facts([['Name', d.name], ['Id', d.id], ['Model', d.model],
      ['Firmware', d.firmware + ' (' + d.build + ')'], ['Date', d.date + ' ' + d.time],
      ['Up for', d.time_since_boot + ' s'], ['Licence', lic.type + (lic.activation_date ? ' since ' + lic.activation_date : '')],
      ['Supply', d.plug ? `USB ${d.plug.v_usb} V, P1 ${d.plug.v_p1} V, M-Bus ${d.plug.v_mbus} V` : ''],
      ['SD card', system.data.sd_card ? (system.data.sd_card.installed ? system.data.sd_card.size + ' MB' : 'none') : '']]));
    const w = system.data.wifi || {}, e = system.data.ethernet || {};
    const clouds = Object.entries(system.data.clouds || {}).map(([name, c]) =>
      name + ': ' + (c.enabled ? (c.status || (c.connected ? 'connected' : 'not connected')) : 'off')).join(', ');
    networkBox.replaceChildren(facts([['Wi-Fi', `${w.status} ${w.ssid || ''} (${w.signal}%)`], ['Wi-Fi IP', w.ip],
      ['Ethernet', `${e.status} ${e.ip}`], ['Clouds', clouds]]));
  }
  if (load.ok) document.getElementById('firmware-state').textContent = load.text.trim().replace(/\n/g, ' · ');
}

export async function show() {
  await Promise.all([forms.system.load(), forms.wifi.load(), forms.eth.load(), refresh()]);
}
