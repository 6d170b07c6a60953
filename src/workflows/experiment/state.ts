// Experiment checkpoints: each method's model after its last finished task, and the numbers measured so far.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../io/atomic-write.ts';
import { loadModel, saveModel, type PaeModel } from '../../pae/index.ts';
import type { ExperimentConfig, TaskOutcome } from './config.ts';

/** What a method has measured so far (everything but the model). */
export interface MethodProgress {
  /** Tasks finished. */
  done: number;
  rows: (number | null)[][];
  seconds: number[];
  sizes: number[];
  weights: number[];
  /** PAE only: the individual network behind each goal. */
  individual: { score: number; seconds: number; bytes: number; weights: number }[];
  /** PAE only: the paper-style outcome per task. */
  outcomes: TaskOutcome[];
}

interface StateFile {
  version: 1;
  /** sha256 of the config: a changed config never resumes an old run. */
  config: string;
  methods: Record<string, { model: string; progress: MethodProgress }>;
}

/** The config's identity for resuming (its description and its ship step, which runs after training, may change freely). */
function configHash(cfg: ExperimentConfig): string {
  const { description: _unused, ship: _after, ...rest } = cfg;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** Reads and writes `checkpoints/state.json` and one model file per method; every write is atomic. */
export class ExperimentCheckpoints {
  private readonly hash: string;
  private readonly statePath: string;

  constructor(
    readonly dir: string,
    cfg: ExperimentConfig,
  ) {
    this.hash = configHash(cfg);
    this.statePath = join(dir, 'state.json');
  }

  private read(): StateFile {
    if (!existsSync(this.statePath)) return { version: 1, config: this.hash, methods: {} };
    let s: StateFile;
    try {
      s = JSON.parse(readFileSync(this.statePath, 'utf8')) as StateFile;
    } catch (e) {
      throw new Error(`${this.statePath}: unreadable experiment checkpoint (${(e as Error).message}); delete it to start over`);
    }
    if (s.version !== 1 || typeof s.methods !== 'object') throw new Error(`${this.statePath}: not an experiment checkpoint of this paenet`);
    if (s.config !== this.hash)
      throw new Error(`${this.statePath}: the experiment config changed since this checkpoint; delete ${this.dir} or change "output"`);
    return s;
  }

  /** The method's model and progress after its last finished task, or undefined. */
  load(method: string): { model: PaeModel; progress: MethodProgress } | undefined {
    const entry = this.read().methods[method];
    if (!entry) return undefined;
    const progress = entry.progress;
    // JSON has no NaN: a missing individual score comes back as null.
    for (const x of progress.individual) x.score ??= NaN;
    return { model: loadModel(join(this.dir, entry.model)), progress };
  }

  /** Saves the model under a new name, then points state.json at it, then drops the older file. */
  save(method: string, model: PaeModel, progress: MethodProgress): void {
    mkdirSync(this.dir, { recursive: true });
    const state = this.read();
    const previous = state.methods[method]?.model;
    const file = `${method}-${progress.done}.pae`;
    saveModel(model, join(this.dir, file));
    state.methods[method] = { model: file, progress: structuredClone(progress) };
    writeFileAtomicSync(this.statePath, new TextEncoder().encode(JSON.stringify(state, null, 2)));
    if (previous && previous !== file) rmSync(join(this.dir, previous), { force: true });
  }
}
