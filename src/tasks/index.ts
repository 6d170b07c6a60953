// Facial (and any image) task kinds on top of PAE: data sets, batches, inference.
export {
  loadImageSet,
  loadPairSet,
  imageCount,
  readLabelled,
  subsetImageSet,
  unlabelledSet,
  type ImageSet,
  type PairSet,
  type LoadOptions,
} from './image-set.ts';
export { predictProbabilities, embedImages } from './inference.ts';
export { answersPerCrop, taskAnswers, type TaskAnswer } from './answers.ts';
export { ImageTaskData, FACE_AUGMENT, type ImageTaskDataOptions } from './image-task-data.ts';
export { headFor, metricFor, parseKind, TASK_KINDS, type TaskKind } from './kinds.ts';
export { DistillTaskData, type DistillTaskDataOptions } from './distill-task-data.ts';
export {
  importFaceApiRecognition,
  faceApiPackageDir,
  faceApiInputTransform,
  hwioToOihw,
  affineAsNorm,
  FACE_API_RECOGNITION,
  FACE_API_LAYERS,
} from './face-api-import.ts';
export { importHumanFaceres, faceresPackageDir, faceresInputTransform, HUMAN_FACERES } from './faceres-import.ts';
export { type PretrainedImport, type PretrainedSourceRecord } from './pretrained.ts';
export { outputHash, taskOutputs } from './output-hash.ts';
