// `paenet import`: a new model whose task 1 is a pretrained network, evaluated and calibrated on the user's pairs.
import { existsSync } from 'node:fs';
import type { PaeModel, Provenance } from '../pae/index.ts';
import { faceApiPackageDir, importFaceApiRecognition, loadPairSet, type FaceApiImport } from '../tasks/index.ts';
import { decodeProgress, type AddTaskSinks } from './add-task.ts';
import { evaluateVerificationTask, type VerificationReport } from '../tasks/evaluate.ts';

/** Pretrained networks paenet can adopt. */
export const PRETRAINED_SOURCES = ['face-api-recognition'] as const;
export type PretrainedSource = (typeof PRETRAINED_SOURCES)[number];

export interface ImportSpec {
  from: string;
  /** Folder of the package holding the weights. @default the installed package */
  packageDir?: string;
  /** Task name. @default 'identity' */
  name?: string;
  /** Pairs file to measure verification accuracy and calibrate the threshold on. */
  pairs?: string;
}

export interface ImportResult {
  model: PaeModel;
  source: FaceApiImport['source'];
  /** Verification on `pairs`, when given. */
  verification?: VerificationReport;
}

/** Imports a pretrained network as task 1; with pairs, records its accuracy and calibrated threshold. */
export async function importPretrained(spec: ImportSpec, provenance: Provenance, sinks: AddTaskSinks = {}): Promise<ImportResult> {
  if (!(PRETRAINED_SOURCES as readonly string[]).includes(spec.from))
    throw new Error(`paenet: unknown --from '${spec.from}' (known: ${PRETRAINED_SOURCES.join(', ')})`);
  if (spec.pairs !== undefined && !existsSync(spec.pairs)) throw new Error(`${spec.pairs}: no such pairs file`);
  const { model, source } = importFaceApiRecognition(faceApiPackageDir(spec.packageDir), spec.name ?? 'identity', provenance);
  try {
    if (spec.pairs === undefined) return { model, source };
    const pairs = await loadPairSet(spec.pairs, model.config.inputSize, decodeProgress(sinks, 'decoding pair images'));
    const verification = evaluateVerificationTask(model.net, 1, pairs);
    const record = model.tasks[0]!;
    record.metric = { name: 'verification-accuracy', value: verification.value, trained: verification.value };
    record.extra.threshold = verification.threshold;
    record.extra.verification = { accuracy: verification.value, std: verification.std, auc: verification.auc, pairs: spec.pairs };
    return { model, source, verification };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
