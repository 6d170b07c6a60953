// One naming scheme for a network's tensors: model files and snapshots use the same names, and snapshots written
// under the older snapshot-only names (add-task checkpoint candidates) still restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, tidy, type Tensor } from '../../src/engine/index.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { saveModel } from '../../src/pae/model-file.ts';
import { Snapshot } from '../../src/pae/snapshot.ts';
import { currentTensorName } from '../../src/pae/state-dict.ts';
import type { PackableNet } from '../../src/pae/network.ts';
import { handModel, rawBytes, tempDir } from './helpers.ts';

test('a model file and a snapshot name every tensor alike (an owned-only layer stores owned_weight for weight)', () => {
  const model = handModel();
  const { dir, cleanup } = tempDir();
  const snapshot = Snapshot.capture(model.net);
  try {
    const path = join(dir, 'm.pae');
    saveModel(model, path);
    const inFile = [...decodeSafetensors(readFileSync(path), path).tensors.keys()].map((n) =>
      n.replace(/\/owned_weight$/, '/weight').replace(/\/owner_packed$/, '/owner'),
    );
    assert.deepEqual(inFile.sort(), [...snapshot.tensors().keys()].sort());
    assert.ok(inFile.includes('task/2/bn/conv1/running_mean') && inFile.includes('task/1/head/bias'));
  } finally {
    snapshot.dispose();
    model.dispose();
    cleanup();
  }
});

/** The names snapshots had before they took the model file's (`conv1.weight`, `conv1.bn2.runningMean`, `head2.bias`). */
function oldSnapshotNames(net: PackableNet, task: number): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const copy = (t: Tensor): Tensor => noGrad(() => tidy(() => t.detach().clone()));
  for (const l of net.layers) {
    out.set(`${l.spec.name}.weight`, copy(l.weight));
    out.set(`${l.spec.name}.owner`, copy(l.owner));
    const n = l.norm(task);
    for (const k of ['weight', 'bias', 'runningMean', 'runningVar'] as const) out.set(`${l.spec.name}.bn${task}.${k}`, copy(n[k]));
  }
  const h = net.heads.get(task)!;
  out.set(`head${task}.weight`, copy(h.weight));
  if (h.bias) out.set(`head${task}.bias`, copy(h.bias));
  return out;
}

test('a snapshot stored under the old snapshot names (an older checkpoint candidate) restores the same state', () => {
  const model = handModel();
  const net = model.net;
  const captured = Snapshot.capture(net, [2]);
  const before = new Map([...captured.tensors()].map(([k, t]) => [k, rawBytes(t)]));
  captured.dispose();
  const old = Snapshot.fromTensors(oldSnapshotNames(net, 2), [2]);
  try {
    // Move everything the snapshot covers, then restore it.
    noGrad(() => {
      for (const l of net.layers) {
        l.weight.fill_(0.25);
        l.owner.fill_(0);
        l.norm(2).runningVar.fill_(7);
      }
      net.heads.get(2)!.bias!.fill_(1);
    });
    old.restore(net);
    const after = Snapshot.capture(net, [2]);
    try {
      assert.equal(after.tensors().size, before.size);
      for (const [k, t] of after.tensors()) assert.ok(rawBytes(t).equals(before.get(k)!), `${k} restored`);
    } finally {
      after.dispose();
    }
  } finally {
    old.dispose();
    model.dispose();
  }
});

test('old snapshot names map onto the scheme; current names pass unchanged', () => {
  assert.equal(currentTensorName('s1.down.conv1.weight'), 'layer/s1.down.conv1/weight');
  assert.equal(currentTensorName('s1b0.conv2.owner'), 'layer/s1b0.conv2/owner');
  assert.equal(currentTensorName('stem.bn12.runningMean'), 'task/12/bn/stem/running_mean');
  assert.equal(currentTensorName('embed.bn1.bias'), 'task/1/bn/embed/bias');
  assert.equal(currentTensorName('head3.bias'), 'task/3/head/bias');
  assert.equal(currentTensorName('task/3/bn/s1.down.conv1/running_var'), 'task/3/bn/s1.down.conv1/running_var');
});
