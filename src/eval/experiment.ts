// Runs a task sequence as an experiment: PAE packing vs individual networks, the accuracy matrix, sizes, times.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  computeLedger,
  configFromPreset,
  PaeModel,
  saveModel,
  type EventSink,
  type Ledger,
  type Provenance,
  type ProgressSink,
} from '../pae/index.ts';
import { manualSeed } from '../engine/index.ts';
import { loadImageSet, loadPairSet, type TaskKind } from '../tasks/index.ts';
import { addTask, type AddTaskSpec } from './add-task.ts';
import { backwardTransfer, type AccuracyMatrix } from './continual.ts';
import { importPretrained, PRETRAINED_SOURCES, type PretrainedSource } from './import-model.ts';
import { classificationValidator, verificationValidator } from './protocols.ts';
import { pruneIdentityTask } from './prune-task.ts';

/** One task of a sequence. */
export interface ExperimentTask {
  name: string;
  kind: TaskKind;
  data: string;
  label?: string;
  pairs?: string;
  classWeights?: AddTaskSpec['classWeights'];
  /**
   * First task only (identity): adopt this pretrained network instead of training one; it is then pruned by
   * distillation from its unpruned self on `data`, and its unpruned accuracy is the individual network's.
   */
  pretrained?: PretrainedSource;
}

/** An experiment file (experiments/*.json). */
export interface ExperimentConfig {
  name: string;
  description?: string;
  arch: string;
  widthMult?: number;
  /** Output folder (report.md, results.json, model.pae). */
  output: string;
  tasks: ExperimentTask[];
  train?: AddTaskSpec['train'];
  prune?: AddTaskSpec['prune'];
  limit?: AddTaskSpec['limit'];
  goalMargin?: number;
  maxExpansions?: number;
  batchSize?: number;
  seed?: number;
  /** A pretrained first task distils on at most this many images of its manifest. @default limit.train */
  distillImages?: number;
}

export interface TaskOutcome {
  name: string;
  kind: TaskKind;
  metric: string;
  individual: number;
  pae: number;
  trained: number;
  ratio: number;
  expansions: number;
  moduleBytes: number;
  seconds: number;
}

export interface ExperimentResult {
  config: ExperimentConfig;
  tasks: TaskOutcome[];
  /** R[i][j]: task j's score after learning task i (null above the diagonal). */
  accuracyMatrix: (number | null)[][];
  bwt: number;
  ledger: Ledger;
  seconds: number;
}

/** Checks an experiment file's shape; throws one line naming the file. */
export function validateExperiment(c: unknown, source: string): ExperimentConfig {
  const o = c as Partial<ExperimentConfig> | null;
  const bad = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (!o || typeof o !== 'object') bad('not a JSON object');
  if (typeof o!.name !== 'string' || typeof o!.arch !== 'string' || typeof o!.output !== 'string')
    bad('needs "name", "arch" and "output" strings');
  if (!Array.isArray(o!.tasks) || o!.tasks.length === 0) bad('needs a non-empty "tasks" list');
  o!.tasks!.forEach((t, i) => {
    if (!t || typeof t.name !== 'string' || typeof t.data !== 'string' || (t.kind !== 'classify' && t.kind !== 'identity')) {
      bad(`tasks[${i}] needs "name", "kind" (classify|identity) and "data"`);
    }
    if (t.pretrained !== undefined) {
      if (!(PRETRAINED_SOURCES as readonly string[]).includes(t.pretrained))
        bad(`tasks[${i}].pretrained '${t.pretrained}' is unknown (known: ${PRETRAINED_SOURCES.join(', ')})`);
      if (i !== 0 || t.kind !== 'identity') bad(`tasks[${i}]: only the first task, an identity task, can be pretrained`);
      if (o!.arch !== 'dlib-resnet') bad(`a face-api-recognition start needs "arch": "dlib-resnet" (got '${o!.arch}')`);
    }
  });
  return o as ExperimentConfig;
}

/** Scores every learned task of the model on its validation data (for the accuracy matrix). */
type Scorer = (model: PaeModel) => Promise<number>;

async function scorerFor(model: PaeModel, t: ExperimentTask, name: string, limitVal?: number): Promise<Scorer> {
  const rec = model.task(name);
  const size = model.config.inputSize;
  if (t.kind === 'identity') {
    const pairs = await loadPairSet(String(rec.data.pairs), size);
    const v = verificationValidator(pairs);
    return (m) => v(m.net, rec.id);
  }
  const set = await loadImageSet(t.data, {
    label: String(rec.data.label),
    split: String(rec.data.valSplit ?? 'val'),
    size,
    classes: rec.labels,
    ...(limitVal ? { limit: limitVal } : {}),
  });
  const v = classificationValidator(set);
  return (m) => v(m.net, rec.id);
}

/**
 * Packs the sequence with PAE; each task's goal is an individual network of the same backbone trained on the
 * same data (that network is also the "individual" baseline). After each task every earlier task is
 * re-measured, so the accuracy matrix and BWT come from the run, not from the method's promise.
 */
export async function runExperiment(
  cfg: ExperimentConfig,
  provenance: Provenance,
  sinks: { events?: EventSink; progress?: ProgressSink; note?: (s: string) => void } = {},
): Promise<ExperimentResult> {
  const t0 = Date.now();
  manualSeed(cfg.seed ?? 0);
  const first = cfg.tasks[0]!;
  const pairsOf = (t: ExperimentTask): string => t.pairs ?? join(dirname(resolve(t.data)), 'pairs.txt');
  const model = first.pretrained
    ? (await importPretrained({ from: first.pretrained, name: first.name }, provenance)).model
    : PaeModel.create(configFromPreset(cfg.arch, cfg.widthMult ?? 1), provenance);
  const outcomes: TaskOutcome[] = [];
  const R: (number | null)[][] = [];
  const scorers: Scorer[] = [];
  try {
    for (const [i, t] of cfg.tasks.entries()) {
      const start = Date.now();
      sinks.note?.(`[${i + 1}/${cfg.tasks.length}] ${t.name} (${t.kind}) from ${t.data}`);
      const distilImages = cfg.distillImages ?? cfg.limit?.train;
      const { record } = t.pretrained
        ? await pruneIdentityTask(
            model,
            {
              task: t.name,
              data: t.data,
              pairs: pairsOf(t),
              goal: 'auto',
              goalMargin: cfg.goalMargin ?? 0,
              ...(cfg.prune ? { prune: cfg.prune } : {}),
              ...(distilImages ? { limit: distilImages } : {}),
              batchSize: cfg.batchSize ?? 32,
              seed: cfg.seed ?? 0,
            },
            sinks,
          )
        : await addTask(
            model,
            {
              name: t.name,
              kind: t.kind,
              data: t.data,
              ...(t.label ? { label: t.label } : {}),
              ...(t.pairs ? { pairs: t.pairs } : {}),
              goal: 'auto',
              goalMargin: cfg.goalMargin ?? 0,
              ...(cfg.train ? { train: cfg.train } : {}),
              ...(cfg.prune ? { prune: cfg.prune } : {}),
              ...(cfg.limit ? { limit: cfg.limit } : {}),
              maxExpansions: cfg.maxExpansions ?? 2,
              batchSize: cfg.batchSize ?? 64,
              seed: cfg.seed ?? 0,
              ...(t.classWeights ? { classWeights: t.classWeights } : {}),
            },
            sinks,
          );
      scorers.push(await scorerFor(model, t, t.name, cfg.limit?.val));
      const row: (number | null)[] = [];
      for (let j = 0; j < cfg.tasks.length; j++) row.push(j <= i ? await scorers[j]!(model) : null);
      R.push(row);
      const ledger = computeLedger(model);
      outcomes.push({
        name: t.name,
        kind: t.kind,
        metric: record.metric.name,
        individual: record.goal.individual ?? NaN,
        pae: record.metric.value,
        trained: record.metric.trained,
        ratio: record.pruning.ratio,
        expansions: record.expansions,
        moduleBytes: ledger.tasks.find((x) => x.id === record.id)!.moduleBytes,
        seconds: (Date.now() - start) / 1000,
      });
    }
    mkdirSync(cfg.output, { recursive: true });
    saveModel(model, join(cfg.output, 'model.pae'));
    return {
      config: cfg,
      tasks: outcomes,
      accuracyMatrix: R,
      bwt: backwardTransfer(R as AccuracyMatrix),
      ledger: computeLedger(model),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
