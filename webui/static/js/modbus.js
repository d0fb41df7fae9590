// Modbus: the register map the Modbus TCP server serves.
import { call, h, card, table, reason } from './api.js';

let box;

export function init(root) {
  box = h('div');
  const c = card('Modbus register map', h('p', {}, 'Turn the Modbus TCP server on under System → Settings → Services.'), box);
  c.classList.add('wide');
  root.append(h('div', { class: 'grid' }, c));
}

export async function show() {
  const res = await call('GET', '/api/v1/modbus');
  if (!res.ok) { box.replaceChildren(h('p', { class: 'error' }, reason(res))); return; }
  const rows = [];
  for (const block of res.data) {
    let address = block.start_address;
    for (const reg of block.registers || []) {
      // Numbers take 1 (short), 2 (int, float) or 4 (long, double) registers; other
      // entries (byte arrays) have sizes of their own, so addresses after them are not shown.
      const words = { short: 1, int: 2, float: 2, long: 4, double: 4 }[reg.type];
      rows.push({ address: address ?? '', id: reg.id === '0' ? '(padding)' : reg.id, type: reg.type || '', scaler: reg.scaler ?? '', words: words ?? '' });
      address = words && address !== null ? address + words : null;
    }
  }
  box.replaceChildren(table([['address', 'Address'], ['id', 'Value'], ['type', 'Type'], ['words', 'Registers'], ['scaler', 'Scaler']], rows));
}
