package io.headgate.engine.lm;

/**
 * How many prompt tokens each prefill pass of a step may read while other streams decode, so that
 * reading prompts stretches their next token by a bounded multiple of a decode pass rather than by
 * a fixed number of tokens, which is many decode passes of a small batch and few of a large one
 * (BENCHMARKS.md, "Prefill paced by the decode pass"). A step's prefill passes may take {@code share}
 * times the decode pass's recent time; a pass is priced by a line fitted to recent passes, a fixed
 * cost per pass (traced on bench-llama: about 1 ms, a fifth of a decode pass of a few rows) plus a
 * cost per token, so a step that has used its time runs no further pass. The first pass of a step reads
 * at least {@code floor} tokens, so a prompt always advances. Where no stream decodes, or fewer
 * decode than wait for their prompts (a batch of streams starting together), the token budget alone
 * applies.
 *
 * <p>A burst of streams lengthens the decode pass (on a CPU its time grows with the rows), and
 * prefill priced by that pass would lengthen the step as much again, just when every stream's next
 * token is already late. So the share is of the shorter of two averages of the decode pass: over
 * the last few steps, and over the last few seconds, which a burst moves only if it lasts
 * (BENCHMARKS.md, "Offered load").
 */
final class PrefillPacer {

    /** How much each older pass counts in the fitted line: about the last ten passes matter. */
    private static final double DECAY = 0.9;
    /** Weight of the newest decode pass in its running average: a few steps follow a change in batch size. */
    private static final double ALPHA = 0.25;
    /** Time constant of the decode pass's slow average: a burst of streams lasting a second moves it by about 40%. */
    private static final double SLOW_NANOS = 2e9;

    private final int cap;
    private final int floor;
    private final double share;
    private double decodeNanos = Double.NaN, slowNanos = Double.NaN;
    private long lastDecodeAt;
    // exponentially weighted sums over prefill passes of x = tokens, y = nanos
    private double n, sx, sy, sxx, sxy;

    /**
     * @param cap   prompt tokens per step at most
     * @param share a step's prefill time as a multiple of the decode pass's; 0: the cap alone
     * @param floor prompt tokens a step's first pass reads at least (at most the cap)
     */
    PrefillPacer(int cap, double share, int floor) {
        if (cap <= 0 || floor <= 0 || !(share >= 0) || Double.isInfinite(share)) {
            throw new IllegalArgumentException("need cap > 0, floor > 0 and a finite share >= 0; got " + cap + ", " + floor + ", " + share);
        }
        this.cap = cap;
        this.share = share;
        this.floor = Math.min(floor, cap);
    }

    /**
     * The prompt tokens the step's next pass may read, after passes that read {@code read} tokens in
     * {@code spentNanos}; 0 or less: no further pass. {@code paced}: whether the step's decoding streams
     * are paced for (false: the token budget alone).
     */
    int nextPass(boolean paced, int read, long spentNanos) {
        int room = cap - read;
        if (!paced || share == 0 || room <= 0) return room;
        if (Double.isNaN(decodeNanos) || n == 0) return read == 0 ? floor : 0; // the first steps: nothing to go by yet
        double[] line = line();
        double time = share * Math.min(decodeNanos, slowNanos);
        double tokens = (time - spentNanos - line[0]) / line[1];
        if (read == 0) tokens = Math.max(floor, tokens);
        return (int) Math.min(room, Math.floor(tokens));
    }

    /** The prompt tokens a step's first pass reads at least. */
    int floor() {
        return floor;
    }

    /** A decode pass took {@code nanos}, ending at {@code atNanos} (System.nanoTime()). */
    void decoded(long nanos, long atNanos) {
        if (Double.isNaN(decodeNanos)) {
            decodeNanos = slowNanos = nanos;
        } else {
            decodeNanos += ALPHA * (nanos - decodeNanos);
            slowNanos += -Math.expm1(-(atNanos - lastDecodeAt) / SLOW_NANOS) * (nanos - slowNanos);
        }
        lastDecodeAt = atNanos;
    }

    /** A prefill pass read {@code tokens} prompt tokens (over its rows) in {@code nanos}. */
    void passed(int tokens, long nanos) {
        if (tokens <= 0) return;
        n = DECAY * n + 1;
        sx = DECAY * sx + tokens;
        sy = DECAY * sy + nanos;
        sxx = DECAY * sxx + (double) tokens * tokens;
        sxy = DECAY * sxy + (double) tokens * nanos;
    }

    /**
     * {fixed nanos per pass, nanos per token} of the weighted least-squares line; where recent passes
     * were all about one size the line is not determined, and the time is taken as per token alone.
     */
    double[] line() {
        double mx = sx / n, my = sy / n, varX = sxx / n - mx * mx, cov = sxy / n - mx * my;
        if (varX > 1e-6 * mx * mx && cov > 0) {
            double slope = cov / varX, intercept = my - slope * mx;
            if (intercept >= 0) return new double[]{intercept, slope};
        }
        return new double[]{0, my / mx};
    }
}
