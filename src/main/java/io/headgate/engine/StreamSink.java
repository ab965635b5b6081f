package io.headgate.engine;

/** Where a stream's events go; called from the scheduler thread (and, before admission, the caller's). */
public interface StreamSink {
    void event(StreamEvent event);

    /** After the final event. */
    void complete();

    /** The stream ended with an error the client should see as a status. */
    void fail(Throwable error);
}
