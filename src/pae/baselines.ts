// The methods PAE is compared with, on the same owner-tagged backbone: PackNet, fine-tuning, ProgressiveNet.
import { noGrad, tidy } from '../engine/index.ts';
import { expand } from './expander.ts';
import type { HeadSpec, PackableNet } from './network.ts';
import { claimAll, countOwned, openFree, zeroFree } from './ownership.ts';
import { packTask, type PackOptions, type PackResult } from './strategy.ts';
import type { TaskData } from './task-data.ts';
import { trainTask } from './trainer.ts';

/** Continual-learning methods a task can be learned with. */
export const METHODS = ['pae', 'packnet', 'finetune', 'progressive'] as const;
export type Method = (typeof METHODS)[number];

/** Default PackNet pruning ratio per task (PackNet's paper prunes 50–75 % per task; one fixed value, no search). */
export const PACKNET_RATIO = 0.5;

export interface MethodOptions extends PackOptions {
  /** PackNet's fixed one-shot pruning ratio. @default PACKNET_RATIO */
  packnetRatio?: number;
}

/** Learns task `id` on `net` with `method`; every method reports in PAE's PackResult shape. */
export async function learnTask(
  method: Method,
  net: PackableNet,
  id: number,
  head: HeadSpec,
  data: TaskData,
  o: MethodOptions,
): Promise<PackResult> {
  switch (method) {
    case 'pae':
      return packTask(net, id, head, data, o);
    case 'packnet':
      return packnetTask(net, id, head, data, o);
    case 'finetune':
      return finetuneTask(net, id, head, data, o);
    case 'progressive':
      return progressiveTask(net, id, head, data, o);
  }
}

/**
 * PackNet (Mallya & Lazebnik 2018): the task trains in the free weights, is pruned one-shot at a fixed ratio and
 * retrained, whatever its accuracy; never expands, so late tasks may find little room.
 */
export function packnetTask(net: PackableNet, id: number, head: HeadSpec, data: TaskData, o: MethodOptions): Promise<PackResult> {
  const ratio = o.packnetRatio ?? PACKNET_RATIO;
  // A goal of −∞ makes the ladder keep its largest (only) ratio: PackNet searches nothing.
  return packTask(net, id, head, data, {
    ...o,
    goal: -Infinity,
    maxExpansions: 0,
    minFreeFraction: 0,
    prune: { ...o.prune, ratios: [ratio], rampEpochs: 0 },
  });
}

/**
 * Sequential fine-tuning: one shared backbone that every task computes with and each new task retrains
 * entirely (its own BN and head, as the other methods). Earlier tasks see the changed weights: this is the
 * forgetting the other methods avoid.
 */
export async function finetuneTask(net: PackableNet, id: number, head: HeadSpec, data: TaskData, o: MethodOptions): Promise<PackResult> {
  for (const s of net.slots.values())
    if (s.sharing !== 'all') throw new Error('paenet: fine-tuning needs a network whose every task shares all weights');
  net.addTaskSlot(id, 'all', head);
  claimAll(net, id);
  const train = await trainTask(net, id, data, o.train, { events: o.events, progress: o.progress });
  return plainResult(net, id, train, 'fine-tune: retrained every weight of the shared backbone');
}

/**
 * ProgressiveNet (Rusu et al. 2016) on the packable backbone: task k gets a new column (every layer widened by one
 * base width) that reads all earlier columns (the lateral connections) while the earlier columns never read it;
 * earlier columns are frozen. The block from a new column into an old one stays free and zero, so it costs
 * nothing; the model grows by a column per task.
 */
export async function progressiveTask(net: PackableNet, id: number, head: HeadSpec, data: TaskData, o: MethodOptions): Promise<PackResult> {
  const columns = net.slots.size;
  let expansions = 0;
  if (columns === 0) openFree(net, id);
  else {
    const before = new Map(net.layers.map((l) => [l, l.channels] as const));
    // Width (columns + 1)·base: the size ratio of the widths squared (stageWidth takes √ of the size product).
    expand(net, ((columns + 1) / columns) ** 2);
    expansions = 1;
    claimNewColumn(net, id, before);
  }
  net.addTaskSlot(id, 'cumulative', head);
  zeroFree(net);
  const train = await trainTask(net, id, data, o.train, { events: o.events, progress: o.progress });
  return { ...plainResult(net, id, train, `progressive: column ${columns + 1}`), expansions };
}

/** Gives task `id` the new output channels of every layer (reading all inputs), and the new inputs of fixed-width outputs. */
function claimNewColumn(net: PackableNet, id: number, before: Map<unknown, [number, number]>): void {
  noGrad(() => {
    for (const l of net.layers) {
      const [o0, i0] = before.get(l)!;
      const [o1, i1] = l.channels;
      tidy(() => {
        if (o1 > o0) l.owner.narrow(0, o0, o1 - o0).fill_(id);
        else if (i1 > i0) l.owner.narrow(1, i0, i1 - i0).fill_(id);
      });
      l.ownersChanged();
    }
  });
}

function plainResult(net: PackableNet, id: number, train: PackResult['train'], decision: string): PackResult {
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
