// MQTT: the client's settings (certificates; secrets write-only), its connection state, and
// a preview of the publish template rendered against the current report.
import { call, h, card, feedbackBox, act, check, serviceFacts } from './api.js';
import { settingsForm } from './forms.js';

let form, stateBox, preview, templateArea;

export function init(root) {
  form = settingsForm({
    url: '/api/v1/mqtt/settings',
    textareas: ['publish.template', 'broker.certificate', 'client.certificate', 'client.key'],
    extra: { 'broker.certificate': '', 'client.certificate': '' },
    secrets: { password: 'Write-only: empty keeps it.', 'client.key': 'Write-only PEM private key: empty keeps it.',
      'client.key_password': 'Write-only: empty keeps it.' },
    help: { url: 'mqtt://host:1883 or mqtts://host:8883', 'publish.template': 'Variables as ${power.in}; empty: the default report.' },
  });
  stateBox = h('div');
  const id = 'template-preview-src';
  templateArea = h('textarea', { id, rows: 4, spellcheck: 'false' });
  preview = h('pre', { class: 'preview', 'aria-live': 'polite' });
  const box = feedbackBox();
  const render = h('button', { type: 'button' }, 'Render preview');
  render.addEventListener('click', () => act(render, box, 'Rendering…', async () => {
    const source = templateArea.value || (form.form.querySelector('[data-path="publish.template"]') || {}).value || '';
    const res = check(await call('POST', '/api/v1/template/test', { template: source }));
    preview.textContent = res.text;
    return 'Rendered against the current report.';
  }));
  const grid = h('div', { class: 'grid' },
    wide(card('MQTT settings', form.form)), card('Connection', stateBox),
    wide(card('Template preview', h('div', { class: 'field' }, h('label', { for: id }, 'Template (empty: the one in the settings)'), templateArea),
      h('div', { class: 'row' }, render, box), preview)));
  root.append(grid);
}

function wide(el) { el.classList.add('wide'); return el; }

export function onState(state) {
  if (!stateBox) return;
  const mqtt = (state.services || {}).mqtt;
  stateBox.replaceChildren(mqtt ? serviceFacts(mqtt) : h('p', {}, 'The MQTT client is not running.'));
}

export async function show() { await form.load(); }
