// paenet serve [MODEL] [--port N]: the HTTP service and web page (the shipped model when none is named); SIGINT/SIGTERM
// drain in-flight requests, then exit.
import type { Command } from 'commander';
import { Analyzer } from '../../serve/analyze.ts';
import { buildServer } from '../../serve/http.ts';
import { exportOnnx } from '../../serve/onnx/export-model.ts';
import { requireDefaultModel } from '../../serve/default-model.ts';
import { num, runtimeOption } from '../format.ts';
import { MODEL_OPTION_HELP, modelNamed } from '../model-arg.ts';
import { openModel } from '../model-io.ts';

interface Options {
  model?: string;
  port: string;
  host: string;
  runtime: string;
  queue: string;
  bodyLimit: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the model over HTTP: POST /v1/analyze, POST /v1/verify (image bodies, JSON or forms), GET /v1/tasks, GET /healthz, and a web page at /',
    )
    .argument('[model]', 'model file (*.pae), as --model (default: the shipped models/paenet-face.pae)')
    .option('--model <file>', MODEL_OPTION_HELP)
    .option('--port <n>', 'port (0 = any free one)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--runtime <kind>', 'onnx or libtorch', 'onnx')
    .option('--queue <n>', 'requests allowed to wait before 503', '16')
    .option('--body-limit <bytes>', 'largest upload in bytes (a body, or the images of a form together)', String(10 * 2 ** 20))
    .action(async (positional: string | undefined, o: Options) => {
      const runtime = runtimeOption(o.runtime);
      const file = modelNamed(o.model, positional) ?? requireDefaultModel();
      const model = openModel(file);
      const analyzer = await Analyzer.create(model, { runtime });
      const app = buildServer(analyzer, {
        queue: num('--queue', o.queue),
        bodyLimit: num('--body-limit', o.bodyLimit),
        onnx: exportOnnx(model).bytes,
      });
      const address = await app.listen({ port: num('--port', o.port), host: o.host });
      process.stderr.write(`paenet: serving ${file} (${model.tasks.map((t) => t.name).join(', ')}) at ${address}\n`);
      let closing = false;
      const shutdown = (signal: string): void => {
        if (closing) return;
        closing = true;
        process.stderr.write(`paenet: ${signal}: finishing in-flight requests\n`);
        void app
          .close()
          .then(() => analyzer.dispose())
          .then(() => {
            model.dispose();
            process.stderr.write('paenet: stopped\n');
          });
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
}
