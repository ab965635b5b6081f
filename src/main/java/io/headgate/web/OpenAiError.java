package io.headgate.web;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;

/**
 * An error in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, with its HTTP
 * status. Refusals of the request's own fields name the OpenAI parameter; refusals from the gRPC API
 * are translated, their field path rewritten to the parameter it came from.
 */
final class OpenAiError extends Exception {

    final int httpStatus;
    final String type;
    final String param;   // null when no parameter is at fault
    final String code;    // null unless OpenAI has a code for it

    OpenAiError(int httpStatus, String type, String param, String code, String message) {
        super(message);
        this.httpStatus = httpStatus;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** A bad or unsupported parameter (400, invalid_request_error). */
    static OpenAiError invalid(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, null, param + ": " + message);
    }

    /** A parameter this server does not support, or does not support with this value. */
    static OpenAiError unsupported(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, "unsupported_parameter", param + ": " + message);
    }

    /** The gRPC API's refusal of the Start made from the request. */
    static OpenAiError of(Status status) {
        String description = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        String field = GrpcHttpStatus.field(description);
        String path = paramPath(field);
        String param = path == null ? null : path.split("[.\\[]", 2)[0];
        String message = path == null ? description : path + ": " + GrpcHttpStatus.reason(description);
        int http = GrpcHttpStatus.of(status.getCode());
        String type = switch (status.getCode()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND -> "invalid_request_error";
            case UNAUTHENTICATED -> "authentication_error";
            case PERMISSION_DENIED -> "permission_error";
            case RESOURCE_EXHAUSTED -> "rate_limit_error";
            default -> "server_error";
        };
        String code = status.getCode() == Status.Code.NOT_FOUND && "model".equals(param) ? "model_not_found"
                : status.getCode() == Status.Code.RESOURCE_EXHAUSTED ? "rate_limit_exceeded" : null;
        return new OpenAiError(http, type, param, code, message);
    }

    /** The request parameter a field of the Start came from: start.sampling.top_p → top_p, start.steering.inline.gains[0] → steering.gains[0]. */
    static String paramPath(String field) {
        if (field.isEmpty() || !field.startsWith("start.")) return null;
        String f = field.substring("start.".length());
        if (f.startsWith("sampling.")) {
            String p = f.substring("sampling.".length());
            return p.equals("top_k") ? null : p;
        }
        if (f.startsWith("steering.inline")) return "steering" + f.substring("steering.inline".length());
        if (f.startsWith("steering")) return "steering";
        if (f.startsWith("prompt.token_ids")) return "prompt" + f.substring("prompt.token_ids".length());
        if (f.startsWith("prompt")) return "prompt";
        if (f.startsWith("model") || f.startsWith("max_tokens") || f.startsWith("stop")) return f;
        return null;
    }

    ObjectNode json() {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        ObjectNode error = body.putObject("error");
        error.put("message", getMessage()).put("type", type);
        if (param == null) error.putNull("param"); else error.put("param", param);
        if (code == null) error.putNull("code"); else error.put("code", code);
        return body;
    }
}
