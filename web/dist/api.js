// api.js: the calls the page makes to the local proxy (`deconflict ui`),
// which forwards /api/v1/... to the service signed as its party and serves
// a few /api/... helpers of its own (whoami, cells, receipts).

/** ApiError is a failed call: an RFC 9457 problem if the server sent one. */
export class ApiError extends Error {
  constructor(status, problem, text) {
    const p = problem || {};
    super(p.title ? `${p.title}${p.detail ? `: ${p.detail}` : ''}` : `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    this.status = status;
    this.problem = problem; // null if the body was not a problem
    this.type = p.type || '';
    this.retryAfter = 0;
  }
}

export const PROBLEM = {
  missingKey: 'urn:deconflict:problem:missing-key',
  conflict: 'urn:deconflict:problem:conflict',
  validation: 'urn:deconflict:problem:validation',
  rateLimited: 'urn:deconflict:problem:rate-limited',
};

const BASE = new URL('api/', document.baseURI).pathname; // "/api/" when served at /

async function call(method, path, body, { signal } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const ct = res.headers.get('Content-Type') || '';
    const isProblem = json && (ct.includes('problem+json') || (typeof json.type === 'string' && typeof json.title === 'string'));
    const err = new ApiError(res.status, isProblem ? json : null, json ? '' : text);
    err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
    throw err;
  }
  return json;
}

const enc = encodeURIComponent;

export const api = {
  whoami: () => call('GET', 'whoami'),
  intents: () => call('GET', 'v1/intents'),
  query: (volume, opts) => call('POST', 'v1/intents/query', { volume }, opts),
  file: (req) => call('POST', 'v1/intents', req),
  conflicts: () => call('GET', 'v1/conflicts'),
  alerts: () => call('GET', 'v1/alerts'),
  ack: (id) => call('POST', `v1/alerts/${enc(id)}/ack`, { alert: id }),
  hotline: (id) => call('GET', `v1/conflicts/${enc(id)}/messages`),
  post: (id, text) => call('POST', `v1/conflicts/${enc(id)}/messages`, { conflict: id, text }),
  coordinate: (id) => call('POST', `v1/conflicts/${enc(id)}/coordinate`, { conflict: id }),
  cells: (tokens) => call('GET', `cells?tokens=${tokens.map(enc).join(',')}`),
  receipts: () => call('GET', 'receipts'),
  streamURL: () => BASE + 'v1/alerts/stream',
};

/**
 * cellCorners resolves S2 cell tokens to their corners through the proxy,
 * caching them and asking in batches. Returns a Map token -> [[lat,lng]x4].
 */
const cellCache = new Map();
export async function cellCorners(tokens) {
  const want = [...new Set(tokens)].filter((t) => !cellCache.has(t));
  for (let i = 0; i < want.length; i += 100) {
    const batch = want.slice(i, i + 100);
    try {
      const r = await api.cells(batch);
      for (const [t, c] of Object.entries(r?.cells || {})) cellCache.set(t, c);
    } catch (e) {
      console.warn('cells', e);
    }
  }
  const out = new Map();
  for (const t of tokens) if (cellCache.has(t)) out.set(t, cellCache.get(t));
  return out;
}

/** Parses a receipt: its leaf's index, kind, time, and the checkpoint's size (2nd line). */
export function parseReceipt(r) {
  const leaf = {};
  for (const line of String(r?.leaf || '').split('\n')) {
    const m = /^(index|time|kind|party) (.*)$/.exec(line);
    if (m) leaf[m[1]] = m[2];
  }
  const cp = String(r?.checkpoint || '').split('\n');
  const size = /^\d+$/.test(cp[1] || '') ? Number(cp[1]) : null;
  return {
    index: r?.index ?? (leaf.index ? Number(leaf.index) : null),
    kind: leaf.kind || '',
    time: leaf.time || '',
    party: leaf.party || '',
    origin: cp[0] || '',
    size,
    verified: r?.verified === true,
  };
}
