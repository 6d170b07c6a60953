// Turns a finished experiment's model into the shipped file: the build recorded in its manifest (recipe, data,
// compute time, start network), weights stored compactly, every module measured before and after the compact
// storage on the listed validation sets, and the peer toolkits measured on the same validation images.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { computeLedger, loadModel, saveModel, type Ledger, type PaeModel } from '../../pae/index.ts';
import { evaluatePeer, type PeerDataSpec, type PeerRow } from '../../peers/evaluate.ts';
import { faceApiPeer } from '../../peers/face-api.ts';
import { humanPeer } from '../../peers/human.ts';
import type { ExperimentConfig, ExperimentResult, ShipConfig, WeightStorage } from '../experiment/config.ts';
import { checkEvaluations, scoreModules, type ModuleEvaluation, type ModuleScore } from './module-scores.ts';

/** What the build of a shipped model took, kept in its manifest. */
export interface BuildRecord {
  experiment: string;
  /** The experiment file as run (the recipe). */
  recipe: ExperimentConfig;
  /** Manifests and pairs files the modules were trained and measured on. */
  data: string[];
  /** Training compute per task and in all, seconds of wall clock on `machine` (summed over resumed sessions). */
  taskSeconds: Record<string, number>;
  computeSeconds: number;
  machine: string;
  weights: WeightStorage;
}

export interface PeerScores {
  toolkit: string;
  bytes: number;
  facesPerSecond: number;
  /** By evaluation name: the peer's score on the same validation images (undefined: the peer lacks the module). */
  scores: Record<string, { value: number; oneOff?: number; std?: number } | undefined>;
}

export interface ShipResult {
  file: string;
  bytes: number;
  weights: WeightStorage;
  /** Per evaluation: the experiment's fp32 model and the shipped (compactly stored) model. */
  modules: { fp32: ModuleScore; shipped: ModuleScore }[];
  peers: PeerScores[];
  ledger: Ledger;
  build: BuildRecord;
}

type Capability = 'expression' | 'gender' | 'age' | 'verification';

/** Which peer capability answers an evaluation: the experiment's peer mapping names the task of each. */
function capabilityOf(cfg: ExperimentConfig, e: ModuleEvaluation): Capability | undefined {
  const p = cfg.peers;
  if (!p) return undefined;
  return (['expression', 'gender', 'age', 'verification'] as const).find((c) => p[c] === e.task);
}

function peerSpec(c: Capability, e: ModuleEvaluation): PeerDataSpec {
  const labelled = { data: e.data!, label: e.label!, split: e.split ?? 'val' };
  return c === 'verification' ? { verification: { pairs: e.pairs! } } : { [c]: labelled };
}

function peerScore(c: Capability, row: PeerRow): PeerScores['scores'][string] {
  if (c === 'verification') return row.verification ? { value: row.verification.accuracy, std: row.verification.std } : undefined;
  if (c === 'age')
    return row.ageExact === undefined
      ? undefined
      : { value: row.ageExact, ...(row.ageOneOff !== undefined ? { oneOff: row.ageOneOff } : {}) };
  const v = row[c];
  return v === undefined ? undefined : { value: v };
}

async function measurePeers(cfg: ExperimentConfig, ship: ShipConfig, note?: (s: string) => void): Promise<PeerScores[]> {
  const out: PeerScores[] = [];
  for (const t of ship.peers ?? []) {
    const peer = t === 'face-api' ? await faceApiPeer() : await humanPeer();
    try {
      const row: PeerScores = { toolkit: peer.name, bytes: 0, facesPerSecond: 0, scores: {} };
      // Speed: one face through every capability the peer has, measured on the evaluations it answers.
      const perCapability = new Map<Capability, number>();
      for (const e of ship.evaluate) {
        const c = capabilityOf(cfg, e);
        if (!c) continue;
        const r = await evaluatePeer(peer, peerSpec(c, e), note);
        row.bytes = r.bytes;
        row.scores[e.name] = peerScore(c, r);
        if (r.facesPerSecond > 0 && !perCapability.has(c)) perCapability.set(c, 1 / r.facesPerSecond);
      }
      const seconds = [...perCapability.values()].reduce((a, b) => a + b, 0);
      row.facesPerSecond = seconds > 0 ? 1 / seconds : 0;
      out.push(row);
    } finally {
      peer.dispose();
    }
  }
  return out;
}

/**
 * Ships the experiment's model (OUTPUT/model.pae): records the build in its manifest, stores it compactly at
 * `ship.file`, and measures every module before and after, and the peers on the same images.
 */
export async function shipModel(
  cfg: ExperimentConfig & { ship: ShipConfig },
  result: Pick<ExperimentResult, 'tasks'>,
  o: { experimentFile: string; machine: string; note?: (line: string) => void },
): Promise<ShipResult> {
  const ship = cfg.ship;
  const weights = ship.weights ?? 'int8';
  const note = o.note;
  const model = loadModel(join(cfg.output, 'model.pae'));
  let shipped: PaeModel | undefined;
  try {
    checkEvaluations(model, ship.evaluate, o.experimentFile);
    const taskSeconds = Object.fromEntries(result.tasks.map((t) => [t.name, t.seconds]));
    const data = [
      ...new Set(
        cfg.tasks.flatMap((t) => (Array.isArray(t.data) ? t.data : [t.data])).concat(ship.evaluate.flatMap((e) => e.data ?? e.pairs ?? [])),
      ),
    ];
    const build: BuildRecord = {
      experiment: o.experimentFile,
      recipe: cfg,
      data,
      taskSeconds,
      computeSeconds: Object.values(taskSeconds).reduce((a, b) => a + b, 0),
      machine: o.machine,
      weights,
    };
    note?.(`measuring the fp32 model's modules (${ship.evaluate.length} validation sets)`);
    const before = await scoreModules(model, ship.evaluate, note);
    model.provenance.build = { ...build };
    saveModel(model, ship.file, { weights });
    shipped = loadModel(ship.file);
    note?.(`measuring the shipped model (${weights} weights, ${statSync(ship.file).size} bytes)`);
    const after = await scoreModules(shipped, ship.evaluate, note);
    const peers = await measurePeers(cfg, ship, note);
    return {
      file: ship.file,
      bytes: statSync(ship.file).size,
      weights,
      modules: before.map((b, i) => ({ fp32: b, shipped: after[i]! })),
      peers,
      ledger: computeLedger(shipped, weights),
      build,
    };
  } finally {
    model.dispose();
    shipped?.dispose();
  }
}
