#!/usr/bin/env node
// The paenet command. In a clone of the repository (src/ present) it runs the TypeScript sources through tsx, so an
// edit needs no build step; an installed package ships no src/ and runs the compiled dist/ with plain Node.
import { existsSync } from 'node:fs';

process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
