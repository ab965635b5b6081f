#!/usr/bin/env python3
"""Train Headgate's demo diffusion model `digits-dit` and write its bundle, quality table and test fixtures.

Needs Debian's PyTorch, ONNX exporter and scikit-learn's data (no pip, no model hub):
    apt-get install -y python3-torch python3-onnx python3-sklearn python3-scipy libopenblas0-pthread
    OMP_NUM_THREADS=1 /usr/bin/python3 training/train_digits_dit.py
                         # one thread: classifier ~20 s; DiT 6000 steps at ~0.15 s each on a free core
                         # (~15 min; the committed weights took 70 min on a shared 2-core VM under heavy
                         # load); quality table ~8 min free (20 min under load); export and fixtures ~5 s
    OMP_NUM_THREADS=1 /usr/bin/python3 training/train_digits_dit.py --export-only
                         # reload the committed weights: re-export the graphs and rewrite the fixtures
                         # (add --quality to recompute the quality table too)

Data: the 1,797 8x8 digits (values 0-16) that Debian's python3-sklearn ships in
/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz, scaled to [-1, 1]. A fixed
shuffle holds out 20% (360 images) as the test split: it gives the classifier's held-out accuracy and
the real-image feature statistics that Fréchet distances are measured against. Both models train on
the other 80% only.

The model: a class-conditional diffusion transformer (DiT) trained with flow matching.
  - patches of 2x2 -> 16 tokens of width 64, learned position embedding;
  - 4 blocks x 4 heads x 16 dims, MLP 4x, adaLN-Zero conditioning on c = MLP(sinusoid(1000 t)) + label
    embedding (11 entries: 0-9, and 10 = the null label used for unconditional prediction);
  - flow matching: x_t = (1 - t) x0 + t eps, the model predicts the velocity eps - x0, t ~ sigmoid(N(0, 1));
    sampling runs t from 1 (noise) to 0 (image) with Euler steps;
  - 10% of training labels are replaced by the null label (classifier-free guidance needs both);
  - AdamW 1e-3, batch 128, EMA 0.999 of the weights (the EMA weights are what ships).
Attention is written out by hand so that the three head controls act on each head's output z
(before the output projection) exactly as in Headgate's language models:
    z <- g * ((1 - u) * z + u * v_self) + b      head_gain g [B,L,H], attn_identity_mix u [B,L,H],
                                                 head_bias b [B,L,H,Dh]
u = 1 replaces the head's attention map by the identity (perturbed-attention guidance, PAG); 0 < u < 1
is SoftPAG. g = 1, u = 0, b = 0 is the identity.

Writes
    models/digits-dit/model.onnx            steerable graph (x_t, t, class_label, the 3 controls -> velocity)
    models/digits-dit/model.safetensors     the EMA weights, so --export-only needs no retraining
    models/digits-dit/classifier.onnx       image [B,1,8,8] in [-1,1] -> logits [B,10], features [B,64]
    models/digits-dit/classifier.safetensors
    models/digits-dit/feature-stats.json    mean/covariance (N-1) of the classifier features on the test split
    models/digits-dit/headgate.json         the bundle manifest (kind "diffusion")
    models/digits-dit/quality.json, QUALITY.md   sample quality in PyTorch
    src/test/resources/reference/digits-dit/plain.onnx       the same weights without control inputs
    src/test/resources/reference/digits-dit/reference.json   float64 velocities and a sampling trajectory
    src/test/resources/reference/frechet.json                Fréchet distances computed with scipy
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import load_safetensors, save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
MODEL_DIR = os.path.join(ROOT, "models", "digits-dit")
FIXTURE_DIR = os.path.join(ROOT, "src", "test", "resources", "reference", "digits-dit")

CLASSES = 10
NULL_LABEL = CLASSES
SIDE, PATCH, WIDTH, LAYERS, HEADS = 8, 2, 64, 4, 4
HEAD_DIM = WIDTH // HEADS
TOKENS = (SIDE // PATCH) ** 2
FEATURES = 64
DEFAULT_STEPS = 20
MAX_STEPS = 250
DEFAULT_CFG = 1.0   # v = v_u + w (v_c - v_u): w = 1 is plain conditional sampling, which is best on FD here
DEFAULT_PAG = 0.0


# ---------------------------------------------------------------- data

def load_digits():
    """(images [N,1,8,8] float in [-1,1], labels [N] int64), in file order."""
    rows = np.loadtxt(gzip.open(DIGITS, "rt"), delimiter=",")
    x = torch.tensor(rows[:, :64], dtype=torch.float32).reshape(-1, 1, SIDE, SIDE) / 16.0 * 2.0 - 1.0
    y = torch.tensor(rows[:, 64], dtype=torch.int64)
    return x, y


def split(x, y, seed=20251130, test_fraction=0.2):
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = int(round(len(x) * test_fraction))
    test, train = perm[:n_test], perm[n_test:]
    return (x[train], y[train]), (x[test], y[test])


# ---------------------------------------------------------------- the DiT

def timestep_embedding(t, dim=WIDTH):
    """Sinusoid of 1000 t (t in [0, 1]), [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=t.dtype) / half)
    a = (1000.0 * t)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(WIDTH, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        self.norm2 = nn.LayerNorm(WIDTH, elementwise_affine=False, eps=1e-6)
        self.fc1 = nn.Linear(WIDTH, 4 * WIDTH)
        self.fc2 = nn.Linear(4 * WIDTH, WIDTH)
        self.ada = nn.Linear(WIDTH, 6 * WIDTH)  # adaLN-Zero: shift, scale, gate for attention and MLP

    def forward(self, x, c, controls):
        """x [B,T,D], c [B,D]; controls: None, or (gain [B,H], bias [B,H,Dh], mix [B,H]) of this layer."""
        B, T, D = x.shape
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(F.silu(c)).chunk(6, dim=1)
        h = self.norm1(x) * (1 + scale1[:, None]) + shift1[:, None]
        # each [B,H,T,Dh]; unpacking traces as three Gathers (torch.onnx warns about it; the count is fixed)
        q, k, v = self.qkv(h).reshape(B, T, 3, HEADS, HEAD_DIM).permute(2, 0, 3, 1, 4)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (HEAD_DIM ** -0.5), dim=-1)
        z = torch.matmul(att, v)
        if controls is not None:
            gain, bias, mix = controls
            g, u, b = gain[:, :, None, None], mix[:, :, None, None], bias[:, :, None, :]
            z = g * ((1 - u) * z + u * v) + b
        z = z.transpose(1, 2).reshape(B, T, D)
        x = x + gate1[:, None] * self.proj(z)
        h = self.norm2(x) * (1 + scale2[:, None]) + shift2[:, None]
        return x + gate2[:, None] * self.fc2(F.gelu(self.fc1(h)))


class DiT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Linear(PATCH * PATCH, WIDTH)
        self.pos = nn.Parameter(torch.randn(1, TOKENS, WIDTH) * 0.02)
        self.t_mlp = nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.SiLU(), nn.Linear(WIDTH, WIDTH))
        self.label = nn.Embedding(CLASSES + 1, WIDTH)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(WIDTH, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Linear(WIDTH, 2 * WIDTH)
        self.out = nn.Linear(WIDTH, PATCH * PATCH)
        nn.init.normal_(self.label.weight, std=0.02)
        for blk in self.blocks:  # adaLN-Zero: every block starts as the identity
            nn.init.zeros_(blk.ada.weight)
            nn.init.zeros_(blk.ada.bias)
        for m in (self.final_ada, self.out):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x_t, t, class_label, head_gain=None, head_bias=None, attn_identity_mix=None):
        """x_t [B,1,8,8], t [B], class_label [B] (10 = null); controls [B,L,H] / [B,L,H,Dh] or None -> velocity."""
        n = SIDE // PATCH
        p = x_t.reshape(-1, n, PATCH, n, PATCH).permute(0, 1, 3, 2, 4).reshape(-1, TOKENS, PATCH * PATCH)
        x = self.patch(p) + self.pos
        c = self.t_mlp(timestep_embedding(t)) + self.label(class_label)
        for l, blk in enumerate(self.blocks):
            controls = None if head_gain is None else (head_gain[:, l], head_bias[:, l], attn_identity_mix[:, l])
            x = blk(x, c, controls)
        shift, scale = self.final_ada(F.silu(c)).chunk(2, dim=1)
        x = self.out(self.norm(x) * (1 + scale[:, None]) + shift[:, None])  # [B, T, 4]
        return x.reshape(-1, n, n, PATCH, PATCH).permute(0, 3, 1, 4, 2).reshape(-1, 1, SIDE, SIDE)


class Steerable(nn.Module):
    """The graph with the three control inputs."""

    def __init__(self, dit):
        super().__init__()
        self.dit = dit

    def forward(self, x_t, t, class_label, head_gain, head_bias, attn_identity_mix):
        return self.dit(x_t, t, class_label, head_gain, head_bias, attn_identity_mix)


class Plain(nn.Module):
    """The graph without control inputs (the identity test's baseline)."""

    def __init__(self, dit):
        super().__init__()
        self.dit = dit

    def forward(self, x_t, t, class_label):
        return self.dit(x_t, t, class_label)


def identity_controls(batch, dtype=torch.float32):
    return (torch.ones(batch, LAYERS, HEADS, dtype=dtype), torch.zeros(batch, LAYERS, HEADS, HEAD_DIM, dtype=dtype),
            torch.zeros(batch, LAYERS, HEADS, dtype=dtype))


# ---------------------------------------------------------------- the classifier

class Classifier(nn.Module):
    """A small CNN; `features` (the 64-d layer before the class head, pre-activation) feed the Fréchet distance."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 4 * 4, FEATURES)
        self.head = nn.Linear(FEATURES, CLASSES)

    def forward(self, image):
        h = F.relu(self.c1(image))
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        features = self.fc(h.flatten(1))
        return self.head(F.relu(features)), features


def shift_augment(x, gen):
    """Random shifts of up to one pixel (background -1 fills in)."""
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)
    dx = torch.randint(0, 3, (len(x),), generator=gen)
    dy = torch.randint(0, 3, (len(x),), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + SIDE, dx[i]:dx[i] + SIDE] for i in range(len(x))])


def train_classifier(train, test, epochs=40, seed=1):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, y = train
    clf = Classifier()
    opt = torch.optim.AdamW(clf.parameters(), lr=2e-3, weight_decay=1e-4)
    t0 = time.time()
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            logits, _ = clf(shift_augment(x[idx], gen))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    clf.eval()
    with torch.no_grad():
        acc = (clf(test[0])[0].argmax(1) == test[1]).float().mean().item()
    print(f"classifier: test accuracy {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)
    return clf, acc


# ---------------------------------------------------------------- DiT training

def train_dit(train, steps, seed=0, batch=128):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, y = train
    model = DiT()
    ema = DiT()
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    print(f"DiT parameters: {sum(p.numel() for p in model.parameters())}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        x0, label = x[idx], y[idx].clone()
        label[torch.rand(batch, generator=gen) < 0.1] = NULL_LABEL
        t = torch.sigmoid(torch.randn(batch, generator=gen))
        eps = torch.randn(x0.shape, generator=gen)
        x_t = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * eps
        loss = F.mse_loss(model(x_t, t, label), eps - x0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.999).add_(pm, alpha=0.001)
        if step % 500 == 0 or step == steps - 1:
            print(f"step {step:6d}  loss {loss.item():.4f}  {time.time() - t0:.0f}s", flush=True)
    ema.eval()
    return ema


# ---------------------------------------------------------------- sampling (the pipelines' formulas)

def time_grid(steps):
    """t_i = 1 - i/steps, i = 0..steps, in float64; the graph sees each t_i rounded to float32."""
    return [1.0 - i / steps for i in range(steps + 1)]


def model_t(t, batch, dtype):
    return torch.full((batch,), float(np.float32(t)), dtype=dtype)


def combine(v_c, v_u, v_p, w, s):
    """With CFG (v_u given): v_u + w (v_c - v_u) + s (v_c - v_p); without: v_c + s (v_c - v_p)."""
    v = v_c if v_u is None else v_u + w * (v_c - v_u)
    return v if v_p is None else v + s * (v_c - v_p)


@torch.no_grad()
def sample(model, noise, labels, steps=DEFAULT_STEPS, w=None, s=0.0, mix=None):
    """Euler from t = 1 to 0. labels [B] (NULL_LABEL for unconditional); w: CFG scale or None (off);
    s > 0 with mix [L,H] adds perturbation guidance (the perturbed row: the same input with mix)."""
    B, dtype = len(noise), noise.dtype
    x = noise.clone()
    ident = identity_controls(B, dtype)
    pert = None
    if s != 0.0:
        gain, bias, _ = identity_controls(B, dtype)
        pert = (gain, bias, mix.to(dtype)[None].expand(B, -1, -1).contiguous())
    null = torch.full((B,), NULL_LABEL, dtype=torch.int64)
    grid = time_grid(steps)
    for i in range(steps):
        t = model_t(grid[i], B, dtype)
        v_c = model(x, t, labels, *ident)
        v_u = model(x, t, null, *ident) if w is not None else None
        v_p = model(x, t, labels, *pert) if pert is not None else None
        x = x + (grid[i + 1] - grid[i]) * combine(v_c, v_u, v_p, w, s)
    return x


# ---------------------------------------------------------------- Fréchet distance

def frechet(mu1, cov1, mu2, cov2):
    import scipy.linalg
    covmean = scipy.linalg.sqrtm(cov1 @ cov2)
    covmean = covmean.real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean))


def feature_stats(features):
    f = features.astype(np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


# ---------------------------------------------------------------- quality table

def seeded_noise(n, seed):
    return torch.randn(n, 1, SIDE, SIDE, generator=torch.Generator().manual_seed(seed))


def score(clf, images, labels, stats):
    with torch.no_grad():
        logits, feats = clf(images.float())
    probs = torch.softmax(logits.double(), dim=1)
    mu, cov = feature_stats(feats.numpy())
    out = {"confidence": probs.max(1).values.mean().item(),
           "fd": frechet(mu, cov, stats[0], stats[1])}
    if labels is not None:
        out["accuracy"] = (logits.argmax(1) == labels).float().mean().item()
    return out


def whole_layer(l):
    m = torch.zeros(LAYERS, HEADS)
    m[l] = 1.0
    return m


def quality_table(model, clf, stats, train, seeds=(1, 2, 3), n=500):
    conditional = torch.arange(n) % CLASSES
    null = torch.full((n,), NULL_LABEL, dtype=torch.int64)
    configs = [("conditional", dict(labels=conditional, w=None))]
    configs += [(f"conditional, CFG w={w:g}", dict(labels=conditional, w=w)) for w in (1.5, 2.0, 3.0)]
    configs += [("unconditional", dict(labels=null, w=None))]
    for s in (0.5, 1.0):
        configs += [(f"unconditional, PAG layer {l}, s={s:g}", dict(labels=null, w=None, s=s, mix=whole_layer(l)))
                    for l in range(LAYERS)]
    rows = []
    real = score(clf, train[0][:n], train[1][:n], stats)
    rows.append({"name": "real training images", "seeds": 1, "n": n,
                 **{k: {"mean": v, "std": 0.0, "values": [v]} for k, v in real.items()}})
    for name, cfg in configs:
        t0 = time.time()
        per_seed = []
        for seed in seeds:
            labels = cfg["labels"]
            imgs = sample(model, seeded_noise(n, seed), labels, w=cfg["w"], s=cfg.get("s", 0.0), mix=cfg.get("mix"))
            per_seed.append(score(clf, imgs, labels if labels[0] != NULL_LABEL else None, stats))
        row = {"name": name, "seeds": len(seeds), "n": n}
        for k in per_seed[0]:
            vals = [r[k] for r in per_seed]
            row[k] = {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1)), "values": vals}
        rows.append(row)
        print(f"{name}: " + ", ".join(f"{k} {row[k]['mean']:.3f}±{row[k]['std']:.3f}" for k in per_seed[0])
              + f" ({time.time() - t0:.0f}s)", flush=True)
    return rows


def write_quality(rows, clf_acc, n_test):
    write_json(os.path.join(MODEL_DIR, "quality.json"), {"classifier_test_accuracy": clf_acc, "rows": rows}, indent=2)
    lines = ["# digits-dit sample quality (PyTorch)", "",
             "Made by `training/train_digits_dit.py`: 20 Euler steps from t = 1 to 0, 500 samples per seed",
             "(conditional: 50 of each class), seeds 1-3 (torch noise), mean ± standard deviation over seeds.",
             f"Scored by the bundle's classifier (held-out accuracy {clf_acc:.3f}): accuracy = share of conditional",
             "samples classified as their label; confidence = mean top-class probability; FD = Fréchet distance",
             f"of the classifier's 64-d features against the {n_test} held-out real images.",
             "Guidance: `v = v_u + w·(v_c − v_u) + s·(v_c − v_p)` with CFG, `v = v_c + s·(v_c − v_p)` without;",
             "PAG sets `attn_identity_mix` = 1 on every head of one layer in the perturbed row.",
             "FD has a sample-size bias: compare rows with each other, not with other tables.", "",
             "| samples | accuracy | confidence | FD |", "|---|---|---|---|"]

    def cell(row, k):
        return f"{row[k]['mean']:.3f} ± {row[k]['std']:.3f}" if k in row else "–"
    for row in rows:
        lines.append(f"| {row['name']} | {cell(row, 'accuracy')} | {cell(row, 'confidence')} | {cell(row, 'fd')} |")
    with open(os.path.join(MODEL_DIR, "QUALITY.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


# ---------------------------------------------------------------- export

def export(dit, clf):
    os.makedirs(MODEL_DIR, exist_ok=True)
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    B = 2
    x = torch.randn(B, 1, SIDE, SIDE)
    t = torch.rand(B)
    y = torch.tensor([3, NULL_LABEL])
    gain, bias, mix = identity_controls(B)
    batch = {"x_t": {0: "batch"}, "t": {0: "batch"}, "class_label": {0: "batch"}, "velocity": {0: "batch"},
             "head_gain": {0: "batch"}, "head_bias": {0: "batch"}, "attn_identity_mix": {0: "batch"}}
    torch.onnx.export(Steerable(dit), (x, t, y, gain, bias, mix), os.path.join(MODEL_DIR, "model.onnx"),
                      input_names=["x_t", "t", "class_label", "head_gain", "head_bias", "attn_identity_mix"],
                      output_names=["velocity"], dynamic_axes=batch, opset_version=14)
    torch.onnx.export(Plain(dit), (x, t, y), os.path.join(FIXTURE_DIR, "plain.onnx"),
                      input_names=["x_t", "t", "class_label"], output_names=["velocity"],
                      dynamic_axes={k: batch[k] for k in ("x_t", "t", "class_label", "velocity")}, opset_version=14)
    torch.onnx.export(clf, (x,), os.path.join(MODEL_DIR, "classifier.onnx"), input_names=["image"],
                      output_names=["logits", "features"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
                      opset_version=14)
    import onnx
    for path in (os.path.join(MODEL_DIR, "model.onnx"), os.path.join(FIXTURE_DIR, "plain.onnx"),
                 os.path.join(MODEL_DIR, "classifier.onnx")):
        onnx.checker.check_model(onnx.load(path))
    manifest = {
        "format": 1,
        "name": "digits-dit",
        "kind": "diffusion",
        "graph": "model.onnx",
        "dimensions": {"layers": LAYERS, "heads": HEADS, "kvHeads": HEADS, "headDim": HEAD_DIM, "modelDim": WIDTH,
                       "vocabSize": 0},
        "maxLength": TOKENS,
        "controls": ["head_gain", "head_bias", "attn_identity_mix"],
        "diffusion": {"channels": 1, "height": SIDE, "width": SIDE, "classes": CLASSES, "pixelMin": -1.0,
                      "pixelMax": 1.0, "defaultSteps": DEFAULT_STEPS, "maxSteps": MAX_STEPS,
                      "defaultCfgScale": DEFAULT_CFG, "defaultPerturbationScale": DEFAULT_PAG,
                      "classifier": "classifier.onnx", "featureStats": "feature-stats.json"},
    }
    write_json(os.path.join(MODEL_DIR, "headgate.json"), manifest, indent=2)


# ---------------------------------------------------------------- reference fixtures

class SplitMix64:
    """java.util.SplittableRandom(seed).nextLong(), written out (golden gamma, mix64)."""
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next_long(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)


def gaussian_noise(seed, n):
    """Headgate's seeded noise (io.headgate.engine.diffusion.Noise), written out independently: pairs of
    uniforms u = (nextLong >>> 11) * 2^-53, Box-Muller r = sqrt(-2 ln(1 - u1)), z = r cos(2 pi u2), r sin(2 pi u2)."""
    rng = SplitMix64(seed)
    out = []
    while len(out) < n:
        u1 = (rng.next_long() >> 11) * 2.0 ** -53
        u2 = (rng.next_long() >> 11) * 2.0 ** -53
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        out += [r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)]
    return [float(np.float32(v)) for v in out[:n]]


def control_settings(gen):
    """Named control settings [L,H] / [L,H,Dh] in float64, values exactly representable in float32."""
    def f32(tensor):
        return tensor.float().double()
    gain = f32(0.25 + 1.5 * torch.rand(LAYERS, HEADS, generator=gen, dtype=torch.float64))
    gain[0, 0] = 0.0     # an ablated head
    gain[-1, -1] = -1.0  # a sign-flipped head
    bias = f32(0.3 * torch.randn(LAYERS, HEADS, HEAD_DIM, generator=gen, dtype=torch.float64))
    mix = f32(torch.rand(LAYERS, HEADS, generator=gen, dtype=torch.float64))
    mix[1] = 1.0         # PAG on a whole layer
    return {"identity": {}, "gain": {"gain": gain}, "bias": {"bias": bias}, "mix": {"mix": mix},
            "all": {"gain": gain, "bias": bias, "mix": mix}}


def controls_of(setting, batch=1):
    gain, bias, mix = identity_controls(batch, torch.float64)
    if "gain" in setting:
        gain[:] = setting["gain"]
    if "bias" in setting:
        bias[:] = setting["bias"]
    if "mix" in setting:
        mix[:] = setting["mix"]
    return gain, bias, mix


def setting_json(setting):
    return {k: v.tolist() for k, v in setting.items()}


def mix_on(heads):
    m = torch.zeros(LAYERS, HEADS, dtype=torch.float64)
    for l, h in heads:
        m[l, h] = 1.0
    return m


@torch.no_grad()
def write_reference(dit):
    ref = DiT()
    ref.load_state_dict(dit.state_dict())
    ref = ref.double().eval()
    gen = torch.Generator().manual_seed(5)
    settings = control_settings(gen)
    cases = []
    ts = [1.0, 0.85, 0.5, 0.2, 0.03]
    labels = [0, 3, 7, NULL_LABEL, 9]
    for name, setting in settings.items():
        for i, (t, label) in enumerate(zip(ts, labels)):
            x = torch.randn(1, 1, SIDE, SIDE, generator=gen, dtype=torch.float64).float().double()
            t32 = float(np.float32(t))
            v = ref(x, torch.tensor([t32], dtype=torch.float64), torch.tensor([label]), *controls_of(setting))
            cases.append({"name": f"{name}/{i}", "x_t": x.flatten().tolist(), "t": t32, "class_label": label,
                          "controls": setting_json(setting), "velocity": v.flatten().tolist()})

    # one full trajectory: CFG w and PAG s on chosen heads, then other heads and another scale from step k+1
    steps, switch_after, seed, label = DEFAULT_STEPS, 8, 424242, 7
    phases = [{"from_step": 0, "w": 2.0, "s": 1.0, "mix": mix_on([(1, 0), (1, 2)])},
              {"from_step": switch_after + 1, "w": 1.5, "s": 0.5, "mix": mix_on([(2, 1), (0, 3), (3, 0)]) * 0.5}]
    noise = torch.tensor(gaussian_noise(seed, SIDE * SIDE), dtype=torch.float64).reshape(1, 1, SIDE, SIDE)
    x = noise.clone()
    grid = time_grid(steps)
    xs = []
    ident = identity_controls(1, torch.float64)
    for i in range(steps):
        phase = [p for p in phases if p["from_step"] <= i][-1]
        pert = (ident[0], ident[1], phase["mix"][None])
        t = model_t(grid[i], 1, torch.float64)
        v_c = ref(x, t, torch.tensor([label]), *ident)
        v_u = ref(x, t, torch.tensor([NULL_LABEL]), *ident)
        v_p = ref(x, t, torch.tensor([label]), *pert)
        x = x + (grid[i + 1] - grid[i]) * combine(v_c, v_u, v_p, phase["w"], phase["s"])
        xs.append(x.flatten().tolist())
    trajectory = {"seed": seed, "steps": steps, "class_label": label, "noise": noise.flatten().tolist(),
                  "phases": [{"from_step": p["from_step"], "cfg_scale": p["w"], "perturbation_scale": p["s"],
                              "mix": p["mix"].tolist()} for p in phases],
                  "x": xs}
    write_json(os.path.join(FIXTURE_DIR, "reference.json"), {
        "model": "digits-dit", "precision": "float64 (the float32 weights, evaluated in float64)",
        "grid": "t_i = 1 - i/steps; the graph sees t_i rounded to float32, the Euler step uses float64 t",
        "cases": cases, "trajectory": trajectory})
    print(f"wrote {len(cases)} velocity cases and a {steps}-step trajectory", flush=True)


def write_frechet_fixture():
    """Fréchet distances between random Gaussians computed with scipy.linalg.sqrtm, for the Java implementation."""
    rng = np.random.default_rng(17)
    cases = []
    for dim, rank in ((3, 3), (8, 8), (64, 64), (16, 5)):
        def random_cov():
            a = rng.normal(size=(dim, rank))
            return a @ a.T / rank + (0.0 if rank < dim else 0.05) * np.eye(dim)
        mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
        c1, c2 = random_cov(), random_cov()
        cases.append({"dim": dim, "mu1": mu1.tolist(), "cov1": c1.tolist(), "mu2": mu2.tolist(), "cov2": c2.tolist(),
                      "fd": frechet(mu1, c1, mu2, c2)})
    # sample statistics (mean, N-1 covariance) of a fixed feature matrix, for the Java statistics
    feats = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6))
    mu, cov = feature_stats(feats)
    write_json(os.path.join(ROOT, "src", "test", "resources", "reference", "frechet.json"), {
        "source": "numpy mean/cov (N-1), scipy.linalg.sqrtm(cov1 @ cov2).real",
        "cases": cases, "samples": {"features": feats.tolist(), "mean": mu.tolist(), "cov": cov.tolist()}})


# ---------------------------------------------------------------- main

def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--export-only", action="store_true",
                    help="reload the committed weights; re-export graphs, manifest and fixtures")
    ap.add_argument("--quality", action="store_true", help="with --export-only: recompute the quality table too")
    args = ap.parse_args()
    torch.set_num_threads(1)
    x, y = load_digits()
    train, test = split(x, y)
    print(f"train {len(train[0])}, test {len(test[0])}", flush=True)

    if args.export_only:
        dit, clf = DiT(), Classifier()
        dit.load_state_dict(load_safetensors(os.path.join(MODEL_DIR, "model.safetensors")))
        clf.load_state_dict(load_safetensors(os.path.join(MODEL_DIR, "classifier.safetensors")))
        dit.eval()
        clf.eval()
        with torch.no_grad():
            clf_acc = (clf(test[0])[0].argmax(1) == test[1]).float().mean().item()
    else:
        clf, clf_acc = train_classifier(train, test)
        dit = train_dit(train, args.steps)
        os.makedirs(MODEL_DIR, exist_ok=True)
        save_safetensors(os.path.join(MODEL_DIR, "model.safetensors"), dit.state_dict())
        save_safetensors(os.path.join(MODEL_DIR, "classifier.safetensors"), clf.state_dict())

    with torch.no_grad():
        _, feats = clf(test[0])
    mu, cov = feature_stats(feats.numpy())
    write_json(os.path.join(MODEL_DIR, "feature-stats.json"),
               {"mean": mu.tolist(), "cov": cov.tolist(), "count": len(test[0])})
    export(dit, clf)
    write_reference(dit)
    write_frechet_fixture()
    if not args.export_only or args.quality:
        rows = quality_table(dit, clf, (mu, cov), train)
        write_quality(rows, clf_acc, len(test[0]))


if __name__ == "__main__":
    main()
