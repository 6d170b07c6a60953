// Evaluation protocols of a task inside a packed network: top-1 classification and LFW-style verification.
import { createHash } from 'node:crypto';
import type { PackableNet } from '../pae/index.ts';
import { embedImages, predictProbabilities, type ImageSet, type PairSet } from './index.ts';
import { accuracy, argmaxRows, confusionMatrix, macroAccuracy, perClassAccuracy, sha256OfPredictions } from '../metrics/classification.ts';
import { auc, evaluateVerification, rocCurve, rowCosineDistance, tarAtFars, type TarAtFar } from '../metrics/verification.ts';

/** Result of the classification protocol. */
export interface ClassificationReport {
  metric: 'top1';
  value: number;
  n: number;
  macro: number;
  perClass: { label: string; accuracy: number; n: number }[];
  confusion: number[][];
  /** SHA-256 of the predicted class indices (compare two evaluations exactly). */
  sha256: string;
  predictions: Int32Array;
}

/** Top-1, per-class accuracy and confusion of task `task` on a labelled set. */
export function evaluateClassification(net: PackableNet, task: number, set: ImageSet, labels: string[]): ClassificationReport {
  const c = net.slot(task).head.classes;
  const n = set.labels.length;
  const predictions = argmaxRows(predictProbabilities(net, task, set), n, c);
  const per = perClassAccuracy(predictions, set.labels, c);
  const counts = new Array<number>(c).fill(0);
  for (const y of set.labels) counts[y]!++;
  return {
    metric: 'top1',
    value: accuracy(predictions, set.labels),
    n,
    macro: macroAccuracy(predictions, set.labels, c),
    perClass: per.map((a, i) => ({ label: labels[i] ?? String(i), accuracy: a, n: counts[i]! })),
    confusion: confusionMatrix(predictions, set.labels, c),
    sha256: sha256OfPredictions(predictions),
    predictions,
  };
}

/** Result of the verification protocol. */
export interface VerificationReport {
  metric: 'verification-accuracy';
  /** Mean accuracy over the folds (threshold chosen on the other folds). */
  value: number;
  std: number;
  n: number;
  folds: number;
  /** Cosine-distance threshold chosen on all pairs: the model's calibrated threshold. */
  threshold: number;
  auc: number;
  tarAtFar: TarAtFar[];
  /** SHA-256 of the pair distances (float64, little-endian). */
  sha256: string;
}

/** Cosine distances of every pair, embeddings of image ⊕ flip. */
export function pairDistances(net: PackableNet, task: number, set: PairSet): Float64Array {
  const emb = embedImages(net, task, set.images, true);
  const d = 2 * net.config.embedDim;
  return Float64Array.from(set.a, (ia, k) => rowCosineDistance(emb, d, ia, set.b[k]!));
}

/** The LFW protocol: 10 folds as the pairs file gives them, threshold on 9, accuracy on the 10th; ROC/AUC, TAR@FAR. */
export function evaluateVerificationTask(net: PackableNet, task: number, set: PairSet): VerificationReport {
  const distances = pairDistances(net, task, set);
  const same = set.pairs.pairs.map((p) => p.same);
  const result = evaluateVerification(
    distances,
    same,
    Int32Array.from(set.pairs.pairs, (p) => p.fold),
  );
  const roc = rocCurve(distances, same);
  return {
    metric: 'verification-accuracy',
    value: result.summary.mean,
    std: result.summary.std,
    n: distances.length,
    folds: set.pairs.folds,
    threshold: result.threshold,
    auc: auc(roc),
    tarAtFar: tarAtFars(roc),
    sha256: createHash('sha256').update(new Uint8Array(distances.buffer)).digest('hex'),
  };
}

/** Validation score for the PAE trainer: top-1 on a labelled set. */
export function classificationValidator(set: ImageSet): (net: PackableNet, task: number) => Promise<number> {
  return async (net, task) => {
    const c = net.slot(task).head.classes;
    return accuracy(argmaxRows(predictProbabilities(net, task, set), set.labels.length, c), set.labels);
  };
}

/** Validation score for the PAE trainer: mean 10-fold verification accuracy on pairs. */
export function verificationValidator(set: PairSet): (net: PackableNet, task: number) => Promise<number> {
  return async (net, task) => evaluateVerificationTask(net, task, set).value;
}
