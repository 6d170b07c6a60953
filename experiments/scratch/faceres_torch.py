# Scratch (issue 13): Human's faceres graph (tfjs graph model) rebuilt in PyTorch with its shipped weights, read
# straight from model.json + shard with numpy (independent of src/io/tfjs-graph.ts, so the two cross-check).
# `python3 faceres_torch.py MODEL_JSON DUMP_DIR` checks parity against tfjs's outputs that faceres-dump-crops.ts
# wrote, then writes descriptors and head outputs of every dumped crop set at every size (desc-SET-SIZE.f32 ...).
# Env: THREADS (2), SETS (celeba,glint,utk), SIZES (the dumped ones), FLIP=0 (skip the mirrored pass), TAG (a suffix
# for the output names, e.g. -deep), BF16=1 (bf16 autocast + channels_last). Existing outputs are kept, not redone.
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_graph(model_json):
    """Nodes (non-Const, in file order) and weights (numpy float32/int32 by node name)."""
    with open(model_json) as f:
        m = json.load(f)
    weights = {}
    folder = os.path.dirname(model_json)
    for group in m["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        at = 0
        for w in group["weights"]:
            n = math.prod(w["shape"])
            q = w.get("quantization", {}).get("dtype")
            if q == "float16":
                a = np.frombuffer(data, np.float16, n, at).astype(np.float32)
                at += 2 * n
            elif q is None:
                a = np.frombuffer(data, np.float32 if w["dtype"] == "float32" else np.int32, n, at)
                at += 4 * n
            else:
                raise ValueError(f"{model_json}: {w['name']} quantised as {q}, not handled here")
            weights[w["name"]] = a.reshape(w["shape"])
        assert at == len(data), f"{model_json}: shard size mismatch"
    nodes = [n for n in m["modelTopology"]["node"] if n["op"] != "Const"]
    return nodes, weights


def tf_same_pad(x, k, s):
    """TensorFlow's SAME padding: the odd pixel goes to the bottom/right (PyTorch's padding=k//2 is symmetric)."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class ConvBnRelu6(nn.Module):
    def __init__(self, cin, cout, k, stride, depthwise, eps):
        super().__init__()
        self.k, self.stride = k, stride
        pad = 0 if (stride > 1 or k == 1) else k // 2
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, groups=cin if depthwise else 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=eps)

    def forward(self, x):
        if self.stride > 1:
            x = tf_same_pad(x, self.k, self.stride)
        # clamp, not hardtanh: libtorch 1.13 has no bf16 backward for hardtanh on the CPU.
        return self.bn(self.conv(x)).clamp(0.0, 6.0)


class FaceRes(nn.Module):
    """MobileNet v1 (conv 3x3/2 + 13 depthwise-separable blocks), 1024-d mean-pooled descriptor, 256-d ReLU
    features, gender (sigmoid = P(male)) and age (softmax over 100 years) heads. Input NHWC or NCHW, 0..255."""

    def __init__(self, specs, eps=0.0):
        super().__init__()
        self.layers = nn.Sequential(*[ConvBnRelu6(s["cin"], s["cout"], s["k"], s["stride"], s["dw"], eps) for s in specs])
        self.feats = nn.Linear(1024, 256)
        self.gender = nn.Linear(256, 1)
        self.age = nn.Linear(256, 100)

    def forward(self, x):
        d = self.layers(x).mean((2, 3))
        f = F.relu(self.feats(d))
        return d, torch.sigmoid(self.gender(f))[:, 0], torch.softmax(self.age(f), 1)


def layer_specs(nodes, weights):
    """Walks conv → [Mul] → Add → Relu → Minimum(6) → Maximum(0) groups; asserts the graph is exactly that."""
    specs, cur = [], None
    for n in nodes:
        op, ins = n["op"], n.get("input", [])
        if op in ("Conv2D", "DepthwiseConv2dNative"):
            w = weights[ins[1]]
            a = n["attr"]
            strides = [int(v) for v in a["strides"]["list"]["i"]]
            assert a["padding"]["s"] == "U0FNRQ==" and strides[0] == strides[3] == 1 and strides[1] == strides[2]
            dw = op == "DepthwiseConv2dNative"
            kh, kw, cin, cout = w.shape
            assert kh == kw and (not dw or cout == 1)
            t = w.transpose(2, 3, 0, 1).reshape(cin, 1, kh, kw) if dw else w.transpose(3, 2, 0, 1)
            cur = {"name": n["name"], "cin": cin, "cout": cin if dw else cout, "k": kh, "stride": strides[1], "dw": dw, "w": t}
            cur["scale"] = np.ones(cur["cout"], np.float32)
            specs.append(cur)
        elif op == "Mul":
            cur["scale"] = weights[ins[1]]
        elif op == "Add":
            cur["shift"] = weights[ins[1]]
        elif op == "Minimum":
            assert float(weights[ins[1]]) == 6.0
        elif op == "Maximum":
            assert float(weights[ins[1]]) == 0.0
    return specs


def load_faceres(model_json, eps=0.0):
    nodes, weights = read_graph(model_json)
    specs = layer_specs(nodes, weights)
    model = FaceRes(specs, eps)
    with torch.no_grad():
        for layer, s in zip(model.layers, specs):
            layer.conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(s["w"])))
            layer.bn.weight.copy_(torch.from_numpy(s["scale"].copy()))
            layer.bn.bias.copy_(torch.from_numpy(s["shift"].copy()))
            layer.bn.running_mean.zero_()
            # With eps = 0 the eval-mode BatchNorm is exactly the graph's x * mul + sub.
            layer.bn.running_var.fill_(1.0 - eps)
        for lin, name in ((model.feats, "feats"), (model.gender, "gender_pred"), (model.age, "age_pred")):
            lin.weight.copy_(torch.from_numpy(weights[f"{name}/kernel"].T.copy()))
            lin.bias.copy_(torch.from_numpy(weights[f"{name}/bias"].copy()))
    return model.eval(), specs


def crops(dump, name, size):
    raw = np.fromfile(os.path.join(dump, f"{name}-{size}.u8"), np.uint8)
    return raw.reshape(-1, size, size, 3)


def run(model, pixels, batch=64, flip=False):
    # BF16=1: the same weights under bf16 autocast (channels_last), to see what bf16 inference costs in accuracy.
    bf16 = os.environ.get("BF16") == "1"
    fmt = torch.channels_last if bf16 else torch.contiguous_format
    model = model.to(memory_format=fmt)
    outs = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(pixels), batch):
            x = torch.from_numpy(pixels[i : i + batch].astype(np.float32)).permute(0, 3, 1, 2).contiguous(memory_format=fmt)
            if flip:
                x = x.flip(3)
            outs.append([t.float() for t in model(x)])
    return [torch.cat(t).numpy() for t in zip(*outs)]


def cosine(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def main():
    model_json, dump = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    model, specs = load_faceres(model_json)
    print("layers", len(specs), "params", sum(p.numel() for p in model.parameters()))
    meta = json.load(open(os.path.join(dump, "meta.json")))
    n = meta["tfjs"]["n"]
    d, g, a = run(model, crops(dump, "celeba", 224)[:n])
    # The parity check holds for fp32 only; with BF16=1 this prints how far bf16 lands from tfjs's fp32 run.
    ref = {k: np.fromfile(os.path.join(dump, f"tfjs-{k}.f32"), np.float32) for k in ("desc", "gender", "age")}
    cos = cosine(d, ref["desc"].reshape(n, -1))
    print(f"parity vs tfjs ({meta['tfjs']['backend']}): descriptor cosine min {cos.min():.7f}, max|Δ| desc "
          f"{np.abs(d - ref['desc'].reshape(n, -1)).max():.2e}, gender {np.abs(g - ref['gender']).max():.2e}, "
          f"age {np.abs(a - ref['age'].reshape(n, -1)).max():.2e}")
    # The tfjs reference is faceres.json's fp32 run; another checkpoint (faceres-deep) or bf16 only reports the gap.
    if os.environ.get("BF16") != "1" and os.path.basename(model_json) == "faceres.json":
        assert cos.min() >= 0.9999
    sets = [s for s in ("celeba", "glint", "utk") if os.environ.get("SETS", "celeba,glint,utk").find(s) >= 0]
    tag = os.environ.get("TAG", "")
    sizes = [int(x) for x in os.environ.get("SIZES", ",".join(map(str, meta["sizes"]))).split(",")]
    # The mirror doubles the cost; FLIP=0 skips it (the peer rows score the plain descriptor).
    flip = os.environ.get("FLIP", "1") == "1"
    for s in sets:
        for size in sizes:
            out = lambda kind: os.path.join(dump, f"{kind}{tag}-{s}-{size}.f32")
            if os.path.exists(out("desc")):
                continue
            t0 = time.time()
            px = crops(dump, s, size)
            d, g, a = run(model, px)
            if flip:
                df, gf, af = run(model, px, flip=True)
                df.astype(np.float32).tofile(out("descflip"))
            if s == "utk":
                g.astype(np.float32).tofile(out("gender"))
                a.astype(np.float32).tofile(out("age"))
                if flip:
                    ((g + gf) / 2).astype(np.float32).tofile(out("genderflip"))
                    ((a + af) / 2).astype(np.float32).tofile(out("ageflip"))
            d.astype(np.float32).tofile(out("desc"))
            print(f"{s} {size}px: {len(px)} crops{' x2' if flip else ''} in {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
