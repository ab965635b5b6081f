package io.headgate.testing;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.model.forecast.ForecastGraph;

import java.io.IOException;
import java.nio.file.Path;

/** The demo forecaster, its reference outputs and its held-out series, and its converted bundles. */
public final class SeriesTsfm {
    private SeriesTsfm() {
    }

    public static final Path CHECKPOINT = Path.of("models", "series-tsfm");
    public static final Path HELD_OUT = CHECKPOINT.resolve("heldout-series.json");
    public static final Path ACCURACY = CHECKPOINT.resolve("accuracy.json");
    public static final Path REFERENCE = Path.of("src", "test", "resources", "reference", "series-tsfm.json");
    public static final CheckpointConverter.Options PLAIN = new CheckpointConverter.Options(false, false, 0);

    /** A bundle converted once per checkout state into target/test-bundles. */
    public static Path bundle(CheckpointConverter.Options options) throws IOException {
        return new BundleCache(Path.of("target", "test-bundles"), new CheckpointConverter(m -> { })).bundleFor(CHECKPOINT, options);
    }

    public static ForecastGraph graph(CheckpointConverter.Options options) throws Exception {
        return ForecastGraph.load(bundle(options), ForecastGraph.SessionConfig.DEFAULT);
    }
}
