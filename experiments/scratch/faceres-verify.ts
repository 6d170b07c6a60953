// Scratch (issue 13): scores the descriptors and head outputs faceres_torch.py wrote with the project's own protocols
// (10-fold verification, top-1 / macro accuracy, age groups as the peer row maps Human's age today).
// node --import tsx experiments/scratch/faceres-verify.ts /tmp/faceres [TAG]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracy, macroAccuracy, oneOffAccuracy } from '../../src/metrics/classification.ts';
import { evaluateVerification, flipConcatEmbedding, l2normalize, cosineDistance } from '../../src/metrics/verification.ts';
import { ageGroupOf } from '../../src/peers/peer.ts';
import { humanAge } from '../../src/peers/human.ts';

const dump = process.argv[2] ?? '/tmp/faceres';
const tag = process.argv[3] ?? '';
const meta = JSON.parse(readFileSync(join(dump, 'meta.json'), 'utf8')) as {
  sizes: number[];
  celeba: PairMeta;
  glint: PairMeta;
  utk: { images: number; gender: number[]; age: number[] };
};
interface PairMeta {
  images: number;
  a: number[];
  b: number[];
  same: boolean[];
  fold: number[];
}

const f32 = (name: string) => {
  const b = readFileSync(join(dump, name));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const rows = (m: Float32Array, n: number) => Array.from({ length: n }, (_, i) => m.subarray((i * m.length) / n, ((i + 1) * m.length) / n));
const pct = (x: number) => (100 * x).toFixed(2);

for (const set of ['celeba', 'glint'] as const) {
  const p = meta[set];
  for (const size of meta.sizes) {
    const file = `desc${tag}-${set}-${size}.f32`;
    if (!existsSync(join(dump, file))) continue;
    const plain = rows(f32(file), p.images).map((v) => l2normalize(v));
    const flipFile = `descflip${tag}-${set}-${size}.f32`;
    const flipped = existsSync(join(dump, flipFile)) ? rows(f32(flipFile), p.images) : undefined;
    const score = (e: Float32Array[]) => {
      const r = evaluateVerification(
        Float64Array.from(p.a, (a, k) => cosineDistance(e[a]!, e[p.b[k]!]!)),
        p.same,
        Int32Array.from(p.fold),
      );
      return `${pct(r.summary.mean)} ± ${pct(r.summary.std)}`;
    };
    const cat = flipped && plain.map((v, i) => flipConcatEmbedding(v, l2normalize(flipped[i]!)));
    console.log(`verify ${set} ${size}px: plain ${score(plain)}${cat ? ` | image+mirror ${score(cat)}` : ''}`);
  }
}

const u = meta.utk;
for (const size of meta.sizes) {
  for (const flip of ['', 'flip']) {
    const gfile = `gender${flip}${tag}-utk-${size}.f32`;
    if (!existsSync(join(dump, gfile))) continue;
    // Sigmoid is P(male); Human: <= 0.5 → female (1), as the shared sets code it.
    const gender = Array.from(f32(gfile), (g) => (g <= 0.5 ? 1 : 0));
    const probs = rows(f32(`age${flip}${tag}-utk-${size}.f32`), u.images);
    const human = probs.map((pr) => ageGroupOf(humanAge(pr)));
    const expected = probs.map((pr) => ageGroupOf(pr.reduce((s, x, i) => s + x * i, 0)));
    console.log(
      `utk ${size}px${flip ? ' (image+mirror)' : ''}: gender top-1 ${pct(accuracy(gender, u.gender))} macro ${pct(macroAccuracy(gender, u.gender, 2))}` +
        ` | age (Human's decoding) exact ${pct(accuracy(human, u.age))} 1-off ${pct(oneOffAccuracy(human, u.age))} macro ${pct(macroAccuracy(human, u.age, 8))}` +
        ` | age (expected value) exact ${pct(accuracy(expected, u.age))} 1-off ${pct(oneOffAccuracy(expected, u.age))} macro ${pct(macroAccuracy(expected, u.age, 8))}`,
    );
  }
}
