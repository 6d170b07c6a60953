// Shared helpers for the PAE tests: a tiny 16-px backbone, fast train/prune settings, raw-byte comparisons.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, randn, tidy, type Tensor } from '../../src/engine/index.ts';
import { configFromPreset, type BackboneConfig } from '../../src/pae/config.ts';
import { expand } from '../../src/pae/expander.ts';
import { PaeModel, type TaskRecord } from '../../src/pae/model.ts';
import { PackableNet, type HeadSpec } from '../../src/pae/network.ts';
import { openFree, releaseToRatio } from '../../src/pae/ownership.ts';
import type { PackableLayer } from '../../src/pae/packable-layer.ts';
import { DEFAULT_PRUNE, DEFAULT_TRAIN, type PruneConfig, type TrainConfig } from '../../src/pae/train-config.ts';

/** The 'tiny' preset at 16x16 inputs: conv 3→8→16→32 (3x3) + linear 32→32 = 216+1152+4608+1024 = 7000 weights. */
export function tinyConfig(): BackboneConfig {
  return { ...configFromPreset('tiny'), inputSize: 16 };
}
export const TINY_WEIGHTS = 7000;

/** Few epochs, a large lr: the synthetic tasks are learned in a handful of steps. */
export const FAST_TRAIN: TrainConfig = { ...DEFAULT_TRAIN, epochs: 3, lr: 1e-2 };
/** Two ladder steps of two epochs (the first one ramps, masks move every 2 iterations). */
export const FAST_PRUNE: PruneConfig = { ...DEFAULT_PRUNE, ratios: [0.3, 0.6], epochsPerStep: 2, rampEpochs: 1, frequency: 2, lr: 1e-3 };

/** A copy of a tensor's raw bytes. */
export function rawBytes(t: Tensor): Buffer {
  const d = t.data();
  return Buffer.from(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
}

/** Raw bytes of task `task`'s logits on `x`, computed in eval mode without gradients (never moves BN statistics). */
export function outputBytes(net: PackableNet, task: number, x: Tensor): Buffer {
  const was = net.training;
  net.training = false;
  try {
    return noGrad(() => tidy(() => rawBytes(net.forward(x, task))));
  } finally {
    net.training = was;
  }
}

/** Asserts two byte strings are identical, reporting how many bytes differ. */
export function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: byte length`);
  if (!actual.equals(expected)) {
    let diff = 0;
    for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) diff++;
    assert.fail(`${what}: ${diff} of ${actual.length} bytes differ`);
  }
}

/** Copies of a layer's weight values and owner tags. */
export function weightsOf(l: PackableLayer): Float32Array {
  return Float32Array.from(l.weight.data() as Float32Array);
}
export function ownersOf(l: PackableLayer): Uint8Array {
  return Uint8Array.from(l.owner.data() as Uint8Array);
}

/** A manifest record written by hand (the file tests do not need a real packing history). */
export function handRecord(net: PackableNet, id: number, name: string, head: HeadSpec): TaskRecord {
  const slot = net.slot(id);
  return {
    id,
    name,
    kind: 'classify',
    labels: Array.from({ length: head.classes }, (_, i) => `c${i}`),
    head: slot.head,
    sharing: slot.sharing,
    level: slot.level,
    goal: { value: null, source: 'none' },
    metric: { name: 'top1', value: 0.5, trained: 0.5 },
    pruning: { records: [{ ratio: 0, realised: 0, accuracy: 0.5 }], ratio: 0, reason: 'hand-made' },
    expansions: 0,
    decisions: [],
    date: '2024-01-01T00:00:00.000Z',
    data: {},
    extra: {},
  };
}

export const PROVENANCE: PaeModel['provenance'] = { paenetVersion: 'test', torchVersion: 'test', created: '2024-01-01T00:00:00.000Z' };

/** A fresh temp folder; remove it with the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'paenet-pae-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A two-task model without training (for the file and ledger tests), with non-default BN statistics:
 * task 1 keeps half of the 7000 weights at width level 0; the net is expanded ×1.2 (7915 weights); task 2 (level 1)
 * keeps half of its pool per layer: 54 + 324 + 1525 + 304 = 2207 owned, 2208 free.
 */
export function handModel(): PaeModel {
  manualSeed(5);
  const net = PackableNet.create(tinyConfig());
  const heads: HeadSpec[] = [
    { kind: 'linear', classes: 4 },
    { kind: 'linear', classes: 3 },
  ];
  const x = randn([6, 3, 16, 16]);
  const add = (id: number): void => {
    net.addTaskSlot(id, 'cumulative', heads[id - 1]!);
    openFree(net, id);
    for (const l of net.layers) releaseToRatio(l, id, 0.5);
    net.training = true;
    noGrad(() => tidy(() => void net.forward(x, id)));
    net.training = false;
  };
  add(1);
  expand(net, 1.2);
  add(2);
  x.dispose();
  return new PaeModel(net, [handRecord(net, 1, 'one', heads[0]!), handRecord(net, 2, 'two', heads[1]!)], PROVENANCE);
}
