#!/usr/bin/env node
// The paenet command: runs the TypeScript CLI through tsx (no build step).
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
const { register } = await import('tsx/esm/api');
register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
