package io.headgate.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on. */
final class Machine {
    private Machine() {
    }

    static String describe() {
        String cpu = "unknown CPU", mem = "";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
            mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> String.format("%.0f GiB", Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0)).orElse("");
        } catch (Exception ignored) {
            // not Linux: the JVM's view below still says something
        }
        return String.format("%d cores (%s), %s, %s %s, Java %s, ONNX Runtime 1.29.0 (CPU, %d intra-op thread(s) per session)",
                Runtime.getRuntime().availableProcessors(), cpu, mem, System.getProperty("os.name"), System.getProperty("os.arch"),
                System.getProperty("java.version"), BareLoop.threads);
    }
}
