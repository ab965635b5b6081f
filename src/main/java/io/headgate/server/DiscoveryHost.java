package io.headgate.server;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.discovery.Attribution;
import io.headgate.discovery.HeadScan;
import io.headgate.discovery.HeadTables;
import io.headgate.discovery.ScanJob;
import io.headgate.discovery.ScanListener;
import io.headgate.discovery.ScanReport;
import io.headgate.discovery.ScanStore;
import io.headgate.model.BundleManifest;
import io.headgate.model.lm.CausalLmGraph;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs discovery off the serving path: per model one discovery thread (never the scheduler's) for
 * scans, searches and directions, a bounded queue of waiting jobs, and the model's analysis graph,
 * converted and loaded on first use. Finished reports are kept in a bounded {@link ScanStore}.
 */
@ApplicationScoped
public class DiscoveryHost {

    private static final Logger LOG = Logger.getLogger(DiscoveryHost.class);

    /** Refused because the analysis graph or the checkpoint behind it cannot be had. */
    public static final class AnalysisUnavailable extends RuntimeException {
        AnalysisUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Inject
    HeadgateConfig config;

    private final Map<String, ModelScans> models = new ConcurrentHashMap<>();
    private ScanStore store;

    @PostConstruct
    void init() {
        store = new ScanStore(config.discovery().keepScans());
    }

    /** The finished scans SuggestProfile can use. */
    public ScanStore store() {
        return store;
    }

    /**
     * Queues a scan on the model's discovery thread; the listener hears its progress and its end.
     *
     * @throws RejectedExecutionException when {@code headgate.discovery.max-queued} scans already wait
     */
    public void submit(ScanJob job, ScanListener listener) {
        submit(job.model(), new Job() {
            @Override
            public void run(Supplier<HeadScan> analysis) throws Exception {
                long t0 = System.nanoTime();
                HeadTables tables = analysis.get().run(job.examples(), job.steering(), job.classifier().centred(), listener::progress,
                        listener::cancelled);
                ScanReport report = ScanReport.of("scan-" + UUID.randomUUID().toString().substring(0, 8), job.model(), job.source(),
                        job.steeringLabel(), tables, job.classifier());
                store().put(report);
                LOG.infof("scan %s of %s: %d examples in %.1f s", report.scanId(), job.model(), tables.examples(), (System.nanoTime() - t0) / 1e9);
                listener.finished(report);
            }

            @Override
            public void failed(Throwable error) {
                listener.failed(error);
            }

            @Override
            public boolean cancelled() {
                return listener.cancelled();
            }
        });
    }

    /** Work on a model's discovery thread: scans, searches, directions. */
    public interface Job {
        /** {@code analysis} loads the model's analysis graph on first use (language models only). */
        void run(Supplier<HeadScan> analysis) throws Exception;

        void failed(Throwable error);

        /** Checked before the job starts: true skips it (the client went away while it waited). */
        boolean cancelled();
    }

    /**
     * Queues a job on the model's discovery thread, behind the scans and searches already there. A
     * {@link CancellationException} out of the job ends it quietly; anything else goes to {@link Job#failed}.
     *
     * @throws RejectedExecutionException when {@code headgate.discovery.max-queued} jobs already wait
     */
    public void submit(String model, Job job) {
        models.computeIfAbsent(model, ModelScans::new).submit(job);
    }

    /** One model's discovery thread, queue and (once loaded) scanner. */
    private final class ModelScans {
        private final String model;
        private final ThreadPoolExecutor thread;
        private HeadScan scanner; // confined to the thread

        ModelScans(String model) {
            this.model = model;
            this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(config.discovery().maxQueued()), r -> {
                Thread t = new Thread(r, "headgate-discovery-" + model);
                t.setDaemon(true);
                return t;
            });
        }

        void submit(Job job) {
            thread.execute(() -> run(job));
        }

        private void run(Job job) {
            try {
                if (job.cancelled()) return;
                job.run(this::analysis);
            } catch (CancellationException e) {
                LOG.debugf("discovery job on %s cancelled", model);
            } catch (Throwable t) {
                job.failed(t);
            }
        }

        private HeadScan analysis() {
            if (scanner == null) scanner = load();
            return scanner;
        }

        /** The analysis bundle of the model's checkpoint, converted through the bundle cache on first use. */
        private HeadScan load() {
            HeadgateConfig.ModelConfig mc = config.models().get(model);
            try {
                Path checkpoint = Path.of(mc.path());
                if (Files.isRegularFile(checkpoint.resolve(BundleManifest.FILE))) {
                    // served from a ready-made bundle: discovery needs the checkpoint it came from
                    checkpoint = Path.of(BundleManifest.read(checkpoint).source().checkpoint());
                }
                if (!Files.isRegularFile(checkpoint.resolve("config.json"))) {
                    throw new AnalysisUnavailable("model '" + model + "' has no checkpoint at " + checkpoint
                            + "; a scan converts the checkpoint into an analysis graph", null);
                }
                BundleCache cache = new BundleCache(Path.of(config.bundleCache()), new CheckpointConverter(m -> LOG.info("convert (analysis): " + m)));
                Path bundle = cache.bundleFor(checkpoint, CheckpointConverter.Options.analysis(mc.maxLength()));
                CausalLmGraph graph = CausalLmGraph.load(bundle, new CausalLmGraph.SessionConfig(config.engine().intraOpThreads()));
                try {
                    return new HeadScan(graph, Attribution.load(checkpoint, graph.manifest().dimensions()), config.discovery().batchRows());
                } catch (Exception e) {
                    graph.close();
                    throw e;
                }
            } catch (AnalysisUnavailable e) {
                throw e;
            } catch (Exception e) {
                throw new AnalysisUnavailable("cannot load the analysis graph of model '" + model + "': " + e.getMessage(), e);
            }
        }

        void close() {
            thread.shutdownNow();
            try {
                if (thread.awaitTermination(10, TimeUnit.SECONDS) && scanner != null) scanner.close();
            } catch (Exception e) {
                LOG.warnf(e, "closing the analysis graph of %s", model);
            }
        }
    }

    void stop(@Observes ShutdownEvent event) {
        models.values().forEach(ModelScans::close);
    }
}
