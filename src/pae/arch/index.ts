// The backbone families by name: the one place a new family is registered.
import type { Architecture } from './architecture.ts';
import { dlibResnet } from './dlib-resnet.ts';
import { mobilenetV1 } from './mobilenet-v1.ts';
import { resnet } from './resnet.ts';
import { tiny } from './tiny.ts';

export const ARCHITECTURES = {
  tiny,
  resnet,
  'dlib-resnet': dlibResnet,
  'mobilenet-v1': mobilenetV1,
} satisfies Record<string, Architecture>;

/** Which family of packable backbone. */
export type Arch = keyof typeof ARCHITECTURES;

/** True for a registered family name. */
export function isArch(name: unknown): name is Arch {
  return typeof name === 'string' && Object.hasOwn(ARCHITECTURES, name);
}

export { poolToEmbedding, type Architecture, type ArchPreset, type BackboneShape } from './architecture.ts';
export { convLayer, embeddingLayer, padsOf, type ChannelGroup, type LayerSpec, type Pads } from './layer-spec.ts';
export type { TrunkOps } from './ops.ts';
