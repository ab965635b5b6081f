package io.headgate.engine.lm;

/** How a generation ended, and any text the detokenizer and stop matcher still held back. */
public record Completion(Reason reason, String text) {

    public enum Reason {
        /** The model ended the text. */
        EOS,
        /** A stop string matched. */
        STOP,
        MAX_TOKENS,
        /** The model's maximum sequence length. */
        MAX_LENGTH
    }
}
