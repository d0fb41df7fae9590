// A line chart of power over time on a canvas: import above the axis, export below.

const COLORS = { import: '#1f6f43', export: '#b3541e', grid: '#d5ddd8', text: '#33443a' };

/** points: [{t: ms, imp: kW, exp: kW}], oldest first. */
export function drawPower(canvas, points, label) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 220;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = COLORS.text;
  if (points.length < 2) {
    ctx.fillText('Waiting for reports…', 12, 24);
    return;
  }
  const left = 48, right = 8, top = 10, bottom = 22;
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  let hi = 0.1, lo = 0;
  for (const p of points) {
    hi = Math.max(hi, p.imp || 0);
    lo = Math.min(lo, -(p.exp || 0));
  }
  const span = hi - lo;
  const x = (t) => left + (width - left - right) * (t1 === t0 ? 1 : (t - t0) / (t1 - t0));
  const y = (v) => top + (height - top - bottom) * (hi - v) / span;
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = lo + span * i / 4;
    ctx.beginPath(); ctx.moveTo(left, y(v)); ctx.lineTo(width - right, y(v)); ctx.stroke();
    ctx.fillText(v.toFixed(span < 1 ? 2 : 1), 4, y(v) + 4);
  }
  const fmt = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  ctx.fillText(fmt(t0), left, height - 6);
  const end = fmt(t1);
  ctx.fillText(end, width - right - ctx.measureText(end).width, height - 6);
  ctx.fillText(label, left + (width - left - right) / 2 - ctx.measureText(label).width / 2, height - 6);
  const line = (color, value) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach((p, i) => {
      const px = x(p.t), py = y(value(p));
      if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    });
    ctx.stroke();
  };
  line(COLORS.import, (p) => p.imp || 0);
  if (points.some((p) => p.exp)) line(COLORS.export, (p) => -(p.exp || 0));
}
