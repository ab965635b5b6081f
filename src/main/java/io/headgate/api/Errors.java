package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.engine.Rejection;
import io.headgate.steer.ProfileException;
import io.headgate.steer.RegistryUnavailableException;
import io.headgate.steer.StaleRevisionException;
import io.headgate.steer.UnknownProfileException;
import org.jboss.logging.Logger;

import java.util.concurrent.ThreadLocalRandom;

/** Domain refusals → gRPC statuses whose description names the field. */
final class Errors {
    private static final Logger LOG = Logger.getLogger(Errors.class);

    private Errors() {
    }

    /**
     * A server-side failure: logged with its detail and an incident id; the client gets a stable
     * message naming what failed and the id, never the exception's text.
     */
    static StatusRuntimeException internal(String what, Throwable cause) {
        String incident = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        LOG.errorf(cause, "incident %s: %s failed", incident, what);
        return Status.INTERNAL.withDescription(what + " failed on the server; the server log has the detail (incident " + incident + ")")
                .asRuntimeException();
    }

    static StatusRuntimeException invalid(String field, String message) {
        return status(Status.INVALID_ARGUMENT, field, message);
    }

    static StatusRuntimeException notFound(String field, String message) {
        return status(Status.NOT_FOUND, field, message);
    }

    static StatusRuntimeException precondition(String field, String message) {
        return status(Status.FAILED_PRECONDITION, field, message);
    }

    /**
     * Descriptions echo what the client sent; bounded, so that a hostile name cannot push the
     * trailers past a client's metadata limit (8 KiB in grpc-core; the message is percent-encoded
     * UTF-8, up to 9 bytes a character) and turn a named refusal into the client's own
     * RESOURCE_EXHAUSTED.
     */
    static final int MAX_DESCRIPTION = 512;

    static StatusRuntimeException status(Status status, String field, String message) {
        String description = field == null || field.isEmpty() ? message : field + ": " + message;
        if (description.length() > MAX_DESCRIPTION) {
            description = description.substring(0, MAX_DESCRIPTION) + "… (" + description.length() + " characters)";
        }
        return status.withDescription(description).asRuntimeException();
    }

    /** A client's string quoted in a message, its head only when it is long. */
    static String quote(String s) {
        return s.length() <= 64 ? "'" + s + "'" : "'" + s.substring(0, 64) + "…' (" + s.length() + " characters)";
    }

    static StatusRuntimeException of(Rejection r) {
        Status s = switch (r.kind()) {
            case INVALID -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case PRECONDITION -> Status.FAILED_PRECONDITION;
        };
        return s.withDescription(r.getMessage()).asRuntimeException();
    }

    /** Maps the steer package's exceptions, prefixing their field with where the spec sat in the request. */
    static StatusRuntimeException ofProfile(RuntimeException e, String prefix) {
        return switch (e) {
            case ProfileException p -> invalid(join(prefix, p.field()), p.getMessage());
            case UnknownProfileException u -> notFound(join(prefix, "profile"), u.getMessage());
            case StaleRevisionException s -> status(Status.ABORTED, "expected_revision", s.getMessage());
            case RegistryUnavailableException u -> unavailable(u);
            default -> internal("the request", e);
        };
    }

    /** The registry's store (etcd) cannot be reached: the write was not made (or, cut off mid-request, not confirmed); retry once it is back. */
    static StatusRuntimeException unavailable(RegistryUnavailableException e) {
        return Status.UNAVAILABLE.withDescription("registry unavailable: " + e.getMessage()).asRuntimeException();
    }

    static String join(String prefix, String field) {
        if (prefix == null || prefix.isEmpty()) return field;
        return field == null || field.isEmpty() ? prefix : prefix + "." + field;
    }
}
