package io.headgate.effect;

import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamSink;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;

/**
 * Runs many low-priority streams through a model's scheduler and collects one result from each: at
 * most {@code inFlight} are submitted at a time (a search scores thousands of rows, more than the
 * background queue holds), each stream's steering is its own, so rows of different candidates share
 * the scheduler's batches. Running out of time or being cancelled cancels every stream still running.
 */
public final class BackgroundRuns {
    private BackgroundRuns() {
    }

    private static final long POLL_MILLIS = 50;

    /** A sink that completes one result when its stream ends. */
    public interface Collector<O, F, R> extends StreamSink<O, F> {
        CompletableFuture<R> result();
    }

    /** One stream to run: its state, its steering and where its result goes. */
    public record Run<S, O, F, R>(S state, Steering steering, Collector<O, F, R> sink) {
    }

    /**
     * The results of runs {@code 0..n-1}, in order.
     *
     * @throws TimeoutException      past {@code timeout}
     * @throws CancellationException when {@code cancelled} turns true
     */
    public static <S, M, O, F, R> List<R> all(Scheduler<S, M, O, F> scheduler, int n, IntFunction<Run<S, O, F, R>> run, int inFlight,
                                              Duration timeout, BooleanSupplier cancelled) throws Exception {
        if (inFlight <= 0) throw new IllegalArgumentException("inFlight must be positive");
        long deadline = System.nanoTime() + timeout.toNanos();
        Semaphore slots = new Semaphore(inFlight);
        List<Stream<S, O, F>> streams = new ArrayList<>(n);
        List<CompletableFuture<R>> results = new ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                while (!slots.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS)) check(deadline, cancelled);
                check(deadline, cancelled);
                Run<S, O, F, R> r = run.apply(i);
                CompletableFuture<R> result = r.sink().result();
                result.whenComplete((v, e) -> slots.release());
                streams.add(scheduler.submitBackground(r.state(), r.steering(), r.sink()));
                results.add(result);
            }
            List<R> out = new ArrayList<>(n);
            for (CompletableFuture<R> result : results) {
                while (true) {
                    try {
                        out.add(result.get(POLL_MILLIS, TimeUnit.MILLISECONDS));
                        break;
                    } catch (TimeoutException e) {
                        check(deadline, cancelled);
                    }
                }
            }
            return out;
        } catch (Exception e) {
            for (var s : streams) scheduler.cancel(s); // free the rows: nobody will read these results
            throw e;
        }
    }

    private static void check(long deadline, BooleanSupplier cancelled) throws TimeoutException {
        if (cancelled.getAsBoolean()) throw new CancellationException("cancelled");
        if (System.nanoTime() > deadline) throw new TimeoutException("the background streams did not finish in time");
    }
}
