// Minimal RFC-4180 CSV parser (quotes, escaped quotes, separators/newlines in quotes, CRLF, BOM).
import { PaenetError } from '../common/errors.ts';

/** A parsed CSV file: the header row, the data rows, and the 1-based line where each row starts. */
export interface CsvTable {
  header: string[];
  rows: string[][];
  /** `lines[i]` is the file line on which `rows[i]` starts (for error messages). */
  lines: number[];
}

/**
 * Parses CSV text. The first record is the header. Blank lines are skipped; a trailing newline is
 * optional. Throws one line naming `source` for an unterminated quote or a stray quote in an
 * unquoted field. Rows are returned as written: callers check field counts.
 */
export function parseCsv(text: string, source = 'csv'): CsvTable {
  const records: string[][] = [];
  const starts: number[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const recordLine = line;
    const blank = text[i] === '\n' || text[i] === '\r';
    const record: string[] = [];
    // One record: fields separated by commas, ended by \n, \r\n, \r or end of text.
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new PaenetError('PAENET_DATA', `${source}:${quoteLine}: unterminated quoted field`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        const after = text[i];
        if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
          throw new PaenetError('PAENET_DATA', `${source}:${line}: unexpected character after closing quote`);
        }
      } else {
        const start = i;
        while (i < n) {
          const c = text[i];
          if (c === ',' || c === '\n' || c === '\r') break;
          if (c === '"') throw new PaenetError('PAENET_DATA', `${source}:${line}: quote inside an unquoted field`);
          i++;
        }
        field = text.slice(start, i);
      }
      record.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    // A blank line parses as one empty field; skip it rather than report a malformed row.
    if (blank) continue;
    records.push(record);
    starts.push(recordLine);
  }
  const header = records.shift();
  starts.shift();
  if (header === undefined) throw new PaenetError('PAENET_DATA', `${source}: empty file (no header row)`);
  return { header, rows: records, lines: starts };
}
