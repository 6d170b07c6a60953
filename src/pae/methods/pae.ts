// PAE (Hung et al. 2019), the method this project implements: pack into free weights, expand below the goal, prune to it.
import { packTask } from '../strategy.ts';
import type { Method } from './method.ts';

/** Trains in the free weights, expands while below the goal, then prunes gradually to the largest ratio meeting it. */
export const pae: Method = {
  id: 'pae',
  title: 'PAE (this project)',
  needsGoal: true,
  learn: (net, id, head, data, o) => packTask(net, id, head, data, o),
  // The file stores the owner map and only owned weights: freed weights cost nothing.
  keptBytes: (l) => l.fileTensorBytes,
};
