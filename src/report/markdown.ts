// The experiment report: the paper-style table (accuracy and size per module vs individual networks), every
// method side by side (final accuracy, BWT, size, time), the accuracy matrices and the charts.
import { megabytes as mb, percent } from '../metrics/format.ts';
import { METHODS, type ExperimentResult } from '../workflows/index.ts';

/** Percent without the unit (the table headers carry it); one argument, so a row of numbers can map over it. */
const pct = (x: number | null | undefined): string => percent(x);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export interface ReportMeta {
  commit: string;
  machine: string;
  date: string;
  /** The experiment file the run came from. */
  config?: string;
  /** Chart names written under plots/ (each as .svg and .png). */
  plots?: string[];
}

function bwtText(bwt: number): string {
  if (Number.isNaN(bwt)) return '– (one task)';
  return bwt === 0 ? '0 (exact)' : pct(bwt);
}

/** Markdown for report.md; every number is read from `r`. */
export function experimentMarkdown(r: ExperimentResult, meta: ReportMeta): string {
  const l = r.ledger;
  const perIndividual = r.tasks.length ? l.individualBytes / r.tasks.length : 0;
  const individualTotal = r.methods.find((m) => m.method === 'individual')?.sizes.at(-1) ?? l.individualBytes;
  const names = r.config.tasks.map((t) => t.name);
  const lines = [
    `# ${r.config.name}`,
    '',
    r.config.description ?? '',
    '',
    `Backbone \`${r.config.arch}\` (width ×${r.config.widthMult ?? 1})${meta.config ? `; config \`${meta.config}\`` : ''}; commit \`${meta.commit}\`; ` +
      `${meta.machine}; ${meta.date}; ${(r.seconds / 60).toFixed(1)} min in all.`,
    '',
    'Data: ' + r.config.tasks.map((t) => `${t.name} = \`${t.data}\`${t.label ? ` (column \`${t.label}\`)` : ''}`).join('; ') + '.',
    '',
    '## PAE: accuracy and size per module',
    '',
    '| task | metric | individual network | PAE (packed) | PAE after training, before pruning | pruned | expansions | PAE module MB | individual MB | time s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.tasks.map(
      (t) =>
        `| ${t.name} | ${t.metric} | ${pct(t.individual)} | ${pct(t.pae)} | ${pct(t.trained)} | ${pct(t.ratio)} % | ${t.expansions} | ${mb(t.moduleBytes)} | ${mb(perIndividual)} | ${t.seconds.toFixed(0)} |`,
    ),
    '',
    `Unified model: ${mb(l.fileTensorBytes)} MB of tensors (stored weights ${mb(l.storedWeightBytes)} MB + owner map ${mb(l.ownerBytes)} MB + BN and heads; freed weights are not stored) for ${r.tasks.length} tasks, ` +
      `vs ${mb(l.individualBytes)} MB for ${r.tasks.length} individual networks: **${percent(l.fractionOfIndividual, { digits: 1 })} %**.`,
    '',
    '## Every method on the same backbone, data and seeds',
    '',
    'Accuracy of each task after the whole sequence (%); BWT = mean change of earlier tasks since they were learned; ' +
      'size = bytes the method keeps after the last task; % = of the individual networks.',
    '',
    `| method | ${names.join(' | ')} | mean | BWT | size MB | % of individual | time min |`,
    `| --- | ${names.map(() => '---').join(' | ')} | --- | --- | --- | --- | --- |`,
    ...r.methods.map((m) => {
      const size = m.sizes.at(-1)!;
      return (
        `| ${METHODS[m.method].title} | ${m.accuracyMatrix.at(-1)!.map(pct).join(' | ')} | ${pct(m.finalAverage)} | ${bwtText(m.bwt)} | ` +
        `${mb(size)} | ${percent(size / individualTotal, { digits: 1 })} | ${(sum(m.seconds) / 60).toFixed(1)} |`
      );
    }),
    '',
    '## Accuracy matrices (row i: after learning task i; column j: task j)',
    '',
    ...r.methods.flatMap((m) => [
      `### ${METHODS[m.method].title}: BWT ${bwtText(m.bwt)}`,
      '',
      `| after \\ task | ${names.join(' | ')} | size MB | weights |`,
      `| --- | ${names.map(() => '---').join(' | ')} | --- | --- |`,
      ...m.accuracyMatrix.map((row, i) => `| ${names[i]} | ${row.map(pct).join(' | ')} | ${mb(m.sizes[i]!)} | ${m.weights[i]} |`),
      '',
    ]),
    ...(r.peers ? peerTable(r.peers) : []),
    ...(meta.plots?.length ? ['## Charts', '', ...meta.plots.map((p) => `![${p}](plots/${p}.svg)`), ''] : []),
  ];
  return lines.join('\n');
}

/** The peer comparison: paenet's one packed model and each toolkit's models, on the same validation crops. */
function peerTable(rows: NonNullable<ExperimentResult['peers']>): string[] {
  return [
    '## Against the face toolkits JavaScript users install today',
    '',
    "Same validation crops and protocols; each toolkit's models as its npm package ships them (tfjs, wasm backend); " +
      "a toolkit's predicted age is mapped to the nearest of the 8 age groups. Size = bytes on disk of the models used " +
      '(paenet: the whole .pae file with every module); faces/s = one face through every module, batch 1, this machine.',
    '',
    '| model | expression top-1 | gender | age group exact | age group 1-off | verification | MB on disk | faces/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (p) =>
        `| ${p.toolkit} | ${pct(p.expression)} | ${pct(p.gender)} | ${pct(p.ageExact)} | ${pct(p.ageOneOff)} | ` +
        `${p.verification ? `${pct(p.verification.accuracy)} ± ${pct(p.verification.std)}` : '–'} | ${mb(p.bytes)} | ${p.facesPerSecond.toFixed(1)} |`,
    ),
    '',
    ...rows.filter((p) => p.models.length).map((p) => `${p.toolkit}: ${p.models.map((m) => `${m.module} ${mb(m.bytes)} MB`).join(', ')}.`),
    '',
  ];
}
