// paenet predict / verify: every task's answer for face crops, and same-person decisions with the stored threshold.
import type { Command } from 'commander';
import { decodeImage } from '../../data/index.ts';
import type { PaeModel, TaskRecord } from '../../pae/index.ts';
import { embedImages, predictProbabilities, rowCosineDistance, unlabelledSet, type ImageSet } from '../../tasks/index.ts';
import { pct, printJson } from '../format.ts';
import { openModel } from '../model-io.ts';

async function imageSet(paths: string[], size: number): Promise<ImageSet> {
  const pixels = new Uint8Array(paths.length * size * size * 3);
  for (let i = 0; i < paths.length; i++) pixels.set(await decodeImage(paths[i]!, size), i * size * size * 3);
  return unlabelledSet(pixels, size, 'cli', paths);
}

export interface TaskAnswer {
  task: string;
  kind: string;
  label?: string;
  score?: number;
  scores?: Record<string, number>;
  embedding?: number[];
}

/** Every requested task's answer for each image. */
export function answers(model: PaeModel, tasks: TaskRecord[], set: ImageSet): TaskAnswer[][] {
  const n = set.labels.length;
  const out: TaskAnswer[][] = Array.from({ length: n }, () => []);
  for (const t of tasks) {
    if (t.kind === 'identity') {
      const d = model.config.embedDim * 2;
      const emb = embedImages(model.net, t.id, set, true);
      for (let i = 0; i < n; i++)
        out[i]!.push({ task: t.name, kind: t.kind, embedding: Array.from(emb.subarray(i * d, (i + 1) * d), (x) => Number(x.toFixed(6))) });
      continue;
    }
    const c = t.head.classes;
    const p = predictProbabilities(model.net, t.id, set);
    for (let i = 0; i < n; i++) {
      const row = Array.from(p.subarray(i * c, (i + 1) * c));
      const best = row.indexOf(Math.max(...row));
      out[i]!.push({
        task: t.name,
        kind: t.kind,
        label: t.labels[best] ?? String(best),
        score: row[best]!,
        scores: Object.fromEntries(row.map((s, k) => [t.labels[k] ?? String(k), s])),
      });
    }
  }
  return out;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description("every task's answer for face crops (labels + scores; embeddings for identity tasks)")
    .argument('<model>', 'model file (*.pae)')
    .argument('<images...>', 'face crop images')
    .option('--task <name>', 'only this task')
    .option('--json', 'machine-readable output')
    .action(async (file: string, images: string[], o: { task?: string; json?: boolean }) => {
      const model = openModel(file);
      try {
        const tasks = o.task ? [model.task(o.task)] : model.tasks;
        if (tasks.length === 0) throw new Error(`${file}: the model has no tasks yet`);
        const set = await imageSet(images, model.config.inputSize);
        const result = answers(model, tasks, set);
        if (o.json) printJson(images.map((image, i) => ({ image, tasks: result[i] })));
        else {
          images.forEach((image, i) => {
            const parts = result[i]!.map((a) =>
              a.embedding ? `${a.task}: ${a.embedding.length}-d embedding` : `${a.task}: ${a.label} (${pct(a.score)})`,
            );
            console.log(`${image}: ${parts.join(', ')}`);
          });
        }
      } finally {
        model.dispose();
      }
    });

  program
    .command('verify')
    .description('same person or not: cosine distance of two faces against the threshold calibrated at training')
    .argument('<model>', 'model file (*.pae)')
    .argument('<imageA>')
    .argument('<imageB>')
    .option('--task <name>', 'identity task (default: the first one)')
    .option('--json', 'machine-readable output')
    .action(async (file: string, a: string, b: string, o: { task?: string; json?: boolean }) => {
      const model = openModel(file);
      try {
        const t = o.task ? model.task(o.task) : model.tasks.find((x) => x.kind === 'identity');
        if (!t || t.kind !== 'identity') throw new Error(`${file}: no identity task${o.task ? ` named '${o.task}'` : ''} to verify with`);
        const threshold = Number(t.extra.threshold);
        if (!Number.isFinite(threshold)) throw new Error(`${file}: task '${t.name}' has no calibrated threshold`);
        const set = await imageSet([a, b], model.config.inputSize);
        const emb = embedImages(model.net, t.id, set, true);
        const distance = rowCosineDistance(emb, model.config.embedDim * 2, 0, 1);
        const same = distance <= threshold;
        if (o.json) printJson({ task: t.name, a, b, distance, threshold, same });
        else
          console.log(
            `${same ? 'same person' : 'different people'}: cosine distance ${distance.toFixed(4)} ${same ? '≤' : '>'} threshold ${threshold.toFixed(4)}`,
          );
      } finally {
        model.dispose();
      }
    });
}
