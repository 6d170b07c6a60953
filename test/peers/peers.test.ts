// Peer rows: face-api and Human run as their npm packages ship them (tfjs-wasm) on real crops, scored with the
// shared protocols; their sizes are the files on disk; the age mapping follows the data's nearest-group rule.
import assert from 'node:assert/strict';
import { rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { evaluatePeer, type PeerDataSpec, type PeerRow } from '../../src/peers/evaluate.ts';
import { faceApiPeer } from '../../src/peers/face-api.ts';
import { humanAge, humanPeer } from '../../src/peers/human.ts';
import { ageGroupOf } from '../../src/peers/peer.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const dir = tempDir('peers');
after(() => rmSync(dir, { recursive: true, force: true }));

// A small pairs file over ORL (2 folds × 5 matched + 5 mismatched), beside a link to ORL's images.
function smallPairs(): string {
  symlinkSync(join(DATA, 'orl-faces/images'), join(dir, 'images'));
  const lines = ['2\t5'];
  for (let f = 0; f < 2; f++) {
    for (let k = 0; k < 5; k++) lines.push(`orl_s${1 + f * 5 + k}\t1\t2`);
    for (let k = 0; k < 5; k++) lines.push(`orl_s${11 + f * 5 + k}\t3\torl_s${21 + f * 5 + k}\t3`);
  }
  const p = join(dir, 'pairs.txt');
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

let spec: PeerDataSpec;
const rows: PeerRow[] = [];
before(async () => {
  needData('fer2013');
  needData('utkface-agegender');
  needData('orl-faces');
  spec = {
    expression: { data: join(DATA, 'fer2013/manifest.csv'), label: 'label' },
    gender: { data: join(DATA, 'utkface-agegender/manifest.csv'), label: 'gender' },
    age: { data: join(DATA, 'utkface-agegender/manifest.csv'), label: 'label' },
    verification: { pairs: smallPairs() },
    limit: 40,
  };
  for (const make of [faceApiPeer, humanPeer]) {
    const peer = await make();
    try {
      rows.push(await evaluatePeer(peer, spec));
    } finally {
      peer.dispose();
    }
  }
});

test('ages map to the nearest Adience group, ties to the older one', () => {
  assert.deepEqual([0, 2, 3, 7, 14, 22.5, 23, 33, 35.5, 44, 56.5, 60, 95].map(ageGroupOf), [0, 0, 1, 2, 3, 4, 4, 4, 5, 5, 7, 7, 7]);
});

test("Human's age decoding refines the arg-max decade by its stronger neighbour", () => {
  const p = new Array<number>(100).fill(0);
  p[3] = 0.6;
  p[4] = 0.3;
  p[2] = 0.1;
  assert.equal(humanAge(p), (10 * 3 + 100 * 0.3) / 10);
});

test('both toolkits answer every capability on the same crops, better than chance where they are trained for it', () => {
  assert.deepEqual(
    rows.map((r) => r.toolkit.replace(/@[\d.]+$/, '')),
    ['@vladmandic/face-api', '@vladmandic/human'],
  );
  for (const r of rows) {
    const f = (v?: number) => (v === undefined ? '–' : v.toFixed(3));
    console.log(
      `# ${r.toolkit}: expression ${f(r.expression)}, gender ${f(r.gender)}, age ${f(r.ageExact)} (1-off ${f(r.ageOneOff)}), ` +
        `verification ${f(r.verification?.accuracy)}, ${r.facesPerSecond.toFixed(1)} faces/s, ${r.bytes} bytes`,
    );
    assert.deepEqual(r.n, { expression: 40, gender: 40, age: 40, verification: 20 }, r.toolkit);
    for (const v of [r.expression, r.gender, r.ageExact, r.ageOneOff, r.verification?.accuracy])
      assert.ok(v !== undefined && v >= 0 && v <= 1, `${r.toolkit}: ${v}`);
    assert.ok(r.ageOneOff! >= r.ageExact!, 'one-off includes exact');
    assert.ok(r.gender! > 0.6, `${r.toolkit} gender ${r.gender} on UTKFace crops`);
    assert.ok(r.facesPerSecond > 0);
  }
});

test('sizes are the model files on disk: face-api’s three nets are about 7.2 MB', () => {
  for (const r of rows) {
    assert.equal(
      r.bytes,
      r.models.flatMap((m) => m.files).reduce((n, f) => n + statSync(f).size, 0),
    );
  }
  const faceApi = rows[0]!;
  assert.equal(faceApi.models.length, 3);
  assert.ok(Math.abs(faceApi.bytes / 1e6 - 7.2) < 0.3, `${faceApi.bytes} bytes`);
});
