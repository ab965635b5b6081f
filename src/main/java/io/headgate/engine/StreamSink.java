package io.headgate.engine;

/**
 * Where a stream's events go; called from the scheduler thread (and, before admission, the
 * caller's). An exception thrown here ends this stream only, as a {@link Fault}.
 */
public interface StreamSink<O, F> {
    void event(StreamEvent<O, F> event);

    /** After the final event. */
    void complete();

    /** The stream ended on a server fault; the detail is in the server log, not for the client. */
    void fail(Fault fault);
}
