// Fixtures of the serving tests: hand-made packed models (real structure: pruned, expanded, several heads; no
// training) and the photos that ship in a face-detector package.
import { join } from 'node:path';
import { manualSeed, noGrad, randn, tidy } from '../../src/engine/index.ts';
import {
  configFromPreset,
  expand,
  openFree,
  PackableNet,
  PaeModel,
  releaseToRatio,
  type HeadSpec,
  type TaskRecord,
} from '../../src/pae/index.ts';
import { packageRoot } from '../../src/io/packages.ts';
import { faceApiPackageDir, importFaceApiRecognition } from '../../src/tasks/index.ts';
import { handRecord, PROVENANCE } from '../pae/helpers.ts';
import { mobileArch, mobileConfig } from '../pae/mobile-arch.ts';

/** Human's example photos (in its npm package): a group of about a dozen faces, and one portrait. */
export const GROUP_PHOTO = join(packageRoot('@vladmandic/human'), 'assets', 'screenshot-facedetect.jpg');
export const PORTRAIT_PHOTO = join(packageRoot('@vladmandic/human'), 'assets', 'screenshot-faceid.jpg');

/** Tasks on `config` with non-default BN statistics, half of each task's weights released, an expansion between. */
export function handModel(arch: string, heads: HeadSpec[], base?: PaeModel): PaeModel {
  manualSeed(7);
  const net = base?.net ?? PackableNet.create(configFromPreset(arch, 0.5));
  const s = net.config.inputSize;
  const records: TaskRecord[] = base ? [...base.tasks] : [];
  const x = randn([4, 3, s, s]);
  heads.forEach((head, k) => {
    const id = records.length + 1;
    if (k > 0 || base) expand(net, 1.2);
    net.addTaskSlot(id, 'cumulative', head);
    openFree(net, id);
    for (const l of net.layers) releaseToRatio(l, id, 0.5);
    // A few training-mode passes so the running statistics are not the defaults (what BN folding must get right).
    net.training = true;
    for (let i = 0; i < 3; i++) noGrad(() => tidy(() => void net.embed(x, id)));
    net.training = false;
    const r = handRecord(net, id, `task${id}`, head);
    records.push(head.dropped ? { ...r, kind: 'identity', labels: [] } : r);
  });
  x.dispose();
  return base ? new PaeModel(net, records, base.provenance) : new PaeModel(net, records, PROVENANCE);
}

/** face-api's recognition net as task 1 (half pruned, a threshold as if calibrated), and a gender task packed after it. */
export function servingModel(): PaeModel {
  const base = importFaceApiRecognition(faceApiPackageDir(), 'identity', PROVENANCE).model;
  for (const l of base.net.layers) releaseToRatio(l, 1, 0.5);
  base.tasks[0]!.extra.threshold = 0.06;
  const model = handModel('dlib-resnet', [{ kind: 'linear', classes: 2 }], base);
  model.tasks[1] = { ...model.tasks[1]!, name: 'gender', labels: ['male', 'female'] };
  return model;
}

/** The serving model with its tasks at different input sizes: identity at face-api's 150 px, gender at 112 px. */
export function mixedSizeModel(): PaeModel {
  const model = servingModel();
  model.tasks[1]!.extra.inputSize = 112;
  return model;
}

/** A MobileNet-style model (depthwise convs, ReLU6 as Relu + Clip) with a classify task and an embedding, across an expansion. */
export function mobileModel(): PaeModel {
  manualSeed(9);
  const net = PackableNet.create(mobileConfig(), mobileArch);
  const x = randn([4, 3, 16, 16]);
  const heads: HeadSpec[] = [
    { kind: 'linear', classes: 3 },
    { kind: 'linear', classes: 0, dropped: true },
  ];
  heads.forEach((head, k) => {
    if (k > 0) expand(net, 1.5);
    net.addTaskSlot(k + 1, 'cumulative', head);
    openFree(net, k + 1);
    for (const l of net.layers) releaseToRatio(l, k + 1, 0.5);
    net.training = true;
    for (let i = 0; i < 3; i++) noGrad(() => tidy(() => void net.embed(x, k + 1)));
    net.training = false;
  });
  x.dispose();
  const records = heads.map((h, k) => handRecord(net, k + 1, `task${k + 1}`, h));
  return new PaeModel(net, [records[0]!, { ...records[1]!, kind: 'identity', labels: [] }], PROVENANCE);
}
