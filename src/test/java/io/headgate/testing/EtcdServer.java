package io.headgate.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd (Debian's {@code etcd-server}, {@code /usr/bin/etcd}, or the binary {@code HEADGATE_ETCD}
 * names) on loopback ports with a data directory of its own, a single member or one of a cluster,
 * which tests stop, kill and start again on the same ports and data. A missing binary fails the test: the registry's
 * etcd backend is tested against etcd itself or not at all.
 */
public final class EtcdServer implements AutoCloseable {

    public static final Path BINARY = Path.of(System.getenv().getOrDefault("HEADGATE_ETCD", "/usr/bin/etcd"));

    private final String name;
    private final Path dataDir;
    private final Path log;
    private final int clientPort;
    private final int peerPort;
    private String initialCluster;
    private Process process;

    private EtcdServer(Path dir, String name) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError("no etcd at " + BINARY + ": install Debian's etcd-server (apt-get install -y etcd-server; .ci/run does) "
                    + "or point HEADGATE_ETCD at an etcd 3.4+ binary");
        }
        this.name = name;
        this.dataDir = dir.resolve(name + "-data");
        this.log = dir.resolve(name + ".log");
        this.clientPort = freePort();
        this.peerPort = freePort();
        this.initialCluster = name + "=" + peerUrl();
    }

    /** Starts a single-member etcd with its data under {@code dir} and waits until it serves. */
    public static EtcdServer start(Path dir) throws Exception {
        EtcdServer etcd = new EtcdServer(dir, "test");
        etcd.start();
        return etcd;
    }

    /** Starts an etcd cluster of {@code members} on loopback, all at once (a quorum must form), and waits until each serves. */
    public static List<EtcdServer> cluster(Path dir, int members) throws Exception {
        List<EtcdServer> cluster = new java.util.ArrayList<>();
        for (int i = 0; i < members; i++) cluster.add(new EtcdServer(dir, "member-" + i));
        String initial = String.join(",", cluster.stream().map(m -> m.name + "=" + m.peerUrl()).toList());
        for (EtcdServer m : cluster) {
            m.initialCluster = initial;
            m.launch();
        }
        for (EtcdServer m : cluster) m.awaitHealthy(Duration.ofSeconds(30));
        return cluster;
    }

    private String peerUrl() {
        return "http://127.0.0.1:" + peerPort;
    }

    /** The client URL, as {@code headgate.registry.etcd.endpoints} takes it. */
    public String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    public int clientPort() {
        return clientPort;
    }

    /** Starts (again) on the same ports and data, and waits until it serves. */
    public synchronized void start() throws Exception {
        launch();
        awaitHealthy(Duration.ofSeconds(30));
    }

    private synchronized void launch() throws IOException {
        if (process != null && process.isAlive()) throw new IllegalStateException("etcd is running");
        process = new ProcessBuilder(List.of(BINARY.toString(),
                "--name", name, "--data-dir", dataDir.toString(),
                "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peerUrl(), "--initial-advertise-peer-urls", peerUrl(), "--initial-cluster", initialCluster,
                "--log-level", "warn"))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Starts it again if a test left it stopped or killed. */
    public synchronized void ensureRunning() throws Exception {
        if (process == null || !process.isAlive()) start();
    }

    /** A clean stop (SIGTERM), waiting until the process is gone. */
    public synchronized void stop() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) throw new IllegalStateException("etcd did not stop within 20 s");
    }

    /** A crash (SIGKILL): etcd's write-ahead log must carry everything it acknowledged. */
    public synchronized void kill() throws Exception {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
    }

    /** Whether this member serves: it is running and has a leader. */
    public boolean healthy() {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void awaitHealthy(Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) throw new IllegalStateException("etcd exited with " + process.exitValue() + ": " + Files.readString(log));
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/health")).timeout(Duration.ofSeconds(1)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && r.body().contains("\"health\":\"true\"")) return;
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("etcd not healthy within " + within + ": " + Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public synchronized void close() throws Exception {
        if (process != null && process.isAlive()) kill();
    }
}
