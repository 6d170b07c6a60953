// Engine benchmark: a small reference conv net trained and run in paenet, then the same net in Python PyTorch
// (bench/engine_torch.py, same threads, sizes and timing) in the same run, plus a memory/leak check.
//
// Net: conv 3→32→64→128→256 (3x3, padding 1, bias) + ReLU, 2x2 max-pool after the first three convs, global
// average pool, linear 256→10. Input 3x64x64, batch 32, SGD (lr 0.01, momentum 0.9), cross-entropy on random
// labels. Timing excludes warm-up steps; img/s = batch / median step time (robust to other processes on a
// shared machine); the mean-based figure is reported alongside.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  autocast,
  cpuHasBf16,
  F,
  type Tensor,
  engineInfo,
  getNumThreads,
  liveTensors,
  manualSeed,
  nn,
  noGrad,
  optim,
  randint,
  randn,
  setNumThreads,
  tidy,
} from '../src/engine/index.ts';
import type { BenchOptions, BenchResult, Log } from './options.ts';
import { caseName, packableTrainRates, PRECISION_CASES } from './precision.ts';
import { median, timeSteps } from './timing.ts';

const PYTHON = '/usr/bin/python3'; // Debian's python with torch; the `python3` on PATH may be a shim without it
const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'engine_torch.py');
const SIZE = 64;
const CLASSES = 10;
const DEFAULTS = { steps: 25, warmup: 5, batch: 32, memoryBatch: 8 };

/** Conv2d that can move its weight to channels-last (NHWC) storage, as `model.to(memory_format=channels_last)`. */
class BenchConv2d extends nn.Conv2d {
  toChannelsLast(): void {
    this.registerParameter(
      'weight',
      noGrad(() => this.param('weight').contiguous('channels_last')),
    );
  }
}

function referenceNet(channelsLast: boolean): nn.Sequential {
  const convs = [
    new BenchConv2d(3, 32, 3, { padding: 1 }),
    new BenchConv2d(32, 64, 3, { padding: 1 }),
    new BenchConv2d(64, 128, 3, { padding: 1 }),
    new BenchConv2d(128, 256, 3, { padding: 1 }),
  ];
  if (channelsLast) for (const c of convs) c.toChannelsLast();
  const [c1, c2, c3, c4] = convs as [BenchConv2d, BenchConv2d, BenchConv2d, BenchConv2d];
  return new nn.Sequential(
    c1,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    c2,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    c3,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    c4,
    new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Linear(256, CLASSES),
  );
}

function batchInput(batch: number, channelsLast: boolean): Tensor {
  return tidy(() => {
    const x = randn([batch, 3, SIZE, SIZE]);
    return channelsLast ? x.contiguous('channels_last') : x;
  });
}

/** One training step; everything it creates except parameters/optimizer state is freed on return. */
function trainStep(net: nn.Module, opt: optim.Optimizer, x: Tensor, y: Tensor, precision: 'fp32' | 'bf16' = 'fp32'): void {
  tidy(() => {
    opt.zeroGrad();
    const loss = autocast(precision, () => F.crossEntropy(net.forward(x), y));
    loss.backward();
    opt.step();
  });
}

function rates(times: number[], batch: number): { imgS: number; imgSMean: number; stepMs: number } {
  const med = median(times);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { imgS: batch / med, imgSMean: batch / mean, stepMs: med * 1e3 };
}

/** Peak resident set of this process so far (kernel's high-water mark), MB. */
function vmHwmMb(): number | null {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
}

const MB = 1024 * 1024;
const round = (v: number | null, digits = 1): number | null => (v === null || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));

interface TorchProbe {
  version: string;
  defaultThreads: number;
}

/** torch's version and default thread count via /usr/bin/python3, or null when it cannot import torch. */
function probeTorch(log: Log): TorchProbe | null {
  const r = spawnSync(PYTHON, ['-c', 'import json, torch; print(json.dumps([torch.__version__, torch.get_num_threads()]))'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) {
    log(
      `torch: ${PYTHON} cannot import torch (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}); torch figures will be null`,
    );
    return null;
  }
  const [version, defaultThreads] = JSON.parse(r.stdout.trim()) as [string, number];
  return { version, defaultThreads };
}

interface TorchResult {
  torch_version: string;
  threads: number;
  train_img_s: number;
  train_img_s_mean: number;
  train_step_ms_median: number;
  infer_img_s: number;
  infer_img_s_mean: number;
  infer_step_ms_median: number;
  final_loss: number;
}

function runTorch(threads: number, steps: number, warmup: number, batch: number, channelsLast: boolean, log: Log): TorchResult | null {
  const args = [
    TORCH_SCRIPT,
    '--threads',
    String(threads),
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--batch',
    String(batch),
    '--size',
    String(SIZE),
  ];
  if (channelsLast) args.push('--channels-last');
  // process.env carries OMP_WAIT_POLICY=PASSIVE (set by the engine on load), so both sides run OpenMP alike.
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 1_800_000, env: process.env });
  if (r.status !== 0) {
    log(`torch: engine_torch.py failed (status ${r.status}): ${(r.error?.message ?? r.stderr ?? '').trim()}`);
    return null;
  }
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as TorchResult;
}

export function run(o: BenchOptions, log: Log): BenchResult {
  const libtorchDefaultThreads = getNumThreads();
  const threads = o.threads ?? libtorchDefaultThreads;
  setNumThreads(threads);
  const steps = o.steps ?? DEFAULTS.steps;
  const warmup = o.warmup ?? DEFAULTS.warmup;
  const batch = o.batch ?? DEFAULTS.batch;
  const memoryBatch = o.memoryBatch ?? DEFAULTS.memoryBatch;
  const cl = o.channelsLast;
  const torch = o.noTorch ? null : probeTorch(log);
  log(
    `engine bench: node ${process.version}, libtorch ${engineInfo().torchVersion}, threads ${threads} (libtorch default ${libtorchDefaultThreads}` +
      `${torch ? `, python torch ${torch.version} default ${torch.defaultThreads}` : ''}), batch ${batch}, ${warmup} warm-up + ${steps} timed steps` +
      `${cl ? ', channels-last' : ''}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? ''}`,
  );

  // ---- memory: many training steps on fresh random batches, sampling RSS and the live tensor count ----
  let peakRss = 0;
  let rss100: number | null = null;
  let live100: number | null = null;
  let rssEnd: number | null = null;
  let liveEnd: number | null = null;
  let memFinalLoss: number | null = null;
  if (o.memorySteps > 0) {
    manualSeed(1);
    const net = referenceNet(cl);
    const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    const liveBefore = liveTensors();
    const t0 = performance.now();
    for (let s = 1; s <= o.memorySteps; s++) {
      tidy(() => {
        const x = batchInput(memoryBatch, cl);
        const y = randint(0, CLASSES, [memoryBatch]);
        trainStep(net, opt, x, y);
      });
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      if (s === 100) {
        rss100 = rss;
        live100 = liveTensors();
      }
      if (s % 100 === 0) log(`  memory: step ${s}/${o.memorySteps}: rss ${(rss / MB).toFixed(1)} MB, live tensors ${liveTensors()}`);
    }
    rssEnd = process.memoryUsage.rss();
    liveEnd = liveTensors();
    memFinalLoss = tidy(() => F.crossEntropy(net.forward(batchInput(memoryBatch, cl)), randint(0, CLASSES, [memoryBatch])).item());
    const secs = (performance.now() - t0) / 1e3;
    log(
      `memory: ${o.memorySteps} steps at batch ${memoryBatch} in ${secs.toFixed(1)} s; peak rss ${(peakRss / MB).toFixed(1)} MB; ` +
        `rss step 100 ${rss100 === null ? '-' : (rss100 / MB).toFixed(1)} MB → end ${(rssEnd / MB).toFixed(1)} MB; ` +
        `live tensors before ${liveBefore}, step 100 ${live100 ?? '-'}, end ${liveEnd}`,
    );
    opt.dispose();
    net.dispose();
  }

  // ---- paenet throughput ----
  manualSeed(0);
  const net = referenceNet(cl);
  const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = batchInput(batch, cl);
  const y = randint(0, CLASSES, [batch]);
  net.train();
  const train = rates(
    timeSteps(() => trainStep(net, opt, x, y), warmup, steps),
    batch,
  );
  const finalLoss = tidy(() => F.crossEntropy(net.forward(x), y).item());
  log(
    `paenet train: ${train.imgS.toFixed(1)} img/s (median step ${train.stepMs.toFixed(1)} ms; mean-based ${train.imgSMean.toFixed(1)} img/s), loss after ${warmup + steps} steps ${finalLoss.toFixed(4)}`,
  );
  net.eval();
  const infer = rates(
    noGrad(() => timeSteps(() => tidy(() => void net.forward(x)), warmup, steps)),
    batch,
  );
  log(
    `paenet infer: ${infer.imgS.toFixed(1)} img/s (median step ${infer.stepMs.toFixed(1)} ms; mean-based ${infer.imgSMean.toFixed(1)} img/s)`,
  );
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();

  // ---- precision and memory format: every case in paenet, in this run (speedups over paenet fp32) ----
  const precision: BenchResult = { cpu_bf16: cpuHasBf16() };
  if (o.precision) {
    for (const c of PRECISION_CASES) {
      manualSeed(0);
      const pnet = referenceNet(c.channelsLast);
      const popt = new optim.SGD(pnet.parameters(), { lr: 0.01, momentum: 0.9 });
      const px = batchInput(batch, c.channelsLast);
      const py = randint(0, CLASSES, [batch]);
      const r = rates(
        timeSteps(() => trainStep(pnet, popt, px, py, c.precision), warmup, steps),
        batch,
      );
      py.dispose();
      precision[`${caseName(c)}_train_img_s`] = round(r.imgS);
      popt.dispose();
      pnet.dispose();
      px.dispose();
    }
    // The packable backbones as add-task trains them: the 150 px pretrained dlib ResNet and faceres at 128 px.
    for (const [preset, b] of [
      ['dlib-resnet', 16],
      ['faceres', 32],
    ] as const) {
      const r = packableTrainRates(preset, b, 1, Math.max(3, Math.round(steps / 5)));
      for (const [k, v] of Object.entries(r)) precision[`${preset.replace('-', '_')}_${k}_train_img_s`] = round(v);
    }
    const speedup = (k: string): number | null => {
      const base = precision[`${k}fp32_train_img_s`];
      const fast = precision[`${k}bf16_cl_train_img_s`];
      return typeof base === 'number' && typeof fast === 'number' ? round(fast / base, 2) : null;
    };
    precision.bf16_train_speedup = speedup('');
    precision.dlib_resnet_bf16_train_speedup = speedup('dlib_resnet_');
    precision.faceres_bf16_train_speedup = speedup('faceres_');
    log(`precision: ${JSON.stringify(precision)}`);
  }

  // ---- PyTorch, same net and settings ----
  const t = torch ? runTorch(threads, steps, warmup, batch, cl, log) : null;
  if (t) {
    log(
      `torch  train: ${t.train_img_s.toFixed(1)} img/s (median step ${t.train_step_ms_median.toFixed(1)} ms; mean-based ${t.train_img_s_mean.toFixed(1)} img/s), loss ${t.final_loss.toFixed(4)}`,
    );
    log(
      `torch  infer: ${t.infer_img_s.toFixed(1)} img/s (median step ${t.infer_step_ms_median.toFixed(1)} ms; mean-based ${t.infer_img_s_mean.toFixed(1)} img/s)`,
    );
  }
  const trainRatio = t ? train.imgS / t.train_img_s : null;
  const inferRatio = t ? infer.imgS / t.infer_img_s : null;
  const growth = rss100 !== null && rssEnd !== null ? ((rssEnd - rss100) / rss100) * 100 : null;
  if (t) log(`ratio paenet/torch: train ${trainRatio!.toFixed(3)}, infer ${inferRatio!.toFixed(3)}`);

  return {
    benchmark: 'engine',
    paenet_train_img_s: round(train.imgS),
    torch_train_img_s: t ? round(t.train_img_s) : null,
    train_ratio: round(trainRatio, 3),
    paenet_infer_img_s: round(infer.imgS),
    torch_infer_img_s: t ? round(t.infer_img_s) : null,
    infer_ratio: round(inferRatio, 3),
    paenet_train_img_s_mean: round(train.imgSMean),
    torch_train_img_s_mean: t ? round(t.train_img_s_mean) : null,
    paenet_infer_img_s_mean: round(infer.imgSMean),
    torch_infer_img_s_mean: t ? round(t.infer_img_s_mean) : null,
    threads,
    libtorch_default_threads: libtorchDefaultThreads,
    torch_default_threads: torch?.defaultThreads ?? null,
    batch,
    image_size: SIZE,
    warmup_steps: warmup,
    timed_steps: steps,
    channels_last: cl,
    peak_rss_mb: o.memorySteps > 0 ? round(peakRss / MB) : null,
    process_peak_rss_mb: round(vmHwmMb()),
    rss_step100_mb: rss100 === null ? null : round(rss100 / MB),
    rss_end_mb: rssEnd === null ? null : round(rssEnd / MB),
    rss_growth_pct_100_to_1000: round(growth, 2),
    memory_steps: o.memorySteps,
    memory_batch: memoryBatch,
    live_tensors_step100: live100,
    live_tensors_end: liveEnd,
    paenet_final_loss: round(finalLoss, 4),
    memory_final_loss: round(memFinalLoss, 4),
    torch_final_loss: t ? round(t.final_loss, 4) : null,
    torch_version: torch?.version ?? null,
    libtorch_version: engineInfo().torchVersion,
    node_version: process.version,
    ...precision,
  };
}
