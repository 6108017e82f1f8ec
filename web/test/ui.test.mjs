// ui.test.mjs: the browser test of deconflict's map UI, with headless
// Chromium driven by playwright-core (never a downloaded browser).
//
// Environment:
//   UI_URL_A        base URL of `deconflict ui --as france` (operational grant from usa)
//   UI_URL_B        base URL of `deconflict ui --as russia` (no grant from usa)
//   SCREENSHOT_DIR  where to save PNG screenshots; the test also creates
//                   ${SCREENSHOT_DIR}/trigger-alert there, for the harness to
//                   file a usa intent conflicting with france's (step 4)
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   UI_PRIORITY     priority russia files with in step 3 (default 100:
//                   above usa's transit, so the re-file is accepted under
//                   the strict policy)
//   UI_TIMEOUT_MS   how long to wait for each expected change (default 30000)
//
// The scenario (set up by the harness): usa's intent "transit" (circle
// 34.9, 33.3, r 10 km, 4000-5000 m, starting in ~1 h for 1 h) with an
// operational grant to france and none to russia; france's own intent
// (35.6, 33.0, r 20 km, 3000-6000 m, same window).
//
// Prints one line per check ("ok - ..." or "FAIL - ..."), the measurements
// UI_LOAD_MS=<ms> and UI_FRAME_MS=<ms>, and "N passed, N failed"; exits 1
// if anything failed.

import { chromium } from 'playwright-core';
import { mkdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const A = process.env.UI_URL_A, B = process.env.UI_URL_B;
if (!A || !B) {
  console.error('ui.test: set UI_URL_A and UI_URL_B to the base URLs of two `deconflict ui` proxies (france, russia)');
  process.exit(2);
}
const SHOTS = process.env.SCREENSHOT_DIR || (await mkdtemp(path.join(os.tmpdir(), 'deconflict-ui-')));
const TIMEOUT = Number(process.env.UI_TIMEOUT_MS) || 30000;
const PRIORITY = Number(process.env.UI_PRIORITY ?? 100);
await mkdir(SHOTS, { recursive: true });
await rm(path.join(SHOTS, 'trigger-alert'), { force: true });

const guard = setTimeout(() => {
  console.error('FAIL - ui.test: took longer than 5 minutes; giving up');
  process.exit(1);
}, 5 * 60e3);

let passed = 0, failed = 0;
const ok = (msg) => { passed++; console.log(`ok - ${msg}`); };
const fail = (msg) => { failed++; console.log(`FAIL - ${msg}`); };
function check(cond, msg, detail = '') {
  if (cond) ok(msg);
  else fail(`${msg}${detail ? ` (${detail})` : ''}`);
  return !!cond;
}
class Fatal extends Error {}
function must(cond, msg, detail = '') {
  if (!check(cond, msg, detail)) throw new Fatal(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const pad = (n) => String(n).padStart(2, '0');
// datetime-local value in UTC (the pages run with timezoneId UTC).
const utcInput = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

async function openUI(url, name) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 850 }, timezoneId: 'UTC', locale: 'en-GB' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`  [${name} console] ${m.text()}`);
  });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => {
    const s = window.__deconflict?.stats();
    return s && s.ready && s.pendingQueries === 0;
  }, null, { timeout: TIMEOUT });
  const loadMs = Date.now() - t0;
  return { page, ctx, errors, loadMs };
}

const stats = (page) => page.evaluate(() => window.__deconflict.stats());
const shot = async (page, name) => {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  screenshot ${file}`);
};
async function step(name, fn) {
  console.log(`# ${name}`);
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof Fatal)) fail(`${name}: ${e.message.split('\n')[0]}`);
    for (const ui of [uiA, uiB]) {
      if (ui) await shot(ui.page, `fail-${name.split(':')[0]}-${ui === uiA ? 'a' : 'b'}`).catch(() => {});
    }
  }
}

let uiA = null, uiB = null;
let loadMsA = null;

// (1) france sees its own intent and usa's transit (operational grant).
await step('1: UI A (france) shows its intent and usa\'s transit', async () => {
  uiA = await openUI(A, 'A');
  loadMsA = uiA.loadMs;
  const s = await stats(uiA.page);
  console.log(`  stats ${JSON.stringify(s)}`);
  check(s.party === 'france', 'UI A is france', `party ${s.party}`);
  check(s.myIntents >= 1, 'UI A: france\'s own intent is loaded', `myIntents ${s.myIntents}`);
  check(s.otherIntents >= 1, 'UI A: usa\'s transit is loaded (otherIntents >= 1)', `otherIntents ${s.otherIntents}`);
  // Make sure the transit is in view, then check it is drawn and hover it.
  await uiA.page.evaluate(() => window.__deconflict.setView(35.25, 33.15, 8));
  await uiA.page.waitForTimeout(300);
  await uiA.page.waitForFunction(() => window.__deconflict.stats().pendingQueries === 0, null, { timeout: TIMEOUT });
  const s2 = await stats(uiA.page);
  check(s2.volumesDrawn >= 2, 'UI A: both volumes drawn on the map', `volumesDrawn ${s2.volumesDrawn}`);
  check(await uiA.page.locator('[data-testid="intent-item"][data-owner="usa"]').count() >= 1, 'UI A: usa\'s intent is listed');
  const p = await uiA.page.evaluate(() => window.__deconflict.mapToScreen(34.9, 33.3));
  await uiA.page.mouse.move(p.x, p.y);
  const tip = uiA.page.getByTestId('map-tooltip');
  await tip.waitFor({ state: 'visible', timeout: 5000 });
  const text = await tip.textContent();
  check(/usa/.test(text) && /4,000\s*m\s*–\s*5,000\s*m/.test(text), 'UI A: hovering usa\'s transit shows its owner and altitude band', JSON.stringify(text));
  await shot(uiA.page, '01-ui-a-france');
  // Details panel on click.
  await uiA.page.mouse.click(p.x, p.y);
  await uiA.page.getByTestId('detail-owner').waitFor({ timeout: 5000 });
  check(/usa/.test(await uiA.page.getByTestId('detail-owner').textContent()), 'UI A: clicking the transit shows its details (owner usa)');
  check(await uiA.page.getByTestId('detail-altitude').count() >= 1, 'UI A: the details list the volume\'s altitude band');
  await shot(uiA.page, '01b-ui-a-details');
});

// (2) russia sees no intent of others (deconfliction grant only).
await step('2: UI B (russia) sees no other intents', async () => {
  uiB = await openUI(B, 'B');
  await uiB.page.evaluate(() => window.__deconflict.setView(34.9, 33.3, 8));
  await uiB.page.waitForTimeout(500);
  await uiB.page.waitForFunction(() => window.__deconflict.stats().pendingQueries === 0, null, { timeout: TIMEOUT });
  const s = await stats(uiB.page);
  console.log(`  stats ${JSON.stringify(s)}`);
  check(s.party === 'russia', 'UI B is russia', `party ${s.party}`);
  check(s.otherIntents === 0, 'UI B: no other party\'s intent is shown (otherIntents == 0)', `otherIntents ${s.otherIntents}`);
  await shot(uiB.page, '02-ui-b-russia');
});

// (3) russia files over usa's transit: refused for a missing key, with the
// disclosed overlap cells drawn; acknowledge and re-file: accepted, with a
// verified receipt.
await step('3: UI B files over the transit, is refused, re-files with the key', async () => {
  must(uiB, 'UI B is open');
  const page = uiB.page;
  await page.evaluate(() => window.__deconflict.setView(34.9, 33.3, 10));
  await page.getByTestId('draw-circle').click();
  const c = await page.evaluate(() => window.__deconflict.mapToScreen(34.9, 33.3));
  const e = await page.evaluate(() => window.__deconflict.mapToScreen(34.9 + 5 / 111.2, 33.3));
  await page.mouse.click(c.x, c.y);
  await page.mouse.move((c.x + e.x) / 2, (c.y + e.y) / 2);
  await page.mouse.click(e.x, e.y);
  const form = page.getByTestId('file-form');
  await form.waitFor({ state: 'visible', timeout: 5000 });
  ok('drawing a circle opens the filing form');
  const shape = await page.getByTestId('file-shape').textContent();
  const km = Number(/radius ([\d.]+) km/.exec(shape)?.[1]);
  check(Math.abs(km - 5) < 0.3, 'the drawn circle has a radius of ~5 km', shape);
  const now = Date.now();
  await page.getByTestId('file-alt-lo').fill('4500');
  await page.getByTestId('file-alt-hi').fill('4800');
  await page.getByTestId('file-start').fill(utcInput(now + 10 * 60e3));
  await page.getByTestId('file-end').fill(utcInput(now + 4 * 3600e3));
  await page.getByTestId('file-priority').fill(String(PRIORITY));
  await page.getByTestId('file-state').selectOption('accepted');
  await shot(page, '03a-ui-b-form');
  await page.getByTestId('file-submit').click();
  const refusal = page.getByTestId('refusal-panel');
  await refusal.waitFor({ state: 'visible', timeout: TIMEOUT });
  const type = await page.getByTestId('refusal-type').getAttribute('data-type');
  must(type === 'urn:deconflict:problem:missing-key', 'the filing is refused for a missing key', `type ${type}; panel: ${(await refusal.textContent()).slice(0, 300)}`);
  await page.waitForFunction(() => window.__deconflict.stats().refusalCells > 0, null, { timeout: 10000 }).catch(() => {});
  await page.waitForTimeout(200);
  const s = await stats(page);
  check(await page.locator('[data-testid="refusal-intent"]').count() >= 1, 'the refusal lists the conflicting intent');
  check(s.refusalCells > 0 && s.cellsDrawn > 0, 'the disclosed overlap cells are drawn on the map', `refusalCells ${s.refusalCells}, cellsDrawn ${s.cellsDrawn}`);
  await shot(page, '03b-ui-b-refusal');
  await page.getByTestId('refile-button').click();
  const filed = page.getByTestId('filed-panel');
  await filed.waitFor({ state: 'visible', timeout: TIMEOUT });
  const badge = filed.getByTestId('receipt-badge');
  const badgeText = await badge.textContent();
  check(/verified/.test(badgeText) && (await badge.getAttribute('data-verified')) === 'true', 'the re-filed intent is accepted with a verified receipt', badgeText);
  check(await refusal.isHidden(), 'the refusal panel is gone');
  await shot(page, '03c-ui-b-filed');
  // The conflict with usa shows, with its hotline.
  const got = await page.waitForFunction(() => window.__deconflict.stats().conflicts >= 1, null, { timeout: 10000 }).then(() => true, () => false);
  check(got, 'UI B lists the new conflict with usa\'s transit');
  if (got) {
    await page.getByTestId('tab-conflicts').click();
    await page.getByTestId('conflict-item').first().click();
    const input = page.getByTestId('hotline-input');
    await input.waitFor({ timeout: 10000 });
    await input.fill('russia here: we will hold at 4500 m');
    await page.getByTestId('hotline-send').click();
    const msg = page.locator('[data-testid="hotline-message"]', { hasText: 'we will hold at 4500 m' });
    check(await msg.waitFor({ timeout: 10000 }).then(() => true, () => false), 'a hotline message is posted and shown');
    await page.getByTestId('hotline-coordinate').click();
    check(await page.waitForFunction(() => document.querySelector('[data-testid="hotline-coordinate"]')?.disabled, null, { timeout: 10000 }).then(() => true, () => false),
      'the conflict is marked coordinated by russia');
    await shot(page, '03d-ui-b-hotline');
  }
});

// (4) an alert arrives live in UI A and is acknowledged.
await step('4: UI A receives an alert live and acknowledges it', async () => {
  must(uiA, 'UI A is open');
  const page = uiA.page;
  await page.getByTestId('tab-alerts').click();
  const live = await page.waitForFunction(() => window.__deconflict.stats().stream === 'live', null, { timeout: 10000 }).then(() => true, () => false);
  check(live, 'UI A\'s alert stream is live');
  const before = await page.$$eval('[data-testid="alert-item"]', (els) => els.map((e) => e.dataset.alertId));
  await writeFile(path.join(SHOTS, 'trigger-alert'), `${new Date().toISOString()}\n`);
  console.log(`  created ${path.join(SHOTS, 'trigger-alert')}; waiting for the alert`);
  const id = await page.waitForFunction((known) => {
    const el = [...document.querySelectorAll('[data-testid="alert-item"]')].find((e) => !known.includes(e.dataset.alertId) && e.dataset.acked === 'false');
    return el ? el.dataset.alertId : null;
  }, before, { timeout: Math.max(TIMEOUT, 60000) }).then((h) => h.jsonValue(), () => null);
  must(id, 'a new alert appears in UI A\'s inbox without reloading');
  const item = page.locator(`[data-testid="alert-item"][data-alert-id="${id}"]`);
  console.log(`  alert ${id}: ${(await item.textContent()).replace(/\s+/g, ' ').slice(0, 160)}`);
  await shot(page, '04a-ui-a-alert');
  await item.getByTestId('ack-button').click();
  const acked = await page.waitForFunction((aid) => document.querySelector(`[data-testid="alert-item"][data-alert-id="${aid}"]`)?.dataset.acked === 'true', id, { timeout: TIMEOUT }).then(() => true, () => false);
  check(acked, 'the alert shows as acknowledged');
  check(await item.getByTestId('ack-state').count() === 1, 'the acknowledged alert shows its state');
  await shot(page, '04b-ui-a-acked');
  // Receipts of france's writes (its acknowledgement at least).
  await page.getByTestId('tab-receipts').click();
  const rc = await page.waitForFunction(() => document.querySelectorAll('[data-testid="receipts-list"] [data-testid="receipt-badge"][data-verified="true"]').length > 0, null, { timeout: 10000 }).then(() => true, () => false);
  check(rc, 'the receipts panel lists verified receipts');
  await shot(page, '04c-ui-a-receipts');
});

// (5) 10,000 volumes.
let frameMs = null;
await step('5: UI A draws 10,000 volumes', async () => {
  must(uiA, 'UI A is open');
  const page = uiA.page;
  await page.getByTestId('tab-details').click();
  await page.evaluate(() => window.__deconflict.setView(35, 33, 6));
  const n = await page.evaluate(() => window.__deconflict.loadSynthetic(10000));
  check(n === 10000, '10,000 synthetic volumes loaded', `got ${n}`);
  await page.evaluate(() => window.__deconflict.setTime(null)); // all times: none faded
  const bench = await page.evaluate(() => window.__deconflict.benchFrames(10));
  const s = await stats(page);
  frameMs = bench.avgMs;
  console.log(`  frames ${bench.times.map((t) => t.toFixed(1)).join(' ')} ms; volumesDrawn ${s.volumesDrawn}; lastFrameMs ${s.lastFrameMs.toFixed(1)}`);
  check(s.volumesDrawn >= 10000, 'all 10,000 volumes are drawn', `volumesDrawn ${s.volumesDrawn}`);
  check(bench.maxMs <= 1000, 'no frame takes over 1000 ms', `max ${bench.maxMs.toFixed(1)} ms`);
  // Interaction stays responsive: hover and wheel zoom.
  const t0 = Date.now();
  const c = await page.evaluate(() => window.__deconflict.mapToScreen(35, 33));
  await page.mouse.move(c.x, c.y);
  await page.mouse.wheel(0, -300);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const interactMs = Date.now() - t0;
  check(interactMs < 2000, 'hover and zoom stay responsive with 10,000 volumes', `${interactMs} ms`);
  await page.evaluate(() => window.__deconflict.setView(35, 33, 6));
  await shot(page, '05-ui-a-10k');
  check(uiA.errors.length === 0 && (!uiB || uiB.errors.length === 0), 'no uncaught errors in the pages', [...uiA.errors, ...(uiB?.errors || [])].join('; '));
});

if (loadMsA !== null) console.log(`UI_LOAD_MS=${loadMsA}`);
if (frameMs !== null) console.log(`UI_FRAME_MS=${frameMs.toFixed(1)}`);
await browser.close();
clearTimeout(guard);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
