// Loads a data set's manifest.csv into labelled samples (absolute image paths + class indices).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseCsv } from './csv.ts';
import { findNameColumn, mapLabels } from './label-map.ts';
import { PaenetError } from '../common/errors.ts';

/** One labelled image. */
export interface ManifestSample {
  /** Absolute image path. */
  path: string;
  /** Class index into `Manifest.labels`. */
  label: number;
  /** The label cell as written in the manifest. */
  raw: string;
  /** Value of the `group` column when one was asked for (e.g. identity, for k-fold). */
  group?: string;
}

/** A labelled image list, from a manifest or a folder-per-class tree. */
export interface Manifest {
  /** The manifest file (or folder) it came from, as given. */
  source: string;
  samples: ManifestSample[];
  /** Class names; `labels[sample.label]` names a sample's class. */
  labels: string[];
  /** Selected rows skipped because the label cell was empty (e.g. CelebA gender outside 1-20000). */
  skippedEmpty: number;
  /** Selected rows skipped because the label was a negative integer (e.g. CelebA `label` -1 for val). */
  skippedNegative: number;
}

/** What to take from a manifest. */
export interface ManifestOptions {
  /** Column holding the label (e.g. `label`, `gender`, `identity`). */
  label: string;
  /** Keep only rows whose split column is this value (or one of these); every row when omitted (see {@link hasSplitColumn}). */
  split?: string | readonly string[];
  /** Split column name; default `split`. */
  splitColumn?: string;
  /** Image path column (relative to the manifest's folder); default `path`. */
  pathColumn?: string;
  /** Keep only rows whose fold column is this fold (or one of these), for pre-folded sets (Adience). */
  fold?: number | readonly number[];
  /** Fold column name; default `fold`. */
  foldColumn?: string;
  /** Further row filters: column -> accepted value(s), e.g. `{ age_in_adience_range: '1' }`. */
  where?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Column giving class names. Default: `<label>_name` if present, else a non-numeric column in
   * one-to-one correspondence with the label over the whole file (e.g. `age_group` for
   * utkface `label`, `identity` for celeba `label`). `false` disables names (numeric labels are
   * then named by their number).
   */
  nameColumn?: string | false;
  /**
   * Reuse a class list (e.g. the train split's `labels`) so another split maps identically.
   * A string label not in it is an error; a numeric label must be below its length.
   */
  classes?: readonly string[];
  /** Column copied into `sample.group` (e.g. `identity`). */
  group?: string;
  /** Accept declared classes that have no sample in the selection (default: error). */
  allowEmptyClasses?: boolean;
}

/**
 * Reads `path` (a manifest.csv) and returns the selected rows as samples.
 *
 * Label mapping: integer labels keep their value as the class index, and the class list spans
 * 0..max over the WHOLE file, so every split of one manifest maps alike (an integer never used in
 * the file, e.g. celeba-identity label 2502, stays a class named by its number, with no samples). Otherwise labels are
 * strings (e.g. identity names) and classes are the sorted distinct values of the selected rows
 * (pass `classes` to reuse another split's list). Rows with an empty label are skipped and
 * counted in `skippedEmpty`; negative integer labels in `skippedNegative`.
 *
 * Throws one line naming the file for: a missing file, a missing path/label/filter column (listing
 * the columns), a malformed row, no matching rows, or (when class names are declared by a name
 * column or `classes`) a declared class with no samples in the selection.
 */
export function loadManifest(path: string, options: ManifestOptions): Manifest {
  const src = path;
  const table = parseCsv(readManifest(path), src);
  const { header, rows, lines } = table;
  if (rows.length === 0) throw new PaenetError('PAENET_DATA', `${src}: empty manifest (header only)`);
  const cols = `columns: ${header.join(', ')}`;
  const col = (name: string, what = 'column'): number => {
    const k = header.indexOf(name);
    if (k < 0) throw new PaenetError('PAENET_DATA', `${src}: no ${what} "${name}" (${cols})`, 'name one of the columns listed, or add it');
    return k;
  };
  const pathCol = col(options.pathColumn ?? 'path', 'path column');
  const labelCol = col(options.label);
  const groupCol = options.group === undefined ? -1 : col(options.group, 'group column');

  rows.forEach((r, i) => {
    if (r.length !== header.length) {
      throw new PaenetError('PAENET_DATA', `${src}:${lines[i]}: ${r.length} fields, the header has ${header.length}`);
    }
  });

  // Row filters: split, fold, where. Each is a (column, accepted values) pair.
  const filters: { name: string; k: number; accept: Set<string> }[] = [];
  const addFilter = (name: string, values: string | number | readonly (string | number)[]): void => {
    const list = (Array.isArray(values) ? values : [values]) as (string | number)[];
    filters.push({ name, k: col(name), accept: new Set(list.map(String)) });
  };
  if (options.split !== undefined) addFilter(options.splitColumn ?? 'split', options.split);
  if (options.fold !== undefined) addFilter(options.foldColumn ?? 'fold', options.fold);
  for (const [name, v] of Object.entries(options.where ?? {})) addFilter(name, v);
  const selected: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (filters.every((f) => f.accept.has(r[f.k]!))) selected.push(i);
  }
  for (const f of filters) {
    const seen = new Set(rows.map((r) => r[f.k]!));
    if (![...f.accept].some((v) => seen.has(v))) {
      const values = [...seen].sort().slice(0, 20).join(', ');
      throw new PaenetError('PAENET_DATA', `${src}: no rows with ${f.name} = ${[...f.accept].join('|')} (values: ${values})`);
    }
  }

  const nameCol =
    options.nameColumn === false
      ? -1
      : options.nameColumn !== undefined
        ? col(options.nameColumn, 'name column')
        : findNameColumn(header, rows, labelCol, [pathCol, ...filters.map((f) => f.k)]);
  const selection = describeSelection(options);
  const mapped = mapLabels({ src, header, rows, lines, selected, labelCol, nameCol, classes: options.classes });

  const base = dirname(resolve(path));
  const samples: ManifestSample[] = [];
  for (const m of mapped.kept) {
    const r = rows[m.row]!;
    const rel = r[pathCol]!;
    if (rel === '') throw new PaenetError('PAENET_DATA', `${src}:${lines[m.row]}: empty path`);
    const s: ManifestSample = { path: resolve(base, rel), label: m.label, raw: r[labelCol]! };
    if (groupCol >= 0) s.group = r[groupCol]!;
    samples.push(s);
  }
  if (samples.length === 0) {
    throw new PaenetError(
      'PAENET_DATA',
      `${src}: no samples with a label in column "${options.label}"${selection} ` +
        `(${selected.length} rows: ${mapped.skippedEmpty} empty, ${mapped.skippedNegative} negative)`,
    );
  }
  if (!options.allowEmptyClasses && mapped.declared.length > 0) {
    const counts = new Array<number>(mapped.labels.length).fill(0);
    for (const s of samples) counts[s.label]!++;
    const empty = mapped.declared.find((c) => counts[c] === 0);
    if (empty !== undefined) {
      throw new PaenetError(
        'PAENET_DATA',
        `${src}: class ${empty} "${mapped.labels[empty]}" of column "${options.label}" has no samples${selection} ` +
          `(pass allowEmptyClasses to keep it)`,
      );
    }
  }
  return {
    source: src,
    samples,
    labels: mapped.labels,
    skippedEmpty: mapped.skippedEmpty,
    skippedNegative: mapped.skippedNegative,
  };
}

/**
 * Whether the manifest at `path` has a split column (default `split`). A manifest without one is a single list:
 * the caller selects every row instead of a split (e.g. `paenet eval` on someone's own test set).
 *
 * @throws one line naming the file when it cannot be read or parsed.
 */
export function hasSplitColumn(path: string, splitColumn = 'split'): boolean {
  return parseCsv(readManifest(path), path).header.includes(splitColumn);
}

function readManifest(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code === 'ENOENT'
      ? new PaenetError('PAENET_NOT_FOUND', `${path}: manifest not found`)
      : new PaenetError('PAENET_DATA', `${path}: cannot read (${code ?? String(e)})`);
  }
}

function describeSelection(o: ManifestOptions): string {
  const parts: string[] = [];
  const show = (v: string | number | readonly (string | number)[]): string => (Array.isArray(v) ? v.join('|') : String(v));
  if (o.split !== undefined) parts.push(`${o.splitColumn ?? 'split'} = ${show(o.split)}`);
  if (o.fold !== undefined) parts.push(`${o.foldColumn ?? 'fold'} = ${show(o.fold)}`);
  for (const [k, v] of Object.entries(o.where ?? {})) parts.push(`${k} = ${show(v)}`);
  return parts.length ? ` in rows with ${parts.join(', ')}` : '';
}
