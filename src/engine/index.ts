// paenet's tensor engine: libtorch tensors, autograd, nn layers and optimisers from TypeScript.
export { Tensor } from './tensor.ts';
export type { DType, TensorData } from './dtype.ts';
export { dtypeSize } from './dtype.ts';
export * from './creation.ts';
export { tidy, keep, dispose, liveTensors, liveTensorBytes, type Disposable } from './scope.ts';
export {
  noGrad,
  enableGrad,
  isGradEnabled,
  manualSeed,
  rngState,
  setRngState,
  DEFAULT_SEED,
  setNumThreads,
  getNumThreads,
  availableDevices,
  cudaAvailable,
  engineInfo,
  emptyCache,
  cacheStats,
} from './runtime.ts';
export { autocast, autocastActive, fp32Island, cpuHasBf16, resolvePrecision, PRECISIONS, type Precision } from './precision.ts';
export {
  world,
  joinWorld,
  worldSpecFromEnv,
  distributedAvailable,
  World,
  BUCKET_BYTES,
  DEFAULT_TIMEOUT_S,
  type WorldSpec,
  type JoinOptions,
} from './distributed.ts';
export * as F from './functional.ts';
export * as nn from './nn/index.ts';
export * as optim from './optim/index.ts';
