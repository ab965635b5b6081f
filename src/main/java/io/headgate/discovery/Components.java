package io.headgate.discovery;

/**
 * One example's direct logit attribution: how much each term of the final residual adds to the
 * target's logit through the final norm (its scale held fixed). The terms sum to the logit exactly.
 *
 * @param heads         [L·H], row-major: head h of layer l is {@code heads[l·H + h]}
 * @param attentionBias [L]: o_proj's bias (zero for models without one)
 * @param mlps          [L]
 */
public record Components(double embedding, double[] heads, double[] attentionBias, double[] mlps) {

    public double total() {
        double sum = embedding;
        for (double v : heads) sum += v;
        for (double v : attentionBias) sum += v;
        for (double v : mlps) sum += v;
        return sum;
    }
}
