package io.headgate.server;

import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.SourceDirectory;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the registries in step with {@code headgate.profiles.watch} and {@code headgate.experiments.watch},
 * read-only sources in a cluster (mounted ConfigMaps, which Kubernetes updates
 * in place): changes become new revisions without a restart; streams following a changed profile
 * move to it at their next step, and new streams of an experiment see its new arms.
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

    /** One followed directory: applies its changes since {@code previous}. */
    private interface Sync {
        SourceDirectory.Synced apply(Path dir, SourceDirectory.Synced previous) throws Exception;
    }

    private ScheduledExecutorService timer;
    private final Map<Path, SourceDirectory.Synced> synced = new HashMap<>();

    void start(@Observes StartupEvent event) {
        Map<Path, Sync> sources = new LinkedHashMap<>();
        config.profiles().watch().ifPresent(d -> sources.put(Path.of(d), profiles::syncFromDirectory));
        config.experiments().watch().ifPresent(d -> sources.put(Path.of(d), experiments::syncFromDirectory));
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
    }

    private synchronized void sync(Path dir, Sync sync) {
        try {
            synced.put(dir, sync.apply(dir, synced.getOrDefault(dir, SourceDirectory.Synced.NONE)));
        } catch (Exception e) {
            // a half-updated or malformed file: keep serving what we have and say why
            LOG.warnf("directory %s not applied: %s", dir, e.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) timer.shutdownNow();
    }
}
