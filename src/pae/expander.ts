// Expansion (§4): widens every packable layer by a model-size ratio, new channels after the old ones.
import { noGrad, tidy, zeros } from '../engine/index.ts';
import type { PackableNet } from './network.ts';
import { initWeight } from './network.ts';

/**
 * Widens the backbone: every stage's width becomes floor(base·mult·√(∏ size ratios)). Old weights and owner
 * tags are copied into the top-left corner of the bigger tensors (the same input/output indices, so residual
 * sums and concatenations keep their order); new weights get the layer initialiser and owner 0 (free).
 * Existing tasks keep computing at the width they were learned with, so their outputs do not change.
 * Returns the packable weight counts before and after.
 */
export function expand(net: PackableNet, sizeRatio: number): { before: number; after: number } {
  if (!(sizeRatio > 1)) throw new Error(`paenet: expansion size ratio must be > 1, got ${sizeRatio}`);
  const before = net.totalWeights();
  net.config.expansions.push(sizeRatio);
  const level = net.level;
  noGrad(() => {
    for (const l of net.layers) {
      const shape = net.weightShape(l.spec, level);
      if (shape.join() === l.weight.shape.join()) continue;
      const [o, i] = l.channels;
      const weight = initWeight(l.spec, shape);
      const owner = zeros(shape, { dtype: 'uint8' });
      tidy(() => {
        weight.narrow(0, 0, o).narrow(1, 0, i).copy_(l.weight.detach());
        owner.narrow(0, 0, o).narrow(1, 0, i).copy_(l.owner);
      });
      l.replace(weight, owner);
    }
  });
  return { before, after: net.totalWeights() };
}
