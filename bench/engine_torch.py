"""PyTorch side of `npm run bench -- engine`: the same reference net, sizes, threads and timing as bench/engine.ts.

Run by bench/engine.ts with /usr/bin/python3 (Debian's torch); prints one JSON object on stdout.
Timing: `warmup` steps excluded, then `steps` timed steps; img/s = batch / median step time (robust to other
processes on a shared machine), and the mean-based figure alongside.
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def reference_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10),
    )


def rates(times, batch):
    med = statistics.median(times)
    mean = sum(times) / len(times)
    return {"img_s": batch / med, "img_s_mean": batch / mean, "step_ms_median": med * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = reference_net().to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, a.size, a.size).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,))

    def train_step():
        opt.zero_grad()  # set_to_none, as paenet's zeroGrad
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    net.train()
    train = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = train_step()
        if i >= a.warmup:
            train.append(time.perf_counter() - t0)
    final_loss = float(loss)

    net.eval()
    infer = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            net(x)
            if i >= a.warmup:
                infer.append(time.perf_counter() - t0)

    tr, inf = rates(train, a.batch), rates(infer, a.batch)
    print(json.dumps({
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "train_img_s": tr["img_s"],
        "train_img_s_mean": tr["img_s_mean"],
        "train_step_ms_median": tr["step_ms_median"],
        "infer_img_s": inf["img_s"],
        "infer_img_s_mean": inf["img_s_mean"],
        "infer_step_ms_median": inf["step_ms_median"],
        "final_loss": final_loss,
    }))


if __name__ == "__main__":
    main()
