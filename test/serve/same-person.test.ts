// One "same person?" rule everywhere: two different real faces whose distance EQUALS the model's threshold (and the
// thresholds one double below and above it) get the same answer from the API's verify, HTTP POST /v1/verify and
// the CLI's `paenet verify`. The CLI is given exactly the crops the API cut, so all three measure the same distance.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { setNumThreads } from '../../src/engine/index.ts';
import { saveModel, type PaeModel } from '../../src/pae/index.ts';
import { Analyzer } from '../../src/serve/analyze.ts';
import { buildServer } from '../../src/serve/http.ts';
import { paenetAsync, tempDir } from '../cli/helpers.ts';
import { GROUP_PHOTO, PORTRAIT_PHOTO, servingModel } from './models.ts';

const dir = tempDir('same-person');

interface Answer {
  distance: number;
  threshold: number;
  same: boolean;
}

/** The neighbouring double of a positive finite `x` (C's nextafter towards ±Infinity). */
function nextDouble(x: number, direction: 1 | -1): number {
  const bits = new BigInt64Array(Float64Array.of(x).buffer);
  bits[0]! += BigInt(direction);
  return new Float64Array(bits.buffer)[0]!;
}

let model: PaeModel;
let analyzer: Analyzer;
let app: FastifyInstance;
const cropFiles: string[] = [];
before(async () => {
  setNumThreads(1); // as the CLI runs here (`--threads 1`): one libtorch thread on both sides of the comparison
  model = servingModel();
  // The libtorch runtime: the forward the CLI runs, so both sides compute bit for bit the same embeddings.
  analyzer = await Analyzer.create(model, { runtime: 'libtorch' });
  app = buildServer(analyzer);
  await app.ready();
  const size = model.inputSizeOf(model.tasks[0]!);
  for (const [name, photo] of [
    ['portrait.png', PORTRAIT_PHOTO],
    ['group.png', GROUP_PHOTO],
  ] as const) {
    // The identity task's crop: the one its descriptor is computed from.
    const crop = (await analyzer.largestFace(photo)).crops.get(size)!;
    const file = join(dir, name);
    // PNG is lossless: the CLI decodes exactly the crop the API compared.
    await sharp(crop, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(file);
    cropFiles.push(file);
  }
});
after(async () => {
  await app?.close();
  await analyzer?.dispose();
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The API's and the HTTP service's answers with the model's threshold set to `threshold`; a model file holding it for the CLI. */
async function askServer(threshold: number, file: string): Promise<{ api: Answer; http: Answer }> {
  model.tasks[0]!.extra.threshold = threshold;
  saveModel(model, file);
  const api = await analyzer.verify(PORTRAIT_PHOTO, GROUP_PHOTO);
  const r = await app.inject({
    method: 'POST',
    url: '/v1/verify',
    payload: { a: readFileSync(PORTRAIT_PHOTO).toString('base64'), b: readFileSync(GROUP_PHOTO).toString('base64') },
  });
  assert.equal(r.statusCode, 200, r.body);
  return { api, http: r.json<Answer>() };
}

test('at, just below and just above the threshold, the API, HTTP and the CLI give the same answer', async () => {
  const measured = (await analyzer.verify(PORTRAIT_PHOTO, GROUP_PHOTO)).distance;
  console.log(`# distance of the two faces: ${measured}`);
  assert.ok(measured > 0.02, `two different people: distance ${measured}`);
  const cases = [
    { threshold: nextDouble(measured, -1), same: false },
    { threshold: measured, same: true },
    { threshold: nextDouble(measured, 1), same: true },
  ];
  const files = cases.map((_, i) => join(dir, `model-${i}.pae`));
  const server: { api: Answer; http: Answer }[] = [];
  for (const [i, c] of cases.entries()) server.push(await askServer(c.threshold, files[i]!));
  // The CLI runs side by side, one process per threshold.
  const cli = await Promise.all(files.map((f) => paenetAsync('verify', f, cropFiles[0]!, cropFiles[1]!, '--json')));
  for (const [i, c] of cases.entries()) {
    assert.equal(cli[i]!.status, 0, cli[i]!.stderr);
    const answers: Record<string, Answer> = { ...server[i]!, cli: JSON.parse(cli[i]!.stdout) as Answer };
    for (const [where, a] of Object.entries(answers)) {
      assert.equal(a.distance, measured, `${where}: the same distance, to the last bit`);
      assert.equal(a.threshold, c.threshold, `${where}: the model's threshold`);
      assert.equal(a.same, c.same, `${where} at threshold ${c.threshold} (distance ${measured})`);
    }
  }
});
