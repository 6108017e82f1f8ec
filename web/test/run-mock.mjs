// run-mock.mjs: runs the browser test (ui.test.mjs) against the mock
// proxies (mock.mjs) instead of the real service: `npm test` in web/.
// Builds nothing: run `node build.mjs` first (it serves dist/).

import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMock } from './mock.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = process.env.SCREENSHOT_DIR || (await mkdtemp(path.join(os.tmpdir(), 'deconflict-ui-shots-')));
const mock = await startMock({ screenshotDir: shots, dir: path.join(here, '..', process.env.UI_DIR || 'dist'), latencyMs: Number(process.env.MOCK_LATENCY_MS) || 0 });
console.log(`mock: france ${mock.urls.france}, russia ${mock.urls.russia}; screenshots in ${shots}`);
const child = spawn(process.execPath, [path.join(here, 'ui.test.mjs')], {
  stdio: 'inherit',
  env: { ...process.env, UI_URL_A: mock.urls.france, UI_URL_B: mock.urls.russia, SCREENSHOT_DIR: shots },
});
child.on('exit', (code) => {
  console.log(`mock: ${mock.stats.queries} area queries served`);
  mock.close();
  process.exit(code ?? 1);
});
