#!/usr/bin/env python3
"""Per-token greedy decode time in eager PyTorch, with and without head-steering forward hooks.

This is the baseline a researcher gets without Headgate: an eager PyTorch Llama with a KV cache,
steered the TransformerLens / nnsight way, by a `register_forward_pre_hook` on every layer's
`self_attn.o_proj` that scales each head's slice of o_proj's input (head h = columns
h*Dh:(h+1)*Dh) by a gain. Three variants are timed, interleaved (the order rotates each rep):

    plain            no hooks
    identity_hooks   hooks on every layer, all gains 1 (the cost of the hook machinery alone)
    steered_hooks    hooks on every layer, every head's gain != 1 (--gain, 1.3 by default)

Each rep prefills a fixed random prompt (not timed), then runs --tokens single-token decode steps,
each consuming the previous greedy token and emitting the next; per-token time is the wall time
of those steps divided by --tokens. One warm-up rep of every variant comes first, not reported.

The model is training/llama_ref.py's LlamaForCausalLM (its weights and modules); the cached decode
loop is written here on top of them. On startup it is checked against llama_ref's full forward
(unsteered, and steered with llama_ref's own per-head gain control) to within 1e-4, and the
identity hooks are checked to give the same tokens as no hooks.

Usage (Debian's PyTorch; pyenv's python3 has no torch):
    /usr/bin/python3 bench/torch_hooks_bench.py CHECKPOINT_DIR [--tokens 64] [--prompt-len 8] \
        [--reps 5] [--threads 1]
CHECKPOINT_DIR holds config.json and model.safetensors (Llama / Qwen2 / Mistral layout, F32, F16
or BF16). One JSON object goes to stdout; progress goes to stderr.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("plain", "identity_hooks", "steered_hooks")
TOLERANCE = 1e-4


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", metavar="CHECKPOINT_DIR", help="folder with config.json and model.safetensors")
    ap.add_argument("--tokens", type=int, default=64, help="timed decode steps per rep (default 64)")
    ap.add_argument("--prompt-len", type=int, default=8, help="random prompt length, prefilled untimed (default 8)")
    ap.add_argument("--reps", type=int, default=5, help="timed reps per variant, after 1 warm-up (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="torch (and OpenBLAS) threads (default 1)")
    ap.add_argument("--gain", type=float, default=1.3, help="gain of every head in steered_hooks (default 1.3)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random prompt (default 0)")
    args = ap.parse_args()
    if args.tokens < 1 or args.prompt_len < 1 or args.reps < 1 or args.threads < 1:
        ap.error("--tokens, --prompt-len, --reps and --threads must be at least 1")
    if args.gain == 1.0:
        ap.error("--gain must differ from 1 (gain 1 is the identity_hooks variant)")
    return args


def import_torch(threads):
    # OpenBLAS (Debian's torch BLAS) reads its thread count when it is loaded, i.e. on `import torch`
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
    try:
        import torch
    except ImportError as e:
        log("error: PyTorch is not importable from %s (%s).\n"
            "Install Debian's PyTorch with OpenBLAS and run the script with the system Python:\n"
            "    apt-get install -y python3-torch libopenblas0-pthread\n"
            "    /usr/bin/python3 bench/torch_hooks_bench.py CHECKPOINT_DIR" % (sys.executable, e))
        sys.exit(3)
    return torch


# ---- model loading

CONFIG_KEYS = ("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
               "num_attention_heads", "num_key_value_heads", "head_dim", "rope_theta", "rms_norm_eps",
               "max_position_embeddings", "tie_word_embeddings", "attention_bias", "sliding_window",
               "rope_scaling", "bos_token_id", "eos_token_id", "pad_token_id")


def load_model(torch, ref, ckpt_dir):
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        raw = json.load(f)
    model_type = raw.get("model_type", "llama")
    if model_type not in ("llama", "qwen2", "mistral"):
        raise SystemExit("error: model_type %r is not a Llama-family model this script supports" % model_type)
    if raw.get("hidden_act", "silu") != "silu":
        raise SystemExit("error: hidden_act %r is not supported (llama_ref uses silu)" % raw["hidden_act"])
    if raw.get("mlp_bias"):
        raise SystemExit("error: mlp_bias is not supported by llama_ref")
    kw = {k: raw[k] for k in CONFIG_KEYS if raw.get(k) is not None}
    if model_type == "qwen2" and not raw.get("use_sliding_window", False):
        kw.pop("sliding_window", None)  # Qwen2 configs name a window they do not use unless told to
    rs = kw.get("rope_scaling")
    if rs is not None and rs.get("rope_type", rs.get("type")) == "default":
        kw.pop("rope_scaling")
    cfg = ref.Config(**kw)

    model = ref.LlamaForCausalLM(cfg)
    state = ref.load_safetensors(os.path.join(ckpt_dir, "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.endswith("rotary_emb.inv_freq")}
    if cfg.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # tied: the head is the embedding
    missing, unexpected = model.load_state_dict(state, strict=False)
    allowed_missing = {"lm_head.weight"} if cfg.tie_word_embeddings else set()
    bad_missing = sorted(set(missing) - allowed_missing)
    if bad_missing or unexpected:
        raise SystemExit("error: checkpoint does not match the config: missing %s, unexpected %s"
                         % (bad_missing, sorted(unexpected)))
    model.eval()
    return cfg, model


# ---- the KV-cached decode loop, on llama_ref's modules

class CachedDecoder:
    """Runs llama_ref's layers over new tokens only, keeping each layer's rotated K and V.

    Same math as llama_ref.LlamaForCausalLM.forward (which recomputes the whole sequence):
    RMSNorm, RoPE at the token's absolute position, grouped-query attention (query head h reads
    kv head h // (H / K)), causal and sliding-window masks, SwiGLU MLP. Every projection is called
    as a module, so forward hooks on o_proj fire as they would in llama_ref.
    """

    def __init__(self, torch, ref, model, max_len):
        self.torch, self.ref, self.model, self.cfg = torch, ref, model, model.cfg
        dtype = model.model.embed_tokens.weight.dtype
        inv = ref.rope_inv_freq(self.cfg)
        ang = torch.arange(max_len, dtype=torch.float64).view(max_len, 1) * inv.view(1, -1)
        ang = torch.cat((ang, ang), dim=-1)
        self.cos, self.sin = ang.cos().to(dtype), ang.sin().to(dtype)
        self.scale = math.sqrt(self.cfg.head_dim)
        self.reset()

    def reset(self):
        n = self.cfg.num_hidden_layers
        self.keys, self.values, self.pos = [None] * n, [None] * n, 0

    def forward(self, ids):
        """ids [B, T] following the cached positions; returns logits [B, T, V]."""
        T = ids.shape[1]
        p0 = self.pos
        cos, sin = self.cos[p0:p0 + T], self.sin[p0:p0 + T]
        mask = self._mask(p0, T)
        inner = self.model.model
        x = inner.embed_tokens(ids)
        for l, layer in enumerate(inner.layers):
            x = x + self._attention(l, layer.self_attn, layer.input_layernorm(x), cos, sin, mask)
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        self.pos = p0 + T
        return self.model.lm_head(inner.norm(x))

    def _mask(self, p0, T):
        """Boolean [T, S] of allowed keys for queries at p0..p0+T-1, or None when all are allowed."""
        torch, window = self.torch, self.cfg.sliding_window
        S = p0 + T
        if T == 1 and (window is None or S <= window):
            return None
        i = torch.arange(p0, S).view(T, 1)
        j = torch.arange(S).view(1, S)
        allowed = j <= i
        if window is not None:
            allowed = allowed & (j > i - window)
        return allowed

    def _attention(self, l, attn, x, cos, sin, mask):
        torch, cfg = self.torch, self.cfg
        B, T, _ = x.shape
        H, K, Dh = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        G = H // K
        q = attn.q_proj(x).view(B, T, H, Dh).transpose(1, 2)
        k = attn.k_proj(x).view(B, T, K, Dh).transpose(1, 2)
        v = attn.v_proj(x).view(B, T, K, Dh).transpose(1, 2)
        rot = self.ref.rotate_half
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        if self.keys[l] is not None:  # append this step's K/V to the layer's cache
            k = torch.cat((self.keys[l], k), dim=2)
            v = torch.cat((self.values[l], v), dim=2)
        self.keys[l], self.values[l] = k, v
        # grouped-query attention without copying K/V: query heads grouped [K, G] by kv head
        qg = q.reshape(B, K, G, T, Dh)
        scores = (qg @ k.unsqueeze(2).transpose(-1, -2)) / self.scale  # [B, K, G, T, S]
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        z = scores.softmax(-1) @ v.unsqueeze(2)  # [B, K, G, T, Dh]
        z = z.reshape(B, H, T, Dh).transpose(1, 2).reshape(B, T, H * Dh)
        return attn.o_proj(z)


def greedy(torch, dec, prompt, n, keep_logits=False):
    """Prefill `prompt` [1, P] (untimed), then n timed single-token steps.

    Returns (seconds per step, the n + 1 greedy tokens, logits) where the first token comes from
    the prefill and logits are the last step's [V], or with keep_logits those of positions
    P-1 .. P+n-1 stacked [n + 1, V].
    """
    dec.reset()
    logits = dec.forward(prompt)[:, -1]
    nxt = logits.argmax(-1, keepdim=True)
    out, kept = [nxt], [logits]
    t0 = time.perf_counter()
    for _ in range(n):
        logits = dec.forward(nxt)[:, -1]
        nxt = logits.argmax(-1, keepdim=True)
        out.append(nxt)
        if keep_logits:
            kept.append(logits)
    dt = time.perf_counter() - t0
    tokens = torch.cat(out, dim=1)[0].tolist()
    return dt / n, tokens, (torch.cat(kept, dim=0) if keep_logits else logits[0])


# ---- steering hooks, the TransformerLens / nnsight way

class HeadGainHooks:
    """forward pre-hooks on every layer's self_attn.o_proj scaling head h's input slice by gains[l, h]."""

    def __init__(self, model, gains):
        self.model, self.gains, self.handles = model, gains, []

    def __enter__(self):
        H, Dh = self.model.cfg.num_attention_heads, self.model.cfg.head_dim
        for l, layer in enumerate(self.model.model.layers):
            g = self.gains[l].view(H, 1)

            def hook(module, args, g=g):
                (z,) = args  # [B, T, H*Dh]
                B, T, _ = z.shape
                return ((z.view(B, T, H, Dh) * g).view(B, T, H * Dh),)

            self.handles.append(layer.self_attn.o_proj.register_forward_pre_hook(hook))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        self.handles = []


class NoHooks:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


# ---- main

def main():
    args = parse_args()
    torch = import_torch(args.threads)
    sys.path.insert(0, os.path.join(ROOT, "training"))
    import llama_ref as ref

    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    cfg, model = load_model(torch, ref, args.checkpoint)
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    total = args.prompt_len + args.tokens
    log("model: %s, %d layers, %d heads (%d kv) x %d, hidden %d, vocab %d; torch %s, %d thread(s)"
        % (cfg.model_type, L, H, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size,
           cfg.vocab_size, torch.__version__, torch.get_num_threads()))
    if total > cfg.max_position_embeddings:
        log("warning: prompt + tokens = %d positions, beyond max_position_embeddings %d "
            "(RoPE still runs; timings are unaffected)" % (total, cfg.max_position_embeddings))

    gen = torch.Generator().manual_seed(args.seed)
    prompt = torch.randint(0, cfg.vocab_size, (1, args.prompt_len), generator=gen)
    dec = CachedDecoder(torch, ref, model, total)
    gains = {
        "plain": None,
        "identity_hooks": torch.ones(L, H),
        "steered_hooks": torch.full((L, H), args.gain),
    }

    def hooks(variant):
        return NoHooks() if gains[variant] is None else HeadGainHooks(model, gains[variant])

    with torch.no_grad():
        # correctness, once: cached decode vs llama_ref's full forward, unsteered and steered
        log("checking the cached decode against llama_ref's full forward ...")
        check = {}
        outs = {}
        for variant in VARIANTS:
            with hooks(variant):
                _, toks, logits = greedy(torch, dec, prompt, args.tokens, keep_logits=True)
            outs[variant] = (toks, logits)
            seq = torch.cat((prompt, torch.tensor([toks[:-1]])), dim=1)  # every position fed in
            g = gains[variant]
            ref_gain = None if g is None else g.view(1, 1, L, H).expand(1, seq.shape[1], L, H)
            full = model(seq, gain=ref_gain)[0, args.prompt_len - 1:]
            diff_all = (full - logits).abs().max().item()
            diff_last = (full[-1] - logits[-1]).abs().max().item()
            check[variant] = {"max_abs_diff_last_logits": diff_last, "max_abs_diff_all_decode_logits": diff_all}
            log("  %-15s last-logits max |diff| %.3g, all decode positions %.3g"
                % (variant, diff_last, diff_all))
            assert diff_last <= TOLERANCE and diff_all <= TOLERANCE, \
                "%s: cached decode disagrees with llama_ref's forward (max |diff| %.3g > %g)" \
                % (variant, diff_all, TOLERANCE)
        same = outs["identity_hooks"][0] == outs["plain"][0]
        log("  identity hooks give the plain tokens: %s" % same)
        assert same, "identity hooks changed the generated tokens"
        changed = sum(a != b for a, b in zip(outs["steered_hooks"][0], outs["plain"][0]))
        log("  steered hooks (gain %g) change %d of %d generated tokens"
            % (args.gain, changed, len(outs["plain"][0])))
        check["identity_tokens_equal_plain"] = same
        check["steered_tokens_changed"] = changed

        # timing: 1 warm-up rep + --reps reps, the three variants interleaved (order rotates)
        times = {v: [] for v in VARIANTS}
        for rep in range(args.reps + 1):
            order = VARIANTS[rep % 3:] + VARIANTS[:rep % 3]
            for variant in order:
                with hooks(variant):
                    per_token, toks, _ = greedy(torch, dec, prompt, args.tokens)
                if toks != outs[variant][0]:
                    raise SystemExit("error: %s generated different tokens in rep %d" % (variant, rep))
                if rep > 0:
                    times[variant].append(per_token)
            if rep == 0:
                log("warm-up done")
            else:
                log("rep %d/%d per-token: %s" % (rep, args.reps, ", ".join(
                    "%s %.3f ms" % (v, 1e3 * times[v][-1]) for v in VARIANTS)))

    median = {v: statistics.median(t) for v, t in times.items()}
    log("median per-token: " + ", ".join("%s %.3f ms" % (v, 1e3 * m) for v, m in median.items())
        + "; identity/plain %.3f, steered/plain %.3f"
        % (median["identity_hooks"] / median["plain"], median["steered_hooks"] / median["plain"]))
    log("total %.1f s" % (time.perf_counter() - t_start))
    print(json.dumps({
        "checkpoint": args.checkpoint,
        "threads": args.threads,
        "tokens": args.tokens,
        "reps": args.reps,
        "per_token_seconds": times,
        "median": median,
        "torch": torch.__version__,
        "prompt_len": args.prompt_len,
        "gain": args.gain,
        "check": check,
    }))


if __name__ == "__main__":
    main()
