// Actions: edit the definition (JSON), run an action and watch its status until it is done.
import { call, h, card, feedbackBox, act, check, say, reason, table } from './api.js';

const EXAMPLE = { actions: [{ id: 'example', requests: [{ http: { url: 'http://127.0.0.1/api/v1/system', method: 'GET' } }] }] };
let area, listBox, statusBox, defBox;

export function init(root) {
  const id = 'actions-definition';
  area = h('textarea', { id, rows: 12, spellcheck: 'false', 'aria-describedby': id + '-msg' });
  defBox = feedbackBox();
  defBox.id = id + '-msg';
  const save = h('button', { type: 'button' }, 'Save definition');
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete definition');
  save.addEventListener('click', () => act(save, defBox, 'Saving…', async () => {
    let body;
    try { body = JSON.parse(area.value); } catch (err) { throw new Error('Not JSON: ' + err.message); }
    const res = check(await call('POST', '/api/v1/actions', body));
    render(res.data);
    return 'Saved: ' + (res.data.actions || []).length + ' actions.';
  }));
  remove.addEventListener('click', () => act(remove, defBox, 'Deleting…', async () => {
    check(await call('DELETE', '/api/v1/actions'));
    render(null);
    return 'Definition deleted.';
  }));
  listBox = h('div');
  statusBox = h('div', { id: 'action-status', 'aria-live': 'polite' });
  const edit = card('Definition', h('div', { class: 'field' }, h('label', { for: id }, 'Actions (JSON, as POST /api/v1/actions takes it)'), area),
    h('div', { class: 'row' }, save, remove, defBox));
  edit.classList.add('wide');
  root.append(h('div', { class: 'grid' }, card('Run an action', listBox), card('Status', statusBox), edit));
}

function render(definition) {
  area.value = JSON.stringify(definition || EXAMPLE, null, 2);
  const actions = definition ? definition.actions || [] : [];
  if (!actions.length) {
    listBox.replaceChildren(h('p', {}, 'No actions are defined yet: edit the example below and save it.'));
    return;
  }
  const box = feedbackBox();
  listBox.replaceChildren(h('ul', { class: 'actions' }, actions.map((a) => {
    const run = h('button', { type: 'button', 'data-action': a.id }, 'Run ' + a.id);
    if (a.enable === false) run.title = 'disabled in the definition';
    run.addEventListener('click', () => runAction(run, box, a.id));
    return h('li', {}, run, ' ', (a.requests || []).length + ' request(s)', a.enable === false ? ' (disabled)' : '');
  })), box);
}

async function runAction(button, box, id) {
  await act(button, box, 'Calling ' + id + '…', async () => {
    const res = await call('POST', '/api/v1/actions/call?id=' + encodeURIComponent(id));
    if (res.status !== 202) throw new Error('Not started: ' + reason(res));
    const location = res.headers.get('Location');
    say(box, 'busy', 'Running ' + id + '…');
    let entries = [];
    for (let i = 0; i < 60; i++) {
      const st = check(await call('GET', location));
      entries = st.data;
      showStatus(id, entries);
      if (entries.length && entries.every((e) => e.code !== -1)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const done = entries.length && entries.every((e) => e.code !== -1);
    if (!done) throw new Error(id + ' is still running; see its status.');
    const good = entries.every((e) => (e.code >= 200 && e.code < 300) || e.code === 1);
    if (!good) throw new Error(id + ' finished with result ' + entries.map((e) => e.code).join(', '));
    return id + ' done: result ' + entries.map((e) => e.code).join(', ') + '.';
  });
}

function showStatus(id, entries) {
  statusBox.replaceChildren(table([['action_id', 'Action'], ['id', 'Request'], ['code', 'Result'],
    [(e) => (e.code === -1 ? 'running' : e.exe_time + ' s'), 'Time']], entries, 'Last call of ' + id));
}

export async function show() {
  const res = await call('GET', '/api/v1/actions');
  if (res.ok) render(res.data);
  else if (res.status === 404) render(null);
  else say(defBox, 'error', reason(res));
}
