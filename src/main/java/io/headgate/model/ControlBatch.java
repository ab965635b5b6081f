package io.headgate.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The control inputs of one batch, in direct buffers the graph reads without a copy: row i of
 * {@code head_gain}, {@code head_bias} and {@code attn_identity_mix} belongs to batch row i.
 */
public final class ControlBatch {

    private final BundleManifest.Dimensions dims;
    private final int capacity;
    private final FloatBuffer gain, bias, mix;
    /** Which rows hold the identity: a graph may run a batch of only those without its control ops. */
    private final boolean[] identity;

    public ControlBatch(BundleManifest.Dimensions dims, int capacity) {
        this.dims = dims;
        this.capacity = capacity;
        int heads = dims.layers() * dims.heads();
        this.gain = direct(capacity * heads);
        this.bias = direct(capacity * heads * dims.headDim());
        this.mix = direct(capacity * heads);
        this.identity = new boolean[capacity];
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    public int capacity() {
        return capacity;
    }

    /** Copies a compiled row into batch row {@code row}. */
    public void set(int row, ControlRow controls) {
        if (!controls.fits(dims)) throw new IllegalArgumentException("control row does not fit " + dims);
        gain.put(row * controls.gain().length, controls.gain());
        bias.put(row * controls.bias().length, controls.bias());
        mix.put(row * controls.mix().length, controls.mix());
        identity[row] = controls.isIdentity();
    }

    /** Whether rows [0, rows) all hold the identity. */
    public boolean identity(int rows) {
        for (int i = 0; i < rows; i++) if (!identity[i]) return false;
        return true;
    }

    public FloatBuffer gain() {
        return gain;
    }

    public FloatBuffer bias() {
        return bias;
    }

    public FloatBuffer mix() {
        return mix;
    }
}
