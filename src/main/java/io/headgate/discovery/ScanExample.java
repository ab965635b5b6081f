package io.headgate.discovery;

/**
 * One teacher-forced example: the prompt's token ids and the token that should come next (the
 * answer's first). {@code label} says where it came from, for messages.
 */
public record ScanExample(String label, long[] prompt, int target) {
    public ScanExample {
        if (prompt.length == 0) throw new IllegalArgumentException("an example needs prompt tokens");
        if (target < 0) throw new IllegalArgumentException("target must be a token id");
    }
}
