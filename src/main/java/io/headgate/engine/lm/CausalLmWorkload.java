package io.headgate.engine.lm;

import io.headgate.effect.Effect;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent.FinishReason;
import io.headgate.engine.Workload;
import io.headgate.model.BundleManifest;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.lm.KvCache;
import io.headgate.model.ControlRow;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Token streaming on a steerable causal LM: each stream owns a KV-cache slot; admission prefills
 * the prompt through a view of that slot, a step feeds every running row its last token in one
 * batch, each row under its own control row, then samples and emits one token per row.
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
public final class CausalLmWorkload implements Workload {

    private final CausalLmGraph graph;
    private final KvCache cache;
    private final ControlBatch batch;
    private final ControlBatch single;
    private final ControlRow[] rowContent; // what batch row i holds, to copy only on change
    private final Function<long[], String> decode;
    private final Set<Long> eos;
    private final int vocab;
    private final int maxLength;
    private final int slots;
    // shadow rows: cache rows [S - shadows, S), S = shadowOwners.length, all under identity controls
    private final ControlRow identity;
    private final Stream[] shadowOwners;  // by cache row
    private final float[][] baseline;     // by cache row: the shadow's latest logits
    private int shadows;

    /** {@code decode}: token ids to text, special tokens skipped (the model's tokenizer). */
    public CausalLmWorkload(CausalLmGraph graph, int slots, Function<long[], String> decode) {
        this(graph, slots, 0, decode);
    }

    /** {@code shadowSlots}: how many streams at once may keep an un-steered shadow row. */
    public CausalLmWorkload(CausalLmGraph graph, int slots, int shadowSlots, Function<long[], String> decode) {
        BundleManifest m = graph.manifest();
        if (!m.steerable()) throw new IllegalArgumentException("bundle " + m.name() + " has no control inputs");
        this.graph = graph;
        this.slots = slots;
        this.cache = new KvCache(m, shadowSlots + slots);
        this.batch = new ControlBatch(m.dimensions(), shadowSlots + slots);
        this.single = new ControlBatch(m.dimensions(), 1);
        this.rowContent = new ControlRow[shadowSlots + slots];
        this.decode = decode;
        this.eos = m.eosTokenIds().stream().map(Integer::longValue).collect(Collectors.toUnmodifiableSet());
        this.vocab = m.dimensions().vocabSize();
        this.maxLength = m.maxLength();
        this.identity = ControlRow.identity(m.dimensions());
        this.shadowOwners = new Stream[shadowSlots];
        this.baseline = new float[shadowSlots][vocab];
    }

    /** Streams holding a shadow row now. */
    public int shadowRows() {
        return shadows;
    }

    public BundleManifest manifest() {
        return graph.manifest();
    }

    /** The per-stream state for {@link io.headgate.engine.Scheduler#submit}: made on the caller's thread. */
    public Object open(LmRequest request) {
        if (request.prompt().length >= maxLength) {
            throw new IllegalArgumentException("prompt of " + request.prompt().length + " tokens leaves no room in max length " + maxLength);
        }
        return new LmStreamState(request, maxLength, new Detokenizer(decode));
    }

    @Override
    public int slots() {
        return slots;
    }

    /** The cache row of scheduler slot {@code slot}: after the shadow rows. */
    private int row(int slot) {
        return shadowOwners.length + slot;
    }

    @Override
    public void admit(Stream stream, int slot) throws Exception {
        LmStreamState st = stream.work(LmStreamState.class);
        long[] prompt = Arrays.copyOf(st.tokens, st.length);
        if (st.shadow != LmRequest.Shadow.NONE && shadows < shadowOwners.length) { // no free shadow row: run without
            st.shadowSlot = shadowOwners.length - ++shadows;
            shadowOwners[st.shadowSlot] = stream;
            single.set(0, identity);
            graph.forward(cache, st.shadowSlot, 1, st.length, prompt, new int[]{0}, single).get(0, baseline[st.shadowSlot]);
        }
        single.set(0, stream.steering().row());
        FloatBuffer logits = graph.forward(cache, row(slot), 1, st.length, prompt, new int[]{0}, single);
        st.cached = st.length;
        emitNext(stream, st, logits, 0);
    }

    /**
     * One batch: the shadow rows (when a running stream has one), then the running streams. A
     * shadow row whose stream is paused is computed too (the batch is contiguous) but not advanced:
     * it writes the keys and values its real step will write again.
     */
    @Override
    public void step(List<Stream> rows) throws Exception {
        boolean withShadows = false;
        for (Stream s : rows) withShadows |= s.work(LmStreamState.class).shadowSlot >= 0;
        int m = withShadows ? shadows : 0, first = shadowOwners.length - m, n = m + rows.size();
        long[] input = new long[n];
        int[] past = new int[n];
        for (int i = 0; i < n; i++) {
            Stream s = i < m ? shadowOwners[first + i] : rows.get(i - m);
            LmStreamState st = s.work(LmStreamState.class);
            input[i] = st.tokens[st.cached];
            past[i] = st.cached;
            ControlRow row = i < m ? identity : s.steering().row();
            if (rowContent[i] != row) {
                batch.set(i, row);
                rowContent[i] = row;
            }
        }
        FloatBuffer logits = graph.forward(cache, first, n, 1, input, past, batch);
        for (int i = 0; i < m; i++) logits.get(i * vocab, baseline[first + i]);
        for (int i = m; i < n; i++) {
            Stream s = rows.get(i - m);
            LmStreamState st = s.work(LmStreamState.class);
            st.cached++;
            emitNext(s, st, logits, i * vocab);
        }
    }

    /** Samples the next token from one row of logits, emits it and decides whether the stream ends. */
    private void emitNext(Stream stream, LmStreamState st, FloatBuffer logits, int offset) {
        Effect effect = null;
        if (st.shadowSlot >= 0) {
            effect = Effect.between(logits, offset, baseline[st.shadowSlot], vocab);
            stream.recordEffect(effect);
        }
        Sample sample = st.sampler.sample(logits, offset, vocab);
        if (!st.ignoreEos && eos.contains((long) sample.token())) {
            stream.finish(FinishReason.EOS, drain(st));
            return;
        }
        st.tokens[st.length++] = sample.token();
        StopMatcher.Result text = st.stops.push(st.detokenizer.push(sample.token()));
        stream.emitOutput(new TokenEvent(stream.produced(), sample.token(), text.emit(), sample.logprob(), stream.steering().tag(),
                st.shadow == LmRequest.Shadow.REPORTED ? effect : null));
        if (text.stopped()) {
            stream.finish(FinishReason.STOP, "");
        } else if (stream.produced() >= st.maxTokens) {
            stream.finish(FinishReason.MAX_TOKENS, drain(st));
        } else if (st.length >= maxLength) {
            stream.finish(FinishReason.MAX_LENGTH, drain(st));
        }
    }

    /** Text still held back by the detokenizer and the stop matcher when a stream ends. */
    private static String drain(LmStreamState st) {
        StopMatcher.Result last = st.stops.push(st.detokenizer.flush());
        return last.stopped() ? last.emit() : last.emit() + st.stops.flush();
    }

    @Override
    public void reprefill(Stream stream, int slot) throws Exception {
        LmStreamState st = stream.work(LmStreamState.class);
        single.set(0, stream.steering().row());
        graph.forward(cache, row(slot), 1, st.cached, Arrays.copyOf(st.tokens, st.cached), new int[]{0}, single);
    }

    @Override
    public void swap(int a, int b, Stream inA, Stream inB) {
        cache.swap(row(a), row(b), inA.work(LmStreamState.class).cached, inB.work(LmStreamState.class).cached);
    }

    @Override
    public void move(int from, int to, Stream stream) {
        cache.move(row(from), row(to), stream.work(LmStreamState.class).cached);
    }

    @Override
    public void release(Stream stream, int slot) {
        LmStreamState st = stream.work(LmStreamState.class);
        if (st.shadowSlot < 0) return;
        int hole = st.shadowSlot, leftmost = shadowOwners.length - shadows--;
        if (hole != leftmost) { // keep shadow rows against the scheduler's slots: the leftmost fills the hole
            Stream moved = shadowOwners[leftmost];
            LmStreamState ms = moved.work(LmStreamState.class);
            cache.move(leftmost, hole, ms.cached);
            shadowOwners[hole] = moved;
            System.arraycopy(baseline[leftmost], 0, baseline[hole], 0, vocab);
            ms.shadowSlot = hole;
        }
        shadowOwners[leftmost] = null;
        st.shadowSlot = -1;
    }

    @Override
    public void close() throws Exception {
        graph.close();
    }
}
