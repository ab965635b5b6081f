package io.headgate.bench;

import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Fault;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmMeters;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.ControlRow;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.server.lm.Tokenizer;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's engine without the gateway: the same graph (with its plain twin), workload,
 * tokenizer and scheduler thread, in this JVM, its events recorded by a sink that only takes the
 * time. Against the bare loop it shows what the engine adds per token; against the gateway, what
 * gRPC delivery and the threads it keeps busy add.
 */
final class InProcessEngine implements AutoCloseable {

    private final CausalLmWorkload workload;
    private final Scheduler<LmState, Void, TokenEvent, Completion> scheduler;
    private final Tokenizer tokenizer;
    private final Steering identity;

    InProcessEngine(String name, Path steerable, Path plain, int threads) throws Exception {
        CausalLmGraph graph = CausalLmGraph.load(steerable, plain, new CausalLmGraph.SessionConfig(threads));
        var manifest = graph.manifest();
        tokenizer = manifest.tokenizer() == null ? null : Tokenizer.load(steerable.resolve(manifest.tokenizer()));
        workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(4, 0, 256),
                ids -> tokenizer == null ? "" : tokenizer.decode(ids), LmMeters.detached(name));
        scheduler = new Scheduler<>(name, workload, new Scheduler.Config(8), EngineMetrics.detached());
        identity = new Steering(SteeringTag.IDENTITY, ControlRow.identity(manifest.dimensions()), null);
    }

    /** One identity stream's time per token after the first, as {@code BenchmarkSuite.perToken} takes it from the client. */
    double perToken(long[] prompt, int tokens) throws Exception {
        List<Long> arrivals = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.submit(workload.open(new LmRequest(prompt, SamplingParams.greedy(), tokens, List.of(), true, LmRequest.Shadow.NONE)),
                identity, Integer.MAX_VALUE, new StreamSink<>() {
                    @Override
                    public void event(StreamEvent<TokenEvent, Completion> event) {
                        if (event instanceof StreamEvent.Output<TokenEvent, Completion>) arrivals.add(System.nanoTime());
                    }

                    @Override
                    public void complete() {
                        done.complete(null);
                    }

                    @Override
                    public void fail(Fault fault) {
                        done.completeExceptionally(new IllegalStateException("stream failed: " + fault));
                    }
                });
        done.get(60, TimeUnit.SECONDS);
        return (arrivals.getLast() - arrivals.getFirst()) / 1e9 / (arrivals.size() - 1);
    }

    @Override
    public void close() throws Exception {
        scheduler.close(); // closes the workload and its graph
        if (tokenizer != null) tokenizer.close();
    }
}
