package io.headgate.bench;

import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.steer.FileRevisionStore;
import io.headgate.steer.HeadGain;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.RevisionCodec;
import io.headgate.steer.RevisionStore;
import io.headgate.steer.SteeringResolver;
import io.headgate.steer.etcd.EtcdConnection;
import io.headgate.steer.etcd.EtcdRevisionStore;
import io.headgate.testing.LmSink;
import io.headgate.testing.EtcdServer;
import io.headgate.testing.Eventually;
import io.headgate.testing.ParensLm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Profile change → first token under it. A stream on replica B follows a profile; the profile gets
 * a new revision written on another replica A (etcd: B learns it through its watch), on B itself
 * (etcd: B's own write), and, for reference, on a one-machine gateway with the files registry. Each
 * figure is the time from calling {@code put} to B's stream emitting its first token computed under
 * the new revision, the write included. The three are interleaved, after a warm-up; every stream
 * acknowledges each token as it arrives (credit window 1), so tokens flow at full speed.
 *
 * <p>Run with {@code ./mvnw -q -B test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.headgate.bench.RegistryFollowBenchmark} (needs /usr/bin/etcd); writes its
 * table into BENCHMARKS.md between its markers.
 */
public final class RegistryFollowBenchmark {

    static final String BEGIN = "<!-- registry-follow:begin -->", END = "<!-- registry-follow:end -->";
    static final String MODEL = "parens-lm";
    static final long[] PROMPT = ParensLm.encode("((((=");
    /** A stream that has produced this many tokens is replaced before the next write, so ~30 remain to carry the change. */
    static final int REFRESH_AFTER = 20;

    /** A replica: its registry and its engine, wired as the gateway wires them (every new revision is offered to its followers). */
    record Node(ProfileRegistry registry, SteeringResolver resolver, CausalLmWorkload workload, Scheduler<LmState, Void, TokenEvent, Completion> scheduler,
                BundleManifest.Dimensions dims) implements AutoCloseable {

        static Node on(RevisionStore<io.headgate.steer.Profile> store, CausalLmGraph graph) throws IOException {
            ProfileRegistry registry = new ProfileRegistry(store);
            SteeringResolver resolver = new SteeringResolver(registry, 16);
            CausalLmWorkload workload = ParensLm.workload(graph, 4);
            var scheduler = ParensLm.scheduler(workload, 4);
            BundleManifest.Dimensions dims = graph.manifest().dimensions();
            registry.subscribe(p -> {
                if (!p.deleted()) scheduler.followed(p.name(), resolver.stored(p, dims, true));
            });
            return new Node(registry, resolver, workload, scheduler, dims);
        }

        @Override
        public void close() throws Exception {
            scheduler.close();
            registry.close();
        }
    }

    /** A stream on {@code follower} following {@code name}, held after each token until acknowledged. */
    static final class Following {
        final Node follower;
        final String name;
        LmSink sink;
        Stream<LmState, TokenEvent, Completion> stream;
        int consumed;
        /** Measurements in which the stream ended before the change reached it (its replacement started under it). */
        int replaced;
        boolean measuring;

        Following(Node follower, String name) {
            this.follower = follower;
            this.name = name;
        }

        /** A fresh stream if the current one has few tokens left; returns once it holds a token. */
        void ready() throws Exception {
            if (stream != null && consumed < REFRESH_AFTER) return;
            if (stream != null) follower.scheduler().cancel(stream);
            start();
            nextToken();
        }

        private void start() {
            sink = new LmSink();
            stream = follower.scheduler().submit(follower.workload().open(new LmRequest(PROMPT, SamplingParams.greedy(), 50, List.of(), true,
                    LmRequest.Shadow.NONE)), follower.resolver().profile(MODEL, follower.dims(), name), 1, sink);
            consumed = 0;
        }

        /** The next token; a stream that ended meanwhile is replaced, and the replacement starts under the newest revision. */
        TokenEvent nextToken() throws Exception {
            while (true) {
                StreamEvent<TokenEvent, Completion> e = sink.events.poll(10, TimeUnit.SECONDS);
                if (e == null) throw new IllegalStateException("no event from the following stream within 10 s");
                if (e instanceof StreamEvent.Output<TokenEvent, Completion>(TokenEvent t)) return t;
                if (e instanceof StreamEvent.Finished) {
                    if (measuring) replaced++;
                    start();
                }
            }
        }

        /** Seconds from the write to the first token under its revision, and the write's own seconds. */
        double[] measure(Writer write) throws Exception {
            ready();
            measuring = true;
            try {
                long t0 = System.nanoTime();
                long revision = write.write();
                long written = System.nanoTime();
                while (true) {
                    consumed++;
                    follower.scheduler().acknowledge(stream, consumed);
                    TokenEvent t = nextToken();
                    if (t.steering().revision() == revision) return new double[] {(System.nanoTime() - t0) / 1e9, (written - t0) / 1e9};
                }
            } finally {
                measuring = false;
            }
        }
    }

    @FunctionalInterface
    interface Writer {
        long write() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int samples = 300, warmup = 50;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("usage: RegistryFollowBenchmark [--samples N] [--warmup N]");
            }
        }
        Path work = Files.createDirectories(Path.of("target", "bench", "registry-follow-" + System.nanoTime()));
        try (EtcdServer etcd = EtcdServer.start(work);
             CausalLmGraph graphA = ParensLm.graph(); CausalLmGraph graphB = ParensLm.graph(); CausalLmGraph graphF = ParensLm.graph();
             EtcdConnection connA = new EtcdConnection(new EtcdConnection.Config(List.of(etcd.endpoint()), Duration.ofSeconds(5)));
             EtcdConnection connB = new EtcdConnection(new EtcdConnection.Config(List.of(etcd.endpoint()), Duration.ofSeconds(5)));
             Node a = Node.on(new EtcdRevisionStore<>(connA, "/bench/", RevisionCodec.PROFILES), graphA);
             Node b = Node.on(new EtcdRevisionStore<>(connB, "/bench/", RevisionCodec.PROFILES), graphB);
             Node files = Node.on(new FileRevisionStore<>(work.resolve("files"), RevisionCodec.PROFILES), graphF)) {
            Eventually.until("replicas loaded", Duration.ofSeconds(30), () -> a.registry().health().up() && b.registry().health().up());
            record Path3(String label, Node writer, Following following) {
            }
            List<Path3> paths = List.of(
                    new Path3("written on another replica (etcd, B's watch)", a, new Following(b, "remote")),
                    new Path3("written on the same replica (etcd)", b, new Following(b, "local")),
                    new Path3("one machine (files registry)", files, new Following(files, "files")));
            for (Path3 p : paths) {
                p.writer().registry().put(MODEL, p.following().name, gain(0), 0);
                Eventually.until("the follower has " + p.following().name, Duration.ofSeconds(30),
                        () -> p.following().follower.registry().latest(MODEL, p.following().name).isPresent());
            }
            List<List<Double>> latency = new ArrayList<>(), writes = new ArrayList<>(), after = new ArrayList<>();
            for (int k = 0; k < paths.size(); k++) {
                latency.add(new ArrayList<>());
                writes.add(new ArrayList<>());
                after.add(new ArrayList<>());
            }
            for (int i = 0; i < warmup + samples; i++) {
                for (int j = 0; j < paths.size(); j++) {
                    int k = (i + j) % paths.size(); // the order rotates
                    Path3 p = paths.get(k);
                    float g = (i % 2 == 0) ? 0.5f : 1.5f;
                    ProfileRegistry writer = p.writer().registry();
                    String name = p.following().name;
                    double[] m = p.following().measure(() -> writer.put(MODEL, name, gain(g), writer.currentRevision(MODEL, name)).revision());
                    if (i == warmup) p.following().replaced = 0;
                    if (i >= warmup) {
                        latency.get(k).add(m[0]);
                        writes.get(k).add(m[1]);
                        after.get(k).add(m[0] - m[1]);
                    }
                }
            }
            StringBuilder table = new StringBuilder(BEGIN).append('\n');
            table.append("Run on ").append(LocalDate.now()).append(", ").append(samples).append(" changes per path after ").append(warmup)
                    .append(" of warm-up, interleaved: ").append(Machine.describe()).append("; etcd ").append(etcdVersion()).append(", one member on loopback\n\n");
            table.append("| profile change | put → first token under it: median | p99 | the put itself: median | p99 | put returned → first token: median | p99 |\n")
                    .append("|---|---|---|---|---|---|---|\n");
            for (int k = 0; k < paths.size(); k++) {
                List<Double> l = Stats.sorted(latency.get(k)), w = Stats.sorted(writes.get(k)), r = Stats.sorted(after.get(k));
                table.append(String.format("| %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms |%n", paths.get(k).label(),
                        1e3 * Stats.percentile(l, 50), 1e3 * Stats.percentile(l, 99), 1e3 * Stats.percentile(w, 50), 1e3 * Stats.percentile(w, 99),
                        1e3 * Stats.percentile(r, 50), 1e3 * Stats.percentile(r, 99)));
            }
            for (Path3 p : paths) {
                if (p.following().replaced > 0) {
                    table.append(String.format("%nChanges %s: in %d of %d the following stream ended before the change reached it;"
                            + " its replacement started under the new revision.%n", p.label(), p.following().replaced, samples));
                }
            }
            table.append(END);
            System.out.println(table);
            write(table.toString());
        }
        System.exit(0);
    }

    private static String etcdVersion() {
        try {
            Process p = new ProcessBuilder(EtcdServer.BINARY.toString(), "--version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("");
            return first.replace("etcd Version:", "").trim();
        } catch (IOException e) {
            return "(unknown version)";
        }
    }

    private static void write(String table) throws IOException {
        Path file = Path.of("BENCHMARKS.md");
        String doc = Files.readString(file);
        int s = doc.indexOf(BEGIN), e = doc.indexOf(END);
        if (s < 0 || e < 0) throw new IOException("BENCHMARKS.md lacks the markers " + BEGIN + " / " + END);
        Files.writeString(file, doc.substring(0, s) + table + doc.substring(e + END.length()));
    }

    private static ProfileSpec gain(float g) {
        return new ProfileSpec("layer 3 at " + g, List.of(new HeadGain(3, -1, g)), null, null);
    }
}
