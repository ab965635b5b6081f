#!/usr/bin/env python3
"""Train Headgate's demo language model `parens-lm` and write its checkpoint and test fixtures.

Needs Debian's PyTorch (no pip, no model hub):
    apt-get install -y python3-torch python3-numpy libopenblas0-pthread
    (without OpenBLAS, Debian's torch falls back to the reference BLAS and trains ~10x slower)
    /usr/bin/python3 training/train_parens_lm.py            # ~5 minutes on 2 cores

Writes
    models/parens-lm/{config.json, model.safetensors, tokenizer.json, accuracy.json, ACCURACY.md}
    src/test/resources/reference/parens-lm.json           reference logits with and without controls
    src/test/resources/checkpoints/<variant>/...          tiny random Llama/Qwen2/Mistral checkpoints
                                                          (fp16, bf16, tied, biases, windows) + logits

The model mixes two tasks, each written `prompt=answer</s>` after `<s>`:
  (a) bracket closing: the prompt is a bracket sequence of four types whose last `depth` openings
      are unclosed; the answer closes them ("([]{<=" -> ">})"). Training uses depth <= 6; the
      evaluation goes to depth 10, beyond it (the setting in which RASteer lifts accuracy);
  (b) addition of numbers with 1 to 3 digits ("57+681=" -> "738").
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import Config, LlamaForCausalLM, save_safetensors, state_for_checkpoint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECIALS = ["<pad>", "<s>", "</s>"]
CHARS = list("()[]{}<>0123456789+=")
VOCAB = SPECIALS + CHARS
ID = {t: i for i, t in enumerate(VOCAB)}
PAD, BOS, EOS = 0, 1, 2
PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
TRAIN_MAX_DEPTH = 6
EVAL_MAX_DEPTH = 10


def balanced(rng, budget):
    """A random balanced bracket string of at most `budget` characters."""
    out = []
    while budget >= 2 and rng.random() < 0.6:
        o = rng.choice("([{<")
        inner_budget = rng.randint(0, budget - 2) // 2 * 2
        inner = balanced(rng, inner_budget)
        out.append(o + inner + PAIRS[o])
        budget -= 2 + len(inner)
    return "".join(out)


def bracket_example(rng, depth):
    """Prompt with `depth` unclosed openings (balanced fillers between them), and its closing."""
    opens = [rng.choice("([{<") for _ in range(depth)]
    filler = rng.randint(0, 6)
    parts = []
    for o in opens:
        piece = balanced(rng, filler) if rng.random() < 0.5 else ""
        filler -= len(piece)
        parts.append(piece + o)
    parts.append(balanced(rng, filler) if rng.random() < 0.3 else "")
    prompt = "".join(parts) + "="
    answer = "".join(PAIRS[o] for o in reversed(opens))
    return prompt, answer


def addition_example(rng):
    a = rng.randint(0, 10 ** rng.randint(1, 3) - 1)
    b = rng.randint(0, 10 ** rng.randint(1, 3) - 1)
    return f"{a}+{b}=", str(a + b)


def encode(text):
    return [ID[c] for c in text]


def training_batch(rng, size):
    seqs, masks = [], []
    for _ in range(size):
        if rng.random() < 0.6:
            p, a = bracket_example(rng, rng.randint(1, TRAIN_MAX_DEPTH))
        else:
            p, a = addition_example(rng)
        ids = [BOS] + encode(p) + encode(a) + [EOS]
        # loss on the answer and its end only: the prompts are random by construction
        m = [0] * (1 + len(p)) + [1] * (len(a) + 1)
        seqs.append(ids)
        masks.append(m)
    T = max(len(s) for s in seqs)
    x = torch.full((size, T), PAD, dtype=torch.long)
    w = torch.zeros((size, T))
    for i, (s, m) in enumerate(zip(seqs, masks)):
        x[i, :len(s)] = torch.tensor(s)
        w[i, :len(m)] = torch.tensor(m, dtype=torch.float)
    return x, w


@torch.no_grad()
def greedy(model, prompt_ids, max_new):
    """Batched greedy decoding, recomputing the prefix (the model is tiny); returns new ids."""
    outs = [list(p) for p in prompt_ids]
    done = [False] * len(outs)
    for _ in range(max_new):
        T = max(len(o) for o in outs)
        x = torch.full((len(outs), T), PAD, dtype=torch.long)
        for i, o in enumerate(outs):
            x[i, :len(o)] = torch.tensor(o)
        logits = model(x)
        for i, o in enumerate(outs):
            if done[i]:
                continue
            nxt = int(logits[i, len(o) - 1].argmax())
            o.append(nxt)
            done[i] = nxt == EOS
        if all(done):
            break
    return [o[len(p):] for o, p in zip(outs, prompt_ids)]


def decode(ids):
    return "".join(VOCAB[i] for i in ids if i != EOS)


def evaluate(model, seed=1234, per_depth=200, additions=400):
    rng = random.Random(seed)
    table = {"brackets": {}, "addition": {}}
    for d in range(1, EVAL_MAX_DEPTH + 1):
        exs = [bracket_example(rng, d) for _ in range(per_depth)]
        outs = greedy(model, [[BOS] + encode(p) for p, _ in exs], d + 2)
        ok = sum(decode(o) == a and o[-1:] == [EOS] for o, (_, a) in zip(outs, exs))
        table["brackets"][str(d)] = ok / per_depth
    exs = [addition_example(rng) for _ in range(additions)]
    outs = greedy(model, [[BOS] + encode(p) for p, _ in exs], 6)
    ok = sum(decode(o) == a and o[-1:] == [EOS] for o, (_, a) in zip(outs, exs))
    table["addition"]["1-3 digits"] = ok / additions
    return table


def tokenizer_json():
    """A character-level Hugging Face tokenizer: BPE with no merges, so every character is a token."""
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": ID[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for t in SPECIALS],
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Fuse"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": ID, "merges": []},
    }


def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


def save_checkpoint(model, out_dir, dtype=torch.float32, tokenizer=True):
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "config.json"), model.cfg.to_json(), indent=2)
    save_safetensors(os.path.join(out_dir, "model.safetensors"), state_for_checkpoint(model), dtype)
    if tokenizer:
        write_json(os.path.join(out_dir, "tokenizer.json"), tokenizer_json(), indent=1)


# ---- reference outputs

def control_settings(cfg, gen):
    """Named control settings [L, H] / [L, H, Dh]: each control alone, then all three together."""
    L, H, Dh = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.head_dim
    gain = 0.25 + 1.5 * torch.rand(L, H, generator=gen, dtype=torch.float64)
    gain[0, 0] = 0.0    # an ablated head
    gain[-1, -1] = -1.0  # a sign-flipped head (Head Pursuit)
    bias = 0.5 * torch.randn(L, H, Dh, generator=gen, dtype=torch.float64)
    mix = torch.rand(L, H, generator=gen, dtype=torch.float64)
    mix[0, 1] = 1.0      # PAG: a head that sees only its own value
    return {
        "gain": {"gain": gain},
        "bias": {"bias": bias},
        "mix": {"mix": mix},
        "all": {"gain": gain, "bias": bias, "mix": mix},
    }


def per_position(cfg, segments, T):
    """Expand [(from, setting)] into per-position control tensors [1, T, L, H(, Dh)] (float64)."""
    L, H, Dh = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.head_dim
    gain = torch.ones(1, T, L, H, dtype=torch.float64)
    bias = torch.zeros(1, T, L, H, Dh, dtype=torch.float64)
    mix = torch.zeros(1, T, L, H, dtype=torch.float64)
    for start, setting in segments:
        if "gain" in setting:
            gain[0, start:] = setting["gain"]
        else:
            gain[0, start:] = 1.0
        bias[0, start:] = setting["bias"] if "bias" in setting else 0.0
        mix[0, start:] = setting["mix"] if "mix" in setting else 0.0
    return gain, bias, mix


def segment_json(start, setting):
    s = {"from": start}
    for k, v in setting.items():
        s[k] = v.tolist()
    return s


def reference_cases(model, sequences, gen):
    """Logits (float64) at every position of each sequence, under identity, each control setting,
    and a mid-stream change from identity to `all` at a decode position."""
    cfg = model.cfg
    ref = model.double()
    settings = control_settings(cfg, gen)
    cases = []
    for name, (ids, prompt_len) in sequences.items():
        T = len(ids)
        plans = {"identity": [(0, {})]}
        plans.update({k: [(0, v)] for k, v in settings.items()})
        plans["switch"] = [(0, {}), (prompt_len + (T - prompt_len) // 2, settings["all"])]
        for plan_name, segments in plans.items():
            gain, bias, mix = per_position(cfg, segments, T)
            with torch.no_grad():
                logits = ref(torch.tensor([ids]), gain, bias, mix)[0]
            cases.append({
                "name": f"{name}/{plan_name}",
                "tokens": ids,
                "prompt_length": prompt_len,
                "segments": [segment_json(s, v) for s, v in segments],
                "logits": [[float(x) for x in row] for row in logits.tolist()],
            })
    model.float()
    return cases


def variant_checkpoints(out_root):
    """Tiny random checkpoints covering the converter's options, each with reference logits."""
    variants = {
        "llama-tied-fp16": (dict(model_type="llama", tie_word_embeddings=True,
                                 rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                               "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
                            torch.float16),
        "qwen2-bf16": (dict(model_type="qwen2", rope_theta=1000000.0), torch.bfloat16),
        "mistral-window": (dict(model_type="mistral", sliding_window=6, rope_theta=10000.0), torch.float32),
    }
    for name, (kw, dtype) in variants.items():
        torch.manual_seed(len(name))
        # head_dim 16: ONNX Runtime's GroupQueryAttention on CPU needs a multiple of 16; 6 x 16 != 48
        # keeps q_proj non-square, so a transposed tensor is a shape error
        cfg = Config(vocab_size=50, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                     num_attention_heads=6, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6,
                     max_position_embeddings=64, **kw)
        model = LlamaForCausalLM(cfg)
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0, 0.2)
            for n, p in model.named_parameters():
                if "norm" in n:
                    p.add_(1.0)
            # the checkpoint stores fewer bits than float32: the reference uses what it stores
            for p in model.parameters():
                p.copy_(p.to(dtype).to(torch.float32))
        out = os.path.join(out_root, name)
        save_checkpoint(model, out, dtype, tokenizer=False)
        gen = torch.Generator().manual_seed(7)
        ids = torch.randint(0, cfg.vocab_size, (14,), generator=gen).tolist()
        cases = reference_cases(model, {"random": (ids, 5)}, gen)
        write_json(os.path.join(out, "reference.json"), {"model": name, "cases": cases})
        print("wrote", out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fixtures-only", action="store_true",
                    help="reload models/parens-lm and rewrite the test fixtures only")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # OpenBLAS threads do the matrix work; more torch threads only contend
    rng = random.Random(args.seed)

    cfg = Config(model_type="llama", vocab_size=len(VOCAB), hidden_size=128, intermediate_size=384,
                 num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=2, head_dim=16,
                 rope_theta=10000.0, rms_norm_eps=1e-5, max_position_embeddings=64,
                 tie_word_embeddings=False, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
    model = LlamaForCausalLM(cfg)
    model_dir = os.path.join(ROOT, "models", "parens-lm")

    if args.fixtures_only:
        from llama_ref import load_safetensors
        model.load_state_dict(load_safetensors(os.path.join(model_dir, "model.safetensors")), strict=False)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01, betas=(0.9, 0.98))
        warm = 200
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + torch.cos(torch.tensor(s / args.steps * 3.14159)).item()))
        t0 = time.time()
        for step in range(args.steps):
            x, w = training_batch(rng, args.batch)
            logits = model(x[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1), reduction="none")
            loss = (loss * w[:, 1:].reshape(-1)).sum() / w[:, 1:].sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 250 == 0 or step == args.steps - 1:
                print(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - t0:.0f}s", flush=True)
        model.eval()
        save_checkpoint(model, model_dir)

    table = evaluate(model)
    write_json(os.path.join(model_dir, "accuracy.json"), table, indent=2)
    lines = ["# parens-lm held-out accuracy (greedy, exact answer and end token)", "",
             f"Training depth 1-{TRAIN_MAX_DEPTH}; evaluation depth 1-{EVAL_MAX_DEPTH}, 200 prompts per depth;",
             "addition: 400 sums of 1-3 digit numbers. Made by `training/train_parens_lm.py`.", "",
             "| task | accuracy |", "|---|---|"]
    for d, acc in table["brackets"].items():
        tag = "" if int(d) <= TRAIN_MAX_DEPTH else " (beyond training)"
        lines.append(f"| brackets depth {d}{tag} | {acc:.3f} |")
    lines.append(f"| addition | {table['addition']['1-3 digits']:.3f} |")
    with open(os.path.join(model_dir, "ACCURACY.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # reference fixtures: prompts of each task, continued greedily by the model itself
    prompts = {"brackets-d3": "([]{<=", "brackets-d7": "{(<[()]([{=", "addition": "57+681="}
    seqs = {}
    for name, p in prompts.items():
        ids = [BOS] + encode(p)
        cont = greedy(model, [ids], 12)[0]
        seqs[name] = (ids + cont, len(ids))
    gen = torch.Generator().manual_seed(11)
    cases = reference_cases(model, seqs, gen)
    write_json(os.path.join(ROOT, "src", "test", "resources", "reference", "parens-lm.json"),
               {"model": "parens-lm", "cases": cases})
    variant_checkpoints(os.path.join(ROOT, "src", "test", "resources", "checkpoints"))


if __name__ == "__main__":
    main()
