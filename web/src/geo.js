// geo.js: spherical and Web Mercator helpers (no DOM; the test mock uses
// them too).

export const EARTH_RADIUS_M = 6371008.8;
export const MAX_LAT = 85.0511287798066; // Web Mercator's square world
const D2R = Math.PI / 180, R2D = 180 / Math.PI;

export const clamp = (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x);

/** Normalises a longitude to [-180, 180). */
export function wrapLng(lng) {
  const l = ((((lng + 180) % 360) + 360) % 360) - 180;
  return l === -180 && lng > 0 ? 180 - 1e-12 : l;
}

/** Web Mercator: world x in [0, 1) for lng in [-180, 180) (beyond: outside). */
export const mercX = (lng) => (lng + 180) / 360;
/** Web Mercator: world y in [0, 1], 0 at the north edge. */
export function mercY(lat) {
  const s = Math.sin(clamp(lat, -MAX_LAT, MAX_LAT) * D2R);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}
export const unmercX = (x) => x * 360 - 180;
export const unmercY = (y) => R2D * (2 * Math.atan(Math.exp((0.5 - y) * 2 * Math.PI)) - Math.PI / 2);

/** Great-circle distance in metres. */
export function haversine(lat1, lng1, lat2, lng2) {
  const dLat = (lat2 - lat1) * D2R, dLng = (lng2 - lng1) * D2R;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * D2R) * Math.cos(lat2 * D2R) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The point at distance d (m) from (lat, lng) on bearing brg (degrees). */
export function destination(lat, lng, d, brg) {
  const φ1 = lat * D2R, λ1 = lng * D2R, θ = brg * D2R, δ = d / EARTH_RADIUS_M;
  const φ2 = Math.asin(Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(θ));
  const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * Math.sin(φ2));
  return [φ2 * R2D, λ2 * R2D];
}

/** A circle as a ring of n [lat, lng] points (longitudes continuous, not wrapped). */
export function circleRing(lat, lng, radiusM, n = 64) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const [la, ln] = destination(lat, lng, radiusM, (360 * i) / n);
    out.push([la, unwrapNear(ln, lng)]);
  }
  return out;
}

/** lng moved by a multiple of 360 to be within 180 of ref. */
export function unwrapNear(lng, ref) {
  while (lng - ref > 180) lng -= 360;
  while (lng - ref < -180) lng += 360;
  return lng;
}

/** A [lat, lng] ring made continuous in longitude (each within 180° of the one before). */
export function unwrapRing(ring) {
  const out = [];
  let prev = null;
  for (const [lat, lng] of ring) {
    const l = prev === null ? lng : unwrapNear(lng, prev);
    out.push([lat, l]);
    prev = l;
  }
  return out;
}

/** Area of a small [lat, lng] ring in m² (equirectangular about its centre; good for tiles). */
export function ringAreaM2(ring) {
  const r = unwrapRing(ring);
  const lat0 = r.reduce((s, p) => s + p[0], 0) / r.length;
  const kx = Math.cos(lat0 * D2R) * D2R * EARTH_RADIUS_M, ky = D2R * EARTH_RADIUS_M;
  let a = 0;
  for (let i = 0; i < r.length; i++) {
    const [y1, x1] = r[i], [y2, x2] = r[(i + 1) % r.length];
    a += x1 * kx * (y2 * ky) - x2 * kx * (y1 * ky);
  }
  return Math.abs(a) / 2;
}

/**
 * Tiles covering a lat/lng box for area queries: each a polygon of at most
 * ~maxSideKm per side (so its area stays under the service's 100,000 km²),
 * on a grid aligned to the globe so that tiles repeat between views and can
 * be cached. west may be > east-360.. the box is [south, north] × [west, east]
 * with east - west <= 360. Returns {key, ring: [[lat,lng]...]} or null if
 * there would be more than maxTiles.
 */
export function queryTiles(south, west, north, east, maxSideKm = 250, maxTiles = 64) {
  const stepLat = (maxSideKm / 111.2);
  south = clamp(south, -89.9, 89.9);
  north = clamp(north, -89.9, 89.9);
  const tiles = [];
  const i0 = Math.floor(south / stepLat), i1 = Math.floor(north / stepLat);
  for (let i = i0; i <= i1; i++) {
    const la0 = Math.max(-89.9, i * stepLat), la1 = Math.min(89.9, (i + 1) * stepLat);
    const widestLat = Math.min(Math.abs(la0), Math.abs(la1)) ; // widest edge is nearer the equator
    const cos = Math.max(0.02, Math.cos(widestLat * D2R));
    // Column width in degrees, so that 360 is a whole number of columns.
    let cols = Math.ceil(360 / (maxSideKm / (111.2 * cos)));
    const stepLng = 360 / cols;
    const j0 = Math.floor((west + 180) / stepLng), j1 = Math.floor((east + 180 - 1e-9) / stepLng);
    if (j1 - j0 + 1 > cols) return null;
    for (let j = j0; j <= j1; j++) {
      const jj = ((j % cols) + cols) % cols;
      const lo0 = -180 + jj * stepLng, lo1 = lo0 + stepLng;
      // Densified edges (geodesic edges between far vertices bow away from
      // parallels); 4 segments per side.
      const ring = [];
      const n = 4;
      for (let k = 0; k < n; k++) ring.push([la0, lo0 + (stepLng * k) / n]);
      for (let k = 0; k < n; k++) ring.push([la0 + ((la1 - la0) * k) / n, lo1]);
      for (let k = 0; k < n; k++) ring.push([la1, lo1 - (stepLng * k) / n]);
      for (let k = 0; k < n; k++) ring.push([la1 - ((la1 - la0) * k) / n, lo0]);
      tiles.push({ key: `${maxSideKm}:${i}:${jj}`, ring: ring.map(([a, b]) => [round6(a), round6(wrapLng(b))]) });
      if (tiles.length > maxTiles) return null;
    }
  }
  return tiles;
}

const round6 = (x) => Math.round(x * 1e6) / 1e6;

/** Point in polygon (ray casting) in a plane; ring is [[x, y]...] or flat [x0,y0,x1,y1...]. */
export function pointInFlatRing(x, y, flat) {
  let inside = false;
  const n = flat.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const xi = flat[i], yi = flat[i + 1], xj = flat[j], yj = flat[j + 1];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Formats metres as "1 234 m". */
export function fmtM(m) {
  return `${Math.round(m).toLocaleString('en-US')} m`;
}
