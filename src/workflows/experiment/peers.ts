// The peer comparison of an experiment: paenet's packed model and each toolkit on the same validation crops.
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PaeModel } from '../../pae/index.ts';
import { embedImages, loadImageSet, loadPairSet, predictProbabilities, subsetImageSet, type ImageSet } from '../../tasks/index.ts';
import { oneOffAccuracy } from '../../metrics/classification.ts';
import { PEER_TOOLKITS, type PeerConfig } from './config.ts';
import type { RunConfig } from './pooled-data.ts';
import { evaluateClassification, evaluateVerificationTask } from '../../tasks/evaluate.ts';
import { evaluatePeer, type PeerDataSpec, type PeerRow } from '../../peers/evaluate.ts';
import { faceApiPeer } from '../../peers/face-api.ts';
import { humanPeer } from '../../peers/human.ts';
import type { Peer } from '../../peers/peer.ts';

function dataSpec(cfg: RunConfig, p: PeerConfig): PeerDataSpec {
  const task = (name: string) => cfg.tasks.find((t) => t.name === name)!;
  const labelled = (name?: string) => (name ? { data: task(name).data, label: task(name).label ?? 'label' } : undefined);
  const v = p.verification ? task(p.verification) : undefined;
  return {
    ...(p.expression ? { expression: labelled(p.expression)! } : {}),
    ...(p.gender ? { gender: labelled(p.gender)! } : {}),
    ...(p.age ? { age: labelled(p.age)! } : {}),
    ...(v ? { verification: { pairs: v.pairs ?? join(dirname(resolve(v.data)), 'pairs.txt') } } : {}),
    ...(cfg.limit?.val ? { limit: cfg.limit.val } : {}),
  };
}

/** paenet's own row, from the packed model on the same validation images as the peers (each task at its input size). */
async function paenetRow(model: PaeModel, modelFile: string, spec: PeerDataSpec, p: PeerConfig): Promise<PeerRow> {
  const row: PeerRow = { toolkit: 'paenet (PAE, one model)', bytes: statSync(modelFile).size, models: [], facesPerSecond: 0, n: {} };
  const limit = spec.limit ? { limit: spec.limit } : {};
  // The first 32 validation faces at each input size a task runs at: the speed probe below.
  const probes = new Map<number, ImageSet>();
  const keepProbe = (size: number, set: ImageSet) => {
    if (!probes.has(size))
      probes.set(
        size,
        subsetImageSet(
          set,
          Array.from({ length: Math.min(32, set.labels.length) }, (_, i) => i),
        ),
      );
  };
  let probeSource: { data: string; label: string } | undefined;
  for (const c of ['expression', 'gender', 'age'] as const) {
    const d = spec[c];
    const name = p[c];
    if (!d || !name) continue;
    const rec = model.task(name);
    const size = model.inputSizeOf(rec);
    const set = await loadImageSet(d.data, { label: d.label, split: 'val', size, classes: rec.labels, ...limit });
    keepProbe(size, set);
    probeSource ??= { data: d.data, label: d.label };
    const r = evaluateClassification(model.net, rec.id, set, rec.labels);
    if (c === 'age') {
      row.ageExact = r.value;
      row.ageOneOff = oneOffAccuracy(r.predictions, set.labels);
    } else row[c] = r.value;
    row.n[c] = set.labels.length;
  }
  if (spec.verification && p.verification) {
    const rec = model.task(p.verification);
    const size = model.inputSizeOf(rec);
    const pairs = await loadPairSet(spec.verification.pairs, size);
    const r = evaluateVerificationTask(model.net, rec.id, pairs);
    row.verification = { accuracy: r.value, std: r.std };
    row.n.verification = r.n;
    keepProbe(size, pairs.images);
  }
  if (probes.size > 0) {
    for (const t of model.tasks) {
      const size = model.inputSizeOf(t);
      if (!probes.has(size) && probeSource)
        keepProbe(size, await loadImageSet(probeSource.data, { label: probeSource.label, split: 'val', size, limit: 32 }));
    }
    // Every task on one face at a time (batch 1, as the toolkits are measured), each at its own input size.
    const runnable = model.tasks.filter((t) => probes.has(model.inputSizeOf(t)));
    const n = Math.min(...runnable.map((t) => probes.get(model.inputSizeOf(t))!.labels.length));
    const t0 = performance.now();
    for (let i = 0; i < n; i++)
      for (const t of runnable) {
        const one = subsetImageSet(probes.get(model.inputSizeOf(t))!, [i]);
        if (t.head.dropped) embedImages(model.net, t.id, one, false, 1);
        else predictProbabilities(model.net, t.id, one, 1);
      }
    row.facesPerSecond = n / ((performance.now() - t0) / 1000);
  }
  return row;
}

/** paenet's row, then one row per toolkit (each run as it ships, on the same crops). */
export async function comparePeers(
  cfg: RunConfig,
  p: PeerConfig,
  model: PaeModel,
  modelFile: string,
  note?: (line: string) => void,
): Promise<PeerRow[]> {
  const spec = dataSpec(cfg, p);
  const rows = [await paenetRow(model, modelFile, spec, p)];
  for (const t of p.toolkits ?? PEER_TOOLKITS) {
    const peer: Peer = t === 'face-api' ? await faceApiPeer() : await humanPeer();
    try {
      rows.push(await evaluatePeer(peer, spec, note));
    } finally {
      peer.dispose();
    }
  }
  return rows;
}
