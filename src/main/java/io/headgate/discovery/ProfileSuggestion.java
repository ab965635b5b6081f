package io.headgate.discovery;

import io.headgate.steer.HeadGain;
import io.headgate.steer.ProfileSpec;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A RASteer-style profile from a scan: the sound heads' outputs scaled by {@code boost} (only the
 * {@code top} with the highest mean attribution when top > 0), and the interfering heads' by
 * {@code damp} when damp > 0. The description records where it came from.
 */
public record ProfileSuggestion(float boost, float damp, int top) {

    public static final float DEFAULT_BOOST = 1.3f;

    public ProfileSuggestion {
        if (!(boost > 0) || !Float.isFinite(boost)) throw new IllegalArgumentException("boost must be a positive number");
        if (!(damp >= 0 && damp <= 1)) throw new IllegalArgumentException("damp must be in [0, 1]");
        if (top < 0) throw new IllegalArgumentException("top must be >= 0");
    }

    /** The boosted heads: sound, by mean attribution, highest first, at most {@code top} of them (0: all). */
    public List<Integer> boosted(ScanReport scan) {
        List<Integer> sound = heads(scan, HeadClass.SOUND);
        sound.sort(Comparator.comparingDouble((Integer i) -> -scan.tables().attributionMean()[i]).thenComparing(i -> i));
        return top > 0 && sound.size() > top ? List.copyOf(sound.subList(0, top)) : List.copyOf(sound);
    }

    public List<Integer> damped(ScanReport scan) {
        return damp > 0 ? heads(scan, HeadClass.INTERFERING) : List.of();
    }

    public ProfileSpec spec(ScanReport scan, Instant at) {
        int heads = scan.tables().heads();
        List<HeadGain> gains = new ArrayList<>();
        for (int i : boosted(scan)) gains.add(new HeadGain(i / heads, i % heads, boost));
        for (int i : damped(scan)) gains.add(new HeadGain(i / heads, i % heads, damp));
        gains.sort(Comparator.comparingInt(HeadGain::layer).thenComparingInt(HeadGain::head));
        return new ProfileSpec(description(scan, at), gains, List.of(), List.of());
    }

    private String description(ScanReport scan, Instant at) {
        int sound = heads(scan, HeadClass.SOUND).size();
        return String.format(Locale.ROOT,
                "RASteer-style suggestion from scan %s of %s (%d examples, %s, steering %s, sound threshold %.2f, margin %.3f): "
                        + "gain %s on %s of %d sound heads%s; suggested %s",
                scan.scanId(), scan.model(), scan.tables().examples(), scan.source(), scan.steering(),
                scan.classifier().threshold(), scan.classifier().margin(), boost,
                top > 0 ? "the top " + boosted(scan).size() : "all", sound,
                damp > 0 ? String.format(Locale.ROOT, ", gain %s on %d interfering heads", damp, damped(scan).size()) : "",
                at.truncatedTo(ChronoUnit.SECONDS));
    }

    private static List<Integer> heads(ScanReport scan, HeadClass wanted) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < scan.classes().size(); i++) if (scan.classes().get(i) == wanted) out.add(i);
        return out;
    }
}
