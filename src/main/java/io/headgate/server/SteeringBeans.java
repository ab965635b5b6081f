package io.headgate.server;

import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.SteeringResolver;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The registry backend, the profile registry (seeded with the shipped profiles once its store is
 * loaded), the experiment registry and the resolver every request uses.
 */
public class SteeringBeans {

    private static final Logger LOG = Logger.getLogger(SteeringBeans.class);

    @Produces
    @Singleton
    RegistryStores stores(HeadgateConfig config) {
        return new RegistryStores(config);
    }

    void close(@Disposes RegistryStores stores) {
        stores.close();
    }

    @Produces
    @Singleton
    ProfileRegistry registry(HeadgateConfig config, RegistryStores stores) {
        try {
            ProfileRegistry registry = new ProfileRegistry(stores.profiles());
            Path seed = Path.of(config.profiles().seed());
            if (Files.isDirectory(seed)) {
                // a shared store is seeded by whichever replica comes first: each profile is created only if it was never written
                registry.whenLoaded(() -> {
                    try {
                        int installed = registry.seedFromDirectory(seed);
                        if (installed > 0) LOG.infof("installed %d shipped profiles from %s", installed, seed);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot seed profiles from " + seed, e);
                    }
                });
            }
            return registry;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the profile registry (" + stores.backend() + ")", e);
        }
    }

    void close(@Disposes ProfileRegistry registry) {
        registry.close();
    }

    @Produces
    @Singleton
    ExperimentRegistry experiments(RegistryStores stores) {
        try {
            return new ExperimentRegistry(stores.experiments());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the experiment registry (" + stores.backend() + ")", e);
        }
    }

    void close(@Disposes ExperimentRegistry registry) {
        registry.close();
    }

    @Produces
    @Singleton
    SteeringResolver resolver(ProfileRegistry registry, HeadgateConfig config) {
        return new SteeringResolver(registry, config.profiles().maxMagnitude());
    }
}
