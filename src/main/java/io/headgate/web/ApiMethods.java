package io.headgate.web;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.headgate.api.v1.DiffusionGrpc;
import io.headgate.api.v1.DiscoveryGrpc;
import io.headgate.api.v1.ExperimentsGrpc;
import io.headgate.api.v1.ForecasterGrpc;
import io.headgate.api.v1.GeneratorGrpc;
import io.headgate.api.v1.ModelsGrpc;
import io.headgate.api.v1.ProfilesGrpc;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The gRPC API's methods, found by {@code Service/Method} (the service's short name, as in
 * {@code Profiles/Put}), read from the generated service descriptors: whatever the proto declares
 * is reachable over HTTP, and nothing else.
 */
final class ApiMethods {

    /** One method with the prototypes its JSON is parsed into and printed from. */
    record ApiMethod(MethodDescriptor<Message, Message> descriptor, Message requestPrototype) {

        MethodDescriptor.MethodType type() {
            return descriptor.getType();
        }

        boolean streamsRequests() {
            return type() == MethodDescriptor.MethodType.BIDI_STREAMING || type() == MethodDescriptor.MethodType.CLIENT_STREAMING;
        }

        boolean streamsResponses() {
            return type() == MethodDescriptor.MethodType.BIDI_STREAMING || type() == MethodDescriptor.MethodType.SERVER_STREAMING;
        }

        /**
         * A request-streaming method's request is a oneof of messages (start, steer, ack, ...): the
         * field named {@code name} of that oneof, if there is one.
         */
        Optional<Descriptors.FieldDescriptor> requestField(String name) {
            Descriptors.FieldDescriptor field = requestPrototype.getDescriptorForType().findFieldByName(name);
            if (field == null || field.getRealContainingOneof() == null || field.getJavaType() != Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                return Optional.empty();
            }
            return Optional.of(field);
        }

        /** The messages a client may send on a running stream besides {@code start}. */
        List<String> streamMessages() {
            return requestPrototype.getDescriptorForType().getFields().stream()
                    .filter(f -> f.getRealContainingOneof() != null && !f.getName().equals("start"))
                    .map(Descriptors.FieldDescriptor::getName).toList();
        }
    }

    private static final Map<String, ApiMethod> METHODS = new LinkedHashMap<>();

    static {
        for (ServiceDescriptor service : List.of(GeneratorGrpc.getServiceDescriptor(), DiffusionGrpc.getServiceDescriptor(),
                ForecasterGrpc.getServiceDescriptor(), DiscoveryGrpc.getServiceDescriptor(), ModelsGrpc.getServiceDescriptor(),
                ProfilesGrpc.getServiceDescriptor(), ExperimentsGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : service.getMethods()) {
                @SuppressWarnings("unchecked")
                MethodDescriptor<Message, Message> method = (MethodDescriptor<Message, Message>) m;
                Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype();
                String serviceName = method.getServiceName().substring(method.getServiceName().lastIndexOf('.') + 1);
                METHODS.put(serviceName + "/" + method.getBareMethodName(), new ApiMethod(method, prototype));
            }
        }
    }

    private ApiMethods() {
    }

    static Optional<ApiMethod> find(String service, String method) {
        return Optional.ofNullable(METHODS.get(service + "/" + method));
    }

    static List<String> names() {
        return List.copyOf(METHODS.keySet());
    }
}
