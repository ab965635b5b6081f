package io.headgate.engine.forecast;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Sampling frequencies with the season length seasonal naive and MASE use (GIFT-Eval's convention:
 * hourly 24, daily 7, business-daily 5, monthly 12, quarterly 4, weekly and yearly 1) and a default
 * evaluation horizon.
 */
public enum Frequency {
    HALF_HOURLY("half-hourly", 48, 48),
    HOURLY("hourly", 24, 48),
    DAILY("daily", 7, 30),
    BUSINESS_DAILY("business-daily", 5, 30),
    WEEKLY("weekly", 1, 8),
    MONTHLY("monthly", 12, 12),
    QUARTERLY("quarterly", 4, 8),
    YEARLY("yearly", 1, 6);

    private final String label;
    private final int seasonLength, horizon;

    Frequency(String label, int seasonLength, int horizon) {
        this.label = label;
        this.seasonLength = seasonLength;
        this.horizon = horizon;
    }

    public String label() {
        return label;
    }

    public int seasonLength() {
        return seasonLength;
    }

    /** The horizon evaluations use for this frequency. */
    public int horizon() {
        return horizon;
    }

    /**
     * The frequency named {@code name} (its label, case-insensitive; {@code _} for {@code -} accepted).
     *
     * @throws IllegalArgumentException naming the known labels
     */
    public static Frequency parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Frequency f : values()) if (f.label.equals(n)) return f;
        throw new IllegalArgumentException("unknown frequency '" + name + "'; known: "
                + Arrays.stream(values()).map(Frequency::label).collect(Collectors.joining(", ")));
    }
}
