// Adopts Human's pretrained `faceres` (a MobileNet v1 face network, MIT; @vladmandic/human models/faceres.json) as
// task 1 of a new 'mobilenet-v1' model: read from the tfjs graph (every conv, its folded BatchNorm, the ReLU6
// clips checked node by node), weights copied bit-exactly, the descriptor = the graph's global mean (1024-d).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PaenetError } from '../common/errors.ts';
import { noGrad, tensor, tidy } from '../engine/index.ts';
import { packageRoot } from '../io/packages.ts';
import { readTfjsGraph, type TfjsGraphModel, type TfjsGraphNode } from '../io/tfjs-graph.ts';
import type { TfjsWeight } from '../io/tfjs-weights.ts';
import { BN_EPS, configFromPreset, PaeModel, type InputTransform, type Provenance } from '../pae/index.ts';
import { hwioToOihw } from './face-api-import.ts';
import { importedTaskRecord, sourceRecord, type PretrainedImport } from './pretrained.ts';

export const HUMAN_FACERES = {
  package: '@vladmandic/human',
  model: 'models/faceres.json',
  /** The graph node Human reads its face descriptor from. */
  descriptor: 'global_pooling/Mean',
  /** faceres takes raw pixels 0..255 (its first conv has the normalisation folded in). */
  trainedSize: 224,
} as const;

/** From paenet's standard input ((p − 127.5) / 128) back to faceres's raw pixels p = x·128 + 127.5. */
export function faceresInputTransform(): InputTransform {
  return { scale: [128, 128, 128], shift: [127.5, 127.5, 127.5] };
}

/** The installed @vladmandic/human folder, or `dir`; one line when faceres is not there. */
export function faceresPackageDir(dir?: string): string {
  const root = dir === undefined ? tryPackageRoot() : resolve(dir);
  if (!existsSync(join(root, HUMAN_FACERES.model)))
    throw new PaenetError(
      'PAENET_NOT_FOUND',
      `${join(root, HUMAN_FACERES.model)}: no faceres model (is this a @vladmandic/human package?)`,
    );
  return root;
}

function tryPackageRoot(): string {
  try {
    return packageRoot(HUMAN_FACERES.package);
  } catch {
    throw new PaenetError('PAENET_NOT_FOUND', `paenet: ${HUMAN_FACERES.package} is not installed`, `npm install ${HUMAN_FACERES.package}`);
  }
}

/** One conv of the graph with what follows it: the folded BN's per-channel scale (depthwise only) and shift. */
interface GraphConv {
  node: TfjsGraphNode;
  kernel: TfjsWeight;
  scale: Float32Array | null;
  shift: Float32Array;
}

/** The graph's convs in forward order, each with its BN constants; checks each is followed by ReLU6. */
function graphConvs(g: TfjsGraphModel): GraphConv[] {
  const readers = new Map<string, TfjsGraphNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i.replace(/:0$/, ''), [...(readers.get(i.replace(/:0$/, '')) ?? []), n]);
  const only = (n: TfjsGraphNode, op: string): TfjsGraphNode => {
    const next = readers.get(n.name) ?? [];
    if (next.length !== 1 || next[0]!.op !== op)
      throw new PaenetError(
        'PAENET_UNSUPPORTED',
        `${g.source}: after '${n.name}' expected one ${op}, found ${next.map((x) => x.op).join(', ') || 'nothing'}`,
      );
    return next[0]!;
  };
  const constOf = (n: TfjsGraphNode): TfjsWeight => {
    const w = n.inputs.map((i) => g.weights.get(i)).find((x) => x !== undefined);
    if (!w) throw new PaenetError('PAENET_MODEL_FILE', `${g.source}: '${n.name}' has no constant operand`);
    return w;
  };
  const convs: GraphConv[] = [];
  for (const node of g.nodes) {
    if (node.op !== 'Conv2D' && node.op !== 'DepthwiseConv2dNative') continue;
    let next = readers.get(node.name)?.[0];
    let scale: Float32Array | null = null;
    if (next?.op === 'Mul') {
      scale = constOf(next).data;
      next = only(next, 'Add');
    } else next = only(node, 'Add');
    const shift = constOf(next).data;
    const relu = only(next, 'Relu');
    const min = only(relu, 'Minimum');
    if (constOf(min).data[0] !== 6) throw new PaenetError('PAENET_UNSUPPORTED', `${g.source}: '${min.name}' is not ReLU6`);
    only(min, 'Maximum');
    convs.push({ node, kernel: constOf(node), scale, shift });
  }
  return convs;
}

/** Depthwise kernel [k, k, C, 1] (tfjs) → [C, 1, k, k]. */
function depthwiseToTorch(w: TfjsWeight): { data: Float32Array; shape: number[] } {
  const [h, k, c] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let a = 0; a < h; a++)
    for (let b = 0; b < k; b++) for (let ch = 0; ch < c; ch++) out[(ch * h + a) * k + b] = w.data[(a * k + b) * c + ch]!;
  return { data: out, shape: [c, 1, h, k] };
}

/**
 * Builds a 'mobilenet-v1' model (preset 'faceres', `inputSize` px) whose task 1 (`name`, identity, 1024-d) is
 * faceres: every weight owned by task 1, the folded BN as frozen BN (mean 0, var 1 − eps: the normaliser is 1),
 * raw-pixel input as the task's input transform.
 */
export function importHumanFaceres(packageDir: string, name: string, provenance: Provenance, inputSize?: number): PretrainedImport {
  const file = join(packageDir, HUMAN_FACERES.model);
  const graph = readTfjsGraph(file);
  const convs = graphConvs(graph);
  const config = { ...configFromPreset('faceres'), ...(inputSize ? { inputSize } : {}) };
  if (config.inputSize % 32 !== 0)
    throw new PaenetError(
      'PAENET_INPUT',
      `faceres input size ${config.inputSize} is not a multiple of 32 (TensorFlow's padding would differ)`,
    );
  const model = PaeModel.create(config, provenance);
  const net = model.net;
  try {
    if (convs.length !== net.layers.length)
      throw new PaenetError('PAENET_UNSUPPORTED', `${file}: ${convs.length} convolutions, MobileNet v1 has ${net.layers.length}`);
    net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 0, dropped: true }, 0, {
      input: faceresInputTransform(),
      frozenNorm: true,
    });
    convs.forEach((c, i) => {
      const l = net.layers[i]!;
      const values = c.node.op === 'DepthwiseConv2dNative' ? depthwiseToTorch(c.kernel) : hwioToOihw(c.kernel);
      if (l.weight.shape.join() !== values.shape.join())
        throw new PaenetError(
          'PAENET_UNSUPPORTED',
          `${file}: '${c.node.name}' has shape [${values.shape}], ${l.spec.name} expects [${l.weight.shape}]`,
        );
      noGrad(() =>
        tidy(() => {
          l.weight.copy_(tensor(values.data, values.shape));
          l.owner.fill_(1);
          const n = l.norm(1);
          if (c.scale) n.weight.copy_(tensor(c.scale));
          else n.weight.fill_(1);
          n.bias.copy_(tensor(c.shift));
          n.runningVar.fill_(1 - BN_EPS);
        }),
      );
      l.ownersChanged();
    });
    const shards = (JSON.parse(readFileSync(file, 'utf8')).weightsManifest as { paths: string[] }[]).flatMap((g) =>
      g.paths.map((p) => join(dirname(file), p)),
    );
    const source = sourceRecord(
      join(packageDir, 'package.json'),
      HUMAN_FACERES.package,
      HUMAN_FACERES.model,
      [file, ...shards],
      graph.weights.size,
    );
    model.tasks.push(
      importedTaskRecord({
        name,
        from: 'human-faceres',
        source,
        input: faceresInputTransform(),
        what: `faceres (MobileNet v1, 1024-d descriptor), run at ${config.inputSize} px (trained at ${HUMAN_FACERES.trainedSize})`,
        extra: {
          inputSize: config.inputSize,
          normalisation: { mean: [0, 0, 0], scale: 1 },
          pretrained: { descriptor: HUMAN_FACERES.descriptor },
        },
      }),
    );
    return { model, source };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
