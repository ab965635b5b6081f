package io.headgate.server.lm;

import io.headgate.testing.Checkpoints;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Closing a model's tokenizer while threads encode with it (a canary at shutdown, a request during
 * an unload) ends each call normally or with an exception, never in the native library's freed memory.
 */
class TokenizerCloseTest {

    @Test
    void encodesRacingCloseEndInResultsOrExceptionsAndLaterCallsFail() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(Checkpoints.PARENS_LM.resolve("tokenizer.json"));
        String text = "([{<>}])".repeat(40);
        int expected = tokenizer.encode(text).length;
        CountDownLatch started = new CountDownLatch(4);
        AtomicInteger encoded = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                started.countDown();
                while (true) {
                    try {
                        long[] ids = tokenizer.encode(text);
                        if (ids.length != expected) unexpected.set(new AssertionError("encoded " + ids.length + " ids"));
                        encoded.incrementAndGet();
                    } catch (IllegalStateException closed) {
                        refused.incrementAndGet();
                        return;
                    } catch (Throwable e) {
                        unexpected.set(e);
                        return;
                    }
                }
            }));
        }
        started.await();
        Thread.sleep(50);
        tokenizer.close();
        for (Thread t : threads) t.join(10_000);

        assertThat(unexpected.get()).isNull();
        assertThat(encoded.get()).isPositive();
        assertThat(refused.get()).isEqualTo(4);
        assertThatThrownBy(() -> tokenizer.decode(new long[]{1, 11}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        tokenizer.close(); // a second close is harmless
    }
}
