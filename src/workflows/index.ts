// The training workflows: whole jobs a user runs, each checkpointed and resumable.
export { addTask, type AddTaskSpec, type AddTaskResult, type AddTaskSinks, type CheckpointOptions } from './add-task.ts';
export { pruneIdentityTask, type PruneTaskSpec, type PruneTaskResult } from './prune-task.ts';
export { importPretrained, PRETRAINED_SOURCES, type PretrainedSource, type ImportSpec, type ImportResult } from './import-model.ts';
export { runExperiment } from './experiment/experiment.ts';
export * from './experiment/config.ts';
