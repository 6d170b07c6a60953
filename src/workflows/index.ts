// The training workflows: whole jobs a user runs, each checkpointed and resumable.
export { addTask, type AddTaskSpec, type AddTaskResult, type AddTaskSinks, type CheckpointOptions } from './add-task.ts';
export { pruneIdentityTask, type PruneTaskSpec, type PruneTaskResult } from './prune-task.ts';
export { importPretrained, PRETRAINED_SOURCES, type PretrainedSource, type ImportSpec, type ImportResult } from './import-model.ts';
export { runExperiment } from './experiment/experiment.ts';
export * from './experiment/config.ts';
export { shipModel, type ShipResult, type BuildRecord, type PeerScores } from './ship/ship-model.ts';
export { scoreModules, type ModuleEvaluation, type ModuleScore } from './ship/module-scores.ts';
