// Plain-text tables and the CLI's units on the shared number formats (src/metrics/format.ts), and the parsing of shared option values.
import { megabytes, percent } from '../metrics/format.ts';
import type { RuntimeKind } from '../serve/runtime.ts';

/** Left-aligned columns separated by two spaces. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((x, c) => x.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A fraction as "12.34%" (the number formats live in src/metrics/format.ts). */
export const pct = (x: number | null | undefined): string => percent(x, { unit: '%' });
/** Bytes as "1.234 MB". */
export const mib = (bytes: number): string => megabytes(bytes, { unit: ' MB' });

/** Writes JSON to stdout (the --json contract: stdout holds one JSON document). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress notes for stderr, silent when `quiet` (--json keeps stdout and stderr free of chatter). */
export function stderrNotes(quiet: boolean): (line: string) => void {
  return (line) => void (quiet ? undefined : process.stderr.write(`${line}\n`));
}

/** The --runtime option's value; one line otherwise. */
export function runtimeOption(v: string): RuntimeKind {
  if (v !== 'onnx' && v !== 'libtorch') throw new Error(`paenet: --runtime must be onnx or libtorch, got '${v}'`);
  return v;
}

/** A numeric option's value; one line naming the flag otherwise. */
export function num(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`paenet: ${flag} must be a number, got '${v}'`);
  return n;
}
