package io.headgate.engine.lm;

import java.util.List;

/**
 * Stop strings over streamed text: push(delta) returns the text that can be emitted now and whether a stop
 * string matched. Text that could still be the start of a stop string is held back; on a match, the text
 * before the stop string is emitted and the stop string itself is not. flush() releases what is held back
 * (when the stream ends for another reason).
 *
 * <p>After a stop, pushes emit nothing and report the stop again; flush returns nothing. Not
 * thread-safe: one per stream.
 */
public final class StopMatcher {

    public record Result(String emit, boolean stopped) {
        public Result {
            if (emit == null) throw new IllegalArgumentException("emit must not be null");
        }
    }

    private final List<String> stops;
    private final int longest;
    private String held = "";
    private boolean stopped;

    /** @throws IllegalArgumentException if a stop string is empty (it would match before any text) */
    public StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
        int max = 0;
        for (String stop : this.stops) {
            if (stop.isEmpty()) throw new IllegalArgumentException("stop strings must not be empty");
            max = Math.max(max, stop.length());
        }
        this.longest = max;
    }

    public Result push(String delta) {
        if (stopped) return new Result("", true);
        String text = held + delta;
        // Held text holds no complete stop, so a match can only end inside the new delta; the
        // earliest start wins because everything before it is text the caller should see.
        int searchFrom = Math.max(0, held.length() - longest + 1);
        int earliest = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop, searchFrom);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        if (earliest >= 0) {
            stopped = true;
            held = "";
            return new Result(text.substring(0, earliest), true);
        }
        int keep = heldBackLength(text);
        held = text.substring(text.length() - keep);
        return new Result(text.substring(0, text.length() - keep), false);
    }

    public String flush() {
        String out = held;
        held = "";
        return out;
    }

    public boolean stopped() {
        return stopped;
    }

    /** Length of the longest suffix of text that is a proper prefix of some stop string. */
    private int heldBackLength(String text) {
        for (int length = Math.min(text.length(), longest - 1); length > 0; length--) {
            int from = text.length() - length;
            for (String stop : stops) {
                if (stop.regionMatches(0, text, from, length)) return length;
            }
        }
        return 0;
    }
}
