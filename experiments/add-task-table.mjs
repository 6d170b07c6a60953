#!/usr/bin/env node
// Prints the README's add-task table from experiments/results/add-task/*.json (written by measure-add-task*.sh).
import { existsSync, readFileSync } from 'node:fs';

const dir = new URL('./results/add-task/', import.meta.url);
const times = Object.fromEntries(
  (existsSync(new URL('times.txt', dir)) ? readFileSync(new URL('times.txt', dir), 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(': ').map((x) => x.trim())),
);
const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(2));
const mb = (b) => (b / 2 ** 20).toFixed(3);
const rows = ['| task | data | metric | individual | PAE | pruned | expansions | module MB | time |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const name of ['face', 'age', 'gender', 'expression', 'face-orl', 'face-glint']) {
  const file = new URL(`${name}.json`, dir);
  if (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') continue;
  const { task: t, module: m } = JSON.parse(readFileSync(file, 'utf8'));
  const data = String(t.data.manifest).replace(/^data\//, '').replace(/\/manifest\.csv$/, '');
  rows.push(
    `| ${t.name} | ${data} (${t.data.trainImages} train) | ${t.metric.name} | ${pct(t.goal.individual)} | ${pct(t.metric.value)} | ${pct(t.pruning.ratio)} % | ${t.expansions} | ${mb(m.moduleBytes)} | ${times[name] ?? '–'} |`,
  );
}
console.log(rows.join('\n'));
