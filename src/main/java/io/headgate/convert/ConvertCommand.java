package io.headgate.convert;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code convert CHECKPOINT_DIR OUT_DIR [--plain] [--all-logits] [--analysis] [--fp16] [--max-length N]}: writes a bundle
 * from a Llama-family checkpoint. Run with {@code ./mvnw -q compile exec:java -Dexec.args="..."}.
 */
public final class ConvertCommand {

    private static final String USAGE = """
            usage: convert CHECKPOINT_DIR OUT_DIR [--plain] [--all-logits] [--analysis] [--fp16] [--max-length N]
              CHECKPOINT_DIR  config.json + model.safetensors (or sharded, with model.safetensors.index.json)
                              of a llama, mistral or qwen2 model, or a patch_llama forecaster;
                              fp32, fp16 or bf16 weights
              OUT_DIR         the bundle to write (must not exist): headgate.json, model.onnx(.data), tokenizer.json
              --plain         no head controls (the reference graph for parity checks and benchmarks)
              --all-logits    logits at every position instead of the last one
              --analysis      also output each head's and each MLP's output, the embedding and the
                              final residual at the last position (head discovery); for a
                              forecaster, each head's relative output norm
              --fp16          weights, activations and KV cache in fp16 (the graph CUDA runs)
              (--all-logits, --fp16 and --max-length apply to language models only)
              --max-length N  positions per KV-cache slot (default: max_position_embeddings, at most 2048)""";

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length < 2 || args[0].startsWith("-") || args[1].startsWith("-")) {
            System.err.println(USAGE);
            return 2;
        }
        boolean controls = true, allLogits = false, analysis = false, float16 = false;
        int maxLength = 0;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--plain" -> controls = false;
                case "--all-logits" -> allLogits = true;
                case "--analysis" -> analysis = true;
                case "--fp16" -> float16 = true;
                case "--max-length" -> {
                    if (i + 1 == args.length) {
                        System.err.println("--max-length needs a number\n" + USAGE);
                        return 2;
                    }
                    try {
                        maxLength = Integer.parseInt(args[++i]);
                    } catch (NumberFormatException e) {
                        System.err.println("--max-length must be a positive integer, got '" + args[i] + "'");
                        return 2;
                    }
                    if (maxLength <= 0) {
                        System.err.println("--max-length must be a positive integer, got " + maxLength);
                        return 2;
                    }
                }
                default -> {
                    System.err.println("unknown option '" + args[i] + "'\n" + USAGE);
                    return 2;
                }
            }
        }
        if (analysis && !controls) {
            System.err.println("--analysis needs the control inputs; drop --plain");
            return 2;
        }
        Path checkpoint = Path.of(args[0]), out = Path.of(args[1]);
        if (!Files.isDirectory(checkpoint)) {
            System.err.println("checkpoint directory " + checkpoint + " does not exist");
            return 2;
        }
        try {
            long t0 = System.nanoTime();
            var manifest = new CheckpointConverter(msg -> System.err.println("convert: " + msg))
                    .convert(checkpoint, out, new CheckpointConverter.Options(controls, allLogits, maxLength, false, analysis, float16));
            var d = manifest.dimensions();
            String shape = manifest.forecast() != null
                    ? String.format("context %d values in patches of %d, horizon %d, %d quantile levels", manifest.forecast().contextLength(),
                    manifest.forecast().patch(), manifest.forecast().horizon(), manifest.forecast().quantiles().size())
                    : "max length " + manifest.maxLength();
            System.err.printf("convert: %s %s, %d layers x %d heads (%d kv), %s, in %.1f s%n",
                    manifest.name(), manifest.source().modelType(), d.layers(), d.heads(), d.kvHeads(), shape, (System.nanoTime() - t0) / 1e9);
            return 0;
        } catch (CheckpointException e) {
            System.err.println("convert: refused: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            System.err.println("convert: failed: " + e);
            return 1;
        }
    }
}
