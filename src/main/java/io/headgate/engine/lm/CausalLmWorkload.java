package io.headgate.engine.lm;

import io.headgate.engine.Batch;
import io.headgate.engine.Kind;
import io.headgate.engine.Stream;
import io.headgate.engine.Workload;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.lm.KvCache;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Token streaming on a steerable causal LM: each stream owns a KV-cache slot. A step first prefills
 * chunks of the prompts still being read — at most {@code prefillTokensPerStep} tokens in all; the
 * first chunks of neighbouring slots share a pass when they are the same length (ONNX Runtime's
 * GroupQueryAttention takes a rectangular [rows, tokens] input, and only one row at a time once a
 * row has cached positions) — then feeds every stream in the step's span its last
 * token in one batch, each row under its own control row, and samples and emits one token per
 * running stream. So a long prompt costs running streams at most one chunk's time per token, not
 * the whole prefill; while streams decode, a {@link PrefillPacer} keeps that chunk's time within a
 * multiple of the decode pass's. A paused or prefilling stream inside the span is computed too (the
 * cache rows of a batch are contiguous) and not advanced: its row writes the keys and values its
 * real step will write again.
 *
 * <p>A stream may also own a shadow row: the same tokens under identity controls, so each token's
 * steered distribution can be compared with the un-steered one. Shadow rows sit in the cache just
 * before the scheduler's slots and run in the same batch, so a shadow costs one row; a step with
 * no shadowed stream leaves them out. Cache layout, with S shadow rows of which m are in use:
 *
 * <pre>
 *   [ free shadow rows | m shadow rows | scheduler slot 0, 1, ... ]
 *   0                  S - m           S
 * </pre>
 */
public final class CausalLmWorkload implements Workload<LmState, Void, TokenEvent, Completion> {

    public static final Kind KIND = new Kind(BundleManifest.CAUSAL_LM, new Kind.Phases("admit", "step", "reprefill"),
            new Kind.OutputMeters("headgate.time.to.first.token", "headgate.inter.token.latency", "headgate.generated.tokens", "token"));

    private final CausalLmGraph graph;
    private final KvCache cache;
    private final ControlBatch single;
    private final ControlBatch prefillControls;
    private final PrefillPacer pacer;
    private final Function<long[], String> decode;
    private final Set<Long> eos;
    private final int vocab;
    private final int maxLength;
    private final int slots;
    private final LmMeters meters;
    // shadow rows: cache rows [S - shadows, S), S = shadowOwners.length, all under identity controls
    private final ControlRow identity;
    private final Stream<LmState, TokenEvent, Completion>[] shadowOwners;  // by cache row
    private final float[][] baseline;     // by cache row: the shadow's latest logits
    private int shadows;
    // the last forward pass: its logits, inputs and positions
    private FloatBuffer logits;
    private final long[] input;
    private final int[] past;

    /**
     * Prompt tokens the first prefill pass of a step reads at least while streams decode, however
     * little the decode pass's time allows, so that a prompt always advances. Kept small: with few
     * rows decoding, a step's prefill is this floor, and on bench-llama 32 tokens cost two to three
     * decode passes of a few rows where 8 cost about one (BENCHMARKS.md, "Offered load").
     */
    static final int PACED_FLOOR = 8;

    /**
     * @param slots                streams decoded together
     * @param shadowSlots          streams that may keep an un-steered shadow row at once
     * @param prefillTokensPerStep prompt tokens prefilled per step at most, over all streams reading their prompt
     * @param prefillShare         while streams decode, a step's prefill takes about this multiple of the
     *                             decode pass's time at most (within the token budget); 0: the token budget alone
     */
    public record Config(int slots, int shadowSlots, int prefillTokensPerStep, double prefillShare) {
        public Config {
            if (slots <= 0 || shadowSlots < 0 || prefillTokensPerStep <= 0 || !(prefillShare >= 0) || Double.isInfinite(prefillShare)) {
                throw new IllegalArgumentException("need slots > 0, shadowSlots >= 0, prefillTokensPerStep > 0 and a finite prefillShare >= 0; got "
                        + slots + ", " + shadowSlots + ", " + prefillTokensPerStep + ", " + prefillShare);
            }
        }

        /** Prompts read within the token budget alone. */
        public Config(int slots, int shadowSlots, int prefillTokensPerStep) {
            this(slots, shadowSlots, prefillTokensPerStep, 0);
        }
    }

    /** {@code decode}: token ids to text, special tokens skipped (the model's tokenizer). */
    public CausalLmWorkload(CausalLmGraph graph, int slots, Function<long[], String> decode) {
        this(graph, new Config(slots, 0, 512), decode, LmMeters.detached(graph.manifest().name()));
    }

    @SuppressWarnings("unchecked")
    public CausalLmWorkload(CausalLmGraph graph, Config config, Function<long[], String> decode, LmMeters meters) {
        BundleManifest m = graph.manifest();
        if (!m.steerable()) throw new IllegalArgumentException("bundle " + m.name() + " has no control inputs");
        int slots = config.slots(), shadowSlots = config.shadowSlots();
        this.graph = graph;
        this.slots = slots;
        this.pacer = new PrefillPacer(config.prefillTokensPerStep(), config.prefillShare(), PACED_FLOOR);
        this.cache = new KvCache(m, shadowSlots + slots);
        this.single = new ControlBatch(m.dimensions(), 1);
        this.prefillControls = new ControlBatch(m.dimensions(), slots);
        this.decode = decode;
        this.meters = meters;
        this.eos = m.eosTokenIds().stream().map(Integer::longValue).collect(Collectors.toUnmodifiableSet());
        this.vocab = m.dimensions().vocabSize();
        this.maxLength = m.maxLength();
        this.identity = ControlRow.identity(m.dimensions());
        this.shadowOwners = (Stream<LmState, TokenEvent, Completion>[]) new Stream[shadowSlots];
        this.baseline = new float[shadowSlots][vocab];
        this.input = new long[shadowSlots + slots];
        this.past = new int[shadowSlots + slots];
    }

    /** Streams holding a shadow row now. */
    public int shadowRows() {
        return shadows;
    }

    public BundleManifest manifest() {
        return graph.manifest();
    }

    /** A stream's state for {@link io.headgate.engine.Scheduler#submit}: made on the caller's thread. */
    public LmState open(LmRequest request) {
        if (request.prompt().length >= maxLength) {
            throw new IllegalArgumentException("prompt of " + request.prompt().length + " tokens leaves no room in max length " + maxLength);
        }
        for (long id : request.prompt()) {
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocab);
        }
        return new LmState(request, maxLength, new Detokenizer(decode));
    }

    @Override
    public Kind kind() {
        return KIND;
    }

    @Override
    public BundleManifest.Dimensions dimensions() {
        return graph.manifest().dimensions();
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int maxRows() {
        return shadowOwners.length + slots;
    }

    @Override
    public int cost(LmState state) {
        return state.length;
    }

    /** The cache row of scheduler slot {@code slot}: after the shadow rows. */
    private int row(int slot) {
        return shadowOwners.length + slot;
    }

    /** A shadow row if asked for and free; the prompt itself is prefilled by the next steps, chunk by chunk. */
    @Override
    public void admit(Stream<LmState, TokenEvent, Completion> stream) {
        LmState st = stream.state();
        st.cached = 0;
        if (st.shadow != LmRequest.Shadow.NONE && shadows < shadowOwners.length) { // no free shadow row: run without
            st.shadowSlot = shadowOwners.length - ++shadows;
            shadowOwners[st.shadowSlot] = stream;
        }
    }

    /**
     * One step: prefill chunks of the prompts still being read, then one decode batch — the shadow
     * rows in use (when a decoding stream has one), then every slot of the span, each fed the token
     * at its cached length.
     */
    @Override
    public void forward(Batch<LmState, TokenEvent, Completion> batch) throws Exception {
        int decoding = 0;
        boolean withShadows = false;
        for (var s : batch.streams()) {
            if (s.state().decoding) decoding++;
            withShadows |= s.state().decoding && s.state().shadowSlot >= 0;
        }
        long t0 = System.nanoTime();
        if (prefill(batch.streams(), decoding) > 0) batch.timed("prefill", System.nanoTime() - t0);
        if (decoding == 0) return;
        long t1 = System.nanoTime();
        int m = withShadows ? shadows : 0, first = shadowOwners.length - m;
        for (int i = 0; i < m; i++) feed(batch, shadowOwners[first + i], identity);
        for (int slot = 0; slot < batch.span(); slot++) {
            var s = batch.slot(slot);
            s.state().row = feed(batch, s, s.steering().row());
        }
        logits = graph.forward(cache, first, batch.rows(), 1, Arrays.copyOf(input, batch.rows()), past, batch.controls());
        for (int i = 0; i < m; i++) {
            var owner = shadowOwners[first + i];
            // a shadow's baseline moves only with its stream's decoding steps
            if (owner.state().decoding && batch.streams().contains(owner)) logits.get(i * vocab, baseline[first + i]);
        }
        long nanos = System.nanoTime() - t1;
        pacer.decoded(nanos, t1 + nanos);
        batch.timed("decode", nanos);
    }

    /**
     * Prefills the next chunk of every running stream still reading its prompt, within the step's
     * token budget and, while at least as many streams decode as read, its time ({@link PrefillPacer}):
     * first chunks of neighbouring slots share a forward pass, cut to the same length; then the
     * prompts already begun, shortest rest first. A stream whose prompt is now cached keeps the
     * logits of its last position for its first token.
     *
     * @return the prompt tokens read (shadow rows' copies not counted)
     */
    private int prefill(List<Stream<LmState, TokenEvent, Completion>> running, int decoding) throws Exception {
        List<Stream<LmState, TokenEvent, Completion>> reading = new ArrayList<>();
        for (var s : running) if (!s.state().decoding && s.state().promptLogits == null) reading.add(s);
        // paced while the decoding streams are at least as many as those waiting for their prompt; fewer,
        // it is a batch starting, and its first tokens matter more than the few decoding streams' next one
        boolean paced = decoding > 0 && decoding >= reading.size();
        int read = 0;
        long t0 = System.nanoTime();
        while (!reading.isEmpty()) {
            // prompts not yet begun first, in slot order (their first chunks batch), then the shortest rest:
            // a short prompt's first token does not wait behind a long prompt's chunks
            reading.sort(Comparator.comparingInt(s -> s.state().cached == 0 ? -1 : rest(s)));
            Stream<LmState, TokenEvent, Completion> next = reading.getFirst();
            int budget = pacer.nextPass(paced, read, System.nanoTime() - t0);
            // a pass has its fixed cost however few tokens it reads: no scraps
            if (budget <= 0 || read > 0 && budget < pacer.floor() && budget < rest(next)) break;
            // first chunks of neighbouring slots batch together, cut to one length; ONNX Runtime's
            // GroupQueryAttention takes one row at a time once a row has a past, so a row joins only while
            // the budget still reads the shortest prompt of the run whole: spread thinner, every prompt
            // would be begun and none finished, and each would then need passes of its own
            int n = 1, chunk = Math.min(budget, rest(next));
            if (next.state().cached == 0) {
                while (n < reading.size() && reading.get(n).state().cached == 0 && reading.get(n).slot() == reading.get(n - 1).slot() + 1) {
                    int shortest = Math.min(chunk, rest(reading.get(n)));
                    if (budget / (n + 1) < shortest) break;
                    chunk = shortest;
                    n++;
                }
            }
            List<Stream<LmState, TokenEvent, Completion>> run = reading.subList(0, n);
            long p0 = System.nanoTime();
            prefillChunk(run, chunk);
            pacer.passed(chunk * n, System.nanoTime() - p0);
            read += chunk * n;
            reading.removeIf(s -> s.state().promptLogits != null);
        }
        return read;
    }

    /** The prompt tokens a stream has still to read. */
    private static int rest(Stream<LmState, TokenEvent, Completion> s) {
        return s.state().length - s.state().cached;
    }

    /** {@code chunk} more prompt tokens of each stream in {@code run} (neighbouring slots), and of their shadows. */
    private void prefillChunk(List<Stream<LmState, TokenEvent, Completion>> run, int chunk) throws Exception {
        int rows = run.size();
        long[] tokens = new long[rows * chunk];
        int[] pastLengths = new int[rows];
        for (int i = 0; i < rows; i++) {
            LmState st = run.get(i).state();
            System.arraycopy(st.tokens, st.cached, tokens, i * chunk, chunk);
            pastLengths[i] = st.cached;
            prefillControls.set(i, run.get(i).steering().row());
        }
        FloatBuffer out = graph.forward(cache, row(run.getFirst().slot()), rows, chunk, tokens, pastLengths, prefillControls);
        for (int i = 0; i < rows; i++) {
            LmState st = run.get(i).state();
            if (st.cached + chunk == st.length) {
                st.promptLogits = new float[vocab];
                out.get(i * vocab, st.promptLogits);
            }
        }
        for (int i = 0; i < rows; i++) { // shadow rows sit elsewhere in the cache: one pass each
            LmState st = run.get(i).state();
            if (st.shadowSlot < 0) continue;
            single.set(0, identity);
            FloatBuffer base = graph.forward(cache, st.shadowSlot, 1, chunk, Arrays.copyOfRange(tokens, i * chunk, (i + 1) * chunk),
                    new int[]{st.cached}, single);
            if (st.cached + chunk == st.length) base.get(0, baseline[st.shadowSlot]);
        }
        for (int i = 0; i < rows; i++) run.get(i).state().cached += chunk;
    }

    private int feed(Batch<LmState, TokenEvent, Completion> batch, Stream<LmState, TokenEvent, Completion> owner, ControlRow control) {
        int row = batch.add(owner, control);
        LmState st = owner.state();
        input[row] = st.tokens[st.cached];
        past[row] = st.cached;
        return row;
    }

    @Override
    public void collect(Stream<LmState, TokenEvent, Completion> stream, Batch<LmState, TokenEvent, Completion> batch) {
        LmState st = stream.state();
        if (st.decoding) {
            st.cached++;
            emitNext(stream, st, logits, st.row * vocab);
        } else if (st.promptLogits != null) { // the prompt's last chunk ran this step: its first token
            FloatBuffer first = FloatBuffer.wrap(st.promptLogits);
            st.promptLogits = null;
            st.decoding = true;
            emitNext(stream, st, first, 0);
        }
    }

    /** Samples the next token from one row of logits, emits it and decides whether the stream ends. */
    private void emitNext(Stream<LmState, TokenEvent, Completion> stream, LmState st, FloatBuffer logits, int offset) {
        Effect effect = null;
        if (st.shadowSlot >= 0) {
            effect = Effect.between(logits, offset, baseline[st.shadowSlot], vocab);
            if (!stream.background()) meters.effect(stream.steering().metricLabel(), stream.arm(), effect);
        }
        Sample sample = st.sampler.sample(logits, offset, vocab);
        if (!st.ignoreEos && eos.contains((long) sample.token())) {
            stream.finish(new Completion(Completion.Reason.EOS, drain(st)));
            return;
        }
        st.tokens[st.length++] = sample.token();
        StopMatcher.Result text = st.stops.push(st.detokenizer.push(sample.token()));
        stream.emitOutput(new TokenEvent(stream.produced(), sample.token(), text.emit(), sample.logprob(), stream.steering().tag(),
                st.shadow == LmRequest.Shadow.REPORTED ? effect : null));
        if (text.stopped()) {
            stream.finish(new Completion(Completion.Reason.STOP, ""));
        } else if (stream.produced() >= st.maxTokens) {
            stream.finish(new Completion(Completion.Reason.MAX_TOKENS, drain(st)));
        } else if (st.length >= maxLength) {
            stream.finish(new Completion(Completion.Reason.MAX_LENGTH, drain(st)));
        }
    }

    /** Text still held back by the detokenizer and the stop matcher when a stream ends. */
    private static String drain(LmState st) {
        StopMatcher.Result last = st.stops.push(st.detokenizer.flush());
        return last.stopped() ? last.emit() : last.emit() + st.stops.flush();
    }

    /** A re-prefill: the cached prefix is recomputed under the stream's new steering. */
    @Override
    public boolean steered(Stream<LmState, TokenEvent, Completion> stream, boolean recompute) throws Exception {
        if (!recompute) return false;
        LmState st = stream.state();
        single.set(0, stream.steering().row());
        graph.forward(cache, row(stream.slot()), 1, st.cached, Arrays.copyOf(st.tokens, st.cached), new int[]{0}, single);
        return true;
    }

    @Override
    public void swap(int a, int b, Stream<LmState, TokenEvent, Completion> inA, Stream<LmState, TokenEvent, Completion> inB) {
        cache.swap(row(a), row(b), inA.state().cached, inB.state().cached);
    }

    @Override
    public void move(int from, int to, Stream<LmState, TokenEvent, Completion> stream) {
        cache.move(row(from), row(to), stream.state().cached);
    }

    @Override
    public void release(Stream<LmState, TokenEvent, Completion> stream, int slot) {
        LmState st = stream.state();
        if (st.shadowSlot < 0) return;
        int hole = st.shadowSlot, leftmost = shadowOwners.length - shadows--;
        if (hole != leftmost) { // keep shadow rows against the scheduler's slots: the leftmost fills the hole
            var moved = shadowOwners[leftmost];
            LmState ms = moved.state();
            cache.move(leftmost, hole, ms.cached);
            shadowOwners[hole] = moved;
            System.arraycopy(baseline[leftmost], 0, baseline[hole], 0, vocab);
            ms.shadowSlot = hole;
        }
        shadowOwners[leftmost] = null;
        st.shadowSlot = -1;
    }

    @Override
    public void interrupt() {
        graph.interrupt();
    }

    @Override
    public void close() throws Exception {
        graph.close();
    }
}
