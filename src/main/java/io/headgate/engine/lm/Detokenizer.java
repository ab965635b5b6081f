package io.headgate.engine.lm;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;

/**
 * Incremental detokenization for streaming: returns the text each new token completes, so the
 * concatenation of all pushes + flush equals decode(all ids). Holds back text while the decoded tail
 * ends with U+FFFD (an incomplete multi-byte character in byte-level BPE). Uses a window of ids
 * (prefix offset / read offset technique): decode(ids[prefix..read)) vs decode(ids[prefix..]) and emits the
 * suffix difference, so the cost per token does not grow with the stream length.
 *
 * <p>Decoding a window that starts one emitted chunk back, rather than at the new token, keeps
 * decoders honest whose output depends on context (SentencePiece drops the leading space of the
 * first piece; byte-level BPE needs the neighbouring bytes). Not thread-safe: one per stream.
 */
public final class Detokenizer {

    private static final String INCOMPLETE = "\uFFFD";

    private final Function<long[], String> decode;
    // Only ids from the prefix offset on are kept: window[0] is ids[prefix], window[read] is ids[read].
    private long[] window = new long[16];
    private int size;
    private int read;
    // decode(window[0..read)), cached while tokens are held back; null when it must be recomputed.
    private String prefixText = "";

    /** @param decode ids to text, skipping special tokens */
    public Detokenizer(Function<long[], String> decode) {
        this.decode = Objects.requireNonNull(decode, "decode");
    }

    public String push(long id) {
        if (size == window.length) window = Arrays.copyOf(window, size * 2);
        window[size++] = id;
        String prefix = prefixText();
        String text = decode.apply(Arrays.copyOf(window, size));
        // Nothing new yet (a skipped special token), or a character still waits for its other bytes.
        if (text.length() <= prefix.length() || text.endsWith(INCOMPLETE)) return "";
        advance();
        return text.substring(prefix.length());
    }

    /** Whatever is still held back, incomplete characters included, as the full decode would show it. */
    public String flush() {
        if (size == read) return "";
        String prefix = prefixText();
        String text = decode.apply(Arrays.copyOf(window, size));
        advance();
        return text.length() > prefix.length() ? text.substring(prefix.length()) : "";
    }

    private String prefixText() {
        if (prefixText == null) prefixText = decode.apply(Arrays.copyOf(window, read));
        return prefixText;
    }

    /** The prefix offset moves to the read offset and the read offset to the end. */
    private void advance() {
        System.arraycopy(window, read, window, 0, size - read);
        size -= read;
        read = size;
        prefixText = null;
    }
}
