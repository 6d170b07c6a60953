// paenet eval MODEL --task NAME --data MANIFEST|PAIRS [--json]: a task's metric on a data set, with a predictions hash.
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { hasSplitColumn } from '../../data/manifest.ts';
import { evaluateClassification, evaluateVerificationTask } from '../../tasks/evaluate.ts';
import { loadImageSet, loadPairSet } from '../../tasks/index.ts';
import { pct, printJson, table } from '../format.ts';
import { openModel } from '../model-io.ts';

/** True when the file looks like an LFW pairs file (first line: two integers); false for a class-folder data set. */
export function isPairsFile(path: string): boolean {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new Error(
      `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such data file or folder' : `cannot read (${(e as Error).message})`}`,
    );
  }
  if (isDir) return false;
  const first = readFileSync(path, 'utf8').split(/\r?\n/, 1)[0] ?? '';
  return /^\s*\d+\s+\d+\s*$/.test(first);
}

/**
 * The split evaluated when `--split` is not given: `val` where the data has splits (class folders: a `val` subfolder
 * is required as before), every row of a manifest without a split column.
 */
function defaultSplit(data: string): string | undefined {
  return statSync(data).isDirectory() || hasSplitColumn(data) ? 'val' : undefined;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate one task on a labelled manifest split or on a verification pairs file')
    .argument('<model>', 'model file (*.pae)')
    .requiredOption('--task <name>', 'task to evaluate')
    .requiredOption('--data <file>', 'manifest CSV (classify) or pairs.txt (identity)')
    .option('--label <column>', 'label column (default: the one the task was trained on)')
    .option('--split <value>', 'manifest split to evaluate (default: val; every row of a manifest without a split column)')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { task: string; data: string; label?: string; split?: string; json?: boolean }) => {
      const model = openModel(file);
      try {
        const t = model.task(o.task);
        // The task's own input side: it was trained (and calibrated) on crops of that size.
        const size = model.inputSizeOf(t);
        if (t.kind === 'identity' || isPairsFile(o.data)) {
          if (t.kind !== 'identity') throw new Error(`${o.data}: a pairs file needs an identity task; '${t.name}' is ${t.kind}`);
          const r = evaluateVerificationTask(model.net, t.id, await loadPairSet(o.data, size));
          const out = {
            task: t.name,
            data: o.data,
            metric: r.metric,
            value: r.value,
            std: r.std,
            n: r.n,
            threshold: r.threshold,
            auc: r.auc,
            tarAtFar: r.tarAtFar,
            sha256: r.sha256,
          };
          if (o.json) printJson(out);
          else
            console.log(
              `${t.name} on ${o.data}: verification ${pct(r.value)} ± ${pct(r.std)} over ${r.folds} folds (${r.n} pairs), AUC ${r.auc.toFixed(4)}, threshold ${r.threshold.toFixed(4)}, sha256 ${r.sha256.slice(0, 16)}…`,
            );
          return;
        }
        const label = o.label ?? String(t.data.label ?? 'label');
        const split = o.split ?? defaultSplit(o.data);
        const set = await loadImageSet(o.data, { label, ...(split !== undefined ? { split } : {}), size, classes: t.labels });
        const r = evaluateClassification(model.net, t.id, set, t.labels);
        const out = {
          task: t.name,
          data: o.data,
          split: split ?? null,
          metric: r.metric,
          value: r.value,
          n: r.n,
          macro: r.macro,
          perClass: r.perClass,
          confusion: r.confusion,
          sha256: r.sha256,
          skipped: set.skipped,
        };
        if (o.json) printJson(out);
        else {
          console.log(
            `${t.name} on ${o.data} [${split ?? 'every row'}]: top-1 ${pct(r.value)} (n=${r.n}, macro ${pct(r.macro)}), sha256 ${r.sha256.slice(0, 16)}…`,
          );
          console.log(table([['class', 'n', 'accuracy'], ...r.perClass.map((c) => [c.label, c.n, pct(c.accuracy)])]));
        }
      } finally {
        model.dispose();
      }
    });
}
