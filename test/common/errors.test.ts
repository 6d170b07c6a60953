// The error codes are a contract with scripts and HTTP clients: each code maps to one HTTP status and one exit
// code (pinned here), the mapping reads only the code, and every error is one line with a hint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultHint, ERROR_CODES, errorCode, exitCode, httpStatus, PaenetError } from '../../src/common/errors.ts';

// Spelled out, not derived from the table: changing one is a breaking change and must fail here.
const CONTRACT: Record<string, [status: number, exit: number]> = {
  PAENET_INTERNAL: [500, 1],
  PAENET_INPUT: [400, 2],
  PAENET_NOT_FOUND: [404, 3],
  PAENET_MODEL_FILE: [500, 4],
  PAENET_DATA: [422, 5],
  PAENET_IMAGE: [422, 6],
  PAENET_UNSUPPORTED: [422, 7],
  PAENET_MEDIA_TYPE: [415, 8],
  PAENET_TOO_LARGE: [413, 9],
  PAENET_BUSY: [503, 10],
};

test('each code maps to its pinned HTTP status and exit code; exit codes are distinct', () => {
  assert.deepEqual([...ERROR_CODES].sort(), Object.keys(CONTRACT).sort());
  for (const code of ERROR_CODES) assert.deepEqual([httpStatus(code), exitCode(code)], CONTRACT[code], code);
  assert.equal(new Set(ERROR_CODES.map(exitCode)).size, ERROR_CODES.length, 'a script can tell every code apart');
});

test('the status comes from the code, never from the message', () => {
  // A message that reads like another code's problem keeps its own code's status.
  const e = new PaenetError('PAENET_INPUT', 'upload: image too large, not found, busy');
  assert.equal(httpStatus(errorCode(e)), 400);
  assert.equal(exitCode(errorCode(e)), 2);
  // Anything that is not a PaenetError is an internal error, whatever it says.
  assert.equal(errorCode(new Error('x.pae: no such model file')), 'PAENET_INTERNAL');
  assert.equal(errorCode('a thrown string'), 'PAENET_INTERNAL');
});

test("a PaenetError is one line and always carries a hint: its own, or its code's", () => {
  const own = new PaenetError('PAENET_DATA', 'a.csv:3: 2 fields, the header has 3\n    at parse (csv.ts:1)', 'add the missing field');
  assert.equal(own.message, 'a.csv:3: 2 fields, the header has 3');
  assert.equal(own.hint, 'add the missing field');
  assert.equal(own.code, 'PAENET_DATA');
  assert.ok(own instanceof Error && own.name === 'PaenetError');
  const fallback = new PaenetError('PAENET_NOT_FOUND', 'x.jpg: image file not found');
  assert.equal(fallback.hint, defaultHint('PAENET_NOT_FOUND'));
  for (const code of ERROR_CODES) assert.ok(defaultHint(code).length > 10 && !defaultHint(code).includes('\n'), code);
});
