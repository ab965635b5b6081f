package io.headgate.discovery.search;

/** What a running search tells its caller, on the search's thread. */
public interface SearchListener {

    void progress(SearchProgress progress);

    /** Polled between and during measurements: true stops the search (the client went away). */
    boolean cancelled();
}
