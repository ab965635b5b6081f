package io.headgate.steer.etcd;

import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.RevisionCodec;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/** What one gateway replica holds of the registry: its own etcd connection, its registries, and what its profile listener heard. */
final class Replica implements AutoCloseable {

    final EtcdConnection etcd;
    final ProfileRegistry profiles;
    final ExperimentRegistry experiments;
    final LinkedBlockingQueue<Profile> heard = new LinkedBlockingQueue<>();

    /** @param endpoints one client URL, or several comma-separated */
    Replica(String endpoints, String root) throws Exception {
        etcd = new EtcdConnection(new EtcdConnection.Config(List.of(endpoints.split(",")), Duration.ofSeconds(2)));
        profiles = new ProfileRegistry(new EtcdRevisionStore<>(etcd, root, RevisionCodec.PROFILES));
        experiments = new ExperimentRegistry(new EtcdRevisionStore<>(etcd, root, RevisionCodec.EXPERIMENTS));
        profiles.subscribe(heard::add);
    }

    boolean up() {
        return profiles.health().up() && experiments.health().up();
    }

    /** Both stores have noticed etcd is gone (each has its own watch, and they notice one after the other). */
    boolean down() {
        return !profiles.health().up() && !experiments.health().up();
    }

    @Override
    public void close() {
        profiles.close();
        experiments.close();
        etcd.close();
    }
}
