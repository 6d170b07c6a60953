// The main job (`npm run demo`): the shipped model analyzes sample photos (every module per face), then a copy of
// it learns a NEW module with PAE while every earlier module keeps answering bit for bit as before — shown by
// hashes of their outputs on fixed crops and by the photos' answers, before and after.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Analyzer } from '../serve/analyze.ts';
import type { RuntimeKind } from '../serve/runtime.ts';
import { addTask, type AddTaskSpec } from '../workflows/index.ts';
import { computeLedger, loadModel, saveModel, type EventSink, type PaeModel, type ProgressSink } from '../pae/index.ts';
import { loadImageSet, outputHash, type ImageSet, type TaskAnswer } from '../tasks/index.ts';
import { evaluateClassification } from '../tasks/evaluate.ts';
import { percent } from '../metrics/format.ts';

export interface DemoOptions {
  /** The model to start from (the shipped one). */
  model: string;
  /** Output folder: the grown model and report.md. */
  out: string;
  photos: string[];
  /** The new module: a classify task on a manifest's label column. */
  newTask: Pick<
    AddTaskSpec,
    'name' | 'data' | 'label' | 'inputSize' | 'train' | 'prune' | 'limit' | 'batchSize' | 'augment' | 'goalMargin'
  >;
  /** Crops the earlier modules' outputs are hashed on (the first `n` validation images of `data`). */
  probe: { data: string; label: string; n: number };
  runtime?: RuntimeKind;
  sinks?: { events?: EventSink; progress?: ProgressSink; note?: (line: string) => void };
}

type PhotoAnswers = { source: string; faces: Record<string, TaskAnswer>[] };

export interface DemoResult {
  model: string;
  grown: string;
  photos: { source: string; before: Record<string, TaskAnswer>[]; after: Record<string, TaskAnswer>[] }[];
  /** Per earlier module: output hash on the probe crops before and after the new module was packed. */
  hashes: { task: string; inputSize: number; before: string; after: string }[];
  /** Earlier modules whose photo answers changed (must be none). */
  changedOnPhotos: string[];
  newTask: {
    name: string;
    n: number;
    top1: number;
    meanPerClass: number;
    ratio: number;
    ownedWeights: number;
    freeBefore: number;
    expansions: number;
  };
  seconds: { analyze: number; pack: number; total: number };
}

async function analyzeAll(model: PaeModel, photos: string[], runtime: RuntimeKind): Promise<PhotoAnswers[]> {
  const analyzer = await Analyzer.create(model, { runtime });
  try {
    const out: PhotoAnswers[] = [];
    for (const p of photos) out.push({ source: p, faces: (await analyzer.analyze(p)).faces.map((f) => f.tasks) });
    return out;
  } finally {
    await analyzer.dispose();
  }
}

async function probeSets(model: PaeModel, probe: DemoOptions['probe']): Promise<Map<number, ImageSet>> {
  const sets = new Map<number, ImageSet>();
  for (const t of model.tasks) {
    const size = model.inputSizeOf(t);
    if (!sets.has(size)) sets.set(size, await loadImageSet(probe.data, { label: probe.label, split: 'val', size, limit: probe.n }));
  }
  return sets;
}

const hashes = (model: PaeModel, sets: Map<number, ImageSet>, names: string[]) =>
  names.map((n) => {
    const t = model.task(n);
    return outputHash(model, t, sets.get(model.inputSizeOf(t))!);
  });

/** Runs the demo; writes `out`/NAME-plus-TASK.pae and `out`/report.md. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const note = o.sinks?.note;
  const runtime = o.runtime ?? 'onnx';
  mkdirSync(o.out, { recursive: true });
  // The shipped file is never written: the new module goes into a copy.
  const copy = join(o.out, basename(o.model));
  copyFileSync(o.model, copy);
  let model = loadModel(copy);
  try {
    const earlier = model.tasks.map((t) => t.name);
    note?.(`${o.model}: modules ${model.tasks.map((t) => `${t.name} (${model.inputSizeOf(t)} px)`).join(', ')}`);
    const before = await analyzeAll(model, o.photos, runtime);
    const tAnalyze = (performance.now() - t0) / 1000;
    const sets = await probeSets(model, o.probe);
    const hashBefore = hashes(model, sets, earlier);
    const freeBefore = computeLedger(model).freeWeights;
    note?.(`packing a new module '${o.newTask.name}' (${o.newTask.label} of ${o.newTask.data}) into ${freeBefore} free weights`);
    const t1 = performance.now();
    // Goal: the module's own unpruned accuracy (minus the margin); one expansion allowed if nothing is free.
    const done = await addTask(model, { kind: 'classify', goal: 'trained', maxExpansions: 1, ...o.newTask }, o.sinks ?? {});
    const tPack = (performance.now() - t1) / 1000;
    if (done.model !== model) {
      model.dispose();
      model = done.model;
    }
    const grown = join(o.out, `${basename(o.model, '.pae')}+${o.newTask.name}.pae`);
    // Stored as the shipped file is (int8 groups are per task and idempotent: the earlier modules' bytes do not move).
    saveModel(model, grown, { weights: model.weightStorage });
    const hashAfter = hashes(model, sets, earlier);
    const after = await analyzeAll(model, o.photos, runtime);
    const changedOnPhotos = earlier.filter((name) =>
      before.some((p, i) => p.faces.some((f, k) => JSON.stringify(f[name]) !== JSON.stringify(after[i]!.faces[k]?.[name]))),
    );
    const rec = done.record;
    const val = await loadImageSet(o.newTask.data, {
      label: o.newTask.label!,
      split: 'val',
      size: model.inputSizeOf(rec),
      classes: rec.labels,
    });
    const r = evaluateClassification(model.net, rec.id, val, rec.labels);
    const own = computeLedger(model).tasks.find((t) => t.id === rec.id)!;
    return {
      model: o.model,
      grown,
      photos: before.map((p, i) => ({ source: p.source, before: p.faces, after: after[i]!.faces })),
      hashes: earlier.map((task, i) => ({ task, inputSize: model.inputSizeOf(task), before: hashBefore[i]!, after: hashAfter[i]! })),
      changedOnPhotos,
      newTask: {
        name: rec.name,
        n: r.n,
        top1: r.value,
        meanPerClass: r.macro,
        ratio: rec.pruning.ratio,
        ownedWeights: own.ownedWeights,
        freeBefore,
        expansions: rec.expansions,
      },
      seconds: { analyze: tAnalyze, pack: tPack, total: (performance.now() - t0) / 1000 },
    };
  } finally {
    model.dispose();
  }
}

function answerText(a: TaskAnswer | undefined): string {
  if (!a) return '–';
  return a.kind === 'classify' ? `${a.label} (${(100 * a.score).toFixed(0)} %)` : `${a.embedding.length}-d descriptor`;
}

/** runs/demo/report.md: what the shipped model saw in each photo, and the proof that growing it forgot nothing. */
export function demoMarkdown(r: DemoResult): string {
  const modules = Object.keys(r.photos.find((p) => p.after.length)?.after[0] ?? {});
  const lines = [
    '# paenet demo: the shipped model, and a new module packed into it',
    '',
    `Model \`${r.model}\`; the copy that learned \`${r.newTask.name}\` is \`${r.grown}\`. ` +
      `${r.seconds.total.toFixed(0)} s in all (analysis ${r.seconds.analyze.toFixed(0)} s, packing ${r.seconds.pack.toFixed(0)} s).`,
    '',
    '## Every module on every face of the sample photos (after packing)',
    '',
    `| photo | face | ${modules.join(' | ')} |`,
    `|${' --- |'.repeat(modules.length + 2)}`,
    ...r.photos.flatMap((p) =>
      p.after.map((f, k) => `| ${basename(p.source)} | ${k + 1} | ${modules.map((m) => answerText(f[m])).join(' | ')} |`),
    ),
    '',
    '## Earlier modules before and after packing the new one',
    '',
    '| module | px | output hash before | after | identical |',
    '| --- | --- | --- | --- | --- |',
    ...r.hashes.map(
      (h) =>
        `| ${h.task} | ${h.inputSize} | \`${h.before.slice(0, 16)}\` | \`${h.after.slice(0, 16)}\` | ${h.before === h.after ? 'yes' : '**NO**'} |`,
    ),
    '',
    r.changedOnPhotos.length === 0
      ? 'Every earlier module gave the same answer on every face of every photo, to the last bit.'
      : `**Changed on the photos: ${r.changedOnPhotos.join(', ')}.**`,
    '',
    '## The new module',
    '',
    `\`${r.newTask.name}\`: top-1 ${percent(r.newTask.top1)} %, mean per class ${percent(r.newTask.meanPerClass)} % on ${r.newTask.n} validation images; ` +
      `${r.newTask.ownedWeights} weights of its own out of ${r.newTask.freeBefore} that were free, ${(100 * r.newTask.ratio).toFixed(0)} % of them freed ` +
      `again by pruning; ${r.newTask.expansions} expansion${r.newTask.expansions === 1 ? '' : 's'}.`,
    '',
  ];
  return lines.join('\n');
}

/** Writes report.md and results.json into `out`. */
export function writeDemoReport(r: DemoResult, out: string): string {
  const md = demoMarkdown(r);
  writeFileSync(join(out, 'report.md'), md);
  writeFileSync(join(out, 'results.json'), JSON.stringify(r, null, 2));
  return md;
}
