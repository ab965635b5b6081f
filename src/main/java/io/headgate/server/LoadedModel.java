package io.headgate.server;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.model.BundleManifest;

/** A model ready to serve: its manifest, tokenizer (null when the bundle has none), workload and scheduler. */
public record LoadedModel(String name, BundleManifest manifest, HuggingFaceTokenizer tokenizer,
                          CausalLmWorkload workload, Scheduler scheduler) {
}
