// Continual-learning metrics over a task sequence: average accuracy, backward transfer, transfer vs individual networks.

/**
 * Accuracy matrix: `R[i][j]` is the accuracy on task `j` after learning task `i` (tasks in learning order).
 * Entries with `j > i` (tasks not yet learned) may be `null`, `NaN` or absent; entries with `j <= i` must be
 * finite. There are `T = R.length` tasks.
 */
export type AccuracyMatrix = ReadonlyArray<ReadonlyArray<number | null>>;

/** All continual metrics at once. */
export interface ContinualSummary {
  readonly numTasks: number;
  /** Mean of `R[T-1][j]` over all tasks. */
  readonly averageAccuracy: number;
  /** Backward transfer (Lopez-Paz & Ranzato 2017); `NaN` with fewer than two tasks. */
  readonly backwardTransfer: number;
  /** Whether backward transfer is exactly zero (no forgetting at all, as PAE guarantees). */
  readonly noForgetting: boolean;
  /** Present when individual-network accuracies were given. */
  readonly forwardTransfer?: ForwardTransfer;
}

/** Accuracy gained (positive) or lost by learning each task inside the packed network. */
export interface ForwardTransfer {
  /** `R[j][j] - individual[j]` per task. */
  readonly perTask: number[];
  readonly mean: number;
}

/** Read `R[i][j]`, which must be a learned entry (`j <= i`). */
function entry(r: AccuracyMatrix, i: number, j: number): number {
  const v = r[i]?.[j];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`continual: R[${i}][${j}] must be a finite accuracy, got ${v === undefined ? 'nothing' : v}`);
  }
  return v;
}

function numTasks(r: AccuracyMatrix): number {
  if (r.length === 0) throw new Error('continual: accuracy matrix has no tasks');
  return r.length;
}

/** Average accuracy over all tasks after learning the last one: mean over j of `R[T-1][j]`. */
export function averageAccuracy(r: AccuracyMatrix): number {
  const t = numTasks(r);
  let sum = 0;
  for (let j = 0; j < t; j++) sum += entry(r, t - 1, j);
  return sum / t;
}

/**
 * Per-task change since each task was learned: `R[T-1][j] - R[j][j]` for `j < T-1`.
 * Negative values are forgetting.
 */
export function backwardTransferPerTask(r: AccuracyMatrix): number[] {
  const t = numTasks(r);
  const out: number[] = [];
  for (let j = 0; j < t - 1; j++) out.push(entry(r, t - 1, j) - entry(r, j, j));
  return out;
}

/**
 * True iff every earlier task kept exactly its accuracy: `R[T-1][j] === R[j][j]` for all `j < T-1`.
 * Compare accuracies computed the same way (e.g. correct/total) so equal predictions give identical numbers.
 */
export function hasNoForgetting(r: AccuracyMatrix): boolean {
  const t = numTasks(r);
  for (let j = 0; j < t - 1; j++) if (entry(r, t - 1, j) !== entry(r, j, j)) return false;
  return true;
}

/**
 * Backward transfer, BWT = mean over `j < T-1` of `(R[T-1][j] - R[j][j])` (Lopez-Paz & Ranzato 2017).
 * Returns exactly `0` when {@link hasNoForgetting} holds, so a PAE claim of zero forgetting can be checked
 * with `=== 0` and never trips on summation noise. `NaN` with a single task (the mean is over no tasks).
 */
export function backwardTransfer(r: AccuracyMatrix): number {
  const t = numTasks(r);
  if (t < 2) return NaN;
  if (hasNoForgetting(r)) return 0;
  let sum = 0;
  for (const d of backwardTransferPerTask(r)) sum += d;
  return sum / (t - 1);
}

/**
 * Forward transfer against individually trained networks: `FWT_j = R[j][j] - individual[j]`.
 *
 * This is NOT Lopez-Paz & Ranzato's FWT (which compares `R[j-1][j]` with a random-init baseline). It is the
 * comparison PAE reports: how a task learned inside the shared, packed network does versus a separate
 * network trained on that task alone. Positive means the earlier tasks helped.
 *
 * @param individual - accuracy of the separately trained network for each task, in the same task order.
 * @throws if `individual` does not have one finite entry per task.
 */
export function forwardTransferVsIndividual(r: AccuracyMatrix, individual: ArrayLike<number>): ForwardTransfer {
  const t = numTasks(r);
  if (individual.length !== t) throw new Error(`continual: ${individual.length} individual accuracies for ${t} tasks`);
  const perTask: number[] = [];
  let sum = 0;
  for (let j = 0; j < t; j++) {
    const b = individual[j]!;
    if (!Number.isFinite(b)) throw new Error(`continual: individual accuracy of task ${j} is not finite (${b})`);
    const d = entry(r, j, j) - b;
    perTask.push(d);
    sum += d;
  }
  return { perTask, mean: sum / t };
}

/** Compute all continual metrics; forward transfer only when `individual` is given. */
export function summarizeContinual(r: AccuracyMatrix, individual?: ArrayLike<number>): ContinualSummary {
  const base = {
    numTasks: numTasks(r),
    averageAccuracy: averageAccuracy(r),
    backwardTransfer: backwardTransfer(r),
    noForgetting: hasNoForgetting(r),
  };
  return individual === undefined ? base : { ...base, forwardTransfer: forwardTransferVsIndividual(r, individual) };
}
