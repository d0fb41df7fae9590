// Requests to the device and the emulator, element building, and visible feedback.
// Credentials are never handled here: the browser answers the device's Digest/Basic
// challenge itself and keeps nothing in page storage.

/** One request; resolves to {ok, status, data, text} and never throws. */
export async function call(method, url, body, headers = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store' };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof FormData) init.body = body;
    else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    return { ok: false, status: 0, data: null, text: 'No answer from the device (' + err.message + ')' };
  }
  const text = await response.text();
  let data = null;
  if ((response.headers.get('Content-Type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  return { ok: response.ok, status: response.status, data, text, headers: response.headers };
}

export const getJSON = (url) => call('GET', url);

/** The device's own words for a refused request (plain text, or {"error": ...}). */
export function reason(res) {
  if (res.data && typeof res.data.error === 'string') return res.data.error;
  const text = (res.text || '').trim();
  if (text) return text;
  return res.status ? 'HTTP ' + res.status : 'No answer from the device';
}

/** A 404 from a route this build does not have. */
export const absent = (res) => res.status === 404 && /does not exist/i.test(res.text || '');

/** Build an element: h('button', {class: 'x', onclick: fn}, 'text', child...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A live region that says what an action is doing, did, or why it failed. */
export function feedbackBox() {
  return h('p', { class: 'feedback', role: 'status', 'aria-live': 'polite' });
}

export function say(box, kind, text) {
  box.className = 'feedback ' + kind;
  box.textContent = text;
}

/** Run `work` behind `button`: busy while it runs, then success or the error in `box`. */
export async function act(button, box, busyText, work) {
  button.disabled = true;
  say(box, 'busy', busyText);
  try {
    const message = await work();
    if (message !== undefined) say(box, 'ok', message);
  } catch (err) {
    say(box, 'error', err.message);
  } finally {
    button.disabled = false;
  }
}

/** Throw the device's reason unless the answer is a success. */
export function check(res) {
  if (!res.ok) throw new Error(reason(res));
  return res;
}

/** A two-column table of label/value rows. */
export function facts(rows) {
  return h('dl', { class: 'facts' },
    rows.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value === undefined || value === null || value === '' ? '–' : String(value))]));
}

/** A table from a list of objects (columns: [key, heading]). */
export function table(columns, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(([, head]) => h('th', { scope: 'col' }, head)))),
    h('tbody', {}, rows.length ? rows.map((row) => h('tr', {}, columns.map(([key]) => {
      const cell = typeof key === 'function' ? key(row) : row[key];
      return h('td', {}, cell instanceof Node ? cell : (cell === undefined || cell === null ? '' : typeof cell === 'object' ? JSON.stringify(cell) : String(cell)));
    }))) : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'Nothing to show.')))));
}

export function card(title, ...children) {
  const id = 'h-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** A button that asks "are you sure?" in place before it does something drastic. */
export function confirmButton(label, question, onConfirm) {
  const wrap = h('span', { class: 'confirm' });
  const start = h('button', { type: 'button', class: 'danger' }, label);
  const yes = h('button', { type: 'button', class: 'danger' }, 'Yes, ' + label.toLowerCase());
  const no = h('button', { type: 'button' }, 'Cancel');
  const ask = h('span', { class: 'ask', hidden: true }, h('span', {}, question + ' '), yes, ' ', no);
  start.addEventListener('click', () => { start.hidden = true; ask.hidden = false; no.focus(); });
  no.addEventListener('click', () => { ask.hidden = true; start.hidden = false; start.focus(); });
  yes.addEventListener('click', async () => {
    ask.hidden = true; start.hidden = false;
    await onConfirm(start);
  });
  wrap.append(start, ask);
  return wrap;
}

/** A table whose columns are the keys of its rows. */
export function autoTable(rows, caption) {
  const keys = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!keys.includes(key)) keys.push(key);
  return table(keys.map((k) => [k, k]), rows, caption);
}

/** A service's status (from the UI stream's state event) as facts. */
export function serviceFacts(status) {
  const rows = [['State', status.state], ['Detail', status.detail],
    ['Since', status.since ? new Date(status.since * 1000).toLocaleString() : ''], ['Failures', status.failures]];
  for (const [key, value] of Object.entries(status.facts || {})) {
    rows.push([key.replace(/_/g, ' '), typeof value === 'object' ? JSON.stringify(value) : value]);
  }
  return facts(rows);
}
