package io.headgate.engine.lm;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

class DetokenizerTest {

    @Test
    void pushesConcatenateToTheFullDecodeWithTheDemoTokenizer() throws Exception {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(Path.of("models", "parens-lm", "tokenizer.json"))) {
            Function<long[], String> decode = ids -> tok.decode(ids, true);
            long[] prompt = tok.encode("([]{<=>})57+681=738").getIds();
            // <s> leads the encoding; add an end-of-sequence and padding in the middle of the stream.
            long[] ids = new long[prompt.length + 2];
            System.arraycopy(prompt, 0, ids, 0, 10);
            ids[10] = 2;
            ids[11] = 0;
            System.arraycopy(prompt, 10, ids, 12, prompt.length - 10);

            Detokenizer detokenizer = new Detokenizer(decode);
            List<String> pieces = new ArrayList<>();
            for (long id : ids) pieces.add(detokenizer.push(id));
            pieces.add(detokenizer.flush());

            assertThat(String.join("", pieces)).isEqualTo(decode.apply(ids)).isEqualTo("([]{<=>})57+681=738");
            // One character per token, nothing for the special tokens.
            assertThat(pieces.subList(0, 4)).containsExactly("", "(", "[", "]");
            assertThat(pieces.get(10)).isEmpty();
        }
    }

    @Test
    void aTwoByteCharacterIsEmittedWholeOnItsSecondToken() {
        Detokenizer detokenizer = new Detokenizer(ByteLevel::decode);
        assertThat(detokenizer.push('a')).isEqualTo("a");
        assertThat(ByteLevel.decode(new long[]{ByteLevel.E_ACUTE_1})).isEqualTo("\uFFFD");
        assertThat(detokenizer.push(ByteLevel.E_ACUTE_1)).isEmpty();
        assertThat(detokenizer.push(ByteLevel.E_ACUTE_2)).isEqualTo("é");
        assertThat(detokenizer.push('b')).isEqualTo("b");
        assertThat(detokenizer.flush()).isEmpty();
    }

    @Test
    void aThreeByteCharacterWaitsForAllItsBytes() {
        long[] ids = {'x', ByteLevel.EURO_1, ByteLevel.EURO_2, ByteLevel.EURO_3, ByteLevel.E_ACUTE_1, ByteLevel.E_ACUTE_2};
        Detokenizer detokenizer = new Detokenizer(ByteLevel::decode);
        List<String> pieces = new ArrayList<>();
        for (long id : ids) pieces.add(detokenizer.push(id));
        assertThat(pieces).containsExactly("x", "", "", "€", "", "é");
        assertThat(String.join("", pieces)).isEqualTo(ByteLevel.decode(ids));
    }

    @Test
    void flushReleasesAnIncompleteCharacterAsTheDecodeShowsIt() {
        Detokenizer detokenizer = new Detokenizer(ByteLevel::decode);
        String out = detokenizer.push('a') + detokenizer.push(ByteLevel.EURO_1) + detokenizer.push(ByteLevel.EURO_2);
        assertThat(out).isEqualTo("a");
        String rest = detokenizer.flush();
        assertThat(out + rest).isEqualTo(ByteLevel.decode(new long[]{'a', ByteLevel.EURO_1, ByteLevel.EURO_2}));
        assertThat(rest).startsWith("\uFFFD");
        assertThat(detokenizer.flush()).isEmpty();
    }

    @Test
    void aDecoderThatDropsTheLeadingSpaceAtSequenceStartStillConcatenates() {
        // SentencePiece: "▁" marks a word start, and the decoder drops the space of the first piece.
        long[] ids = {1, 10, 11, 12, 2, 11, 13, 11};
        Detokenizer detokenizer = new Detokenizer(SentencePiece::decode);
        List<String> pieces = new ArrayList<>();
        for (long id : ids) pieces.add(detokenizer.push(id));
        pieces.add(detokenizer.flush());
        assertThat(String.join("", pieces)).isEqualTo(SentencePiece.decode(ids)).isEqualTo("Hello world! world ing world");
        assertThat(pieces.subList(0, 4)).containsExactly("", "Hello", " world", "!");
    }

    @Test
    void aDecoderThatAddsALeadingSpaceAtSequenceStartStillConcatenates() {
        Function<long[], String> decode = ids -> ids.length == 0 ? "" : " " + SentencePiece.decode(ids);
        long[] ids = {10, 11, 12, 13, 11};
        Detokenizer detokenizer = new Detokenizer(decode);
        StringBuilder out = new StringBuilder();
        for (long id : ids) out.append(detokenizer.push(id));
        out.append(detokenizer.flush());
        assertThat(out.toString()).isEqualTo(decode.apply(ids));
    }

    @Test
    void theDecodedWindowDoesNotGrowWithTheStream() {
        int[] longest = {0};
        Detokenizer detokenizer = new Detokenizer(ids -> {
            longest[0] = Math.max(longest[0], ids.length);
            return ByteLevel.decode(ids);
        });
        StringBuilder out = new StringBuilder();
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            long[] step = i % 3 == 0 ? new long[]{ByteLevel.E_ACUTE_1, ByteLevel.E_ACUTE_2} : new long[]{'a' + i % 26};
            for (long id : step) {
                all.add(id);
                out.append(detokenizer.push(id));
            }
        }
        out.append(detokenizer.flush());
        assertThat(out.toString()).isEqualTo(ByteLevel.decode(all.stream().mapToLong(Long::longValue).toArray()));
        assertThat(longest[0]).isLessThanOrEqualTo(4);
    }

    /** Byte-level BPE in miniature: ids below 128 are ASCII bytes, a few ids are the bytes of é and €. */
    private static final class ByteLevel {
        static final long E_ACUTE_1 = 200, E_ACUTE_2 = 201, EURO_1 = 210, EURO_2 = 211, EURO_3 = 212;
        private static final Map<Long, Integer> BYTES = Map.of(
                E_ACUTE_1, 0xC3, E_ACUTE_2, 0xA9, EURO_1, 0xE2, EURO_2, 0x82, EURO_3, 0xAC);

        static String decode(long[] ids) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (long id : ids) bytes.write(id < 128 ? (int) id : BYTES.get(id));
            // Like the real decoders, malformed or truncated sequences become U+FFFD.
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** SentencePiece in miniature: 0-2 are special and skipped. */
    private static final class SentencePiece {
        private static final Map<Long, String> PIECES = Map.of(
                10L, "▁Hello", 11L, "▁world", 12L, "!", 13L, "▁ing");

        static String decode(long[] ids) {
            StringBuilder text = new StringBuilder();
            for (long id : ids) {
                if (id > 2) text.append(PIECES.get(id));
            }
            String spaced = text.toString().replace('▁', ' ');
            return spaced.startsWith(" ") ? spaced.substring(1) : spaced;
        }
    }
}
