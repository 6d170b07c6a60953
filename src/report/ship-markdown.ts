// The shipped model's report (NAME.report.md beside NAME.pae): every module on every validation set before and
// after compact storage, the peers on the same images, the build's compute, the size ledger and the pruning curves.
import { megabytes as mb, percent } from '../metrics/format.ts';
import type { ExperimentResult } from '../workflows/index.ts';
import type { ShipResult } from '../workflows/ship/ship-model.ts';
import type { ReportMeta } from './markdown.ts';

const pct = (x: number | undefined): string => (x === undefined ? '–' : percent(x));
const change = (a: number, b: number): string => `${b - a >= 0 ? '+' : '−'}${Math.abs(100 * (b - a)).toFixed(2)}`;

function moduleTable(s: ShipResult): string[] {
  const peers = s.peers.map((p) => p.toolkit);
  const lines = [
    `| module | validation set | n | px | fp32 | shipped (${s.weights}) | change (points) | shipped mean per class | shipped 1-off | ${peers.join(' | ')}${peers.length ? ' |' : ''}`,
    `|${' --- |'.repeat(9 + peers.length)}`,
  ];
  for (const { fp32, shipped } of s.modules) {
    const std = shipped.std !== undefined ? ` ± ${percent(shipped.std)}` : '';
    const peerCells = s.peers.map((p) => {
      const v = p.scores[shipped.name];
      return v ? `${pct(v.value)}${v.oneOff !== undefined ? ` / ${pct(v.oneOff)}` : ''}` : '–';
    });
    lines.push(
      `| ${shipped.task} | ${shipped.name} | ${shipped.n} | ${shipped.inputSize} | ${pct(fp32.value)} | ${pct(shipped.value)}${std} | ` +
        `${change(fp32.value, shipped.value)} | ${pct(shipped.meanPerClass)} | ${pct(shipped.oneOff)} |${peerCells.map((c) => ` ${c} |`).join('')}`,
    );
  }
  return lines;
}

/** Markdown for the shipped model's report; every number is read from `s` and the experiment's result. */
export function shipMarkdown(s: ShipResult, r: Pick<ExperimentResult, 'tasks' | 'accuracyMatrix' | 'bwt'>, meta: ReportMeta): string {
  const b = s.build;
  const l = s.ledger;
  const lines = [
    `# ${b.recipe.name}: the shipped model`,
    '',
    b.recipe.description ?? '',
    '',
    `\`${s.file}\`: ${s.bytes} bytes (${mb(s.bytes)} MiB) on disk (${s.weights} weights, owner maps packed), ${s.modules.length} measurements of ` +
      `${new Set(s.modules.map((m) => m.shipped.task)).size} modules. Built by \`paenet experiment ${b.experiment}\` ` +
      `(commit \`${meta.commit}\`, ${meta.machine}, ${meta.date}): ${(b.computeSeconds / 3600).toFixed(2)} h of training compute ` +
      `(${Object.entries(b.taskSeconds)
        .map(([t, sec]) => `${t} ${(sec / 60).toFixed(0)} min`)
        .join(', ')}), summed over every session the build ran in.`,
    '',
    '## Modules, on the validation splits',
    '',
    'Accuracy in %; identity rows are 10-fold verification accuracy (± over folds) on the pairs file, classifier rows ' +
      'top-1 with mean per-class accuracy beside it. Peers run as they ship, each at its own input size, on the same ' +
      "validation images (face-api's age-gender net was trained on UTKFace).",
    '',
    ...moduleTable(s),
    '',
    ...s.peers.map(
      (p) =>
        `${p.toolkit} as shipped: ${mb(p.bytes)} MiB, ${p.facesPerSecond.toFixed(1)} faces/s through its modules (batch 1, tfjs as it ships, same machine).`,
    ),
    '',
    '## Packing',
    '',
    `Goals: ${b.recipe.tasks
      .map(
        (t) =>
          `${t.name} ${t.pretrained ? "the imported network's own unpruned accuracy" : t.goal === 'trained' ? 'its own unpruned accuracy' : t.goal === undefined || t.goal === 'auto' ? 'an individual network' : String(t.goal)}${(t.goalMargin ?? b.recipe.goalMargin) ? ` − ${100 * (t.goalMargin ?? b.recipe.goalMargin ?? 0)} point` : ''}`,
      )
      .join('; ')}. A module's own unpruned accuracy stands in for an individual network of the same start and recipe ` +
      '(training one per module would double the compute); the margin bounds what pruning may cost it.',
    '',
    `BWT ${r.bwt === 0 ? '0 (exact: earlier modules bit-identical)' : percent(r.bwt)}. Accuracy matrix (row: after learning task i):`,
    '',
    `| after | ${r.tasks.map((t) => t.name).join(' | ')} |`,
    `|${' --- |'.repeat(r.tasks.length + 1)}`,
    ...r.accuracyMatrix.map((row, i) => `| ${r.tasks[i]?.name ?? i + 1} | ${row.map((v) => (v === null ? '' : percent(v))).join(' | ')} |`),
    '',
    "Pruning curves (ratio of the task's weights freed → validation accuracy; the kept ratio is bold):",
    '',
    ...r.tasks.map(
      (t) =>
        `- ${t.name}: ${t.curve.map((c) => (c.ratio === t.ratio ? `**${c.ratio} → ${percent(c.accuracy)}**` : `${c.ratio} → ${percent(c.accuracy)}`)).join(', ')}` +
        ` (${t.expansions} expansion${t.expansions === 1 ? '' : 's'})`,
    ),
    '',
    '## Size ledger',
    '',
    '| module | owned weights | module MiB (as stored: weights, owner bits, BN, head) |',
    '| --- | --- | --- |',
    ...l.tasks.map((t) => `| ${t.name} | ${t.ownedWeights} | ${mb(t.moduleBytes)} |`),
    `| free | ${l.freeWeights} | |`,
    '',
    `${l.totalWeights} backbone weights in all; the file is ${mb(s.bytes)} MiB with ${s.weights} weights.`,
    '',
  ];
  return lines.join('\n');
}
