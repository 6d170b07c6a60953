// Maps a manifest's label cells to class indices and class names (used by manifest.ts).
import { PaenetError } from '../common/errors.ts';

const INT = /^-?\d+$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * Finds the column that names the classes of integer label column `labelCol`: `<label>_name` if
 * present, else the first non-numeric column (not in `exclude`) in one-to-one correspondence with
 * the label over all labelled rows, where some label repeats (so per-row unique columns such as
 * file names never qualify). Returns -1 when there is none or the labels are not integers.
 */
export function findNameColumn(header: readonly string[], rows: readonly string[][], labelCol: number, exclude: readonly number[]): number {
  const named = header.indexOf(`${header[labelCol]}_name`);
  if (named >= 0) return named;
  const labelled = rows.filter((r) => r[labelCol] !== '' && !r[labelCol]!.startsWith('-'));
  if (labelled.length === 0 || !labelled.every((r) => INT.test(r[labelCol]!))) return -1;
  const distinct = new Set(labelled.map((r) => r[labelCol]!)).size;
  if (distinct < 2 || distinct === labelled.length) return -1;
  for (let k = 0; k < header.length; k++) {
    if (k === labelCol || exclude.includes(k)) continue;
    const toName = new Map<string, string>();
    const toLabel = new Map<string, string>();
    let ok = true;
    for (const r of labelled) {
      const l = r[labelCol]!;
      const n = r[k]!;
      if (n === '' || NUMBER.test(n) || (toName.get(l) ?? n) !== n || (toLabel.get(n) ?? l) !== l) {
        ok = false;
        break;
      }
      toName.set(l, n);
      toLabel.set(n, l);
    }
    if (ok) return k;
  }
  return -1;
}

/** Input of {@link mapLabels}. */
export interface LabelMapInput {
  src: string;
  header: readonly string[];
  rows: readonly string[][];
  lines: readonly number[];
  /** Row indices kept by the filters, in file order. */
  selected: readonly number[];
  labelCol: number;
  /** Column of class names, or -1. */
  nameCol: number;
  classes: readonly string[] | undefined;
}

/** Output of {@link mapLabels}. */
export interface LabelMap {
  kept: { row: number; label: number }[];
  labels: string[];
  /**
   * Classes declared by name (a given class list, or a name in the name column anywhere in the
   * file) that must therefore have samples; integer gaps never used in the file are not declared.
   */
  declared: number[];
  skippedEmpty: number;
  skippedNegative: number;
}

/**
 * Integer labels (every non-empty cell of the whole file is an integer) are their own class index
 * over 0..max of the whole file, so all splits agree; negatives are skipped. Other labels are
 * strings, indexed in sorted order of the selected rows unless `classes` is given.
 */
export function mapLabels(inp: LabelMapInput): LabelMap {
  const { src, header, rows, lines, selected, labelCol, nameCol, classes } = inp;
  const colName = header[labelCol]!;
  const numeric = rows.every((r) => r[labelCol] === '' || INT.test(r[labelCol]!));
  const kept: { row: number; label: number }[] = [];
  let skippedEmpty = 0;
  let skippedNegative = 0;

  if (numeric) {
    let max = -1;
    for (const r of rows) if (r[labelCol] !== '') max = Math.max(max, Number(r[labelCol]));
    let labels: string[];
    let declared: number[] = [];
    if (classes) {
      labels = [...classes];
      declared = labels.map((_, k) => k);
    } else {
      labels = Array.from({ length: max + 1 }, (_, i) => String(i));
      if (nameCol >= 0) declared = nameFromColumn(src, rows, lines, labelCol, nameCol, header[nameCol]!, labels);
    }
    for (const i of selected) {
      const cell = rows[i]![labelCol]!;
      if (cell === '') skippedEmpty++;
      else if (cell.startsWith('-')) skippedNegative++;
      else {
        const v = Number(cell);
        if (v >= labels.length) {
          throw new PaenetError(
            'PAENET_DATA',
            `${src}:${lines[i]}: label ${v} in column "${colName}" is outside the ${labels.length} given classes`,
          );
        }
        kept.push({ row: i, label: v });
      }
    }
    return { kept, labels, declared, skippedEmpty, skippedNegative };
  }

  const values = new Set<string>();
  for (const i of selected) {
    const cell = rows[i]![labelCol]!;
    if (cell !== '') values.add(cell);
  }
  const labels = classes ? [...classes] : [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(labels.map((l, k) => [l, k]));
  for (const i of selected) {
    const cell = rows[i]![labelCol]!;
    if (cell === '') {
      skippedEmpty++;
      continue;
    }
    const k = index.get(cell);
    if (k === undefined)
      throw new PaenetError('PAENET_DATA', `${src}:${lines[i]}: label "${cell}" in column "${colName}" is not among the given classes`);
    kept.push({ row: i, label: k });
  }
  return { kept, labels, declared: classes ? labels.map((_, k) => k) : [], skippedEmpty, skippedNegative };
}

// Fills labels[v] from the name column over the whole file (one label, one name); returns the named labels.
function nameFromColumn(
  src: string,
  rows: readonly string[][],
  lines: readonly number[],
  labelCol: number,
  nameCol: number,
  nameColName: string,
  labels: string[],
): number[] {
  const seen = new Map<number, string>();
  rows.forEach((r, i) => {
    const cell = r[labelCol]!;
    const name = r[nameCol]!;
    if (cell === '' || cell.startsWith('-') || name === '') return;
    const v = Number(cell);
    const before = seen.get(v);
    if (before !== undefined && before !== name) {
      throw new PaenetError(
        'PAENET_DATA',
        `${src}:${lines[i]}: label ${v} is named "${name}" in column "${nameColName}" but "${before}" earlier`,
      );
    }
    seen.set(v, name);
    labels[v] = name;
  });
  return [...seen.keys()].sort((a, b) => a - b);
}
