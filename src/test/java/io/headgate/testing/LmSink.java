package io.headgate.testing;

import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.TokenEvent;

import java.util.List;

/** A language-model stream's events, with its tokens at hand. */
public class LmSink extends CollectingSink<TokenEvent, Completion> {

    public TokenEvent nextToken() throws InterruptedException {
        return nextOutput();
    }

    /** The generated token ids, once the stream is done. */
    public List<Long> tokens() throws Exception {
        return outputs().stream().map(TokenEvent::id).toList();
    }
}
