# Scratch (issue 13): images/s of faceres (MobileNet v1) training steps and inference at several input sizes, fp32 vs
# bf16 autocast vs channels_last, on the CPU (Debian's libtorch 1.13, the one the addon links), and dlib's ResNet at
# 150 px for comparison. Configurations are measured round-robin and each keeps its best round, so the load other
# jobs put on the shared cores hits them all alike; compare ratios within one run.
# THREADS=2 OMP_WAIT_POLICY=PASSIVE python3 faceres_bench.py MODEL_JSON [ROUNDS]   (env SIZES, MODES, DLIB=0;
# the notes' table also sets MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=1073741824)
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from faceres_torch import load_faceres


class DlibBlock(nn.Module):
    """dlib's residual block (as face-api computes it); a down block opens with a 'valid' 3x3/2 conv and its
    shortcut is a 2x2/2 average pool zero-padded to the new width."""

    def __init__(self, cin, cout, down):
        super().__init__()
        self.down, self.extra = down, cout - cin
        self.c1 = nn.Conv2d(cin, cout, 3, 2 if down else 1, 0 if down else 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        h = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        if not self.down:
            return F.relu(h + x)
        s = F.avg_pool2d(x, 2, 2)
        h = F.pad(h, (0, s.shape[3] - h.shape[3], 0, s.shape[2] - h.shape[2]))
        return F.relu(h + F.pad(s, (0, 0, 0, 0, 0, self.extra)))


class DlibResnet(nn.Module):
    def __init__(self):
        super().__init__()
        blocks, cin = [], 32
        for s, (c, n) in enumerate(zip((32, 64, 128, 256), (3, 3, 2, 2))):
            if s > 0:
                blocks.append(DlibBlock(cin, c, True))
            blocks += [DlibBlock(c, c, False) for _ in range(n)]
            cin = c
        blocks.append(DlibBlock(256, 256, True))
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 7, 2, 0, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, x):
        return (self.fc(self.blocks(self.stem(x)).mean((2, 3))),)


def make_step(model, size, dim, mode, train, batch):
    cl = "cl" in mode
    bf16 = "bf16" in mode
    fmt = torch.channels_last if cl else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = (torch.rand(batch, 3, size, size) * 255).contiguous(memory_format=fmt)
    y = torch.randint(0, 500, (batch,))
    head = nn.Linear(dim, 500)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            if train:
                model.train()
                loss = F.cross_entropy(head(model(x)[0]).float(), y)
            else:
                model.eval()
                with torch.no_grad():
                    model(x)
        if train:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return step


def main():
    model_json = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = int(os.environ.get("THREADS", "2"))
    torch.set_num_threads(threads)
    sizes = [int(s) for s in os.environ.get("SIZES", "224,160,128,112,96").split(",")]
    modes = os.environ.get("MODES", "fp32,bf16,cl,cl+bf16").split(",")
    configs = []
    # One network per (size, mode), shared by its three steps, keeps the resident memory to a few hundred MB.
    for size in sizes:
        for mode in modes:
            net, _ = load_faceres(model_json, eps=1e-3)
            for train, batch in ((True, 32), (False, 32), (False, 1)):
                configs.append((f"faceres {size} {mode} {'train' if train else 'infer'} b{batch}", make_step(net, size, 1024, mode, train, batch), batch))
    if os.environ.get("DLIB", "1") == "1":
        for mode in modes:
            net = DlibResnet()
            for train, batch in ((True, 32), (False, 32), (False, 1)):
                configs.append((f"dlib 150 {mode} {'train' if train else 'infer'} b{batch}", make_step(net, 150, 128, mode, train, batch), batch))
    # Wall time depends on what else runs; the process's CPU time much less (with OMP_WAIT_POLICY=PASSIVE idle
    # threads sleep instead of spinning), so images per CPU-second x threads estimates the throughput on idle cores.
    best_wall = {name: 0.0 for name, _, _ in configs}
    best_cpu = {name: 0.0 for name, _, _ in configs}
    for step_name, step, _ in configs:
        step()  # warm-up: oneDNN primitive creation, allocator
    print(f"warmed up {len(configs)} configurations, load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    for r in range(rounds):
        for name, step, batch in configs:
            n, t0, c0 = 0, time.perf_counter(), time.process_time()
            while True:
                step()
                n += batch
                dt = time.perf_counter() - t0
                if dt > 1.5 or (batch == 1 and n >= 16):
                    break
            best_wall[name] = max(best_wall[name], n / dt)
            best_cpu[name] = max(best_cpu[name], n * threads / (time.process_time() - c0))
        print(f"round {r + 1}/{rounds} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
        # Every round prints the best so far, so a run cut short still leaves its numbers.
        for name, _, _ in configs:
            print(f"round {r + 1} {name}: {best_cpu[name]:.1f} img/s by CPU time, {best_wall[name]:.1f} img/s wall", flush=True)


if __name__ == "__main__":
    main()
