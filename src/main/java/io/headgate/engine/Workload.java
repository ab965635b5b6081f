package io.headgate.engine;

import java.util.List;

/**
 * The model-kind half of a scheduler (language model, diffusion, forecast): what admitting a stream
 * and stepping a batch compute. The scheduler owns slots, credit, steering changes and lifecycle;
 * the workload owns the model, its per-slot state and the outputs it emits. Every method runs on
 * the scheduler's thread. Rows are compact: a batch is always slots [0, rows).
 */
public interface Workload extends AutoCloseable {

    /** Slots the workload can hold at once. */
    int slots();

    /** Prepares a stream placed in {@code slot} (prefill, first output). May finish it. */
    void admit(Stream stream, int slot) throws Exception;

    /** One step for the streams in slots [0, rows.size()), each under its current steering. */
    void step(List<Stream> rows) throws Exception;

    /** Recomputes a stream's cached prefix under its (new) steering. */
    void reprefill(Stream stream, int slot) throws Exception;

    /**
     * Exchanges the per-slot state of two slots (the scheduler keeps running streams compact);
     * {@code inA} is the stream whose state is in slot a before the exchange.
     */
    void swap(int a, int b, Stream inA, Stream inB);

    /** Moves an occupied slot's state into a free one. */
    void move(int from, int to, Stream stream);

    /** Forgets a finished or cancelled stream's slot. */
    void release(Stream stream, int slot);
}
