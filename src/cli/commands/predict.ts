// paenet predict / verify: every task's answer for face crops (each task sees them at its own input size), and
// same-person decisions with the stored threshold (the API's descriptor and rule: src/serve/same-person.ts).
import type { Command } from 'commander';
import { PaenetError } from '../../common/errors.ts';
import { decodeImage } from '../../data/index.ts';
import type { PaeModel, TaskRecord } from '../../pae/index.ts';
import { createRuntime, cropsAt } from '../../serve/runtime.ts';
import { compareFaces, faceDescriptor, type FaceComparison } from '../../serve/same-person.ts';
import { answersPerCrop, embedImages, predictProbabilities, unlabelledSet, type ImageSet, type TaskAnswer } from '../../tasks/index.ts';
import { pct, printJson } from '../format.ts';
import { chooseModel, MODEL_OPTION_HELP } from '../model-arg.ts';
import { openModel } from '../model-io.ts';

async function imageSet(paths: string[], size: number): Promise<ImageSet> {
  const pixels = new Uint8Array(paths.length * size * size * 3);
  for (let i = 0; i < paths.length; i++) pixels.set(await decodeImage(paths[i]!, size), i * size * size * 3);
  return unlabelledSet(pixels, size, 'cli', paths);
}

/** The images decoded at each input size the tasks take, side → set. */
async function imageSets(model: PaeModel, tasks: readonly TaskRecord[], paths: string[]): Promise<Map<number, ImageSet>> {
  const sets = new Map<number, ImageSet>();
  for (const t of tasks) {
    const size = model.inputSizeOf(t);
    if (!sets.has(size)) sets.set(size, await imageSet(paths, size));
  }
  return sets;
}

/**
 * Every requested task's answer for each image (`sets`: the same images at each task's input size), as the API
 * answers per face; an identity task's embedding is the verification descriptor (image ⊕ mirror), the vector
 * `verify` compares.
 */
export function answers(
  model: PaeModel,
  tasks: TaskRecord[],
  sets: ReadonlyMap<number, ImageSet>,
  n: number,
): Record<string, TaskAnswer>[] {
  const outputs = tasks.map((t) => {
    const set = sets.get(model.inputSizeOf(t))!;
    return t.head.dropped ? embedImages(model.net, t.id, set, true) : predictProbabilities(model.net, t.id, set);
  });
  return answersPerCrop(tasks, outputs, n);
}

/**
 * Same person? Two face crop files, read at the identity task's input size and compared as the API compares faces
 * (its libtorch runtime, descriptor and rule).
 */
async function compareCropFiles(model: PaeModel, t: TaskRecord, threshold: number, a: string, b: string): Promise<FaceComparison> {
  const size = model.inputSizeOf(t);
  const runtime = await createRuntime(model, 'libtorch', [t.name]);
  try {
    const describe = async (path: string) => faceDescriptor(runtime, t, cropsAt(size, await decodeImage(path, size)));
    return compareFaces(await describe(a), await describe(b), threshold);
  } finally {
    await runtime.dispose();
  }
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
        const result = answers(model, tasks, await imageSets(model, tasks, images), images.length);
        const perImage = result.map((r) => Object.entries(r).map(([task, a]) => ({ task, ...a })));
        if (o.json) printJson(images.map((image, i) => ({ image, tasks: perImage[i] })));
        else {
          images.forEach((image, i) => {
            const parts = perImage[i]!.map((a) =>
              a.kind === 'identity' ? `${a.task}: ${a.embedding.length}-d embedding` : `${a.task}: ${a.label} (${pct(a.score)})`,
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
    .description(
      'same person or not: cosine distance of two face crops against the threshold calibrated at training; ' +
        'runs the shipped model unless --model (or a first argument ending in .pae) names another',
    )
    .argument('<images...>', 'two face crop images; a first argument ending in .pae is the model instead (as --model)')
    .option('--model <file>', MODEL_OPTION_HELP)
    .option('--task <name>', 'identity task (default: the first one)')
    .option('--json', 'machine-readable output')
    .action(async (args: string[], o: { model?: string; task?: string; json?: boolean }) => {
      const { file, rest } = chooseModel(o.model, args);
      if (rest.length !== 2)
        throw new PaenetError('PAENET_INPUT', `verify compares two face crops, got ${rest.length}: ${rest.join(' ') || 'none'}`);
      const [a, b] = rest as [string, string];
      const model = openModel(file);
      try {
        const t = o.task ? model.task(o.task) : model.tasks.find((x) => x.kind === 'identity');
        if (!t || t.kind !== 'identity') throw new Error(`${file}: no identity task${o.task ? ` named '${o.task}'` : ''} to verify with`);
        const threshold = Number(t.extra.threshold);
        if (!Number.isFinite(threshold)) throw new Error(`${file}: task '${t.name}' has no calibrated threshold`);
        const { distance, same } = await compareCropFiles(model, t, threshold, a, b);
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
