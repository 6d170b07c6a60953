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

// 1. libtorch: Debian's libtorch-dev unless LIBTORCH points at another build.
if (!process.env.LIBTORCH && !existsSync('/usr/include/torch/csrc/api/include/torch/torch.h')) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('paenet setup: installing libtorch-dev (Debian) ...');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'libtorch-dev'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error('paenet setup: libtorch not found: run `sudo apt-get install -y libtorch-dev` or set LIBTORCH=<libtorch dir>');
    process.exit(1);
  }
}

// 1b. Debian Chromium for the web page's browser test (playwright-core drives it; nothing is downloaded by npm).
if (!process.env.CHROMIUM_PATH && !existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('paenet setup: installing chromium (Debian) for the browser test ...');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error('paenet setup: chromium not found (the browser test needs it): run `sudo apt-get install -y chromium` or set CHROMIUM_PATH');
  }
}

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
}
