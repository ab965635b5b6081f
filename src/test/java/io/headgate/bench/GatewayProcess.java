package io.headgate.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.headgate.api.v1.Ack;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The packaged gateway as a separate process on a loopback port, and a grpc-java client that
 * timestamps every event it receives.
 */
final class GatewayProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final ManagedChannel channel;
    private final GeneratorGrpc.GeneratorStub stub;

    GatewayProcess(Path work, List<String> properties) throws Exception {
        port = freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx2g"));
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-Dquarkus.log.level=WARN");
        for (String p : properties) cmd.add("-D" + p);
        cmd.addAll(List.of("-jar", Path.of("target", "quarkus-app", "quarkus-run.jar").toString()));
        Files.createDirectories(work);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("gateway.log").toFile()).start();
        awaitReady(work);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        stub = GeneratorGrpc.newStub(channel);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void awaitReady(Path work) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("gateway exited; see " + work.resolve("gateway.log"));
            try {
                String health = get("/q/health/ready");
                if (new com.fasterxml.jackson.databind.ObjectMapper().readTree(health).path("status").asText().equals("UP")) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("gateway not ready within 5 minutes; see " + work.resolve("gateway.log"));
    }

    String get(String path) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
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
        CountDownLatch all = new CountDownLatch(starts.size());
        for (Start s : starts) {
            Run r = start(s, null);
            r.done.whenComplete((v, t) -> all.countDown());
            runs.add(r);
        }
        if (!all.await(10, TimeUnit.MINUTES)) throw new IllegalStateException("streams did not finish");
        for (Run r : runs) {
            r.done.get();
            if (perRun != null) perRun.accept(r);
        }
        return runs;
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly();
    }
}
