// Models the benchmarks run on: a model file (`--model FILE`), or a named built-in. 'faceres-packed' stands in for
// the shipped model until it exists: Human's faceres (real pretrained weights) as the identity task at 224 px,
// unpruned, and gender and age (160 px) and expression (112 px) packed after an expansion each, as the shipped
// model's tasks are laid out (experiments/paenet-face.json), with untrained heads and BN statistics from random
// batches (what the serving graph must get right; their accuracy is chance, their int8-vs-fp32 agreement is not).
import { manualSeed, noGrad, randn, tidy } from '../src/engine/index.ts';
import { expand, loadModel, openFree, releaseToRatio, type PaeModel, type TaskRecord } from '../src/pae/index.ts';
import { faceresPackageDir, importHumanFaceres } from '../src/tasks/index.ts';

export const BUILT_IN_MODELS = ['faceres-packed'] as const;

const PROVENANCE = { paenetVersion: 'bench', torchVersion: '', created: '' };

/** The stand-in's packed tasks: each a classify task on a data set of data/, at its own input size. */
const PACKED = [
  { name: 'gender', manifest: 'data/utkface-agegender/manifest.csv', label: 'gender', classes: 2, size: 160 },
  { name: 'age', manifest: 'data/utkface-agegender/manifest.csv', label: 'label', classes: 8, size: 160 },
  { name: 'expression', manifest: 'data/fer2013/manifest.csv', label: 'label', classes: 7, size: 112 },
];

function faceresPacked(): PaeModel {
  manualSeed(7);
  const model = importHumanFaceres(faceresPackageDir(), 'identity', PROVENANCE, 224).model;
  const net = model.net;
  const identity = model.tasks[0]!;
  // As the shipped model's record will read once pruned by distillation on CelebA (src/workflows/prune-task.ts).
  identity.data = {
    ...identity.data,
    pairs: 'data/celeba-identity/pairs.txt',
    distillation: { manifest: 'data/celeba-identity/manifest.csv' },
  };
  const x = randn([4, 3, net.config.inputSize, net.config.inputSize]);
  try {
    for (const p of PACKED) {
      const id = model.tasks.length + 1;
      expand(net, 1.2);
      const head = { kind: 'linear' as const, classes: p.classes };
      net.addTaskSlot(id, 'cumulative', head);
      openFree(net, id);
      for (const l of net.layers) releaseToRatio(l, id, 0.5);
      net.training = true;
      for (let i = 0; i < 3; i++) noGrad(() => tidy(() => void net.embed(x, id)));
      net.training = false;
      const slot = net.slot(id);
      const record: TaskRecord = {
        ...identity,
        id,
        name: p.name,
        kind: 'classify',
        labels: Array.from({ length: p.classes }, (_, i) => String(i)),
        head: slot.head,
        sharing: slot.sharing,
        level: slot.level,
        data: { manifest: p.manifest, label: p.label, valSplit: 'val' },
        extra: { inputSize: p.size },
      };
      delete record.input;
      delete record.frozenNorm;
      model.tasks.push(record);
    }
  } finally {
    x.dispose();
  }
  return model;
}

/** The model `name` names: a built-in (see BUILT_IN_MODELS) or a model file. */
export function benchModelNamed(name: string): PaeModel {
  return name === 'faceres-packed' ? faceresPacked() : loadModel(name);
}

/** Faces to calibrate on when a model's tasks name no training manifest (imported nets, as serve's default model). */
const FALLBACK_CALIBRATION = ['data/celeb-glint360k-sample/manifest.csv'];

/**
 * What int8 calibration reads: `given` (--calibration), else the manifests the tasks were trained on (a trained
 * task's data.manifest; an imported identity task's distillation manifest: its data.manifest names the imported
 * file), else FALLBACK_CALIBRATION.
 */
export function calibrationSources(model: PaeModel, given: readonly string[]): string[] {
  if (given.length) return [...given];
  const all = model.tasks.flatMap((t) => {
    const d = t.data.pretrained ? (t.data.distillation as { manifest?: unknown } | undefined)?.manifest : t.data.manifest;
    return Array.isArray(d) ? d : [d];
  });
  const files = [...new Set(all.filter((f): f is string => typeof f === 'string'))];
  return files.length ? files : FALLBACK_CALIBRATION;
}
