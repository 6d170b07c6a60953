// Small generated image tasks for PAE tests: deterministic, learnable in a few epochs by the tiny backbone.
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/engine/index.ts';
import type { PackableNet } from '../../src/pae/network.ts';
import type { Batch, TaskData } from '../../src/pae/task-data.ts';

/** Which visual rule decides the class. */
export type Rule = 'quadrant' | 'channel' | 'stripes';

/** Images [n, 3, size, size] with labels under `rule` (values in roughly [-1, 1]). */
export function makeImages(rule: Rule, n: number, size: number, seed: number): { x: Tensor; y: Tensor; classes: number } {
  manualSeed(seed);
  return tidy(() => {
    const noise = randn([n, 3, size, size]).mul(0.3);
    const data = noise.data() as Float32Array;
    const labels: number[] = [];
    const classes = rule === 'quadrant' ? 4 : rule === 'channel' ? 3 : 2;
    const h = size / 2;
    for (let i = 0; i < n; i++) {
      const c = i % classes;
      labels.push(c);
      for (let ch = 0; ch < 3; ch++) {
        for (let r = 0; r < size; r++) {
          for (let col = 0; col < size; col++) {
            let on = false;
            if (rule === 'quadrant') on = (r < h ? 0 : 2) + (col < h ? 0 : 1) === c;
            else if (rule === 'channel') on = ch === c;
            else on = c === 0 ? r % 4 < 2 : col % 4 < 2;
            if (on) data[((i * 3 + ch) * size + r) * size + col]! += 1;
          }
        }
      }
    }
    return { x: tensor(data, [n, 3, size, size]), y: tensor(labels, [n], { dtype: 'int64' }), classes };
  });
}

/** A TaskData over generated images: fixed train/val sets, batches in seeded order. */
export class SyntheticTask implements TaskData {
  readonly batchesPerEpoch: number;
  readonly classes: number;
  private readonly train: { x: Tensor; y: Tensor };
  private readonly val: { x: Tensor; y: Tensor };
  constructor(rule: Rule, opts: { train?: number; val?: number; size?: number; batch?: number; seed?: number } = {}) {
    const size = opts.size ?? 16;
    const seed = opts.seed ?? 1;
    const tr = makeImages(rule, opts.train ?? 96, size, seed);
    const va = makeImages(rule, opts.val ?? 48, size, seed + 1000);
    this.train = tr;
    this.val = va;
    this.classes = tr.classes;
    this.batch = opts.batch ?? 16;
    this.batchesPerEpoch = Math.ceil(tr.x.shape[0]! / this.batch);
  }
  private readonly batch: number;

  async *batches(epoch: number): AsyncIterable<Batch> {
    const n = this.train.x.shape[0]!;
    // A fixed per-epoch rotation keeps runs deterministic without touching the global generator.
    const order = Array.from({ length: n }, (_, i) => (i * 7 + epoch * 13) % n);
    for (let s = 0; s < n; s += this.batch) {
      const idx = tensor(order.slice(s, s + this.batch), undefined, { dtype: 'int64' });
      const b = { x: this.train.x.indexSelect(0, idx), y: this.train.y.indexSelect(0, idx) };
      idx.dispose();
      yield b;
    }
  }

  async validate(net: PackableNet, task: number): Promise<number> {
    return noGrad(() => tidy(() => net.forward(this.val.x, task).argmax(1).eq(this.val.y).float().mean().item()));
  }

  /** The first `n` training examples as a batch (the caller disposes it). */
  firstBatch(n = this.batch): Batch {
    return tidy(() => ({ x: this.train.x.narrow(0, 0, n).clone(), y: this.train.y.narrow(0, 0, n).clone() }));
  }

  /** The fixed validation inputs (for bit-identity checks). */
  get probe(): Tensor {
    return this.val.x;
  }

  dispose(): void {
    for (const t of [this.train.x, this.train.y, this.val.x, this.val.y]) t.dispose();
  }
}
