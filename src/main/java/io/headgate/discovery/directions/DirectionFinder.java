package io.headgate.discovery.directions;

import ai.onnxruntime.OrtException;
import io.headgate.discovery.HeadScan;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Runs a {@link DirectionsJob} on an analysis graph: reads every contrast prompt's head outputs at
 * its last position (un-steered), splits each class into training and validation prompts, fits
 * {@link HeadDirections} and writes the suggested profile.
 */
public final class DirectionFinder {
    private DirectionFinder() {
    }

    /** The one progress phase: prompts whose head outputs have been read. */
    public static final String PHASE = "heads";

    /** Which of a class's prompts are held out for validation, and which are fitted on. */
    record Split(List<Integer> train, List<Integer> validation) {
    }

    /**
     * A class of {@code n} prompts shuffled by {@code random}: round(n · fraction) of them, at least 1
     * and leaving at least 1, for validation.
     */
    static Split split(int n, double fraction, Random random) {
        List<Integer> order = new ArrayList<>(IntStream.range(0, n).boxed().toList());
        Collections.shuffle(order, random);
        int validation = (int) Math.max(1, Math.min(n - 1, Math.round(n * fraction)));
        return new Split(List.copyOf(order.subList(validation, n)), List.copyOf(order.subList(0, validation)));
    }

    public static DirectionsReport run(HeadScan scan, DirectionsJob job, HeadScan.Progress progress, BooleanSupplier cancelled)
            throws OrtException {
        Dimensions dims = scan.dims();
        Contrast contrast = job.contrast();
        List<long[]> prompts = new ArrayList<>(contrast.positive());
        prompts.addAll(contrast.negative());
        float[][] heads = scan.lastPositionHeads(prompts, ControlRow.identity(dims), done -> progress.report(PHASE, done, prompts.size()),
                cancelled);
        int p = contrast.positive().size();
        List<float[]> positive = List.of(heads).subList(0, p), negative = List.of(heads).subList(p, heads.length);

        Random random = new Random(job.seed());
        Split positiveSplit = split(positive.size(), job.validationFraction(), random);
        Split negativeSplit = split(negative.size(), job.validationFraction(), random);
        HeadDirections directions = HeadDirections.fit(dims.layers(), dims.heads(), dims.headDim(),
                pick(positive, positiveSplit.train()), pick(negative, negativeSplit.train()),
                pick(positive, positiveSplit.validation()), pick(negative, negativeSplit.validation()));

        List<Integer> chosen = directions.ranking().subList(0, Math.min(job.top(), dims.layers() * dims.heads()));
        String description = String.format(Locale.ROOT,
                "directions: head bias %s · spread · unit mean difference on the top %d of %d heads by validation separability (%s); "
                        + "%s; %d/%d positive and %d/%d negative prompts fitted/validated, split seed %d",
                trim(job.alpha()), chosen.size(), dims.layers() * dims.heads(),
                chosen.stream().map(h -> String.format(Locale.ROOT, "L%dH%d %.2f", h / dims.heads(), h % dims.heads(), directions.separability()[h]))
                        .collect(Collectors.joining(", ")),
                contrast.source(), positiveSplit.train().size(), positiveSplit.validation().size(), negativeSplit.train().size(),
                negativeSplit.validation().size(), job.seed());
        return new DirectionsReport(job.model(), directions, chosen, directions.profile(chosen, job.alpha(), description),
                positiveSplit.train().size(), negativeSplit.train().size(), positiveSplit.validation().size(), negativeSplit.validation().size());
    }

    private static List<float[]> pick(List<float[]> examples, List<Integer> indices) {
        return indices.stream().map(examples::get).toList();
    }

    private static String trim(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }
}
