package io.headgate.model.lm;

import io.headgate.model.BundleManifest;

/**
 * The shape of a static KV cache: per layer one key and one value tensor of
 * [slots, kvHeads, maxLength, headDim], fp32 or fp16. A slot is one contiguous block of each tensor.
 */
public record CacheGeometry(int layers, int slots, int kvHeads, int maxLength, int headDim, boolean float16) {

    public CacheGeometry {
        if (slots <= 0) throw new IllegalArgumentException("slots must be positive");
        if (layers <= 0 || kvHeads <= 0 || maxLength <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("cache dimensions must be positive: " + layers + " layers, " + kvHeads
                    + " kv heads, " + maxLength + " positions, head dim " + headDim);
        }
    }

    public static CacheGeometry of(BundleManifest manifest, int slots) {
        var d = manifest.dimensions();
        return new CacheGeometry(d.layers(), slots, d.kvHeads(), manifest.maxLength(), d.headDim(), manifest.cache().float16());
    }

    public int elementBytes() {
        return float16 ? 2 : 4;
    }

    /** Elements of one slot of one tensor. */
    public long slotElements() {
        return (long) kvHeads * maxLength * headDim;
    }

    /** Elements of one layer's key (or value) tensor. */
    public long tensorElements() {
        return slotElements() * slots;
    }

    /** [rows, kvHeads, maxLength, headDim]: the view a forward pass over {@code rows} slots sees. */
    public long[] shape(int rows) {
        return new long[]{rows, kvHeads, maxLength, headDim};
    }

    /** Checks that slots [first, first + rows) exist. */
    public void checkSlots(int first, int rows) {
        if (first < 0 || rows <= 0 || first + rows > slots) {
            throw new IndexOutOfBoundsException("slots " + first + ".." + (first + rows) + " of " + slots);
        }
    }
}
