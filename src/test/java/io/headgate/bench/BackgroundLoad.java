package io.headgate.bench;

import java.util.concurrent.TimeUnit;

/**
 * A deliberately busy core: a shell process spinning in an endless loop, started and stopped by the
 * suite around the measurements it should disturb.
 */
final class BackgroundLoad implements AutoCloseable {

    private final Process spinner;

    private BackgroundLoad(Process spinner) {
        this.spinner = spinner;
    }

    static BackgroundLoad start() throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "while :; do :; done").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return new BackgroundLoad(p);
    }

    @Override
    public void close() throws Exception {
        spinner.destroy();
        if (!spinner.waitFor(10, TimeUnit.SECONDS)) spinner.destroyForcibly();
    }
}
