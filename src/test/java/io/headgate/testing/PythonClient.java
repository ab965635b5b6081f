package io.headgate.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The gateway as a client outside the JVM sees it: runs {@code src/test/python/outside_client.py}
 * with Python's grpcio (Debian's python3-grpcio) as a subprocess, on stubs generated at test time
 * from the project's proto into {@code target/python-stubs}, and returns the JSON it prints.
 * Without python3-grpcio and python3-grpc-tools this fails, on purpose: the tests that use it
 * must not be skipped silently.
 */
public final class PythonClient {

    private static final Path SCRIPT = Path.of("src", "test", "python", "outside_client.py");
    private static final Path PROTO = Path.of("src", "main", "proto", "headgate", "v1", "headgate.proto");
    private static final Path STUBS = Path.of("target", "python-stubs");
    /** proto3 {@code optional} is a synthetic oneof on the wire; Debian's grpc-tools bundles a protoc older than the label. */
    private static final Pattern OPTIONAL = Pattern.compile("(?m)^(\\s*)optional\\s+(\\S+)\\s+(\\w+)\\s*=\\s*(\\d+);");

    private static PythonClient prepared;

    private final String python;

    private PythonClient(String python) {
        this.python = python;
    }

    /** Checks the Python packages and generates the stubs, once per JVM. */
    public static synchronized PythonClient prepare() throws IOException, InterruptedException {
        if (prepared != null) return prepared;
        // pyenv's python3 may come first on PATH without Debian's packages; prefer the system one
        String python = System.getenv().getOrDefault("HEADGATE_PYTHON",
                Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3");
        Result probe = exec(List.of(python, "-c", "import grpc, grpc_tools.protoc"), Duration.ofMinutes(1));
        if (probe.exit() != 0) {
            throw new AssertionError("these tests drive the gateway from Python's grpcio and need python3-grpcio and "
                    + "python3-grpc-tools (apt-get install -y python3-grpcio python3-grpc-tools); " + python + " says: " + probe.stderr());
        }
        Path protoRoot = STUBS.resolve("proto");
        Path proto = protoRoot.resolve("headgate/v1/headgate.proto");
        Files.createDirectories(proto.getParent());
        Files.writeString(proto, OPTIONAL.matcher(Files.readString(PROTO)).replaceAll("$1oneof _$3 { $2 $3 = $4; }"));
        Result protoc = exec(List.of(python, "-m", "grpc_tools.protoc", "-I" + protoRoot, "--python_out=" + STUBS,
                "--grpc_python_out=" + STUBS, proto.toString()), Duration.ofMinutes(2));
        if (protoc.exit() != 0) throw new AssertionError("generating the Python stubs failed: " + protoc.stderr());
        prepared = new PythonClient(python);
        return prepared;
    }

    /** Runs one command of the script against {@code target} (host:port) and returns the JSON it printed. */
    public JsonNode run(String target, Duration timeout, String... commandAndArgs) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(python, SCRIPT.toString(), "--stubs", STUBS.toString(), "--target", target));
        command.addAll(List.of(commandAndArgs));
        Result r = exec(command, timeout);
        if (r.exit() != 0) throw new AssertionError("python client exited with " + r.exit() + ": " + r.stderr());
        return new ObjectMapper().readTree(r.stdout());
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    /** Runs a process to its end or the timeout (then kills it and fails), its output through files so that neither pipe fills. */
    private static Result exec(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile("python-client", ".out"), err = Files.createTempFile("python-client", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("python client ran past " + timeout + ": " + command + "\n" + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("could not run " + command.getFirst() + " (install python3-grpcio and python3-grpc-tools)", e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
