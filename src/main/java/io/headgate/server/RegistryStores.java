package io.headgate.server;

import io.headgate.steer.Experiment;
import io.headgate.steer.FileRevisionStore;
import io.headgate.steer.Profile;
import io.headgate.steer.RevisionCodec;
import io.headgate.steer.RevisionStore;
import io.headgate.steer.Revisioned;
import io.headgate.steer.etcd.EtcdConnection;
import io.headgate.steer.etcd.EtcdRevisionStore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The configured registry backend ({@code headgate.registry.backend}): files under the profile and
 * experiment directories, or etcd, with the one connection both registries share.
 */
public final class RegistryStores implements AutoCloseable {

    public static final String FILES = "files", ETCD = "etcd";

    private final HeadgateConfig config;
    private final EtcdConnection etcd;

    public RegistryStores(HeadgateConfig config) {
        this.config = config;
        String backend = config.registry().backend();
        if (backend.equals(ETCD)) {
            List<String> endpoints = config.registry().etcd().endpoints().orElseThrow(() -> new IllegalArgumentException(
                    "headgate.registry.etcd.endpoints: required with headgate.registry.backend=etcd (e.g. http://etcd:2379)"));
            etcd = new EtcdConnection(new EtcdConnection.Config(endpoints, config.registry().etcd().timeout()));
        } else if (backend.equals(FILES)) {
            etcd = null;
        } else {
            throw new IllegalArgumentException("headgate.registry.backend: '" + backend + "' is not a backend; allowed: files, etcd");
        }
    }

    public String backend() {
        return etcd == null ? FILES : ETCD;
    }

    public RevisionStore<Profile> profiles() throws IOException {
        return store(config.profiles().dir(), RevisionCodec.PROFILES);
    }

    public RevisionStore<Experiment> experiments() throws IOException {
        return store(config.experiments().dir(), RevisionCodec.EXPERIMENTS);
    }

    private <R extends Revisioned> RevisionStore<R> store(String dir, RevisionCodec<R> codec) throws IOException {
        if (etcd == null) return new FileRevisionStore<>(Path.of(dir), codec);
        return new EtcdRevisionStore<>(etcd, config.registry().etcd().prefix(), codec);
    }

    @Override
    public void close() {
        if (etcd != null) etcd.close();
    }
}
