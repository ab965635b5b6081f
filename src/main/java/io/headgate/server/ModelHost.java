package io.headgate.server;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.model.SessionFactory;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.SteeringResolver;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The configured models: loads each one in the background at start (converting its checkpoint if
 * the bundle cache has no current conversion) through the {@link ModelKind} its manifest names,
 * reports its state, and closes it at shutdown.
 */
@ApplicationScoped
public class ModelHost {

    private static final Logger LOG = Logger.getLogger(ModelHost.class);

    public enum State { LOADING, READY, FAILED }

    /** A model's state, with its loaded form once ready or the reason it failed. */
    public record Entry(String name, State state, LoadedModel model, String error) {
    }

    @Inject
    HeadgateConfig config;
    @Inject
    MeterRegistry meterRegistry;
    @Inject
    ProfileRegistry profiles;
    @Inject
    SteeringResolver resolver;
    @Inject
    @Any
    Instance<ModelKind> kindBeans;

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final Map<String, ModelKind> kinds = new TreeMap<>();
    private EngineMetrics metrics;

    void start(@Observes StartupEvent event) {
        metrics = new EngineMetrics(meterRegistry);
        for (ModelKind kind : kindBeans) kinds.put(kind.name(), kind);
        config.models().keySet().forEach(name -> entries.put(name, new Entry(name, State.LOADING, null, null)));
        profiles.subscribe(this::followed);
        Thread loader = new Thread(this::loadAll, "headgate-model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    private void loadAll() {
        BundleCache cache = new BundleCache(Path.of(config.bundleCache()), new CheckpointConverter(m -> LOG.info("convert: " + m)));
        for (var e : new TreeMap<>(config.models()).entrySet()) {
            String name = e.getKey();
            try {
                long t0 = System.nanoTime();
                LoadedModel model = load(name, e.getValue(), cache);
                entries.put(name, new Entry(name, State.READY, model, null));
                LOG.infof("model %s (%s) ready in %.1f s: %d slots", name, model.manifest().kind(), (System.nanoTime() - t0) / 1e9,
                        model.scheduler().slots());
            } catch (Throwable t) {
                LOG.errorf(t, "model %s failed to load from %s", name, e.getValue().path());
                entries.put(name, new Entry(name, State.FAILED, null, t.getMessage() == null ? t.toString() : t.getMessage()));
            }
        }
        loaded.countDown();
    }

    private LoadedModel load(String name, HeadgateConfig.ModelConfig mc, BundleCache cache) throws Exception {
        String field = "headgate.models." + name + ".execution";
        Execution execution = SessionFactory.resolve(field, Execution.parse(field, mc.execution()));
        // a GPU runs the fp16 graph: CUDA's GroupQueryAttention has no fp32 kernel
        Path bundle = cache.bundleFor(Path.of(mc.path()), new CheckpointConverter.Options(true, false, mc.maxLength()).withFloat16(execution.onGpu()));
        BundleManifest manifest = BundleManifest.read(bundle);
        ModelKind kind = kinds.get(manifest.kind());
        if (kind == null) {
            throw new IllegalArgumentException("model '" + name + "' is of kind '" + manifest.kind()
                    + "', which this gateway does not serve; it serves " + String.join(", ", kinds.keySet()));
        }
        HeadgateConfig.Engine engine = config.engine();
        int prefillTokensPerStep = mc.prefillTokensPerStep().orElse(engine.prefillTokensPerStep());
        if (prefillTokensPerStep <= 0) {
            throw new IllegalArgumentException("headgate.models." + name + ".prefill-tokens-per-step must be positive, got " + prefillTokensPerStep);
        }
        Scheduler.Config scheduler = new Scheduler.Config(engine.maxWaiting(), prefillTokensPerStep, engine.maxBackground(),
                engine.idleTimeout(), engine.maxPendingMessages(), engine.compactAfterPausedSteps());
        // a failed load keeps nothing: sessions, tokenizers and threads are released
        return ModelKind.load(kind, new ModelKind.Source(name, bundle, manifest, mc, engine, scheduler, metrics, execution,
                        plainTwin(name, mc, bundle, manifest, cache, execution)),
                new Resources("model " + name));
    }

    /** {@code plain-graph-for-identity=auto} loads the plain graph for weights up to this size. */
    static final long PLAIN_TWIN_AUTO_MAX_MIB = 512;

    /** A language model's plain graph, for steps whose rows are all under the identity; null where none applies. */
    private Path plainTwin(String name, HeadgateConfig.ModelConfig mc, Path bundle, BundleManifest manifest, BundleCache cache,
                           Execution execution) throws IOException {
        Path source = Path.of(mc.path());
        if (execution.onGpu() || !manifest.kind().equals(BundleManifest.CAUSAL_LM) || BundleCache.isBundle(source)) return null;
        HeadgateConfig.PlainGraph mode = mc.plainGraphForIdentity().orElse(config.engine().plainGraphForIdentity());
        long weights = weightBytes(bundle, manifest);
        if (!loadsPlainTwin(mode, weights)) {
            if (mode == HeadgateConfig.PlainGraph.AUTO) {
                LOG.infof("model %s: %d MiB of weights, so steps under the identity run the steerable graph "
                        + "(headgate.models.%s.plain-graph-for-identity=on would load a second copy without the control ops)", name, weights >> 20, name);
            }
            return null;
        }
        return cache.bundleFor(source, new CheckpointConverter.Options(false, false, mc.maxLength()));
    }

    static boolean loadsPlainTwin(HeadgateConfig.PlainGraph mode, long weightBytes) {
        return switch (mode) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> weightBytes <= PLAIN_TWIN_AUTO_MAX_MIB << 20;
        };
    }

    /** The graph file and its external data, if any: what a second session holds again. */
    private static long weightBytes(Path bundle, BundleManifest manifest) throws IOException {
        Path graph = bundle.resolve(manifest.graph());
        Path data = graph.resolveSibling(graph.getFileName() + ".data");
        return Files.size(graph) + (Files.isRegularFile(data) ? Files.size(data) : 0);
    }

    /** A new revision of a profile: streams following its name move to it. */
    private void followed(Profile profile) {
        Entry e = entries.get(profile.model());
        if (profile.spec() == null || e == null || e.state() != State.READY) return;
        try {
            e.model().scheduler().followed(profile.name(), resolver.stored(profile, e.model().manifest().dimensions(), true));
        } catch (RuntimeException ex) {
            LOG.warnf("profile %s@%d does not fit model %s: %s", profile.name(), profile.revision(), profile.model(), ex.getMessage());
        }
    }

    public Entry entry(String name) {
        return entries.get(name);
    }

    public Map<String, Entry> entries() {
        return new TreeMap<>(entries);
    }

    /** Waits until every model has loaded or failed. */
    public boolean awaitLoaded(long timeout, TimeUnit unit) throws InterruptedException {
        return loaded.await(timeout, unit);
    }

    void stop(@Observes ShutdownEvent event) {
        for (Entry e : entries.values()) {
            if (e.state() != State.READY) continue;
            try {
                e.model().close();
            } catch (Exception ex) {
                LOG.warnf(ex, "closing model %s", e.name());
            }
        }
    }
}
