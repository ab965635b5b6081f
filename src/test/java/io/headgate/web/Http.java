package io.headgate.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Plain HTTP/1.1 to the gateway under test: JSON requests and Server-Sent Event streams, nothing of Headgate's. */
final class Http {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private Http() {
    }

    record Reply(int status, String contentType, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }
    }

    static Reply post(URI uri, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (!headers.containsKey("Content-Type")) b.header("Content-Type", "application/json");
        headers.forEach(b::header);
        return send(b.build());
    }

    static Reply post(URI uri, String body) {
        return post(uri, body, Map.of());
    }

    static Reply get(URI uri) {
        return send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build());
    }

    static Reply delete(URI uri) {
        return send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).DELETE().build());
    }

    private static Reply send(HttpRequest request) {
        try {
            HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One Server-Sent Event: its name ({@code message} when unnamed) and its data line(s). */
    record Event(String name, String data) {
        JsonNode json() {
            try {
                return JSON.readTree(data);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + data, e);
            }
        }
    }

    /**
     * A POST answered with Server-Sent Events, read as they arrive. A reply that is not an event
     * stream (an error before the first event) is kept whole in {@link #refusal()}.
     */
    static final class Events implements AutoCloseable {
        private static final Event END = new Event("", "");
        private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        private final HttpResponse<Stream<String>> response;
        private final String refusal;

        Events(URI uri, String body, Map<String, String> headers) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
            headers.forEach(b::header);
            try {
                response = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofLines());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            if (!response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
                try (Stream<String> lines = response.body()) {
                    refusal = String.join("\n", lines.toList());
                }
                return;
            }
            refusal = null;
            Thread.ofVirtual().start(() -> {
                String name = "message";
                StringBuilder data = new StringBuilder();
                try (Stream<String> lines = response.body()) {
                    for (var it = lines.iterator(); it.hasNext(); ) {
                        String line = it.next();
                        if (line.isEmpty()) {
                            if (!data.isEmpty()) events.add(new Event(name, data.toString()));
                            name = "message";
                            data.setLength(0);
                        } else if (line.startsWith("event: ")) {
                            name = line.substring(7);
                        } else if (line.startsWith("data: ")) {
                            data.append(line.substring(6));
                        }
                    }
                } catch (RuntimeException closed) {
                    // closed by the test, or the connection dropped: the stream ends here
                } finally {
                    events.add(END);
                }
            });
        }

        Events(URI uri, String body) {
            this(uri, body, Map.of());
        }

        int status() {
            return response.statusCode();
        }

        /** The whole body of a reply that was not an event stream; null for a stream. */
        String refusal() {
            return refusal;
        }

        /** The next event; fails after {@code seconds} or when the stream has ended. */
        Event next(double seconds) {
            Event e = poll(seconds);
            if (e == null) throw new AssertionError("no event within " + seconds + " s");
            return e;
        }

        /** The next event, or null if none came within {@code seconds} or the stream has ended. */
        Event poll(double seconds) {
            try {
                Event e = events.poll((long) (seconds * 1000), TimeUnit.MILLISECONDS);
                if (e == END) {
                    events.add(END);
                    return null;
                }
                return e;
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(ex);
            }
        }

        /** Every event until the stream ends (within {@code seconds}). */
        List<Event> rest(double seconds) {
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            List<Event> out = new ArrayList<>();
            while (true) {
                try {
                    Event e = events.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
                    if (e == null) throw new AssertionError("the stream did not end within " + seconds + " s; got " + out);
                    if (e == END) {
                        events.add(END);
                        return out;
                    }
                    out.add(e);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(ex);
                }
            }
        }

        /** Whether the stream ended (within {@code seconds}) without another event. */
        boolean endsWithin(double seconds) {
            return poll(seconds) == null && events.peek() == END;
        }

        @Override
        public void close() {
            if (refusal == null) response.body().close();
        }
    }
}
