package io.headgate.server.lm;

import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.LmMeters;
import io.headgate.model.BundleManifest;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.server.LoadedModel;
import io.headgate.server.ModelKind;
import io.headgate.server.Resources;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;


/** Loads {@code causal-lm} bundles: the graph with its KV cache, the tokenizer, the token-streaming workload. */
@ApplicationScoped
public class CausalLmKind implements ModelKind {

    private static final Logger LOG = Logger.getLogger(CausalLmKind.class);

    @Override
    public String name() {
        return BundleManifest.CAUSAL_LM;
    }

    @Override
    public LoadedModel load(Source source, Resources resources) throws Exception {
        CausalLmGraph graph = resources.hold(CausalLmGraph.load(source.bundle(), source.plainBundle(),
                new CausalLmGraph.SessionConfig(source.engine().intraOpThreads(), source.execution())));
        BundleManifest manifest = graph.manifest();
        if (graph.plainForIdentity()) {
            LOG.infof("model %s: steps whose rows are all under the identity run its plain graph (no control ops; a second copy of the weights)",
                    source.name());
        }
        Tokenizer tokenizer = manifest.tokenizer() == null ? null
                : resources.hold(Tokenizer.load(source.bundle().resolve(manifest.tokenizer())));
        LmMeters meters = new LmMeters(source.metrics().registry(), source.name());
        double share = source.config().prefillShare().orElse(source.engine().prefillShare());
        if (!(share >= 0) || Double.isInfinite(share)) {
            throw new IllegalArgumentException("headgate.models." + source.name() + ".prefill-share must be a finite number >= 0, got " + share);
        }
        // one budget paces both: prompt tokens admitted per turn and prompt tokens prefilled per step
        var config = new CausalLmWorkload.Config(source.config().slots(), source.config().shadowSlots(), source.scheduler().admissionBudget(), share);
        CausalLmWorkload workload = new CausalLmWorkload(graph, config, ids -> tokenizer == null ? "" : tokenizer.decode(ids), meters);
        var scheduler = resources.hold(new Scheduler<>(source.name(), workload, source.scheduler(), source.metrics()));
        return new LmModel(source.name(), manifest, tokenizer, workload, scheduler, meters, graph.execution(), resources);
    }
}
