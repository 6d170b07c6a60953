// Task kinds paenet knows: what head each gets, which metric judges it, which protocol evaluates it.
import type { HeadSpec } from '../pae/index.ts';

/**
 * 'classify': any label column (age group, gender, expression, a user's labels), softmax head, top-1.
 * 'identity': an embedding trained over training identities (softmax or angular margin), judged by
 * face verification on pairs of unseen people (LFW protocol).
 */
export type TaskKind = 'classify' | 'identity';

export const TASK_KINDS: readonly TaskKind[] = ['classify', 'identity'];

/** The head of a new task. Identity tasks default to CosFace, which trains more stably from scratch than ArcFace. */
export function headFor(kind: TaskKind, classes: number, identityHead: HeadSpec['kind'] = 'cosface'): HeadSpec {
  return kind === 'classify' ? { kind: 'linear', classes } : { kind: identityHead, classes };
}

/** Name of the validation metric of a kind. */
export function metricFor(kind: TaskKind): string {
  return kind === 'classify' ? 'top1' : 'verification-accuracy';
}

export function parseKind(s: string): TaskKind {
  if ((TASK_KINDS as readonly string[]).includes(s)) return s as TaskKind;
  throw new Error(`paenet: unknown task kind '${s}' (kinds: ${TASK_KINDS.join(', ')})`);
}
