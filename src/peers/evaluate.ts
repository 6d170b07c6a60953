// Peer rows: the face toolkits JavaScript users install today, run as they ship on the same validation crops as
// paenet's tasks, scored with the same protocols (top-1, age-group exact and 1-off, 10-fold verification).
import { accuracy, oneOffAccuracy } from '../metrics/classification.ts';
import { evaluateVerification, rowCosineDistance } from '../metrics/verification.ts';
import { loadImageSet, loadPairSet, type ImageSet } from '../tasks/index.ts';
import { ageGroupOf, type Crop, type Peer, type PeerModelFiles } from './peer.ts';

/** Where each capability's validation crops come from (a manifest, its label column and split; or a pairs file). */
export interface PeerDataSpec {
  expression?: { data: string; label: string; split?: string };
  gender?: { data: string; label: string; split?: string };
  age?: { data: string; label: string; split?: string };
  verification?: { pairs: string };
  /** At most this many validation images per capability (the experiment's limit.val, so the crops are the same). */
  limit?: number;
}

export interface PeerRow {
  toolkit: string;
  expression?: number;
  gender?: number;
  ageExact?: number;
  ageOneOff?: number;
  verification?: { accuracy: number; std: number };
  /** Bytes on disk of the models used. */
  bytes: number;
  models: PeerModelFiles[];
  /** One face through every capability measured, per second (batch 1, as the toolkits run). */
  facesPerSecond: number;
  /** Images per capability. */
  n: Record<string, number>;
}

function crops(set: ImageSet): Crop[] {
  const per = set.size * set.size * 3;
  return Array.from({ length: set.labels.length }, (_, i) => ({ pixels: set.pixels.subarray(i * per, (i + 1) * per), size: set.size }));
}

async function timed<T>(items: Crop[], f: (c: Crop) => Promise<T>, clock: { seconds: number }): Promise<T[]> {
  const out: T[] = [];
  const t0 = performance.now();
  for (const c of items) out.push(await f(c));
  clock.seconds += (performance.now() - t0) / 1000 / Math.max(1, items.length);
  return out;
}

/** Scores one peer on every capability it has and the spec names. */
export async function evaluatePeer(peer: Peer, spec: PeerDataSpec, note?: (line: string) => void): Promise<PeerRow> {
  const row: PeerRow = { toolkit: peer.name, bytes: 0, models: peer.models, facesPerSecond: 0, n: {} };
  const perFace = { seconds: 0 };
  const limit = spec.limit ? { limit: spec.limit } : {};
  const load = (d: { data: string; label: string; split?: string }, size: number) =>
    loadImageSet(d.data, { label: d.label, split: d.split ?? 'val', size, ...limit });
  if (spec.expression && peer.expression && peer.inputSize.expression) {
    const set = await load(spec.expression, peer.inputSize.expression);
    note?.(`${peer.name}: expression on ${set.labels.length} crops`);
    row.expression = accuracy(await timed(crops(set), (c) => peer.expression!(c), perFace), set.labels);
    row.n.expression = set.labels.length;
  }
  if ((spec.gender || spec.age) && peer.ageGender && peer.inputSize.ageGender) {
    const clock = { seconds: 0 };
    if (spec.gender) {
      const set = await load(spec.gender, peer.inputSize.ageGender);
      note?.(`${peer.name}: gender on ${set.labels.length} crops`);
      const p = await timed(crops(set), (c) => peer.ageGender!(c), clock);
      row.gender = accuracy(
        p.map((x) => x.gender),
        set.labels,
      );
      row.n.gender = set.labels.length;
    }
    if (spec.age) {
      const set = await load(spec.age, peer.inputSize.ageGender);
      note?.(`${peer.name}: age on ${set.labels.length} crops`);
      const groups = (await timed(crops(set), (c) => peer.ageGender!(c), clock)).map((x) => ageGroupOf(x.age));
      row.ageExact = accuracy(groups, set.labels);
      row.ageOneOff = oneOffAccuracy(groups, set.labels);
      row.n.age = set.labels.length;
    }
    perFace.seconds += clock.seconds / (spec.gender && spec.age ? 2 : 1);
  }
  if (spec.verification && peer.descriptor && peer.inputSize.recognition) {
    const pairs = await loadPairSet(spec.verification.pairs, peer.inputSize.recognition);
    note?.(`${peer.name}: verification on ${pairs.pairs.pairs.length} pairs`);
    const ds = await timed(crops(pairs.images), (c) => peer.descriptor!(c), perFace);
    const d = ds[0]?.length ?? 0;
    // Cosine distance compares directions: the toolkits' descriptors need no normalising first.
    const m = new Float32Array(ds.length * d);
    ds.forEach((v, i) => m.set(v, i * d));
    const r = evaluateVerification(
      Float64Array.from(pairs.a, (a, k) => rowCosineDistance(m, d, a, pairs.b[k]!)),
      pairs.pairs.pairs.map((p) => p.same),
      Int32Array.from(pairs.pairs.pairs, (p) => p.fold),
    );
    row.verification = { accuracy: r.summary.mean, std: r.summary.std };
    row.n.verification = pairs.pairs.pairs.length;
  }
  row.bytes = peer.models.reduce((n, m) => n + m.bytes, 0);
  row.facesPerSecond = perFace.seconds > 0 ? 1 / perFace.seconds : 0;
  return row;
}
