// Parameter-free layers and containers: activations, pooling, dropout, flatten, Sequential.
import * as F from '../functional.ts';
import type { Tensor } from '../tensor.ts';
import { Module } from './module.ts';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}
export class MaxPool2d extends Module {
  constructor(
    readonly kernel: number,
    readonly stride = kernel,
    readonly padding = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel, this.stride, this.padding);
  }
}
export class AvgPool2d extends Module {
  constructor(
    readonly kernel: number,
    readonly stride = kernel,
    readonly padding = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernel, this.stride, this.padding);
  }
}
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly size: number | [number, number]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.size);
  }
}
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}
/** Flattens all dims after the batch dim. */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return x.flatten(1);
  }
}

/** Runs children in order, freeing each intermediate as soon as the next layer has consumed it. */
export class Sequential extends Module {
  private readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    // Autograd keeps whatever it needs for backward by its own reference, so dropping our handles early is safe
    // and keeps the working set (and peak memory at inference) to about two activations.
    let h = x;
    for (const m of this.layers) {
      const next = m.forward(h);
      if (h !== x && next !== h) h.dispose();
      h = next;
    }
    return h;
  }
}
