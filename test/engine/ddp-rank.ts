// One rank of a data-parallel test run (a child process of distributed.test.ts): joins the world RANK/WORLD_SIZE
// describe, runs a scenario and writes its outcome as JSON. `node --import tsx ddp-rank.ts SCENARIO BATCH OUT`.
import { writeFileSync } from 'node:fs';
import { joinWorld, worldSpecFromEnv } from '../../src/engine/index.ts';
import { runScenario, type Scenario } from './ddp-scenario.ts';

const [scenario, batch, out] = process.argv.slice(2) as [Scenario, string, string];
const spec = worldSpecFromEnv();
if (!spec) throw new Error('ddp-rank.ts: set RANK and WORLD_SIZE (> 1)');
joinWorld(spec);
writeFileSync(out, JSON.stringify(await runScenario(scenario, Number(batch))));
