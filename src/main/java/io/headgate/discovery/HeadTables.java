package io.headgate.discovery;

/**
 * What a scan measured, per head: layers × heads tables, row-major (head h of layer l at l·H + h).
 *
 * @param attributionMean      mean direct logit attribution to the target
 * @param attributionPositive  share of examples where it was positive
 * @param attributionNegative  share of examples where it was negative
 * @param ablationDeltaLogprob mean change of the target's log-probability with the head's gain at 0
 * @param ablationDeltaAccuracy mean change of top-1 accuracy with the head's gain at 0
 * @param baselineAccuracy     share of examples whose top token is the target, under the scan's steering
 */
public record HeadTables(int layers, int heads, int examples, double[] attributionMean, double[] attributionPositive,
                         double[] attributionNegative, double[] ablationDeltaLogprob, double[] ablationDeltaAccuracy,
                         double baselineAccuracy) {

    public int index(int layer, int head) {
        return layer * heads + head;
    }
}
