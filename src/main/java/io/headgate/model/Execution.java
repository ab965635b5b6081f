package io.headgate.model;

import java.util.Locale;

/**
 * Where a model's ONNX Runtime sessions run: {@code cpu}, {@code cuda[:DEVICE]}, or {@code auto[:DEVICE]}
 * (CUDA when this build and machine can, else the CPU). {@link SessionFactory#resolve} turns a requested
 * execution into a resolved one, which is never {@code auto}.
 */
public record Execution(Provider provider, int deviceId) {

    public enum Provider { CPU, CUDA, AUTO }

    public static final Execution CPU = new Execution(Provider.CPU, 0);

    public Execution {
        if (provider == null) throw new IllegalArgumentException("execution provider is required");
        if (deviceId < 0) throw new IllegalArgumentException("device id must be >= 0, got " + deviceId);
    }

    /**
     * Parses {@code cpu}, {@code cuda}, {@code cuda:N}, {@code auto} or {@code auto:N} (device 0 unless given);
     * a bad value is an error naming {@code field}.
     */
    public static Execution parse(String field, String text) {
        String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        int colon = value.indexOf(':');
        String name = colon < 0 ? value : value.substring(0, colon);
        Provider provider = switch (name) {
            case "cpu" -> Provider.CPU;
            case "cuda" -> Provider.CUDA;
            case "auto" -> Provider.AUTO;
            default -> throw new IllegalArgumentException(field + " is '" + text + "'; expected cpu, cuda[:DEVICE] or auto[:DEVICE]");
        };
        if (colon < 0) return new Execution(provider, 0);
        if (provider == Provider.CPU) throw new IllegalArgumentException(field + " is '" + text + "'; cpu takes no device id");
        try {
            int device = Integer.parseInt(value.substring(colon + 1));
            if (device >= 0) return new Execution(provider, device);
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(field + " is '" + text + "'; the device id after ':' must be a number >= 0");
    }

    public boolean onGpu() {
        return provider == Provider.CUDA;
    }

    /** {@code cpu}, {@code cuda:N} or {@code auto:N}: what Describe and the metrics report. */
    public String label() {
        return provider == Provider.CPU ? "cpu" : provider.name().toLowerCase(Locale.ROOT) + ":" + deviceId;
    }

    @Override
    public String toString() {
        return label();
    }
}
