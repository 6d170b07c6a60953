// What the PAE cycle reports: machine-readable events (JSONL) and progress for long steps.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One record of the event log. Every decision the method takes is an event with a reason. */
export type PaeEvent =
  | { type: 'task-start'; task: number; name: string; goal: number | null }
  | { type: 'epoch'; task: number; phase: 'train' | 'prune'; epoch: number; loss: number; accuracy: number; lr: number; ratio?: number }
  | { type: 'prune-step'; task: number; ratio: number; realised: number; accuracy: number }
  | { type: 'decision'; task: number; decision: string; reason: string }
  | { type: 'expand'; task: number; level: number; sizeRatio: number; weightsBefore: number; weightsAfter: number }
  | { type: 'task-end'; task: number; accuracy: number; ratio: number; ownedWeights: number };

/** Receives events; the CLI writes them as JSONL and prints the decisions. */
export interface EventSink {
  emit(event: PaeEvent): void;
}

/** Progress of a long step (epochs, batches). The CLI renders bars; the default does nothing. */
export interface ProgressSink {
  start(label: string, total: number): void;
  tick(info?: Record<string, string | number>): void;
  stop(): void;
}

export const silentProgress: ProgressSink = { start() {}, tick() {}, stop() {} };

/** Writes each event as one JSON line with a timestamp; also forwards to `next`. */
export class JsonlEventLog implements EventSink {
  readonly events: PaeEvent[] = [];
  constructor(
    private readonly path: string | null,
    private readonly next?: EventSink,
  ) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }
  emit(event: PaeEvent): void {
    this.events.push(event);
    if (this.path) appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    this.next?.emit(event);
  }
}

/** Keeps events in memory only (tests, library use). */
export class MemoryEventLog extends JsonlEventLog {
  constructor(next?: EventSink) {
    super(null, next);
  }
}
