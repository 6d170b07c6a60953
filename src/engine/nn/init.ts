// Weight initialisers (PyTorch's defaults and the common named schemes).
import { rand, randn } from '../creation.ts';
import { tidy } from '../scope.ts';
import type { Tensor } from '../tensor.ts';

/** fan_in and fan_out of a [out, in, ...kernel] weight. */
export function fans(shape: number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: (shape[0] ?? 1) * receptive };
}

/** Uniform in [-bound, bound). */
export function uniform(shape: number[], bound: number): Tensor {
  return tidy(() =>
    rand(shape)
      .mul(2 * bound)
      .sub(bound),
  );
}

/** PyTorch's default for Conv/Linear weights: kaiming_uniform(a=√5) = U(±1/√fan_in). */
export function defaultWeight(shape: number[]): Tensor {
  return uniform(shape, 1 / Math.sqrt(Math.max(1, fans(shape).fanIn)));
}

/** Kaiming-normal for ReLU nets: N(0, 2/fan). @default mode 'fanOut' (CPG, torchvision ResNet) */
export function kaimingNormal(shape: number[], mode: 'fanIn' | 'fanOut' = 'fanOut'): Tensor {
  const fan = fans(shape)[mode];
  return tidy(() => randn(shape).mul(Math.sqrt(2 / Math.max(1, fan))));
}

/** Xavier/Glorot uniform: U(±√(6/(fan_in+fan_out))) (TF's default, the PAE reference code's). */
export function xavierUniform(shape: number[]): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return uniform(shape, Math.sqrt(6 / Math.max(1, fanIn + fanOut)));
}
