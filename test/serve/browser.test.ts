// The web page in headless Debian Chromium: upload a photo, the faces and every module's answer appear; the
// in-browser mode (face-api detector + the exported ONNX model on onnxruntime-web) agrees with the server. The model's
// tasks take different input sizes, so the browser feeds each graph input its own crops.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PaeModel } from '../../src/pae/index.ts';
import { Analyzer, type Analysis } from '../../src/serve/analyze.ts';
import { buildServer } from '../../src/serve/http.ts';
import { exportOnnx } from '../../src/serve/onnx/export-model.ts';
import { GROUP_PHOTO, mixedSizeModel } from './models.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let model: PaeModel;
let analyzer: Analyzer;
let app: FastifyInstance;
let browser: Browser;
let page: Page;
before(async () => {
  assert.ok(existsSync(CHROMIUM), `Debian Chromium not found at ${CHROMIUM} (npm test's setup installs it: apt-get install chromium)`);
  model = mixedSizeModel();
  analyzer = await Analyzer.create(model);
  app = buildServer(analyzer, { onnx: exportOnnx(model).bytes });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage();
  await page.goto(base);
});
after(async () => {
  await browser?.close();
  await app?.close();
  await analyzer?.dispose();
  model?.dispose();
});

async function upload(local: boolean): Promise<Analysis> {
  await page.setChecked('#local', local);
  // A fresh run: clear the previous result and the file input (picking the same file again must fire 'change').
  await page.evaluate(() => void (document.getElementById('status')!.dataset.done = ''));
  await page.setInputFiles('#file', []);
  await page.setInputFiles('#file', GROUP_PHOTO);
  await page.waitForSelector('#status[data-done="1"]', { timeout: 110_000 });
  const status = await page.textContent('#status');
  assert.doesNotMatch(status ?? '', /error/, status ?? '');
  return page.evaluate(() => (window as unknown as { paenetLast: Analysis }).paenetLast);
}

const iou = (a: number[], b: number[]): number => {
  const x = Math.max(0, Math.min(a[0]! + a[2]!, b[0]! + b[2]!) - Math.max(a[0]!, b[0]!));
  const y = Math.max(0, Math.min(a[1]! + a[3]!, b[1]! + b[3]!) - Math.max(a[1]!, b[1]!));
  return (x * y) / (a[2]! * a[3]! + b[2]! * b[3]! - x * y);
};

let server: Analysis;
test('the page lists the modules, and a photo sent to the server comes back boxed with every answer', async () => {
  const rows = await page.$$eval('#ledger tr', (trs) => trs.slice(1).map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent)));
  assert.deepEqual(
    rows.map((r) => [r[0], r[2]]),
    [
      ['identity', '150'],
      ['gender', '112'],
    ],
    'each module with its input size',
  );
  server = await upload(false);
  assert.ok(server.faces.length >= 8, `${server.faces.length} faces`);
  assert.equal(await page.locator('#stage .face').count(), server.faces.length);
  assert.match((await page.locator('#stage .face span').first().textContent()) ?? '', /gender: (male|female)/);
});

test('in-browser mode: the same faces and the same answers, computed without uploading the photo', async () => {
  let uploads = 0;
  page.on('request', (r) => void (r.url().endsWith('/v1/analyze') && uploads++));
  const here = await upload(true);
  assert.equal(uploads, 0, 'no image was sent');
  assert.equal((here as Analysis & { where: string }).where, 'browser');
  let matched = 0;
  for (const f of server.faces) {
    const g = here.faces.find((h) => iou(h.box, f.box) > 0.7);
    if (!g) continue;
    matched++;
    const a = f.tasks.gender as { label: string; score: number };
    const b = g.tasks.gender as { label: string; score: number };
    if (a.score >= 0.6) assert.equal(b.label, a.label, `gender of the face at ${f.box.map(Math.round)}`);
    const ea = (f.tasks.identity as { embedding: number[] }).embedding;
    const eb = (g.tasks.identity as { embedding: number[] }).embedding;
    const cos = ea.reduce((s, v, i) => s + v * eb[i]!, 0);
    assert.ok(cos > 0.9, `identity embeddings agree (cos ${cos.toFixed(3)})`);
  }
  console.log(`# ${here.faces.length} faces in the browser, ${server.faces.length} on the server, ${matched} matched`);
  assert.ok(matched >= Math.ceil(0.75 * server.faces.length), `${matched} of ${server.faces.length} faces matched`);
});
