package io.headgate.server;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;

/**
 * A model ready to serve: its manifest, tokenizer (null when the bundle has none), workload, scheduler,
 * and where it runs ({@code cpu} or {@code cuda:N}; {@code auto} is resolved at load).
 */
public record LoadedModel(String name, BundleManifest manifest, HuggingFaceTokenizer tokenizer,
                          CausalLmWorkload workload, Scheduler scheduler, Execution execution) {
}
