package io.headgate.bench;

import io.headgate.testing.Checkpoints;

import java.nio.file.Path;
import java.util.List;

/**
 * Records where the gateway's threads spend a token's time: starts the packaged gateway under a
 * flight recording (execution samples every millisecond) and runs single streams of one model back
 * to back for a while; the recording is written when the gateway exits.
 *
 * <pre>
 *   ./mvnw -q package -DskipTests
 *   ./mvnw -q exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.headgate.bench.ProfileGateway -Dexec.args="parens-lm 30 1"
 *   jfr view --width 200 hot-methods target/bench/gateway.jfr
 * </pre>
 */
public final class ProfileGateway {

    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "parens-lm";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int streams = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        BenchmarkSuite.Model parens = BenchmarkSuite.parens();
        BenchmarkSuite.Model large = BenchmarkSuite.large();
        BenchmarkSuite.Model m = model.equals(large.name()) ? large : parens;
        Path jfr = BenchmarkSuite.WORK.resolve("gateway.jfr").toAbsolutePath();
        List<String> options = List.of("-XX:StartFlightRecording=filename=" + jfr + ",settings=" + settings());
        try (GatewayProcess gw = new GatewayProcess(BenchmarkSuite.WORK, GatewayProcess.APP,
                BenchmarkSuite.gatewayProperties(parens, large, 1, new BenchmarkSuite.Engine("this checkout", GatewayProcess.APP, true)), options)) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            long tokens = 0;
            long t0 = System.nanoTime();
            while (System.nanoTime() < end) {
                for (GatewayProcess.Run r : gw.runAll(BenchmarkSuite.streams(m, streams, i -> BenchmarkSuite.identity()), null)) {
                    tokens += r.arrivals.size();
                }
            }
            System.out.printf("%d tokens in %.1f s: %.1f µs per token%n", tokens, (System.nanoTime() - t0) / 1e9,
                    (System.nanoTime() - t0) / 1e3 / tokens);
        }
        System.out.println("recording: " + jfr);
        System.exit(0);
    }

    /** The default "profile" settings with execution sampled every millisecond. */
    private static String settings() throws Exception {
        Path home = Path.of(System.getProperty("java.home"));
        String profile = java.nio.file.Files.readString(home.resolve("lib/jfr/profile.jfc"));
        String fine = profile.replaceAll("(<event name=\"jdk.ExecutionSample\">[\\s\\S]*?<setting name=\"period\"[^>]*>)[^<]*", "$11 ms")
                .replaceAll("(<event name=\"jdk.NativeMethodSample\">[\\s\\S]*?<setting name=\"period\"[^>]*>)[^<]*", "$11 ms");
        Path out = BenchmarkSuite.WORK.resolve("profile-1ms.jfc").toAbsolutePath();
        java.nio.file.Files.createDirectories(out.getParent());
        java.nio.file.Files.writeString(out, fine);
        return out.toString();
    }
}
