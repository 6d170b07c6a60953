// `paenet import`: a new model whose task 1 is a pretrained network, evaluated and calibrated on the user's pairs.
import { existsSync } from 'node:fs';
import type { PaeModel, Provenance } from '../pae/index.ts';
import {
  faceApiPackageDir,
  faceresPackageDir,
  importFaceApiRecognition,
  importHumanFaceres,
  loadPairSet,
  type PretrainedImport,
} from '../tasks/index.ts';
import { decodeProgress, type AddTaskSinks } from './add-task.ts';
import { evaluateVerificationTask, type VerificationReport } from '../tasks/evaluate.ts';

/** Pretrained networks paenet can adopt. */
export const PRETRAINED_SOURCES = ['face-api-recognition', 'human-faceres'] as const;
export type PretrainedSource = (typeof PRETRAINED_SOURCES)[number];

export interface ImportSpec {
  from: string;
  /** Folder of the package holding the weights. @default the installed package */
  packageDir?: string;
  /** Task name. @default 'identity' */
  name?: string;
  /** Pairs file to measure verification accuracy and calibrate the threshold on. */
  pairs?: string;
  /** Input side in pixels where the network allows another than its default (faceres: a multiple of 32). */
  inputSize?: number;
}

export interface ImportResult {
  model: PaeModel;
  source: PretrainedImport['source'];
  /** Verification on `pairs`, when given. */
  verification?: VerificationReport;
}

/** Imports a pretrained network as task 1; with pairs, records its accuracy and calibrated threshold. */
export async function importPretrained(spec: ImportSpec, provenance: Provenance, sinks: AddTaskSinks = {}): Promise<ImportResult> {
  if (!(PRETRAINED_SOURCES as readonly string[]).includes(spec.from))
    throw new Error(`paenet: unknown --from '${spec.from}' (known: ${PRETRAINED_SOURCES.join(', ')})`);
  if (spec.pairs !== undefined && !existsSync(spec.pairs)) throw new Error(`${spec.pairs}: no such pairs file`);
  const name = spec.name ?? 'identity';
  const { model, source } =
    spec.from === 'human-faceres'
      ? importHumanFaceres(faceresPackageDir(spec.packageDir), name, provenance, spec.inputSize)
      : importFaceApiRecognition(faceApiPackageDir(spec.packageDir), name, provenance);
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
