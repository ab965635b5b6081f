package io.headgate.discovery;

/** What a running scan tells its caller, on the scan's thread. */
public interface ScanListener {

    void progress(String phase, int done, int total);

    void finished(ScanReport report);

    void failed(Throwable error);

    /** Polled between batches: true stops the scan (the client went away). */
    boolean cancelled();
}
