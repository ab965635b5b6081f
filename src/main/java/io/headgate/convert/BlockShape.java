package io.headgate.convert;

/**
 * What the Llama block writer needs to know of a checkpoint: the shapes of one decoder block and
 * which of its linear layers carry biases. Language models and patch forecasters share it.
 */
record BlockShape(int layers, int hiddenSize, int intermediateSize, int heads, int kvHeads, int headDim,
                  double rmsNormEps, boolean qkvBias, boolean outputBias, boolean mlpBias) {

    /** Heads per kv group. */
    int group() {
        return heads / kvHeads;
    }
}
