// paenet import MODEL --from face-api-recognition [--package-dir DIR] [--pairs FILE]: a pretrained network as task 1.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { importPretrained, PRETRAINED_SOURCES } from '../../workflows/import-model.ts';
import { computeLedger, saveModel } from '../../pae/index.ts';
import { mib, num, pct, printJson, stderrNotes } from '../format.ts';
import { provenance } from '../model-io.ts';
import { terminalProgress } from '../progress.ts';

interface Options {
  from: string;
  packageDir?: string;
  inputSize?: string;
  name: string;
  pairs?: string;
  force?: boolean;
  json?: boolean;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('create a model whose task 1 is a pretrained face network (then prune it and add tasks as usual)')
    .argument('<model>', 'model file to write (*.pae)')
    .requiredOption('--from <source>', `pretrained network (${PRETRAINED_SOURCES.join(', ')})`)
    .option('--package-dir <dir>', 'folder of the package holding the weights (default: the installed @vladmandic/face-api or /human)')
    .option('--input-size <px>', 'human-faceres: input side, a multiple of 32 (default 128; faceres was trained at 224)')
    .option('--name <name>', 'task name', 'identity')
    .option('--pairs <file>', 'pairs file: measure verification accuracy and calibrate the threshold (LFW protocol)')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: Options) => {
      if (existsSync(file) && !o.force) throw new Error(`${file}: already exists (use --force to overwrite)`);
      const { model, source, verification } = await importPretrained(
        {
          from: o.from,
          name: o.name,
          ...(o.packageDir ? { packageDir: o.packageDir } : {}),
          ...(o.pairs ? { pairs: o.pairs } : {}),
          ...(o.inputSize ? { inputSize: num('--input-size', o.inputSize) } : {}),
        },
        provenance(),
        { progress: terminalProgress(!o.json), note: stderrNotes(Boolean(o.json)) },
      );
      try {
        saveModel(model, file);
        const ledger = computeLedger(model);
        const summary = {
          model: file,
          task: o.name,
          source,
          weights: model.net.totalWeights(),
          fileTensorBytes: ledger.fileTensorBytes,
          ...(verification
            ? {
                verification: {
                  accuracy: verification.value,
                  std: verification.std,
                  auc: verification.auc,
                  threshold: verification.threshold,
                },
              }
            : {}),
        };
        if (o.json) printJson(summary);
        else
          console.log(
            `${file}: task '${o.name}' = ${source.package}@${source.version} face recognition (dlib ResNet, ${summary.weights} weights, ` +
              `${mib(ledger.fileTensorBytes)})` +
              (verification ? `; verification ${pct(verification.value)} ± ${pct(verification.std)} on ${o.pairs}` : ''),
          );
      } finally {
        model.dispose();
      }
    });
}
