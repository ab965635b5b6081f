package io.headgate.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headgate.testing.SafetensorsFiles;
import io.headgate.testing.SafetensorsFiles.Raw;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A patch forecaster checkpoint the graph cannot express is refused with an error naming the field
 * or tensor, and the bundle cache is left as it was.
 */
class BadForecastCheckpointTest {

    @TempDir
    Path dir;

    private Path copy(Consumer<ObjectNode> edit) throws IOException {
        Path copy = dir.resolve("checkpoint");
        SafetensorsFiles.copyDirectory(SeriesTsfm.CHECKPOINT, copy);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(copy.resolve("config.json").toFile());
        edit.accept(config);
        json.writeValue(copy.resolve("config.json").toFile(), config);
        return copy;
    }

    private String refusal(Path checkpoint) throws IOException {
        Path cacheRoot = dir.resolve("cache");
        Files.createDirectories(cacheRoot);
        BundleCache cache = new BundleCache(cacheRoot, new CheckpointConverter(m -> { }));
        Exception e = assertThrows(CheckpointException.class, () -> cache.bundleFor(checkpoint, CheckpointConverter.Options.STEERABLE));
        try (Stream<Path> left = Files.list(cacheRoot)) {
            assertThat(left.toList()).as("cache after a refused conversion").isEmpty();
        }
        return e.getMessage();
    }

    @Test
    void contextThatIsNotWholePatchesIsNamed() throws IOException {
        assertThat(refusal(copy(c -> c.put("context_length", 500)))).contains("context_length").contains("patch_length");
    }

    @Test
    void quantilesWithoutTheMedianAreNamed() throws IOException {
        assertThat(refusal(copy(c -> c.putArray("quantiles").add(0.1).add(0.9)))).contains("quantiles").contains("0.5");
    }

    @Test
    void quantilesOutOfOrderAreNamed() throws IOException {
        assertThat(refusal(copy(c -> c.putArray("quantiles").add(0.5).add(0.1)))).contains("quantiles").contains("increasing");
    }

    @Test
    void quantileOutsideTheUnitIntervalIsNamed() throws IOException {
        assertThat(refusal(copy(c -> c.putArray("quantiles").add(0.5).add(1.5)))).contains("quantiles").contains("1.5");
    }

    @Test
    void missingQuantilesAreNamed() throws IOException {
        assertThat(refusal(copy(c -> c.remove("quantiles")))).contains("quantiles").contains("missing");
    }

    @Test
    void zeroHorizonIsNamed() throws IOException {
        assertThat(refusal(copy(c -> c.put("horizon_length", 0)))).contains("horizon_length");
    }

    @Test
    void nonIntegerPatchLengthIsNamed() throws IOException {
        assertThat(refusal(copy(c -> c.put("patch_length", "sixteen")))).contains("patch_length").contains("integer");
    }

    @Test
    void unknownNormalizationIsNamed() throws IOException {
        assertThat(refusal(copy(c -> c.put("normalization", "robust")))).contains("normalization").contains("robust");
    }

    @Test
    void ropeScalingIsRefused() throws IOException {
        assertThat(refusal(copy(c -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", 2.0)))).contains("rope_scaling");
    }

    @Test
    void otherActivationsAreRefused() throws IOException {
        assertThat(refusal(copy(c -> c.put("hidden_act", "gelu")))).contains("hidden_act").contains("gelu");
    }

    @Test
    void tooFewPositionsForThePatchesAreNamed() throws IOException {
        assertThat(refusal(copy(c -> c.put("max_position_embeddings", 8)))).contains("max_position_embeddings");
    }

    @Test
    void headCountsThatDoNotDivideAreNamed() throws IOException {
        assertThat(refusal(copy(c -> c.put("num_key_value_heads", 4)))).contains("num_key_value_heads");
    }

    @Test
    void aPatchLengthTheWeightsDoNotHaveNamesTheTensorAndBothShapes() throws IOException {
        // patch 32 over the same 512 values: the patch embedding would read 64 numbers per patch, not 32
        String message = refusal(copy(c -> c.put("patch_length", 32)));
        assertThat(message).contains("patch_embed.in_proj.weight").contains("[96, 32]").contains("expected [96, 64]");
    }

    @Test
    void missingHeadTensorIsNamed() throws IOException {
        Path c = copy(x -> { });
        Map<String, Raw> t = SafetensorsFiles.read(c.resolve("model.safetensors"));
        t.remove("quantile_head.skip.bias");
        SafetensorsFiles.write(c.resolve("model.safetensors"), t);
        assertThat(refusal(c)).contains("quantile_head.skip.bias").contains("missing");
    }

    @Test
    void languageModelOptionsAreRefusedForAForecaster() throws IOException {
        Path c = copy(x -> { });
        var e = assertThrows(IllegalArgumentException.class, () -> new CheckpointConverter(m -> { })
                .convert(c, dir.resolve("out"), new CheckpointConverter.Options(true, true, 0)));
        assertThat(e.getMessage()).contains("option allLogits (--all-logits) applies to language models only")
                .contains(PatchLlamaConfig.MODEL_TYPE).doesNotContain("float16");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void float16IsRefusedForAForecasterNamingTheOption() throws IOException {
        Path c = copy(x -> { });
        var e = assertThrows(IllegalArgumentException.class, () -> new CheckpointConverter(m -> { })
                .convert(c, dir.resolve("out"), CheckpointConverter.Options.STEERABLE.withFloat16(true)));
        assertThat(e.getMessage()).contains("option float16 (--fp16").contains("applies to language models only")
                .contains(PatchLlamaConfig.MODEL_TYPE).doesNotContain("allLogits");
        assertThat(dir.resolve("out")).doesNotExist();
    }
}
