// paenet init MODEL --arch NAME [--width-mult X]: a new, empty packable model.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { manualSeed } from '../../engine/index.ts';
import { ARCH_PRESETS, configFromPreset, PaeModel, saveModel } from '../../pae/index.ts';
import { printJson } from '../format.ts';
import { provenance } from '../model-io.ts';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a new, empty packable model')
    .argument('<model>', 'model file to write (*.pae)')
    .option('--arch <name>', `backbone preset (${Object.keys(ARCH_PRESETS).join(', ')})`, 'resnet10')
    .option('--width-mult <x>', 'width multiplier of every stage', '1')
    .option('--seed <n>', 'seed of the initial weights', '0')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'machine-readable output')
    .action((file: string, o: { arch: string; widthMult: string; seed: string; force?: boolean; json?: boolean }) => {
      if (existsSync(file) && !o.force) throw new Error(`${file}: already exists (use --force to overwrite)`);
      manualSeed(Number(o.seed) || 0);
      const model = PaeModel.create(configFromPreset(o.arch, Number(o.widthMult)), provenance());
      saveModel(model, file);
      const summary = { model: file, arch: o.arch, backbone: model.config, weights: model.net.totalWeights() };
      model.dispose();
      if (o.json) printJson(summary);
      else
        console.log(
          `${file}: new ${o.arch} model (width ×${o.widthMult}, ${summary.weights} packable weights, input ${summary.backbone.inputSize}px)`,
        );
    });
}
