// paenet ship CONFIG: the finished experiment's model stored compactly where the config's `ship.file` says, with its
// build record and report (per module before/after compact storage, peers on the same images). `paenet experiment`
// runs this step itself when the config has a `ship` section; this command reruns it alone.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Command } from 'commander';
import { shipModel, validateExperiment, type ExperimentConfig, type ExperimentResult, type ShipConfig } from '../../workflows/index.ts';
import { shipMarkdown } from '../../report/ship-markdown.ts';
import { stderrNotes } from '../format.ts';
import { join } from 'node:path';
import { gitCommit } from '../model-io.ts';

/** The shipped model's report files: NAME.report.md and NAME.report.json beside NAME.pae. */
export function reportPaths(file: string): { md: string; json: string } {
  const base = file.replace(/\.pae$/, '');
  return { md: `${base}.report.md`, json: `${base}.report.json` };
}

/** Ships `cfg`'s finished model and writes its report; returns the report's markdown. */
export async function shipAndReport(
  cfg: ExperimentConfig & { ship: ShipConfig },
  result: Pick<ExperimentResult, 'tasks' | 'accuracyMatrix' | 'bwt'>,
  experimentFile: string,
  commit: string,
  say: (line: string) => void,
): Promise<string> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`;
  const shipped = await shipModel(cfg, result, { experimentFile, machine, note: say });
  const md = shipMarkdown(shipped, result, { commit, machine, date: new Date().toISOString() });
  const out = reportPaths(cfg.ship.file);
  writeFileSync(out.md, md);
  writeFileSync(out.json, JSON.stringify(shipped, null, 2));
  say(`written: ${cfg.ship.file}, ${out.md}, ${out.json}`);
  return md;
}

export function registerShip(program: Command): void {
  program
    .command('ship')
    .description(
      "store a finished experiment's model compactly at its config's ship.file, with its build record and report (per module, before/after, peers)",
    )
    .argument('<config>', 'experiment JSON with a "ship" section, already run to its end')
    .action(async (file: string) => {
      const cfg = validateExperiment(JSON.parse(readFileSync(file, 'utf8')), file);
      if (!cfg.ship) throw new Error(`${file}: has no "ship" section`);
      const resultsFile = join(cfg.output, 'results.json');
      let result: ExperimentResult;
      try {
        result = JSON.parse(readFileSync(resultsFile, 'utf8')) as ExperimentResult;
      } catch {
        throw new Error(`${resultsFile}: no finished run of ${file} (run \`paenet experiment ${file}\` first)`);
      }
      console.log(await shipAndReport({ ...cfg, ship: cfg.ship }, result, file, gitCommit(), stderrNotes(false)));
    });
}
