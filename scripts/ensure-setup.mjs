#!/usr/bin/env node
// Makes a fresh clone runnable: libtorch (apt, when root), the data link, npm dependencies and the native addon.
// Dependency-free on purpose: it runs before node_modules exists (from `npm test` / `npm run demo`).
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`paenet setup: \`${cmd} ${args.join(' ')}\` failed`);
    process.exit(r.status ?? 1);
  }
};

/**
 * Installs a Debian package when running as root with apt (returns true); otherwise says how, and fails when
 * `required`.
 */
const aptInstall = (pkg, why, hint, required) => {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`paenet setup: installing ${pkg} (Debian) ${why} ...`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', pkg], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return true;
  }
  console.error(`paenet setup: ${pkg} not found: run \`sudo apt-get install -y ${pkg}\` or ${hint}`);
  if (required) process.exit(1);
  return false;
};

// 1. libtorch: Debian's libtorch-dev unless LIBTORCH points at another build.
if (!process.env.LIBTORCH && !existsSync('/usr/include/torch/csrc/api/include/torch/torch.h'))
  aptInstall('libtorch-dev', 'for the engine', 'set LIBTORCH=<libtorch dir>', true);

// 1a. gloo's headers for data-parallel training (`paenet launch`, RANK/WORLD_SIZE): the addon builds without them,
// minus that. Debian's libtorch links the same gloo snapshot that libgloo-dev ships.
const glooAdded =
  !process.env.LIBTORCH &&
  process.env.PAENET_GLOO !== '0' &&
  !existsSync('/usr/include/gloo/config.h') &&
  aptInstall('libgloo-dev', 'for data-parallel training', 'set PAENET_GLOO=0 to build without it', false);

// 1b. Debian Chromium for the web page's browser test (playwright-core drives it; npm downloads no browser).
if (!process.env.CHROMIUM_PATH && !existsSync('/usr/bin/chromium'))
  aptInstall('chromium', 'for the browser test', 'set CHROMIUM_PATH (the browser test fails without it)', false);

// 2. Data: the project reads data/; in CI and the dev layout it links to ../shared/data.
const data = join(root, 'data');
const shared = resolve(root, '../shared/data');
if (!existsSync(data) && existsSync(shared)) {
  symlinkSync(shared, data);
  console.log(`paenet setup: linked data -> ${shared}`);
}

// 3. npm dependencies and the addon (the root package's install script builds it).
const addon = join(root, 'native/build/Release/paenet_native.node');
if (!existsSync(join(root, 'node_modules/tsx')) || !existsSync(addon)) {
  console.log('paenet setup: npm install (builds the libtorch addon) ...');
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']);
} else if (glooAdded) {
  // The addon was built before gloo's headers existed: rebuild it with data-parallel training.
  run(process.execPath, [join(root, 'scripts/build-native.mjs'), '--force']);
}
