package io.headgate.testing;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.lm.CausalLmGraph;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The checkpoints the tests convert: the demo model and tiny random variants of each family. */
public final class Checkpoints {
    private Checkpoints() {
    }

    public static final Path PARENS_LM = Path.of("models", "parens-lm");
    public static final Path VARIANTS = Path.of("src", "test", "resources", "checkpoints");

    /** Checkpoint directory and its reference logits. */
    public record WithReference(String name, Path checkpoint, Path reference) {
        @Override
        public String toString() {
            return name;
        }
    }

    public static List<WithReference> withReferences() {
        return List.of(
                new WithReference("parens-lm", PARENS_LM, Path.of("src", "test", "resources", "reference", "parens-lm.json")),
                variant("llama-tied-fp16"),
                variant("qwen2-bf16"),
                variant("mistral-window"));
    }

    private static WithReference variant(String name) {
        return new WithReference(name, VARIANTS.resolve(name), VARIANTS.resolve(name).resolve("reference.json"));
    }

    /** Converts into {@code dir}/{@code name} and loads the result with one intra-op thread. */
    public static CausalLmGraph convertAndLoad(Path checkpoint, Path dir, String name, CheckpointConverter.Options options)
            throws Exception {
        Path out = dir.resolve(name);
        new CheckpointConverter(msg -> { }).convert(checkpoint, out, options);
        return CausalLmGraph.load(out, CausalLmGraph.SessionConfig.DEFAULT);
    }

    public static Path convert(Path checkpoint, Path dir, String name, CheckpointConverter.Options options) throws IOException {
        Path out = dir.resolve(name);
        new CheckpointConverter(msg -> { }).convert(checkpoint, out, options);
        return out;
    }
}
