// paenet prune MODEL --task NAME --data MANIFEST --pairs FILE: gradual pruning of the newest identity task by distillation.
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CheckpointDir } from '../../workflows/checkpoint.ts';
import { pruneIdentityTask } from '../../workflows/prune-task.ts';
import { computeLedger, JsonlEventLog, saveModel, validateRatios } from '../../pae/index.ts';
import { mib, num, pct, printJson, stderrNotes } from '../format.ts';
import { openModel } from '../model-io.ts';
import { parsePrecision, precisionOption } from '../precision.ts';
import { terminalProgress } from '../progress.ts';
import { describeEvent } from './add-task.ts';

interface Options {
  precision?: string;
  task: string;
  data: string;
  pairs: string;
  goal: string;
  goalMargin: string;
  split: string;
  limit?: string;
  pruneRatios?: string;
  pruneEpochs?: string;
  lr?: string;
  batchSize: string;
  seed: string;
  log?: string;
  resume?: boolean;
  checkpointDir?: string;
  quiet?: boolean;
  json?: boolean;
}

export function registerPrune(program: Command): void {
  precisionOption(program.command('prune'), 'fp32')
    .description(
      'prune the newest identity task (e.g. an imported one) gradually to a verification goal, retraining by distillation from its unpruned self',
    )
    .argument('<model>', 'model file (*.pae), updated atomically')
    .requiredOption('--task <name>', 'task to prune (must be the newest)')
    .requiredOption('--data <manifest>', 'face images to distil on (labels unused)')
    .requiredOption('--pairs <file>', 'verification pairs judging each ratio')
    .option('--goal <auto|none|x>', 'accuracy goal: auto = the unpruned accuracy', 'auto')
    .option('--goal-margin <x>', 'subtracted from an auto goal', '0')
    .option('--split <name>', 'split of the manifest to distil on', 'train')
    .option('--limit <n>', 'distil on at most n images')
    .option('--prune-ratios <list>', 'pruning ratios (default 0.1,...,0.9)')
    .option('--prune-epochs <n>', 'epochs per pruning step (default 4)')
    .option('--lr <x>', 'learning rate while pruning (default 5e-5)')
    .option('--batch-size <n>', 'batch size', '32')
    .option('--seed <n>', 'data order and augmentation seed', '0')
    .option('--log <file>', 'JSONL event log (default: MODEL.<task>.prune.events.jsonl)')
    .option('--resume', 'continue an interrupted prune from its checkpoint')
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default: MODEL.<task>.prune.ckpt beside the model)')
    .option('--quiet', 'no progress bars')
    .option('--json', 'machine-readable summary on stdout')
    .action(async (file: string, o: Options) => {
      const goal = o.goal === 'auto' || o.goal === 'none' ? o.goal : num('--goal', o.goal);
      const checkpoints = new CheckpointDir(o.checkpointDir ?? join(dirname(file), `${basename(file, '.pae')}.${o.task}.prune.ckpt`));
      if (checkpoints.exists() && !o.resume)
        throw new Error(
          `${checkpoints.dir}: an interrupted prune of '${o.task}' left a checkpoint: add --resume to continue it, or delete the folder to start over`,
        );
      let model = openModel(file);
      try {
        const logPath = o.log ?? join(dirname(file), `${basename(file, '.pae')}.${o.task}.prune.events.jsonl`);
        const say = stderrNotes(Boolean(o.json || o.quiet));
        const events = new JsonlEventLog(logPath, { emit: (e) => void (describeEvent(e) && say(describeEvent(e)!)) });
        const r = await pruneIdentityTask(
          model,
          {
            task: o.task,
            data: o.data,
            pairs: o.pairs,
            goal,
            goalMargin: num('--goal-margin', o.goalMargin),
            split: o.split,
            batchSize: num('--batch-size', o.batchSize),
            seed: num('--seed', o.seed),
            ...(o.limit ? { limit: num('--limit', o.limit) } : {}),
            ...(o.precision ? { train: { precision: parsePrecision(o.precision)! } } : {}),
            prune: {
              ...(o.pruneRatios ? { ratios: validateRatios(o.pruneRatios.split(',').map((x) => num('--prune-ratios', x))) } : {}),
              ...(o.pruneEpochs ? { epochsPerStep: num('--prune-epochs', o.pruneEpochs) } : {}),
              ...(o.lr ? { lr: num('--lr', o.lr) } : {}),
            },
          },
          { events, progress: terminalProgress(!o.quiet && !o.json), note: say },
          { checkpoints, resume: o.resume ?? false, teacherFile: file },
        );
        if (r.model !== model) {
          model.dispose();
          model = r.model;
        }
        saveModel(model, file);
        checkpoints.clear();
        const own = computeLedger(model).tasks.find((t) => t.id === r.record.id)!;
        if (o.json) printJson({ model: file, task: r.record, before: r.before.value, after: r.after.value, module: own, log: logPath });
        else
          console.log(
            `${file}: '${r.record.name}' pruned ${pct(r.prune.chosen.ratio)} (${r.prune.reason}); verification ${pct(r.before.value)} → ` +
              `${pct(r.after.value)}, module ${mib(own.moduleBytes)}; events in ${logPath}`,
          );
      } finally {
        model.dispose();
      }
    });
}
