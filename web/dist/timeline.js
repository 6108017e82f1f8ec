// timeline.js: the strip above the time slider: each intent's time
// windows as bars (mine on top, others below, overlaps in red), days and
// hours marked, the chosen time as a cursor. Clicking or dragging on it
// sets the time.

export class Timeline {
  constructor(canvas, onPick) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onPick = onPick;
    this.t0 = Date.now();
    this.t1 = this.t0 + 86400e3;
    this.time = null;
    this.bars = []; // {start, end, cls: 'own'|'other'|'cell'|'synthetic'}
    let dragging = false;
    const pick = (e) => {
      const r = canvas.getBoundingClientRect();
      const f = (e.clientX - r.left) / r.width;
      this.onPick(this.t0 + Math.max(0, Math.min(1, f)) * (this.t1 - this.t0));
    };
    canvas.addEventListener('pointerdown', (e) => {
      dragging = true;
      canvas.setPointerCapture?.(e.pointerId);
      pick(e);
    });
    canvas.addEventListener('pointermove', (e) => dragging && pick(e));
    canvas.addEventListener('pointerup', () => (dragging = false));
    window.addEventListener('resize', () => this.draw());
  }

  set(t0, t1, bars, time) {
    this.t0 = t0;
    this.t1 = t1;
    this.bars = bars;
    this.time = time;
    this.draw();
  }

  setTime(time) {
    this.time = time;
    this.draw();
  }

  draw() {
    const c = this.canvas, ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 300, h = c.clientHeight || 40;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const span = this.t1 - this.t0;
    const X = (t) => ((t - this.t0) / span) * w;
    // Days (local midnight) and 6-hour ticks.
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    const d = new Date(this.t0);
    d.setMinutes(0, 0, 0);
    d.setHours(Math.ceil(d.getHours() / 6) * 6);
    for (let t = d.getTime(); t <= this.t1; t += 6 * 3600e3) {
      const x = X(t);
      const midnight = new Date(t).getHours() === 0;
      ctx.fillStyle = midnight ? '#94a3b8' : '#e2e8f0';
      ctx.fillRect(x, 0, 1, h);
      if (midnight) {
        ctx.fillStyle = '#475569';
        ctx.fillText(new Date(t).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' }), x + 3, 1);
      }
    }
    // Bars, packed in rows (mine: rows 0.., others: below).
    const rowsOwn = [], rowsOther = [];
    const top = 13, rowH = 4, gap = 1;
    const maxRows = Math.floor((h - top) / (rowH + gap) / 2);
    const colors = { own: '#1d4ed8', other: '#ea580c', cell: '#dc2626', synthetic: 'rgba(71,85,105,0.35)' };
    const sorted = this.bars.slice().sort((a, b) => a.start - b.start);
    for (const b of sorted) {
      if (b.end < this.t0 || b.start > this.t1) continue;
      const own = b.cls === 'own';
      const rows = own ? rowsOwn : rowsOther;
      let r = rows.findIndex((end) => end <= b.start);
      if (r < 0) {
        r = rows.length < maxRows ? rows.length : rows.length - 1;
        if (rows.length < maxRows) rows.push(0);
      }
      rows[r] = Math.max(rows[r], b.end);
      const y = own ? top + r * (rowH + gap) : top + (maxRows + r) * (rowH + gap);
      const x0 = Math.max(0, X(b.start)), x1 = Math.min(w, X(b.end));
      ctx.fillStyle = colors[b.cls] || '#64748b';
      ctx.fillRect(x0, y, Math.max(1.5, x1 - x0), rowH);
    }
    // Now and the chosen time.
    const now = Date.now();
    if (now >= this.t0 && now <= this.t1) {
      ctx.fillStyle = '#16a34a';
      ctx.fillRect(X(now) - 0.5, 0, 1, h);
    }
    if (this.time !== null) {
      const x = X(this.time);
      ctx.fillStyle = '#0f172a';
      ctx.fillRect(x - 1, 0, 2, h);
      ctx.beginPath();
      ctx.moveTo(x - 5, 0); ctx.lineTo(x + 5, 0); ctx.lineTo(x, 6); ctx.closePath();
      ctx.fill();
    }
  }
}
