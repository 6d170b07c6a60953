// Importing Human's faceres (a tfjs graph model) as task 1: weights copied bit-exactly from the graph, descriptors
// equal to Human's own tfjs run of the same graph on real face crops, one clear line for a missing or foreign model.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { noGrad, tensor, tidy } from '../../src/engine/index.ts';
import { NORM_MEAN, NORM_SCALE } from '../../src/data/index.ts';
import { packageRoot } from '../../src/io/packages.ts';
import { readTfjsGraph } from '../../src/io/tfjs-graph.ts';
import { cosineDistance } from '../../src/metrics/embedding.ts';
import type { PaeModel } from '../../src/pae/index.ts';
import { loadGraphModelFile } from '../../src/peers/human.ts';
import { tfjs } from '../../src/peers/tfjs-runtime.ts';
import { faceresPackageDir, HUMAN_FACERES, importHumanFaceres, loadImageSet, type ImageSet } from '../../src/tasks/index.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };
const SIZE = 224; // faceres's own input size: TF's padding and ours agree at every multiple of 32

describe('faceres import', { skip: needData('utkface-agegender') }, () => {
  let model: PaeModel;
  let crops: ImageSet;
  before(async () => {
    model = importHumanFaceres(faceresPackageDir(), 'identity', PROVENANCE, SIZE).model;
    crops = await loadImageSet(join(DATA, 'utkface-agegender/manifest.csv'), { label: 'gender', split: 'val', size: SIZE, limit: 8 });
  });
  after(() => model?.dispose());

  test('every conv weight equals the graph constant it came from, and task 1 owns all of them', () => {
    const graph = readTfjsGraph(join(faceresPackageDir(), HUMAN_FACERES.model));
    const dw = graph.weights.get('conv_dw_7/depthwise_kernel')!; // [3, 3, C, 1]
    const layer = model.net.layer('dw7');
    const w = layer.weight.data() as Float32Array; // [C, 1, 3, 3]
    const c = dw.shape[2]!;
    for (const [ch, y, x] of [
      [0, 0, 0],
      [5, 1, 2],
      [c - 1, 2, 1],
    ] as const)
      assert.equal(w[(ch * 3 + y) * 3 + x], dw.data[(y * 3 + x) * c + ch], `dw7[${ch}, 0, ${y}, ${x}]`);
    for (const l of model.net.layers)
      assert.ok(
        (l.owner.data() as Uint8Array).every((o) => o === 1),
        `${l.spec.name} owned by task 1`,
      );
  });

  test("descriptors match Human's tfjs run of faceres on real crops (cosine ≥ 0.9999)", async () => {
    const tf = await tfjs();
    const human = await loadGraphModelFile(tf, join(packageRoot(HUMAN_FACERES.package), HUMAN_FACERES.model));
    try {
      const per = SIZE * SIZE * 3;
      for (let i = 0; i < crops.labels.length; i++) {
        const hwc = Float32Array.from(crops.pixels.subarray(i * per, (i + 1) * per));
        const reference = tf.tidy(() =>
          (human.model.execute(tf.tensor4d(hwc, [1, SIZE, SIZE, 3]), HUMAN_FACERES.descriptor) as { dataSync(): Float32Array }).dataSync(),
        );
        const chw = new Float32Array(per);
        for (let y = 0; y < SIZE; y++)
          for (let x = 0; x < SIZE; x++)
            for (let ch = 0; ch < 3; ch++) chw[(ch * SIZE + y) * SIZE + x] = (hwc[(y * SIZE + x) * 3 + ch]! - NORM_MEAN) / NORM_SCALE;
        const ours = noGrad(() => tidy(() => model.net.embed(tensor(chw, [1, 3, SIZE, SIZE]), 1).data() as Float32Array));
        assert.equal(ours.length, 1024);
        const cos = 1 - cosineDistance(reference, ours);
        assert.ok(cos >= 0.9999, `crop ${i}: cosine ${cos}`);
      }
    } finally {
      human.model.dispose();
    }
  });

  test('a missing model, a foreign graph and a size TF would pad differently each give one line', () => {
    const dir = tempDir('paenet-faceres-');
    {
      assert.throws(() => faceresPackageDir(dir), /faceres\.json: no faceres model/);
      mkdirSync(join(dir, 'models'));
      const src = faceresPackageDir();
      cpSync(join(src, 'package.json'), join(dir, 'package.json'));
      const json = JSON.parse(readFileSync(join(src, HUMAN_FACERES.model), 'utf8'));
      // One block's ReLU6 bound becomes a sigmoid: no longer the MobileNet the importer knows.
      for (const n of json.modelTopology.node as { name: string; op: string }[])
        if (n.name === 'conv_dw_5_relu/clip_by_value/Minimum') n.op = 'Sigmoid';
      writeFileSync(join(dir, HUMAN_FACERES.model), JSON.stringify(json));
      cpSync(join(src, 'models/faceres.bin'), join(dir, 'models/faceres.bin'));
      assert.throws(
        () => importHumanFaceres(dir, 'identity', PROVENANCE),
        /faceres\.json: after 'conv_dw_5_relu\/Relu' expected one Minimum, found Sigmoid/,
      );
      assert.throws(() => importHumanFaceres(src, 'identity', PROVENANCE, 112), /112 is not a multiple of 32/);
    }
  });
});
