package io.headgate.web;

import io.vertx.core.http.HttpServerResponse;

/** Server-Sent Events on an HTTP response: the headers once, then events as they come. */
final class Sse {

    private Sse() {
    }

    static void begin(HttpServerResponse response) {
        response.setStatusCode(200)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no") // proxies such as nginx would otherwise hold events back
                .setChunked(true);
    }

    /** An event; {@code name} null for an unnamed one (a plain {@code data:} line). Data is one line of JSON. */
    static void event(HttpServerResponse response, String name, String data) {
        StringBuilder b = new StringBuilder(data.length() + 32);
        if (name != null) b.append("event: ").append(name).append('\n');
        b.append("data: ").append(data).append("\n\n");
        response.write(b.toString());
    }
}
