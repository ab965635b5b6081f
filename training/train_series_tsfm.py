#!/usr/bin/env python3
"""Train Headgate's demo forecaster `series-tsfm` on real series and write its checkpoint, its
held-out evaluation set, its accuracy against seasonal naive and the parity fixtures.

Needs Debian's PyTorch and the packages that ship the series (no pip, no network):
    apt-get install -y python3-torch python3-numpy libopenblas0-pthread python3-rdata \
        r-cran-forecast r-cran-modeldata r-cran-tseries r-cran-aer python3-vega-datasets python3-statsmodels
    OMP_NUM_THREADS=1 /usr/bin/python3 training/train_series_tsfm.py     # 2500 steps: 90 minutes, one thread*
    OMP_NUM_THREADS=1 /usr/bin/python3 training/train_series_tsfm.py --eval-only   # reload, rewrite the rest (~30 s)
    (* measured on a 2-core machine shared with other jobs, 1-3 s per step; the data takes ~30 s to read)

Writes
    models/series-tsfm/config.json, model.safetensors   the checkpoint (Llama tensor names + both ends)
    models/series-tsfm/heldout-series.json              the held-out evaluation set (real series)
    models/series-tsfm/accuracy.json, ACCURACY.md       accuracy against seasonal naive, rolling origins
    src/test/resources/reference/series-tsfm.json       float64 reference quantiles for fixed inputs

The model (model_type `patch_llama`) is a decoder-only transformer over patches of a univariate series:

    context: the last C = 512 values (cut if longer, left-padded if shorter), NaN = missing
    normalise: loc = mean, scale = max(std, min_scale_ratio * max|x|) over the observed values (1 if 0)
    patch i (16 values): [ (x - loc) / scale or 0 where missing ... | observed 1/0 ... ]  -> 32 numbers
    h = patch_embed(patch)            residual MLP: out_proj(silu(in_proj(p))) + skip(p)
    Llama blocks over the 32 patches: RMSNorm, causal attention with RoPE over the patch index,
        the head controls on each head's output z before o_proj, z <- g*((1-u)*z + u*v_self) + b,
        SwiGLU MLP
    q = quantile_head(norm(h[last]))  residual MLP -> [horizon 64, 9 quantile levels]
    forecast = loc + scale * q

Training: each position predicts the 64 values after its patch (pinball loss over 9 levels, in
normalised units; 8 of the 32 positions per step, the last always); windows are drawn from the
training part of every series (the held-out tail is never read), series with probability
proportional to sqrt(length); some contexts are shortened and some values hidden to teach the mask.
AdamW, cosine schedule, one thread.
"""
import argparse
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
import series_data  # noqa: E402
from llama_ref import Config as LlamaConfig, Layer, RMSNorm, load_safetensors, save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(ROOT, "models", "series-tsfm")
REFERENCE = os.path.join(ROOT, "src", "test", "resources", "reference", "series-tsfm.json")
QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


class TsfmConfig:
    def __init__(self, **kw):
        self.hidden_size = kw.get("hidden_size", 96)
        self.intermediate_size = kw.get("intermediate_size", 256)
        self.num_hidden_layers = kw.get("num_hidden_layers", 4)
        self.num_attention_heads = kw.get("num_attention_heads", 6)
        self.num_key_value_heads = kw.get("num_key_value_heads", self.num_attention_heads)
        self.head_dim = kw.get("head_dim", self.hidden_size // self.num_attention_heads)
        self.rope_theta = kw.get("rope_theta", 10000.0)
        self.rms_norm_eps = kw.get("rms_norm_eps", 1e-6)
        self.patch_length = kw.get("patch_length", 16)
        self.context_length = kw.get("context_length", 512)
        self.horizon_length = kw.get("horizon_length", 64)
        self.quantiles = kw.get("quantiles", QUANTILES)
        self.patch_embedding_hidden_size = kw.get("patch_embedding_hidden_size", 96)
        self.quantile_head_hidden_size = kw.get("quantile_head_hidden_size", 256)
        self.min_scale_ratio = kw.get("min_scale_ratio", 0.01)

    @property
    def patches(self):
        return self.context_length // self.patch_length

    def llama(self):
        """The block fields, for llama_ref's Layer."""
        return LlamaConfig(model_type="llama", vocab_size=1, hidden_size=self.hidden_size,
                           intermediate_size=self.intermediate_size, num_hidden_layers=self.num_hidden_layers,
                           num_attention_heads=self.num_attention_heads, num_key_value_heads=self.num_key_value_heads,
                           head_dim=self.head_dim, rope_theta=self.rope_theta, rms_norm_eps=self.rms_norm_eps,
                           attention_bias=False)

    def to_json(self):
        return {
            "architectures": ["PatchLlamaForecaster"],
            "model_type": "patch_llama",
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "rope_theta": self.rope_theta,
            "rms_norm_eps": self.rms_norm_eps,
            "max_position_embeddings": self.patches,
            "attention_bias": False,
            "mlp_bias": False,
            "patch_length": self.patch_length,
            "context_length": self.context_length,
            "horizon_length": self.horizon_length,
            "quantiles": self.quantiles,
            "patch_embedding_hidden_size": self.patch_embedding_hidden_size,
            "quantile_head_hidden_size": self.quantile_head_hidden_size,
            "normalization": "mean_std",
            "min_scale_ratio": self.min_scale_ratio,
            "torch_dtype": "float32",
        }


class ResidualBlock(nn.Module):
    """out_proj(silu(in_proj(x))) + skip(x), every Linear with a bias."""

    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.in_proj = nn.Linear(d_in, hidden)
        self.out_proj = nn.Linear(hidden, d_out)
        self.skip = nn.Linear(d_in, d_out)

    def forward(self, x):
        return self.out_proj(F.silu(self.in_proj(x))) + self.skip(x)


class Blocks(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        llama = cfg.llama()
        self.layers = nn.ModuleList([Layer(llama) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class PatchLlamaForecaster(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        P, D = cfg.patch_length, cfg.hidden_size
        self.patch_embed = ResidualBlock(2 * P, cfg.patch_embedding_hidden_size, D)
        self.model = Blocks(cfg)
        self.quantile_head = ResidualBlock(D, cfg.quantile_head_hidden_size, cfg.horizon_length * len(cfg.quantiles))

    def forward(self, values, observed, gain=None, bias=None, mix=None, positions=None):
        """values, observed [B, C] (normalised, 0 where missing; 1/0); gain, mix [B, L, H] and bias
        [B, L, H, Dh] per row, or None. Returns [B, horizon, Q] from the last patch (or [B, len(positions),
        horizon, Q] from the given patch positions: training)."""
        cfg = self.cfg
        B, C = values.shape
        P, N = cfg.patch_length, C // cfg.patch_length
        x = self.patch_embed(torch.cat([values.view(B, N, P), observed.view(B, N, P)], dim=-1))
        inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float64) / cfg.head_dim))
        ang = torch.arange(N, dtype=torch.float64).view(N, 1) * inv.view(1, -1)
        ang = torch.cat((ang, ang), dim=-1)
        cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
        for l, layer in enumerate(self.model.layers):
            # per row, the same at every position: [B, 1, H(, Dh)] broadcasts over the patches
            x = layer(x, cos, sin,
                      None if gain is None else gain[:, l].unsqueeze(1),
                      None if bias is None else bias[:, l].unsqueeze(1),
                      None if mix is None else mix[:, l].unsqueeze(1))
        x = self.model.norm(x)
        x = x[:, -1] if positions is None else x[:, positions]
        return self.quantile_head(x).view(*x.shape[:-1], cfg.horizon_length, len(cfg.quantiles))


# ---- preprocessing (the Java side does exactly this, in double precision)

def context_window(context, cfg):
    """(values [C], observed [C], loc, scale) for a raw context with NaN for missing values."""
    C = cfg.context_length
    x = np.asarray(context, dtype=np.float64)[-C:]
    obs = np.isfinite(x)
    if not obs.any():
        raise ValueError("context has no finite value")
    xo = x[obs]
    loc = float(np.sum(xo) / len(xo))
    std = math.sqrt(float(np.sum((xo - loc) ** 2)) / len(xo))
    scale = max(std, cfg.min_scale_ratio * float(np.max(np.abs(xo))))
    if scale == 0.0:
        scale = 1.0
    values = np.zeros(C)
    observed = np.zeros(C)
    values[C - len(x):] = np.where(obs, (np.where(obs, x, loc) - loc) / scale, 0.0)
    observed[C - len(x):] = obs
    return values, observed, loc, scale


# ---- training

class Sampler:
    def __init__(self, series, cfg, rng):
        self.cfg = cfg
        self.rng = rng
        self.train = [s.train for s in series]
        w = np.sqrt([len(t) for t in self.train])
        self.p = w / w.sum()

    def batch(self, size):
        cfg = self.cfg
        C, P, N, H = cfg.context_length, cfg.patch_length, cfg.patches, cfg.horizon_length
        values = np.zeros((size, C), dtype=np.float32)
        observed = np.zeros((size, C), dtype=np.float32)
        targets = np.full((size, N, H), np.nan, dtype=np.float32)
        picks = self.rng.choice(len(self.train), size=size, p=self.p)
        for b, k in enumerate(picks):
            s = self.train[k]
            t = int(self.rng.integers(min(len(s) - 1, P), len(s)))  # context = s[.. t), forecast from t
            length = min(C, t)
            if self.rng.random() < 0.3:
                length = int(self.rng.integers(min(length, 8), length + 1))
            ctx = s[t - length:t].copy()
            if self.rng.random() < 0.15:  # hide some values: a gap or scattered points
                if self.rng.random() < 0.5:
                    g = int(self.rng.integers(1, max(2, length // 5)))
                    a = int(self.rng.integers(0, max(1, length - g)))
                    ctx[a:a + g] = np.nan
                else:
                    ctx[self.rng.random(length) < 0.1] = np.nan
                if not np.isfinite(ctx).any():
                    ctx = s[t - length:t].copy()
            if not np.isfinite(ctx).any():
                continue
            v, o, loc, scale = context_window(ctx, cfg)
            values[b], observed[b] = v, o
            # position i's patch ends at series index t - (N-1-i)*P; it predicts the H values after it
            ext = (np.concatenate([s, np.full(H, np.nan)]) - loc) / scale
            for i in range(N):
                end = t - (N - 1 - i) * P
                if end <= t - length:
                    continue  # a patch of padding only
                targets[b, i] = ext[end:end + H]
        return torch.from_numpy(values), torch.from_numpy(observed), torch.from_numpy(targets)


def pinball(pred, target, levels):
    """Mean pinball loss over finite targets; pred [..., H, Q], target [..., H]."""
    ok = torch.isfinite(target)
    y = torch.where(ok, target, torch.zeros_like(target)).unsqueeze(-1)
    diff = y - pred
    loss = torch.maximum(levels * diff, (levels - 1) * diff).mean(-1)
    return (loss * ok).sum() / ok.sum().clamp(min=1)


def train(model, series, steps, batch, seed):
    rng = np.random.default_rng(seed)
    sampler = Sampler(series, model.cfg, rng)
    levels = torch.tensor(model.cfg.quantiles)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, betas=(0.9, 0.95))
    warm = 100
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    t0 = time.time()
    ema = None
    for step in range(steps):
        values, observed, targets = sampler.batch(batch)
        # the head on 8 of the 32 positions (the last always): a quarter of the head's cost, same signal
        N = model.cfg.patches
        positions = torch.cat([torch.from_numpy(rng.choice(N - 1, size=7, replace=False)), torch.tensor([N - 1])])
        pred = model(values, observed, positions=positions)
        loss = pinball(pred, targets[:, positions], levels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  ema {ema:.4f}  {time.time() - t0:.0f}s", flush=True)
    return time.time() - t0


# ---- held-out evaluation set and rolling-origin accuracy

def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, separators=None if indent else (",", ":"), allow_nan=False)
        f.write("\n")


def heldout_set(series, cfg):
    """Per series the held-out tail and the context before it (at most C values), 7 significant digits."""
    out = []
    for s in series:
        keep = min(len(s.values), cfg.context_length + s.test_length)
        tail = s.values[-keep:]
        out.append({
            "name": s.name, "source": s.source, "frequency": s.frequency, "season_length": s.season,
            "horizon": s.horizon, "windows": s.windows, "test_length": s.test_length,
            "values": [None if not math.isfinite(x) else float("%.7g" % x) for x in tail],
        })
    return {
        "description": "Real series from Debian packages (R datasets, forecast, modeldata, tseries, AER; vega-datasets;"
                       " statsmodels). values: the last test_length values are held out (never seen in training),"
                       " preceded by up to context_length values of history; null = missing. Rolling origins at"
                       " len(values) - test_length + k * horizon, k < windows.",
        "context_length": cfg.context_length,
        "series": out,
    }


def as_array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def seasonal_naive(history, season, horizon):
    """y[t + j] = y[t + j - season * (1 + j // season)], missing values carried forward first."""
    h = history.copy()
    for i in range(1, len(h)):
        if not np.isfinite(h[i]):
            h[i] = h[i - 1]
    n = len(h)
    return np.array([h[n - season + (j % season)] for j in range(horizon)])


def naive_scale(history, season):
    """In-sample seasonal-naive MAE: mean |y_t - y_{t-season}| over pairs with both values observed."""
    d = np.abs(history[season:] - history[:-season])
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else math.nan


def window_scores(actual, point, quantiles, levels):
    """Sums over one window's observed steps: |e|, |y|, sMAPE terms, pinball per level, covered, count."""
    ok = np.isfinite(actual)
    y, p = actual[ok], point[ok]
    q = quantiles[ok]
    e = np.abs(y - p)
    denom = np.abs(y) + np.abs(p)
    smape = np.where(denom > 0, 2 * e / np.where(denom > 0, denom, 1), 0.0)
    diff = y[:, None] - q
    rho = np.maximum(levels * diff, (levels - 1) * diff)
    covered = (y >= q[:, 0]) & (y <= q[:, -1])
    return dict(abs_error=e.sum(), abs_actual=np.abs(y).sum(), smape=smape.sum(), pinball=rho.sum(0),
                covered=covered.sum(), count=int(ok.sum()))


def forecast_batch(model, contexts, cfg, dtype=torch.float32):
    rows = [context_window(c, cfg) for c in contexts]
    values = torch.tensor(np.stack([r[0] for r in rows]), dtype=dtype)
    observed = torch.tensor(np.stack([r[1] for r in rows]), dtype=dtype)
    with torch.no_grad():
        q = model(values, observed).double().numpy()
    loc = np.array([r[2] for r in rows])[:, None, None]
    scale = np.array([r[3] for r in rows])[:, None, None]
    return loc + scale * q


def geometric_mean(xs):
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else math.nan


def evaluate(model, heldout, cfg):
    """Rolling origins over every series' held-out tail; per series MASE, sMAPE, WQL, coverage of the
    model (sorted quantiles, median as the point) and of seasonal naive; ratios; geometric means."""
    levels = np.array(cfg.quantiles)
    median = cfg.quantiles.index(0.5)
    jobs = []
    for si, s in enumerate(heldout["series"]):
        v = as_array(s["values"])
        first = len(v) - s["test_length"]
        for k in range(s["windows"]):
            origin = first + k * s["horizon"]
            jobs.append((si, origin))
    forecasts = []
    for i in range(0, len(jobs), 256):
        chunk = jobs[i:i + 256]
        contexts = [as_array(heldout["series"][si]["values"])[:origin] for si, origin in chunk]
        forecasts.extend(forecast_batch(model, contexts, cfg))
    per_series = {}
    for (si, origin), fq in zip(jobs, forecasts):
        s = heldout["series"][si]
        v = as_array(s["values"])
        h, m = s["horizon"], s["season_length"]
        history, actual = v[:origin], v[origin:origin + h]
        quant = np.sort(fq[:h], axis=1)
        sn = seasonal_naive(history, m, h)
        scale = naive_scale(history, m)
        acc = per_series.setdefault(si, {"model": [], "naive": [], "mase_model": [], "mase_naive": []})
        wm = window_scores(actual, quant[:, median], quant, levels)
        wn = window_scores(actual, sn, np.repeat(sn[:, None], len(levels), axis=1), levels)
        acc["model"].append(wm)
        acc["naive"].append(wn)
        if wm["count"] and scale > 0:
            acc["mase_model"].append(wm["abs_error"] / wm["count"] / scale)
            acc["mase_naive"].append(wn["abs_error"] / wn["count"] / scale)
    rows = []
    for si, acc in per_series.items():
        s = heldout["series"][si]

        def totals(ws):
            count = sum(w["count"] for w in ws)
            abs_actual = sum(w["abs_actual"] for w in ws)
            pin = sum(w["pinball"] for w in ws)
            return dict(smape=100 * sum(w["smape"] for w in ws) / count,
                        wql=float(np.mean(2 * pin / abs_actual)) if abs_actual > 0 else math.nan,
                        coverage=sum(w["covered"] for w in ws) / count)
        tm, tn = totals(acc["model"]), totals(acc["naive"])
        mase_m, mase_n = float(np.mean(acc["mase_model"])), float(np.mean(acc["mase_naive"]))
        rows.append(dict(name=s["name"], frequency=s["frequency"], windows=s["windows"],
                         mase=mase_m, mase_naive=mase_n, smape=tm["smape"], smape_naive=tn["smape"],
                         wql=tm["wql"], wql_naive=tn["wql"], coverage80=tm["coverage"],
                         relative_mase=mase_m / mase_n if mase_n > 0 else math.nan,
                         relative_wql=tm["wql"] / tn["wql"] if tn["wql"] > 0 else math.nan))

    def summary(rs):
        return dict(series=len(rs), windows=sum(r["windows"] for r in rs),
                    relative_mase=geometric_mean([r["relative_mase"] for r in rs]),
                    relative_wql=geometric_mean([r["relative_wql"] for r in rs]),
                    mase=float(np.mean([r["mase"] for r in rs])), mase_naive=float(np.mean([r["mase_naive"] for r in rs])),
                    smape=float(np.mean([r["smape"] for r in rs])), smape_naive=float(np.mean([r["smape_naive"] for r in rs])),
                    coverage80=float(np.mean([r["coverage80"] for r in rs])))
    freqs = sorted({r["frequency"] for r in rows})
    return {"overall": summary(rows), "by_frequency": {f: summary([r for r in rows if r["frequency"] == f]) for f in freqs},
            "series": rows}


def write_accuracy(acc, seconds, steps):
    def clean(o):
        if isinstance(o, float):
            return None if not math.isfinite(o) else round(o, 10)
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        if isinstance(o, np.integer):
            return int(o)
        return o
    write_json(os.path.join(MODEL_DIR, "accuracy.json"), clean(acc), indent=1)
    lines = [
        "# series-tsfm held-out accuracy against seasonal naive",
        "",
        "Rolling origins over the held-out tail of every series in `heldout-series.json` (the last",
        "`windows x horizon` values of each series, never seen in training; 1-20 windows per series, 10% of its",
        "length). At each origin the model gets the history before it (at most 512 values) and forecasts one",
        "horizon; seasonal naive repeats the last season. MASE scales each window's MAE by the in-sample",
        "seasonal-naive MAE of the history before the origin; relative = model / seasonal naive per series,",
        "then the geometric mean over series (below 1: better than seasonal naive). WQL = mean over the 9",
        "levels of 2 * sum pinball / sum |y| (quantiles sorted; seasonal naive's point forecast at every",
        "level). sMAPE in percent; coverage of the 10-90% interval. Point forecast = the median.",
        "",
        "| frequency | series | windows | horizon | rel. MASE (geo) | rel. WQL (geo) | MASE model | MASE naive | sMAPE model | sMAPE naive | 80% coverage |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f, s in list(acc["by_frequency"].items()) + [("**overall**", acc["overall"])]:
        h = series_data.FREQUENCIES[f][1] if f in series_data.FREQUENCIES else "-"
        lines.append(f"| {f} | {s['series']} | {s['windows']} | {h} | {s['relative_mase']:.3f} | {s['relative_wql']:.3f} | "
                     f"{s['mase']:.3f} | {s['mase_naive']:.3f} | {s['smape']:.1f} | {s['smape_naive']:.1f} | {s['coverage80']:.3f} |")
    lines += ["", f"Made by `training/train_series_tsfm.py` ({steps} steps, {seconds / 60:.0f} minutes of training on one"
                  " CPU thread). `HeldOutAccuracyTest` recomputes these numbers through the converted ONNX graph."]
    with open(os.path.join(MODEL_DIR, "ACCURACY.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


# ---- reference fixtures

def control_settings(cfg, gen):
    L, H, Dh = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.head_dim
    gain = 0.25 + 1.5 * torch.rand(L, H, generator=gen, dtype=torch.float64)
    gain[0, 0] = 0.0     # a removed head (the pruning preview)
    gain[-1, -1] = -1.0  # a sign-flipped head
    bias = 0.3 * torch.randn(L, H, Dh, generator=gen, dtype=torch.float64)
    mix = torch.rand(L, H, generator=gen, dtype=torch.float64)
    mix[0, 1] = 1.0      # a head that sees only its own value
    return {"gain": {"gain": gain}, "bias": {"bias": bias}, "mix": {"mix": mix},
            "all": {"gain": gain, "bias": bias, "mix": mix}}


def controls_for(cfg, settings, names):
    L, H, Dh = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.head_dim
    B = len(names)
    gain = torch.ones(B, L, H, dtype=torch.float64)
    bias = torch.zeros(B, L, H, Dh, dtype=torch.float64)
    mix = torch.zeros(B, L, H, dtype=torch.float64)
    for b, n in enumerate(names):
        s = settings.get(n, {})
        if "gain" in s:
            gain[b] = s["gain"]
        if "bias" in s:
            bias[b] = s["bias"]
        if "mix" in s:
            mix[b] = s["mix"]
    return gain, bias, mix


def digits10(x):
    """Nested lists of floats to 10 significant digits (the tests compare to 1e-4 and 1e-6)."""
    return [digits10(v) for v in x] if isinstance(x, list) else float("%.10g" % x)


def head_norm_ratios(model, values, observed, gain, bias, mix):
    """[B, L, H]: per head ||W_O^h z_h|| / ||x|| (z_h the head's output after the controls, x the residual
    entering the layer), per patch, averaged over the patches holding an observed value."""
    cfg = model.cfg
    B, C = values.shape
    H, Dh = cfg.num_attention_heads, cfg.head_dim
    taps = {}
    hooks = []
    for l, layer in enumerate(model.model.layers):
        hooks.append(layer.register_forward_pre_hook(lambda m, a, l=l: taps.__setitem__(("x", l), a[0])))
        hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(lambda m, a, l=l: taps.__setitem__(("z", l), a[0])))
    model(values, observed, gain, bias, mix)
    for h in hooks:
        h.remove()
    weight = observed.view(B, -1, cfg.patch_length).amax(-1)  # [B, N]: 1 where the patch has an observed value
    out = []
    for l, layer in enumerate(model.model.layers):
        z = taps[("z", l)].view(B, -1, H, Dh)
        wo = layer.self_attn.o_proj.weight.view(-1, H, Dh)  # [D, H, Dh]
        contribution = torch.einsum("bnhd,ehd->bnhe", z, wo).norm(dim=-1)  # [B, N, H]
        ratio = contribution / taps[("x", l)].norm(dim=-1, keepdim=True)
        out.append((ratio * weight.unsqueeze(-1)).sum(1) / weight.sum(1, keepdim=True))
    return torch.stack(out, dim=1)


def reference(model, heldout, cfg):
    """Quantiles (float64, normalised units) and relative head output norms for fixed real inputs under
    identity and each control setting, plus the preprocessing the Java side must reproduce."""
    by_name = {s["name"]: as_array(s["values"]) for s in heldout["series"]}
    gold = by_name["gold"]
    inputs = {
        "AirPassengers": by_name["AirPassengers"][:120],                 # short: left padding
        "Chicago.Austin": by_name["Chicago.Austin"][:700],              # longer than the context: cut
        "gold": gold[len(gold) - 460:],                                  # missing values
        "taylor": by_name["taylor"][:512],                               # exactly one context
    }
    assert np.isnan(inputs["gold"]).any()
    ref = model.double()
    gen = torch.Generator().manual_seed(5)
    settings = control_settings(cfg, gen)
    setting_names = ["identity"] + list(settings)
    out_inputs, cases = [], []
    windows = {}
    for name, ctx in inputs.items():
        v, o, loc, scale = context_window(ctx, cfg)
        windows[name] = (v, o)
        out_inputs.append({"name": name, "context": [None if not math.isfinite(x) else float(x) for x in ctx],
                           "loc": loc, "scale": scale, "past_values": digits10(v.tolist()), "past_observed": o.tolist()})
    names = list(inputs)
    # every input under every setting, as one batch: row r = (input r // S, setting r % S)
    rows = [(n, s) for n in names for s in setting_names]
    values = torch.tensor(np.stack([windows[n][0] for n, _ in rows]))
    observed = torch.tensor(np.stack([windows[n][1] for n, _ in rows]))
    gain, bias, mix = controls_for(cfg, settings, [s for _, s in rows])
    with torch.no_grad():
        q = ref(values, observed, gain, bias, mix)
        ratios = head_norm_ratios(ref, values, observed, gain, bias, mix)
    for r, (n, s) in enumerate(rows):
        cases.append({"input": n, "setting": s, "normalized": digits10(q[r].tolist()), "head_norm_ratio": digits10(ratios[r].tolist())})
    model.float()
    return {
        "model": "series-tsfm",
        "quantiles": cfg.quantiles,
        "horizon": cfg.horizon_length,
        "settings": {k: {c: digits10(t.tolist()) for c, t in v.items()} for k, v in settings.items()},
        "inputs": out_inputs,
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-only", action="store_true", help="reload the checkpoint; rewrite the evaluation and fixtures")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # more threads on a shared machine only contend (5x slower measured with two)

    series = series_data.load_all()
    cfg = TsfmConfig()
    model = PatchLlamaForecaster(cfg)
    print(f"{len(series)} series, {sum(len(s.values) for s in series)} values; "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    seconds, steps = 0.0, args.steps
    if args.eval_only:
        model.load_state_dict(load_safetensors(os.path.join(MODEL_DIR, "model.safetensors")))
        meta = json.load(open(os.path.join(MODEL_DIR, "accuracy.json"))).get("training", {})
        seconds, steps = meta.get("seconds", 0.0), meta.get("steps", 0)
    else:
        seconds = train(model, series, args.steps, args.batch, args.seed)
        os.makedirs(MODEL_DIR, exist_ok=True)
        write_json(os.path.join(MODEL_DIR, "config.json"), cfg.to_json(), indent=2)
        save_safetensors(os.path.join(MODEL_DIR, "model.safetensors"), dict(model.state_dict()))
    model.eval()

    heldout = heldout_set(series, cfg)
    write_json(os.path.join(MODEL_DIR, "heldout-series.json"), heldout)
    t0 = time.time()
    acc = evaluate(model, heldout, cfg)
    print(f"evaluation: {time.time() - t0:.1f}s")
    acc["training"] = {"steps": steps, "seconds": round(seconds, 1), "batch": args.batch, "seed": args.seed}
    write_accuracy(acc, seconds, steps)
    write_json(REFERENCE, reference(model, heldout, cfg))
    print("wrote", MODEL_DIR, REFERENCE)


if __name__ == "__main__":
    main()
