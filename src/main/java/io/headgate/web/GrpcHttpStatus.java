package io.headgate.web;

import io.grpc.Status;

import java.util.regex.Pattern;

/** A gRPC status as HTTP sees it: the status code and the request field its description names. */
final class GrpcHttpStatus {

    // the API's descriptions start with the field at fault: "start.steering.inline.gains[2].head: ...";
    // the HTTP layer's own name a header ("Content-Type: ...")
    private static final Pattern FIELD = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*(\\[\\d+])?(\\.[a-z_][a-z0-9_]*(\\[\\d+])?)*");

    private GrpcHttpStatus() {
    }

    /** The HTTP status for a gRPC code, as gRPC's own HTTP mappings (grpc-gateway, Google APIs) use. */
    static int of(Status.Code code) {
        return switch (code) {
            case OK -> 200;
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ABORTED, ALREADY_EXISTS -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case CANCELLED -> 499;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
        };
    }

    /** The field a description starts with ("field: reason"), or empty when it names none. */
    static String field(String description) {
        if (description == null) return "";
        int colon = description.indexOf(": ");
        if (colon <= 0) return "";
        String head = description.substring(0, colon);
        return FIELD.matcher(head).matches() ? head : "";
    }

    /** The description without its leading field. */
    static String reason(String description) {
        if (description == null) return "";
        String field = field(description);
        return field.isEmpty() ? description : description.substring(field.length() + 2);
    }
}
