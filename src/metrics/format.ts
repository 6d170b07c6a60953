// How numbers read in every human-facing output (the CLI, the experiment report): a fraction as a percentage,
// bytes as the size ledger's megabytes, and the one mark for a missing value. (The web page, browser JavaScript
// that cannot import this, keeps a two-line copy in src/serve/web/app.mjs.)

/** What a missing or NaN number prints as. */
export const MISSING = '–';

/** Decimals and a unit appended after the number (none by default: a table header may carry it). */
export interface NumberFormat {
  digits?: number;
  unit?: string;
}

/** A fraction as a percentage: `percent(0.12345)` is "12.35", `percent(0.5, { unit: '%' })` is "50.00%"; {@link MISSING} when absent. */
export function percent(x: number | null | undefined, { digits = 2, unit = '' }: NumberFormat = {}): string {
  return x === null || x === undefined || Number.isNaN(x) ? MISSING : `${(100 * x).toFixed(digits)}${unit}`;
}

/** Bytes in mebibytes (2^20), the unit of the size ledger (written "MB" in tables): `megabytes(3 * 2 ** 20)` is "3.000". */
export function megabytes(bytes: number, { digits = 3, unit = '' }: NumberFormat = {}): string {
  return `${(bytes / 2 ** 20).toFixed(digits)}${unit}`;
}
