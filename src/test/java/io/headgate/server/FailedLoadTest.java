package io.headgate.server;

import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.server.lm.CausalLmKind;
import io.headgate.server.lm.LmModel;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A model whose load fails part way keeps nothing it acquired; one that loads holds it all until closed. */
class FailedLoadTest {

    static ModelKind.Source source(Path bundle) throws Exception {
        return source(bundle, java.util.Optional.empty());
    }

    /** {@code prefillShare}: the model's own {@code prefill-share}. */
    static ModelKind.Source source(Path bundle, java.util.Optional<Double> prefillShare) throws Exception {
        HeadgateConfig.ModelConfig config = (HeadgateConfig.ModelConfig) Proxy.newProxyInstance(FailedLoadTest.class.getClassLoader(),
                new Class<?>[]{HeadgateConfig.ModelConfig.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "slots" -> 2;
                    case "shadowSlots" -> 1;
                    case "path" -> bundle.toString();
                    case "prefillShare" -> prefillShare;
                    default -> 0;
                });
        HeadgateConfig.Engine engine = (HeadgateConfig.Engine) Proxy.newProxyInstance(FailedLoadTest.class.getClassLoader(),
                new Class<?>[]{HeadgateConfig.Engine.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "intraOpThreads" -> 1;
                    case "prefillTokensPerStep" -> 512;
                    case "prefillShare" -> 1.5;
                    default -> 0;
                });
        return new ModelKind.Source("parens-lm", bundle, BundleManifest.read(bundle), config, engine, new Scheduler.Config(4),
                EngineMetrics.detached(), Execution.CPU, null);
    }

    static Path copy(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    @Test
    void aBrokenTokenizerReleasesTheGraphAlreadyLoaded(@TempDir Path dir) throws Exception {
        Path bundle = copy(ParensLm.bundle(), dir);
        Files.writeString(bundle.resolve(BundleManifest.read(bundle).tokenizer()), "{ not a tokenizer");
        Resources resources = new Resources("test");
        assertThrows(Exception.class, () -> ModelKind.load(new CausalLmKind(), source(bundle), resources));
        assertThat(resources.held()).as("nothing kept").isZero();
        assertThat(resources.released()).as("the ONNX Runtime session was closed").isEqualTo(1);
    }

    @Test
    void aNegativePrefillShareIsRefusedNamingItsPropertyAndReleasesWhatWasLoaded(@TempDir Path dir) throws Exception {
        Path bundle = copy(ParensLm.bundle(), dir);
        Resources resources = new Resources("test");
        var e = assertThrows(IllegalArgumentException.class,
                () -> ModelKind.load(new CausalLmKind(), source(bundle, java.util.Optional.of(-1.0)), resources));
        assertThat(e.getMessage()).contains("headgate.models.parens-lm.prefill-share").contains("-1.0");
        assertThat(resources.held()).as("nothing kept").isZero();
        assertThat(resources.released()).as("the session and the tokenizer were closed").isEqualTo(2);
    }

    @Test
    void aLoadedModelHoldsItsSessionTokenizerAndSchedulerUntilClosed(@TempDir Path dir) throws Exception {
        Path bundle = copy(ParensLm.bundle(), dir);
        Resources resources = new Resources("test");
        LmModel model = (LmModel) ModelKind.load(new CausalLmKind(), source(bundle), resources);
        assertThat(resources.held()).isEqualTo(3);
        assertThat(model.scheduler().thread().isAlive()).isTrue();
        model.close();
        assertThat(resources.released()).isEqualTo(3);
        assertThat(model.scheduler().thread().isAlive()).isFalse();
    }
}
