// The addon's caching CPU allocator: large freed buffers are reused, the cache empties on request, values stay right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheStats, emptyCache, full, tidy } from '../../src/engine/index.ts';

test('a freed large buffer is reused for the next same-sized tensor', () => {
  emptyCache();
  const before = cacheStats().hits;
  const a = full([512, 1024], 1); // 2 MiB: above the cache's 256 KiB floor
  a.dispose();
  assert.ok(cacheStats().cachedBytes >= 2 * 1024 * 1024, 'the freed buffer was cached');
  const b = full([512, 1024], 3);
  assert.equal(cacheStats().hits, before + 1, 'the second tensor took the cached buffer');
  // A reused buffer must hold the new values, not the old ones.
  assert.equal(
    tidy(() => b.sum().item()),
    3 * 512 * 1024,
  );
  b.dispose();
});

test('emptyCache returns every cached byte; small tensors are never cached', () => {
  full([256, 1024], 0).dispose();
  assert.ok(cacheStats().cachedBytes > 0);
  emptyCache();
  assert.equal(cacheStats().cachedBytes, 0);
  full([16], 0).dispose();
  assert.equal(cacheStats().cachedBytes, 0);
});
