// What every pretrained import shares: where the weights came from (package, version, licence, checksum) and the
// manifest record of the adopted task 1 (an identity task, frozen BN, not yet pruned or measured).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { InputTransform, PaeModel, TaskRecord } from '../pae/index.ts';

/** Where an imported network's weights came from (kept in the task record and the model's manifest). */
export interface PretrainedSourceRecord {
  package: string;
  version: string;
  license: string;
  manifest: string;
  sha256: string;
  tensors: number;
}

/** A pretrained network adopted as task 1, and where its weights came from. */
export interface PretrainedImport {
  model: PaeModel;
  source: PretrainedSourceRecord;
}

/** The source record of `files` (model description first, then weight shards) inside the package at `packageJson`. */
export function sourceRecord(
  packageJson: string,
  fallbackName: string,
  manifest: string,
  files: string[],
  tensors: number,
): PretrainedSourceRecord {
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: string; version?: string; license?: string };
  const sha = createHash('sha256');
  for (const f of files) sha.update(readFileSync(f));
  return {
    package: pkg.name ?? fallbackName,
    version: pkg.version ?? 'unknown',
    license: pkg.license ?? 'unknown',
    manifest,
    sha256: sha.digest('hex'),
    tensors,
  };
}

/** The manifest record of an imported identity task 1 (metrics and threshold are added once it is evaluated). */
export function importedTaskRecord(o: {
  name: string;
  from: string;
  source: PretrainedSourceRecord;
  input: InputTransform;
  /** What was imported, for the decision log: e.g. 'face-recognition net (dlib ResNet, 128-d)'. */
  what: string;
  extra: Record<string, unknown>;
}): TaskRecord {
  const s = o.source;
  return {
    id: 1,
    name: o.name,
    kind: 'identity',
    labels: [],
    head: { kind: 'linear', classes: 0, dropped: true },
    sharing: 'cumulative',
    level: 0,
    input: o.input,
    frozenNorm: true,
    goal: { value: null, source: 'none' },
    metric: { name: 'verification-accuracy', value: NaN, trained: NaN },
    pruning: { records: [], ratio: 0, reason: 'imported pretrained weights, not pruned' },
    expansions: 0,
    decisions: [`import: ${s.package}@${s.version} ${o.what}, licence ${s.license}`],
    date: new Date().toISOString(),
    data: { pretrained: o.from, ...s },
    extra: { ...o.extra, pretrained: { from: o.from, ...s, ...((o.extra.pretrained as object | undefined) ?? {}) } },
  };
}
