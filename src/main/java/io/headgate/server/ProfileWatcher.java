package io.headgate.server;

import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.SourceDirectory;
import io.headgate.steer.SourceRejection;
import io.headgate.steer.SourceSync;
import io.headgate.steer.SteeringResolver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the registries in step with {@code headgate.profiles.watch} and {@code headgate.experiments.watch},
 * read-only sources in a cluster (mounted ConfigMaps, which Kubernetes updates
 * in place): changes become new revisions without a restart; streams following a changed profile
 * move to it at their next step, and new streams of an experiment see its new arms. Every file is
 * checked as the API's Put checks it (see {@link SourceChecks}); a refused file is logged with its
 * field and counted in {@code headgate_source_rejected_total{kind,reason}} once per distinct refusal,
 * never stored, and the rest of the directory syncs on.
 */
@ApplicationScoped
public class ProfileWatcher {

    private static final Logger LOG = Logger.getLogger(ProfileWatcher.class);

    @Inject
    HeadgateConfig config;
    @Inject
    ProfileRegistry profiles;
    @Inject
    ExperimentRegistry experiments;
    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;
    @Inject
    MeterRegistry meters;

    /** One followed directory: applies its changes since {@code previous}. */
    private interface Sync {
        SourceSync apply(Path dir, SourceDirectory.Synced previous) throws Exception;
    }

    private ScheduledExecutorService timer;
    private final Map<Path, SourceDirectory.Synced> synced = new HashMap<>();
    /** Each refused file and the refusal last reported for it: a file refused the same way at every sync is reported once. */
    private final Map<Path, String> reported = new HashMap<>();

    void start(@Observes StartupEvent event) {
        SourceChecks checks = new SourceChecks(models, config.models().keySet(), resolver);
        Map<Path, Sync> sources = new LinkedHashMap<>(); // profiles first: experiments' arms name them
        config.profiles().watch().ifPresent(d -> sources.put(Path.of(d), (dir, previous) -> profiles.syncFromDirectory(dir, previous, checks.profiles())));
        config.experiments().watch().ifPresent(d -> sources.put(Path.of(d), (dir, previous) -> experiments.syncFromDirectory(dir, previous, checks.experiments())));
        if (sources.isEmpty()) return;
        Runnable syncAll = () -> sources.forEach(this::sync);
        syncAll.run();
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "headgate-registry-watch");
            t.setDaemon(true);
            return t;
        });
        long every = config.profiles().watchInterval().toMillis();
        timer.scheduleWithFixedDelay(syncAll, every, every, TimeUnit.MILLISECONDS);
        // entries of models still loading wait for a later sync: run one as soon as every model is in
        Thread.ofVirtual().name("headgate-registry-watch-loaded").start(() -> {
            try {
                if (models.awaitLoaded(1, TimeUnit.DAYS)) timer.execute(syncAll);
            } catch (InterruptedException | java.util.concurrent.RejectedExecutionException ignored) {
                // shutting down
            }
        });
    }

    private synchronized void sync(Path dir, Sync sync) {
        try {
            SourceSync result = sync.apply(dir, synced.getOrDefault(dir, SourceDirectory.Synced.NONE));
            synced.put(dir, result.synced());
            report(dir, result.rejected());
        } catch (Exception e) {
            // the directory itself could not be read: keep serving what we have and say why
            LOG.warnf("directory %s not applied: %s", dir, e.getMessage());
        }
    }

    private void report(Path dir, List<SourceRejection> rejected) {
        Map<Path, String> now = new HashMap<>();
        for (SourceRejection r : rejected) {
            String said = r.toString();
            now.put(r.file(), said);
            if (said.equals(reported.get(r.file()))) continue;
            LOG.warnf("not stored: %s", said);
            Counter.builder("headgate.source.rejected").description("Files of a watched directory refused (once per distinct refusal)")
                    .tag("kind", r.kind()).tag("reason", r.reason()).register(meters).increment();
        }
        reported.keySet().removeIf(file -> file.startsWith(dir) && !now.containsKey(file));
        reported.putAll(now);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) timer.shutdownNow();
    }
}
