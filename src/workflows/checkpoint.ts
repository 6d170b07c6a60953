// add-task checkpoints: the model mid-cycle, the pruning candidate and where the cycle stands, so a crash loses little:
// at most one epoch, since training (of the task, and of each pruning step) is checkpointed after every epoch.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dispose, rngState, setRngState, world } from '../engine/index.ts';
import { writeFileAtomicSync } from '../io/atomic-write.ts';
import {
  loadModel,
  saveModel,
  type GoalRecord,
  type HeadSpec,
  type PackCheckpoint,
  type PackResume,
  type PaeModel,
  type RatioRecord,
  type Snapshot,
  type TaskRecord,
} from '../pae/index.ts';
import { disposeProgress, type TrainProgress } from '../pae/trainer.ts';
import { readSnapshot, readTensors, writeSnapshot, writeTensors } from './checkpoint-tensors.ts';

/** resume.json: everything but tensors. */
export interface CheckpointState {
  /** 2 since checkpoints inside training; version 1 (stages 'trained' and 'pruning' only) is still read. */
  version: 1 | 2;
  taskName: string;
  taskId: number;
  goal: GoalRecord;
  stage: PackCheckpoint['stage'];
  step: number;
  trainedAccuracy: number;
  expansions: number;
  decisions: string[];
  records?: RatioRecord[];
  candidateRatio?: number;
  /** Files of this step, relative to the checkpoint folder. */
  stateFile: string;
  candidateFile?: string;
  /** The global generator's state (base64), so dropout after a resume draws as the uninterrupted run did. */
  rng?: string;
  /** Training stopped between two epochs: the task's (stage 'training') or a pruning step's (stage 'pruning'). */
  training?: TrainingState;
  /** Stage 'training': the network before the task, when the attempt may still end in an expansion. */
  pretaskFile?: string;
}

/** Where a training run stands (see TrainProgress); its tensors are in the files it names. */
export interface TrainingState {
  /** Inside a pruning step: the step's ratio. */
  ratio?: number;
  epoch: number;
  iteration: number;
  /** Meaningless while `bestEpoch` is -1 (no epoch kept yet: the best is -Infinity, which JSON cannot hold). */
  best: number | null;
  bestEpoch: number;
  bad: number;
  plateaus: number;
  /** JSON writes a NaN (an epoch without batches) as null. */
  history: { epoch: number; loss: number | null; accuracy: number | null; lr: number }[];
  bestFile?: string;
  /** The optimizer's state tensors, and its scalars beside them. */
  optimizerFile: string;
  lrs: number[];
  stepCount: number;
  counters: Record<string, number>;
}

/** The files a state names (the ones a newer state no longer names can go). */
function filesOf(s: CheckpointState): string[] {
  return [s.stateFile, s.candidateFile, s.pretaskFile, s.training?.bestFile, s.training?.optimizerFile].filter(
    (f): f is string => f !== undefined,
  );
}

/** Frees what a loaded checkpoint holds when it is not resumed after all (the cycle frees it otherwise). */
export function disposeLoaded(loaded: { model: PaeModel; resume: PackResume }): void {
  const r = loaded.resume;
  r.training?.pretask?.dispose();
  if (r.training) disposeProgress(r.training.progress);
  r.pruning?.candidate.dispose();
  if (r.pruning?.step) disposeProgress(r.pruning.step.progress);
  loaded.model.dispose();
}

/** Where a checkpoint stands, for the note a resume prints: e.g. "stage training, after epoch 3". */
export function describeCheckpoint(s: CheckpointState): string {
  const parts = [`stage ${s.stage}`];
  if (s.stage === 'pruning') parts.push(`${s.records?.length ?? 0} pruning records`);
  const t = s.training;
  if (t) parts.push(`${t.ratio !== undefined ? `inside the step to ratio ${t.ratio}, ` : ''}after epoch ${t.epoch}`);
  return parts.join(', ');
}

/** Writes and reads one task's checkpoints in a folder (default: MODEL.<task>.ckpt/ beside the model). */
export class CheckpointDir {
  private step = 0;
  /** Snapshots already on disk (the candidate, best epoch and pre-task state live across many checkpoints). */
  private readonly snapshotFiles = new WeakMap<Snapshot, string>();

  constructor(readonly dir: string) {}

  exists(): boolean {
    return existsSync(join(this.dir, 'resume.json'));
  }

  /**
   * Saves a resumable point. Files of a step get new names and resume.json (written last, atomically) names them,
   * so a crash at any moment leaves a consistent older or newer checkpoint. The global generator is left as it was
   * found, whatever saving may draw from it, so a run that checkpoints is the run that does not, and the state
   * recorded is the one the run goes on from. Data-parallel, only rank 0 writes (the ranks hold the same state, and
   * a resume reads rank 0's folder on every rank); elsewhere this does nothing.
   */
  save(model: PaeModel, provisional: TaskRecord, goal: GoalRecord, c: PackCheckpoint): void {
    if (!world().isMain) return;
    const rng = rngState();
    try {
      this.write(model, provisional, goal, c, rng);
    } finally {
      setRngState(rng);
    }
  }

  private write(model: PaeModel, provisional: TaskRecord, goal: GoalRecord, c: PackCheckpoint, rng: Uint8Array): void {
    mkdirSync(this.dir, { recursive: true });
    this.step++;
    const stateFile = `state-${this.step}.pae`;
    const previous = this.read();
    const step = c.pruning?.step;
    const training = c.training?.progress ?? step?.progress;
    const state: CheckpointState = {
      version: 2,
      taskName: provisional.name,
      taskId: provisional.id,
      goal,
      stage: c.stage,
      step: this.step,
      trainedAccuracy: c.trainedAccuracy,
      expansions: c.expansions,
      decisions: c.decisions,
      stateFile,
      rng: Buffer.from(rng).toString('base64'),
      ...(c.pruning
        ? {
            records: c.pruning.records,
            candidateRatio: c.pruning.candidateRatio,
            candidateFile: this.snapshotFile(c.pruning.candidate, 'candidate'),
          }
        : {}),
      ...(training ? { training: this.writeTraining(training, step?.ratio) } : {}),
      ...(c.training?.pretask ? { pretaskFile: this.snapshotFile(c.training.pretask, 'pretask') } : {}),
    };
    model.tasks.push({ ...provisional, status: 'in-progress' });
    try {
      saveModel(model, join(this.dir, stateFile));
    } finally {
      model.tasks.pop();
    }
    writeFileAtomicSync(join(this.dir, 'resume.json'), Buffer.from(JSON.stringify(state, null, 2)));
    const named = new Set(filesOf(state));
    for (const f of previous ? filesOf(previous) : []) if (!named.has(f)) rmSync(join(this.dir, f), { force: true });
  }

  read(): CheckpointState | null {
    const p = join(this.dir, 'resume.json');
    if (!existsSync(p)) return null;
    let state: Partial<CheckpointState> | null;
    try {
      state = JSON.parse(readFileSync(p, 'utf8')) as Partial<CheckpointState> | null;
    } catch {
      throw new Error(`${p}: unreadable checkpoint state (delete the folder to start over)`);
    }
    if ((state?.version !== 1 && state?.version !== 2) || typeof state.stateFile !== 'string' || typeof state.taskName !== 'string') {
      throw new Error(`${p}: not a checkpoint state of this paenet (version 1 or 2; delete the folder to start over)`);
    }
    return state as CheckpointState;
  }

  /**
   * The model as checkpointed (the in-progress task removed from its records, kept in the network) and how to
   * resume. The resume's tensors (snapshots, optimizer state) are the caller's until it hands them to the cycle.
   */
  load(): { model: PaeModel; state: CheckpointState; resume: PackResume; head: HeadSpec; provisional: TaskRecord } {
    const state = this.read();
    if (!state) throw new Error(`${this.dir}: no checkpoint to resume (resume.json missing)`);
    if (state.stage === 'training' && !state.training) throw new Error(`${this.dir}: a 'training' checkpoint without its training state`);
    const model = loadModel(join(this.dir, state.stateFile));
    const k = model.tasks.findIndex((t) => t.status === 'in-progress');
    if (k < 0) throw new Error(`${this.dir}: checkpoint has no in-progress task`);
    const [provisional] = model.tasks.splice(k, 1);
    this.step = state.step;
    const resume: PackResume = {
      trainedAccuracy: state.trainedAccuracy,
      expansions: state.expansions,
      decisions: state.decisions,
      ...(state.rng ? { rng: new Uint8Array(Buffer.from(state.rng, 'base64')) } : {}),
    };
    if (state.stage === 'training') {
      resume.training = {
        progress: this.readTraining(state.training!, state.taskId),
        pretask: state.pretaskFile ? this.readSnapshotFile(state.pretaskFile, []) : null,
      };
    }
    if (state.stage === 'pruning' && state.records && state.candidateFile && state.candidateRatio !== undefined) {
      const t = state.training;
      resume.pruning = {
        records: state.records,
        candidateRatio: state.candidateRatio,
        candidate: this.readSnapshotFile(state.candidateFile, [state.taskId]),
        ...(t?.ratio !== undefined ? { step: { ratio: t.ratio, progress: this.readTraining(t, state.taskId) } } : {}),
      };
    }
    const { status: _inProgress, ...record } = provisional!;
    return { model, state, resume, head: provisional!.head, provisional: record };
  }

  /** Removes the folder once the task is safely in the model file (rank 0's to remove, as it wrote it). */
  clear(): void {
    if (!world().isMain) return;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The file holding `s`: written under a new name the first time this folder sees it, reused afterwards. */
  private snapshotFile(s: Snapshot, prefix: string): string {
    const known = this.snapshotFiles.get(s);
    if (known && existsSync(join(this.dir, known))) return known;
    const name = `${prefix}-${this.step}.safetensors`;
    writeSnapshot(join(this.dir, name), s);
    this.snapshotFiles.set(s, name);
    return name;
  }

  private readSnapshotFile(name: string, tasks: number[]): Snapshot {
    const s = readSnapshot(join(this.dir, name), tasks);
    this.snapshotFiles.set(s, name);
    return s;
  }

  private writeTraining(p: TrainProgress, ratio: number | undefined): TrainingState {
    const optimizerFile = `optimizer-${this.step}.safetensors`;
    writeTensors(join(this.dir, optimizerFile), p.optimizer.tensors);
    return {
      ...(ratio !== undefined ? { ratio } : {}),
      epoch: p.epoch,
      iteration: p.iteration,
      best: p.bestEpoch < 0 ? null : p.best,
      bestEpoch: p.bestEpoch,
      bad: p.bad,
      plateaus: p.plateaus,
      history: p.history,
      ...(p.bestState ? { bestFile: this.snapshotFile(p.bestState, 'best') } : {}),
      optimizerFile,
      lrs: p.optimizer.lrs,
      stepCount: p.optimizer.stepCount,
      counters: p.optimizer.counters,
    };
  }

  private readTraining(t: TrainingState, task: number): TrainProgress {
    const tensors = readTensors(join(this.dir, t.optimizerFile));
    let bestState: Snapshot | null;
    try {
      bestState = t.bestFile ? this.readSnapshotFile(t.bestFile, [task]) : null;
    } catch (e) {
      dispose(tensors);
      throw e;
    }
    const num = (x: number | null): number => x ?? NaN;
    return {
      epoch: t.epoch,
      iteration: t.iteration,
      best: t.bestEpoch < 0 ? -Infinity : num(t.best),
      bestEpoch: t.bestEpoch,
      bad: t.bad,
      plateaus: t.plateaus,
      history: t.history.map((h) => ({ epoch: h.epoch, loss: num(h.loss), accuracy: num(h.accuracy), lr: h.lr })),
      bestState,
      optimizer: { lrs: t.lrs, stepCount: t.stepCount, tensors, counters: t.counters },
    };
  }
}
