// map.js: the Canvas 2D map. Web Mercator, world copies to either side so
// that panning across the antimeridian is seamless; every layer is drawn in
// a few batched paths (one per style), never one DOM node per volume, so
// that 10,000 volumes stay interactive.
//
// Geometry is kept in "world" coordinates: Web Mercator x, y in [0, 1] at
// zoom 0 (x may leave [0, 1] for shapes continued across the antimeridian).
// A screen point is ((x + k - cx) * S + W/2, (y - cy) * S + H/2) for the
// scale S = 256 * 2^zoom and the world copy k.

import { mercX, mercY, unmercX, unmercY, wrapLng, clamp, haversine, circleRing, unwrapRing, pointInFlatRing, MAX_LAT } from './geo.js';

const TAU = Math.PI * 2;
const MIN_ZOOM = 1, MAX_ZOOM = 16;

// Layers, in drawing order (later on top).
export const LAYER = { synthetic: 0, other: 1, own: 2, refusal: 3, cells: 4, refusalCells: 5 };
const LAYER_COUNT = 6;

// Styles: per layer, normal/conflict × in time/faded. Fills are drawn
// opaque into an offscreen canvas and composited once at FILL_ALPHA (much
// cheaper than blending every shape, and overlaps do not darken); strokes
// are drawn on the map in chunked paths.
const PALETTE = [
  /* synthetic */ { fill: '#64748b', stroke: 'rgba(51,65,85,0.6)' },
  /* other */ { fill: '#f97316', stroke: '#c2410c' },
  /* own */ { fill: '#3b82f6', stroke: '#1d4ed8' },
  /* refusal */ { fill: '#a855f7', stroke: '#7e22ce' },
  /* cells */ { fill: '#dc2626', stroke: '#991b1b' },
  /* refusalCells */ { fill: '#9333ea', stroke: '#581c87' },
];
const FILL_ALPHA = [0.3, 0.55]; // volumes, cells

function mixWhite(hex, f) {
  const n = parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v + (255 - v) * f));
  return `rgb(${c.join(',')})`;
}

function buildStyles() {
  const out = [];
  for (let l = 0; l < LAYER_COUNT; l++) {
    const p = PALETTE[l];
    const cellLayer = l >= LAYER.cells;
    for (let c = 0; c < 2; c++) {
      for (let f = 0; f < 2; f++) {
        const conflict = c && !cellLayer;
        out.push({
          fill: f ? mixWhite(conflict ? '#ef4444' : p.fill, 0.65) : conflict ? '#ef4444' : p.fill,
          stroke: conflict ? '#dc2626' : p.stroke,
          width: conflict ? 2.5 : l === LAYER.synthetic ? 0.75 : cellLayer ? 1 : 1.5,
          dash: f && l !== LAYER.synthetic ? [4, 4] : null,
          alpha: f ? 0.5 : 1,
        });
      }
    }
  }
  return out;
}
const STYLES = buildStyles();
const styleOf = (layer, conflict, faded) => layer * 4 + (conflict ? 2 : 0) + (faded ? 1 : 0);
// Paths are cut in chunks: Skia rasterises one huge path far slower than
// many small ones.
const CHUNK_SHAPES = 800, CHUNK_VERTICES = 4000;
// Full frames slower than this are not redrawn while panning or zooming.
const FAST_AFTER_MS = 30;

// A circle larger than this is drawn as its true (geodesic) ring; smaller
// ones as a Mercator circle scaled at their centre, which is within a
// pixel or two at any zoom.
const ARC_MAX_RADIUS_M = 50_000;

/**
 * makeRecord prepares a volume (the service's VolumeSpec) for drawing.
 * meta is copied onto the record (intent id, owner, ...).
 */
export function volumeRecord(spec, layer, meta = {}) {
  const r = { ...meta, layer, spec, conflict: false, start: -Infinity, end: Infinity, altLo: spec.alt_lo_m, altHi: spec.alt_hi_m };
  if (spec.start) r.start = Date.parse(spec.start);
  if (spec.end) r.end = Date.parse(spec.end);
  if (spec.circle) {
    const { lat, lng, radius_m: rm } = spec.circle;
    if (rm <= ARC_MAX_RADIUS_M && Math.abs(lat) < 80) {
      r.kind = 0;
      r.x = mercX(wrapLng(lng));
      r.y = mercY(lat);
      // Mercator's scale at lat is 1/cos(lat); a world is 2πR wide at the equator.
      r.r = rm / (2 * Math.PI * 6371008.8 * Math.cos((lat * Math.PI) / 180));
      r.minX = r.x - r.r; r.maxX = r.x + r.r; r.minY = r.y - r.r; r.maxY = r.y + r.r;
      r.areaN = Math.PI * r.r * r.r;
      return r;
    }
    return ringRecord(r, circleRing(lat, wrapLng(lng), rm, 96));
  }
  if (spec.polygon) return ringRecord(r, spec.polygon);
  return null;
}

/** A record for a ring of [lat, lng] (e.g. an S2 cell's corners). */
export function ringRecord(r, ring) {
  const u = unwrapRing(ring);
  // Keep the ring's first longitude within [-180, 180).
  const shift = wrapLng(u[0][1]) - u[0][1];
  const flat = new Float64Array(u.length * 2);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < u.length; i++) {
    const x = mercX(u[i][1] + shift), y = mercY(u[i][0]);
    flat[2 * i] = x; flat[2 * i + 1] = y;
    if (x < minX) minX = x; if (x > maxX) maxX = x;
    if (y < minY) minY = y; if (y > maxY) maxY = y;
  }
  r.kind = 1;
  r.ring = flat;
  r.minX = minX; r.maxX = maxX; r.minY = minY; r.maxY = maxY;
  r.areaN = (maxX - minX) * (maxY - minY);
  return r;
}

export class MapView {
  constructor(canvas, handlers = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.h = handlers; // onHover(hits, x, y), onSelect(hit|null), onView(), onDraft(draft), onDrawDone(shape)
    this.cx = mercX(33); this.cy = mercY(35); this.zoom = 6;
    this.w = 300; this.hgt = 150; this.dpr = 1;
    this.basemap = []; // {ring: Float64Array, minX, maxX, minY, maxY}
    this.layers = Array.from({ length: LAYER_COUNT }, () => []);
    this.time = null; // ms, or null for all times
    this.hideOutside = false;
    this.selected = null; // intent id
    this.mode = 'pan'; // pan | circle | polygon
    this.draft = null;
    this.lastFrameMs = 0;
    this.volumesDrawn = 0;
    this.cellsDrawn = 0;
    this._raf = 0;
    this._version = 0; // bumped when what the volume layer shows changes
    this._interacting = false;
    this._attach();
    this.resize();
  }

  // ---- view ----
  get scale() { return 256 * 2 ** this.zoom; }

  resize() {
    const rect = this.canvas.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.w = Math.max(1, rect.width);
    this.hgt = Math.max(1, rect.height);
    this.canvas.width = Math.round(this.w * this.dpr);
    this.canvas.height = Math.round(this.hgt * this.dpr);
    this.clampView();
    this.redraw(true);
  }

  clampView() {
    this.zoom = clamp(this.zoom, MIN_ZOOM, MAX_ZOOM);
    this.cx = ((this.cx % 1) + 1) % 1;
    const half = this.hgt / 2 / this.scale;
    this.cy = half >= 0.5 ? 0.5 : clamp(this.cy, half, 1 - half);
  }

  setView(lat, lng, zoom) {
    this.cx = mercX(wrapLng(lng));
    this.cy = mercY(lat);
    if (zoom !== undefined) this.zoom = zoom;
    this.clampView();
    this._viewChanged();
  }

  getView() {
    return { lat: unmercY(this.cy), lng: unmercX(this.cx), zoom: this.zoom };
  }

  /** Fits a [south, west, north, east] box (west may exceed east across the antimeridian). */
  fitBounds(s, w, n, e, padPx = 40) {
    if (e < w) e += 360;
    const x0 = mercX(w), x1 = mercX(e), y0 = mercY(n), y1 = mercY(s);
    const zx = Math.log2(Math.max(1, this.w - 2 * padPx) / 256 / Math.max(1e-9, x1 - x0));
    const zy = Math.log2(Math.max(1, this.hgt - 2 * padPx) / 256 / Math.max(1e-9, y1 - y0));
    this.zoom = clamp(Math.min(zx, zy), MIN_ZOOM, 13);
    this.cx = (x0 + x1) / 2;
    this.cy = (y0 + y1) / 2;
    this.clampView();
    this._viewChanged();
  }

  /** The visible box: {south, north, west, east} (east - west <= 360 unless the world is visible). */
  bounds() {
    const S = this.scale;
    const x0 = this.cx - this.w / 2 / S, x1 = this.cx + this.w / 2 / S;
    const y0 = this.cy - this.hgt / 2 / S, y1 = this.cy + this.hgt / 2 / S;
    return { west: unmercX(x0), east: unmercX(x1), north: unmercY(Math.max(0, y0)), south: unmercY(Math.min(1, y1)) };
  }

  zoomBy(dz, sx = this.w / 2, sy = this.hgt / 2) {
    const S0 = this.scale;
    const wx = this.cx + (sx - this.w / 2) / S0, wy = this.cy + (sy - this.hgt / 2) / S0;
    this.zoom = clamp(this.zoom + dz, MIN_ZOOM, MAX_ZOOM);
    const S1 = this.scale;
    this.cx = wx - (sx - this.w / 2) / S1;
    this.cy = wy - (sy - this.hgt / 2) / S1;
    this.clampView();
    this._viewChanged();
  }

  panBy(dx, dy) {
    this.cx -= dx / this.scale;
    this.cy -= dy / this.scale;
    this.clampView();
    this._viewChanged();
  }

  _viewChanged() {
    this.redraw();
    this.h.onView?.();
  }

  /** Canvas-relative CSS pixels of a point, on the world copy nearest the centre. */
  project(lat, lng) {
    let x = mercX(wrapLng(lng));
    x += Math.round(this.cx - x);
    const S = this.scale;
    return { x: (x - this.cx) * S + this.w / 2, y: (mercY(lat) - this.cy) * S + this.hgt / 2 };
  }

  /** lat, lng of canvas-relative CSS pixels. */
  unproject(sx, sy) {
    const S = this.scale;
    const x = this.cx + (sx - this.w / 2) / S, y = this.cy + (sy - this.hgt / 2) / S;
    return { lat: unmercY(clamp(y, 0, 1)), lng: wrapLng(unmercX(x)) };
  }

  // ---- data ----
  setBasemap(geojson) {
    const rings = [];
    for (const f of geojson.features || []) {
      const g = f.geometry;
      if (!g) continue;
      const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
      let first = true;
      for (const poly of polys) {
        for (const ring of poly) {
          const flat = new Float64Array(ring.length * 2);
          let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
          ring.forEach(([lng, lat], i) => {
            const x = mercX(lng), y = mercY(clamp(lat, -MAX_LAT, MAX_LAT));
            flat[2 * i] = x; flat[2 * i + 1] = y;
            if (x < minX) minX = x; if (x > maxX) maxX = x;
            if (y < minY) minY = y; if (y > maxY) maxY = y;
          });
          rings.push({ ring: flat, minX, maxX, minY, maxY, first });
          first = false;
        }
      }
    }
    this.basemap = rings;
    this.redraw();
  }

  /** Replaces a layer's records (see volumeRecord, ringRecord). */
  setLayer(layer, records) {
    this.layers[layer] = records.filter(Boolean);
    this._version++;
    this.redraw();
  }

  layerSize(layer) { return this.layers[layer].length; }

  setTime(ms, hideOutside = this.hideOutside) {
    this.time = ms;
    this.hideOutside = hideOutside;
    this._version++;
    this.redraw();
  }

  setSelected(id) {
    this.selected = id;
    this.redraw();
  }

  // ---- drawing tools ----
  setMode(mode) {
    this.mode = mode;
    this.draft = null;
    this.canvas.style.cursor = mode === 'pan' ? 'grab' : 'crosshair';
    this.h.onDraft?.(null);
    this.redraw();
  }

  /** Shows a shape (as drawn: {type, center, radiusM} or {type, pts}) without editing it. */
  setDraft(d) {
    this.draft = d;
    this.redraw();
  }

  // ---- rendering ----
  redraw(now = false) {
    if (now) {
      cancelAnimationFrame(this._raf);
      this._raf = 0;
      this.render();
      return;
    }
    if (this._raf) return;
    this._raf = requestAnimationFrame(() => {
      this._raf = 0;
      this.render();
    });
  }

  render() {
    const t0 = performance.now();
    const ctx = this.ctx, S = this.scale, W = this.w, H = this.hgt;
    const cx = this.cx, cy = this.cy, hw = W / 2, hh = H / 2;
    const vx0 = cx - hw / S, vx1 = cx + hw / S, vy0 = cy - hh / S, vy1 = cy + hh / S;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    ctx.fillStyle = '#dbeafe';
    ctx.fillRect(0, 0, W, H);
    // World edges (beyond the Mercator square).
    const top = (0 - cy) * S + hh, bottom = (1 - cy) * S + hh;
    ctx.fillStyle = '#e5e7eb';
    if (top > 0) ctx.fillRect(0, 0, W, top);
    if (bottom < H) ctx.fillRect(0, bottom, W, H - bottom);

    // Basemap.
    // Each country's rings in one path (holes by even-odd), paths in chunks.
    const lands = [];
    let land = null, nv = 0;
    for (const b of this.basemap) {
      if (b.maxY < vy0 || b.minY > vy1) continue;
      const k0 = Math.ceil(vx0 - b.maxX), k1 = Math.floor(vx1 - b.minX);
      if (k0 > k1) continue;
      if (!land || (b.first && nv > CHUNK_VERTICES)) {
        lands.push((land = new Path2D()));
        nv = 0;
      }
      for (let k = k0; k <= k1; k++) addRing(land, b.ring, k - cx, cy, S, hw, hh);
      nv += (b.ring.length / 2) * (k1 - k0 + 1);
    }
    ctx.fillStyle = '#f8fafc';
    for (const p of lands) ctx.fill(p, 'evenodd');
    ctx.strokeStyle = '#94a3b8';
    ctx.lineWidth = 0.8;
    for (const p of lands) ctx.stroke(p);
    this._graticule(vx0, vx1, vy0, vy1);

    // Volumes: drawn into a layer canvas, which is then composited. While
    // the user pans or zooms and a full frame is slow (many volumes), the
    // last layer is reused, moved and scaled, and redrawn once they stop.
    const c = this._cache;
    const fast = this._interacting && c && c.version === this._version && c.w === this.canvas.width && c.h === this.canvas.height && c.ms > FAST_AFTER_MS;
    let drawn = this.volumesDrawn, cells = this.cellsDrawn;
    if (fast) {
      const k = S / c.S;
      let dx = c.cx - cx;
      dx -= Math.round(dx);
      ctx.save();
      ctx.setTransform(this.dpr * k, 0, 0, this.dpr * k, this.dpr * (hw - hw * k + dx * S), this.dpr * (hh - hh * k + (c.cy - cy) * S));
      ctx.drawImage(this._vol, 0, 0, this._vol.width / this.dpr, this._vol.height / this.dpr);
      ctx.restore();
      clearTimeout(this._settle);
      this._settle = setTimeout(() => {
        this._interacting = false;
        this.redraw();
      }, 180);
    } else {
      const tv = performance.now();
      [drawn, cells] = this._drawVolumes(vx0, vx1, vy0, vy1);
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this._vol, 0, 0);
      ctx.restore();
      this._cache = { version: this._version, S, cx, cy, w: this.canvas.width, h: this.canvas.height, ms: performance.now() - tv };
    }
    // The selected intent, outlined.
    if (this.selected) {
      // Volumes thick, overlap cells thin.
      const p = [new Path2D(), new Path2D()];
      const any = [false, false];
      for (let l = 0; l < LAYER_COUNT; l++) {
        const j = l >= LAYER.cells ? 1 : 0;
        for (const r of this.layers[l]) {
          if (r.intent !== this.selected || r.maxY < vy0 || r.minY > vy1) continue;
          const k0 = Math.ceil(vx0 - r.maxX), k1 = Math.floor(vx1 - r.minX);
          for (let k = k0; k <= k1; k++) addRecord(p[j], r, k - cx, cy, S, hw, hh);
          any[j] = true;
        }
      }
      ctx.strokeStyle = '#0f172a';
      for (const j of [0, 1]) {
        if (!any[j]) continue;
        ctx.lineWidth = j ? 1.25 : 3;
        ctx.stroke(p[j]);
      }
    }
    this._drawDraft();
    this.volumesDrawn = drawn;
    this.cellsDrawn = cells;
    this.lastFrameMs = performance.now() - t0;
    this.h.onFrame?.(this.lastFrameMs);
  }

  /** Draws the volume and cell layers into this._vol; returns [volumes, cells] drawn. */
  _drawVolumes(vx0, vx1, vy0, vy1) {
    if (!this._vol) {
      this._vol = document.createElement('canvas');
      this._volCtx = this._vol.getContext('2d');
    }
    const vol = this._vol, ctx = this._volCtx;
    if (vol.width !== this.canvas.width || vol.height !== this.canvas.height) {
      vol.width = this.canvas.width;
      vol.height = this.canvas.height;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, vol.width, vol.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const S = this.scale, cx = this.cx, cy = this.cy, hw = this.w / 2, hh = this.hgt / 2;
    const lists = new Map(); // style -> [record, k0, k1, ...]
    const t = this.time;
    let drawn = 0, cells = 0;
    for (let l = 0; l < LAYER_COUNT; l++) {
      const recs = this.layers[l];
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i];
        if (r.maxY < vy0 || r.minY > vy1) continue;
        const k0 = Math.ceil(vx0 - r.maxX), k1 = Math.floor(vx1 - r.minX);
        if (k0 > k1) continue;
        const faded = t !== null && (t < r.start || t >= r.end);
        if (faded && this.hideOutside) continue;
        const st = styleOf(l, r.conflict, faded);
        let list = lists.get(st);
        if (!list) lists.set(st, (list = []));
        list.push(r, k0, k1);
        if (l >= LAYER.cells) cells++;
        else drawn++;
      }
    }
    const keys = [...lists.keys()].sort((a, b) => a - b);
    for (let g = 0; g < 2; g++) {
      const groupKeys = keys.filter((st) => (st >= LAYER.cells * 4) === (g === 1));
      if (!groupKeys.length) continue;
      // Many shapes: fill at half resolution (fills are pixel-bound with
      // overdraw; a soft tint under crisp strokes looks the same).
      const fscale = g === 0 && drawn > 2000 ? 0.5 : 1;
      const fctx = this._offscreen(fscale);
      const chunksOf = new Map();
      for (const st of groupKeys) {
        const chunks = buildChunks(lists.get(st), cx, cy, S, hw, hh);
        chunksOf.set(st, chunks);
        fctx.fillStyle = STYLES[st].fill;
        for (const p of chunks) fctx.fill(p);
      }
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalAlpha = FILL_ALPHA[g];
      ctx.drawImage(this._off, 0, 0, this._off.width, this._off.height, 0, 0, vol.width, vol.height);
      ctx.restore();
      for (const st of groupKeys) {
        const s = STYLES[st];
        ctx.globalAlpha = s.alpha;
        ctx.strokeStyle = s.stroke;
        ctx.lineWidth = s.width;
        ctx.setLineDash(s.dash || []);
        for (const p of chunksOf.get(st)) ctx.stroke(p);
      }
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    return [drawn, cells];
  }

  /** The offscreen canvas for fills, cleared, with the map's transform. */
  _offscreen(scale = 1) {
    if (!this._off) {
      this._off = document.createElement('canvas');
      this._offCtx = this._off.getContext('2d');
    }
    const o = this._off, c = this._offCtx;
    const w = Math.max(1, Math.round(this.canvas.width * scale)), h = Math.max(1, Math.round(this.canvas.height * scale));
    if (o.width !== w || o.height !== h) {
      o.width = w;
      o.height = h;
    }
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, o.width, o.height);
    c.setTransform(this.dpr * scale, 0, 0, this.dpr * scale, 0, 0);
    return c;
  }

  _graticule(vx0, vx1, vy0, vy1) {
    const ctx = this.ctx, S = this.scale, hw = this.w / 2, hh = this.hgt / 2;
    const span = (vx1 - vx0) * 360;
    const step = span > 180 ? 30 : span > 60 ? 10 : span > 20 ? 5 : span > 6 ? 1 : span > 2 ? 0.5 : 0.1;
    ctx.beginPath();
    const lng0 = Math.floor(unmercX(vx0) / step) * step, lng1 = unmercX(vx1);
    const yTop = Math.max(0, (0 - this.cy) * S + hh), yBot = Math.min(this.hgt, (1 - this.cy) * S + hh);
    for (let lng = lng0; lng <= lng1; lng += step) {
      const x = (mercX(lng) - this.cx) * S + hw;
      ctx.moveTo(x, yTop); ctx.lineTo(x, yBot);
    }
    const latN = Math.min(85, unmercY(Math.max(0, vy0))), latS = Math.max(-85, unmercY(Math.min(1, vy1)));
    for (let lat = Math.floor(latS / step) * step; lat <= latN; lat += step) {
      const y = (mercY(lat) - this.cy) * S + hh;
      ctx.moveTo(0, y); ctx.lineTo(this.w, y);
    }
    ctx.strokeStyle = 'rgba(100,116,139,0.18)';
    ctx.lineWidth = 1;
    ctx.stroke();
    // Antimeridian, marked.
    ctx.beginPath();
    for (let k = Math.ceil(vx0); k <= Math.floor(vx1); k++) {
      const x = (k - this.cx) * S + hw;
      ctx.moveTo(x, yTop); ctx.lineTo(x, yBot);
    }
    ctx.strokeStyle = 'rgba(100,116,139,0.45)';
    ctx.setLineDash([6, 4]);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  _drawDraft() {
    const d = this.draft;
    if (!d) return;
    const ctx = this.ctx;
    ctx.save();
    ctx.strokeStyle = '#15803d';
    ctx.fillStyle = 'rgba(34,197,94,0.2)';
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    if (d.type === 'circle' && d.center) {
      const c = this.project(d.center[0], d.center[1]);
      if (d.radiusM > 0) {
        const ring = circleRing(d.center[0], d.center[1], d.radiusM, 96);
        ctx.beginPath();
        ring.forEach(([lat, lng], i) => {
          const p = this._projectNear(lat, lng, c.x);
          i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y);
        });
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = '12px system-ui, sans-serif';
        ctx.fillStyle = '#14532d';
        ctx.fillText(`r = ${(d.radiusM / 1000).toFixed(2)} km`, c.x + 8, c.y - 8);
      }
      ctx.setLineDash([]);
      ctx.fillStyle = '#15803d';
      ctx.beginPath();
      ctx.arc(c.x, c.y, 4, 0, TAU);
      ctx.fill();
    } else if (d.type === 'polygon' && d.pts?.length) {
      const first = this.project(d.pts[0][0], d.pts[0][1]);
      const pts = d.pts.map(([lat, lng]) => this._projectNear(lat, lng, first.x));
      if (d.cursor && !d.closed) pts.push(this._projectNear(d.cursor[0], d.cursor[1], first.x));
      ctx.beginPath();
      pts.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
      if (d.closed) {
        ctx.closePath();
        ctx.fill();
      }
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#15803d';
      for (const p of pts.slice(0, d.pts.length)) {
        ctx.beginPath();
        ctx.arc(p.x, p.y, 4, 0, TAU);
        ctx.fill();
      }
      if (!d.closed && d.pts.length >= 3) {
        ctx.strokeStyle = '#14532d';
        ctx.beginPath();
        ctx.arc(first.x, first.y, 8, 0, TAU);
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  /** Screen point of (lat, lng) on the world copy whose x is nearest nearX. */
  _projectNear(lat, lng, nearX) {
    const S = this.scale;
    let x = (mercX(wrapLng(lng)) - this.cx) * S + this.w / 2;
    x += Math.round((nearX - x) / S) * S;
    return { x, y: (mercY(lat) - this.cy) * S + this.hgt / 2 };
  }

  // ---- hit testing ----
  /** The records under canvas point (sx, sy), smallest first (cells first). */
  hitTest(sx, sy, max = 5) {
    const S = this.scale;
    const px = this.cx + (sx - this.w / 2) / S, py = this.cy + (sy - this.hgt / 2) / S;
    const ll = this.unproject(sx, sy);
    const tol = 3 / S;
    const hits = [];
    const t = this.time;
    for (let l = LAYER_COUNT - 1; l >= 0; l--) {
      for (const r of this.layers[l]) {
        if (r.maxY + tol < py || r.minY - tol > py) continue;
        const k0 = Math.ceil(px - r.maxX - tol), k1 = Math.floor(px - r.minX + tol);
        if (k0 > k1) continue;
        if (this.hideOutside && t !== null && (t < r.start || t >= r.end)) continue;
        let hit = false;
        if (r.kind === 0) {
          const c = r.spec.circle;
          hit = haversine(ll.lat, ll.lng, c.lat, c.lng) <= c.radius_m + (3 / S) * 40075016 * Math.cos((ll.lat * Math.PI) / 180);
        } else {
          for (let k = k0; k <= k1 && !hit; k++) hit = pointInFlatRing(px - k, py, r.ring);
        }
        if (hit) hits.push(r);
      }
    }
    hits.sort((a, b) => (b.layer >= LAYER.cells) - (a.layer >= LAYER.cells) || a.areaN - b.areaN);
    return hits.slice(0, max);
  }

  // ---- input ----
  _attach() {
    const c = this.canvas;
    c.style.touchAction = 'none';
    c.style.cursor = 'grab';
    let down = null; // {x, y, moved, button, pan}
    const local = (e) => {
      const r = c.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    c.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 && e.button !== 1) return;
      c.setPointerCapture?.(e.pointerId);
      const p = local(e);
      down = { ...p, last: p, moved: false, radiusDrag: false };
      if (this.mode === 'circle' && e.button === 0 && (!this.draft?.center || this.draft.done)) {
        const ll = this.unproject(p.x, p.y);
        this.draft = { type: 'circle', center: [ll.lat, ll.lng], radiusM: 0 };
        down.radiusDrag = true;
        this.redraw();
      }
    });
    c.addEventListener('pointermove', (e) => {
      const p = local(e);
      if (down) {
        const dist = Math.hypot(p.x - down.x, p.y - down.y);
        if (dist > 4) down.moved = true;
        if (down.radiusDrag) {
          if (down.moved) this._setRadiusTo(p);
        } else if (down.moved) {
          this._interacting = true;
          this.panBy(p.x - down.last.x, p.y - down.last.y);
          c.style.cursor = 'grabbing';
        }
        down.last = p;
        return;
      }
      if (this.mode === 'circle' && this.draft?.center && !this.draft.done) {
        this._setRadiusTo(p);
      } else if (this.mode === 'polygon' && this.draft?.pts && !this.draft.closed) {
        const ll = this.unproject(p.x, p.y);
        this.draft.cursor = [ll.lat, ll.lng];
        this.redraw();
      }
      this._hover(p);
    });
    c.addEventListener('pointerup', (e) => {
      if (!down) return;
      const p = local(e);
      const d = down;
      down = null;
      c.style.cursor = this.mode === 'pan' ? 'grab' : 'crosshair';
      if (this.mode === 'circle') {
        if (d.radiusDrag) {
          if (d.moved) {
            this._setRadiusTo(p);
            this._finishCircle();
          } // else: the centre is set; the next click sets the radius
        } else if (!d.moved && this.draft?.center && !this.draft.done) {
          this._setRadiusTo(p);
          this._finishCircle();
        }
        return;
      }
      if (d.moved) {
        if (this._interacting) {
          this._interacting = false;
          this.redraw();
        }
        return;
      }
      if (this.mode === 'polygon') {
        this._polygonClick(p);
        return;
      }
      const hits = this.hitTest(p.x, p.y, 10);
      this.h.onSelect?.(hits, p);
    });
    c.addEventListener('pointercancel', () => { down = null; });
    c.addEventListener('pointerleave', () => this.h.onHover?.([], null));
    c.addEventListener('dblclick', (e) => {
      e.preventDefault();
      if (this.mode === 'polygon') this._closePolygon();
      else if (this.mode === 'pan') {
        const p = local(e);
        this.zoomBy(1, p.x, p.y);
      }
    });
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const p = local(e);
      const dy = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
      this._interacting = true;
      this.zoomBy(clamp(-dy / 300, -1, 1), p.x, p.y);
    }, { passive: false });
    window.addEventListener('resize', () => this.resize());
  }

  _hover(p) {
    if (!this.h.onHover) return;
    if (this._hoverRaf) {
      this._hoverAt = p;
      return;
    }
    this._hoverAt = p;
    this._hoverRaf = requestAnimationFrame(() => {
      this._hoverRaf = 0;
      const q = this._hoverAt;
      this.h.onHover(this.hitTest(q.x, q.y), q, this.unproject(q.x, q.y));
    });
  }

  _setRadiusTo(p) {
    const ll = this.unproject(p.x, p.y);
    this.draft.radiusM = Math.round(haversine(this.draft.center[0], this.draft.center[1], ll.lat, ll.lng));
    this.redraw();
  }

  _finishCircle() {
    const d = this.draft;
    if (!d || !(d.radiusM >= 1)) return;
    d.radiusM = Math.min(500_000, d.radiusM);
    d.done = true;
    this.h.onDrawDone?.({ type: 'circle', center: [round6(d.center[0]), round6(d.center[1])], radiusM: d.radiusM });
  }

  _polygonClick(p) {
    const ll = this.unproject(p.x, p.y);
    const d = this.draft && !this.draft.closed ? this.draft : (this.draft = { type: 'polygon', pts: [] });
    if (d.pts.length >= 3) {
      const f = this.project(d.pts[0][0], d.pts[0][1]);
      if (Math.hypot(f.x - p.x, f.y - p.y) <= 8) {
        this._closePolygon();
        return;
      }
    }
    if (d.pts.length) {
      const l = d.pts[d.pts.length - 1];
      const q = this._projectNear(l[0], l[1], p.x);
      if (Math.hypot(q.x - p.x, q.y - p.y) < 3) return; // a double click's second click
    }
    d.pts.push([ll.lat, ll.lng]);
    this.redraw();
    this.h.onDraft?.(d);
  }

  _closePolygon() {
    const d = this.draft;
    if (!d || d.type !== 'polygon' || d.closed) return;
    if (d.pts.length < 3) return;
    d.closed = true;
    d.cursor = null;
    this.redraw();
    this.h.onDrawDone?.({ type: 'polygon', pts: d.pts.map(([a, b]) => [round6(a), round6(b)]) });
  }

  /** Cancels the shape being drawn (Escape); removes the last vertex (Backspace). */
  key(e) {
    if (this.mode === 'pan' || !this.draft || this.draft.done || this.draft.closed) return false;
    if (e.key === 'Escape') {
      this.draft = null;
      this.redraw();
      this.h.onDraft?.(null);
      return true;
    }
    if (e.key === 'Backspace' && this.draft.pts?.length) {
      this.draft.pts.pop();
      this.redraw();
      return true;
    }
    if (e.key === 'Enter' && this.draft.pts) {
      this._closePolygon();
      return true;
    }
    return false;
  }
}

const round6 = (x) => Math.round(x * 1e6) / 1e6;

function addRing(p, ring, ox, cy, S, hw, hh) {
  const n = ring.length;
  p.moveTo((ring[0] + ox) * S + hw, (ring[1] - cy) * S + hh);
  for (let i = 2; i < n; i += 2) p.lineTo((ring[i] + ox) * S + hw, (ring[i + 1] - cy) * S + hh);
  p.closePath();
}

/** Paths (chunked) of a style's list [record, k0, k1, ...]. */
function buildChunks(list, cx, cy, S, hw, hh) {
  const out = [];
  let p = null, shapes = 0, verts = 0;
  for (let i = 0; i < list.length; i += 3) {
    const r = list[i];
    if (!p || shapes >= CHUNK_SHAPES || verts >= CHUNK_VERTICES) {
      out.push((p = new Path2D()));
      shapes = 0;
      verts = 0;
    }
    for (let k = list[i + 1]; k <= list[i + 2]; k++) verts += addRecord(p, r, k - cx, cy, S, hw, hh);
    shapes++;
  }
  return out;
}

/** Adds a record to a path; returns about how many vertices it took. */
function addRecord(p, r, ox, cy, S, hw, hh) {
  if (r.kind === 0) {
    const x = (r.x + ox) * S + hw, y = (r.y - cy) * S + hh, rr = r.r * S;
    if (rr < 1.5) {
      p.rect(x - 1.5, y - 1.5, 3, 3);
      return 4;
    }
    p.moveTo(x + rr, y);
    p.arc(x, y, rr, 0, TAU);
    return 8;
  }
  if ((r.maxX - r.minX) * S < 3 && (r.maxY - r.minY) * S < 3) {
    p.rect((r.minX + ox) * S + hw - 1, (r.minY - cy) * S + hh - 1, 3, 3);
    return 4;
  }
  addRing(p, r.ring, ox, cy, S, hw, hh);
  return r.ring.length / 2;
}
