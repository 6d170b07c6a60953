// torch.nn-style layers for paenet.
export { Module } from './module.ts';
export { Conv2d, Linear, BatchNorm, BatchNorm1d, BatchNorm2d, PReLU, type Conv2dConfig, type BatchNormConfig } from './layers.ts';
export { ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Dropout, Flatten, Sequential } from './simple.ts';
export { ResidualBlock } from './residual.ts';
export { MarginSoftmax, type MarginConfig } from './margin.ts';
export * as init from './init.ts';
