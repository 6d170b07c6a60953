// Tests of the RFC-4180 CSV parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from '../../src/data/csv.ts';

test('plain rows, trailing newline optional', () => {
  assert.deepEqual(parseCsv('a,b\n1,2\n3,4\n'), {
    header: ['a', 'b'],
    rows: [
      ['1', '2'],
      ['3', '4'],
    ],
    lines: [2, 3],
  });
  assert.deepEqual(parseCsv('a,b\n1,2').rows, [['1', '2']]);
});

test('quotes: commas, escaped quotes, newlines inside, empty quoted field', () => {
  const t = parseCsv('x,y,z\n"a,b","say ""hi""","line1\nline2"\n"",2,\n');
  assert.deepEqual(t.rows, [
    ['a,b', 'say "hi"', 'line1\nline2'],
    ['', '2', ''],
  ]);
  assert.deepEqual(t.lines, [2, 4]);
});

test('CRLF, lone CR, BOM and blank lines', () => {
  const t = parseCsv('\uFEFFpath,label\r\na.jpg,1\r\n\r\nb.jpg,2\rc.jpg,3');
  assert.deepEqual(t.header, ['path', 'label']);
  assert.deepEqual(t.rows, [
    ['a.jpg', '1'],
    ['b.jpg', '2'],
    ['c.jpg', '3'],
  ]);
  assert.deepEqual(t.lines, [2, 4, 5]);
});

test('empty fields are kept, including a trailing one', () => {
  assert.deepEqual(parseCsv('a,b,c\n,,\n1,,3\n').rows, [
    ['', '', ''],
    ['1', '', '3'],
  ]);
});

test('malformed input gives one line naming the source', () => {
  assert.throws(() => parseCsv('a\n"open', 'm.csv'), { message: 'm.csv:2: unterminated quoted field' });
  assert.throws(() => parseCsv('a\nx"y', 'm.csv'), { message: 'm.csv:2: quote inside an unquoted field' });
  assert.throws(() => parseCsv('a\n"x"y', 'm.csv'), { message: 'm.csv:2: unexpected character after closing quote' });
  assert.throws(() => parseCsv('', 'm.csv'), { message: 'm.csv: empty file (no header row)' });
});
