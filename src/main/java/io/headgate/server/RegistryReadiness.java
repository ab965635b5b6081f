package io.headgate.server;

import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.RevisionStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Whether the profile and experiment registries can be written and follow changes: always with
 * files; with etcd, DOWN while etcd is unreachable (or not reached yet), naming why. Streams keep
 * running on what they compiled either way; {@code headgate.registry.etcd.ready-while-unreachable}
 * keeps the check UP through an outage.
 */
@Readiness
@ApplicationScoped
public class RegistryReadiness implements HealthCheck {

    @Inject
    ProfileRegistry profiles;
    @Inject
    ExperimentRegistry experiments;
    @Inject
    RegistryStores stores;
    @Inject
    HeadgateConfig config;

    @Override
    public HealthCheckResponse call() {
        RevisionStore.Health p = profiles.health(), e = experiments.health();
        boolean up = p.up() && e.up();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("registry")
                .status(up || config.registry().etcd().readyWhileUnreachable())
                .withData("backend", stores.backend())
                .withData("profiles", (p.up() ? "up: " : "down: ") + p.detail())
                .withData("experiments", (e.up() ? "up: " : "down: ") + e.detail());
        return b.build();
    }
}
