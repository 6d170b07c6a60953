// The unified model: a packed network plus the manifest that says what every task is and how it was made.
import type { WeightStorage } from './compact-storage.ts';
import { PaenetError } from '../common/errors.ts';
import type { BackboneConfig } from './config.ts';
import type { HeadSpec, SlotOptions } from './network.ts';
import { PackableNet } from './network.ts';
import type { Sharing } from './packable-layer.ts';
import type { RatioRecord } from './pruner.ts';
import type { PackResult } from './strategy.ts';

/** Where a task's accuracy goal came from. */
export interface GoalRecord {
  /** The goal, or null when none was set. */
  value: number | null;
  /** 'trained': the task's own unpruned accuracy minus `margin` (no individual network). */
  source: 'number' | 'individual' | 'trained' | 'none';
  /** The individual network's score, when measured. */
  individual?: number;
  /** Subtracted from the individual (or trained) score. */
  margin?: number;
}

/** Everything the model file records about one task (input transform and frozen BN: see {@link SlotOptions}). */
export interface TaskRecord extends SlotOptions {
  id: number;
  name: string;
  /** Task family, e.g. 'classify' or 'identity' (interpreted by src/tasks, not by PAE). */
  kind: string;
  /** Class names (identity tasks: the training identities, or empty). */
  labels: string[];
  head: HeadSpec;
  sharing: Sharing;
  /** Expansion level the task computes at. */
  level: number;
  goal: GoalRecord;
  /** Validation metric at the kept ratio, and right after training. */
  metric: { name: string; value: number; trained: number };
  pruning: { records: RatioRecord[]; ratio: number; reason: string };
  expansions: number;
  decisions: string[];
  /** ISO date the task was added. */
  date: string;
  /** Data provenance: manifest, columns, counts. */
  data: Record<string, unknown>;
  /** Kind-specific settings needed at inference (input size, normalisation, verification threshold …). */
  extra: Record<string, unknown>;
  /** Set only in add-task checkpoints: the task is still being packed. */
  status?: 'in-progress';
}

export interface Provenance {
  paenetVersion: string;
  torchVersion: string;
  created: string;
  host?: string;
  /** How a shipped model was built (recipe, data, compute time): written when it is shipped, opaque to PAE. */
  build?: Record<string, unknown>;
}

/** A packed network and its task records. */
export class PaeModel {
  constructor(
    readonly net: PackableNet,
    readonly tasks: TaskRecord[],
    readonly provenance: Provenance,
  ) {}

  /** How the file it was read from stores its weights ('fp32' for a model built in memory): the ledger counts that way. */
  weightStorage: WeightStorage = 'fp32';

  /** A new model with an empty backbone. */
  static create(config: BackboneConfig, provenance: Provenance): PaeModel {
    return new PaeModel(PackableNet.create(config), [], provenance);
  }

  get config(): BackboneConfig {
    return this.net.config;
  }

  /** The task named `name`; throws listing the known names. */
  task(name: string): TaskRecord {
    const t = this.tasks.find((x) => x.name === name);
    if (!t)
      throw new PaenetError(
        'PAENET_INPUT',
        `the model has no task '${name}' (tasks: ${this.tasks.map((x) => x.name).join(', ') || 'none'})`,
        'name one of the tasks listed (`paenet info MODEL` describes them)',
      );
    return t;
  }

  /**
   * The input side in pixels task `t` computes at: each task may run at its own resolution (identity at 224 px,
   * expression at 112 px: FER faces are 48 px), recorded in its `extra.inputSize`; older records use the backbone's.
   */
  inputSizeOf(t: TaskRecord | string): number {
    const rec = typeof t === 'string' ? this.task(t) : t;
    const s = rec.extra.inputSize;
    return typeof s === 'number' && Number.isInteger(s) && s > 0 ? s : this.config.inputSize;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** What a caller knows about a task before packing it. */
export interface TaskDescription {
  name: string;
  kind: string;
  labels: string[];
  head: HeadSpec;
  goal: GoalRecord;
  metricName: string;
  data?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** The manifest record of a task that `packTask` has just added to `model.net`. */
export function taskRecord(model: PaeModel, d: TaskDescription, r: PackResult): TaskRecord {
  const slot = model.net.slot(r.task);
  return {
    id: r.task,
    name: d.name,
    kind: d.kind,
    labels: d.labels,
    head: slot.head,
    sharing: slot.sharing,
    level: slot.level,
    ...slotOptions(slot),
    goal: d.goal,
    metric: { name: d.metricName, value: r.accuracy, trained: r.trainedAccuracy },
    pruning: { records: r.records, ratio: r.ratio, reason: r.decisions.at(-1) ?? '' },
    expansions: r.expansions,
    decisions: r.decisions,
    date: new Date().toISOString(),
    data: d.data ?? {},
    extra: d.extra ?? {},
  };
}

/** The optional per-task settings of a slot, without undefined keys (the manifest stays minimal). */
export function slotOptions(o: SlotOptions): SlotOptions {
  return { ...(o.input ? { input: o.input } : {}), ...(o.frozenNorm ? { frozenNorm: true } : {}) };
}
