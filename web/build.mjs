// build.mjs: builds web/dist from web/src for `deconflict ui` (embedded
// with go:embed). It copies the sources as they are (plain ES modules, no
// bundler) and writes dist/countries.geo.json, the offline basemap: Natural
// Earth country boundaries at 1:110m from the npm package world-atlas
// (TopoJSON), converted to GeoJSON with topojson-client.
//
// Usage: cd web && npm ci && node build.mjs
//
// The basemap's rings are made continuous across the antimeridian (a ring
// that crosses it has longitudes beyond ±180 rather than a jump of 360°),
// and a ring around a pole (Antarctica) is closed along that pole, so the
// map can draw every ring as one path and repeat it a world to either side.
// Coordinates are rounded to 0.01° (about 1 km, finer than the 1:110m data).

import { readFile, writeFile, mkdir, readdir, rm, copyFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const dist = path.join(here, 'dist');
const require = createRequire(import.meta.url);
const topojson = require('topojson-client');

async function copyTree(from, to) {
  await mkdir(to, { recursive: true });
  for (const ent of await readdir(from, { withFileTypes: true })) {
    const a = path.join(from, ent.name), b = path.join(to, ent.name);
    if (ent.isDirectory()) await copyTree(a, b);
    else if (ent.isFile()) await copyFile(a, b);
  }
}

const round = (x) => Math.round(x * 100) / 100;

// fixRing unwraps a ring's longitudes and closes a ring that goes around a
// pole. It returns [lng, lat] pairs, rounded, without repeated points.
function fixRing(ring) {
  const out = [];
  let prev = null;
  for (const [lng0, lat] of ring) {
    let lng = lng0;
    if (prev) {
      while (lng - prev[0] > 180) lng -= 360;
      while (lng - prev[0] < -180) lng += 360;
    }
    const p = [round(lng), round(lat)];
    if (!prev || p[0] !== prev[0] || p[1] !== prev[1]) out.push(p);
    prev = [lng, lat];
  }
  if (out.length > 1) {
    const first = out[0], last = out[out.length - 1];
    if (Math.abs(last[0] - first[0]) > 180) {
      // Circumpolar: close it along the nearer pole.
      const meanLat = out.reduce((s, p) => s + p[1], 0) / out.length;
      const pole = meanLat < 0 ? -90 : 90;
      out.push([last[0], pole], [first[0], pole], [first[0], first[1]]);
    }
  }
  return out;
}

function fixGeometry(g) {
  if (!g) return null;
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: g.coordinates.map(fixRing) };
  if (g.type === 'MultiPolygon') return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(fixRing)) };
  return g;
}

async function basemap() {
  const topo = JSON.parse(await readFile(require.resolve('world-atlas/countries-110m.json'), 'utf8'));
  const fc = topojson.feature(topo, topo.objects.countries);
  const features = fc.features
    .filter((f) => f.geometry)
    .map((f) => ({ type: 'Feature', id: f.id, properties: { name: f.properties?.name ?? '' }, geometry: fixGeometry(f.geometry) }));
  return { type: 'FeatureCollection', attribution: 'Natural Earth (public domain), via world-atlas 2', features };
}

await rm(dist, { recursive: true, force: true });
await copyTree(src, dist);
const geo = await basemap();
const out = path.join(dist, 'countries.geo.json');
await writeFile(out, JSON.stringify(geo));
let total = 0;
for (const f of await readdir(dist)) total += (await stat(path.join(dist, f))).size;
console.log(`built ${path.relative(process.cwd(), dist) || dist}: ${geo.features.length} countries, ${(total / 1024).toFixed(0)} KiB`);
