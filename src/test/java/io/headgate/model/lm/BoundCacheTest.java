package io.headgate.model.lm;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.Execution;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.Greedy;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The IOBinding path (the KV cache in memory the session allocates, bound as past and present of
 * every layer through ONNX Runtime's C API) on the CPU, against the host path (the cache in Java
 * buffers passed to {@code OrtSession.run}): the same tokens and bit-identical logits over a
 * multi-row decode with different controls per row, slot moves and swaps included; and every native
 * handle and byte it allocates is released.
 */
class BoundCacheTest {

    static final int ROWS = 4;
    static final String[] PROMPTS = {"{(<[()]([{=", "57+681=", "([{<", "((()))[[="};

    @TempDir
    static Path dir;
    static Path fp32, fp16;

    @BeforeAll
    static void convert() throws IOException {
        assumeTrue(BoundSession.unavailableReason() == null, () -> "no IOBinding layer here: " + BoundSession.unavailableReason());
        fp32 = Checkpoints.convert(Checkpoints.PARENS_LM, dir, "fp32", CheckpointConverter.Options.STEERABLE);
        fp16 = Checkpoints.convert(Checkpoints.PARENS_LM, dir, "fp16", CheckpointConverter.Options.STEERABLE.withFloat16(true));
    }

    static CausalLmGraph load(Path bundle, CausalLmGraph.SessionConfig.CacheBinding binding) throws Exception {
        return CausalLmGraph.load(bundle, new CausalLmGraph.SessionConfig(1, Execution.CPU, binding));
    }

    /** Row i's controls: identity, layer 3 gated off, an attention-identity mix on layer 1, gains and biases everywhere. */
    static ControlRow row(int i, CausalLmGraph graph) {
        var d = graph.manifest().dimensions();
        ControlRow r = ControlRow.identity(d);
        switch (i % ROWS) {
            case 1 -> Arrays.fill(r.gain(), 3 * d.heads(), 4 * d.heads(), 0f);
            case 2 -> Arrays.fill(r.mix(), d.heads(), 2 * d.heads(), 1f);
            case 3 -> {
                for (int h = 0; h < r.gain().length; h++) r.gain()[h] = 0.5f + 0.1f * h;
                for (int b = 0; b < r.bias().length; b++) r.bias()[b] = 0.01f * ((b % 7) - 3);
            }
            default -> { }
        }
        return r;
    }

    /** One graph decoding ROWS streams in one cache: prompts prefilled one slot at a time, then batched greedy steps. */
    static final class Decoder {
        final CausalLmGraph graph;
        final KvCache cache;
        final ControlBatch controls;
        final int vocab;
        final int[] lengths = new int[ROWS];
        final long[] next = new long[ROWS];
        final List<float[]> logits = new ArrayList<>();
        final List<Long> tokens = new ArrayList<>();
        int rows = ROWS;

        Decoder(CausalLmGraph graph) {
            this.graph = graph;
            this.cache = new KvCache(graph.manifest(), ROWS + 2);
            this.controls = new ControlBatch(graph.manifest().dimensions(), ROWS);
            this.vocab = graph.manifest().dimensions().vocabSize();
        }

        void prefill() throws Exception {
            for (int i = 0; i < ROWS; i++) {
                long[] prompt = ParensLm.encode(PROMPTS[i]);
                ControlBatch single = new ControlBatch(graph.manifest().dimensions(), 1);
                single.set(0, row(i, graph));
                controls.set(i, row(i, graph));
                record(graph.forward(cache, i, 1, prompt.length, prompt, new int[]{0}, single), 0, i);
                lengths[i] = prompt.length;
            }
        }

        void step() throws Exception {
            FloatBuffer out = graph.forward(cache, 0, rows, 1, Arrays.copyOf(next, rows), Arrays.copyOf(lengths, rows), controls);
            for (int i = 0; i < rows; i++) {
                record(out, i, i);
                lengths[i]++;
            }
        }

        private void record(FloatBuffer out, int outRow, int stream) {
            float[] row = new float[vocab];
            out.get(outRow * vocab, row);
            logits.add(row);
            next[stream] = Greedy.argmax(out, outRow * vocab, vocab);
            tokens.add(next[stream]);
        }

        /** Streams 1 and 2 exchange slots (and control rows). */
        void swapRows(int a, int b) {
            cache.swap(a, b, lengths[a], lengths[b]);
            int l = lengths[a];
            lengths[a] = lengths[b];
            lengths[b] = l;
            long t = next[a];
            next[a] = next[b];
            next[b] = t;
            ControlRow ra = rowAt(a), rb = rowAt(b);
            controls.set(a, rb);
            controls.set(b, ra);
        }

        /** The stream in slot {@code from} takes slot {@code to} (whose stream finished); the batch shrinks by one. */
        void moveLast(int to) {
            int from = rows - 1;
            cache.move(from, to, lengths[from]);
            lengths[to] = lengths[from];
            next[to] = next[from];
            controls.set(to, rowAt(from));
            rows--;
        }

        private ControlRow rowAt(int slot) {
            var d = graph.manifest().dimensions();
            int heads = d.layers() * d.heads();
            float[] gain = new float[heads], mix = new float[heads], bias = new float[heads * d.headDim()];
            controls.gain().get(slot * heads, gain);
            controls.mix().get(slot * heads, mix);
            controls.bias().get(slot * heads * d.headDim(), bias);
            return new ControlRow(gain, bias, mix);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fp32", "fp16"})
    void boundPathEqualsHostPathBitForBit(String precision) throws Exception {
        Path bundle = precision.equals("fp16") ? fp16 : fp32;
        try (CausalLmGraph host = load(bundle, CausalLmGraph.SessionConfig.CacheBinding.HOST);
             CausalLmGraph bound = load(bundle, CausalLmGraph.SessionConfig.CacheBinding.IO_BINDING)) {
            assertThat(host.cacheLocation()).isEqualTo("host");
            assertThat(bound.cacheLocation()).isEqualTo("device");
            Decoder a = new Decoder(host), b = new Decoder(bound);
            a.prefill();
            b.prefill();
            for (int step = 0; step < 14; step++) {
                if (step == 5) {
                    a.swapRows(1, 2);
                    b.swapRows(1, 2);
                }
                if (step == 9) {
                    a.moveLast(1);
                    b.moveLast(1);
                }
                a.step();
                b.step();
            }
            assertThat(b.cache.bound()).isTrue();
            assertThat(a.cache.bound()).isFalse();
            assertEquals(a.tokens, b.tokens, "greedy tokens");
            assertEquals(a.logits.size(), b.logits.size());
            assertThat(a.logits.size()).isEqualTo(ROWS + 9 * ROWS + 5 * (ROWS - 1));
            for (int i = 0; i < a.logits.size(); i++) {
                float[] x = a.logits.get(i), y = b.logits.get(i);
                for (int v = 0; v < x.length; v++) {
                    assertEquals(Float.floatToRawIntBits(x[v]), Float.floatToRawIntBits(y[v]),
                            "logit row " + i + ", token " + v + ": " + x[v] + " vs " + y[v]);
                }
            }
            // the rows really differ: the controls and prompts are not all alike
            assertThat(new java.util.HashSet<>(a.tokens)).hasSizeGreaterThan(3);
        }
    }

    @Test
    void cachesFreeTheirDeviceMemoryAndEveryHandleWhenClosed() throws Exception {
        try (CausalLmGraph bound = load(fp32, CausalLmGraph.SessionConfig.CacheBinding.IO_BINDING)) {
            BoundSession binding = bound.boundSession();
            var d = bound.manifest().dimensions();
            ControlBatch controls = new ControlBatch(d, 1);
            controls.set(0, ControlRow.identity(d));
            long[] prompt = ParensLm.encode("{(<[");
            // a first cache makes what the session keeps for all its caches (the slot copier)
            KvCache first = new KvCache(bound.manifest(), 2);
            bound.forward(first, 0, 1, prompt.length, prompt, new int[]{0}, controls);
            first.close();
            long handlesBefore = binding.liveHandles();
            long inUseBefore = Long.parseLong(binding.allocatorStats().get("InUse"));
            KvCache cache = new KvCache(bound.manifest(), 16);
            bound.forward(cache, 3, 1, prompt.length, prompt, new int[]{0}, controls);
            cache.swap(3, 7, prompt.length, 0);
            long cacheBytes = 2L * d.layers() * 16 * d.kvHeads() * bound.manifest().maxLength() * d.headDim() * 4;
            assertThat(Long.parseLong(binding.allocatorStats().get("InUse")) - inUseBefore)
                    .as("bytes in use while the cache lives").isGreaterThanOrEqualTo(cacheBytes);
            assertThat(binding.liveHandles()).isGreaterThan(handlesBefore);
            cache.close();
            assertThat(Long.parseLong(binding.allocatorStats().get("InUse"))).as("bytes in use after close").isEqualTo(inUseBefore);
            assertThat(binding.liveHandles()).as("native handles after close").isEqualTo(handlesBefore);
            assertThat(cache.bound()).isFalse();
            assertThrows(IllegalStateException.class, () -> bound.forward(cache, 3, 1, prompt.length, prompt, new int[]{0}, controls));
        }
    }

    @Test
    void manyGraphsAndCachesLeaveNoHandlesAndNoGrowth() throws Exception {
        long rssAfterWarmup = 0;
        int cycles = 60, slots = 128; // 8 MiB of cache per cycle: a leak would show as ~0.5 GiB
        for (int i = 0; i < cycles; i++) {
            BoundSession binding;
            try (CausalLmGraph bound = load(fp32, CausalLmGraph.SessionConfig.CacheBinding.IO_BINDING)) {
                binding = bound.boundSession();
                var d = bound.manifest().dimensions();
                KvCache cache = new KvCache(bound.manifest(), slots);
                ControlBatch controls = new ControlBatch(d, 1);
                controls.set(0, ControlRow.identity(d));
                long[] prompt = ParensLm.encode("57+6=");
                bound.forward(cache, i % slots, 1, prompt.length, prompt, new int[]{0}, controls);
                cache.move(i % slots, (i + 1) % slots, prompt.length);
                if (i % 2 == 0) cache.close(); // the other half are freed by the graph's close
            }
            assertThat(binding.liveHandles()).as("live native handles after cycle " + i).isEqualTo(0);
            if (i == 9) rssAfterWarmup = rss();
        }
        long growth = rss() - rssAfterWarmup;
        assertThat(growth).as("resident memory growth over " + (cycles - 10) + " cycles of " + slots + "-slot caches")
                .isLessThan(128L << 20);
    }

    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
