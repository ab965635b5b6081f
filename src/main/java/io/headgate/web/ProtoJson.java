package io.headgate.web;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

/**
 * Protobuf's canonical JSON mapping, with the proto's own field names (as in the .proto file and the
 * gRPC API's error messages: {@code from_index}, {@code start.max_tokens}) and every field printed,
 * defaults included, so a page never has to know that 0 and false are left out. 64-bit integers
 * print as strings, as the mapping says; either form is read.
 */
final class ProtoJson {

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer()
            .preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence()
            .omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    private ProtoJson() {
    }

    static String print(Message message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            // only Any fields with unknown types fail to print, and the API has none
            throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName(), e);
        }
    }

    /**
     * Parses {@code json} into a new message of {@code prototype}'s type.
     *
     * @throws BadJson naming what could not be read
     */
    @SuppressWarnings("unchecked")
    static <M extends Message> M parse(String json, M prototype) throws BadJson {
        Message.Builder builder = prototype.newBuilderForType();
        try {
            PARSER.merge(json == null || json.isBlank() ? "{}" : json, builder);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new BadJson("not a valid " + prototype.getDescriptorForType().getName() + " as JSON: " + e.getMessage());
        }
        return (M) builder.build();
    }

    /** A request body that is not the expected message as JSON. */
    static final class BadJson extends Exception {
        BadJson(String message) {
            super(message);
        }
    }
}
