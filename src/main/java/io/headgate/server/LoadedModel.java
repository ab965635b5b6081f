package io.headgate.server;

import io.headgate.engine.Scheduler;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;

/**
 * A model ready to serve, of any kind: its manifest, scheduler and where it runs, and whatever else its kind
 * loaded (a language model's tokenizer, ...), which the kind's own type exposes. Closing it stops
 * the scheduler first, then releases the rest.
 */
public interface LoadedModel extends AutoCloseable {

    String name();

    BundleManifest manifest();

    Scheduler<?, ?, ?, ?> scheduler();

    /** Where its graph runs: {@code cpu} or {@code cuda:N} ({@code auto} is resolved at load). */
    Execution execution();

    /** Stops the scheduler (ending its streams), then releases the graph and everything else the load acquired. */
    @Override
    void close() throws Exception;
}
