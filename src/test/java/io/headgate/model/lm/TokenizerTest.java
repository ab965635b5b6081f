package io.headgate.model.lm;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.headgate.testing.Checkpoints;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** parens-lm's tokenizer.json loads in the DJL Hugging Face tokenizers library: one token per character. */
class TokenizerTest {

    @Test
    void characterLevelRoundTrip() throws Exception {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(Checkpoints.PARENS_LM.resolve("tokenizer.json"))) {
            Encoding e = tok.encode("([]{<=");
            assertThat(e.getTokens()).containsExactly("<s>", "(", "[", "]", "{", "<", "=");
            assertThat(e.getIds()[0]).isEqualTo(1L);
            assertThat(tok.encode("57+681=").getIds()).hasSize(8);
            assertThat(tok.decode(tok.encode("({<>})").getIds(), true)).isEqualTo("({<>})");
            assertThat(tok.decode(new long[]{1, 11, 18, 2}, true)).isEqualTo("07");
        }
    }
}
