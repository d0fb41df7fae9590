// SD card: browse the card, download a file, delete a file or a folder. Used by the SD tab
// and by /sd.html.
import { call, h, feedbackBox, say, confirmButton, reason } from './api.js';

export function browser() {
  let dir = '';
  const where = h('p', { class: 'where' });
  const box = feedbackBox();
  const body = h('tbody');
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'files' },
    h('caption', { class: 'sr-only' }, 'Files on the SD card'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'size' }, 'Size'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))), body));
  const refresh = h('button', { type: 'button' }, 'Refresh');
  refresh.addEventListener('click', () => show());
  const urlOf = (name) => '/sdcard/' + (dir + name).split('/').map(encodeURIComponent).join('/');

  async function remove(name, isDir) {
    say(box, 'busy', 'Deleting ' + dir + name + '…');
    const res = await call('DELETE', urlOf(name) + (isDir ? '/' : ''));
    await show(true);
    if (res.status === 204) say(box, 'ok', 'Deleted ' + dir + name + '.');
    else say(box, 'error', 'Delete failed: ' + reason(res));
  }

  async function show(keepMessage) {
    where.textContent = 'In /sdcard/' + dir;
    if (!keepMessage) say(box, '', '');
    const res = await call('GET', dir ? urlOf('') : '/sdcard/');
    if (!res.ok) {
      body.replaceChildren();
      say(box, 'error', res.status === 503 ? 'No SD card in the device.' : reason(res));
      return;
    }
    const rows = [];
    if (dir) {
      const up = h('button', { type: 'button', class: 'link' }, '⬑ up');
      up.addEventListener('click', () => { dir = dir.replace(/[^/]*\/$/, ''); show(); });
      rows.push(h('tr', {}, h('td', {}, up), h('td'), h('td')));
    }
    for (const f of res.data.files) {
      const isDir = f.type === 'dir';
      let name;
      if (isDir) {
        name = h('button', { type: 'button', class: 'link' }, f.name + '/');
        name.addEventListener('click', () => { dir += f.name + '/'; show(); });
      } else {
        name = h('a', { href: urlOf(f.name), download: f.name }, f.name);
      }
      const del = confirmButton('Delete', 'Delete ' + f.name + (isDir ? ' and everything in it' : '') + '?',
        () => remove(f.name, isDir));
      del.querySelector('button').setAttribute('aria-label', 'Delete ' + f.name);
      rows.push(h('tr', {}, h('td', {}, name), h('td', { class: 'size' }, isDir ? '' : f.size.toLocaleString() + ' B'), h('td', {}, del)));
    }
    if (!res.data.files.length) rows.push(h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'This folder is empty.')));
    body.replaceChildren(...rows);
  }

  return { element: h('div', {}, h('div', { class: 'row' }, where, refresh), box, tableEl), show };
}
