// paenet experiment CONFIG: a task sequence packed with PAE vs individual networks, with a markdown report.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runExperiment, validateExperiment } from '../../workflows/index.ts';
import { writeExperimentPlots } from '../../report/plots.ts';
import { experimentMarkdown } from '../../report/markdown.ts';
import { JsonlEventLog } from '../../pae/index.ts';
import { printJson, stderrNotes } from '../format.ts';
import { gitCommit, provenance } from '../model-io.ts';
import { shipAndReport } from './ship.ts';
import { parsePrecision, precisionNote, precisionOption } from '../precision.ts';
import { terminalProgress } from '../progress.ts';

export function registerExperiment(program: Command): void {
  precisionOption(program.command('experiment'))
    .description(
      'run a task sequence (experiments/*.json): PAE vs individual networks, PackNet, fine-tuning, ProgressiveNet; report, charts and model in its output folder; resumes an interrupted run',
    )
    .argument('<config>', 'experiment JSON')
    .option('--quiet', 'no progress bars')
    .option('--json', 'machine-readable results on stdout')
    .action(async (file: string, o: { quiet?: boolean; json?: boolean; precision?: string }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(
          `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such experiment file' : `not valid JSON (${(e as Error).message})`}`,
        );
      }
      const cfg = validateExperiment(raw, file);
      // --precision overrides the config's train.precision (configs default to fp32, as their results were measured).
      const precision = parsePrecision(o.precision);
      if (precision) cfg.train = { ...cfg.train, precision };
      mkdirSync(cfg.output, { recursive: true });
      const say = stderrNotes(Boolean(o.json));
      const code = gitCommit();
      say(precisionNote(cfg.train?.precision ?? 'fp32'));
      const events = new JsonlEventLog(join(cfg.output, 'events.jsonl'));
      const result = await runExperiment(cfg, provenance(), { events, progress: terminalProgress(!o.quiet && !o.json), note: say });
      const plots = await writeExperimentPlots(result, join(cfg.output, 'plots'));
      const md = experimentMarkdown(result, {
        config: file,
        plots,
        commit: code,
        machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
        date: new Date().toISOString(),
      });
      writeFileSync(join(cfg.output, 'report.md'), md);
      writeFileSync(join(cfg.output, 'results.json'), JSON.stringify(result, null, 2));
      // The ship step (compact file, build record, per-module report) runs once every task is packed.
      const shipped = cfg.ship ? await shipAndReport({ ...cfg, ship: cfg.ship }, result, file, code, say) : undefined;
      if (o.json) printJson(shipped ? { ...result, shipped: cfg.ship!.file } : result);
      else
        console.log(
          `${md}\nwritten: ${join(cfg.output, 'report.md')}, ${join(cfg.output, 'results.json')}, ${join(cfg.output, 'model.pae')}, ` +
            `${join(cfg.output, 'plots')}/*.svg|png`,
        );
    });
}
