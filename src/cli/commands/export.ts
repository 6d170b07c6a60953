// paenet export MODEL OUT --format onnx [--task NAME...]: ONNX graphs with each task's masked weights baked in.
import { basename } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomicSync } from '../../io/atomic-write.ts';
import { exportOnnx } from '../../serve/onnx/export-model.ts';
import { onnxParity } from '../../serve/onnx/parity.ts';
import { mib, printJson } from '../format.ts';
import { openModel, PAENET_VERSION, requireTasks } from '../model-io.ts';

/** Largest |onnx − libtorch| accepted before the export is refused. */
const TOLERANCE = 1e-4;

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write an ONNX graph of the model (every task, or the ones named), checked against the libtorch forward')
    .argument('<model>', 'model file (*.pae)')
    .argument('<out>', 'ONNX file to write (atomically)')
    .option('--format <format>', 'output format (onnx)', 'onnx')
    .option('--task <name...>', 'export only these tasks (default: every task; --all says so explicitly)')
    .option('--all', 'every task in one graph (the default)')
    .option('--json', 'machine-readable summary')
    .action(async (file: string, out: string, o: { format: string; task?: string[]; all?: boolean; json?: boolean }) => {
      if (o.format !== 'onnx') throw new Error(`paenet: --format must be onnx, got '${o.format}'`);
      if (o.all && o.task) throw new Error('paenet: --all and --task exclude each other');
      const model = openModel(file);
      try {
        requireTasks(file, model, o.task);
        const { bytes, outputs, input } = exportOnnx(model, { ...(o.task ? { tasks: o.task } : {}), producerVersion: PAENET_VERSION });
        const diffs = await onnxParity(
          model,
          bytes,
          outputs.map((x) => x.name),
        );
        const worst = Math.max(...Object.values(diffs));
        if (!(worst <= TOLERANCE))
          throw new Error(`${file}: the ONNX graph differs from the libtorch forward by ${worst} (> ${TOLERANCE}); not written`);
        writeFileAtomicSync(out, bytes);
        if (o.json) printJson({ model: file, out, bytes: bytes.length, input, outputs, maxAbsDiff: diffs });
        else
          console.log(
            `${out}: ${outputs.map((x) => x.name).join(', ')} from ${basename(file)} (${mib(bytes.length)}); ` +
              `max |onnx − libtorch| ${worst.toExponential(2)}`,
          );
      } finally {
        model.dispose();
      }
    });
}
