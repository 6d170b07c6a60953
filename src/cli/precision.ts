// The --precision option every training command takes (add-task, prune, experiment).
import type { Command } from 'commander';
import { PaenetError } from '../common/errors.ts';
import { PRECISIONS, resolvePrecision, type Precision } from '../engine/index.ts';

/**
 * Adds `--precision` to a training command; `fallback` is its default (none: the config file decides). The
 * commands default to fp32: bf16 measured 1.5–1.6× faster on the resnet and faceres backbones here, but 5× slower
 * on the dlib ResNet (a bf16 kernel of libtorch 1.13 not yet found), so it is asked for, not assumed.
 */
export function precisionOption(command: Command, fallback?: Precision): Command {
  return command.option(
    '--precision <mode>',
    'training arithmetic: fp32 | bf16 (autocast, fp32 master weights) | auto (bf16 where the CPU has AVX512-BF16/AMX)',
    fallback,
  );
}

/** The option's value checked; undefined when not given. */
export function parsePrecision(value: string | undefined): Precision | undefined {
  if (value === undefined) return undefined;
  if (!(PRECISIONS as readonly string[]).includes(value))
    throw new PaenetError('PAENET_INPUT', `--precision must be fp32, bf16 or auto, got '${value}'`);
  return value as Precision;
}

/** A note saying what a run will compute in, e.g. "training in bf16 (auto: the CPU has native bf16)". */
export function precisionNote(p: Precision): string {
  const used = resolvePrecision(p);
  return `training in ${used}${p === 'auto' ? ` (auto: ${used === 'bf16' ? 'the CPU has native bf16' : 'no native bf16 on this CPU'})` : ''}`;
}
