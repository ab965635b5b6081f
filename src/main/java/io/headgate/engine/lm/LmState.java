package io.headgate.engine.lm;

/**
 * One language-model stream inside the workload: its tokens (prompt then completion), how many of
 * them the KV cache holds, its sampler, detokenizer and stop matcher, and where its rows sat in the
 * last step. Made on the caller's thread by {@link CausalLmWorkload#open}, then touched only by the
 * scheduler's thread.
 */
public final class LmState {
    final long[] tokens;
    final int promptLength;
    int length;      // prompt + generated tokens
    int cached;      // positions in the cache; the token at [cached] is the next step's input
    final int maxTokens;
    final boolean ignoreEos;
    final LmRequest.Shadow shadow;
    int shadowSlot = -1; // its row in the workload's shadow cache, when it has one
    int row = -1;        // its row in the last decode pass
    boolean decoding;    // its prompt is cached and its first token sampled: each step decodes one token
    float[] promptLogits; // the logits after its prompt's last chunk, until the first token is sampled
    final Sampler sampler;
    final Detokenizer detokenizer;
    final StopMatcher stops;

    LmState(LmRequest request, int maxLength, Detokenizer detokenizer) {
        this.tokens = new long[maxLength];
        System.arraycopy(request.prompt(), 0, tokens, 0, request.prompt().length);
        this.promptLength = request.prompt().length;
        this.length = request.prompt().length;
        this.maxTokens = request.maxTokens();
        this.ignoreEos = request.ignoreEos();
        this.shadow = request.shadow();
        this.sampler = new Sampler(request.sampling());
        this.detokenizer = detokenizer;
        this.stops = new StopMatcher(request.stops());
    }

    /** Prompt tokens: what admitting the stream costs. */
    public int promptLength() {
        return promptLength;
    }
}
