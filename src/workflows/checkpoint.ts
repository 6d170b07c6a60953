// add-task checkpoints: the model mid-cycle, the pruning candidate and where the cycle stands, so a crash loses little.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, type Tensor } from '../engine/index.ts';
import { writeFileAtomicSync } from '../io/atomic-write.ts';
import { decodeSafetensors, encodeSafetensors, typedFromRecord, type TensorRecord } from '../io/safetensors.ts';
import {
  loadModel,
  saveModel,
  Snapshot,
  type GoalRecord,
  type HeadSpec,
  type PackCheckpoint,
  type PackResume,
  type PaeModel,
  type RatioRecord,
  type TaskRecord,
} from '../pae/index.ts';

/** resume.json: everything but tensors. */
export interface CheckpointState {
  version: 1;
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
}

/** Writes and reads one task's checkpoints in a folder (default: MODEL.<task>.ckpt/ beside the model). */
export class CheckpointDir {
  private step = 0;
  private candidateFile: string | undefined;

  constructor(readonly dir: string) {}

  exists(): boolean {
    return existsSync(join(this.dir, 'resume.json'));
  }

  /**
   * Saves a resumable point. Files of a step get new names and resume.json (written last, atomically) names them,
   * so a crash at any moment leaves a consistent older or newer checkpoint.
   */
  save(model: PaeModel, provisional: TaskRecord, goal: GoalRecord, c: PackCheckpoint): void {
    mkdirSync(this.dir, { recursive: true });
    this.step++;
    const stateFile = `state-${this.step}.pae`;
    const previous = this.read();
    if (c.pruning?.candidateChanged || (c.pruning && !this.candidateFile)) {
      this.candidateFile = `candidate-${this.step}.safetensors`;
      writeSnapshot(join(this.dir, this.candidateFile), c.pruning.candidate);
    }
    model.tasks.push({ ...provisional, status: 'in-progress' });
    try {
      saveModel(model, join(this.dir, stateFile));
    } finally {
      model.tasks.pop();
    }
    const state: CheckpointState = {
      version: 1,
      taskName: provisional.name,
      taskId: provisional.id,
      goal,
      stage: c.stage,
      step: this.step,
      trainedAccuracy: c.trainedAccuracy,
      expansions: c.expansions,
      decisions: c.decisions,
      stateFile,
      ...(c.pruning ? { records: c.pruning.records, candidateRatio: c.pruning.candidateRatio, candidateFile: this.candidateFile } : {}),
    };
    writeFileAtomicSync(join(this.dir, 'resume.json'), Buffer.from(JSON.stringify(state, null, 2)));
    // Files the new resume.json no longer names can go.
    if (previous && previous.stateFile !== stateFile) rmSync(join(this.dir, previous.stateFile), { force: true });
    if (previous?.candidateFile && previous.candidateFile !== this.candidateFile)
      rmSync(join(this.dir, previous.candidateFile), { force: true });
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
    if (state?.version !== 1 || typeof state.stateFile !== 'string' || typeof state.taskName !== 'string') {
      throw new Error(`${p}: not a version-1 checkpoint state (delete the folder to start over)`);
    }
    return state as CheckpointState;
  }

  /** The model as checkpointed (the in-progress task removed from its records, kept in the network) and how to resume. */
  load(): { model: PaeModel; state: CheckpointState; resume: PackResume; head: HeadSpec; provisional: TaskRecord } {
    const state = this.read();
    if (!state) throw new Error(`${this.dir}: no checkpoint to resume (resume.json missing)`);
    const model = loadModel(join(this.dir, state.stateFile));
    const k = model.tasks.findIndex((t) => t.status === 'in-progress');
    if (k < 0) throw new Error(`${this.dir}: checkpoint has no in-progress task`);
    const [provisional] = model.tasks.splice(k, 1);
    this.step = state.step;
    this.candidateFile = state.candidateFile;
    const resume: PackResume = { trainedAccuracy: state.trainedAccuracy, expansions: state.expansions, decisions: state.decisions };
    if (state.stage === 'pruning' && state.records && state.candidateFile && state.candidateRatio !== undefined) {
      resume.pruning = {
        records: state.records,
        candidateRatio: state.candidateRatio,
        candidate: readSnapshot(join(this.dir, state.candidateFile), state.taskId),
      };
    }
    const { status: _inProgress, ...record } = provisional!;
    return { model, state, resume, head: provisional!.head, provisional: record };
  }

  /** Removes the folder once the task is safely in the model file. */
  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function writeSnapshot(path: string, s: Snapshot): void {
  const records = new Map<string, TensorRecord>();
  for (const [k, t] of s.tensors()) {
    const d = t.data();
    records.set(k, {
      dtype: t.dtype === 'uint8' ? 'U8' : 'F32',
      shape: t.shape,
      data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
    });
  }
  writeFileAtomicSync(path, encodeSafetensors(records));
}

function readSnapshot(path: string, task: number): Snapshot {
  const { tensors } = decodeSafetensors(readFileSync(path), path);
  const out = new Map<string, Tensor>();
  for (const [k, r] of tensors) out.set(k, tensor(typedFromRecord(r), r.shape));
  return Snapshot.fromTensors(out, [task]);
}
