// Sequential fine-tuning: the forgetting baseline, one shared backbone that every new task retrains.
import { claimAll } from '../ownership.ts';
import { trainTask } from '../trainer.ts';
import type { Method } from './method.ts';
import { unprunedResult } from './unpruned-result.ts';

/**
 * Every task computes with the one shared backbone and each new task retrains it entirely (with its own BN and
 * head, as the other methods). Earlier tasks see the changed weights: this is the forgetting the others avoid.
 */
export const finetune: Method = {
  id: 'finetune',
  title: 'sequential fine-tuning',
  needsGoal: false,
  async learn(net, id, head, data, o) {
    for (const s of net.slots.values())
      if (s.sharing !== 'all') throw new Error('paenet: fine-tuning needs a network whose every task shares all weights');
    net.addTaskSlot(id, 'all', head);
    claimAll(net, id);
    const train = await trainTask(net, id, data, o.train, { events: o.events, progress: o.progress });
    return unprunedResult(net, id, train, 'fine-tune: retrained every weight of the shared backbone');
  },
  // One dense backbone, whoever owns its weights.
  keptBytes: (l) => l.denseBytes,
};
