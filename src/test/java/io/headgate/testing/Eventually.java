package io.headgate.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition under an explicit deadline, failing with what was awaited. */
public final class Eventually {
    private Eventually() {
    }

    public static void until(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + within + ": " + what);
            Thread.sleep(10);
        }
    }
}
