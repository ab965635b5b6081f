package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.engine.Rejection;
import io.headgate.steer.ProfileException;
import io.headgate.steer.RegistryUnavailableException;
import io.headgate.steer.StaleRevisionException;
import io.headgate.steer.UnknownProfileException;

/** Domain refusals → gRPC statuses whose description names the field. */
final class Errors {
    private Errors() {
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

    static StatusRuntimeException status(Status status, String field, String message) {
        return status.withDescription(field == null || field.isEmpty() ? message : field + ": " + message).asRuntimeException();
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
            default -> Status.INTERNAL.withDescription(e.toString()).asRuntimeException();
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
