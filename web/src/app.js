// app.js: the page. It loads this party's intents, others' intents as far
// as their grants allow (area queries over the visible map), conflicts with
// their disclosed overlap cells, alerts (live, over Server-Sent Events) and
// receipts, and files operations drawn on the map.

import { api, ApiError, PROBLEM, cellCorners, parseReceipt } from './api.js';
import { MapView, LAYER, volumeRecord, ringRecord } from './map.js';
import { Timeline } from './timeline.js';
import { queryTiles, circleRing, fmtM, destination } from './geo.js';

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return e;
};

/** Replaces node's children, skipping null, undefined and false. */
const setKids = (node, ...kids) => node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));

const HOUR = 3600e3, DAY = 24 * HOUR;
const QUERY_TTL = 60e3;
// Area queries: tiles of at most 300 km a side (90,000 km², under the
// service's 100,000 km² limit), at most 64 per view.
const TILE_KM = 300;
const t0Load = performance.now();

// ---------------------------------------------------------------- state
const S = {
  me: null, // {party, service, log_origin}
  mine: new Map(), // id -> IntentView (own)
  others: new Map(), // id -> IntentView (from area queries or conflicts)
  tiles: new Map(), // tile key -> {at, ids: [...]} (area query cache)
  tileIntents: new Map(), // id -> IntentView seen in a tile
  conflicts: [],
  cellRecords: [],
  alerts: new Map(), // id -> AlertView
  receipts: [], // parsed, newest first
  rawReceipts: [],
  entryOf: new Map(), // intent id -> entry index of its last write from this browser
  filedReceipts: new Map(), // entry -> {receipt, verified}
  selected: null, // intent id
  time: Date.now(),
  allTimes: false,
  windowStart: Date.now() - HOUR,
  windowEnd: Date.now() + 6 * DAY,
  hint: '',
  draftShape: null,
  lastRequest: null,
  refusal: null,
  refusalCells: 0,
  synthetic: 0,
  ready: false,
  loadMs: null,
  stream: 'offline',
  queryGen: 0,
};

// ---------------------------------------------------------------- helpers
const short = (id) => (id && id.length > 13 ? id.slice(0, 8) + '…' : id || '');
const fmtTime = (t) => {
  if (!t) return '';
  const d = new Date(t);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
};
const fmtWindow = (a, b) => {
  const da = new Date(a), db = new Date(b);
  const sameDay = da.toDateString() === db.toDateString();
  return `${fmtTime(a)} – ${sameDay ? db.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false }) : fmtTime(b)}`;
};
const fmtAlt = (lo, hi) => `${fmtM(lo)} – ${fmtM(hi)}`;
const fmtAge = (s) => (s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)} min` : s < 86400 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`);
const tzName = (() => {
  const off = -new Date().getTimezoneOffset();
  const sign = off >= 0 ? '+' : '−';
  return `(local, UTC${sign}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')})`;
})();
function toLocalInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const fromLocalInput = (s) => (s ? new Date(s).getTime() : NaN);

function toast(text, kind = '') {
  const t = el('div', { class: `toast ${kind}`, text });
  $('#toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 5000);
}

function reportError(what, e) {
  console.error(what, e);
  let msg = e instanceof ApiError ? e.message : String(e?.message || e);
  if (e instanceof ApiError && e.status === 429) msg = `rate limited${e.retryAfter ? `: retry in ${e.retryAfter} s` : ''}`;
  toast(`${what}: ${msg}`, 'error');
}

function shapeText(spec) {
  if (spec.circle) return `circle ${spec.circle.lat.toFixed(4)}, ${spec.circle.lng.toFixed(4)} r ${(spec.circle.radius_m / 1000).toFixed(2)} km`;
  if (spec.polygon) return `polygon of ${spec.polygon.length} vertices`;
  return 'volume';
}

// ---------------------------------------------------------------- map
const canvas = $('#map');
const map = new MapView(canvas, {
  onView: () => {
    scheduleQuery();
    updateHash();
  },
  onHover: showTooltip,
  onSelect: (hits) => {
    const h = hits.find((r) => r.intent);
    select(h ? h.intent : null, false);
  },
  onDrawDone: (shape) => openForm(shape),
  onDraft: () => updateDrawHelp(),
});

const timeline = new Timeline($('#timeline'), (t) => setTime(t));

function ownerClass(iv) {
  return iv.owner === S.me?.party || iv.level === 'own' ? 'own' : 'other';
}

/** Rebuilds the map's layers from the state (not per frame: on data changes). */
function rebuildLayers() {
  const conflictMine = new Set(S.conflicts.map((c) => c.mine));
  const conflictOther = new Set(S.conflicts.map((c) => c.other?.id));
  const own = [];
  for (const iv of S.mine.values()) {
    (iv.volumes || []).forEach((v, i) => {
      const r = volumeRecord(v, LAYER.own, { intent: iv.id, owner: iv.owner, vol: i, level: iv.level, state: iv.state, priority: iv.priority });
      if (r) {
        r.conflict = conflictMine.has(iv.id);
        own.push(r);
      }
    });
  }
  const other = [];
  for (const iv of S.others.values()) {
    if (iv.owner === S.me?.party) continue;
    (iv.volumes || []).forEach((v, i) => {
      const r = volumeRecord(v, LAYER.other, { intent: iv.id, owner: iv.owner, vol: i, level: iv.level, state: iv.state, priority: iv.priority });
      if (r) {
        r.conflict = conflictOther.has(iv.id);
        other.push(r);
      }
    });
  }
  map.setLayer(LAYER.own, own);
  map.setLayer(LAYER.other, other);
  map.setLayer(LAYER.cells, S.cellRecords);
  updateTimeline();
  renderIntentLists();
}

function otherIntentIds() {
  const ids = new Set();
  for (const iv of S.others.values()) if (iv.owner !== S.me?.party && (iv.volumes?.length || iv.overlaps?.length)) ids.add(iv.id);
  return ids;
}

// ---------------------------------------------------------------- time
function setTime(t) {
  S.time = Math.max(S.windowStart, Math.min(S.windowEnd, t));
  if (S.allTimes) {
    S.allTimes = false;
    $('#time-all').checked = false;
  }
  applyTime();
}

function applyTime() {
  const slider = $('#time');
  slider.value = String(Math.round(((S.time - S.windowStart) / (S.windowEnd - S.windowStart)) * 1000));
  $('#time-label').textContent = S.allTimes ? 'all times' : `${new Date(S.time).toLocaleString(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })} ${tzName}`;
  map.setTime(S.allTimes ? null : S.time, $('#time-hide').checked);
  timeline.setTime(S.allTimes ? null : S.time);
}

function updateTimeline() {
  const bars = [];
  for (const iv of S.mine.values()) for (const v of iv.volumes || []) bars.push({ start: Date.parse(v.start), end: Date.parse(v.end), cls: 'own' });
  for (const iv of S.others.values()) {
    if (iv.owner === S.me?.party) continue;
    for (const v of iv.volumes || []) bars.push({ start: Date.parse(v.start), end: Date.parse(v.end), cls: 'other' });
    for (const o of iv.overlaps || []) bars.push({ start: Date.parse(o.start), end: Date.parse(o.end), cls: 'cell' });
  }
  if (bars.length < 3000) {
    for (const r of map.layers[LAYER.synthetic].slice(0, 300)) bars.push({ start: r.start, end: r.end, cls: 'synthetic' });
  }
  timeline.set(S.windowStart, S.windowEnd, bars, S.allTimes ? null : S.time);
}

$('#time').addEventListener('input', (e) => {
  setTime(S.windowStart + (Number(e.target.value) / 1000) * (S.windowEnd - S.windowStart));
});
$('#time-now').addEventListener('click', () => setTime(Date.now()));
$('#time-all').addEventListener('change', (e) => {
  S.allTimes = e.target.checked;
  applyTime();
});
$('#time-hide').addEventListener('change', applyTime);

// The window slides with the clock.
setInterval(() => {
  const now = Date.now();
  S.windowStart = now - HOUR;
  S.windowEnd = now + 6 * DAY;
  if (S.time < S.windowStart) S.time = S.windowStart;
  applyTime();
  updateTimeline();
}, 60e3);

// ---------------------------------------------------------------- tooltip
const tip = $('#tooltip');
function describeRecord(r) {
  if (r.layer === LAYER.synthetic) return `<b>synthetic #${r.n}</b><br>${fmtAlt(r.altLo, r.altHi)}<br>${fmtWindow(r.start, r.end)}`;
  if (r.layer === LAYER.cells || r.layer === LAYER.refusalCells) {
    return `<b>overlap</b> with ${esc(r.owner)} / ${esc(short(r.intent))}<br>altitude ${fmtAlt(r.altLo, r.altHi)}<br>${fmtWindow(r.start, r.end)}<br><span style="opacity:.7">cell ${esc(r.token)} (level ${r.cellLevel})</span>`;
  }
  const who = r.layer === LAYER.own ? 'mine' : esc(r.owner);
  const extra = [r.state, r.priority !== undefined && r.priority !== null ? `priority ${r.priority}` : ''].filter(Boolean).join(', ');
  return `<b>${who}</b> ${esc(short(r.intent))}${r.layer === LAYER.refusal ? ' (disclosed)' : ''}${r.conflict ? ' <span style="color:#fca5a5">⚠ conflict</span>' : ''}<br>altitude <b>${fmtAlt(r.altLo, r.altHi)}</b><br>${fmtWindow(r.start, r.end)}${extra ? `<br>${esc(extra)}` : ''}`;
}
function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
function showTooltip(hits, p, ll) {
  if (ll) $('#coords').textContent = `${ll.lat.toFixed(4)}, ${ll.lng.toFixed(4)}`;
  if (!hits.length || !p) {
    tip.hidden = true;
    return;
  }
  tip.innerHTML = hits.slice(0, 3).map((r) => `<div>${describeRecord(r)}</div>`).join('') + (hits.length > 3 ? `<div>+${hits.length - 3} more</div>` : '');
  tip.hidden = false;
  const W = canvas.clientWidth, H = canvas.clientHeight;
  const tw = tip.offsetWidth, th = tip.offsetHeight;
  tip.style.left = `${Math.min(W - tw - 4, p.x + 14)}px`;
  tip.style.top = `${p.y + 14 + th > H ? p.y - th - 10 : p.y + 14}px`;
}

// ---------------------------------------------------------------- tabs
function showTab(name) {
  for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.panel')) p.classList.toggle('active', p.id === `panel-${name}`);
}
for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));

// ---------------------------------------------------------------- details
function findIntent(id) {
  return S.mine.get(id) || S.others.get(id) || S.refusal?.intents?.find((i) => i.id === id) || null;
}

function select(id, fit = true) {
  S.selected = id;
  map.setSelected(id);
  renderDetails();
  renderIntentLists();
  if (id) showTab('details');
  if (id && fit) fitIntent(id);
}

function fitIntent(id) {
  const recs = [];
  for (const l of [LAYER.own, LAYER.other, LAYER.refusal, LAYER.cells, LAYER.refusalCells]) for (const r of map.layers[l]) if (r.intent === id) recs.push(r);
  if (!recs.length) return;
  fitRecords(recs);
}

function fitRecords(recs) {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const r of recs) {
    minX = Math.min(minX, r.minX); maxX = Math.max(maxX, r.maxX);
    minY = Math.min(minY, r.minY); maxY = Math.max(maxY, r.maxY);
  }
  const lng = (x) => x * 360 - 180;
  const lat = (y) => (180 / Math.PI) * (2 * Math.atan(Math.exp((0.5 - y) * 2 * Math.PI)) - Math.PI / 2);
  // At least ~0.5° across so a small volume is seen in context.
  const pad = Math.max(0, (0.5 / 360 - (maxX - minX)) / 2);
  map.fitBounds(lat(maxY + pad), lng(minX - pad), lat(minY - pad), lng(maxX + pad), 60);
}

function volumeBlock(v, i) {
  return el('div', { class: 'vol', 'data-testid': 'detail-volume' },
    el('div', {}, el('b', { text: `volume ${i + 1}: ` }), shapeText(v)),
    el('div', { 'data-testid': 'detail-altitude' }, 'altitude ', el('b', { text: fmtAlt(v.alt_lo_m, v.alt_hi_m) })),
    el('div', {}, fmtWindow(Date.parse(v.start), Date.parse(v.end)), el('span', { class: 'muted', text: `  (${v.start} → ${v.end})` })));
}

function overlapBlock(o, i) {
  return el('div', { class: 'vol overlap', 'data-testid': 'detail-overlap' },
    el('div', {}, el('b', { text: `overlap ${i + 1}: ` }), `${o.cells?.length || 0} cells at S2 level ${o.cell_level ?? 0}`),
    el('div', {}, 'altitude ', el('b', { text: fmtAlt(o.alt_lo_m, o.alt_hi_m) })),
    el('div', {}, fmtWindow(Date.parse(o.start), Date.parse(o.end))));
}

function receiptBadge(rc, extra = {}) {
  // rc: parsed receipt {index, size, verified}
  const ok = rc.verified;
  return el('span', { class: `badge ${ok ? 'ok' : 'bad'}`, 'data-testid': 'receipt-badge', 'data-entry': rc.index, 'data-verified': ok ? 'true' : 'false', title: rc.origin ? `log ${rc.origin}` : undefined, ...extra },
    `${ok ? '✓ verified' : '✗ not verified'} · entry ${rc.index}${rc.size !== null && rc.size !== undefined ? ` · checkpoint ${rc.size}` : ''}`);
}

/** A refusal's disclosure receipt: shown, verified only if the proxy says so. */
function disclosureBadge(d) {
  const rc = parseReceipt(d.receipt);
  const verified = d.receipt_verified === true || d.receipt?.verified === true;
  if (verified) return receiptBadge({ ...rc, verified });
  return el('span', { class: 'badge', 'data-testid': 'disclosure-receipt', title: 'the receipt of the entry that recorded this disclosure (not checked by the proxy)' },
    `receipt · entry ${rc.index}${rc.size !== null ? ` · checkpoint ${rc.size}` : ''}`);
}

/** The receipts of an intent's writes: by the entry we filed it at, or by the entry's time (created/updated). */
function receiptsOfIntent(iv) {
  const out = [];
  const seen = new Set();
  const e = S.entryOf.get(iv.id);
  if (e !== undefined) {
    const fr = S.filedReceipts.get(e);
    const rc = S.receipts.find((r) => r.index === e) || (fr ? { ...parseReceipt(fr.receipt), verified: fr.verified } : null);
    if (rc) {
      out.push(rc);
      seen.add(rc.index);
    }
  }
  const times = [iv.created, iv.updated].filter(Boolean).map((t) => Date.parse(t));
  for (const rc of S.receipts) {
    if (seen.has(rc.index)) continue;
    if (!['file', 'update', 'set_state', 'end'].includes(rc.kind)) continue;
    const t = Date.parse(rc.time);
    if (times.some((x) => Math.abs(x - t) < 1) && (!rc.party || rc.party === iv.owner)) {
      out.push(rc);
      seen.add(rc.index);
    }
  }
  return out;
}

function renderDetails() {
  const panel = $('#panel-details');
  panel.replaceChildren();
  const iv = S.selected && findIntent(S.selected);
  if (!iv) {
    panel.append(el('p', { class: 'muted', text: 'Select a volume on the map (or an intent in the list) to see its details. Hover over the map for altitudes.' }));
    return;
  }
  const own = ownerClass(iv) === 'own';
  const rows = [
    ['id', el('span', { class: 'mono', 'data-testid': 'detail-id', text: iv.id })],
    ['owner', el('span', { 'data-testid': 'detail-owner' }, iv.owner, ' ', el('span', { class: `badge ${own ? 'own' : 'other'}`, text: own ? 'mine' : 'other party' }))],
    ['level', el('span', { 'data-testid': 'detail-level', text: iv.level })],
    ['state', iv.state || '—'],
    ['priority', iv.priority ?? '—'],
    ['OVN', el('span', { class: 'mono', text: iv.ovn || '—' })],
  ];
  if (iv.created) rows.push(['created', fmtTime(iv.created)]);
  if (iv.updated && iv.updated !== iv.created) rows.push(['updated', fmtTime(iv.updated)]);
  if (iv.preempted_by?.length) rows.push(['preempted by', el('span', { class: 'mono', text: iv.preempted_by.join(', ') })]);
  const table = el('table', { class: 'kv' }, rows.map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', {}, v))));
  panel.append(el('h3', { text: own ? 'My intent' : `${iv.owner}'s intent` }), table);
  if (iv.volumes?.length) {
    panel.append(el('h3', { text: `Volumes (${iv.volumes.length})` }), ...iv.volumes.map(volumeBlock));
  } else if (!own) {
    panel.append(el('p', { class: 'muted', text: `${iv.owner}'s grant to you (${iv.level}) does not show its volumes; only the overlaps with yours are disclosed.` }));
  }
  if (iv.overlaps?.length) panel.append(el('h3', { text: 'Overlaps with my volumes' }), ...iv.overlaps.map(overlapBlock));
  const cs = S.conflicts.filter((c) => c.mine === iv.id || c.other?.id === iv.id);
  if (cs.length) {
    panel.append(el('h3', { text: 'Conflicts' }), el('ul', { class: 'list' }, cs.map((c) => conflictItem(c, 'detail-conflict-item'))));
  }
  if (own) {
    const rcs = receiptsOfIntent(iv);
    panel.append(el('h3', { text: 'Receipts' }),
      rcs.length ? el('div', { class: 'row' }, rcs.map((rc) => receiptBadge(rc))) : el('p', { class: 'muted', text: 'No receipt for this intent is kept by this proxy (see the Receipts tab).' }));
  }
}

// ---------------------------------------------------------------- lists
function intentItem(iv) {
  const own = ownerClass(iv) === 'own';
  const vols = iv.volumes || [];
  const lo = Math.min(...vols.map((v) => v.alt_lo_m)), hi = Math.max(...vols.map((v) => v.alt_hi_m));
  const start = Math.min(...vols.map((v) => Date.parse(v.start))), end = Math.max(...vols.map((v) => Date.parse(v.end)));
  const conflict = S.conflicts.some((c) => c.mine === iv.id || c.other?.id === iv.id);
  const rcs = own ? receiptsOfIntent(iv) : [];
  return el('li', { 'data-testid': 'intent-item', 'data-intent-id': iv.id, 'data-owner': iv.owner, class: S.selected === iv.id ? 'selected' : '', onclick: () => select(iv.id) },
    el('div', { class: 'row' }, el('span', { class: 'title mono', text: short(iv.id) }), el('span', { class: `badge ${own ? 'own' : 'other'}`, text: iv.owner }),
      iv.state ? el('span', { class: 'badge', text: iv.state }) : null, iv.priority !== undefined ? el('span', { class: 'badge', text: `p${iv.priority}` }) : null,
      conflict ? el('span', { class: 'badge bad', text: 'conflict' }) : null, rcs.length ? receiptBadge(rcs[0]) : null),
    vols.length ? el('div', {}, `${vols.length} volume${vols.length > 1 ? 's' : ''} · ${fmtAlt(lo, hi)} · ${fmtWindow(start, end)}`) : el('div', { class: 'muted', text: `${iv.overlaps?.length || 0} overlap(s) disclosed` }));
}

function renderIntentLists() {
  const mine = [...S.mine.values()];
  $('#my-intents').replaceChildren(...(mine.length ? mine.map(intentItem) : [el('li', { class: 'empty', text: 'none' })]));
  const others = [...S.others.values()].filter((iv) => iv.owner !== S.me?.party);
  $('#other-intents').replaceChildren(...(others.length ? others.slice(0, 500).map(intentItem) : [el('li', { class: 'empty', text: S.hint ? S.hint : 'none in view' })]));
  $('#count-intents').textContent = `${mine.length}/${others.length}`;
}

// ---------------------------------------------------------------- loading
async function loadMine() {
  const r = await api.intents();
  S.mine = new Map((r?.intents || []).map((iv) => [iv.id, iv]));
}

async function loadConflicts() {
  const r = await api.conflicts();
  S.conflicts = r?.conflicts || [];
  // Conflicting intents of others join the others (with their overlaps).
  for (const c of S.conflicts) {
    if (!c.other) continue;
    const prev = S.others.get(c.other.id);
    S.others.set(c.other.id, { ...(prev || {}), ...c.other, volumes: c.other.volumes || prev?.volumes, fromConflict: true });
    S.seen?.add(c.other.id);
  }
  // Overlap cells.
  const tokens = [];
  for (const c of S.conflicts) for (const o of c.other?.overlaps || []) tokens.push(...(o.cells || []));
  const corners = tokens.length ? await cellCorners(tokens) : new Map();
  const recs = [];
  for (const c of S.conflicts) {
    for (const o of c.other?.overlaps || []) {
      for (const t of o.cells || []) {
        const cc = corners.get(t);
        if (!cc) continue;
        const r = ringRecord({ layer: LAYER.cells, intent: c.other.id, owner: c.other.owner, conflict: false, token: t, cellLevel: o.cell_level,
          conflictId: c.id, altLo: o.alt_lo_m, altHi: o.alt_hi_m, start: Date.parse(o.start), end: Date.parse(o.end), spec: null }, cc);
        recs.push(r);
      }
    }
  }
  S.cellRecords = recs;
  renderConflicts();
}

async function loadAlerts() {
  const r = await api.alerts();
  for (const a of r?.alerts || []) upsertAlert(a, false);
  renderAlerts();
}

async function loadReceipts() {
  try {
    const r = await api.receipts();
    S.rawReceipts = r?.receipts || [];
    S.receipts = S.rawReceipts.map(parseReceipt).sort((a, b) => b.index - a.index);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) reportError('receipts', e);
  }
  renderReceipts();
}

let refreshTimer = 0;
function scheduleRefresh(delay = 400) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refreshAll().catch((e) => reportError('refresh', e)), delay);
}

async function refreshAll() {
  // Others' intents are seen again in the conflicts and the (re-run) area
  // queries; those no longer seen (ended, moved, out of view) are dropped.
  const before = new Set(S.others.keys());
  S.seen = new Set();
  S.tiles.clear();
  await Promise.all([loadMine(), loadConflicts().catch((e) => reportError('conflicts', e)), loadReceipts()]);
  const gen = S.queryGen + 1;
  const complete = await queryOthers();
  if (complete && S.queryGen === gen && S.seen) {
    for (const id of before) if (!S.seen.has(id)) S.others.delete(id);
  }
  S.seen = null;
  rebuildLayers();
  renderDetails();
}

// ---------------------------------------------------------------- area queries
let queryTimer = 0;
function scheduleQuery() {
  clearTimeout(queryTimer);
  queryTimer = setTimeout(() => queryOthers().catch((e) => reportError('area query', e)), 350);
}

function setHint(text) {
  S.hint = text;
  const h = $('#hint');
  h.textContent = text;
  h.hidden = !text;
}

async function queryOthers() {
  if (!S.me) return;
  S.pendingQueries = (S.pendingQueries || 0) + 1;
  try {
    return await queryOthersNow();
  } finally {
    S.pendingQueries--;
  }
}

async function queryOthersNow() {
  const gen = ++S.queryGen;
  const b = map.bounds();
  const tiles = queryTiles(b.south, b.west, b.north, b.east, TILE_KM, 64);
  if (!tiles) {
    setHint(`Zoom in to load other parties' intents here (area queries cover at most 64 tiles of ${TILE_KM} km).`);
    return false;
  }
  setHint('');
  const now = Date.now();
  const want = tiles.filter((t) => !(S.tiles.get(t.key)?.at > now - QUERY_TTL));
  let failed = null;
  let i = 0;
  const start = new Date(now - HOUR).toISOString(), end = new Date(now + 6 * DAY).toISOString();
  const worker = async () => {
    while (i < want.length) {
      const t = want[i++];
      if (gen !== S.queryGen) return;
      try {
        const r = await api.query({ polygon: t.ring, alt_lo_m: -8000, alt_hi_m: 100000, start, end });
        const ids = [];
        for (const iv of r?.intents || []) {
          ids.push(iv.id);
          if (iv.owner === S.me.party) continue;
          S.seen?.add(iv.id);
          S.tileIntents.set(iv.id, iv);
          const prev = S.others.get(iv.id);
          S.others.set(iv.id, { ...(prev || {}), ...iv, overlaps: prev?.overlaps, fromConflict: prev?.fromConflict });
        }
        S.tiles.set(t.key, { at: Date.now(), ids });
      } catch (e) {
        failed = e;
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker(), worker()]); // 5 (+1 for the alert stream) connections
  if (failed) reportError('area query', failed);
  if (gen === S.queryGen) rebuildLayers();
  return !failed && gen === S.queryGen;
}

// ---------------------------------------------------------------- conflicts & hotline
function conflictItem(c, testid = 'conflict-item') {
  const o = c.other || {};
  return el('li', { 'data-testid': testid, 'data-conflict-id': c.id, 'data-status': c.status, class: S.hotline === c.id ? 'selected' : '', onclick: () => openHotline(c.id) },
    el('div', { class: 'row' }, el('span', { class: 'title', text: `${o.owner || '?'} ↔ mine` }), el('span', { class: `badge ${c.status === 'coordinated' ? 'coord' : 'bad'}`, text: c.status }),
      c.messages ? el('span', { class: 'badge', text: `${c.messages} msg` }) : null),
    el('div', { class: 'mono', text: `mine ${short(c.mine)} · theirs ${short(o.id)} (${o.level})` }),
    o.overlaps?.length ? el('div', {}, o.overlaps.map((ov) => `${fmtAlt(ov.alt_lo_m, ov.alt_hi_m)}, ${fmtWindow(Date.parse(ov.start), Date.parse(ov.end))}`).join('; ')) : null);
}

function renderConflicts() {
  const list = $('#conflicts');
  list.replaceChildren(...(S.conflicts.length ? S.conflicts.map((c) => conflictItem(c)) : [el('li', { class: 'empty', text: 'No conflicts.' })]));
  $('#count-conflicts').textContent = S.conflicts.length ? String(S.conflicts.length) : '';
  if (S.hotline) renderHotline();
}

async function openHotline(id) {
  S.hotline = id;
  showTab('conflicts');
  renderConflicts();
  const c = S.conflicts.find((x) => x.id === id);
  if (c) {
    map.setSelected(c.other?.id);
    const recs = [...map.layers[LAYER.cells], ...map.layers[LAYER.other], ...map.layers[LAYER.own]].filter((r) => r.conflictId === id || r.intent === c.other?.id || r.intent === c.mine);
    if (recs.length) fitRecords(recs);
  }
  await loadHotline();
}

async function loadHotline() {
  const id = S.hotline;
  if (!id) return;
  try {
    S.hotlineView = await api.hotline(id);
  } catch (e) {
    S.hotlineView = { id, status: 'unavailable', messages: [], error: e.message };
  }
  renderHotline();
}

function renderHotline() {
  const box = $('#hotline');
  const v = S.hotlineView;
  if (!S.hotline || !v || v.id !== S.hotline) {
    box.hidden = !S.hotline;
    if (S.hotline) box.replaceChildren(el('p', { class: 'muted', text: 'Loading hotline…' }));
    return;
  }
  box.hidden = false;
  const me = S.me?.party;
  const iCoordinated = (v.coordinated || []).includes(me);
  const input = el('input', { type: 'text', placeholder: 'Message the other party…', 'data-testid': 'hotline-input', maxlength: '2000' });
  const form = el('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      send.disabled = true;
      try {
        await api.post(v.id, text);
        input.value = '';
        await loadHotline();
        scheduleRefresh(100);
      } catch (err) {
        reportError('message', err);
      } finally {
        send.disabled = false;
      }
    },
  }, input);
  const send = el('button', { type: 'submit', class: 'primary', 'data-testid': 'hotline-send', text: 'Send' });
  form.append(send);
  const coord = el('button', {
    type: 'button', 'data-testid': 'hotline-coordinate', disabled: iCoordinated || v.status === 'resolved',
    onclick: async () => {
      coord.disabled = true;
      try {
        await api.coordinate(v.id);
        await loadHotline();
        scheduleRefresh(100);
      } catch (err) {
        reportError('coordinate', err);
        coord.disabled = false;
      }
    },
  }, iCoordinated ? 'Marked coordinated' : 'Mark coordinated');
  setKids(box,
    el('div', { class: 'row' }, el('b', { text: 'Hotline' }), ' ', el('span', { class: `badge ${v.status === 'coordinated' ? 'coord' : v.status === 'open' ? 'bad' : ''}`, 'data-testid': 'hotline-status', text: v.status }),
      (v.coordinated || []).length ? el('span', { class: 'muted', text: ` coordinated by ${(v.coordinated || []).join(', ')}` }) : null),
    el('div', { class: 'mono muted', text: v.id }),
    v.error ? el('p', { class: 'error', text: v.error }) : null,
    el('ul', { class: 'msgs', 'data-testid': 'hotline-messages' }, (v.messages || []).length
      ? v.messages.map((m) => el('li', { class: m.from === me ? 'mine' : '', 'data-testid': 'hotline-message' }, el('div', { class: 'meta', text: `${m.from} · ${fmtTime(m.time)} · entry ${m.entry}` }), el('div', { text: m.text })))
      : [el('li', { class: 'muted', text: 'No messages yet.' })]),
    form,
    el('div', { class: 'buttons' }, coord, el('button', { type: 'button', text: 'Close', onclick: () => { S.hotline = null; S.hotlineView = null; box.hidden = true; renderConflicts(); } })));
}

// ---------------------------------------------------------------- alerts
// What an alert says: [before "your intent X", after it].
const KIND_TEXT = {
  conflict: ['filed an intent that now conflicts with', ''],
  preempted: ['preempted', 'with an intent of higher priority'],
  contingent: ['filed an emergency (contingent) operation conflicting with', ''],
  disclosed: ['was shown', 'when its filing was refused'],
  message: ['sent a message on the hotline of', ''],
  coordinated: ['marked coordinated its conflict with', ''],
};
const kindText = (k) => KIND_TEXT[k] || [k, ''];

function upsertAlert(a, live) {
  const prev = S.alerts.get(a.id);
  if (prev && prev.acked && !a.acked) a = { ...a, acked: prev.acked, ack_entry: prev.ack_entry, severity: 'normal' };
  S.alerts.set(a.id, { ...a, _received: prev?._received || Date.now() - (a.age_s || 0) * 1000 });
  if (live && !prev && !a.acked) {
    toast(`Alert: ${a.by_party || 'someone'} ${kindText(a.kind)[0]} your intent ${short(a.intent)} ${kindText(a.kind)[1]}`.trim());
    if (a.kind === 'message' && S.hotline && a.conflict === S.hotline) loadHotline();
  }
  return !prev;
}

function alertItem(a) {
  const acked = !!a.acked;
  const ack = acked
    ? el('span', { class: 'badge ok', 'data-testid': 'ack-state', text: `acknowledged${a.ack_entry ? ` · entry ${a.ack_entry}` : ''}` })
    : el('button', {
      type: 'button', class: 'primary', 'data-testid': 'ack-button', 'data-alert-id': a.id,
      onclick: async (e) => {
        e.stopPropagation();
        e.target.disabled = true;
        try {
          const r = await api.ack(a.id);
          const cur = S.alerts.get(a.id);
          S.alerts.set(a.id, { ...cur, acked: new Date().toISOString(), ack_entry: r?.entry, severity: 'normal' });
          renderAlerts();
          loadReceipts();
        } catch (err) {
          reportError('acknowledge', err);
          e.target.disabled = false;
        }
      },
    }, 'Acknowledge');
  const age = Math.max(0, Math.round((Date.now() - Date.parse(a.time)) / 1000));
  return el('li', {
    'data-testid': 'alert-item', 'data-alert-id': a.id, 'data-kind': a.kind, 'data-acked': acked ? 'true' : 'false',
    class: `${acked ? '' : 'unacked'} ${a.severity === 'overdue' && !acked ? 'overdue' : ''}`,
    onclick: () => {
      if (a.conflict) openHotline(a.conflict);
      else if (a.by && findIntent(a.by)) select(a.by);
      else if (a.intent) select(a.intent);
    },
  },
  el('div', { class: 'row' }, el('span', { class: 'badge kind', text: a.kind }), a.severity === 'overdue' && !acked ? el('span', { class: 'badge bad', text: 'overdue' }) : null,
    el('span', { class: 'muted', text: `${fmtTime(a.time)} · ${fmtAge(age)} ago · entry ${a.entry}` })),
  el('div', {}, el('b', { text: a.by_party || 'the service' }), ` ${kindText(a.kind)[0]} your intent `, el('span', { class: 'mono', text: short(a.intent) }), ` ${kindText(a.kind)[1]}`,
    a.by ? el('span', { class: 'muted' }, ' (by ', el('span', { class: 'mono', text: short(a.by) }), ')') : null),
  a.pairs?.length ? el('div', { class: 'muted', text: `volumes: ${a.pairs.map((p) => `theirs ${p.mine + 1} ↔ mine ${p.theirs + 1}`).join(', ')}` }) : null,
  el('div', { class: 'row' }, ack));
}

function renderAlerts() {
  const unackedOnly = $('#alerts-unacked-only').checked;
  const all = [...S.alerts.values()].sort((a, b) => b.entry - a.entry || (b.id < a.id ? -1 : 1));
  const shown = unackedOnly ? all.filter((a) => !a.acked) : all;
  $('#alerts').replaceChildren(...(shown.length ? shown.slice(0, 500).map(alertItem) : [el('li', { class: 'empty', text: 'No alerts.' })]));
  const n = all.filter((a) => !a.acked).length;
  $('#count-alerts').textContent = n ? String(n) : '';
}
$('#alerts-unacked-only').addEventListener('change', renderAlerts);

let es = null;
function startStream() {
  if (es) es.close();
  es = new EventSource(api.streamURL());
  const setState = (s) => {
    S.stream = s;
    const p = $('#stream-state');
    p.textContent = `alerts: ${s}`;
    p.classList.toggle('live', s === 'live');
  };
  es.addEventListener('open', () => setState('live'));
  es.addEventListener('error', () => setState(es.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting'));
  es.addEventListener('alert', (ev) => {
    let a;
    try {
      a = JSON.parse(ev.data);
    } catch {
      return;
    }
    const isNew = upsertAlert(a, true);
    renderAlerts();
    if (isNew) scheduleRefresh(300);
  });
}

// ---------------------------------------------------------------- receipts
function renderReceipts() {
  const list = $('#receipts');
  list.replaceChildren(...(S.receipts.length
    ? S.receipts.slice(0, 500).map((rc) => el('li', { 'data-testid': 'receipt-item', 'data-entry': rc.index },
      el('div', { class: 'row' }, el('span', { class: 'title', text: `entry ${rc.index}` }), el('span', { class: 'badge kind', text: rc.kind || '?' }), receiptBadge(rc)),
      el('div', { class: 'muted', text: `${rc.time ? fmtTime(rc.time) : ''}${rc.origin ? ` · log ${rc.origin}` : ''}` })))
    : [el('li', { class: 'empty', text: 'No receipts kept yet.' })]));
}

// ---------------------------------------------------------------- drawing & filing
function setDrawMode(mode) {
  hidePanels();
  map.setMode(mode);
  $('#draw-circle').classList.toggle('active', mode === 'circle');
  $('#draw-polygon').classList.toggle('active', mode === 'polygon');
  $('#draw-cancel').hidden = mode === 'pan';
  updateDrawHelp();
}

function updateDrawHelp() {
  const m = map.mode;
  const d = map.draft;
  let t = '';
  if (m === 'circle') t = d?.center ? 'Drag or click to set the radius. Esc cancels.' : 'Click the centre of the circle (drag to set the radius at once).';
  if (m === 'polygon') t = (d?.pts?.length || 0) < 3 ? 'Click the vertices of the polygon (drag pans). Esc cancels.' : 'Click the first vertex, double-click or press Enter to close. Backspace removes the last vertex.';
  $('#draw-help').textContent = t;
}

$('#draw-circle').addEventListener('click', () => setDrawMode(map.mode === 'circle' ? 'pan' : 'circle'));
$('#draw-polygon').addEventListener('click', () => setDrawMode(map.mode === 'polygon' ? 'pan' : 'polygon'));
$('#draw-cancel').addEventListener('click', () => {
  S.draftShape = null;
  setDrawMode('pan');
});
$('#zoom-in').addEventListener('click', () => map.zoomBy(1));
$('#zoom-out').addEventListener('click', () => map.zoomBy(-1));
window.addEventListener('keydown', (e) => {
  if (e.target.closest?.('input, select, textarea')) return;
  if (map.key(e)) {
    e.preventDefault();
    updateDrawHelp();
    return;
  }
  if (e.key === 'Escape') {
    if (!$('#file-form').hidden) closeForm();
    else if (map.mode !== 'pan') setDrawMode('pan');
  } else if (e.key === '+' || e.key === '=') map.zoomBy(1);
  else if (e.key === '-') map.zoomBy(-1);
  else if (e.key.startsWith('Arrow')) {
    const d = 80;
    map.panBy(e.key === 'ArrowLeft' ? d : e.key === 'ArrowRight' ? -d : 0, e.key === 'ArrowUp' ? d : e.key === 'ArrowDown' ? -d : 0);
  }
});

const form = $('#file-form');
let formDefaults = null;

function hidePanels() {
  form.hidden = true;
  $('#refusal').hidden = true;
  $('#filed').hidden = true;
}

function openForm(shape) {
  S.draftShape = shape;
  hidePanels();
  const f = formDefaults || (() => {
    const start = Math.ceil((Date.now() + 10 * 60e3) / (5 * 60e3)) * 5 * 60e3;
    return { lo: 0, hi: 120, start, end: start + HOUR, priority: 0, state: 'accepted' };
  })();
  if (f.start < Date.now() - HOUR) {
    const d = f.end - f.start;
    f.start = Math.ceil((Date.now() + 10 * 60e3) / (5 * 60e3)) * 5 * 60e3;
    f.end = f.start + d;
  }
  $('#file-alt-lo').value = f.lo;
  $('#file-alt-hi').value = f.hi;
  $('#file-start').value = toLocalInput(f.start);
  $('#file-end').value = toLocalInput(f.end);
  $('#file-priority').value = f.priority;
  $('#file-state').value = f.state;
  for (const s of form.querySelectorAll('.tz')) s.textContent = tzName;
  $('#file-shape').textContent = shape.type === 'circle'
    ? `Circle at ${shape.center[0].toFixed(4)}, ${shape.center[1].toFixed(4)}, radius ${(shape.radiusM / 1000).toFixed(2)} km`
    : `Polygon of ${shape.pts.length} vertices`;
  $('#file-error').hidden = true;
  form.hidden = false;
  $('#file-alt-lo').focus();
}

function closeForm() {
  form.hidden = true;
  S.draftShape = null;
  map.setMode(map.mode); // clears the draft
  setDrawMode('pan');
}
$('#file-cancel').addEventListener('click', closeForm);

function formError(msg) {
  const e = $('#file-error');
  e.textContent = msg;
  e.hidden = false;
}

function buildRequest() {
  const lo = Number($('#file-alt-lo').value), hi = Number($('#file-alt-hi').value);
  const start = fromLocalInput($('#file-start').value), end = fromLocalInput($('#file-end').value);
  const priority = Number($('#file-priority').value);
  const state = $('#file-state').value;
  const errs = [];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || $('#file-alt-lo').value === '' || $('#file-alt-hi').value === '') errs.push('Give both altitudes.');
  else if (!(lo < hi)) errs.push('The low altitude must be below the high one.');
  else if (lo < -8000 || hi > 100000) errs.push('Altitudes must be within -8,000 and 100,000 m.');
  if (!Number.isFinite(start) || !Number.isFinite(end)) errs.push('Give the start and end times.');
  else if (!(start < end)) errs.push('The end must be after the start.');
  else if (end - start > 7 * DAY) errs.push('The window must be at most 7 days.');
  if (!Number.isInteger(priority)) errs.push('The priority must be a whole number.');
  if (errs.length) return { error: errs.join(' ') };
  formDefaults = { lo, hi, start, end, priority, state };
  const sh = S.draftShape;
  const vol = { alt_lo_m: lo, alt_hi_m: hi, start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  if (sh.type === 'circle') vol.circle = { lat: sh.center[0], lng: sh.center[1], radius_m: sh.radiusM };
  else vol.polygon = sh.pts.map(([lat, lng]) => [lat, ((((lng + 180) % 360) + 360) % 360) - 180]);
  return { req: { priority, state, volumes: [vol] } };
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { req, error } = buildRequest();
  if (error) {
    formError(error);
    return;
  }
  await submitFiling(req);
});

async function submitFiling(req) {
  S.lastRequest = req;
  const btns = [$('#file-submit'), $('#refile')].filter(Boolean);
  btns.forEach((b) => (b.disabled = true));
  try {
    const filed = await api.file(req);
    onFiled(filed);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.problem && (err.type === PROBLEM.missingKey || err.type === PROBLEM.conflict)) {
      await showRefusal(err.problem, req);
    } else if (err instanceof ApiError && err.problem) {
      form.hidden = false;
      $('#refusal').hidden = true;
      formError(`${err.problem.title}${err.problem.detail ? `: ${err.problem.detail}` : ''}${err.status === 429 && err.retryAfter ? ` (retry in ${err.retryAfter} s)` : ''}`);
    } else {
      form.hidden = false;
      formError(err.message || String(err));
    }
  } finally {
    btns.forEach((b) => (b.disabled = false));
  }
}

function onFiled(filed) {
  const iv = filed.intent;
  hidePanels();
  clearRefusal();
  S.draftShape = null;
  setDrawMode('pan');
  if (iv?.id) {
    S.mine.set(iv.id, iv);
    S.entryOf.set(iv.id, filed.entry);
    saveEntries();
  }
  if (filed.receipt) S.filedReceipts.set(filed.entry, { receipt: filed.receipt, verified: filed.receipt_verified === true });
  const rc = filed.receipt ? { ...parseReceipt(filed.receipt), verified: filed.receipt_verified === true } : null;
  const panel = $('#filed');
  setKids(panel,
    el('h2', { text: 'Filed' }),
    el('table', { class: 'kv' },
      el('tr', {}, el('th', { text: 'intent' }), el('td', { class: 'mono', 'data-testid': 'filed-intent-id', text: iv?.id || '?' })),
      el('tr', {}, el('th', { text: 'state' }), el('td', { text: iv?.state || '' })),
      el('tr', {}, el('th', { text: 'entry' }), el('td', { 'data-testid': 'filed-entry', text: String(filed.entry) })),
      el('tr', {}, el('th', { text: 'receipt' }), el('td', {}, rc ? receiptBadge(rc) : el('span', { class: 'badge', 'data-testid': 'receipt-badge', 'data-verified': 'false', text: 'no receipt (the log signs no checkpoints)' })))),
    filed.conflicts?.length
      ? el('div', {}, el('h3', { text: `Conflicts (${filed.conflicts.length}): their owners were alerted` }), el('ul', { class: 'list' }, filed.conflicts.map((c) => el('li', { text: `${c.owner} · ${short(c.id)} (${c.level})` }))))
      : el('p', { class: 'muted', text: 'No conflicts.' }),
    el('div', { class: 'buttons' }, el('button', { type: 'button', text: 'Show', onclick: () => iv && select(iv.id) }), el('button', { type: 'button', 'data-testid': 'filed-close', text: 'Close', onclick: () => (panel.hidden = true) })));
  panel.hidden = false;
  rebuildLayers();
  if (iv?.id) select(iv.id, false);
  toast(`Filed ${short(iv?.id)} at entry ${filed.entry}`);
  scheduleRefresh(200);
}

function clearRefusal() {
  S.refusal = null;
  S.refusalCells = 0;
  map.setLayer(LAYER.refusal, []);
  map.setLayer(LAYER.refusalCells, []);
}

async function showRefusal(problem, req) {
  S.refusal = problem;
  form.hidden = true;
  const intents = problem.intents || [];
  // What was disclosed: volumes if the grant shows them, else overlap cells.
  const vols = [], cellJobs = [];
  for (const iv of intents) {
    (iv.volumes || []).forEach((v, i) => vols.push(volumeRecord(v, LAYER.refusal, { intent: iv.id, owner: iv.owner, vol: i, level: iv.level, state: iv.state, priority: iv.priority })));
    for (const o of iv.overlaps || []) cellJobs.push({ iv, o });
  }
  map.setLayer(LAYER.refusal, vols);
  const tokens = cellJobs.flatMap((j) => j.o.cells || []);
  const corners = tokens.length ? await cellCorners(tokens) : new Map();
  const cells = [];
  for (const { iv, o } of cellJobs) {
    for (const t of o.cells || []) {
      const cc = corners.get(t);
      if (cc) cells.push(ringRecord({ layer: LAYER.refusalCells, intent: iv.id, owner: iv.owner, token: t, cellLevel: o.cell_level, altLo: o.alt_lo_m, altHi: o.alt_hi_m, start: Date.parse(o.start), end: Date.parse(o.end), spec: null }, cc));
    }
  }
  S.refusalCells = cells.length;
  map.setLayer(LAYER.refusalCells, cells);
  // Show the airspace when the conflict begins.
  const shown = [...vols, ...cells].filter((r) => Number.isFinite(r.start));
  if (shown.length && !S.allTimes && !shown.some((r) => S.time >= r.start && S.time < r.end)) {
    setTime(Math.min(...shown.map((r) => r.start)));
  }
  // Keep the drawn shape visible.
  if (S.draftShape) map.setDraft(S.draftShape.type === 'circle' ? { type: 'circle', center: S.draftShape.center, radiusM: S.draftShape.radiusM, done: true } : { type: 'polygon', pts: S.draftShape.pts, closed: true });

  const missing = problem.type === PROBLEM.missingKey;
  const panel = $('#refusal');
  const refile = missing
    ? el('button', {
      type: 'button', id: 'refile', class: 'danger', 'data-testid': 'refile-button',
      onclick: async () => {
        const key = [...new Set([...(req.key || []), ...intents.map((i) => i.ovn).filter(Boolean)])];
        await submitFiling({ ...req, key });
      },
    }, 'Acknowledge and re-file')
    : null;
  const maxPrio = Math.max(...intents.map((i) => (typeof i.priority === 'number' ? i.priority : -Infinity)));
  setKids(panel,
    el('h2', { 'data-testid': 'refusal-title', text: missing ? 'Refused: missing key' : 'Refused: conflict' }),
    el('p', { 'data-testid': 'refusal-type', 'data-type': problem.type, class: 'muted', text: problem.title }),
    problem.detail ? el('p', { class: 'error', text: problem.detail }) : null,
    el('p', {}, missing
      ? 'Your operation conflicts with the intents below. Acknowledging them presents their current OVNs as key; the owners are alerted.'
      : `An intent of equal or higher priority conflicts with yours${Number.isFinite(maxPrio) ? ` (highest priority ${maxPrio})` : ''}. Raise the priority, file as contingent (emergency), or change the volume.`),
    el('ul', { class: 'list', 'data-testid': 'refusal-intents' }, intents.map((iv) => el('li', { 'data-testid': 'refusal-intent', 'data-intent-id': iv.id, onclick: () => select(iv.id) },
      el('div', { class: 'row' }, el('span', { class: 'badge other', text: iv.owner }), el('span', { class: 'mono', text: short(iv.id) }), el('span', { class: 'badge', text: iv.level }),
        iv.priority !== undefined ? el('span', { class: 'badge', text: `p${iv.priority}` }) : null),
      iv.volumes?.length ? el('div', {}, `${iv.volumes.length} volume(s) shown: `, iv.volumes.map((v) => `${fmtAlt(v.alt_lo_m, v.alt_hi_m)}, ${fmtWindow(Date.parse(v.start), Date.parse(v.end))}`).join('; ')) : null,
      (iv.overlaps || []).map((o) => el('div', {}, `overlap: ${o.cells?.length || 0} cells, ${fmtAlt(o.alt_lo_m, o.alt_hi_m)}, ${fmtWindow(Date.parse(o.start), Date.parse(o.end))}`)),
      el('div', { class: 'mono muted', text: `OVN ${iv.ovn}` })))),
    problem.disclosure ? el('p', { class: 'muted' }, `This disclosure was logged at entry ${problem.disclosure.entry}. `,
      problem.disclosure.receipt ? disclosureBadge(problem.disclosure) : null) : null,
    el('p', { class: 'muted', 'data-testid': 'refusal-drawn', text: `${vols.length} volume(s) and ${cells.length} overlap cell(s) drawn on the map.` }),
    el('div', { class: 'buttons' }, refile,
      el('button', { type: 'button', 'data-testid': 'refusal-edit', text: 'Edit', onclick: () => { $('#refusal').hidden = true; form.hidden = false; if (!missing) $('#file-priority').focus(); } }),
      el('button', { type: 'button', 'data-testid': 'refusal-dismiss', text: 'Discard', onclick: () => { $('#refusal').hidden = true; clearRefusal(); closeForm(); } })));
  panel.hidden = false;
  const recs = [...vols, ...cells];
  if (recs.length) fitRecords(recs);
}

// Entries this browser filed, per party (to show receipts per intent after a reload).
function entriesKey() {
  return `deconflict.entries.${S.me?.party || ''}`;
}
function saveEntries() {
  try {
    localStorage.setItem(entriesKey(), JSON.stringify([...S.entryOf]));
  } catch { /* private mode */ }
}
function loadEntries() {
  try {
    S.entryOf = new Map(JSON.parse(localStorage.getItem(entriesKey()) || '[]'));
  } catch {
    S.entryOf = new Map();
  }
}

// ---------------------------------------------------------------- view in the URL
let hashTimer = 0;
function updateHash() {
  // Debounced: browsers throttle history updates made at every frame.
  clearTimeout(hashTimer);
  hashTimer = setTimeout(writeHash, 300);
}
function writeHash() {
  const v = map.getView();
  const h = `#map=${v.zoom.toFixed(2)}/${v.lat.toFixed(4)}/${v.lng.toFixed(4)}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}
function viewFromHash() {
  const m = /map=([\d.]+)\/(-?[\d.]+)\/(-?[\d.]+)/.exec(location.hash);
  return m ? { zoom: +m[1], lat: +m[2], lng: +m[3] } : null;
}

function initialView() {
  const h = viewFromHash();
  if (h) {
    map.setView(h.lat, h.lng, h.zoom);
    return;
  }
  const recs = map.layers[LAYER.own];
  if (recs.length) {
    fitRecords(recs);
    // Keep some surroundings in view (others' intents nearby), but stay
    // within the area-query limit.
    if (map.zoom > 7) map.zoomBy(7 - map.zoom);
  } else {
    map.setView(35, 20, 2);
  }
}

// ---------------------------------------------------------------- synthetic load (tests, benchmarks)
function loadSynthetic(n = 10000, seed = 1) {
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const b = map.bounds();
  let west = b.west, east = b.east;
  if (east - west > 360) { west = -180; east = 180; }
  const south = Math.max(-80, b.south), north = Math.min(80, b.north);
  const spanKm = Math.max(1, ((east - west) * 111 * Math.cos(((south + north) / 2) * Math.PI / 180)));
  const now = Date.now();
  const recs = [];
  for (let i = 0; i < n; i++) {
    const lat = south + rnd() * (north - south), lng = west + rnd() * (east - west);
    const radius = Math.max(200, spanKm * 1000 * (0.002 + rnd() * 0.02));
    const start = now - HOUR + rnd() * 6 * DAY;
    const vol = { alt_lo_m: Math.round(rnd() * 3000), start: new Date(start).toISOString(), end: new Date(start + (0.5 + rnd() * 4) * HOUR).toISOString() };
    vol.alt_hi_m = vol.alt_lo_m + 100 + Math.round(rnd() * 2000);
    if (i % 4 === 3) {
      const k = 5 + Math.floor(rnd() * 4);
      vol.polygon = [];
      for (let j = 0; j < k; j++) vol.polygon.push(destination(lat, lng, radius * (0.6 + 0.4 * rnd()), (360 * j) / k));
    } else {
      vol.circle = { lat, lng, radius_m: Math.round(radius) };
    }
    const r = volumeRecord(vol, LAYER.synthetic, { n: i, intent: `synthetic-${i}`, owner: 'synthetic' });
    if (r) recs.push(r);
  }
  map.setLayer(LAYER.synthetic, recs);
  S.synthetic = recs.length;
  updateTimeline();
  return recs.length;
}

/** Draws n frames, one per animation frame, each forced to raster (a 1-pixel read), and times them. */
function benchFrames(n = 10) {
  return new Promise((resolve) => {
    const times = [];
    const ctx = canvas.getContext('2d');
    let i = 0;
    const step = () => {
      const t0 = performance.now();
      map.render();
      ctx.getImageData(0, 0, 1, 1);
      times.push(performance.now() - t0);
      if (++i < n) {
        map.panBy(i % 2 ? 3 : -3, 0); // a real change each frame
        requestAnimationFrame(step);
      } else {
        resolve({ frames: n, avgMs: times.reduce((a, b) => a + b, 0) / n, maxMs: Math.max(...times), times });
      }
    };
    requestAnimationFrame(step);
  });
}

// ---------------------------------------------------------------- test hook
window.__deconflict = {
  stats() {
    return {
      ready: S.ready,
      pendingQueries: S.pendingQueries || 0,
      loadMs: S.loadMs,
      loadMarks: S.loadMarks,
      party: S.me?.party || null,
      myIntents: S.mine.size,
      otherIntents: otherIntentIds().size,
      volumesDrawn: map.volumesDrawn,
      cellsDrawn: map.cellsDrawn,
      overlapCells: S.cellRecords.length,
      refusalCells: S.refusalCells,
      refusal: S.refusal ? S.refusal.type : null,
      conflicts: S.conflicts.length,
      alerts: S.alerts.size,
      unackedAlerts: [...S.alerts.values()].filter((a) => !a.acked).length,
      synthetic: S.synthetic,
      stream: S.stream,
      hint: S.hint,
      lastFrameMs: map.lastFrameMs,
      view: map.getView(),
    };
  },
  /** Viewport (page) CSS pixels of a geographic point, e.g. for page.mouse.click. */
  mapToScreen(lat, lng) {
    const r = canvas.getBoundingClientRect();
    const p = map.project(lat, lng);
    return { x: r.left + p.x, y: r.top + p.y };
  },
  /** Geographic point of viewport (page) CSS pixels. */
  screenToMap(x, y) {
    const r = canvas.getBoundingClientRect();
    return map.unproject(x - r.left, y - r.top);
  },
  setView(lat, lng, zoom) {
    map.setView(lat, lng, zoom);
    map.render();
  },
  setTime(ms) {
    if (ms === null) {
      S.allTimes = true;
      $('#time-all').checked = true;
      applyTime();
    } else setTime(ms);
  },
  loadSynthetic,
  clearSynthetic() {
    map.setLayer(LAYER.synthetic, []);
    S.synthetic = 0;
  },
  redraw() {
    map.render();
    return map.lastFrameMs;
  },
  benchFrames,
  refresh: () => refreshAll(),
  map, // for debugging
  select: (id) => select(id),
};

// ---------------------------------------------------------------- start
async function start() {
  const marks = {};
  const mark = (k) => (marks[k] = Math.round(performance.now() - t0Load));
  const basemap = fetch('countries.geo.json')
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null)
    .then((geo) => {
      if (geo) map.setBasemap(geo);
      else toast('The basemap (countries.geo.json) could not be loaded.', 'error');
      mark('basemap');
    });
  const who = api.whoami().then((me) => {
    S.me = me;
    $('#whoami').textContent = `${me.party} @ ${me.service || 'service'}`;
    $('#whoami').title = me.log_origin ? `log origin: ${me.log_origin}` : '';
    document.title = `deconflict — ${me.party}`;
    loadEntries();
  }).catch((e) => {
    reportError('who am I', e);
    $('#whoami').textContent = 'not connected';
  });
  startStream();
  await Promise.all([
    who,
    loadMine().catch((e) => reportError('my intents', e)),
    loadConflicts().catch((e) => reportError('conflicts', e)),
    loadAlerts().catch((e) => reportError('alerts', e)),
    loadReceipts(),
  ]);
  mark('data');
  rebuildLayers();
  initialView();
  clearTimeout(queryTimer); // queried just below
  applyTime();
  await queryOthers().catch((e) => reportError('area query', e));
  mark('queries');
  await basemap;
  map.render();
  S.ready = true;
  S.loadMs = performance.now() - t0Load;
  S.loadMarks = marks;
  document.body.dataset.ready = 'true';
}

applyTime();
start();
