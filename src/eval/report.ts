// The experiment report: the paper-style table (accuracy and size per module vs individual networks), R matrix, BWT.
import type { ExperimentResult } from './experiment.ts';

const pct = (x: number | null): string => (x === null || Number.isNaN(x) ? '–' : (100 * x).toFixed(2));
const mb = (b: number): string => (b / 2 ** 20).toFixed(3);

/** Markdown for report.md; every number is read from `r`. */
export function experimentMarkdown(r: ExperimentResult, meta: { commit: string; machine: string; date: string }): string {
  const l = r.ledger;
  const perIndividual = r.tasks.length ? l.individualBytes / r.tasks.length : 0;
  const lines = [
    `# ${r.config.name}`,
    '',
    r.config.description ?? '',
    '',
    `Backbone \`${r.config.arch}\` (width ×${r.config.widthMult ?? 1}); commit \`${meta.commit}\`; ${meta.machine}; ${meta.date}; ${(r.seconds / 60).toFixed(1)} min.`,
    '',
    '## Accuracy and size per module',
    '',
    '| task | metric | individual network | PAE (packed) | PAE after training, before pruning | pruned | expansions | PAE module MB | individual MB | time s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.tasks.map(
      (t) =>
        `| ${t.name} | ${t.metric} | ${pct(t.individual)} | ${pct(t.pae)} | ${pct(t.trained)} | ${pct(t.ratio)} % | ${t.expansions} | ${mb(t.moduleBytes)} | ${mb(perIndividual)} | ${t.seconds.toFixed(0)} |`,
    ),
    '',
    `Unified model: ${mb(l.fileTensorBytes)} MB of tensors (dense ${mb(l.denseBytes)} MB + owner map ${mb(l.ownerBytes)} MB) for ${r.tasks.length} tasks, ` +
      `vs ${mb(l.individualBytes)} MB for ${r.tasks.length} individual networks: **${(100 * l.fractionOfIndividual).toFixed(1)} %**.`,
    '',
    '## Accuracy matrix (row i: after learning task i; column j: task j)',
    '',
    `| after \\ task | ${r.tasks.map((t) => t.name).join(' | ')} |`,
    `| --- | ${r.tasks.map(() => '---').join(' | ')} |`,
    ...r.accuracyMatrix.map((row, i) => `| ${r.tasks[i]!.name} | ${row.map(pct).join(' | ')} |`),
    '',
    `Backward transfer (BWT): **${Number.isNaN(r.bwt) ? '– (one task)' : r.bwt === 0 ? '0 (exactly: no forgetting)' : r.bwt.toFixed(6)}**.`,
    '',
  ];
  return lines.join('\n');
}
