// paenet add-task MODEL --name NAME --kind classify|identity --data MANIFEST ...: the whole PAE cycle for one task.
import { join, dirname, basename } from 'node:path';
import type { Command } from 'commander';
import { addTask, type AddTaskSpec } from '../../workflows/add-task.ts';
import { CheckpointDir } from '../../workflows/checkpoint.ts';
import { JsonlEventLog, computeLedger, saveModel, validateRatios, type PaeEvent } from '../../pae/index.ts';
import { parseKind } from '../../tasks/index.ts';
import { mib, num, pct, printJson, stderrNotes } from '../format.ts';
import { openModel } from '../model-io.ts';
import { parsePrecision, precisionOption } from '../precision.ts';
import { terminalProgress } from '../progress.ts';

interface Options {
  precision?: string;
  name: string;
  kind: string;
  data: string;
  label?: string;
  pairs?: string;
  goal: string;
  goalMargin: string;
  epochs?: string;
  lr?: string;
  batchSize: string;
  inputSize?: string;
  pruneRatios?: string;
  pruneEpochs?: string;
  maxExpansions: string;
  classWeights: string;
  head: string;
  limitTrain?: string;
  limitVal?: string;
  log?: string;
  seed: string;
  json?: boolean;
  quiet?: boolean;
  resume?: boolean;
  checkpointDir?: string;
  sharing: string;
  folds?: string;
  fold?: string;
}

export function specFromOptions(o: Options): AddTaskSpec {
  const goal = o.goal === 'auto' || o.goal === 'none' || o.goal === 'trained' ? o.goal : num('--goal', o.goal);
  if (typeof goal === 'number' && !(goal >= 0 && goal <= 1))
    throw new Error(`paenet: --goal must be auto, trained, none or an accuracy in [0, 1], got ${o.goal}`);
  if (!['none', 'pae', 'inverse'].includes(o.classWeights)) throw new Error(`paenet: --class-weights must be none, pae or inverse`);
  if (!['cosface', 'arcface', 'linear'].includes(o.head)) throw new Error(`paenet: --head must be cosface, arcface or linear`);
  if (!['cumulative', 'task1'].includes(o.sharing)) throw new Error(`paenet: --sharing must be cumulative or task1`);
  return {
    name: o.name,
    kind: parseKind(o.kind),
    data: o.data,
    ...(o.label ? { label: o.label } : {}),
    ...(o.pairs ? { pairs: o.pairs } : {}),
    goal,
    goalMargin: num('--goal-margin', o.goalMargin),
    train: {
      ...(o.epochs ? { epochs: num('--epochs', o.epochs) } : {}),
      ...(o.lr ? { lr: num('--lr', o.lr) } : {}),
      ...(o.precision ? { precision: parsePrecision(o.precision)! } : {}),
    },
    prune: {
      ...(o.pruneRatios ? { ratios: validateRatios(o.pruneRatios.split(',').map((x) => num('--prune-ratios', x))) } : {}),
      ...(o.pruneEpochs ? { epochsPerStep: num('--prune-epochs', o.pruneEpochs) } : {}),
    },
    maxExpansions: num('--max-expansions', o.maxExpansions),
    batchSize: num('--batch-size', o.batchSize),
    ...(o.inputSize ? { inputSize: num('--input-size', o.inputSize) } : {}),
    seed: num('--seed', o.seed),
    classWeights: o.classWeights as AddTaskSpec['classWeights'],
    identityHead: o.head as AddTaskSpec['identityHead'],
    sharing: o.sharing as 'cumulative' | 'task1',
    ...(o.folds ? { folds: { k: num('--folds', o.folds), i: num('--fold', o.fold ?? '0') } } : {}),
    limit: {
      ...(o.limitTrain ? { train: num('--limit-train', o.limitTrain) } : {}),
      ...(o.limitVal ? { val: num('--limit-val', o.limitVal) } : {}),
    },
  };
}

/** One human line per training event (null for events not shown). */
export function describeEvent(e: PaeEvent): string | null {
  switch (e.type) {
    case 'epoch':
      return `  task ${e.task} ${e.phase}${e.ratio !== undefined ? ` @${e.ratio}` : ''} epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)} val ${pct(e.accuracy)} lr ${e.lr.toExponential(1)}`;
    case 'prune-step':
      return `  pruned ${pct(e.realised)} of task ${e.task}'s weights: val ${pct(e.accuracy)}`;
    case 'decision':
      return `  decision (task ${e.task}): ${e.decision} — ${e.reason}`;
    case 'expand':
      return `  expanded the backbone ×${e.sizeRatio}: ${e.weightsBefore} → ${e.weightsAfter} weights`;
    default:
      return null;
  }
}

export function registerAddTask(program: Command): void {
  precisionOption(program.command('add-task'), 'fp32')
    .description('add a task to a model: train in the free weights, prune gradually to the goal, expand if needed')
    .argument('<model>', 'model file (*.pae), updated atomically')
    .requiredOption('--name <name>', 'task name (e.g. age, gender, face)')
    .requiredOption('--kind <kind>', 'classify | identity')
    .requiredOption(
      '--data <manifest|dir>',
      'training data: a manifest CSV (path, label, split columns) or class folders (dir/<split>/<class>/)',
    )
    .option('--label <column>', 'label column (default: label)')
    .option('--pairs <file>', 'identity tasks: validation pairs (default: pairs.txt beside the manifest)')
    .option(
      '--goal <auto|trained|none|x>',
      "accuracy goal: auto = an individual network on the same data; trained = the task's own unpruned accuracy",
      'auto',
    )
    .option('--goal-margin <x>', 'subtracted from an auto goal', '0')
    .option('--epochs <n>', 'maximum training epochs (default 30)')
    .option('--lr <x>', 'training learning rate (default 1e-3, Adam)')
    .option('--batch-size <n>', 'batch size', '64')
    .option('--input-size <px>', "the task's input side in pixels (default: the backbone's)")
    .option('--prune-ratios <list>', 'pruning ratios, e.g. 0.1,0.2,...,0.9 (default)')
    .option('--prune-epochs <n>', 'epochs per pruning step (default 4)')
    .option('--max-expansions <n>', 'expansions allowed for this task', '2')
    .option('--class-weights <mode>', 'none | pae ((N−n_c)/n_c) | inverse', 'none')
    .option('--head <kind>', 'identity head: cosface | arcface | linear', 'cosface')
    .option('--folds <k>', 'classify: Adience-style k-fold split of the whole manifest instead of its split column')
    .option('--fold <i>', 'with --folds: the validation fold (0-based)', '0')
    .option('--sharing <mode>', 'earlier weights the task uses: cumulative (all tasks) | task1 (task 1 + its own)', 'cumulative')
    .option('--limit-train <n>', 'use at most n training images (fast runs)')
    .option('--limit-val <n>', 'use at most n validation images (fast runs)')
    .option('--log <file>', 'JSONL event log (default: MODEL.<name>.events.jsonl)')
    .option('--seed <n>', 'data order and augmentation seed', '0')
    .option('--resume', 'continue an interrupted add-task from its checkpoint')
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default: MODEL.<name>.ckpt beside the model)')
    .option('--quiet', 'no progress bars')
    .option('--json', 'machine-readable summary on stdout')
    .action(async (file: string, o: Options) => {
      const spec = specFromOptions(o);
      const checkpoints = new CheckpointDir(o.checkpointDir ?? join(dirname(file), `${basename(file, '.pae')}.${o.name}.ckpt`));
      if (checkpoints.exists() && !o.resume) {
        throw new Error(
          `${checkpoints.dir}: an interrupted add-task of '${o.name}' left a checkpoint: add --resume to continue it, or delete the folder to start over`,
        );
      }
      let model = openModel(file);
      try {
        const logPath = o.log ?? join(dirname(file), `${basename(file, '.pae')}.${o.name}.events.jsonl`);
        const say = stderrNotes(Boolean(o.json || o.quiet));
        const events = new JsonlEventLog(logPath, {
          emit: (e) => {
            const d = describeEvent(e);
            if (d) say(d);
          },
        });
        const done = await addTask(
          model,
          spec,
          { events, progress: terminalProgress(!o.quiet && !o.json), note: say },
          { checkpoints, resume: o.resume ?? false },
        );
        if (done.model !== model) {
          model.dispose();
          model = done.model;
        }
        const { record } = done;
        saveModel(model, file);
        checkpoints.clear();
        const ledger = computeLedger(model);
        const own = ledger.tasks.find((t) => t.id === record.id)!;
        if (o.json)
          printJson({
            model: file,
            task: record,
            module: own,
            ledger: { fileTensorBytes: ledger.fileTensorBytes, individualBytes: ledger.individualBytes },
            log: logPath,
          });
        else {
          console.log(
            `${file}: task '${record.name}' (#${record.id}) ${record.metric.name} ${pct(record.metric.value)} (goal ${pct(record.goal.value)}), ` +
              `pruned ${pct(record.pruning.ratio)}, ${record.expansions} expansion(s), module ${mib(own.moduleBytes)}; events in ${logPath}`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
