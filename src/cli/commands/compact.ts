// paenet compact MODEL -o OUT [--weights fp16|int8|fp32]: the same model with smaller storage, for shipping.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { PaenetError } from '../../common/errors.ts';
import { readModelFile, saveModel, WEIGHT_STORAGES, type Storage, type WeightStorage } from '../../pae/index.ts';
import { mib, pct, printJson } from '../format.ts';

const describe = (s: Storage): string => `${s.weights} weights, ${s.ownerBits}-bit owner tags`;

export function registerCompact(program: Command): void {
  program
    .command('compact')
    .description('rewrite a model with fp16 or int8 owned weights (owner maps are always packed); training keeps fp32')
    .argument('<model>', 'model file (*.pae)')
    .requiredOption('-o, --out <file>', 'model file to write (atomically; may be the input)')
    .option('--weights <storage>', `owned-weight storage (${WEIGHT_STORAGES.join(', ')}; fp32 is exact)`, 'fp16')
    .option('--json', 'machine-readable summary')
    .action((file: string, o: { out: string; weights: string; json?: boolean }) => {
      if (!WEIGHT_STORAGES.includes(o.weights as WeightStorage))
        throw new PaenetError('PAENET_INPUT', `--weights must be one of ${WEIGHT_STORAGES.join(', ')}, got '${o.weights}'`);
      const { model, storage } = readModelFile(file);
      try {
        const before = statSync(file).size; // read before saving: --out may be the input
        saveModel(model, o.out, { weights: o.weights as WeightStorage });
        const after = readModelFile(o.out); // what the file now holds, read back as every user will read it
        after.model.dispose();
        const bytes = statSync(o.out).size;
        if (o.json) printJson({ model: file, out: o.out, from: { storage, bytes: before }, to: { storage: after.storage, bytes } });
        else
          console.log(
            `${file} (${describe(storage)}): ${mib(before)} → ${o.out} (${describe(after.storage)}): ${mib(bytes)}, ${pct(bytes / before)} of the size`,
          );
      } finally {
        model.dispose();
      }
    });
}
