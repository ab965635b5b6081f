#!/usr/bin/env python3
"""Headgate's GPU check: decode with the graphs Headgate's converter writes, under ONNX Runtime's Python API.

Runs where there is no JDK (the lent GPU machine): bench/gpu/prepare packs the bundles here, and
`bash bench/gpu/check` runs this there. For each packed model (parens-lm and a larger random Llama)
and batch sizes 1 and 16 it decodes greedily the way Headgate does (each prompt prefilled alone into
its own slot of a static cache, then every row one token per step, identity head controls), and times
the decode steps:

  cpu-fp32         the fp32 graph on the CPU provider, the cache in host memory bound as input and
                   output (Headgate's CPU path: zero copy)
  cuda-host-kv     the fp16 graph on the CUDA provider, the cache in host memory bound as input and
                   output: what Headgate's Java API path does (run() with pinned outputs), so ONNX
                   Runtime copies the whole cache to the device and back at every step
  cuda-device-kv   the fp16 graph on the CUDA provider, the cache in device memory bound through
                   IOBinding as past and present (Headgate's bound path): only ids, lengths, controls
                   and logits move
  cuda-fp32-host-kv  the fp32 graph on CUDA (bench model only): GroupQueryAttention has no fp32 CUDA
                   kernel, so it runs on the CPU with copies around it

and reports tokens/s, step time p50/p95, the copy share (the copy-only graph, one Identity per cache
tensor, run with the host cache bound the same way: the time moving the cache costs a step, over the
cuda-host-kv step time), where the GroupQueryAttention nodes ran (from ONNX Runtime's profile), and
the agreement of fp16 on CUDA with fp32 on the CPU (the CUDA run teacher-forced on the CPU run's
tokens: max |Δlogit|, the largest |Δlogit| over that row's largest |logit|, and argmax agreement).

Writes results.json and results.md to --out. With no usable CUDA provider it measures the CPU and,
if PyTorch sees a GPU, what copying the cache's bytes costs through PyTorch, and says so.
"""
import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

# Where the "cuda" runs go; --dry-run-on-cpu points them at the CPU to check this script where no GPU is.
GPU = {"providers": [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"], "device": "cuda", "name": "CUDAExecutionProvider"}
PARENS_CHARS = "()[]{}<>0123456789+="
PARENS_PROMPTS = ["{(<[()]([{=", "57+681=", "([{<", "((()))[[=", "<{}>(", "9+9=", "[[[]", "{<(=",
                  "(((", "12+34=", "<<[]>", "{[()]}(", "7+15=", "[{", "(<>)[", "88+1="]
WARMUP_STEPS = 3


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------- the pack

def sha256(data):
    return hashlib.sha256(data).hexdigest()


def rebuild_fp32(model_dir):
    """Writes the fp32 bundle's data file from the fp16 one and the extra bytes, and checks its SHA-256."""
    fp32, fp16 = model_dir / "fp32", model_dir / "fp16"
    recipe = json.loads((fp32 / "rebuild.json").read_text())
    target = fp32 / recipe["file"]
    if target.exists() and sha256(target.read_bytes()) == recipe["sha256"]:
        return
    half = (fp16 / recipe["file"]).read_bytes()
    extra = (fp32 / "extra.bin").read_bytes()
    out = bytearray(recipe["length"])
    for t in recipe["tensors"]:
        o, n, s = t["offset"], t["length"], t["source_offset"]
        if t["from"] == "fp16":
            out[o:o + n] = np.frombuffer(half, dtype="<f2", count=n // 4, offset=s).astype("<f4").tobytes()
        else:
            out[o:o + n] = extra[s:s + n]
    if sha256(bytes(out)) != recipe["sha256"]:
        raise SystemExit(f"{target}: the rebuilt fp32 data does not match what the converter wrote")
    target.write_bytes(bytes(out))


def prompts(model, rows, rng):
    if model["name"] == "parens-lm":
        out = []
        for i in range(rows):
            text = PARENS_PROMPTS[i % len(PARENS_PROMPTS)]
            out.append(np.array([1] + [3 + PARENS_CHARS.index(c) for c in text], dtype=np.int64))
        return out
    return [rng.integers(0, model["vocab_size"], size=32, dtype=np.int64) for _ in range(rows)]


# ---------------------------------------------------------------- a graph and its decoder

class Graph:
    """A session of one bundle on one provider."""

    def __init__(self, bundle, provider, threads, profile_dir=None):
        self.bundle = bundle
        self.manifest = json.loads((bundle / "headgate.json").read_text())
        d = self.manifest["dimensions"]
        self.layers, self.heads, self.kv, self.dh, self.vocab = d["layers"], d["heads"], d["kvHeads"], d["headDim"], d["vocabSize"]
        self.max = self.manifest["maxLength"]
        self.float16 = self.manifest["cache"]["dtype"] == "float16"
        self.dtype = np.float16 if self.float16 else np.float32
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        if profile_dir:
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(profile_dir) / "profile")
        providers = GPU["providers"] if provider == "cuda" else ["CPUExecutionProvider"]
        self.session = ort.InferenceSession(str(bundle / "model.onnx"), options, providers=providers)
        self.on_gpu = GPU["name"] in self.session.get_providers()

    def slot_shape(self, rows):
        return [rows, self.kv, self.max, self.dh]

    def slot_bytes(self):
        return self.kv * self.max * self.dh * np.dtype(self.dtype).itemsize


class Cache:
    """Per layer a key and a value tensor [slots, K, max, Dh], in host memory or on the device."""

    def __init__(self, graph, slots, where):
        self.graph, self.where = graph, where
        shape = graph.slot_shape(slots)
        if where == "host":
            self.host = [np.zeros(shape, graph.dtype) for _ in range(2 * graph.layers)]
            self.pointers = [a.ctypes.data for a in self.host]
        else:
            self.device = [ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, graph.dtype), GPU["device"], 0) for _ in range(2 * graph.layers)]
            self.pointers = [v.data_ptr() for v in self.device]

    def bind(self, io, first, rows):
        g = self.graph
        device = "cpu" if self.where == "host" else GPU["device"]
        shape = g.slot_shape(rows)
        for l in range(g.layers):
            for j, (past, present) in enumerate(((f"past_key_{l}", f"present_key_{l}"), (f"past_value_{l}", f"present_value_{l}"))):
                ptr = self.pointers[2 * l + j] + first * g.slot_bytes()
                io.bind_input(past, device, 0, g.dtype, shape, ptr)
                io.bind_output(present, device, 0, g.dtype, shape, ptr)


class Decoder:
    """Headgate's decode: prompts prefilled one slot at a time, then all rows one token per step."""

    def __init__(self, graph, rows, where):
        self.g, self.rows = graph, rows
        self.cache = Cache(graph, rows, where)
        self.io = graph.session.io_binding()
        self.lengths = np.zeros(rows, np.int64)
        self.logits = np.zeros((rows, graph.vocab), np.float32)
        L, H, Dh = graph.layers, graph.heads, graph.dh
        self.gain = np.ones((rows, L, H), np.float32)
        self.bias = np.zeros((rows, L, H, Dh), np.float32)
        self.mix = np.zeros((rows, L, H), np.float32)

    def forward(self, first, rows, tokens):
        io, g = self.io, self.g
        io.clear_binding_inputs()
        io.clear_binding_outputs()
        seq = tokens.shape[1]
        lengths = self.lengths[first:first + rows] + seq
        io.bind_cpu_input("input_ids", np.ascontiguousarray(tokens, np.int64))
        io.bind_cpu_input("seqlens_k", (lengths - 1).astype(np.int32))
        io.bind_cpu_input("total_sequence_length", np.array(lengths.max(), np.int32))
        io.bind_cpu_input("head_gain", self.gain[first:first + rows])
        io.bind_cpu_input("head_bias", self.bias[first:first + rows])
        io.bind_cpu_input("attn_identity_mix", self.mix[first:first + rows])
        self.cache.bind(io, first, rows)
        out = self.logits[first:first + rows]
        io.bind_output("logits", "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
        g.session.run_with_iobinding(io)
        self.lengths[first:first + rows] = lengths
        return out

    def prefill(self, prompts):
        for i, p in enumerate(prompts):
            self.forward(i, 1, p.reshape(1, -1))
        return self.logits.copy()

    def step(self, tokens):
        return self.forward(0, self.rows, tokens.reshape(self.rows, 1)).copy()


def decode(graph, where, prompts, steps, forced=None):
    """Greedy decoding (or teacher-forced on `forced`, [steps, rows]); returns step times (s), tokens fed and logits per step."""
    dec = Decoder(graph, len(prompts), where)
    logits = [dec.prefill(prompts)]
    fed, times = [], []
    for s in range(steps):
        tokens = forced[s] if forced is not None else logits[-1].argmax(axis=1).astype(np.int64)
        t0 = time.perf_counter()
        logits.append(dec.step(tokens))
        times.append(time.perf_counter() - t0)
        fed.append(tokens)
    return times, np.array(fed), logits


def summarize(times, rows):
    timed = times[WARMUP_STEPS:]
    ms = sorted(t * 1e3 for t in timed)
    return {
        "rows": rows,
        "steps": len(timed),
        "tokens_per_s": round(rows * len(timed) / sum(timed), 1),
        "step_ms_p50": round(statistics.median(ms), 3),
        "step_ms_p95": round(ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))], 3),
    }


# ---------------------------------------------------------------- copy share, placement, agreement

def copy_time(pack_model, graph, rows, repeats):
    """The copy-only graph on CUDA with the host cache bound as input and output: seconds per run (p50)."""
    session = ort.InferenceSession(str(pack_model / "copy-fp16.onnx"), ort.SessionOptions(), providers=GPU["providers"])
    cache = Cache(graph, rows, "host")
    io = session.io_binding()
    shape = graph.slot_shape(rows)
    times = []
    for r in range(repeats + WARMUP_STEPS):
        io.clear_binding_inputs()
        io.clear_binding_outputs()
        for i, ptr in enumerate(cache.pointers):
            io.bind_input(f"x{i}", "cpu", 0, graph.dtype, shape, ptr)
            io.bind_output(f"y{i}", "cpu", 0, graph.dtype, shape, ptr)
        t0 = time.perf_counter()
        session.run_with_iobinding(io)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[WARMUP_STEPS:]), 2 * len(cache.pointers) * rows * graph.slot_bytes()


def placement(bundle, rows, where, prompts):
    """Which provider ran which node kinds, from one profiled prefill and decode step."""
    with tempfile.TemporaryDirectory() as tmp:
        g = Graph(bundle, "cuda", 0, profile_dir=tmp)
        decode(g, where, prompts[:rows], 1)
        path = g.session.end_profiling()
        events = json.loads(Path(path).read_text())
    counts = {}
    for e in events:
        args = e.get("args", {})
        if e.get("cat") == "Node" and "provider" in args and e.get("name", "").endswith("_kernel_time"):
            key = f'{args.get("op_name")}@{args["provider"].replace("ExecutionProvider", "")}'
            counts[key] = counts.get(key, 0) + 1
    gqa = {k.split("@")[1]: v for k, v in counts.items() if k.startswith("GroupQueryAttention@")}
    on = {}
    for k, v in counts.items():
        p = k.split("@")[1]
        on[p] = on.get(p, 0) + v
    return {"group_query_attention_runs_by_provider": gqa, "kernel_runs_by_provider": on}


def agreement(cpu_logits, gpu_logits):
    worst, worst_relative, agree, total = 0.0, 0.0, 0, 0
    for a, b in zip(cpu_logits, gpu_logits):
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        worst = max(worst, float(d.max()))
        worst_relative = max(worst_relative, float((d.max(axis=1) / np.abs(a).max(axis=1)).max()))
        agree += int((a.argmax(axis=1) == b.argmax(axis=1)).sum())
        total += a.shape[0]
    return {"max_abs_dlogit": round(worst, 5), "max_relative_dlogit": round(worst_relative, 6),
            "argmax_agreement": round(agree / total, 5), "rows_compared": total}


def torch_copy_fallback(cache_bytes):
    """Without ONNX Runtime's CUDA provider: what moving the cache's bytes to the GPU and back costs through PyTorch."""
    try:
        import torch
    except ImportError:
        return {"skipped": "no PyTorch"}
    if not torch.cuda.is_available():
        return {"skipped": "PyTorch sees no GPU"}
    out = {"gpu": torch.cuda.get_device_name(0)}
    n = cache_bytes // 2
    for pinned in (False, True):
        host = torch.zeros(n, dtype=torch.float16, pin_memory=pinned)
        dev = torch.empty(n, dtype=torch.float16, device="cuda")
        times = []
        for _ in range(10):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            dev.copy_(host)
            host.copy_(dev)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        out[f"{'pinned' if pinned else 'pageable'}_round_trip_ms"] = round(statistics.median(times[2:]) * 1e3, 3)
    return out


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pack", default="target/gpu-bench/pack")
    ap.add_argument("--out", default=os.environ.get("OUT", "target/gpu-bench/out"))
    ap.add_argument("--steps", type=int, default=128, help="decode steps of the larger model (parens-lm: up to its cache)")
    ap.add_argument("--threads", type=int, default=0, help="CPU intra-op threads (0: ONNX Runtime's default, all cores)")
    ap.add_argument("--dry-run-on-cpu", action="store_true",
                    help="run the CUDA measurements on the CPU provider: checks this script where there is no GPU; its figures mean nothing")
    args = ap.parse_args()
    if args.dry_run_on_cpu:
        GPU.update(providers=["CPUExecutionProvider"], device="cpu", name="CPUExecutionProvider")
    pack, out = Path(args.pack), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    index = json.loads((pack / "pack.json").read_text())
    results = {
        "environment": {
            "python": platform.python_version(), "onnxruntime": ort.__version__, "cpus": os.cpu_count(),
            "available_providers": ort.get_available_providers(),
        },
        "models": [],
    }
    try:
        import torch
        if torch.cuda.is_available():
            results["environment"]["gpu"] = torch.cuda.get_device_name(0)
            results["environment"]["torch"] = torch.__version__
    except ImportError:
        pass
    cuda_ok = GPU["name"] in ort.get_available_providers()
    if cuda_ok and not args.dry_run_on_cpu and hasattr(ort, "preload_dlls"):
        try:  # CUDA and cuDNN from the nvidia-* Python packages, where the system has none
            ort.preload_dlls()
        except Exception as e:  # noqa: BLE001 - reported, the sessions then say whether CUDA started
            results["environment"]["preload_dlls"] = str(e)
    if args.dry_run_on_cpu:
        results["environment"]["dry_run_on_cpu"] = "the cuda-* figures were measured on the CPU provider: they mean nothing"
    log(json.dumps(results["environment"]))
    rng = np.random.default_rng(2026)

    for model in index["models"]:
        name = model["name"]
        mdir = pack / name
        rebuild_fp32(mdir)
        log(f"== {name}: fp32 data rebuilt and verified")
        longest = max(len(p) for p in prompts(model, 16, np.random.default_rng(0)))
        steps = min(args.steps, model["max_length"] - longest - WARMUP_STEPS)
        entry = {"model": name, "dimensions": model, "runs": [], "steps": steps}
        cpu32 = Graph(mdir / "fp32", "cpu", args.threads)
        gpu16 = Graph(mdir / "fp16", "cuda", 0) if cuda_ok else None
        if gpu16 is not None and not gpu16.on_gpu:
            entry["cuda"] = f"the CUDA provider did not start (session providers: {gpu16.session.get_providers()})"
            gpu16 = None
        elif gpu16 is None:
            entry["cuda"] = "this onnxruntime has no CUDA provider: " + str(ort.get_available_providers())
        for rows in (1, 16):
            batch = prompts(model, rows, rng)
            runs = [("cpu-fp32", cpu32, "host")]
            if gpu16 is not None:
                runs += [("cuda-host-kv", gpu16, "host"), ("cuda-device-kv", gpu16, "device")]
            for label, graph, where in runs:
                times, fed, logits = decode(graph, where, batch, steps + WARMUP_STEPS)
                r = {"config": label, **summarize(times, rows)}
                entry["runs"].append(r)
                log(json.dumps({"model": name, **r}))
                if label == "cpu-fp32":
                    reference = (fed, logits)
            if gpu16 is not None and name != "parens-lm" and rows == 16:
                gpu32 = Graph(mdir / "fp32", "cuda", 0)
                times, _, _ = decode(gpu32, "host", batch, min(steps, 32) + WARMUP_STEPS)
                r = {"config": "cuda-fp32-host-kv", **summarize(times, rows)}
                entry["runs"].append(r)
                log(json.dumps({"model": name, **r}))
                entry["placement_fp32_on_cuda"] = placement(mdir / "fp32", rows, "host", batch)
            if gpu16 is not None:
                copy_s, moved = copy_time(mdir, gpu16, rows, 20)
                host = next(r for r in entry["runs"] if r["config"] == "cuda-host-kv" and r["rows"] == rows)
                device = next(r for r in entry["runs"] if r["config"] == "cuda-device-kv" and r["rows"] == rows)
                entry.setdefault("copy", []).append({
                    "rows": rows, "cache_bytes_moved_per_step": moved, "copy_only_ms_p50": round(copy_s * 1e3, 3),
                    "copy_share_of_host_kv_step": round(copy_s * 1e3 / host["step_ms_p50"], 3),
                    "host_minus_device_step_ms": round(host["step_ms_p50"] - device["step_ms_p50"], 3)})
                log(json.dumps({"model": name, **entry["copy"][-1]}))
                if rows == 16:
                    _, _, gpu_logits = decode(gpu16, "device", batch, len(reference[0]), forced=reference[0])
                    entry["agreement_fp16_cuda_vs_fp32_cpu"] = agreement(reference[1], gpu_logits)
                    log(json.dumps({"model": name, "agreement": entry["agreement_fp16_cuda_vs_fp32_cpu"]}))
                    entry["placement_fp16_on_cuda"] = placement(mdir / "fp16", rows, "device", batch)
            elif rows == 16:
                # without the CUDA provider: fp16 on the CPU against fp32 on the CPU, and the cache's copy cost through PyTorch
                cpu16 = Graph(mdir / "fp16", "cpu", args.threads)
                _, _, cpu16_logits = decode(cpu16, "host", batch, len(reference[0]), forced=reference[0])
                entry["agreement_fp16_cpu_vs_fp32_cpu"] = agreement(reference[1], cpu16_logits)
                entry["torch_copy_of_the_cache"] = torch_copy_fallback(2 * 2 * model["layers"] * rows * model["kv_heads"]
                                                                         * model["max_length"] * model["head_dim"])
                log(json.dumps({"model": name, "agreement_cpu": entry["agreement_fp16_cpu_vs_fp32_cpu"],
                                "torch_copy": entry["torch_copy_of_the_cache"]}))
        results["models"].append(entry)

    results["seconds"] = round(time.perf_counter() - t_start, 1)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(markdown(results))
    log((out / "results.md").read_text())


def markdown(results):
    env = results["environment"]
    lines = [f"GPU check: onnxruntime {env['onnxruntime']} ({', '.join(env['available_providers'])}), "
             f"{env.get('gpu', 'no GPU seen by PyTorch')}, {env['cpus']} CPUs, {results['seconds']} s", ""]
    for m in results["models"]:
        lines += [f"### {m['model']} ({m['dimensions']['layers']} layers, d {m['dimensions']['model_dim']}, "
                  f"max length {m['dimensions']['max_length']}; {m['steps']} timed decode steps)", ""]
        if "cuda" in m:
            lines += [f"CUDA: {m['cuda']}", ""]
        lines += ["| config | rows | tokens/s | step p50 (ms) | step p95 (ms) |", "|---|---:|---:|---:|---:|"]
        for r in m["runs"]:
            lines.append(f"| {r['config']} | {r['rows']} | {r['tokens_per_s']} | {r['step_ms_p50']} | {r['step_ms_p95']} |")
        lines.append("")
        for c in m.get("copy", []):
            lines.append(f"- copy share, {c['rows']} rows: the copy-only graph moves {c['cache_bytes_moved_per_step'] / 2**20:.1f} MiB "
                         f"in {c['copy_only_ms_p50']} ms = {c['copy_share_of_host_kv_step']:.0%} of a host-KV step "
                         f"(host minus device step: {c['host_minus_device_step_ms']} ms)")
        for key in ("agreement_fp16_cuda_vs_fp32_cpu", "agreement_fp16_cpu_vs_fp32_cpu"):
            if key in m:
                a = m[key]
                lines.append(f"- {key.replace('_', ' ')}: max |Δlogit| {a['max_abs_dlogit']}, relative {a['max_relative_dlogit']}, "
                             f"argmax agreement {a['argmax_agreement']:.2%} over {a['rows_compared']} rows")
        for key in ("placement_fp16_on_cuda", "placement_fp32_on_cuda"):
            if key in m:
                lines.append(f"- {key.replace('_', ' ')}: GroupQueryAttention ran on {m[key]['group_query_attention_runs_by_provider']}, "
                             f"kernels by provider {m[key]['kernel_runs_by_provider']}")
        if "torch_copy_of_the_cache" in m:
            lines.append(f"- cache round trip through PyTorch (not ONNX Runtime): {m['torch_copy_of_the_cache']}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
