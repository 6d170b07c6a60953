// Learning-rate schedules: step decay, cosine annealing, reduce-on-plateau.
import type { Optimizer } from './optimizer.ts';

/** Multiplies the lr by `gamma` every `stepSize` epochs. Call `step()` once per epoch. */
export class StepLR {
  private epoch = 0;
  private readonly base: number;
  constructor(
    private readonly opt: Optimizer,
    private readonly stepSize: number,
    private readonly gamma = 0.1,
  ) {
    this.base = opt.lr;
  }
  step(): number {
    this.epoch++;
    this.opt.lr = this.base * this.gamma ** Math.floor(this.epoch / this.stepSize);
    return this.opt.lr;
  }
}

/** Cosine annealing from the initial lr to `minLr` over `total` epochs. */
export class CosineLR {
  private epoch = 0;
  private readonly base: number;
  constructor(
    private readonly opt: Optimizer,
    private readonly total: number,
    private readonly minLr = 0,
  ) {
    this.base = opt.lr;
  }
  step(): number {
    this.epoch = Math.min(this.epoch + 1, this.total);
    this.opt.lr = this.minLr + ((this.base - this.minLr) * (1 + Math.cos((Math.PI * this.epoch) / this.total))) / 2;
    return this.opt.lr;
  }
}

export interface PlateauConfig {
  /** 'max' for accuracy, 'min' for loss. @default 'max' */ mode?: 'max' | 'min';
  /** @default 0.1 */ factor?: number;
  /** Epochs without improvement before the lr drops. @default 10 */ patience?: number;
  /** Smallest change that counts as improvement. @default 0 */ threshold?: number;
  /** @default 0 */ minLr?: number;
}

/** Drops the lr by `factor` after `patience` epochs without improvement; `step(metric)` reports whether it dropped. */
export class ReduceLROnPlateau {
  private best: number;
  private bad = 0;
  /** How many times the lr has dropped. */
  drops = 0;
  private readonly c: Required<PlateauConfig>;
  constructor(
    private readonly opt: Optimizer,
    config: PlateauConfig = {},
  ) {
    this.c = { mode: 'max', factor: 0.1, patience: 10, threshold: 0, minLr: 0, ...config };
    this.best = this.c.mode === 'max' ? -Infinity : Infinity;
  }
  step(metric: number): boolean {
    const better = this.c.mode === 'max' ? metric > this.best + this.c.threshold : metric < this.best - this.c.threshold;
    if (better) {
      this.best = metric;
      this.bad = 0;
      return false;
    }
    if (++this.bad <= this.c.patience) return false;
    this.bad = 0;
    this.drops++;
    this.opt.lr = Math.max(this.c.minLr, this.opt.lr * this.c.factor);
    return true;
  }
}
