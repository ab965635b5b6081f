"""A plain Llama-family decoder in PyTorch with Headgate's per-head controls.

It is the reference that Headgate's converted ONNX graphs are checked against, so it follows the
Hugging Face layout and tensor names exactly and applies the controls where the graph does: on each
head's attention output z (shape Dh), before o_proj,

    z <- g * ((1 - u) * z + u * v_self) + b

with v_self the position's own value vector (its kv group under grouped-query attention).
Controls are given per position ([B, T, L, H] etc.), which is what a stream that changes its
steering at step k computes: every position is processed under the controls active at its step.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, **kw):
        self.model_type = kw.get("model_type", "llama")
        self.vocab_size = kw["vocab_size"]
        self.hidden_size = kw["hidden_size"]
        self.intermediate_size = kw["intermediate_size"]
        self.num_hidden_layers = kw["num_hidden_layers"]
        self.num_attention_heads = kw["num_attention_heads"]
        self.num_key_value_heads = kw.get("num_key_value_heads", self.num_attention_heads)
        self.head_dim = kw.get("head_dim", self.hidden_size // self.num_attention_heads)
        self.rope_theta = kw.get("rope_theta", 10000.0)
        self.rms_norm_eps = kw.get("rms_norm_eps", 1e-6)
        self.max_position_embeddings = kw.get("max_position_embeddings", 2048)
        self.tie_word_embeddings = kw.get("tie_word_embeddings", False)
        self.attention_bias = kw.get("attention_bias", self.model_type == "qwen2")
        self.sliding_window = kw.get("sliding_window")
        self.rope_scaling = kw.get("rope_scaling")
        self.bos_token_id = kw.get("bos_token_id")
        self.eos_token_id = kw.get("eos_token_id")
        self.pad_token_id = kw.get("pad_token_id")

    def to_json(self):
        d = {
            "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                               "mistral": "MistralForCausalLM"}[self.model_type]],
            "model_type": self.model_type,
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "rope_theta": self.rope_theta,
            "rms_norm_eps": self.rms_norm_eps,
            "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": "float32",
        }
        if self.model_type == "llama":
            d["attention_bias"] = self.attention_bias
            d["mlp_bias"] = False
        if self.sliding_window is not None:
            d["sliding_window"] = self.sliding_window
        if self.rope_scaling is not None:
            d["rope_scaling"] = self.rope_scaling
        for k in ("bos_token_id", "eos_token_id", "pad_token_id"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d


def rope_inv_freq(cfg):
    """Inverse frequencies, with Llama 3's or linear scaling where the config asks for it."""
    dh = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, dh, 2, dtype=torch.float64) / dh))
    rs = cfg.rope_scaling
    if rs is None:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return inv / rs["factor"]
    if kind == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        out = []
        for f in inv.tolist():
            wl = 2 * math.pi / f
            if wl < high_wl:
                out.append(f)
            elif wl > low_wl:
                out.append(f / factor)
            else:
                s = (old / wl - low) / (high - low)
                out.append((1 - s) * f / factor + s * f)
        return torch.tensor(out, dtype=torch.float64)
    raise ValueError("unsupported rope_scaling " + str(kind))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        H, K, Dh, D = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size
        self.q_proj = nn.Linear(D, H * Dh, bias=cfg.attention_bias)
        self.k_proj = nn.Linear(D, K * Dh, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(D, K * Dh, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(H * Dh, D, bias=False)

    def forward(self, x, cos, sin, gain=None, bias=None, mix=None):
        cfg = self.cfg
        B, T, _ = x.shape
        H, K, Dh = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        q = self.q_proj(x).view(B, T, H, Dh).transpose(1, 2)
        k = self.k_proj(x).view(B, T, K, Dh).transpose(1, 2)
        v = self.v_proj(x).view(B, T, K, Dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // K, dim=1)
        v = v.repeat_interleave(H // K, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(Dh)
        i = torch.arange(T).view(T, 1)
        j = torch.arange(T).view(1, T)
        allowed = j <= i
        if cfg.sliding_window is not None:
            allowed = allowed & (j > i - cfg.sliding_window)
        scores = scores.masked_fill(~allowed, float("-inf"))
        z = (scores.softmax(-1) @ v).transpose(1, 2)  # [B, T, H, Dh]
        if mix is not None:
            u = mix.unsqueeze(-1)
            z = (1 - u) * z + u * v.transpose(1, 2)
        if gain is not None:
            z = gain.unsqueeze(-1) * z
        if bias is not None:
            z = z + bias
        return self.o_proj(z.reshape(B, T, H * Dh))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, F_ = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(D, F_, bias=False)
        self.up_proj = nn.Linear(D, F_, bias=False)
        self.down_proj = nn.Linear(F_, D, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, gain, bias, mix):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, gain, bias, mix)
        return x + self.mlp(self.post_attention_layernorm(x))


class Inner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([Layer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Inner(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, ids, gain=None, bias=None, mix=None):
        """ids [B, T]; gain/mix [B, T, L, H] and bias [B, T, L, H, Dh] per position, or None."""
        T = ids.shape[1]
        dtype = self.model.embed_tokens.weight.dtype
        inv = rope_inv_freq(self.cfg)
        ang = torch.arange(T, dtype=torch.float64).view(T, 1) * inv.view(1, -1)
        ang = torch.cat((ang, ang), dim=-1)
        cos, sin = ang.cos().to(dtype), ang.sin().to(dtype)
        x = self.model.embed_tokens(ids)
        for l, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin,
                      None if gain is None else gain[:, :, l],
                      None if bias is None else bias[:, :, l],
                      None if mix is None else mix[:, :, l])
        return self.lm_head(self.model.norm(x))


# ---- checkpoint I/O: Hugging Face layout, safetensors written by hand (no extra package needed)

_DTYPES = {torch.float32: ("F32", torch.int32), torch.float16: ("F16", torch.int16),
           torch.bfloat16: ("BF16", torch.int16)}


def save_safetensors(path, tensors, dtype=torch.float32):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(dtype).contiguous()
        tag, int_view = _DTYPES[dtype]
        data = t.view(int_view).numpy().tobytes()  # little-endian on x86 and arm
        header[name] = {"dtype": tag, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def state_for_checkpoint(model):
    sd = dict(model.state_dict())
    if model.cfg.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    return sd


def load_safetensors(path):
    """Read a safetensors file written by save_safetensors (F32/F16/BF16) into float32 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        s, e = meta["data_offsets"]
        dtype = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[meta["dtype"]]
        t = torch.frombuffer(bytearray(data[s:e]), dtype=dtype).reshape(meta["shape"])
        out[name] = t.to(torch.float32)
    return out
