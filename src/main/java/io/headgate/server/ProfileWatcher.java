package io.headgate.server;

import io.headgate.steer.ProfileRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the registry in step with {@code headgate.profiles.watch}, a directory that is the source of
 * truth in a cluster (a mounted ConfigMap, which Kubernetes updates in place): changes become new
 * revisions without a restart, and streams following a changed profile move to it at their next step.
 */
@ApplicationScoped
public class ProfileWatcher {

    private static final Logger LOG = Logger.getLogger(ProfileWatcher.class);

    @Inject
    HeadgateConfig config;
    @Inject
    ProfileRegistry registry;

    private ScheduledExecutorService timer;
    private Set<List<String>> synced = Set.of();

    void start(@Observes StartupEvent event) {
        if (config.profiles().watch().isEmpty()) return;
        Path dir = Path.of(config.profiles().watch().get());
        sync(dir);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "headgate-profile-watch");
            t.setDaemon(true);
            return t;
        });
        long every = config.profiles().watchInterval().toMillis();
        timer.scheduleWithFixedDelay(() -> sync(dir), every, every, TimeUnit.MILLISECONDS);
    }

    private synchronized void sync(Path dir) {
        try {
            synced = registry.syncFromDirectory(dir, synced);
        } catch (Exception e) {
            // a half-updated or malformed file: keep serving what we have and say why
            LOG.warnf("profile directory %s not applied: %s", dir, e.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) timer.shutdownNow();
    }
}
