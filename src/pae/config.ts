// Backbone configurations: a plain, JSON-storable description from which any packable net is rebuilt.
import { ARCHITECTURES, isArch, type Arch, type ArchPreset, type BackboneShape, type ChannelGroup, type LayerSpec } from './arch/index.ts';

export type { Arch, LayerSpec };

/** Stored in every model file; rebuilding from it gives the same layer shapes. */
export interface BackboneConfig extends BackboneShape {
  arch: Arch;
}

/** Presets, by name, for `paenet init --arch NAME`: every registered family's (see arch/index.ts). */
export const ARCH_PRESETS: Record<string, ArchPreset & { arch: Arch }> = Object.fromEntries(
  (Object.entries(ARCHITECTURES) as [Arch, (typeof ARCHITECTURES)[Arch]][]).flatMap(([arch, family]) =>
    Object.entries(family.presets).map(([name, preset]) => [name, { arch, ...preset }]),
  ),
);

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

/** [output, input] channels of a layer at expansion level `level` (depthwise layers: input 1): from the config alone. */
export function layerWidth(config: BackboneConfig, spec: LayerSpec, level: number): [number, number] {
  const group = (g: ChannelGroup): number => (g === 'rgb' ? 3 : g === 'embed' ? config.embedDim : stageWidth(config, g, level));
  return [group(spec.output), spec.depthwise ? 1 : group(spec.input)];
}

/** The weight tensor's shape of a layer at expansion level `level`. */
export function layerWeightShape(config: BackboneConfig, spec: LayerSpec, level: number): number[] {
  const [o, i] = layerWidth(config, spec, level);
  return spec.kind === 'conv' ? [o, i, spec.kernel, spec.kernel] : [o, i];
}

/** The packable layers of a backbone, in forward order. */
export function layerSpecs(config: BackboneConfig): LayerSpec[] {
  return ARCHITECTURES[config.arch].layers(config);
}

/** Checks a config read from a file; throws one line naming the problem. */
export function validateConfig(c: unknown, source: string): BackboneConfig {
  const o = c as Partial<BackboneConfig> | null;
  const bad = (what: string): never => {
    throw new Error(`${source}: invalid backbone config (${what})`);
  };
  if (!o || typeof o !== 'object') bad('not an object');
  if (!isArch(o!.arch)) bad(`unknown arch ${String(o!.arch)}`);
  if (!Array.isArray(o!.stages) || o!.stages.length === 0 || !o!.stages.every((x) => Number.isInteger(x) && x > 0)) bad('stages');
  for (const k of ['blocks', 'widthMult', 'embedDim', 'inputSize', 'dropout'] as const) if (typeof o![k] !== 'number') bad(k);
  if (!Array.isArray(o!.expansions) || !o!.expansions.every((r) => typeof r === 'number' && r > 1)) bad('expansions');
  return o as BackboneConfig;
}
