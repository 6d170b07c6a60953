// The PackResult of a method that trains a task and prunes nothing (fine-tuning, ProgressiveNet, individual networks).
import type { PackableNet } from '../network.ts';
import { countOwned } from '../ownership.ts';
import type { PackResult } from '../strategy.ts';

/** Reports a trained, unpruned task: its best validation score at ratio 0, with the one decision it made. */
export function unprunedResult(net: PackableNet, id: number, train: PackResult['train'], decision: string): PackResult {
  const ownedWeights = net.layers.reduce((n, l) => n + countOwned(l, id), 0);
  return {
    task: id,
    trainedAccuracy: train.best,
    accuracy: train.best,
    ratio: 0,
    records: [{ ratio: 0, realised: 0, accuracy: train.best }],
    expansions: 0,
    ownedWeights,
    decisions: [decision],
    train,
  };
}
