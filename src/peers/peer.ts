// What a peer toolkit offers for the comparison: per-crop predictions in the shared tasks' label spaces.

/** FER2013's class order (the shared expression set's `label`). */
export const FER_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

/** One crop, HWC uint8 RGB, `size`×`size`. */
export interface Crop {
  pixels: Uint8Array;
  size: number;
}

/** A model file set of a toolkit and its bytes on disk. */
export interface PeerModelFiles {
  module: string;
  files: string[];
  bytes: number;
}

export interface Peer {
  /** e.g. '@vladmandic/face-api@1.7.15'. */
  readonly name: string;
  readonly models: PeerModelFiles[];
  /** Input side each capability wants its crops at (the toolkit resizes anyway; this avoids double resampling). */
  readonly inputSize: { expression?: number; ageGender?: number; recognition?: number };
  /** FER class index per crop. */
  expression?(crop: Crop): Promise<number>;
  /** Estimated age in years and gender (0 = male, 1 = female, the shared sets' coding). */
  ageGender?(crop: Crop): Promise<{ age: number; gender: 0 | 1 }>;
  /** Identity descriptor (any length). */
  descriptor?(crop: Crop): Promise<Float32Array>;
  dispose(): void;
}

/** The 8 Adience age groups as [low, high] years (the shared age sets' `label` 0..7). */
export const ADIENCE_GROUPS: readonly (readonly [number, number])[] = [
  [0, 2],
  [4, 6],
  [8, 13],
  [15, 20],
  [25, 32],
  [38, 43],
  [48, 53],
  [60, Infinity],
];

/** The nearest Adience group of an age (distance to the group's range; ties go to the older group, as the data's README). */
export function ageGroupOf(age: number): number {
  let best = 0;
  let bestDistance = Infinity;
  ADIENCE_GROUPS.forEach(([lo, hi], g) => {
    const d = age < lo ? lo - age : age > hi ? age - hi : 0;
    if (d <= bestDistance) {
      best = g;
      bestDistance = d;
    }
  });
  return best;
}
