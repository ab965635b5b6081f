package io.headgate.model.lm;

import io.headgate.model.BundleManifest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The static KV cache Headgate owns: per layer one direct buffer of keys and one of values, each
 * [slots, kvHeads, maxLength, headDim] fp32. A stream owns a slot; a run over slots
 * [first, first + rows) sees a zero-copy view, and the graph writes new keys and values in place.
 */
public final class KvCache {

    private final int slots;
    private final int slotFloats;
    private final FloatBuffer[] keys, values;
    private final long[] slotShape;
    private FloatBuffer scratch;

    public KvCache(BundleManifest manifest, int slots) {
        var d = manifest.dimensions();
        if (slots <= 0) throw new IllegalArgumentException("slots must be positive");
        long perSlot = (long) d.kvHeads() * manifest.maxLength() * d.headDim();
        if (perSlot * slots * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a cache of " + slots + " slots x " + manifest.maxLength()
                    + " positions exceeds 2 GiB per layer; use fewer slots or a shorter max length");
        }
        this.slots = slots;
        this.slotFloats = (int) perSlot;
        this.slotShape = new long[]{d.kvHeads(), manifest.maxLength(), d.headDim()};
        this.keys = new FloatBuffer[d.layers()];
        this.values = new FloatBuffer[d.layers()];
        for (int l = 0; l < d.layers(); l++) {
            keys[l] = allocate(slots * slotFloats);
            values[l] = allocate(slots * slotFloats);
        }
    }

    private static FloatBuffer allocate(int floats) {
        return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    public int slots() {
        return slots;
    }

    public int layers() {
        return keys.length;
    }

    FloatBuffer keys(int layer) {
        return keys[layer];
    }

    FloatBuffer values(int layer) {
        return values[layer];
    }

    /** Where slot {@code firstSlot} starts in a layer's buffer, after checking [firstSlot, firstSlot + rows) exists. */
    int offset(int firstSlot, int rows) {
        if (firstSlot < 0 || rows <= 0 || firstSlot + rows > slots) {
            throw new IndexOutOfBoundsException("slots " + firstSlot + ".." + (firstSlot + rows) + " of " + slots);
        }
        return firstSlot * slotFloats;
    }

    /** Copies the first {@code length} positions of slot {@code from} into slot {@code to}, every layer. */
    public void move(int from, int to, int length) {
        if (from == to) return;
        for (int l = 0; l < keys.length; l++) {
            copyPositions(keys[l], from, keys[l], to, length);
            copyPositions(values[l], from, values[l], to, length);
        }
    }

    /** Exchanges two slots' first {@code lengthA} / {@code lengthB} positions, every layer. */
    public void swap(int a, int b, int lengthA, int lengthB) {
        if (a == b) return;
        if (scratch == null) scratch = allocate(slotFloats);
        for (int l = 0; l < keys.length; l++) {
            for (FloatBuffer buffer : new FloatBuffer[]{keys[l], values[l]}) {
                copyPositions(buffer, a, scratch, 0, lengthA);
                copyPositions(buffer, b, buffer, a, lengthB);
                copyPositions(scratch, 0, buffer, b, lengthA);
            }
        }
    }

    private void copyPositions(FloatBuffer src, int srcSlot, FloatBuffer dst, int dstSlot, int length) {
        int headFloats = (int) (slotShape[1] * slotShape[2]);
        int used = length * (int) slotShape[2];
        for (int h = 0; h < slotShape[0]; h++) {
            dst.put(dstSlot * slotFloats + h * headFloats, src, srcSlot * slotFloats + h * headFloats, used);
        }
    }

    long[] shape(int rows) {
        return new long[]{rows, slotShape[0], slotShape[1], slotShape[2]};
    }
}
