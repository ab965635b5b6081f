package io.headgate.engine.lm;

/**
 * One language-model stream inside the workload: its tokens (prompt then completion), how many of
 * them the KV cache holds, and its sampler, detokenizer and stop matcher.
 */
final class LmStreamState {
    final long[] tokens;
    int length;      // prompt + generated tokens
    int cached;      // positions in the cache; the token at [cached] is the next step's input
    final int maxTokens;
    final boolean ignoreEos;
    final LmRequest.Shadow shadow;
    int shadowSlot = -1; // its row in the workload's shadow cache, when it has one
    final Sampler sampler;
    final Detokenizer detokenizer;
    final StopMatcher stops;

    LmStreamState(LmRequest request, int maxLength, Detokenizer detokenizer) {
        this.tokens = new long[maxLength];
        System.arraycopy(request.prompt(), 0, tokens, 0, request.prompt().length);
        this.length = request.prompt().length;
        this.maxTokens = request.maxTokens();
        this.ignoreEos = request.ignoreEos();
        this.shadow = request.shadow();
        this.sampler = new Sampler(request.sampling());
        this.detokenizer = detokenizer;
        this.stops = new StopMatcher(request.stops());
    }
}
