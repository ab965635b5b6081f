package io.headgate.discovery;

import io.headgate.convert.CheckpointWeights;
import io.headgate.convert.LlamaConfig;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.lm.LastPosition;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Direct logit attribution at the last position. The final residual is a sum of terms,
 * {@code x = embedding + Σ_l (Σ_h W_O^h z_h + b_O) + Σ_l mlp_l}, and with the final RMSNorm's scale
 * held at its value for this x, {@code s = γ / rms(x)}, a logit is linear in x:
 * {@code logit_t = (s ⊙ x) · W_U[t]}. So each term's share is {@code (s ⊙ term) · W_U[t]}, and the
 * shares sum to the logit.
 *
 * <p>{@code centred} measures against the mean logit instead, direction {@code W_U[t] − mean_v W_U[v]}:
 * what a term adds to every logit alike does not change the distribution, so it does not count.
 */
public final class Attribution {

    private final Dimensions dims;
    private final double eps;
    private final float[] normScale;        // γ [D]
    private final float[][] outputProjection; // per layer o_proj.weight [D, H·Dh]
    private final float[][] outputBias;       // per layer [D], or null
    private final FloatBuffer unembedding;    // [V, D], off-heap: it can be the largest matrix
    private final double[] meanUnembedding;   // [D]

    private Attribution(Dimensions dims, double eps, float[] normScale, float[][] outputProjection, float[][] outputBias,
                        FloatBuffer unembedding) {
        this.dims = dims;
        this.eps = eps;
        this.normScale = normScale;
        this.outputProjection = outputProjection;
        this.outputBias = outputBias;
        this.unembedding = unembedding;
        this.meanUnembedding = new double[dims.modelDim()];
        int d = dims.modelDim();
        for (int v = 0; v < dims.vocabSize(); v++) {
            for (int i = 0; i < d; i++) meanUnembedding[i] += unembedding.get(v * d + i);
        }
        for (int i = 0; i < d; i++) meanUnembedding[i] /= dims.vocabSize();
    }

    /** Reads o_proj, the final norm and the unembedding (lm_head, or the tied embedding) from a checkpoint. */
    public static Attribution load(Path checkpoint, Dimensions dims) throws IOException {
        LlamaConfig c = LlamaConfig.read(checkpoint.resolve("config.json"));
        if (c.layers() != dims.layers() || c.heads() != dims.heads() || c.headDim() != dims.headDim()
                || c.hiddenSize() != dims.modelDim() || c.vocabSize() != dims.vocabSize()) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " does not have the bundle's dimensions " + dims);
        }
        try (CheckpointWeights w = new CheckpointWeights(checkpoint)) {
            float[][] projection = new float[c.layers()][];
            float[][] bias = new float[c.layers()][];
            for (int l = 0; l < c.layers(); l++) {
                String p = "model.layers." + l + ".self_attn.o_proj.";
                projection[l] = array(w.read(p + "weight"));
                bias[l] = c.outputBias() ? array(w.read(p + "bias")) : null;
            }
            FloatBuffer unembedding = w.read(c.tiedEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight");
            return new Attribution(dims, c.rmsNormEps(), array(w.read("model.norm.weight")), projection, bias, unembedding);
        }
    }

    private static float[] array(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    public Dimensions dims() {
        return dims;
    }

    /** Every term's share of row {@code row}'s logit for {@code target} (or of logit − mean logit when centred). */
    public Components decompose(LastPosition at, int row, int target, boolean centred) {
        if (target < 0 || target >= dims.vocabSize()) throw new IllegalArgumentException("target " + target + " is outside the vocabulary");
        int D = dims.modelDim(), L = dims.layers(), H = dims.heads(), Dh = dims.headDim();
        double[] u = readout(at, row, target, centred);

        double embedding = dot(at.embedding(), at.residualOffset(row), u);
        double[] heads = new double[L * H], attentionBias = new double[L], mlps = new double[L];
        double[] back = new double[H * Dh];
        for (int l = 0; l < L; l++) {
            // W_O^hᵀ·u for every head at once: back = o_projᵀ u, then head h dots its z with its Dh slice
            Arrays.fill(back, 0);
            float[] wo = outputProjection[l];
            for (int i = 0; i < D; i++) {
                double ui = u[i];
                int rowStart = i * H * Dh;
                for (int j = 0; j < H * Dh; j++) back[j] += wo[rowStart + j] * ui;
            }
            for (int h = 0; h < H; h++) {
                int z = at.headOffset(row, l, h);
                double sum = 0;
                for (int k = 0; k < Dh; k++) sum += at.heads().get(z + k) * back[h * Dh + k];
                heads[l * H + h] = sum;
            }
            if (outputBias[l] != null) {
                for (int i = 0; i < D; i++) attentionBias[l] += outputBias[l][i] * u[i];
            }
            mlps[l] = dot(at.mlps(), at.mlpOffset(row, l), u);
        }
        return new Components(embedding, heads, attentionBias, mlps);
    }

    /** u = s ⊙ direction, s = γ / rms(final residual): a term's share is term · u. */
    private double[] readout(LastPosition at, int row, int target, boolean centred) {
        int D = dims.modelDim();
        int x = at.residualOffset(row);
        double squares = 0;
        for (int i = 0; i < D; i++) {
            double v = at.finalResidual().get(x + i);
            squares += v * v;
        }
        double inverseRms = 1 / Math.sqrt(squares / D + eps);
        double[] u = new double[D];
        for (int i = 0; i < D; i++) {
            double direction = unembedding.get(target * D + i) - (centred ? meanUnembedding[i] : 0);
            u[i] = normScale[i] * inverseRms * direction;
        }
        return u;
    }

    private static double dot(FloatBuffer values, int offset, double[] u) {
        double sum = 0;
        for (int i = 0; i < u.length; i++) sum += values.get(offset + i) * u[i];
        return sum;
    }
}
