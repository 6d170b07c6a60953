// Optimisers and learning-rate schedules.
export { Optimizer, type OptimizerState, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.ts';
export { SGD, type SGDConfig } from './sgd.ts';
export { Adam, AdamW, type AdamConfig } from './adam.ts';
export { StepLR, CosineLR, ReduceLROnPlateau, type PlateauConfig } from './schedule.ts';
