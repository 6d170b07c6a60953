// paenet analyze MODEL PHOTO...: faces found in each photo, every task's answer per face.
import type { Command } from 'commander';
import { percent } from '../../metrics/format.ts';
import { Analyzer } from '../../serve/analyze.ts';
import { printJson, runtimeOption } from '../format.ts';
import { openModel, requireTasks } from '../model-io.ts';

interface Options {
  tasks?: string;
  runtime: string;
  json?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find the faces in photos and answer every task for each (identity embedding, age, gender, expression, ...)')
    .argument('<model>', 'model file (*.pae)')
    .argument('<photos...>', 'photos (JPEG, PNG, WebP, ...)')
    .option('--tasks <list>', 'comma-separated tasks to run (default: all)')
    .option('--runtime <kind>', 'onnx (onnxruntime-node on the exported graph) or libtorch', 'onnx')
    .option('--json', 'machine-readable output (with embeddings)')
    .action(async (file: string, photos: string[], o: Options) => {
      const runtime = runtimeOption(o.runtime);
      const model = openModel(file);
      try {
        const tasks = o.tasks?.split(',').map((t) => t.trim());
        requireTasks(file, model, tasks);
        const analyzer = await Analyzer.create(model, { runtime, ...(tasks ? { tasks } : {}) });
        try {
          const results = [];
          for (const p of photos) results.push(await analyzer.analyze(p));
          if (o.json) return printJson(results);
          for (const r of results) {
            console.log(`${r.source}: ${r.faces.length} face(s) in ${r.width}×${r.height}`);
            r.faces.forEach((f, i) => {
              const answers = Object.entries(f.tasks).map(([name, a]) =>
                a.kind === 'classify'
                  ? `${name} ${a.label} (${percent(a.score, { digits: 0, unit: ' %' })})`
                  : `${name} embedding[${a.embedding.length}]`,
              );
              console.log(
                `  #${i + 1} box ${f.box.map((v) => Math.round(v)).join(',')} score ${f.score.toFixed(2)}: ${answers.join(', ')}`,
              );
            });
          }
        } finally {
          await analyzer.dispose();
        }
      } finally {
        model.dispose();
      }
    });
}
