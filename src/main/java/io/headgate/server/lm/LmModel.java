package io.headgate.server.lm;

import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmMeters;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.server.LoadedModel;
import io.headgate.server.Resources;

/** A language model ready to serve: its tokenizer (null when the bundle has none), workload, scheduler, meters and where it runs. */
public record LmModel(String name, BundleManifest manifest, Tokenizer tokenizer, CausalLmWorkload workload,
                      Scheduler<LmState, Void, TokenEvent, Completion> scheduler, LmMeters meters, Execution execution,
                      Resources resources)
        implements LoadedModel {

    @Override
    public void close() {
        resources.close();
    }
}
