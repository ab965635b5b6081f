package io.headgate.effect;

import io.headgate.engine.Fault;
import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;
import io.headgate.engine.diffusion.DenoisingStep;
import io.headgate.engine.diffusion.DiffusionRequest;
import io.headgate.engine.diffusion.DiffusionResult;
import io.headgate.engine.diffusion.DiffusionState;
import io.headgate.engine.diffusion.DiffusionWorkload;
import io.headgate.model.diffusion.SampleClassifier;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Scores a steering of a diffusion model on a fixed set of conditional samples — {@code perClass}
 * images of every class, image i from seed {@code seed + i} — generated through the model's own
 * scheduler as low-priority streams and judged by the bundle's classifier: class accuracy, mean
 * confidence and Fréchet distance against the real held-out images. Every steering sees the same
 * labels and seeds, so two steerings' per-image outcomes are paired. Running out of time cancels the
 * images still being generated.
 */
public final class SampleEvaluator {

    /** The quality of the set, and whether each image was classified as its label (in label-then-seed order). */
    public record Outcome(SampleQuality quality, boolean[] correct) {
    }

    private final Scheduler<DiffusionState, Void, DenoisingStep, DiffusionResult> scheduler;
    private final DiffusionWorkload workload;
    private final SampleClassifier classifier;
    private final FeatureStatistics real;

    public SampleEvaluator(Scheduler<DiffusionState, Void, DenoisingStep, DiffusionResult> scheduler, DiffusionWorkload workload,
                           SampleClassifier classifier, FeatureStatistics real) {
        this.scheduler = scheduler;
        this.workload = workload;
        this.classifier = classifier;
        this.real = real;
    }

    public Outcome evaluate(Steering steering, int perClass, long seed, Duration timeout) throws Exception {
        var spec = workload.manifest().diffusion();
        int n = perClass * spec.classes(), size = spec.channels() * spec.height() * spec.width();
        long[] labels = new long[n];
        List<CompletableFuture<float[]>> images = new ArrayList<>(n);
        List<Stream<DiffusionState, DenoisingStep, DiffusionResult>> streams = new ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                labels[i] = i / perClass;
                var request = new DiffusionRequest(labels[i], seed + i, spec.defaultSteps(), null, 0, true);
                Collect sink = new Collect();
                streams.add(scheduler.submitBackground(workload.open(request), steering, sink));
                images.add(sink.image);
            }
            float[] pixels = new float[n * size];
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < n; i++) {
                float[] image = images.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                System.arraycopy(image, 0, pixels, i * size, size);
            }
            SampleClassifier.Scores scores = classifier.classify(n, pixels);
            boolean[] correct = new boolean[n];
            for (int i = 0; i < n; i++) {
                int top = 0;
                for (int c = 1; c < scores.classes(); c++) if (scores.logits()[i * scores.classes() + c] > scores.logits()[i * scores.classes() + top]) top = c;
                correct[i] = top == labels[i];
            }
            return new Outcome(SampleQuality.measure(scores, labels, real), correct);
        } catch (TimeoutException | InterruptedException | ExecutionException | RuntimeException e) {
            for (var s : streams) scheduler.cancel(s); // free the rows: nobody will read these images
            throw e;
        }
    }

    /** Keeps one stream's final image. */
    private static final class Collect implements StreamSink<DenoisingStep, DiffusionResult> {
        final CompletableFuture<float[]> image = new CompletableFuture<>();

        @Override
        public void event(StreamEvent<DenoisingStep, DiffusionResult> event) {
            if (event instanceof StreamEvent.Finished<DenoisingStep, DiffusionResult> f) {
                if (f.ending() instanceof StreamEvent.Ending.Completed<DiffusionResult>(DiffusionResult r)) image.complete(r.image());
                else image.completeExceptionally(new IllegalStateException("the image ended early: " + f.ending()));
            }
        }

        @Override
        public void complete() {
            image.completeExceptionally(new IllegalStateException("the stream ended without an image")); // no-op after Finished
        }

        @Override
        public void fail(Fault fault) {
            image.completeExceptionally(new IllegalStateException(fault.message()));
        }
    }
}
