// paenet's public API: what `import { ... } from 'paenet'` offers. A deliberate surface: the engine, model files,
// the training workflows, photo analysis, the HTTP service and ONNX export. Everything else under src/ is internal
// and may change without notice. Built to dist/index.js + .d.ts by `npm run build` (tsconfig.build.json).
import { configFromPreset, PaeModel, provenance } from './pae/index.ts';
import { Analyzer, type Analysis, type VerifyResult } from './serve/analyze.ts';
import { loadDefaultModel } from './serve/default-model.ts';

// ── The engine: PyTorch-like tensors, autograd, nn and optim over libtorch, native memory freed by scopes ──
export {
  /** A libtorch tensor held by handle; free it with `dispose()` or create it inside `tidy()`. */
  Tensor,
  /** Runs a function and frees every tensor it created except the ones it returns or `keep()`s. */
  tidy,
  /** Marks a tensor created inside `tidy()` to survive the scope. */
  keep,
  /** Frees tensors (or anything with `dispose()`) now. */
  dispose,
  /** Count of live native tensors: a leak check for long-running processes. */
  liveTensors,
  /** Bytes held by live native tensors. */
  liveTensorBytes,
  /** Creates a tensor from numbers or a typed array, with a shape and options (dtype, requiresGrad). */
  tensor,
  /** A 0-d tensor. */
  scalar,
  /** Tensors filled with zeros / ones / a value / nothing yet / the identity. */
  zeros,
  ones,
  full,
  empty,
  eye,
  /** Random tensors from libtorch's seeded generators (see `manualSeed`). */
  randn,
  rand,
  randint,
  randperm,
  /** Ranges. */
  arange,
  linspace,
  /** Tensors shaped like another. */
  zerosLike,
  onesLike,
  fullLike,
  randnLike,
  /** Joins tensors along an existing (`cat`) or a new (`stack`) dimension. */
  cat,
  stack,
  /** Elementwise choice between two tensors by a condition. */
  where,
  /** Runs a function without recording gradients (inference). */
  noGrad,
  /** Runs a function with gradients recorded, inside a `noGrad` region. */
  enableGrad,
  /** Whether autograd records now. */
  isGradEnabled,
  /** Seeds libtorch's generators: the same seed gives the same weights and batches. */
  manualSeed,
  /** The seed every process starts with (PyTorch's default). */
  DEFAULT_SEED,
  /** libtorch's intra-op thread count. */
  setNumThreads,
  getNumThreads,
  /** Devices libtorch can use here ('cpu', and 'cuda:N' with a CUDA build). */
  availableDevices,
  cudaAvailable,
  /** libtorch's version and build configuration. */
  engineInfo,
  /** Returns the addon's cached allocations to the system. */
  emptyCache,
  /** Functional ops (activations, losses, convolution, pooling, normalisation): `F.relu(x)`. */
  F,
  /** Layers with parameters (`nn.Linear`, `nn.Conv2d`, …) on a `Module` base class. */
  nn,
  /** Optimisers (`optim.SGD`, `optim.Adam`, …) and learning-rate schedules. */
  optim,
} from './engine/index.ts';
export type {
  /** Element types of a tensor ('float32', 'int64', …). */
  DType,
  /** Typed arrays a tensor can be created from or read into. */
  TensorData,
  /** Options of the creation functions: dtype, device, requiresGrad. */
  TensorOptions,
  /** Anything `dispose()` and `tidy()` can free. */
  Disposable,
} from './engine/index.ts';

// ── Models: a packed network and its task records, in a checksummed file ──
export {
  /** A packed network (owner-tagged backbone, one head per task) and its task records. */
  PaeModel,
  /** Reads a model file (`*.pae`), checking its checksum and format; one line naming the file on any fault. */
  loadModel,
  /** Writes a model file atomically (safetensors + manifest + checksum; freed weights cost nothing). */
  saveModel,
  /** Backbone presets by name ('tiny', 'resnet10', 'resnet18', 'resnet-small', 'dlib-resnet'). */
  ARCH_PRESETS,
  /** A backbone configuration from a preset name and a width multiplier. */
  configFromPreset,
  /** The model's size ledger: bytes per task module, shared backbone, free capacity. */
  computeLedger,
  /** Training and pruning defaults, to override per task in `addTask`'s `train` / `prune`. */
  DEFAULT_TRAIN,
  DEFAULT_PRUNE,
  /** Event sinks for the PAE cycle's decisions: a JSONL file, or memory (for tests and UIs). */
  JsonlEventLog,
  MemoryEventLog,
} from './pae/index.ts';
export type {
  /** What a backbone is made of; stored in every model file. */
  BackboneConfig,
  /** A task as the model file records it: kind, labels, goal, metric, pruning, expansions. */
  TaskRecord,
  /** Who made a model: paenet and libtorch versions, time, host. */
  Provenance,
  /** The JSON manifest inside a model file. */
  Manifest,
  /** The size ledger `computeLedger` returns. */
  Ledger,
  /** Training settings (epochs, lr, patience, …) and gradual-pruning settings. */
  TrainConfig,
  PruneConfig,
  /** Receivers of the PAE cycle's events and progress. */
  EventSink,
  ProgressSink,
  PaeEvent,
  /** How a task is learned: PAE, or a baseline on the same backbone. */
  MethodId,
} from './pae/index.ts';
export {
  /** The provenance record for a model created now (paenet and libtorch versions, time, host). */
  provenance,
} from './pae/index.ts';

/** A new, empty packable model on a preset backbone (as `paenet init`); tasks are added with `addTask`. */
export function createModel(arch = 'resnet10', o: { widthMult?: number } = {}): PaeModel {
  return PaeModel.create(configFromPreset(arch, o.widthMult ?? 1), provenance());
}

// ── Workflows: whole jobs, each checkpointed and resumable ──
export {
  /** Packs one task into a model: goal, training in the free weights, gradual pruning, expansion when needed. */
  addTask,
  /** Frees an identity task's smallest weights gradually, retraining by distillation, keeping its verification goal. */
  pruneIdentityTask,
  /** A new model whose task 1 is a pretrained face network (face-api's ResNet), optionally calibrated on pairs. */
  importPretrained,
  /** The pretrained networks `importPretrained` can adopt. */
  PRETRAINED_SOURCES,
  /** Runs a task sequence with every method side by side (PAE, individual, PackNet, fine-tuning, ProgressiveNet). */
  runExperiment,
  /** Checks an experiment config (parsed JSON); one line naming the source and the problem. */
  validateExperiment,
} from './workflows/index.ts';
export type {
  /** What task `addTask` packs: name, kind, data, goal, training and pruning settings. */
  AddTaskSpec,
  /** The model with the new task, its record and the PAE cycle's result. */
  AddTaskResult,
  /** Where the workflows report events, progress and notes. */
  AddTaskSinks,
  /** Resumable runs: a checkpoint folder and whether to continue from it. */
  CheckpointOptions,
  PruneTaskSpec,
  PruneTaskResult,
  ImportSpec,
  ImportResult,
  /** An experiment: its task sequence, methods, peers and output folder; and what it measured. */
  ExperimentConfig,
  ExperimentResult,
} from './workflows/index.ts';
export {
  /** One task's checkpoint folder for `addTask` / `pruneIdentityTask` (`{ checkpoints, resume }`). */
  CheckpointDir,
} from './workflows/checkpoint.ts';

// ── Serving: photos in, every task's answer per face out ──
export {
  /** Finds faces in photos and runs every task on them; create once, reuse for many photos, then `dispose()`. */
  Analyzer,
} from './serve/analyze.ts';
export type {
  /** Faces in one photo, largest first, each with box, landmarks and every task's answer. */
  Analysis,
  FaceResult,
  /** Same person? Distance, calibrated threshold and the two faces compared. */
  VerifyResult,
} from './serve/analyze.ts';
export type {
  /** One task's answer for one face: a label with scores, or an identity embedding. */
  TaskAnswer,
} from './tasks/index.ts';
export type {
  /** Where tasks run: 'onnx' (onnxruntime-node on the exported graph) or 'libtorch'. */
  RuntimeKind,
  /** One face's crops, side → HWC RGB bytes: each task reads the crop of its own input size. */
  FaceCrops,
} from './serve/runtime.ts';
export type {
  /** A face detector `Analyzer.create` can use instead of face-api's SSD MobileNet. */
  FaceDetector,
  DetectedFace,
} from './serve/detector.ts';

// ── Errors: bad input is a PaenetError with a stable code and a fix hint; branch on the code, never the message ──
export {
  /** paenet's error for bad input, files and data: `code` (stable), a one-line message naming the culprit, `hint`. */
  PaenetError,
  /** Every code a PaenetError can carry. */
  ERROR_CODES,
  /** The code of any thrown value (PAENET_INTERNAL for anything that is not a PaenetError). */
  errorCode,
  type PaenetErrorCode,
} from './common/errors.ts';

/** Options of `Analyzer.create`, `analyze` and `verify`: runtime, tasks to run, a detector. */
export type AnalyzerOptions = NonNullable<Parameters<typeof Analyzer.create>[1]>;

export {
  /** Path of the shipped model (models/paenet-face.pae in the package), which `analyze` and `verify` use when given no model. */
  defaultModelPath,
} from './serve/default-model.ts';

type Photo = string | Uint8Array;

/** A photo argument (a path or encoded bytes); anything else in first place is the model. */
const isPhoto = (x: unknown): x is Photo => typeof x === 'string' || x instanceof Uint8Array;

/** Runs `use` on `model`, or on the shipped model (loaded for the call, then released) when none is given. */
async function withModel<T>(model: PaeModel | undefined, use: (m: PaeModel) => Promise<T>): Promise<T> {
  if (model) return use(model);
  const shipped = loadDefaultModel();
  try {
    return await use(shipped);
  } finally {
    shipped.dispose();
  }
}

/**
 * Analyzes one photo (a path or encoded bytes) and releases the analyzer; for many photos reuse an `Analyzer`.
 * Without a model, the shipped one ({@link defaultModelPath}).
 */
export function analyze(photo: Photo, o?: AnalyzerOptions): Promise<Analysis>;
export function analyze(model: PaeModel, photo: Photo, o?: AnalyzerOptions): Promise<Analysis>;
export function analyze(...args: [PaeModel, Photo, AnalyzerOptions?] | [Photo, AnalyzerOptions?]): Promise<Analysis> {
  const [model, photo, o = {}] = isPhoto(args[0])
    ? [undefined, ...(args as [Photo, AnalyzerOptions?])]
    : (args as [PaeModel, Photo, AnalyzerOptions?]);
  return withModel(model, async (m) => {
    const analyzer = await Analyzer.create(m, o);
    try {
      return await analyzer.analyze(photo);
    } finally {
      await analyzer.dispose();
    }
  });
}

/** Options of `verify`: the analyzer's, and which identity task to compare with. */
export type VerifyOptions = AnalyzerOptions & { task?: string };

/**
 * Same person? The largest face of each photo against the identity task's calibrated threshold. Without a model,
 * the shipped one ({@link defaultModelPath}).
 */
export function verify(a: Photo, b: Photo, o?: VerifyOptions): Promise<VerifyResult>;
export function verify(model: PaeModel, a: Photo, b: Photo, o?: VerifyOptions): Promise<VerifyResult>;
export function verify(...args: [PaeModel, Photo, Photo, VerifyOptions?] | [Photo, Photo, VerifyOptions?]): Promise<VerifyResult> {
  const [model, a, b, o = {}] = isPhoto(args[0])
    ? [undefined, ...(args as [Photo, Photo, VerifyOptions?])]
    : (args as [PaeModel, Photo, Photo, VerifyOptions?]);
  return withModel(model, async (m) => {
    const analyzer = await Analyzer.create(m, o);
    try {
      return await analyzer.verify(a, b, o.task);
    } finally {
      await analyzer.dispose();
    }
  });
}

export {
  /** The HTTP service (fastify) for an analyzer: /v1/analyze, /v1/verify, /v1/tasks, /healthz and the web page. */
  buildServer,
  type ServerOptions,
} from './serve/http.ts';
export {
  /** ONNX bytes of a model (every task, or the ones named), each task's masked weights baked in. */
  exportOnnx,
  type ExportOptions,
} from './serve/onnx/export-model.ts';
export {
  /** Max |ONNX − libtorch| per task on the same probe crops: check an export before shipping it. */
  onnxParity,
} from './serve/onnx/parity.ts';
