// Progress bars for long steps: cli-progress on a terminal, sparse plain lines otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';
import type { ProgressSink } from '../pae/index.ts';

/** A progress sink on stderr (stdout stays clean for --json). */
export function terminalProgress(enabled = true): ProgressSink {
  if (!enabled) return { start() {}, tick() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: '{label} [{bar}] {value}/{total} {info}', hideCursor: true, clearOnComplete: false, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    let done = 0;
    return {
      start(label, total) {
        done = 0;
        bar.start(Math.max(1, total), 0, { label, info: '' });
      },
      tick(info) {
        done++;
        bar.update(done, {
          info: info
            ? Object.entries(info)
                .map(([k, v]) => `${k} ${v}`)
                .join(' ')
            : '',
        });
      },
      stop() {
        bar.stop();
      },
    };
  }
  // Not a terminal: one line when a step starts and one when it ends, with the last reported values.
  let label = '';
  let total = 0;
  let done = 0;
  let last = '';
  let t0 = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      t0 = Date.now();
    },
    tick(info) {
      done++;
      if (info)
        last = Object.entries(info)
          .map(([k, v]) => `${k} ${v}`)
          .join(' ');
    },
    stop() {
      process.stderr.write(`${label}: ${done}/${total} in ${((Date.now() - t0) / 1000).toFixed(1)} s ${last}`.trimEnd() + '\n');
    },
  };
}
