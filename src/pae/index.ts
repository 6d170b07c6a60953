// PAE (Packing-And-Expanding): owner-tagged packable backbones, task training, gradual pruning, expansion, model files.
export * from './config.ts';
export { padsOf, type Architecture, type TrunkOps, type Pads } from './arch/index.ts';
export { PackableLayer, BN_EPS, BN_MOMENTUM, type Sharing, type TaskNorm } from './packable-layer.ts';
export { PackableNet, type HeadSpec, type Head, type TaskSlot, type SlotOptions, type InputTransform } from './network.ts';
export { openFree, releaseToRatio, prunedRatio, maskGradients, countOwned, zeroFree, claimAll } from './ownership.ts';
export { METHODS, METHOD_IDS, type Method, type MethodId, type MethodOptions } from './methods/registry.ts';
export { Snapshot, cloneNet } from './snapshot.ts';
export { stateTensors } from './state-dict.ts';
export { trainTask, defaultLoss, type TrainOptions, type TrainResult } from './trainer.ts';
export { gradualPrune, chooseRatio, cubicRamp, type RatioRecord, type PruneResult, type PruneProgress } from './pruner.ts';
export { expand } from './expander.ts';
export { packTask, nextTaskId, type PackOptions, type PackResult, type PackCheckpoint, type PackResume } from './strategy.ts';
export { PaeModel, taskRecord, slotOptions, type TaskRecord, type TaskDescription, type GoalRecord, type Provenance } from './model.ts';
export {
  saveModel,
  loadModel,
  readModelFile,
  modelChecksum,
  FORMAT_VERSION,
  MANIFEST_KEY,
  CHECKSUM_KEY,
  type Manifest,
  type SaveOptions,
} from './model-file.ts';
export { WEIGHT_STORAGES, type WeightStorage, type Storage } from './compact-storage.ts';
export { computeLedger, type Ledger, type TaskLedger, type LayerCapacity } from './ledger.ts';
export { JsonlEventLog, MemoryEventLog, silentProgress, type PaeEvent, type EventSink, type ProgressSink } from './events.ts';
export type { Batch, TaskData } from './task-data.ts';
export * from './train-config.ts';
export { PAENET_VERSION, provenance } from './provenance.ts';
