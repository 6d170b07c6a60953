// paenet demo: the main job. The shipped model analyzes the sample photos of the detector's npm package, then a copy
// learns a new CelebA attribute in minutes while every earlier module stays bit-identical; runs/demo/report.md.
import { join } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../io/packages.ts';
import { JsonlEventLog } from '../../pae/index.ts';
import { requireDefaultModel } from '../../serve/default-model.ts';
import { runDemo, writeDemoReport } from '../demo.ts';
import { num, printJson, runtimeOption, stderrNotes } from '../format.ts';
import { parsePrecision, precisionNote, precisionOption } from '../precision.ts';
import { terminalProgress } from '../progress.ts';

/** face-api's own sample photos (the detector's package): people the model never trained on. */
const samplePhotos = (): string[] => [1, 2, 3, 4, 5, 6].map((i) => join(packageRoot('@vladmandic/face-api'), 'demo', `sample${i}.jpg`));

export function registerDemo(program: Command): void {
  precisionOption(program.command('demo'))
    .description(
      'the shipped model on sample photos (every module per face), then a new module (a CelebA attribute) packed into a copy with every earlier module bit-identical; report in runs/demo',
    )
    .option('--model <file>', 'model to start from (default: the shipped models/paenet-face.pae)')
    .option('--attribute <column>', 'CelebA attribute the new module learns (a column of data/celeba-identity/manifest.csv)', 'Smiling')
    .option('--images <n>', 'training images for the new module', '4000')
    .option('--epochs <n>', 'training epochs for the new module', '3')
    .option('--out <dir>', 'output folder', 'runs/demo')
    .option('--runtime <kind>', 'onnx or libtorch, for the photos', 'onnx')
    .option('--quiet', 'no progress bars')
    .option('--json', 'machine-readable result on stdout')
    .action(
      async (o: {
        model?: string;
        attribute: string;
        images: string;
        epochs: string;
        out: string;
        runtime: string;
        quiet?: boolean;
        json?: boolean;
        precision?: string;
      }) => {
        const say = stderrNotes(Boolean(o.json));
        const precision = parsePrecision(o.precision) ?? 'auto';
        say(precisionNote(precision));
        const celeba = 'data/celeba-identity/manifest.csv';
        const r = await runDemo({
          model: o.model ?? requireDefaultModel(),
          out: o.out,
          photos: samplePhotos(),
          newTask: {
            name: o.attribute.toLowerCase(),
            data: celeba,
            label: o.attribute,
            // CelebA's crops are 64 px: 128 px input is plenty for a face attribute and keeps the demo within minutes.
            inputSize: 128,
            train: {
              epochs: num('--epochs', o.epochs),
              precision,
              schedule: 'cosine',
              warmupEpochs: 0.3,
              lr: 1e-3,
              minLr: 1e-5,
              weightDecay: 1e-4,
            },
            prune: { ratios: [0.5], epochsPerStep: 1, lr: 1e-4 },
            limit: { train: num('--images', o.images) },
            batchSize: 64,
            augment: 'face',
            goalMargin: 0.01,
          },
          probe: { data: celeba, label: 'gender', n: 200 },
          runtime: runtimeOption(o.runtime),
          sinks: { events: new JsonlEventLog(join(o.out, 'events.jsonl')), progress: terminalProgress(!o.quiet && !o.json), note: say },
        });
        const md = writeDemoReport(r, o.out);
        if (o.json) printJson(r);
        else console.log(`${md}\nwritten: ${join(o.out, 'report.md')}, ${join(o.out, 'results.json')}, ${r.grown}`);
        const same = r.hashes.every((h) => h.before === h.after) && r.changedOnPhotos.length === 0;
        if (!same) throw new Error(`${r.grown}: an earlier module changed while the new one was packed (see ${join(o.out, 'report.md')})`);
      },
    );
}
