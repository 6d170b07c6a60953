// Scratch (issue 13): decodes the shared validation crops with the project's own loader at several input sizes and
// writes them raw for the Python faceres rebuild, plus tfjs's faceres outputs on a few crops as the parity reference.
// node --import tsx experiments/scratch/faceres-dump-crops.ts /tmp/faceres
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/packages.ts';
import { loadGraphModelFile } from '../../src/peers/human.ts';
import { tfjs } from '../../src/peers/tfjs-runtime.ts';
import { loadImageSet, loadPairSet } from '../../src/tasks/index.ts';

const out = process.argv[2] ?? '/tmp/faceres';
const SIZES = [224, 160, 128, 112, 96];
mkdirSync(out, { recursive: true });
const meta: Record<string, unknown> = { sizes: SIZES };

for (const [set, pairsPath] of [
  ['celeba', 'data/celeba-identity/pairs.txt'],
  ['glint', 'data/celeb-glint360k-sample/pairs.txt'],
] as const) {
  for (const size of SIZES) {
    const p = await loadPairSet(pairsPath, size);
    writeFileSync(join(out, `${set}-${size}.u8`), p.images.pixels);
    meta[set] = {
      images: p.images.labels.length,
      a: [...p.a],
      b: [...p.b],
      same: p.pairs.pairs.map((x) => x.same),
      fold: p.pairs.pairs.map((x) => x.fold),
    };
  }
  console.log(set, (meta[set] as { images: number }).images, 'images');
}

const utk = 'data/utkface-agegender/manifest.csv';
for (const size of SIZES) {
  const g = await loadImageSet(utk, { label: 'gender', split: 'val', size });
  writeFileSync(join(out, `utk-${size}.u8`), g.pixels);
  if (size === SIZES[0]) {
    const a = await loadImageSet(utk, { label: 'label', split: 'val', size: 8 });
    if (a.paths.join('\n') !== g.paths.join('\n')) throw new Error('utk: gender and age rows differ');
    meta.utk = { images: g.labels.length, gender: [...g.labels], age: [...a.labels] };
    console.log('utk', g.labels.length, 'images');
  }
}

// tfjs's own run of the shipped graph, as Human runs it (0..255 floats, NHWC), on the first 8 CelebA pair crops.
const tf = await tfjs();
const { model } = await loadGraphModelFile(tf, join(packageRoot('@vladmandic/human'), 'models', 'faceres.json'));
const p224 = await loadPairSet('data/celeba-identity/pairs.txt', 224);
const n = 8;
const x = tf.tensor4d(Float32Array.from(p224.images.pixels.subarray(0, n * 224 * 224 * 3)), [n, 224, 224, 3]);
const [gender, age, desc] = model.execute(x, ['gender_pred/Sigmoid', 'age_pred/Softmax', 'global_pooling/Mean']) as ReturnType<
  typeof tf.tensor
>[];
for (const [name, t] of [
  ['gender', gender!],
  ['age', age!],
  ['desc', desc!],
] as const) {
  writeFileSync(join(out, `tfjs-${name}.f32`), Buffer.from((t.dataSync() as Float32Array).buffer));
}
meta.tfjs = { n, backend: tf.getBackend() };
writeFileSync(join(out, 'meta.json'), JSON.stringify(meta));
console.log('wrote', out);
