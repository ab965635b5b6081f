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
 * A real single-member etcd (Debian's {@code etcd-server}, {@code /usr/bin/etcd}, or the binary
 * {@code HEADGATE_ETCD} names) on loopback ports with a data directory of its own, which tests stop,
 * kill and start again on the same ports and data. A missing binary fails the test: the registry's
 * etcd backend is tested against etcd itself or not at all.
 */
public final class EtcdServer implements AutoCloseable {

    public static final Path BINARY = Path.of(System.getenv().getOrDefault("HEADGATE_ETCD", "/usr/bin/etcd"));

    private final Path dataDir;
    private final Path log;
    private final int clientPort;
    private final int peerPort;
    private Process process;

    private EtcdServer(Path dir) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError("no etcd at " + BINARY + ": install Debian's etcd-server (apt-get install -y etcd-server; .ci/run does) "
                    + "or point HEADGATE_ETCD at an etcd 3.4+ binary");
        }
        this.dataDir = dir.resolve("etcd-data");
        this.log = dir.resolve("etcd.log");
        this.clientPort = freePort();
        this.peerPort = freePort();
    }

    /** Starts etcd with its data under {@code dir} and waits until it serves. */
    public static EtcdServer start(Path dir) throws Exception {
        EtcdServer etcd = new EtcdServer(dir);
        etcd.start();
        return etcd;
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
        if (process != null && process.isAlive()) throw new IllegalStateException("etcd is running");
        String peer = "http://127.0.0.1:" + peerPort;
        process = new ProcessBuilder(List.of(BINARY.toString(),
                "--name", "test", "--data-dir", dataDir.toString(),
                "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "test=" + peer,
                "--log-level", "warn"))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        awaitHealthy(Duration.ofSeconds(30));
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
