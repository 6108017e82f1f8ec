// mock.mjs: a small stand-in for `deconflict ui` (the local proxy) and the
// service behind it, for developing and testing the page without the Go
// side. One process, one shared in-memory registry, one HTTP listener per
// party (each serving the page and that party's /api), like one proxy per
// party. It implements the contract the page uses, roughly:
//
//   GET  /api/whoami, /api/cells?tokens=, /api/receipts          (proxy-only)
//   GET  /api/v1/intents, POST /api/v1/intents, POST /api/v1/intents/query
//   GET  /api/v1/conflicts, GET|POST /api/v1/conflicts/{id}/messages,
//   POST /api/v1/conflicts/{id}/coordinate
//   GET  /api/v1/alerts, GET /api/v1/alerts/stream (SSE), POST /api/v1/alerts/{id}/ack
//
// Geometry is approximate (volumes as polygons in a local plane, "cells" on
// a 0.02° grid with tokens "m_<i>_<j>"): enough to exercise the page.
//
// Seeded like the Go side's browser test: usa's "transit" (34.9, 33.3,
// 10 km, 4000-5000 m, in ~1 h for 1 h) with an operational grant to france
// and none to russia; france's own intent (35.6, 33.0, 20 km, 3000-6000 m,
// same window). When the file ${SCREENSHOT_DIR}/trigger-alert appears, usa
// files an intent conflicting with france's (presenting the key), which
// alerts france.
//
// Usage: node test/mock.mjs [--dir dist|src] [--port-a N] [--port-b N]
//   prints UI_URL_A=... and UI_URL_B=... and serves until killed.

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { circleRing, unwrapRing, pointInFlatRing, destination } from '../src/geo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOUR = 3600e3;
const CELL = 0.02;

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };

// ---------------------------------------------------------------- geometry
function toPlane(spec, lat0, lng0) {
  const ring = spec.circle ? circleRing(spec.circle.lat, spec.circle.lng, spec.circle.radius_m, 48) : unwrapRing(spec.polygon);
  const k = Math.cos((lat0 * Math.PI) / 180);
  const flat = [];
  for (const [lat, lng] of ring) {
    let l = lng;
    while (l - lng0 > 180) l -= 360;
    while (l - lng0 < -180) l += 360;
    flat.push((l - lng0) * k, lat - lat0);
  }
  return flat;
}
function segX(ax, ay, bx, by, cx, cy, dx, dy) {
  const o = (px, py, qx, qy, rx, ry) => Math.sign((qx - px) * (ry - py) - (qy - py) * (rx - px));
  return o(ax, ay, bx, by, cx, cy) !== o(ax, ay, bx, by, dx, dy) && o(cx, cy, dx, dy, ax, ay) !== o(cx, cy, dx, dy, bx, by);
}
function ref(spec) {
  if (spec.circle) return [spec.circle.lat, spec.circle.lng];
  return spec.polygon[0];
}
function horizontal(a, b) {
  const [lat0, lng0] = ref(a);
  const A = toPlane(a, lat0, lng0), B = toPlane(b, lat0, lng0);
  if (pointInFlatRing(A[0], A[1], B) || pointInFlatRing(B[0], B[1], A)) return true;
  for (let i = 0; i < A.length; i += 2) {
    const j = (i + 2) % A.length;
    for (let m = 0; m < B.length; m += 2) {
      const n = (m + 2) % B.length;
      if (segX(A[i], A[i + 1], A[j], A[j + 1], B[m], B[m + 1], B[n], B[n + 1])) return true;
    }
  }
  return false;
}
const tOverlap = (a, b) => Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end);
const aOverlap = (a, b) => a.alt_lo_m < b.alt_hi_m && b.alt_lo_m < a.alt_hi_m;
const volConflict = (a, b) => tOverlap(a, b) && aOverlap(a, b) && horizontal(a, b);

function containsLL(spec, lat, lng) {
  const [lat0, lng0] = ref(spec);
  const P = toPlane(spec, lat0, lng0);
  let l = lng;
  while (l - lng0 > 180) l -= 360;
  while (l - lng0 < -180) l += 360;
  return pointInFlatRing((l - lng0) * Math.cos((lat0 * Math.PI) / 180), lat - lat0, P);
}
function bbox(spec) {
  const ring = spec.circle ? circleRing(spec.circle.lat, spec.circle.lng, spec.circle.radius_m, 48) : unwrapRing(spec.polygon);
  let s = 90, n = -90, w = Infinity, e = -Infinity;
  for (const [lat, lng] of ring) { s = Math.min(s, lat); n = Math.max(n, lat); w = Math.min(w, lng); e = Math.max(e, lng); }
  return { s, n, w, e };
}
function overlapCells(a, b) {
  const A = bbox(a), B = bbox(b);
  const s = Math.max(A.s, B.s), n = Math.min(A.n, B.n), w = Math.max(A.w, B.w), e = Math.min(A.e, B.e);
  const cells = [];
  for (let i = Math.floor(s / CELL); i <= Math.floor(n / CELL) && cells.length < 256; i++) {
    for (let j = Math.floor(w / CELL); j <= Math.floor(e / CELL) && cells.length < 256; j++) {
      const lat = (i + 0.5) * CELL, lng = (j + 0.5) * CELL;
      if (containsLL(a, lat, lng) && containsLL(b, lat, lng)) cells.push(`m_${i}_${j}`);
    }
  }
  if (!cells.length) cells.push(`m_${Math.floor(((s + n) / 2) / CELL)}_${Math.floor(((w + e) / 2) / CELL)}`);
  const lo = Math.max(a.alt_lo_m, b.alt_lo_m), hi = Math.min(a.alt_hi_m, b.alt_hi_m);
  const st = Math.max(Date.parse(a.start), Date.parse(b.start)), en = Math.min(Date.parse(a.end), Date.parse(b.end));
  return { cells, cell_level: 13, alt_lo_m: Math.min(lo, hi), alt_hi_m: Math.max(lo, hi), start: new Date(Math.min(st, en)).toISOString(), end: new Date(Math.max(st, en)).toISOString() };
}
function cellCorners(token) {
  const m = /^m_(-?\d+)_(-?\d+)$/.exec(token);
  if (!m) return null;
  const i = +m[1], j = +m[2];
  const r = (x) => Math.round(x * 1e6) / 1e6;
  return [[r(i * CELL), r(j * CELL)], [r(i * CELL), r((j + 1) * CELL)], [r((i + 1) * CELL), r((j + 1) * CELL)], [r((i + 1) * CELL), r(j * CELL)]];
}
function validVolume(v) {
  if (!v || typeof v !== 'object') return 'volume missing';
  if (!!v.circle === !!v.polygon) return 'give exactly one of circle, polygon';
  if (!(v.alt_lo_m < v.alt_hi_m)) return 'alt_hi_m must be above alt_lo_m';
  if (v.alt_lo_m < -8000 || v.alt_hi_m > 100000) return 'altitude out of range';
  const s = Date.parse(v.start), e = Date.parse(v.end);
  if (!(s < e)) return 'end must be after start';
  if (e - s > 7 * 24 * HOUR) return 'window longer than 7 days';
  if (v.polygon && (v.polygon.length < 3 || v.polygon.length > 1000)) return 'polygon must have 3 to 1000 vertices';
  if (v.circle && !(v.circle.radius_m >= 1 && v.circle.radius_m <= 500000)) return 'radius out of range';
  return null;
}

// ---------------------------------------------------------------- registry
export function createRegistry() {
  const R = {
    entry: 0,
    intents: new Map(),
    grants: new Map(), // "from>to" -> level
    alerts: [], // AlertView-ish, with to
    acks: new Map(), // alert id -> {time, entry}
    hotlines: new Map(), // conflict id -> {messages, coordinated}
    receipts: new Map(), // party -> [receipt]
    subs: new Map(), // party -> Set(fn)
  };
  const now = () => new Date().toISOString();
  R.grant = (from, to) => (from === to ? 'own' : R.grants.get(`${from}>${to}`) || 'deconfliction');
  const atLeastOp = (l) => l === 'operational' || l === 'full';
  R.receipt = (party, kind) => {
    const index = ++R.entry;
    const time = now();
    const leaf = `deconflict leaf v1\nindex ${index}\ntime ${time}\nkind ${kind}\nparty ${party}\ncommit ${crypto.randomBytes(32).toString('base64')}\n`;
    const rc = { index, leaf, leaf_hash: crypto.createHash('sha256').update(leaf).digest('base64'), checkpoint: `mock-deconflict\n${index}\n${crypto.randomBytes(32).toString('base64')}\n\n— mock-deconflict sig\n`, proof: [] };
    if (!R.receipts.has(party)) R.receipts.set(party, []);
    R.receipts.get(party).push({ ...rc, verified: true });
    return { index, time, receipt: rc };
  };
  const ownView = (it) => ({ id: it.id, owner: it.owner, ovn: it.ovn, level: 'own', state: it.state, priority: it.priority, volumes: it.volumes, created: it.created, updated: it.updated, preempted_by: it.preempted_by?.length ? it.preempted_by : undefined });
  R.beyond = (it, viewer) => {
    if (it.owner === viewer) return ownView(it);
    const lvl = R.grant(it.owner, viewer);
    const v = { id: it.id, owner: it.owner, ovn: it.ovn, level: lvl };
    if (atLeastOp(lvl)) Object.assign(v, { state: it.state, priority: it.priority, volumes: it.volumes });
    return v;
  };
  R.conflictView = (it, viewer, mine) => {
    const v = R.beyond(it, viewer);
    if (it.owner === viewer) return v;
    const overlaps = [];
    for (const a of mine) for (const b of it.volumes) if (volConflict(a, b)) overlaps.push(overlapCells(a, b));
    if (overlaps.length) v.overlaps = overlaps;
    return v;
  };
  R.conflictsWith = (owner, id, volumes) => {
    const out = [];
    for (const it of R.intents.values()) {
      if (it.owner === owner || it.id === id || it.state === 'ended') continue;
      const pairs = [];
      volumes.forEach((a, i) => it.volumes.forEach((b, j) => volConflict(a, b) && pairs.push({ mine: i, theirs: j })));
      if (pairs.length) out.push({ it, pairs });
    }
    return out.sort((a, b) => (a.it.id < b.it.id ? -1 : 1));
  };
  R.alert = (entry, time, n, a) => {
    const al = { id: `${entry}-${n}`, entry, time, pairs: [], ...a };
    R.alerts.push(al);
    for (const fn of R.subs.get(a.to) || []) fn(al);
  };
  R.alertView = (a, viewer) => {
    const ack = R.acks.get(a.id);
    const v = { ...a, age_s: Math.round((Date.now() - Date.parse(a.time)) / 1000), severity: 'normal' };
    if (a.by_party && !atLeastOp(R.grant(a.by_party, a.to))) v.pairs = null;
    if (ack) Object.assign(v, { acked: ack.time, ack_entry: ack.entry });
    return v;
  };
  R.file = (party, req, id) => {
    const vols = req.volumes;
    if (!Array.isArray(vols) || !vols.length || vols.length > 32) return problem(400, 'validation', 'invalid request', 'an intent needs 1 to 32 volumes');
    for (let i = 0; i < vols.length; i++) {
      const e = validVolume(vols[i]);
      if (e) return problem(400, 'validation', 'invalid request', `volumes[${i}]: ${e}`);
    }
    const state = req.state || 'accepted';
    const priority = req.priority | 0;
    const cs = R.conflictsWith(party, null, vols);
    const key = new Set(req.key || []);
    if (state !== 'contingent' && cs.length) {
      const missing = cs.filter((c) => !key.has(c.it.ovn));
      if (missing.length) return R.refuse(party, 'missing-key', 'missing key: present the current OVN of each conflicting intent', missing, vols);
      const blockers = cs.filter((c) => c.it.priority >= priority);
      if (blockers.length) return R.refuse(party, 'conflict', 'conflict with intents of equal or higher priority', blockers, vols);
    }
    const { index, time, receipt } = R.receipt(party, 'file');
    const it = { id: id || crypto.randomUUID(), owner: party, ovn: crypto.randomBytes(8).toString('hex'), state, priority, volumes: vols.map((v) => ({ ...v, start: new Date(v.start).toISOString(), end: new Date(v.end).toISOString() })), created: time, updated: time, preempted_by: [] };
    R.intents.set(it.id, it);
    cs.forEach((c, i) => {
      const preempt = state !== 'contingent' && c.it.priority < priority;
      if (preempt) c.it.preempted_by.push(it.id);
      R.alert(index, time, i + 1, { to: c.it.owner, kind: state === 'contingent' ? 'contingent' : preempt ? 'preempted' : 'conflict', intent: c.it.id, by: it.id, by_party: party, pairs: c.pairs });
    });
    return { status: 201, body: { intent: ownView(it), conflicts: cs.map((c) => R.conflictView(c.it, party, it.volumes)), entry: index, receipt, receipt_verified: true } };
  };
  R.refuse = (party, type, title, cs, vols) => {
    const { index, time, receipt } = R.receipt(party, 'disclose');
    cs.forEach((c, i) => R.alert(index, time, i + 1, { to: c.it.owner, kind: 'disclosed', intent: c.it.id, by: '', by_party: party }));
    return problem(409, type, title, `${type}: ${cs.map((c) => c.it.id).join(', ')}`, { intents: cs.map((c) => R.conflictView(c.it, party, vols)), disclosure: { entry: index, receipt } });
  };
  R.conflictsOf = (party) => {
    const out = [];
    const mine = [...R.intents.values()].filter((it) => it.owner === party && it.state !== 'ended').sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const it of mine) {
      for (const c of R.conflictsWith(party, it.id, it.volumes)) {
        const id = [it.id, c.it.id].sort().join('~');
        const h = R.hotlines.get(id);
        out.push({ id, mine: it.id, other: R.conflictView(c.it, party, it.volumes), status: h?.coordinated.length === 2 ? 'coordinated' : 'open', messages: h?.messages.length || 0, coordinated: h?.coordinated.length ? h.coordinated : undefined });
      }
    }
    return out;
  };
  return R;
}

function problem(status, type, title, detail, extra = {}) {
  return { status, problem: true, body: { type: `urn:deconflict:problem:${type}`, title, status, detail, ...extra } };
}

export function seed(R, now = Date.now()) {
  const start = new Date(now + HOUR).toISOString(), end = new Date(now + 2 * HOUR).toISOString();
  R.grants.set('usa>france', 'operational');
  R.file('usa', { priority: 10, volumes: [{ circle: { lat: 34.9, lng: 33.3, radius_m: 10000 }, alt_lo_m: 4000, alt_hi_m: 5000, start, end }] });
  R.file('france', { priority: 0, volumes: [{ circle: { lat: 35.6, lng: 33.0, radius_m: 20000 }, alt_lo_m: 3000, alt_hi_m: 6000, start, end }] });
  return { start, end };
}

// usa files an intent conflicting with france's own one, presenting the key.
export function triggerAlert(R) {
  const fr = [...R.intents.values()].find((it) => it.owner === 'france');
  if (!fr) return null;
  const v = fr.volumes[0];
  const c = v.circle || { lat: v.polygon[0][0], lng: v.polygon[0][1] };
  return R.file('usa', { priority: 20, key: [fr.ovn], volumes: [{ circle: { lat: c.lat, lng: c.lng, radius_m: 5000 }, alt_lo_m: v.alt_lo_m, alt_hi_m: v.alt_hi_m, start: v.start, end: v.end }] });
}

// ---------------------------------------------------------------- HTTP
function handler(R, party, dir, opts) {
  return async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, body, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const out = (r) => send(r.status, r.body, r.problem ? 'application/problem+json' : 'application/json');
    const readBody = async () => {
      let s = '';
      for await (const c of req) s += c;
      if (!s) return {};
      try {
        return JSON.parse(s);
      } catch {
        return null;
      }
    };
    try {
      const p = url.pathname;
      if (!p.startsWith('/api/')) {
        let f = path.normalize(decodeURIComponent(p)).replace(/^(\.\.[/\\])+/, '');
        if (f.endsWith('/')) f += 'index.html';
        const file = path.join(dir, f);
        if (!file.startsWith(dir)) return send(403, 'forbidden', 'text/plain');
        try {
          const st = await stat(file);
          if (!st.isFile()) throw new Error('not a file');
          const data = await readFile(file);
          res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
          return res.end(data);
        } catch {
          return send(404, 'not found', 'text/plain');
        }
      }
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const m = req.method;
      let mm;
      if (m === 'GET' && p === '/api/whoami') return send(200, { party, service: 'deconflict-mock', log_origin: 'mock-deconflict' });
      if (m === 'GET' && p === '/api/cells') {
        const cells = {};
        for (const t of (url.searchParams.get('tokens') || '').split(',').filter(Boolean)) {
          const c = cellCorners(t);
          if (c) cells[t] = c;
        }
        return send(200, { cells });
      }
      if (m === 'GET' && p === '/api/receipts') return send(200, { receipts: R.receipts.get(party) || [] });
      if (m === 'GET' && p === '/api/v1/intents') {
        return send(200, { intents: [...R.intents.values()].filter((it) => it.owner === party && it.state !== 'ended').map((it) => R.beyond(it, party)).sort((a, b) => (a.id < b.id ? -1 : 1)) });
      }
      if (m === 'POST' && p === '/api/v1/intents/query') {
        const b = await readBody();
        const v = b?.volume;
        const e = validVolume(v);
        if (e) return out(problem(400, 'validation', 'invalid request', `volume: ${e}`));
        opts.stats.queries++;
        const found = [];
        for (const it of R.intents.values()) {
          if (it.state === 'ended') continue;
          if (!it.volumes.some((w) => volConflict(v, w))) continue;
          const lvl = R.grant(it.owner, party);
          if (lvl === 'own' || lvl === 'operational' || lvl === 'full') found.push(R.beyond(it, party));
        }
        return send(200, { intents: found.sort((a, b) => (a.id < b.id ? -1 : 1)) });
      }
      if (m === 'POST' && p === '/api/v1/intents') {
        const b = await readBody();
        if (!b) return out(problem(400, 'validation', 'invalid request', 'body is not JSON'));
        return out(R.file(party, b));
      }
      if (m === 'GET' && p === '/api/v1/conflicts') return send(200, { conflicts: R.conflictsOf(party) });
      if (m === 'GET' && p === '/api/v1/alerts') return send(200, { alerts: R.alerts.filter((a) => a.to === party).map((a) => R.alertView(a, party)) });
      if (m === 'GET' && p === '/api/v1/alerts/stream') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
        res.flushHeaders();
        const write = (a) => res.write(`id: ${a.id}\nevent: alert\ndata: ${JSON.stringify(R.alertView(a, party))}\n\n`);
        for (const a of R.alerts) if (a.to === party && !R.acks.has(a.id)) write(a);
        if (!R.subs.has(party)) R.subs.set(party, new Set());
        R.subs.get(party).add(write);
        const hb = setInterval(() => res.write(': keep-alive\n\n'), 15000);
        req.on('close', () => {
          clearInterval(hb);
          R.subs.get(party).delete(write);
        });
        return;
      }
      if (m === 'POST' && (mm = /^\/api\/v1\/alerts\/([^/]+)\/ack$/.exec(p))) {
        const id = decodeURIComponent(mm[1]);
        const a = R.alerts.find((x) => x.id === id && x.to === party);
        if (!a) return out(problem(404, 'not-found', 'not found', `alert ${id}`));
        const { index, time, receipt } = R.receipt(party, 'ack');
        if (!R.acks.has(id)) R.acks.set(id, { time, entry: index });
        return send(200, { alert: id, entry: index, receipt });
      }
      if ((mm = /^\/api\/v1\/conflicts\/([^/]+)\/(messages|coordinate)$/.exec(p))) {
        const id = decodeURIComponent(mm[1]);
        const [a, b] = id.split('~');
        const ia = R.intents.get(a), ib = R.intents.get(b);
        if (!ia || !ib || (ia.owner !== party && ib.owner !== party)) return out(problem(404, 'not-found', 'not found', `conflict ${id}`));
        if (!R.hotlines.has(id)) R.hotlines.set(id, { messages: [], coordinated: [] });
        const h = R.hotlines.get(id);
        const other = ia.owner === party ? ib : ia;
        const mineIt = ia.owner === party ? ia : ib;
        if (m === 'GET' && mm[2] === 'messages') {
          const live = R.conflictsWith(party, mineIt.id, mineIt.volumes).some((c) => c.it.id === other.id);
          return send(200, { id, status: !live ? 'resolved' : h.coordinated.length === 2 ? 'coordinated' : 'open', messages: h.messages, coordinated: h.coordinated.length ? h.coordinated : undefined });
        }
        if (m === 'POST' && mm[2] === 'messages') {
          const body = await readBody();
          if (!body?.text) return out(problem(400, 'validation', 'invalid request', 'text missing'));
          const { index, time, receipt } = R.receipt(party, 'message');
          h.messages.push({ entry: index, time, from: party, text: body.text });
          R.alert(index, time, 1, { to: other.owner, kind: 'message', intent: other.id, by: mineIt.id, by_party: party, conflict: id });
          return send(200, { entry: index, receipt });
        }
        if (m === 'POST' && mm[2] === 'coordinate') {
          const { index, time, receipt } = R.receipt(party, 'coordinate');
          if (!h.coordinated.includes(party)) h.coordinated.push(party);
          R.alert(index, time, 1, { to: other.owner, kind: 'coordinated', intent: other.id, by: mineIt.id, by_party: party, conflict: id });
          return send(200, { entry: index, receipt });
        }
      }
      return out(problem(404, 'not-found', 'not found', `${m} ${p}`));
    } catch (e) {
      console.error(e);
      return send(500, { type: 'urn:deconflict:problem:internal', title: 'internal error', status: 500 });
    }
  };
}

/** Starts the mock: one listener per party. Returns {urls: {party: url}, registry, stats, close()}. */
export async function startMock({ parties = ['france', 'russia'], ports = [], dir = path.join(here, '..', 'dist'), screenshotDir = process.env.SCREENSHOT_DIR, latencyMs = 0, seeded = true } = {}) {
  const R = createRegistry();
  if (seeded) seed(R);
  const stats = { queries: 0 };
  const servers = [];
  const urls = {};
  for (let i = 0; i < parties.length; i++) {
    const srv = http.createServer(handler(R, parties[i], path.resolve(dir), { latencyMs, stats }));
    await new Promise((ok) => srv.listen(ports[i] || 0, '127.0.0.1', ok));
    servers.push(srv);
    urls[parties[i]] = `http://127.0.0.1:${srv.address().port}`;
  }
  let triggered = false;
  const poll = screenshotDir
    ? setInterval(() => {
      if (!triggered && existsSync(path.join(screenshotDir, 'trigger-alert'))) {
        triggered = true;
        const r = triggerAlert(R);
        console.error(`mock: trigger-alert seen; usa filed: ${r?.status}`);
      }
    }, 200)
    : null;
  return {
    urls,
    registry: R,
    stats,
    close() {
      clearInterval(poll);
      for (const s of servers) {
        s.closeAllConnections?.();
        s.close();
      }
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : def;
  };
  const dir = path.resolve(here, '..', arg('dir', 'dist'));
  const m = await startMock({ dir, ports: [Number(arg('port-a', 0)), Number(arg('port-b', 0))], latencyMs: Number(arg('latency', 0)) });
  console.log(`UI_URL_A=${m.urls.france}`);
  console.log(`UI_URL_B=${m.urls.russia}`);
  console.log(`serving ${dir}; trigger-alert watched in ${process.env.SCREENSHOT_DIR || '(SCREENSHOT_DIR unset)'}`);
}
