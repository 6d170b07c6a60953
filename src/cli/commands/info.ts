// paenet info MODEL [--json]: tasks (with each one's input size), labels, goals, accuracies and the size ledger.
import type { Command } from 'commander';
import { computeLedger, type Ledger, type PaeModel } from '../../pae/index.ts';
import { mib, pct, printJson, table } from '../format.ts';
import { openModel } from '../model-io.ts';

/** The human-readable info report. */
export function infoText(file: string, model: PaeModel, ledger: Ledger): string {
  const c = model.config;
  const lines = [
    `${file}: ${c.arch} backbone, stages [${c.stages.join(', ')}] ×${c.widthMult}, embedding ${c.embedDim}, input ${c.inputSize}px by default, expansions [${c.expansions.join(', ') || 'none'}]`,
    `${ledger.totalWeights} packable weights, ${ledger.freeWeights} free (${pct(ledger.totalWeights ? ledger.freeWeights / ledger.totalWeights : 0)})`,
    '',
  ];
  if (model.tasks.length === 0) lines.push('no tasks yet: add one with `paenet add-task`');
  else {
    lines.push(
      table([
        ['#', 'task', 'kind', 'input', 'classes', 'metric', 'goal', 'pruned', 'exp', 'weights', 'module'],
        ...model.tasks.map((t) => {
          const l = ledger.tasks.find((x) => x.id === t.id)!;
          return [
            t.id,
            t.name,
            t.kind,
            `${model.inputSizeOf(t)}px`,
            t.head.classes,
            `${t.metric.name} ${pct(t.metric.value)}`,
            pct(t.goal.value),
            pct(t.pruning.ratio),
            t.expansions,
            l.ownedWeights,
            mib(l.moduleBytes),
          ];
        }),
      ]),
    );
    lines.push(
      '',
      `unified model tensors: ${mib(ledger.fileTensorBytes)} (stored weights ${mib(ledger.storedWeightBytes)} as ${model.weightStorage} + owner map ${mib(ledger.ownerBytes)} + BN and heads ${mib(ledger.fileTensorBytes - ledger.storedWeightBytes - ledger.ownerBytes)}; free weights are not stored)`,
    );
    lines.push(
      `${model.tasks.length} individual networks of the same backbone: ${mib(ledger.individualBytes)} → the unified model is ${pct(ledger.fractionOfIndividual)} of that`,
    );
  }
  return lines.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show tasks, goals, accuracies and the size ledger of a model')
    .argument('<model>', 'model file (*.pae)')
    .option('--json', 'machine-readable output')
    .action((file: string, o: { json?: boolean }) => {
      const model = openModel(file);
      try {
        const ledger = computeLedger(model);
        if (o.json) {
          const tasks = model.tasks.map((t) => ({ ...t, inputSize: model.inputSizeOf(t) }));
          printJson({
            model: file,
            backbone: model.config,
            weightStorage: model.weightStorage,
            tasks,
            ledger,
            provenance: model.provenance,
          });
        } else console.log(infoText(file, model, ledger));
      } finally {
        model.dispose();
      }
    });
}
