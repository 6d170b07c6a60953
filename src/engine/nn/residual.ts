// ResNet basic block: conv-bn-relu-conv-bn + shortcut (1x1 conv-bn when shape changes), then ReLU.
import * as F from '../functional.ts';
import { tidy } from '../scope.ts';
import type { Tensor } from '../tensor.ts';
import { BatchNorm2d, Conv2d } from './layers.ts';
import { Module } from './module.ts';

export class ResidualBlock extends Module {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly shortcut: { conv: Conv2d; bn: BatchNorm2d } | null;

  constructor(inChannels: number, outChannels: number, stride = 1) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(outChannels));
    this.conv2 = this.registerModule('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outChannels));
    this.shortcut =
      stride !== 1 || inChannels !== outChannels
        ? {
            conv: this.registerModule('shortcutConv', new Conv2d(inChannels, outChannels, 1, { stride, bias: false })),
            bn: this.registerModule('shortcutBn', new BatchNorm2d(outChannels)),
          }
        : null;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.bn2.forward(this.conv2.forward(F.relu(this.bn1.forward(this.conv1.forward(x)))));
      const s = this.shortcut ? this.shortcut.bn.forward(this.shortcut.conv.forward(x)) : x;
      return F.relu(h.add(s));
    });
  }
}
