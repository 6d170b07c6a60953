// Per-module scores of a packed model on named validation sets: what a model's report and its peer table quote.
// Classifiers report top-1 AND mean per-class accuracy (class imbalance hides behind top-1 alone); ordered classes
// (age groups) add 1-off; identity tasks the 10-fold verification accuracy on each pairs file.
import type { PaeModel } from '../../pae/index.ts';
import { loadImageSet, loadPairSet } from '../../tasks/index.ts';
import { evaluateClassification, evaluateVerificationTask } from '../../tasks/evaluate.ts';
import { oneOffAccuracy } from '../../metrics/classification.ts';

/** One validation set a module is measured on. */
export interface ModuleEvaluation {
  /** The model's task. */
  task: string;
  /** What the row is called in reports, e.g. 'gender, UTKFace val'. */
  name: string;
  /** Classify tasks: the manifest, its label column and split. */
  data?: string;
  label?: string;
  /** @default 'val' */
  split?: string;
  /** Identity tasks: the pairs file. */
  pairs?: string;
  /** Ordered classes (age groups): report 1-off accuracy too. */
  oneOff?: boolean;
}

export interface ModuleScore {
  task: string;
  name: string;
  inputSize: number;
  n: number;
  /** Top-1 (classify) or mean 10-fold verification accuracy (identity). */
  value: number;
  /** Classify: mean per-class accuracy. */
  meanPerClass?: number;
  oneOff?: number;
  /** Identity: standard deviation over the folds. */
  std?: number;
  /** SHA-256 of the predictions or pair distances: equal hashes, equal answers. */
  sha256: string;
}

/** Checks an evaluation list against the model's tasks before hours of work depend on it. */
export function checkEvaluations(model: PaeModel, list: ModuleEvaluation[], source: string): void {
  for (const e of list) {
    const t = model.task(e.task);
    if (t.kind === 'identity' && !e.pairs) throw new Error(`${source}: evaluation '${e.name}' of identity task '${e.task}' needs "pairs"`);
    if (t.kind !== 'identity' && (!e.data || !e.label))
      throw new Error(`${source}: evaluation '${e.name}' of ${t.kind} task '${e.task}' needs "data" and "label"`);
  }
}

/** Scores every listed module of `model`, each on crops at its own input size. */
export async function scoreModules(model: PaeModel, list: ModuleEvaluation[], note?: (line: string) => void): Promise<ModuleScore[]> {
  const out: ModuleScore[] = [];
  for (const e of list) {
    const rec = model.task(e.task);
    const size = model.inputSizeOf(rec);
    if (rec.kind === 'identity') {
      const pairs = await loadPairSet(e.pairs!, size);
      const r = evaluateVerificationTask(model.net, rec.id, pairs);
      out.push({ task: e.task, name: e.name, inputSize: size, n: r.n, value: r.value, std: r.std, sha256: r.sha256 });
    } else {
      const set = await loadImageSet(e.data!, { label: e.label!, split: e.split ?? 'val', size, classes: rec.labels });
      const r = evaluateClassification(model.net, rec.id, set, rec.labels);
      out.push({
        task: e.task,
        name: e.name,
        inputSize: size,
        n: r.n,
        value: r.value,
        meanPerClass: r.macro,
        ...(e.oneOff ? { oneOff: oneOffAccuracy(r.predictions, set.labels) } : {}),
        sha256: r.sha256,
      });
    }
    const s = out.at(-1)!;
    note?.(
      `${s.name}: ${(100 * s.value).toFixed(2)} %${s.meanPerClass !== undefined ? ` (mean per class ${(100 * s.meanPerClass).toFixed(2)} %)` : ''} on ${s.n}`,
    );
  }
  return out;
}
