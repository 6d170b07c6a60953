// PackNet (Mallya & Lazebnik 2018) on the owner-tagged backbone: PAE's cycle with one fixed pruning ratio, no expansion.
import { packTask } from '../strategy.ts';
import type { Method } from './method.ts';

/** PackNet's pruning ratio per task when none is given (its paper prunes 50–75 % per task; one fixed value, no search). */
const PACKNET_RATIO = 0.5;

/**
 * The task trains in the free weights, is pruned one-shot at a fixed ratio and retrained, whatever its accuracy;
 * it never expands, so late tasks may find little room.
 */
export const packnet: Method = {
  id: 'packnet',
  title: 'PackNet (fixed ratio, no expansion)',
  needsGoal: false,
  learn: (net, id, head, data, o) =>
    packTask(net, id, head, data, {
      ...o,
      goal: null,
      fixedRatio: o.packnetRatio ?? PACKNET_RATIO,
      maxExpansions: 0,
      minFreeFraction: 0,
    }),
  keptBytes: (l) => l.fileTensorBytes,
};
