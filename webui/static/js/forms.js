// Settings forms built from what the device's GET answers: one labelled control per field,
// nested objects as fieldsets. Saving sends only what changed (PUT merges), so a refused
// value changes nothing; the device's 400 message is shown next to the field it names.
import { call, check, h, reason, say, feedbackBox, absent } from './api.js';

let counter = 0;

const ACRONYMS = new Set(['url', 'id', 'ip', 'cn', 'ntp', 'dns', 'sd', 'mqtt', 'wps', 'tx', 'rx', 'dhcp', 'p1']);
const words = (key) => key.split('_').map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w)).join(' ')
  .replace(/^./, (c) => c.toUpperCase());

function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), obj);
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  let target = obj;
  for (const key of keys.slice(0, -1)) target = target[key] = target[key] || {};
  target[keys[keys.length - 1]] = value;
}

/**
 * spec: {url, title, method ('PUT'), choices: {path: [...]}, secrets: {path: hint},
 *        textareas: [path], extra: {path: default} (fields GET may leave out),
 *        hide: [path], help: {path: text}, onSaved(data)}
 */
export function settingsForm(spec) {
  const form = h('form', { class: 'settings', novalidate: true, 'data-url': spec.url });
  const feedback = feedbackBox();
  const fields = h('div', { class: 'fields' });
  const save = h('button', { type: 'submit' }, 'Save');
  form.append(fields, h('div', { class: 'row' }, save, feedback));
  let loaded = {};
  const controls = new Map(); // path -> {input, error, kind}

  function control(path, value) {
    const id = 'f' + (++counter);
    const key = path.split('.').pop();
    const errorId = id + '-err';
    const secret = spec.secrets && path in spec.secrets;
    const choices = spec.choices && spec.choices[path];
    const big = (spec.textareas || []).includes(path);
    let input;
    let kind = typeof value;
    if (kind === 'boolean') {
      input = h('input', { type: 'checkbox', id });
      input.checked = value;
    } else if (choices) {
      input = h('select', { id }, choices.map((c) => h('option', { value: c }, c)));
      input.value = String(value);
    } else if (big) {
      input = h('textarea', { id, rows: 4, spellcheck: 'false', autocomplete: 'off' });
      input.value = secret ? '' : (value ?? '');
    } else {
      input = h('input', { id, type: secret ? 'password' : 'text', autocomplete: secret ? 'new-password' : 'off',
        inputmode: kind === 'number' ? 'decimal' : null, spellcheck: 'false' });
      input.value = secret ? '' : (value ?? '');
    }
    input.name = path;
    input.dataset.path = path;
    input.setAttribute('aria-describedby', errorId);
    const error = h('span', { class: 'field-error', id: errorId, role: 'alert' });
    const hint = secret ? spec.secrets[path] : (spec.help || {})[path];
    controls.set(path, { input, error, kind, secret });
    const label = h('label', { for: id }, words(key));
    const wrap = h('div', { class: 'field' + (kind === 'boolean' ? ' check' : '') });
    if (kind === 'boolean') wrap.append(input, label);
    else wrap.append(label, input);
    if (hint) wrap.append(h('span', { class: 'hint' }, hint));
    wrap.append(error);
    return wrap;
  }

  function build(container, obj, prefix) {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? prefix + '.' + key : key;
      if ((spec.hide || []).includes(path)) continue;
      if (/_len$/.test(key) && typeof value === 'number') continue; // shown as a secret's hint
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const set = h('fieldset', {}, h('legend', {}, words(key)));
        build(set, value, path);
        container.append(set);
      } else if (!Array.isArray(value)) {
        container.append(control(path, value));
      }
    }
  }

  function withExtras(data) {
    const full = structuredClone(data);
    for (const [path, dflt] of Object.entries(spec.extra || {})) {
      if (getPath(full, path) === undefined) setPath(full, path, dflt);
    }
    for (const path of Object.keys(spec.secrets || {})) {
      if (getPath(full, path) === undefined) setPath(full, path, '');
    }
    return full;
  }

  function render(data) {
    loaded = data;
    controls.clear();
    fields.replaceChildren();
    build(fields, withExtras(data), '');
  }

  function clearErrors() {
    for (const { input, error } of controls.values()) {
      error.textContent = '';
      input.removeAttribute('aria-invalid');
    }
  }

  function changes() {
    const body = {};
    for (const [path, { input, kind, secret }] of controls) {
      let value;
      if (kind === 'boolean') value = input.checked;
      else if (secret) {
        if (input.value === '') continue; // write-only: empty keeps what is stored
        value = input.value;
      } else if (kind === 'number') {
        const text = input.value.trim();
        value = text !== '' && !Number.isNaN(Number(text)) ? Number(text) : text;
      } else value = input.value;
      const before = getPath(loaded, path);
      if (!secret && value === before) continue;
      if (!secret && (before === undefined || before === null) && value === '') continue;
      setPath(body, path, value);
    }
    return body;
  }

  function showError(message) {
    const match = /^([\w.[\]]+):\s/.exec(message);
    const target = match && (controls.get(match[1]) || controls.get(match[1].replace(/\[\d+\]$/, '')));
    if (target) {
      target.error.textContent = message;
      target.input.setAttribute('aria-invalid', 'true');
      target.input.focus();
      say(feedback, 'error', 'Not saved: see the field marked above.');
    } else {
      say(feedback, 'error', 'Not saved: ' + message);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const body = changes();
    if (!Object.keys(body).length) {
      say(feedback, 'ok', 'Nothing changed.');
      return;
    }
    save.disabled = true;
    say(feedback, 'busy', 'Saving…');
    const res = await call(spec.method || 'PUT', spec.url, body);
    save.disabled = false;
    if (res.ok) {
      render(res.data || loaded);
      say(feedback, 'ok', 'Saved.');
      if (spec.onSaved) spec.onSaved(res.data);
    } else {
      showError(reason(res));
    }
  });

  async function load() {
    const res = await call('GET', spec.url);
    try {
      check(res);
      render(res.data);
    } catch (err) {
      fields.replaceChildren(h('p', { class: 'error' }, 'Cannot read ' + spec.url + ': ' + err.message));
    }
  }

  return { form, load, feedback };
}

/**
 * A small hand-declared form for the emulator's routes:
 * fields: [{name, label, type: 'text'|'number'|'checkbox'|'select'|'textarea', options, hint, value}]
 * send(values) -> Promise<res>; done(res) -> success text.
 * A 400 naming a field ("name: why") is shown next to that field.
 */
export function simpleForm({ fields, submit, send, done }) {
  const form = h('form', { class: 'settings', novalidate: true });
  const feedback = feedbackBox();
  const inputs = new Map();
  const grid = h('div', { class: 'fields' });
  form.append(grid);
  for (const f of fields) {
    const id = 'f' + (++counter);
    let input;
    if (f.type === 'checkbox') {
      input = h('input', { type: 'checkbox', id });
      input.checked = Boolean(f.value);
    } else if (f.type === 'select') {
      input = h('select', { id }, f.options.map((o) => h('option', { value: o }, o)));
      if (f.value !== undefined) input.value = f.value;
    } else if (f.type === 'textarea') {
      input = h('textarea', { id, rows: f.rows || 6, spellcheck: 'false' });
      input.value = f.value ?? '';
    } else {
      input = h('input', { id, type: f.type === 'password' ? 'password' : 'text', inputmode: f.type === 'number' ? 'decimal' : null,
        autocomplete: 'off', spellcheck: 'false', placeholder: f.placeholder || null });
      input.value = f.value ?? '';
    }
    input.name = f.name;
    const error = h('span', { class: 'field-error', id: id + '-err', role: 'alert' });
    input.setAttribute('aria-describedby', id + '-err');
    inputs.set(f.name, { input, error, type: f.type });
    const label = h('label', { for: id }, f.label);
    const wrap = h('div', { class: 'field' + (f.type === 'checkbox' ? ' check' : '') });
    if (f.type === 'checkbox') wrap.append(input, label); else wrap.append(label, input);
    if (f.hint) wrap.append(h('span', { class: 'hint' }, f.hint));
    wrap.append(error);
    grid.append(wrap);
  }
  const button = h('button', { type: 'submit' }, submit);
  form.append(h('div', { class: 'row' }, button, feedback));

  function values() {
    const out = {};
    for (const [name, { input, type }] of inputs) {
      if (type === 'checkbox') out[name] = input.checked;
      else if (type === 'number') {
        const text = input.value.trim();
        out[name] = text === '' ? undefined : (Number.isNaN(Number(text)) ? text : Number(text));
      } else out[name] = input.value;
    }
    return out;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const { input, error } of inputs.values()) { error.textContent = ''; input.removeAttribute('aria-invalid'); }
    button.disabled = true;
    say(feedback, 'busy', 'Sending…');
    let res;
    try {
      res = await send(values());
    } catch (err) {
      button.disabled = false;
      say(feedback, 'error', err.message);
      return;
    }
    button.disabled = false;
    if (res.ok) { say(feedback, 'ok', done ? done(res) : 'Done.'); return; }
    const message = reason(res);
    const match = /^([\w.]+):\s/.exec(message);
    const target = match && (inputs.get(match[1]) || inputs.get(match[1].split('.')[0]));
    if (target) {
      target.error.textContent = message;
      target.input.setAttribute('aria-invalid', 'true');
      say(feedback, 'error', 'Refused: see the field marked above.');
    } else say(feedback, 'error', (res.status === 404 && absent(res) ? 'Not available in this build. ' : 'Refused: ') + message);
  });

  return { form, feedback, inputs };
}
