package io.headgate.steer;

import io.headgate.model.ControlRow;
import io.headgate.model.BundleManifest.Dimensions;

/**
 * Turns a validated profile into the dense control row the graph takes. Runs once per revision; steps
 * only copy the result.
 */
public final class ProfileCompiler {

    private ProfileCompiler() {
    }

    /**
     * Starts from identity and applies gains, then biases, then mixes, each in list order, so a later
     * entry overrides an earlier one on the heads both cover; −1 expands to every layer or head.
     */
    public static ControlRow compile(ProfileSpec spec, Dimensions dims) {
        ControlRow row = ControlRow.identity(dims); // fresh arrays, ours to fill
        int heads = dims.heads();
        int headDim = dims.headDim();
        for (HeadGain g : spec.gains()) {
            for (int l = first(g.layer()); l < end(g.layer(), dims.layers()); l++) {
                for (int h = first(g.head()); h < end(g.head(), heads); h++) {
                    row.gain()[l * heads + h] = g.gain();
                }
            }
        }
        for (HeadBias b : spec.biases()) {
            float[] vector = b.vector();
            for (int l = first(b.layer()); l < end(b.layer(), dims.layers()); l++) {
                for (int h = first(b.head()); h < end(b.head(), heads); h++) {
                    System.arraycopy(vector, 0, row.bias(), (l * heads + h) * headDim, headDim);
                }
            }
        }
        for (HeadMix m : spec.mixes()) {
            for (int l = first(m.layer()); l < end(m.layer(), dims.layers()); l++) {
                for (int h = first(m.head()); h < end(m.head(), heads); h++) {
                    row.mix()[l * heads + h] = m.mix();
                }
            }
        }
        return row;
    }

    /** −1 covers [0, count); any other index covers itself. */
    private static int first(int index) {
        return index < 0 ? 0 : index;
    }

    private static int end(int index, int count) {
        return index < 0 ? count : index + 1;
    }
}
