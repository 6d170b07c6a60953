// Fresh processes draw the same random numbers: the engine seeds libtorch's generators when it loads, so weights
// created before any explicit seed (a new model, an experiment's first method) are the same on every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const engine = new URL('../../src/engine/index.ts', import.meta.url).href;

/** The first random draws of a fresh process, after `before` (JS statements run with the engine as `e`). */
function draws(before = ''): string {
  const code = `const e = await import(${JSON.stringify(engine)}); ${before}; console.log(e.randn([6]).toArray().join(','));`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' }).trim();
}

test('two fresh processes draw the same numbers without seeding; another seed draws others', () => {
  const first = draws();
  assert.equal(first.split(',').length, 6);
  assert.equal(draws(), first, 'same draws in a second process');
  assert.equal(draws('e.manualSeed(e.DEFAULT_SEED)'), first, 'the load-time seed is DEFAULT_SEED');
  assert.notEqual(draws('e.manualSeed(1)'), first, 'a different seed draws differently');
});
