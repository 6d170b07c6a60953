// What a continual-learning method is: how it learns a task into a network, what it keeps, what reports call it.
import type { Ledger } from '../ledger.ts';
import type { HeadSpec, PackableNet } from '../network.ts';
import type { PackOptions, PackResult } from '../strategy.ts';
import type { TaskData } from '../task-data.ts';

/** Every method, in the order reports list them; the ids experiment configs and results use. */
export const METHOD_IDS = ['pae', 'individual', 'packnet', 'finetune', 'progressive'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export interface MethodOptions extends PackOptions {
  /** PackNet's fixed one-shot pruning ratio per task. @default 0.5 */
  packnetRatio?: number;
}

/** A way of learning a sequence of tasks on the owner-tagged backbone, one task at a time. */
export interface Method {
  readonly id: MethodId;
  /** Its name in reports. */
  readonly title: string;
  /** Whether `learn` reads `o.goal`: only then is an individual network trained first to set it. */
  readonly needsGoal: boolean;
  /** Learns task `id` into `net`; every method reports in PAE's PackResult shape. */
  learn(net: PackableNet, id: number, head: HeadSpec, data: TaskData, o: MethodOptions): Promise<PackResult>;
  /**
   * Bytes the method keeps for the tasks of `ledger`, the ledger of the model they were learned into (for
   * individual networks: the model the same tasks were packed into, whose ledger prices one network per task).
   */
  keptBytes(ledger: Ledger): number;
}
