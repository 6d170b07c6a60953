// ProgressiveNet (Rusu et al. 2016) on the packable backbone: a new column per task, reading the frozen earlier ones.
import { noGrad, tidy } from '../../engine/index.ts';
import { expand } from '../expander.ts';
import type { PackableNet } from '../network.ts';
import { openFree, zeroFree } from '../ownership.ts';
import { trainTask } from '../trainer.ts';
import type { Method } from './method.ts';
import { unprunedResult } from './unpruned-result.ts';

/**
 * Task k gets a new column (every layer widened by one base width) that reads all earlier columns (the lateral
 * connections) while the earlier columns never read it; earlier columns are frozen. The block from a new column
 * into an old one stays free and zero, so it costs nothing; the model grows by a column per task.
 */
export const progressive: Method = {
  id: 'progressive',
  title: 'ProgressiveNet',
  needsGoal: false,
  async learn(net, id, head, data, o) {
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
    return { ...unprunedResult(net, id, train, `progressive: column ${columns + 1}`), expansions };
  },
  // Dense, but the free (new-into-old) blocks are never stored.
  keptBytes: (l) => l.denseBytes - 4 * l.freeWeights,
};

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
