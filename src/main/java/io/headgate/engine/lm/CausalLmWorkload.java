package io.headgate.engine.lm;

import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent.FinishReason;
import io.headgate.engine.Workload;
import io.headgate.model.BundleManifest;
import io.headgate.model.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.KvCache;
import io.headgate.steer.ControlRow;

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

    /** {@code decode}: token ids to text, special tokens skipped (the model's tokenizer). */
    public CausalLmWorkload(CausalLmGraph graph, int slots, Function<long[], String> decode) {
        BundleManifest m = graph.manifest();
        if (!m.steerable()) throw new IllegalArgumentException("bundle " + m.name() + " has no control inputs");
        this.graph = graph;
        this.cache = new KvCache(m, slots);
        this.batch = new ControlBatch(m.dimensions(), slots);
        this.single = new ControlBatch(m.dimensions(), 1);
        this.rowContent = new ControlRow[slots];
        this.decode = decode;
        this.eos = m.eosTokenIds().stream().map(Integer::longValue).collect(Collectors.toUnmodifiableSet());
        this.vocab = m.dimensions().vocabSize();
        this.maxLength = m.maxLength();
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
        return cache.slots();
    }

    @Override
    public void admit(Stream stream, int slot) throws Exception {
        LmStreamState st = stream.work(LmStreamState.class);
        single.set(0, stream.steering().row());
        FloatBuffer logits = graph.forward(cache, slot, 1, st.length, Arrays.copyOf(st.tokens, st.length), new int[]{0}, single);
        st.cached = st.length;
        emitNext(stream, st, logits, 0);
    }

    @Override
    public void step(List<Stream> rows) throws Exception {
        int n = rows.size();
        long[] input = new long[n];
        int[] past = new int[n];
        for (int i = 0; i < n; i++) {
            Stream s = rows.get(i);
            LmStreamState st = s.work(LmStreamState.class);
            input[i] = st.tokens[st.cached];
            past[i] = st.cached;
            ControlRow row = s.steering().row();
            if (rowContent[i] != row) {
                batch.set(i, row);
                rowContent[i] = row;
            }
        }
        FloatBuffer logits = graph.forward(cache, 0, n, 1, input, past, batch);
        for (int i = 0; i < n; i++) {
            Stream s = rows.get(i);
            LmStreamState st = s.work(LmStreamState.class);
            st.cached++;
            emitNext(s, st, logits, i * vocab);
        }
    }

    /** Samples the next token from one row of logits, emits it and decides whether the stream ends. */
    private void emitNext(Stream stream, LmStreamState st, FloatBuffer logits, int offset) {
        Sample sample = st.sampler.sample(logits, offset, vocab);
        if (!st.ignoreEos && eos.contains((long) sample.token())) {
            stream.finish(FinishReason.EOS, drain(st));
            return;
        }
        st.tokens[st.length++] = sample.token();
        StopMatcher.Result text = st.stops.push(st.detokenizer.push(sample.token()));
        stream.emitOutput(new TokenEvent(stream.produced(), sample.token(), text.emit(), sample.logprob(), stream.steering().tag()));
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
        graph.forward(cache, slot, 1, st.cached, Arrays.copyOf(st.tokens, st.cached), new int[]{0}, single);
    }

    @Override
    public void swap(int a, int b, Stream inA, Stream inB) {
        cache.swap(a, b, inA.work(LmStreamState.class).cached, inB.work(LmStreamState.class).cached);
        rowContent[a] = rowContent[b] = null;
    }

    @Override
    public void move(int from, int to, Stream stream) {
        cache.move(from, to, stream.work(LmStreamState.class).cached);
        rowContent[from] = rowContent[to] = null;
    }

    @Override
    public void release(Stream stream, int slot) {
        rowContent[slot] = null;
    }

    @Override
    public void close() throws Exception {
        graph.close();
    }
}
