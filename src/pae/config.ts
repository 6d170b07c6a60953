// Backbone configurations: a plain, JSON-storable description from which any packable net is rebuilt.

/** Which family of packable backbone. */
export type Arch = 'tiny' | 'resnet' | 'dlib-resnet';

/** Residual blocks per stage of the dlib face-recognition ResNet (after each stage's down block; the last stage ends with one more down block). */
export const DLIB_BLOCKS = [3, 3, 2, 2] as const;

/** Stored in every model file; rebuilding from it gives the same layer shapes. */
export interface BackboneConfig {
  arch: Arch;
  /** Base channel counts per stage before width multipliers. */
  stages: number[];
  /** Residual blocks per stage ('resnet'); ignored by 'tiny'. */
  blocks: number;
  /** Multiplies every stage width. @default 1 */
  widthMult: number;
  /** Embedding (bottleneck) size; not widened by expansion, like the paper's 512-d bottleneck. */
  embedDim: number;
  /** Square input side in pixels. */
  inputSize: number;
  /** Model-size ratios of every expansion so far (the paper's "1.0,1.2" history without the leading 1). */
  expansions: number[];
  /** Dropout before the embedding layer. @default 0 */
  dropout: number;
}

/** Presets, by name, for `paenet init --arch NAME`. */
export const ARCH_PRESETS: Record<string, Omit<BackboneConfig, 'widthMult' | 'expansions'>> = {
  /** A few thousand weights: for tests and smoke runs. */
  tiny: { arch: 'tiny', stages: [8, 16, 32], blocks: 0, embedDim: 32, inputSize: 32, dropout: 0 },
  /** ResNet-10-style for 64x64 faces (~1.2M weights at width 1). */
  resnet10: { arch: 'resnet', stages: [32, 64, 128, 256], blocks: 1, embedDim: 128, inputSize: 64, dropout: 0.2 },
  /** ResNet-18-style for 64x64 faces. */
  resnet18: { arch: 'resnet', stages: [32, 64, 128, 256], blocks: 2, embedDim: 128, inputSize: 64, dropout: 0.2 },
  /** A small ResNet for fast experiments on 2 cores. */
  'resnet-small': { arch: 'resnet', stages: [16, 32, 64, 128], blocks: 1, embedDim: 64, inputSize: 64, dropout: 0.1 },
  /**
   * dlib's face-recognition ResNet (as shipped by face-api.js): 7×7/2 stem, 3×3 max-pool, 29 convs with
   * avg-pool shortcuts, 128-d descriptor at 150×150. `paenet import` fills it with the pretrained weights.
   */
  'dlib-resnet': { arch: 'dlib-resnet', stages: [32, 64, 128, 256], blocks: 0, embedDim: 128, inputSize: 150, dropout: 0 },
};

/** A config from a preset name, with a width multiplier. */
export function configFromPreset(name: string, widthMult = 1): BackboneConfig {
  const preset = ARCH_PRESETS[name];
  if (!preset) throw new Error(`paenet: unknown --arch '${name}' (known: ${Object.keys(ARCH_PRESETS).join(', ')})`);
  if (!(widthMult > 0)) throw new Error(`paenet: --width-mult must be > 0, got ${widthMult}`);
  return { ...preset, stages: [...preset.stages], widthMult, expansions: [] };
}

/** Width of a stage at expansion level `level` (0 = before any expansion): floor(base·mult·√(∏ ratios)). */
export function stageWidth(config: BackboneConfig, stage: number, level: number): number {
  const base = config.stages[stage];
  if (base === undefined) throw new Error(`paenet: no stage ${stage}`);
  const size = config.expansions.slice(0, level).reduce((a, r) => a * r, 1);
  // The tiny epsilon keeps exact products (e.g. 32·1.0) from flooring one below through float error.
  return Math.max(1, Math.floor(base * config.widthMult * Math.sqrt(size) + 1e-9));
}

/** One packable (owner-tagged) layer of a backbone. */
export interface LayerSpec {
  name: string;
  kind: 'conv' | 'linear';
  /** Channel group feeding the layer: a stage index, or 'rgb' (3 input channels). */
  input: number | 'rgb';
  /** Channel group produced: a stage index, or 'embed' (fixed embedDim). */
  output: number | 'embed';
  kernel: number;
  stride: number;
  padding: number;
}

/** The dlib ResNet's layers: 'valid' (unpadded) stride-2 convs open each down block, 3×3 'same' convs elsewhere. */
function dlibSpecs(
  config: BackboneConfig,
  conv: (name: string, input: number | 'rgb', output: number, kernel: number, stride: number, padding: number) => LayerSpec,
): LayerSpec[] {
  const out: LayerSpec[] = [conv('stem', 'rgb', 0, 7, 2, 0)];
  const down = (name: string, input: number, output: number): void => {
    out.push(conv(`${name}.conv1`, input, output, 3, 2, 0), conv(`${name}.conv2`, output, output, 3, 1, 1));
  };
  config.stages.forEach((_, s) => {
    if (s > 0) down(`s${s}.down`, s - 1, s);
    for (let b = 0; b < (DLIB_BLOCKS[s] ?? 2); b++)
      out.push(conv(`s${s}b${b}.conv1`, s, s, 3, 1, 1), conv(`s${s}b${b}.conv2`, s, s, 3, 1, 1));
    if (s === config.stages.length - 1) down(`s${s}.out`, s, s);
  });
  return out;
}

/** The packable layers of a backbone, in forward order. */
export function layerSpecs(config: BackboneConfig): LayerSpec[] {
  const conv = (
    name: string,
    input: number | 'rgb',
    output: number,
    kernel: number,
    stride: number,
    padding = kernel === 3 ? 1 : 0,
  ): LayerSpec => ({
    name,
    kind: 'conv',
    input,
    output,
    kernel,
    stride,
    padding,
  });
  const out: LayerSpec[] = [];
  const last = config.stages.length - 1;
  if (config.arch === 'dlib-resnet') {
    out.push(...dlibSpecs(config, conv));
  } else if (config.arch === 'tiny') {
    config.stages.forEach((_, s) => out.push(conv(`conv${s}`, s === 0 ? 'rgb' : s - 1, s, 3, 1)));
  } else {
    out.push(conv('stem', 'rgb', 0, 3, 1));
    config.stages.forEach((_, s) => {
      for (let b = 0; b < config.blocks; b++) {
        const input = b === 0 && s > 0 ? s - 1 : s;
        const stride = b === 0 && s > 0 ? 2 : 1;
        out.push(conv(`s${s}b${b}.conv1`, input, s, 3, stride));
        out.push(conv(`s${s}b${b}.conv2`, s, s, 3, 1));
        if (b === 0 && s > 0) out.push(conv(`s${s}b${b}.short`, input, s, 1, stride));
      }
    });
  }
  out.push({ name: 'embed', kind: 'linear', input: last, output: 'embed', kernel: 1, stride: 1, padding: 0 });
  return out;
}

/** Checks a config read from a file; throws one line naming the problem. */
export function validateConfig(c: unknown, source: string): BackboneConfig {
  const o = c as Partial<BackboneConfig> | null;
  const bad = (what: string): never => {
    throw new Error(`${source}: invalid backbone config (${what})`);
  };
  if (!o || typeof o !== 'object') bad('not an object');
  if (o!.arch !== 'tiny' && o!.arch !== 'resnet' && o!.arch !== 'dlib-resnet') bad(`unknown arch ${String(o!.arch)}`);
  if (!Array.isArray(o!.stages) || o!.stages.length === 0 || !o!.stages.every((x) => Number.isInteger(x) && x > 0)) bad('stages');
  for (const k of ['blocks', 'widthMult', 'embedDim', 'inputSize', 'dropout'] as const) if (typeof o![k] !== 'number') bad(k);
  if (!Array.isArray(o!.expansions) || !o!.expansions.every((r) => typeof r === 'number' && r > 1)) bad('expansions');
  return o as BackboneConfig;
}
