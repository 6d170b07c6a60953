// Individual networks: the no-sharing reference, one dense network of the same backbone per task.
import { openFree } from '../ownership.ts';
import { trainTask } from '../trainer.ts';
import type { Method } from './method.ts';
import { unprunedResult } from './unpruned-result.ts';

/**
 * Each task trains alone, every weight of a network of its own (`net` must hold no task yet); separate networks
 * never forget. Their accuracy is PAE's goal.
 */
export const individual: Method = {
  id: 'individual',
  title: 'individual networks',
  needsGoal: false,
  async learn(net, id, head, data, o) {
    if (net.slots.size > 0)
      throw new Error(
        `paenet: an individual network learns one task alone, but this network holds task(s) ${[...net.slots.keys()].join(', ')}`,
      );
    net.addTaskSlot(id, 'cumulative', head);
    openFree(net, id);
    const train = await trainTask(net, id, data, o.train, { events: o.events, progress: o.progress });
    return unprunedResult(net, id, train, 'individual: trained every weight of its own backbone');
  },
  keptBytes: (l) => l.individualBytes,
};
