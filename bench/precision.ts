// Training speed of a packable backbone by precision and memory format, all in paenet in the same run:
// fp32 (the baseline), fp32 channels-last, bf16 autocast, bf16 channels-last. One task learning in the free
// weights of a fresh network, as `add-task` trains it (masked gradients, Adam over the task's parameters).
import { autocast, F, manualSeed, optim, randint, randn, tidy, type Tensor } from '../src/engine/index.ts';
import { median, timeSteps } from './timing.ts';
import { configFromPreset, maskGradients, openFree, PackableNet, type BackboneConfig } from '../src/pae/index.ts';

export interface PrecisionCase {
  precision: 'fp32' | 'bf16';
  channelsLast: boolean;
}

export const PRECISION_CASES: PrecisionCase[] = [
  { precision: 'fp32', channelsLast: false },
  { precision: 'fp32', channelsLast: true },
  { precision: 'bf16', channelsLast: false },
  { precision: 'bf16', channelsLast: true },
];

export const caseName = (c: PrecisionCase): string => `${c.precision}${c.channelsLast ? '_cl' : ''}`;

/** Training images/s (median step) of one task on `preset` at its input size, for each case. */
export function packableTrainRates(
  preset: string,
  batch: number,
  warmup: number,
  steps: number,
  cases: PrecisionCase[] = PRECISION_CASES,
  inputSize?: number,
): Record<string, number> {
  const config: BackboneConfig = configFromPreset(preset);
  const size = inputSize ?? config.inputSize;
  const out: Record<string, number> = {};
  for (const c of cases) {
    manualSeed(0);
    const net = PackableNet.create(config);
    net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 8 });
    openFree(net, 1);
    const { masked, free } = net.taskParameters(1);
    const opt = new optim.Adam([...masked.map((m) => m.weight), ...free], { lr: 1e-3 });
    const x: Tensor = tidy(() => {
      const r = randn([batch, 3, size, size]);
      return c.channelsLast ? r.contiguous('channels_last') : r;
    });
    const y = randint(0, 8, [batch]);
    net.training = true;
    const step = (): void =>
      tidy(() => {
        opt.zeroGrad();
        const loss = autocast(c.precision, () => F.crossEntropy(net.forward(x, 1), y));
        loss.backward();
        maskGradients(net, 1, 0);
        opt.step();
      });
    out[caseName(c)] = batch / median(timeSteps(step, warmup, steps));
    opt.dispose();
    net.dispose();
    x.dispose();
    y.dispose();
  }
  return out;
}
