package io.headgate.server;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready once every configured model has loaded; a model that failed is reported with its error. */
@Readiness
@ApplicationScoped
public class ModelsReadiness implements HealthCheck {

    @Inject
    ModelHost host;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("models").up();
        if (host.entries().isEmpty()) b.down().withData("models", "none configured: set headgate.models.<name>.path");
        for (ModelHost.Entry e : host.entries().values()) {
            b.withData(e.name(), e.state() == ModelHost.State.FAILED ? "failed: " + e.error() : e.state().name().toLowerCase());
            if (e.state() != ModelHost.State.READY) b.down();
        }
        return b.build();
    }
}
