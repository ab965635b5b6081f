package io.headgate.engine.lm;

/**
 * How many prompt tokens a step may read while other streams decode, so that reading a prompt
 * stretches their next token by a bounded multiple of a decode pass rather than by a fixed number of
 * tokens: a chunk of 64 tokens is three decode passes of 16 rows on bench-llama but less than one of
 * 64 rows (BENCHMARKS.md). The budget is the decode pass's recent time times {@code share}, divided
 * by what a prompt token has recently cost in this model's prefill passes (their per-pass cost
 * included), between {@code floor} and the token budget; the floor until both have been measured.
 * With no stream decoding the token budget alone applies.
 */
final class PrefillPacer {

    /** Weight of the newest measurement in the running averages: a few steps follow a change in batch size. */
    private static final double ALPHA = 0.25;

    private final int cap;
    private final int floor;
    private final double share;
    private double decodeNanos = Double.NaN;
    private double nanosPerToken = Double.NaN;

    /**
     * @param cap   prompt tokens per step at most
     * @param share a step's prefill time as a multiple of the decode pass's; 0: the cap alone
     * @param floor prompt tokens per step at least (at most the cap), so a prompt is never read a few tokens at a time
     */
    PrefillPacer(int cap, double share, int floor) {
        if (cap <= 0 || floor <= 0 || !(share >= 0) || Double.isInfinite(share)) {
            throw new IllegalArgumentException("need cap > 0, floor > 0 and a finite share >= 0; got " + cap + ", " + floor + ", " + share);
        }
        this.cap = cap;
        this.share = share;
        this.floor = Math.min(floor, cap);
    }

    /** The prompt tokens the next step may read; {@code decoding}: whether any stream in it decodes. */
    int budget(boolean decoding) {
        if (!decoding || share == 0) return cap;
        if (Double.isNaN(decodeNanos) || Double.isNaN(nanosPerToken)) return floor; // the first steps: nothing to go by yet
        double tokens = share * decodeNanos / nanosPerToken;
        return (int) Math.max(floor, Math.min(cap, Math.round(tokens)));
    }

    /** The fewest prompt tokens a step reads while streams decode (a prompt's last chunk may be shorter). */
    int floor() {
        return floor;
    }

    void decoded(long nanos) {
        decodeNanos = average(decodeNanos, nanos);
    }

    /** A step's prefill passes read {@code tokens} prompt tokens in {@code nanos}. */
    void prefilled(int tokens, long nanos) {
        if (tokens > 0) nanosPerToken = average(nanosPerToken, (double) nanos / tokens);
    }

    private static double average(double mean, double x) {
        return Double.isNaN(mean) ? x : mean + ALPHA * (x - mean);
    }
}
