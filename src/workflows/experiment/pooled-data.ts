// A task trained on several manifests (e.g. gender from UTKFace and CelebA) gets one pooled manifest: every row's
// image path made absolute, its label column and split kept, and a `source` column naming the manifest it came from.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PaenetError } from '../../common/errors.ts';
import { parseCsv } from '../../data/index.ts';
import { writeFileAtomicSync } from '../../io/atomic-write.ts';
import type { ExperimentConfig, ExperimentTask } from './config.ts';

/** A task whose data is one manifest. */
export type RunTask = Omit<ExperimentTask, 'data'> & { data: string };
/** An experiment whose every task reads one manifest (pooled ones written to disk). */
export type RunConfig = Omit<ExperimentConfig, 'tasks'> & { tasks: RunTask[] };

const csvCell = (v: string): string => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** Writes the pooled manifest of `manifests` (columns path, label, split, source) to `file`. */
export function poolManifests(manifests: string[], label: string, file: string): void {
  const lines = [['path', label, 'split', 'source'].join(',')];
  for (const m of manifests) {
    const table = parseCsv(readFileSync(m, 'utf8'), m);
    for (const col of ['path', label, 'split'])
      if (!table.header.includes(col))
        throw new PaenetError('PAENET_DATA', `${m}: no '${col}' column to pool (columns: ${table.header.join(', ')})`);
    const [path, value, split] = ['path', label, 'split'].map((c) => table.header.indexOf(c)) as [number, number, number];
    const base = dirname(resolve(m));
    for (const row of table.rows)
      lines.push([resolve(base, row[path] ?? ''), row[value] ?? '', row[split] ?? '', m].map(csvCell).join(','));
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicSync(file, Buffer.from(`${lines.join('\n')}\n`));
}

/** The config with every pooled task's manifests written as one, under `output/data/<task>.csv`. */
export function resolveTaskData(cfg: ExperimentConfig): RunConfig {
  return {
    ...cfg,
    tasks: cfg.tasks.map((t) => {
      if (typeof t.data === 'string') return { ...t, data: t.data };
      if (t.data.length === 1) return { ...t, data: t.data[0]! };
      const file = join(cfg.output, 'data', `${t.name}.csv`);
      poolManifests(t.data, t.label ?? 'label', file);
      return { ...t, data: file };
    }),
  };
}
