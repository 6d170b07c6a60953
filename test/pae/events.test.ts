// trainTask's plateau rule (lr drop, then early stop) and the JSONL event log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../src/engine/index.ts';
import { JsonlEventLog, MemoryEventLog, type PaeEvent } from '../../src/pae/events.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { openFree } from '../../src/pae/ownership.ts';
import type { Batch, TaskData } from '../../src/pae/task-data.ts';
import { trainTask } from '../../src/pae/trainer.ts';
import { FAST_TRAIN, rawBytes, tempDir, tinyConfig } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

/** A task whose validation score never improves (always 0.25); records the head's bytes at every epoch start and validation. */
class CannotImprove implements TaskData {
  readonly batchesPerEpoch: number;
  readonly starts: Buffer[] = [];
  readonly seen: Buffer[] = [];
  constructor(
    private readonly inner: SyntheticTask,
    private readonly net: PackableNet,
  ) {
    this.batchesPerEpoch = inner.batchesPerEpoch;
  }
  async *batches(epoch: number): AsyncIterable<Batch> {
    this.starts.push(rawBytes(this.net.heads.get(1)!.weight));
    yield* this.inner.batches(epoch);
  }
  async validate(net: PackableNet, task: number): Promise<number> {
    this.seen.push(rawBytes(net.heads.get(task)!.weight));
    return 0.25;
  }
}

function oneTaskNet(): PackableNet {
  manualSeed(51);
  const net = PackableNet.create(tinyConfig());
  net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 4 });
  openFree(net, 1);
  return net;
}

test('with patience 1, a task that cannot improve drops the lr once (reloading the best) and then stops early', async () => {
  const net = oneTaskNet();
  const inner = new SyntheticTask('quadrant', { seed: 51 });
  const data = new CannotImprove(inner, net);
  const log = new MemoryEventLog();
  try {
    const r = await trainTask(
      net,
      1,
      data,
      { ...FAST_TRAIN, epochs: 10, lr: 0.01, lrDrop: 0.5, patience: 1, maxPlateaus: 2 },
      { events: log },
    );
    // Epoch 0 is the best; epoch 1 is plateau 1 (lr 0.01 → 0.005); epoch 2 is plateau 2 (stop).
    assert.equal(r.epochsRun, 3);
    assert.equal(r.bestEpoch, 0);
    assert.equal(r.best, 0.25);
    assert.deepEqual(
      r.history.map((h) => h.lr),
      [0.01, 0.01, 0.005],
    );
    const decisions = log.events.filter((e): e is Extract<PaeEvent, { type: 'decision' }> => e.type === 'decision');
    assert.deepEqual(
      decisions.map((d) => d.decision),
      ['lr-drop', 'early-stop'],
    );
    assert.match(decisions[0]!.reason, /no improvement for 1 epochs: best checkpoint reloaded, lr → 0\.005/);
    assert.match(decisions[1]!.reason, /2 plateaus of 1 epochs without improvement/);
    assert.deepEqual(
      log.events.map((e) => e.type),
      ['epoch', 'epoch', 'decision', 'epoch', 'decision'],
    );
    // The network is left at the best (epoch 0) checkpoint, though training moved it afterwards.
    assert.equal(data.seen.length, 3);
    assert.notDeepEqual(data.seen[2], data.seen[0], 'the head did train after epoch 0');
    assert.deepEqual(rawBytes(net.heads.get(1)!.weight), data.seen[0]);
    // The lr drop reloaded the best checkpoint: epoch 2 started from epoch 0's state, not from epoch 1's.
    assert.equal(data.starts.length, 3);
    assert.notDeepEqual(data.seen[1], data.seen[0]);
    assert.deepEqual(data.starts[2], data.seen[0]);
  } finally {
    net.dispose();
    inner.dispose();
  }
});

test('JsonlEventLog writes one JSON object per line, appends, and forwards every event', async () => {
  const { dir, cleanup } = tempDir();
  const net = oneTaskNet();
  const data = new SyntheticTask('channel', { seed: 52 });
  try {
    const path = join(dir, 'nested', 'logs', 'events.jsonl');
    const next = new MemoryEventLog();
    const log = new JsonlEventLog(path, next);
    await trainTask(net, 1, data, { ...FAST_TRAIN, epochs: 2 }, { events: log });
    log.emit({ type: 'decision', task: 1, decision: 'note', reason: 'a reason with\na newline and "quotes"' });
    const second = new JsonlEventLog(path);
    second.emit({ type: 'task-end', task: 1, accuracy: 0.5, ratio: 0, ownedWeights: 7000 });

    const text = readFileSync(path, 'utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines.length, 2 + 1 + 1, 'two epochs, the decision, and the second log’s event');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) {
      assert.equal(typeof p.time, 'string');
      assert.ok(!Number.isNaN(Date.parse(p.time as string)), `ISO time: ${String(p.time)}`);
    }
    const withoutTime = parsed.map(({ time: _t, ...rest }) => rest);
    assert.deepEqual(withoutTime, [...log.events, ...second.events]);
    assert.deepEqual(next.events, log.events, 'the next sink saw the same events');
    assert.deepEqual(
      parsed.map((p) => p.type),
      ['epoch', 'epoch', 'decision', 'task-end'],
    );
    assert.equal(parsed[2]!.reason, 'a reason with\na newline and "quotes"');
  } finally {
    net.dispose();
    data.dispose();
    cleanup();
  }
});
