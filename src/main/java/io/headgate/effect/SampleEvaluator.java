package io.headgate.effect;

import io.headgate.engine.Fault;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
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
import java.util.function.BooleanSupplier;

/**
 * Scores a steering of a diffusion model on a fixed set of conditional samples — {@code perClass}
 * images of every class, image i from seed {@code seed + i} — generated through the model's own
 * scheduler as low-priority streams and judged by the bundle's classifier: class accuracy, mean
 * confidence and Fréchet distance against the real held-out images (or the same count of
 * unconditional images, judged by confidence and Fréchet distance). Every steering sees the same
 * labels and seeds, so two steerings' per-image outcomes are paired. Running out of time cancels the
 * images still being generated.
 */
public final class SampleEvaluator {

    /**
     * The quality of the set, and per image (in label-then-seed order) its top-class probability and,
     * for conditional samples, whether it was classified as its label (null for unconditional ones).
     */
    public record Outcome(SampleQuality quality, boolean[] correct, double[] confidence) {
    }

    /**
     * Which images to generate: {@code perClass} per class, image i from seed {@code seed + i}; labelled
     * with their class, or all unconditional (the model's null label) when {@code unconditional}.
     */
    public record Samples(int perClass, boolean unconditional, long seed) {
        public Samples {
            if (perClass <= 0) throw new IllegalArgumentException("perClass must be positive");
        }
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
        Samples samples = new Samples(perClass, false, seed);
        return evaluate(List.of(steering), samples, count(samples), timeout, () -> false).getFirst();
    }

    /** Images in a set. */
    public int count(Samples samples) {
        return samples.perClass() * workload.manifest().diffusion().classes();
    }

    /**
     * Each steering's samples, judged: every steering generates from the same labels and seeds, so any
     * two outcomes are paired. At most {@code inFlight} images are generated at once; the steerings'
     * rows share the scheduler's batches.
     */
    public List<Outcome> evaluate(List<Steering> steerings, Samples samples, int inFlight, Duration timeout, BooleanSupplier cancelled)
            throws Exception {
        var spec = workload.manifest().diffusion();
        int n = count(samples), size = spec.channels() * spec.height() * spec.width();
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = samples.unconditional() ? spec.nullLabel() : i / samples.perClass();
        List<float[]> images = BackgroundRuns.all(scheduler, steerings.size() * n, i -> {
            var request = new DiffusionRequest(labels[i % n], samples.seed() + i % n, spec.defaultSteps(), null, 0, true);
            return new BackgroundRuns.Run<>(workload.open(request), steerings.get(i / n), new Collect());
        }, inFlight, timeout, cancelled);
        List<Outcome> out = new ArrayList<>(steerings.size());
        for (int s = 0; s < steerings.size(); s++) {
            float[] pixels = new float[n * size];
            for (int i = 0; i < n; i++) System.arraycopy(images.get(s * n + i), 0, pixels, i * size, size);
            SampleClassifier.Scores scores = classifier.classify(n, pixels);
            boolean[] correct = samples.unconditional() ? null : new boolean[n];
            double[] confidence = new double[n];
            for (int i = 0; i < n; i++) {
                confidence[i] = SampleQuality.confidence(scores.logits(), i, scores.classes());
                if (correct != null) correct[i] = SampleQuality.top(scores.logits(), i, scores.classes()) == labels[i];
            }
            out.add(new Outcome(SampleQuality.measure(scores, samples.unconditional() ? null : labels, real), correct, confidence));
        }
        return out;
    }

    /** Keeps one stream's final image. */
    private static final class Collect implements BackgroundRuns.Collector<DenoisingStep, DiffusionResult, float[]> {
        final CompletableFuture<float[]> image = new CompletableFuture<>();

        @Override
        public CompletableFuture<float[]> result() {
            return image;
        }

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
