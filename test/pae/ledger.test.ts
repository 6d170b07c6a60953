// The size ledger adds up: its byte counts equal the tensors actually stored in the model file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DTYPE_SIZE, readSafetensors, type TensorRecord } from '../../src/io/safetensors.ts';
import { computeLedger } from '../../src/pae/ledger.ts';
import { saveModel } from '../../src/pae/model-file.ts';
import { handModel, tempDir } from './helpers.ts';

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
    // + 1 B × 7915 owner tags + BN (1408 + 1472) + heads (4·33·4 + 3·33·4) = 34547.
    const fileBytes = bytesOf(tensors, () => true);
    assert.equal(ledger.fileTensorBytes, fileBytes);
    assert.equal(fileBytes, 34547);
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
      bytesOf(tensors, (n) => n.endsWith('/owner')),
    );
    assert.equal(
      ledger.storedWeightBytes,
      bytesOf(tensors, (n) => n.endsWith('/owned_weight')),
    );
    const perTaskBytes = bytesOf(tensors, (n) => n.startsWith('task/'));
    assert.equal(ledger.storedWeightBytes + perTaskBytes + ledger.ownerBytes, ledger.fileTensorBytes);
    // The dense unified model it stands for: every weight at 4 B.
    assert.equal(ledger.denseBytes, 4 * ledger.totalWeights + perTaskBytes);

    // Owner counts straight from the file's owner maps.
    const owners = [...tensors].filter(([n]) => n.endsWith('/owner')).flatMap(([, r]) => [...r.data]);
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
    assert.equal(ledger.fractionOfIndividual, 34547 / ledger.individualBytes);
  } finally {
    model.dispose();
    cleanup();
  }
});
