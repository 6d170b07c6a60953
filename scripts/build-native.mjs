#!/usr/bin/env node
// Builds the libtorch addon (native/) with npm's bundled node-gyp, offline.
// Why a wrapper: node-gyp downloads Node headers unless --nodedir points at a local copy, and a missing
// libtorch should fail with one line that says how to install it, not with a page of compiler errors.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const fail = (msg) => {
  console.error(`paenet: ${msg}`);
  process.exit(1);
};

if (process.env.PAE_SKIP_NATIVE === '1' && !force) {
  console.log('paenet: PAE_SKIP_NATIVE=1, not building the libtorch addon');
  process.exit(0);
}

const libtorch = process.env.LIBTORCH ?? '';
const torchHeader = libtorch
  ? join(libtorch, 'include/torch/csrc/api/include/torch/torch.h')
  : '/usr/include/torch/csrc/api/include/torch/torch.h';
if (!existsSync(torchHeader)) {
  fail(
    libtorch
      ? `LIBTORCH=${libtorch} has no ${torchHeader}: point LIBTORCH at an unpacked libtorch (include/ and lib/)`
      : 'libtorch not found (no /usr/include/torch): run `apt-get install -y libtorch-dev` or set LIBTORCH=<libtorch dir>',
  );
}

// Node headers: the prefix of the running node (Debian /usr, official tarballs, nvm) has include/node.
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined;

const candidates = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => p && existsSync(p));
if (candidates.length === 0) fail('node-gyp not found (it ships with npm); reinstall npm or set npm_config_node_gyp');

// Data-parallel training needs gloo's headers (libgloo-dev): binding.gyp compiles native/src/distributed.cc with
// PAENET_WITH_GLOO where they exist (the same test as its `gloo` variable), and a stub that says how to get them
// otherwise, so a machine without them still builds everything else. PAENET_GLOO=0 leaves them out on purpose.
const glooDirs = [libtorch && join(libtorch, 'include'), '/usr/include'].filter(Boolean);
const gloo = process.env.PAENET_GLOO !== '0' && glooDirs.some((d) => existsSync(join(d, 'gloo/config.h')));
console.log(
  gloo
    ? 'paenet: data-parallel training (c10d/gloo): on'
    : 'paenet: data-parallel training (c10d/gloo): off (no gloo headers: `apt-get install -y libgloo-dev`, then `npm run build:native`)',
);

const args = [candidates[0], 'rebuild', '-j', '2', '--loglevel=warn', '--directory', join(root, 'native')];
if (nodedir) args.push(`--nodedir=${nodedir}`);
console.log(`paenet: building the libtorch addon against ${libtorch || 'Debian libtorch-dev'} ...`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });
if (r.status !== 0) fail('building the libtorch addon failed (see the compiler output above)');
