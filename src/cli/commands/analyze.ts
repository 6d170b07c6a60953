// paenet analyze [--model MODEL] PHOTO...: faces found in each photo, every task's answer per face (the shipped model
// when none is named; `paenet analyze MODEL.pae PHOTO...` still works).
import type { Command } from 'commander';
import { PaenetError } from '../../common/errors.ts';
import { percent } from '../../metrics/format.ts';
import { Analyzer } from '../../serve/analyze.ts';
import { printJson, runtimeOption } from '../format.ts';
import { chooseModel, MODEL_OPTION_HELP } from '../model-arg.ts';
import { openModel, requireTasks } from '../model-io.ts';

interface Options {
  model?: string;
  tasks?: string;
  runtime: string;
  json?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description(
      'find the faces in photos and answer every task for each (identity embedding, age, gender, expression, ...); ' +
        'runs the shipped model unless --model (or a first argument ending in .pae) names another',
    )
    .argument('<photos...>', 'photos (JPEG, PNG, WebP, ...); a first argument ending in .pae is the model instead (as --model)')
    .option('--model <file>', MODEL_OPTION_HELP)
    .option('--tasks <list>', 'comma-separated tasks to run (default: all)')
    .option('--runtime <kind>', 'onnx (onnxruntime-node on the exported graph) or libtorch', 'onnx')
    .option('--json', 'machine-readable output (with embeddings)')
    .action(async (args: string[], o: Options) => {
      const runtime = runtimeOption(o.runtime);
      const { file, rest: photos } = chooseModel(o.model, args);
      if (photos.length === 0)
        throw new PaenetError('PAENET_INPUT', `no photo to analyze (${file} is the model)`, 'name one or more photos after it');
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
