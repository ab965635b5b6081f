package io.headgate.server;

import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.SteeringResolver;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The profile registry (seeded with the shipped profiles), the experiment registry and the resolver every request uses. */
public class SteeringBeans {

    private static final Logger LOG = Logger.getLogger(SteeringBeans.class);

    @Produces
    @Singleton
    ProfileRegistry registry(HeadgateConfig config) {
        try {
            ProfileRegistry registry = new ProfileRegistry(Path.of(config.profiles().dir()));
            Path seed = Path.of(config.profiles().seed());
            if (Files.isDirectory(seed)) {
                int installed = registry.seedFromDirectory(seed);
                if (installed > 0) LOG.infof("installed %d shipped profiles from %s", installed, seed);
            }
            return registry;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the profile registry at " + config.profiles().dir(), e);
        }
    }

    @Produces
    @Singleton
    ExperimentRegistry experiments(HeadgateConfig config) {
        try {
            return new ExperimentRegistry(Path.of(config.experiments().dir()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the experiment registry at " + config.experiments().dir(), e);
        }
    }

    @Produces
    @Singleton
    SteeringResolver resolver(ProfileRegistry registry, HeadgateConfig config) {
        return new SteeringResolver(registry, config.profiles().maxMagnitude());
    }
}
