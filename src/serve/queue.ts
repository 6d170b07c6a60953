// A bounded work queue: at most `concurrency` jobs run, at most `capacity` wait; beyond that callers are told to
// come back later instead of piling up memory.
import { PaenetError } from '../common/errors.ts';

export class BoundedQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly capacity: number,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Runs `job` when a slot is free; throws PAENET_BUSY at once when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.capacity)
        throw new PaenetError('PAENET_BUSY', `server busy (${this.capacity} requests already waiting)`, 'retry in a moment');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
