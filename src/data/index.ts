// Public surface of src/data: manifests, pairs, folds, decoding, augmentation, batching, balance.
export { parseCsv, type CsvTable } from './csv.ts';
export { loadManifest, type Manifest, type ManifestOptions, type ManifestSample } from './manifest.ts';
export { loadFolderDataset, IMAGE_EXTENSIONS } from './folder-dataset.ts';
export { loadPairs, lfwImagePath, type FacePair, type Pairs, type PairsOptions } from './pairs.ts';
export { kFold, trainValFromFolds, type KFoldOptions } from './kfold.ts';
export { decodeImage, decodeMany, type DecodeManyOptions, type DecodedImages } from './image.ts';
export {
  augmentInto,
  evalInto,
  NORM_MEAN,
  NORM_SCALE,
  NO_AUGMENT,
  FACE_AUGMENT_STRONG,
  type AugmentOptions,
  type EraseFill,
} from './augment.ts';
export { BatchLoader, type Batch, type BatchLoaderOptions, type LoaderData, type Shard } from './loader.ts';
export { classCounts, paeClassWeights, inverseFrequencyWeights, balanceReport } from './balance.ts';
export { mulberry32, mixSeed, shuffleInPlace, type Rng } from './rng.ts';
