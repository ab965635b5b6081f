package io.headgate.server;

import io.headgate.model.BundleManifest;
import io.headgate.steer.Arm;
import io.headgate.steer.ExperimentSpec;
import io.headgate.steer.ProfileException;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.ProfileValidator;
import io.headgate.steer.SourceCheck;
import io.headgate.steer.SourceRejection;
import io.headgate.steer.SteeringResolver;
import io.headgate.steer.UnknownProfileException;

import java.util.Set;

/**
 * What a watched directory's profiles and experiments must pass before they are stored: the checks
 * the API's {@code Put} makes (ProfilesService, ExperimentsService), against the model's dimensions.
 * An entry of a model still loading is left for a later sync, when there is something to check it
 * against; one of a model not served here, or that failed to load, is refused, as {@code Put} does.
 */
final class SourceChecks {

    private final ModelHost models;
    private final Set<String> configured;
    private final SteeringResolver resolver;

    SourceChecks(ModelHost models, Set<String> configured, SteeringResolver resolver) {
        this.models = models;
        this.configured = configured;
        this.resolver = resolver;
    }

    SourceCheck<ProfileSpec> profiles() {
        return (model, name, spec) -> {
            LoadedModel m = loaded(model);
            if (m == null) return false;
            try {
                if (spec.guidance() != null && !BundleManifest.DIFFUSION.equals(m.manifest().kind())) {
                    throw new ProfileException("guidance", "model '" + model + "' is a " + m.manifest().kind()
                            + " model; guidance scales steer diffusion models only");
                }
                ProfileValidator.validate(spec, m.manifest().dimensions(), resolver.maxMagnitude());
            } catch (ProfileException e) {
                throw new SourceCheck.Rejected(SourceRejection.SPEC, e.field(), e.getMessage());
            }
            return true;
        };
    }

    /** As Put, except that a single arm is allowed: it is what a promotion writes. */
    SourceCheck<ExperimentSpec> experiments() {
        return (model, name, spec) -> {
            LoadedModel m = loaded(model);
            if (m == null) return false;
            try {
                spec.validate(spec.arms().size() == 1);
            } catch (ProfileException e) {
                throw new SourceCheck.Rejected(SourceRejection.SPEC, e.field(), e.getMessage());
            }
            for (int i = 0; i < spec.arms().size(); i++) {
                Arm arm = spec.arms().get(i);
                try {
                    resolver.profile(model, m.manifest().dimensions(), arm.profile());
                } catch (UnknownProfileException | ProfileException e) {
                    throw new SourceCheck.Rejected(SourceRejection.PROFILE, "arms[" + i + "].profile", e.getMessage());
                }
            }
            return true;
        };
    }

    /** The model once loaded; null while it loads. */
    private LoadedModel loaded(String model) {
        ModelHost.Entry e = models.entry(model);
        if (e == null) {
            if (configured.contains(model)) return null; // the host has not listed it yet
            throw new SourceCheck.Rejected(SourceRejection.MODEL, "model",
                    "no model '" + model + "' is served here; served: " + String.join(", ", configured));
        }
        return switch (e.state()) {
            case READY -> e.model();
            case LOADING -> null;
            case FAILED -> throw new SourceCheck.Rejected(SourceRejection.MODEL, "model", "model '" + model + "' failed to load: " + e.error());
        };
    }
}
