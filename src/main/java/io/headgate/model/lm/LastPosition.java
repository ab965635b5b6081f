package io.headgate.model.lm;

import io.headgate.model.BundleManifest;
import java.nio.FloatBuffer;

/**
 * An analysis graph's outputs at each row's last position, row-major with the row first:
 * {@code heads} [rows, L, H, Dh] (each head's z after the controls, before o_proj), {@code mlps}
 * [rows, L, D], {@code embedding} and {@code finalResidual} [rows, D]. Read-only views, valid until
 * the graph's next forward pass.
 */
public record LastPosition(BundleManifest.Dimensions dims, int rows, FloatBuffer heads, FloatBuffer mlps,
                           FloatBuffer embedding, FloatBuffer finalResidual) {

    /** Head h of layer l in row r: its Dh values start here in {@link #heads}. */
    public int headOffset(int row, int layer, int head) {
        return ((row * dims.layers() + layer) * dims.heads() + head) * dims.headDim();
    }

    public int mlpOffset(int row, int layer) {
        return (row * dims.layers() + layer) * dims.modelDim();
    }

    /** Where row r starts in {@link #embedding} and {@link #finalResidual}. */
    public int residualOffset(int row) {
        return row * dims.modelDim();
    }
}
