package io.headgate.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Message;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.Sampling;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.TokenIds;

import java.util.Iterator;
import java.util.Set;

/**
 * A body of OpenAI's {@code POST /v1/completions} read into the Generate {@link Start} it asks for.
 * Only the request's shape is checked here, each refusal naming its parameter; what the values
 * mean (the model, the prompt's length, the limits, the steering) is checked by the Generate call
 * itself. Parameters Headgate cannot honour are refused rather than ignored, except {@code user},
 * which only identifies the caller.
 *
 * @param stream       answer with Server-Sent Events
 * @param includeUsage {@code stream_options.include_usage}: a last chunk with the token counts
 * @param logprobs     {@code logprobs: 0}: each token's log-probability (no alternatives)
 */
record CompletionRequest(Start start, boolean stream, boolean includeUsage, boolean logprobs) {

    /** OpenAI's defaults where Headgate's differ: 16 tokens, sampling at temperature 1. */
    static final int DEFAULT_MAX_TOKENS = 16;
    static final float DEFAULT_TEMPERATURE = 1;

    private static final Set<String> KNOWN = Set.of("model", "prompt", "suffix", "max_tokens", "temperature", "top_p", "n", "stream",
            "stream_options", "logprobs", "echo", "stop", "presence_penalty", "frequency_penalty", "best_of", "logit_bias", "user",
            "seed", "steering");

    static CompletionRequest parse(JsonNode body) throws OpenAiError {
        if (body == null || !body.isObject()) throw OpenAiError.invalid("body", "send a JSON object");
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!KNOWN.contains(name)) throw OpenAiError.invalid(name, "unrecognized request argument");
        }
        Start.Builder start = Start.newBuilder().setModel(string(body, "model", true));
        prompt(body.get("prompt"), start);

        unsupportedUnless(body, "suffix", JsonNode::isNull, "is not supported (no insertion)");
        unsupportedUnless(body, "n", v -> v.isNull() || v.isIntegralNumber() && v.asLong() == 1, "only 1 completion per request is supported");
        unsupportedUnless(body, "best_of", v -> v.isNull() || v.isIntegralNumber() && v.asLong() == 1, "only 1 is supported");
        unsupportedUnless(body, "echo", v -> v.isNull() || v.isBoolean() && !v.asBoolean(), "echo of the prompt is not supported");
        unsupportedUnless(body, "presence_penalty", v -> v.isNull() || v.isNumber() && v.asDouble() == 0, "only 0 is supported");
        unsupportedUnless(body, "frequency_penalty", v -> v.isNull() || v.isNumber() && v.asDouble() == 0, "only 0 is supported");
        unsupportedUnless(body, "logit_bias", v -> v.isNull() || v.isObject() && v.isEmpty(), "is not supported");
        unsupportedUnless(body, "logprobs", v -> v.isNull() || v.isIntegralNumber() && v.asLong() == 0,
                "only 0 is supported (each token's own log-probability; no alternatives)");
        boolean logprobs = body.hasNonNull("logprobs");
        string(body, "user", false);

        long maxTokens = body.hasNonNull("max_tokens") ? integer(body, "max_tokens") : DEFAULT_MAX_TOKENS;
        if (maxTokens < 1 || maxTokens > 0xFFFF_FFFFL) throw OpenAiError.invalid("max_tokens", "must be at least 1, got " + maxTokens);
        start.setMaxTokens((int) maxTokens);
        stop(body.get("stop"), start);
        sampling(body, start);
        steering(body.get("steering"), start);

        boolean stream = flag(body, "stream");
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!stream) throw OpenAiError.invalid("stream_options", "only allowed when stream is true");
            if (!options.isObject()) throw OpenAiError.invalid("stream_options", "must be an object");
            for (Iterator<String> names = options.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!name.equals("include_usage")) throw OpenAiError.unsupported("stream_options." + name, "is not supported");
            }
            includeUsage = flag(options, "include_usage", "stream_options.include_usage");
        }
        return new CompletionRequest(start.build(), stream, includeUsage, logprobs);
    }

    /** A string prompt, an array holding one, or token ids (an array of integers, or an array holding one). */
    private static void prompt(JsonNode p, Start.Builder start) throws OpenAiError {
        if (p == null || p.isNull()) throw OpenAiError.invalid("prompt", "required");
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) p = p.get(0);
        if (p.isTextual()) {
            start.setText(p.asText());
            return;
        }
        if (!p.isArray()) throw OpenAiError.invalid("prompt", "must be a string, or an array of token ids");
        TokenIds.Builder ids = TokenIds.newBuilder();
        for (int i = 0; i < p.size(); i++) {
            JsonNode id = p.get(i);
            if (id.isTextual() || id.isArray()) {
                throw OpenAiError.unsupported("prompt", "one prompt per request; got " + p.size() + " prompts");
            }
            if (!id.isIntegralNumber()) throw OpenAiError.invalid("prompt[" + i + "]", "token ids must be integers");
            ids.addIds(id.asLong());
        }
        start.setTokenIds(ids);
    }

    private static void stop(JsonNode stop, Start.Builder start) throws OpenAiError {
        if (stop == null || stop.isNull()) return;
        if (stop.isTextual()) {
            start.addStop(stop.asText());
            return;
        }
        if (!stop.isArray()) throw OpenAiError.invalid("stop", "must be a string or an array of strings");
        for (int i = 0; i < stop.size(); i++) {
            if (!stop.get(i).isTextual()) throw OpenAiError.invalid("stop[" + i + "]", "must be a string");
            start.addStop(stop.get(i).asText());
        }
    }

    /** Temperature 0 is Headgate's greedy decoding; otherwise a Sampling message (OpenAI's default: temperature 1). */
    private static void sampling(JsonNode body, Start.Builder start) throws OpenAiError {
        double temperature = body.hasNonNull("temperature") ? number(body, "temperature") : DEFAULT_TEMPERATURE;
        double topP = body.hasNonNull("top_p") ? number(body, "top_p") : 1;
        Sampling.Builder s = Sampling.newBuilder().setTemperature((float) temperature).setTopP((float) topP);
        if (body.hasNonNull("seed")) s.setSeed(integer(body, "seed"));
        if (temperature != 0 || body.hasNonNull("seed") || topP != 1) start.setSampling(s);
    }

    /** Headgate's extension: a profile reference ("name" or "name@rev") or an inline profile spec (as the gRPC API's JSON). */
    private static void steering(JsonNode steering, Start.Builder start) throws OpenAiError {
        if (steering == null || steering.isNull()) return;
        if (steering.isTextual()) {
            start.setSteering(Steering.newBuilder().setProfile(steering.asText()));
        } else if (steering.isObject()) {
            try {
                Message spec = ProtoJson.parse(steering.toString(), ProfileSpec.getDefaultInstance());
                start.setSteering(Steering.newBuilder().setInline((ProfileSpec) spec));
            } catch (ProtoJson.BadJson e) {
                throw OpenAiError.invalid("steering", e.getMessage());
            }
        } else {
            throw OpenAiError.invalid("steering", "must be a profile name (\"pag-l1\", \"pag-l1@2\") or an inline profile {\"gains\": [...], ...}");
        }
    }

    // ------------------------------------------------------------------ values

    private interface Check {
        boolean ok(JsonNode value);
    }

    private static void unsupportedUnless(JsonNode body, String name, Check ok, String message) throws OpenAiError {
        JsonNode v = body.get(name);
        if (v != null && !ok.ok(v)) throw OpenAiError.unsupported(name, message + "; got " + v);
    }

    private static String string(JsonNode body, String name, boolean required) throws OpenAiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            if (required) throw OpenAiError.invalid(name, "required");
            return "";
        }
        if (!v.isTextual()) throw OpenAiError.invalid(name, "must be a string");
        return v.asText();
    }

    private static long integer(JsonNode body, String name) throws OpenAiError {
        JsonNode v = body.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw OpenAiError.invalid(name, "must be an integer, got " + v);
        return v.asLong();
    }

    private static double number(JsonNode body, String name) throws OpenAiError {
        JsonNode v = body.get(name);
        if (!v.isNumber()) throw OpenAiError.invalid(name, "must be a number, got " + v);
        return v.asDouble();
    }

    private static boolean flag(JsonNode body, String name) throws OpenAiError {
        return flag(body, name, name);
    }

    private static boolean flag(JsonNode body, String name, String param) throws OpenAiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw OpenAiError.invalid(param, "must be true or false, got " + v);
        return v.asBoolean();
    }
}
