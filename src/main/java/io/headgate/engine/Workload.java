package io.headgate.engine;

import io.headgate.model.BundleManifest;

/**
 * The model-kind half of a scheduler: what admitting a stream and computing a step mean for one kind
 * (language model, diffusion, forecast). The scheduler owns slots, credit, steering changes, inbound
 * messages, timeouts and faults; the workload owns the graph, its per-slot resources and the outputs
 * it emits. Every method runs on the scheduler's thread, never two at once.
 *
 * @param <S> a stream's kind-specific state, made by the kind's API before submission
 * @param <I> messages a client may send a running stream besides Start, Steer and Ack ({@link Void}: none)
 * @param <O> an output event (a token, a denoising step, a forecast)
 * @param <F> the result that ends a stream normally
 */
public interface Workload<S, I, O, F> extends AutoCloseable {

    Kind kind();

    /** The dimensions of the graph's head controls. */
    BundleManifest.Dimensions dimensions();

    /** Streams the workload can hold at once. */
    int slots();

    /** Rows one step may hold at most (every slot's rows together). */
    int maxRows();

    /** What admitting the stream costs, in the kind's units (a language model: prompt tokens). */
    int cost(S state);

    /** Prepares a stream just placed in {@code stream.slot()} (a prefill, maybe a first output). May finish it. */
    void admit(Stream<S, O, F> stream) throws Exception;

    /** Whether the stream has a step to compute now (a forecast waits for observations). Credit is the scheduler's concern. */
    default boolean ready(Stream<S, O, F> stream) {
        return true;
    }

    /** Lays out the rows of {@code batch.streams()} (and whatever else its graph needs) and runs the graph once. */
    void forward(Batch<S, O, F> batch) throws Exception;

    /** Hands one stream the outputs of its rows in the last forward pass: emits, may finish it. */
    void collect(Stream<S, O, F> stream, Batch<S, O, F> batch) throws Exception;

    /** A client message for the stream, in arrival order, between steps; the stream may not be admitted yet. */
    default void receive(Stream<S, O, F> stream, I message) throws Exception {
        throw new UnsupportedOperationException(kind().name() + " streams take no messages");
    }

    /**
     * The stream's steering has just changed (it is already {@code stream.steering()}). With
     * {@code recompute}, redo what earlier steps cached under the old steering (a language model's
     * re-prefill). Returns whether anything was recomputed.
     */
    default boolean steered(Stream<S, O, F> stream, boolean recompute) throws Exception {
        return false;
    }

    /** Exchanges the per-slot resources of two occupied slots; {@code inA} was in slot a before. */
    void swap(int a, int b, Stream<S, O, F> inA, Stream<S, O, F> inB);

    /** Moves an occupied slot's resources into a free one. */
    void move(int from, int to, Stream<S, O, F> stream);

    /** Forgets a finished, cancelled or failed stream's slot and whatever else it held. */
    void release(Stream<S, O, F> stream, int slot);

    /** Aborts a forward pass in flight, from another thread (shutdown); later ones may fail too. */
    default void interrupt() {
    }
}
