// The experiment's charts as vega-lite specs, every point read from the run's results.
import { writeChart, type ChartSpec } from '../io/render-chart.ts';
import type { ExperimentResult } from '../workflows/index.ts';

const MB = 2 ** 20;
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 420, height: 260, background: 'white' } as const;

/** Accuracy vs pruning ratio per PAE task, the kept ratio (the turning point) drawn as a large filled point. */
export function pruningCurves(r: ExperimentResult): ChartSpec {
  const values = r.tasks.flatMap((t) =>
    t.curve.map((c) => ({ task: t.name, ratio: c.ratio, accuracy: c.accuracy, kept: c.ratio === t.ratio })),
  );
  return {
    ...base,
    title: 'PAE: validation accuracy vs pruning ratio (filled: kept ratio)',
    data: { values },
    encoding: {
      x: { field: 'ratio', type: 'quantitative', title: 'pruning ratio', scale: { domain: [0, 1] } },
      y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy', scale: { zero: false } },
      color: { field: 'task', type: 'nominal' },
    },
    layer: [
      { mark: { type: 'line', point: true } },
      { transform: [{ filter: 'datum.kept' }], mark: { type: 'point', filled: true, size: 160 } },
    ],
  };
}

/** Bytes each method keeps after each task of the sequence. */
export function sizeOverSequence(r: ExperimentResult): ChartSpec {
  const values = r.methods.flatMap((m) =>
    m.sizes.map((b, i) => ({ method: m.method, step: i + 1, task: r.config.tasks[i]!.name, mb: b / MB })),
  );
  return {
    ...base,
    title: 'Model size over the task sequence',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'ordinal', title: 'after task' },
      y: { field: 'mb', type: 'quantitative', title: 'MB (2^20 bytes)' },
      color: { field: 'method', type: 'nominal' },
      tooltip: [{ field: 'task' }, { field: 'mb', format: '.3f' }],
    },
  };
}

/** Wall-clock minutes per method, stacked by task. */
export function timePerMethod(r: ExperimentResult): ChartSpec {
  const values = r.methods.flatMap((m) => m.seconds.map((s, i) => ({ method: m.method, task: r.config.tasks[i]!.name, minutes: s / 60 })));
  return {
    ...base,
    title: 'Wall-clock time per method',
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'method', type: 'nominal', sort: r.methods.map((m) => m.method) },
      y: { field: 'minutes', type: 'quantitative', aggregate: 'sum', title: 'minutes' },
      color: { field: 'task', type: 'nominal' },
    },
  };
}

/** Final accuracy per task and method (after the whole sequence). */
export function finalAccuracy(r: ExperimentResult): ChartSpec {
  const values = r.methods.flatMap((m) =>
    m.accuracyMatrix.at(-1)!.map((v, j) => ({ method: m.method, task: r.config.tasks[j]!.name, accuracy: v })),
  );
  return {
    ...base,
    title: 'Accuracy of every task after the last one',
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'task', type: 'nominal', sort: r.config.tasks.map((t) => t.name) },
      xOffset: { field: 'method', sort: r.methods.map((m) => m.method) },
      y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy' },
      color: { field: 'method', type: 'nominal', sort: r.methods.map((m) => m.method) },
    },
  };
}

export const PLOTS = {
  'pruning-curves': pruningCurves,
  'size-over-sequence': sizeOverSequence,
  'final-accuracy': finalAccuracy,
  time: timePerMethod,
};

/** Writes every chart as `<dir>/<name>.svg` and `.png`; returns the names. */
export async function writeExperimentPlots(r: ExperimentResult, dir: string): Promise<string[]> {
  const names = Object.keys(PLOTS) as (keyof typeof PLOTS)[];
  for (const n of names) await writeChart(PLOTS[n](r), `${dir}/${n}`);
  return names;
}
