package io.headgate.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.headgate.api.v1.Ack;
import io.headgate.api.v1.Close;
import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionGrpc;
import io.headgate.api.v1.DiffusionRequest;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.ForecastEvent;
import io.headgate.api.v1.ForecastRequest;
import io.headgate.api.v1.ForecastStart;
import io.headgate.api.v1.ForecasterGrpc;
import io.headgate.api.v1.Observe;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.GeneratorGrpc;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The packaged gateway as a separate process on a loopback port, and a grpc-java client that
 * timestamps every event it receives.
 */
@SuppressWarnings("unchecked")
final class GatewayProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final ManagedChannel channel;
    private final GeneratorGrpc.GeneratorStub stub;
    private final DiffusionGrpc.DiffusionStub diffusion;
    private final ForecasterGrpc.ForecasterStub forecaster;
    private final Path log;

    /** This checkout's packaged gateway. */
    static final Path APP = Path.of("target", "quarkus-app");

    GatewayProcess(Path work, List<String> properties) throws Exception {
        this(work, APP, properties, List.of());
    }

    /**
     * The gateway packaged in {@code app} (a {@code quarkus-app} directory: this checkout's, or another
     * commit's), started from this directory; {@code jvmOptions}: more options for its JVM (a flight
     * recording, say).
     */
    GatewayProcess(Path work, Path app, List<String> properties, List<String> jvmOptions) throws Exception {
        port = freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx2g"));
        cmd.addAll(jvmOptions);
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-Dquarkus.log.level=WARN");
        for (String p : properties) cmd.add("-D" + p);
        cmd.addAll(List.of("-jar", app.resolve("quarkus-run.jar").toString()));
        Files.createDirectories(work);
        log = work.resolve("gateway-" + port + ".log");
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        awaitReady();
        // the client's callbacks only record times and send short messages: run them on the channel's
        // event loop, not handed to a pool thread per message, so the client competes less with the gateway
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().build();
        stub = GeneratorGrpc.newStub(channel);
        diffusion = DiffusionGrpc.newStub(channel);
        forecaster = ForecasterGrpc.newStub(channel);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("gateway exited; see " + log);
            try {
                String health = get("/q/health/ready");
                if (new com.fasterxml.jackson.databind.ObjectMapper().readTree(health).path("status").asText().equals("UP")) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("gateway not ready within 5 minutes; see " + log);
    }

    String get(String path) throws IOException, InterruptedException {
        // HTTP/1.1, as Prometheus scrapes: the JDK client's default cleartext upgrade to HTTP/2 misread
        // 2 of 400 metrics responses as frames ("Frame type(69) length(3159863) exceeds MAX_FRAME_SIZE")
        // and ended a benchmark run; curl's upgrade read 700 of 700 from the same gateway
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    long pid() {
        return process.pid();
    }

    /** Resident set size of the gateway process, bytes. */
    long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IOException("no VmRSS");
    }

    /** A full collection in the gateway (jcmd), so heap and resident size are read without garbage. */
    void collectGarbage() throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (Files.isExecutable(jcmd)) {
            new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Heap in use, from the gateway's own metrics. */
    double heapBytes() throws IOException, InterruptedException {
        double sum = 0;
        for (String line : get("/q/metrics").split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** One generation as the client saw it: arrival times and steering of each token. */
    static final class Run {
        final List<Long> arrivals = new ArrayList<>();
        final List<String> steering = new ArrayList<>();
        long startNanos;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<GenerateRequest> requests;
    }

    /**
     * Starts a generation; {@code onToken} runs on the gRPC thread after each token is recorded
     * (index, run) and may send Steer or Ack through {@link #send}.
     */
    Run start(Start start, TokenListener onToken) {
        Run run = new Run();
        run.startNanos = System.nanoTime();
        run.requests = stub.generate(new StreamObserver<>() {
            @Override
            public void onNext(GenerateEvent e) {
                if (e.hasToken()) {
                    synchronized (run) {
                        run.arrivals.add(System.nanoTime());
                        run.steering.add(e.getToken().getSteering().getProfile() + "@" + e.getToken().getSteering().getRevision());
                    }
                    if (onToken != null) onToken.token(e.getToken().getIndex(), run);
                }
                if (e.hasFinished()) {
                    synchronized (run.requests) {
                        run.requests.onCompleted(); // half-close, or the client resets the stream (RST_STREAM)
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                run.done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                run.done.complete(null);
            }
        });
        send(run, GenerateRequest.newBuilder().setStart(start).build());
        return run;
    }

    interface TokenListener {
        void token(int index, Run run);
    }

    static void send(Run run, GenerateRequest request) {
        synchronized (run.requests) {
            run.requests.onNext(request);
        }
    }

    static void ack(Run run, long consumed) {
        send(run, GenerateRequest.newBuilder().setAck(Ack.newBuilder().setConsumed(consumed)).build());
    }

    static void steer(Run run, Steer steer) {
        send(run, GenerateRequest.newBuilder().setSteer(steer).build());
    }

    /** Runs the starts concurrently to their ends. */
    List<Run> runAll(List<Start> starts, Consumer<Run> perRun) throws Exception {
        List<Run> runs = new ArrayList<>();
        for (Start s : starts) runs.add(start(s, null));
        awaitAll(runs);
        if (perRun != null) runs.forEach(perRun);
        return runs;
    }

    /** Starts {@code starts.get(i)} at {@code offsets.get(i)} nanoseconds from now (ascending), and waits for every stream's end. */
    List<Run> runAt(List<Long> offsets, List<Start> starts) throws Exception {
        List<Run> runs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < starts.size(); i++) {
            long wait = t0 + offsets.get(i) - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            runs.add(start(starts.get(i), null));
        }
        awaitAll(runs);
        return runs;
    }

    private static void awaitAll(List<Run> runs) throws Exception {
        for (Run r : runs) r.done.get(10, TimeUnit.MINUTES);
    }

    // ------------------------------------------------------------------ other kinds

    /** Arrival times of a diffusion stream's steps. */
    static final class DiffusionRun {
        final List<Long> steps = new ArrayList<>();
        final List<Integer> rows = new ArrayList<>();
        long startNanos;
        final CompletableFuture<Void> done = new CompletableFuture<>();
    }

    /** Runs the images concurrently to their ends. */
    List<DiffusionRun> diffuse(List<DiffusionStart> starts) throws Exception {
        List<DiffusionRun> runs = new ArrayList<>();
        for (DiffusionStart s : starts) {
            DiffusionRun run = new DiffusionRun();
            run.startNanos = System.nanoTime();
            StreamObserver<DiffusionRequest>[] requests = new StreamObserver[1];
            requests[0] = diffusion.generate(new StreamObserver<>() {
                @Override
                public void onNext(DiffusionEvent e) {
                    if (e.hasStep()) {
                        run.steps.add(System.nanoTime());
                        run.rows.add(e.getStep().getRows());
                    }
                    if (e.hasFinished()) {
                        synchronized (requests) {
                            requests[0].onCompleted();
                        }
                    }
                }

                @Override
                public void onError(Throwable t) {
                    run.done.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    run.done.complete(null);
                }
            });
            synchronized (requests) {
                requests[0].onNext(DiffusionRequest.newBuilder().setStart(s).build());
            }
            runs.add(run);
        }
        for (DiffusionRun r : runs) r.done.get(10, TimeUnit.MINUTES);
        return runs;
    }

    /**
     * One forecast stream per start, each driven in a closed loop: after every forecast the next of
     * {@code observations} is sent, until {@code forecasts} have come; returns every forecast's arrival time.
     */
    List<List<Long>> forecastLoops(List<ForecastStart> starts, double[] observations, int forecasts) throws Exception {
        List<List<Long>> arrivals = new ArrayList<>();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (ForecastStart s : starts) {
            List<Long> at = new ArrayList<>();
            CompletableFuture<Void> finished = new CompletableFuture<>();
            StreamObserver<ForecastRequest>[] requests = new StreamObserver[1];
            requests[0] = forecaster.forecast(new StreamObserver<>() {
                @Override
                public void onNext(ForecastEvent e) {
                    if (!e.hasForecast()) return;
                    int n;
                    synchronized (at) {
                        at.add(System.nanoTime());
                        n = at.size();
                    }
                    synchronized (requests) {
                        requests[0].onNext(n < forecasts
                                ? ForecastRequest.newBuilder().setObserve(Observe.newBuilder().addValues(observations[(n - 1) % observations.length])).build()
                                : ForecastRequest.newBuilder().setClose(Close.getDefaultInstance()).build());
                        if (n >= forecasts) requests[0].onCompleted();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    finished.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    finished.complete(null);
                }
            });
            synchronized (requests) {
                requests[0].onNext(ForecastRequest.newBuilder().setStart(s).build());
            }
            arrivals.add(at);
            done.add(finished);
        }
        for (CompletableFuture<Void> f : done) f.get(10, TimeUnit.MINUTES);
        return arrivals;
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly();
    }
}
