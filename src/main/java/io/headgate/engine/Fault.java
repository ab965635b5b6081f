package io.headgate.engine;

/**
 * A server-side failure that ended one stream: where it happened, and the stream it names in the
 * log. Its message is stable and safe to show a client; the exception itself is only logged.
 *
 * @param phase what was running: "admit", "step", "outputs", "delivery", "message", "steering"
 */
public record Fault(String streamId, String phase) {

    public String message() {
        return "internal error in this stream's " + phase + "; the server log has the detail for stream " + streamId;
    }
}
