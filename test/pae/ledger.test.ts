// The size ledger adds up: its byte counts equal the tensors actually stored in the model file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DTYPE_SIZE, readSafetensors, type TensorRecord } from '../../src/io/safetensors.ts';
import { computeLedger } from '../../src/pae/ledger.ts';
import { saveModel, type Manifest } from '../../src/pae/model-file.ts';
import { handModel, tempDir } from './helpers.ts';

/** Weights of a hand-model layer, from a tensor name `layer/<name>/...`. */
const LAYER_NUMEL: Record<string, number> = { conv0: 216, conv1: 1224, conv2: 5355, embed: 1120 };
const numelOf = (name: string): number => LAYER_NUMEL[name.split('/')[1]!]!;

const bytesOf = (tensors: Map<string, TensorRecord>, keep: (name: string) => boolean): number =>
  [...tensors].filter(([name]) => keep(name)).reduce((n, [, r]) => n + r.data.byteLength, 0);

test("computeLedger's numbers equal the file's tensors and add up", async () => {
  const model = handModel();
  const { dir, cleanup } = tempDir();
  try {
    const ledger = computeLedger(model);
    const path = join(dir, 'two.pae');
    saveModel(model, path);
    const { tensors } = await readSafetensors(path);
    for (const [name, r] of tensors) {
      assert.equal(r.data.byteLength, r.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[r.dtype], `${name}: bytes match its shape`);
    }

    // Whole file: every tensor's bytes; by hand 4 B × 5707 owned weights (the 2208 free ones are not stored)
    // + 7915 owner tags at 2 bits (tags 0..2), per layer ⌈216/4⌉ + ⌈1224/4⌉ + ⌈5355/4⌉ + ⌈1120/4⌉ = 54 + 306 + 1339 + 280
    // = 1979 B + BN (1408 + 1472) + heads (4·33·4 + 3·33·4) = 28611.
    const fileBytes = bytesOf(tensors, () => true);
    assert.equal(ledger.fileTensorBytes, fileBytes);
    assert.equal(fileBytes, 28611);
    assert.deepEqual(ledger.storage, { weights: 'fp32', ownerBits: 2 });
    assert.ok(
      ledger.layers.every((l) => l.sparse),
      'a finished model stores owned weights only',
    );
    assert.equal(
      [...tensors.keys()].filter((n) => n.endsWith('/weight') && n.startsWith('layer/')).length,
      0,
      'no dense layer weights in the file',
    );
    assert.equal(
      ledger.ownerBytes,
      bytesOf(tensors, (n) => n.endsWith('/owner_packed')),
    );
    assert.equal(ledger.ownerBytes, 1979);
    assert.equal(
      ledger.storedWeightBytes,
      bytesOf(tensors, (n) => n.endsWith('/owned_weight')),
    );
    const perTaskBytes = bytesOf(tensors, (n) => n.startsWith('task/'));
    assert.equal(ledger.storedWeightBytes + perTaskBytes + ledger.ownerBytes, ledger.fileTensorBytes);
    // The dense unified model it stands for: every weight at 4 B.
    assert.equal(ledger.denseBytes, 4 * ledger.totalWeights + perTaskBytes);

    // Owner counts straight from the file's owner maps (unpacked here from their 2-bit tags).
    const owners = [...tensors]
      .filter(([n]) => n.endsWith('/owner_packed'))
      .flatMap(([n, r]) => [...r.data].flatMap((b) => [0, 2, 4, 6].map((s) => (b >> s) & 3)).slice(0, numelOf(n)));
    const count = (id: number): number => owners.filter((o) => o === id).length;
    assert.equal(ledger.totalWeights, 7915);
    assert.equal(owners.length, 7915);
    assert.deepEqual(
      ledger.tasks.map((t) => t.ownedWeights),
      [count(1), count(2)],
    );
    assert.deepEqual(
      ledger.tasks.map((t) => t.ownedWeights),
      [3500, 2207],
    );
    assert.equal(ledger.freeWeights, count(0));
    assert.equal(ledger.freeWeights, 2208);
    assert.equal(ledger.tasks.reduce((n, t) => n + t.ownedWeights, 0) + ledger.freeWeights, ledger.totalWeights);
    for (const l of ledger.layers)
      assert.equal(l.free + Object.values(l.owned).reduce((a, b) => a + b, 0), l.total, `layer ${l.name} adds up`);

    for (const t of ledger.tasks) {
      // BN: four vectors per layer at the task's width. Task 1 (level 0): 16 B × (8+16+32+32) = 1408;
      // task 2 (level 1): 16 B × (8+17+35+32) = 1472.
      assert.equal(
        t.bnBytes,
        bytesOf(tensors, (n) => n.startsWith(`task/${t.id}/bn/`)),
        `task ${t.id} BN bytes`,
      );
      assert.equal(
        t.headBytes,
        bytesOf(tensors, (n) => n.startsWith(`task/${t.id}/head/`)),
        `task ${t.id} head bytes`,
      );
      assert.equal(t.weightBytes, 4 * t.ownedWeights);
      assert.equal(t.maskBytes, t.ownedWeights);
      assert.equal(t.biasBytes, 0, 'the backbones have no per-task biases');
      assert.equal(t.moduleBytes, t.weightBytes + t.maskBytes + t.bnBytes + t.biasBytes + t.headBytes);
    }
    assert.deepEqual(
      ledger.tasks.map((t) => t.bnBytes),
      [1408, 1472],
    );
    assert.deepEqual(
      ledger.tasks.map((t) => t.headBytes),
      [528, 396],
    );
    assert.deepEqual(
      ledger.tasks.map((t) => t.moduleBytes),
      [14000 + 3500 + 1408 + 528, 8828 + 2207 + 1472 + 396],
    );
    // Every file tensor is counted once: backbone weights/owners + each task's BN and head.
    const perTask = ledger.tasks.reduce((n, t) => n + t.bnBytes + t.headBytes, 0);
    assert.equal(4 * (ledger.totalWeights - ledger.freeWeights) + ledger.ownerBytes + perTask, fileBytes);
    // Two individual nets of the unexpanded backbone: 4 B × (7000 weights + 4·88 BN) + their heads (528, 396).
    assert.equal(ledger.individualBytes, 2 * 4 * (7000 + 352) + 528 + 396);
    assert.equal(ledger.fractionOfIndividual, 28611 / ledger.individualBytes);
  } finally {
    model.dispose();
    cleanup();
  }
});

test('for fp16 and int8 storage the ledger counts the bytes the file stores, per task and in all', async () => {
  const model = handModel();
  const { dir, cleanup } = tempDir();
  try {
    const fp32 = computeLedger(model);
    for (const weights of ['fp16', 'int8'] as const) {
      const ledger = computeLedger(model, weights);
      const path = join(dir, `${weights}.pae`);
      saveModel(model, path, { weights });
      const { tensors, metadata } = await readSafetensors(path);
      assert.deepEqual(ledger.storage, { weights, ownerBits: 2 });
      assert.deepEqual(
        (JSON.parse(metadata.paenet!) as Manifest).ledger,
        JSON.parse(JSON.stringify(ledger)),
        'the manifest records this ledger',
      );
      assert.equal(
        ledger.fileTensorBytes,
        bytesOf(tensors, () => true),
        `${weights}: file bytes`,
      );
      assert.equal(
        ledger.storedWeightBytes,
        bytesOf(tensors, (n) => /\/owned_(weight|scale)$/.test(n)),
        `${weights}: weight bytes`,
      );
      assert.equal(ledger.ownerBytes, fp32.ownerBytes, 'owner maps pack the same whatever the weights');
      // Groups per task, straight from the file: the output channels in which the task owns a weight.
      const groups = new Map<number, number>();
      for (const [name, r] of tensors) {
        if (!name.endsWith('/owner_packed')) continue;
        const tags = [...r.data].flatMap((b) => [0, 2, 4, 6].map((s) => (b >> s) & 3)).slice(0, numelOf(name));
        const shape = model.net.layers.find((l) => name === `layer/${l.spec.name}/owner_packed`)!.weight.shape;
        const per = tags.length / shape[0]!;
        for (let c = 0; c < shape[0]!; c++)
          for (const t of new Set(tags.slice(c * per, (c + 1) * per))) if (t !== 0) groups.set(t, (groups.get(t) ?? 0) + 1);
      }
      for (const t of ledger.tasks) {
        const scales = weights === 'int8' ? 4 * groups.get(t.id)! : 0;
        assert.equal(t.weightBytes, (weights === 'fp16' ? 2 : 1) * t.ownedWeights + scales, `${weights} task ${t.id} weight bytes`);
        assert.equal(t.moduleBytes, t.weightBytes + t.maskBytes + t.bnBytes + t.headBytes);
      }
      assert.equal(
        ledger.tasks.reduce((n, t) => n + t.weightBytes, 0),
        ledger.storedWeightBytes,
        'every stored weight and scale belongs to one task',
      );
      assert.ok(ledger.fileTensorBytes < fp32.fileTensorBytes);
    }
  } finally {
    model.dispose();
    cleanup();
  }
});
