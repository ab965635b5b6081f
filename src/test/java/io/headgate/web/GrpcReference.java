package io.headgate.web;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.headgate.api.v1.Ack;
import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionGrpc;
import io.headgate.api.v1.DiffusionRequest;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.DiscoveryGrpc;
import io.headgate.api.v1.ForecasterGrpc;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.GeneratorGrpc;
import io.headgate.api.v1.ProfilesGrpc;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The same requests made by a plain grpc-java client, the reference the HTTP surfaces are held to:
 * the console transport and the OpenAI endpoint must give what gRPC gives.
 */
public final class GrpcReference implements AutoCloseable {

    public static final String ADMIN_TOKEN = "test-admin-token";

    private final ManagedChannel channel;

    public GrpcReference(int port) {
        channel = ManagedChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    }

    GeneratorGrpc.GeneratorStub generator() {
        return GeneratorGrpc.newStub(channel);
    }

    public ProfilesGrpc.ProfilesBlockingStub admin() {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ADMIN_TOKEN);
        return ProfilesGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    DiscoveryGrpc.DiscoveryBlockingStub discovery() {
        return DiscoveryGrpc.newBlockingStub(channel);
    }

    public ForecasterGrpc.ForecasterBlockingStub forecaster() {
        return ForecasterGrpc.newBlockingStub(channel);
    }

    /**
     * A Generate call; with {@code steerAfter} > 0 its Start must carry that credit window: the call
     * takes that many tokens, sends the Steer to {@code to}, then acknowledges everything (so the
     * switch lands on token {@code steerAfter}, as the console's pause does). Returns every event.
     */
    public List<GenerateEvent> generate(Start start, int steerAfter, String to) {
        CompletableFuture<List<GenerateEvent>> done = new CompletableFuture<>();
        List<GenerateEvent> events = new ArrayList<>();
        StreamObserver<GenerateRequest>[] requests = new StreamObserver[1];
        requests[0] = generator().generate(new StreamObserver<>() {
            @Override
            public void onNext(GenerateEvent e) {
                events.add(e);
                if (!e.hasToken()) return;
                int consumed = e.getToken().getIndex() + 1;
                synchronized (requests) {
                    if (steerAfter > 0 && consumed == steerAfter) {
                        requests[0].onNext(GenerateRequest.newBuilder().setSteer(Steer.newBuilder()
                                .setSteering(Steering.newBuilder().setProfile(to))).build());
                    }
                    // before the switch, acks are held: the server stops after token steerAfter - 1 and waits for it
                    boolean holding = steerAfter > 0 && consumed < steerAfter;
                    if (start.getCreditWindow() > 0 && !holding) requests[0].onNext(GenerateRequest.newBuilder().setAck(Ack.newBuilder().setConsumed(consumed)).build());
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(events);
            }
        });
        synchronized (requests) {
            requests[0].onNext(GenerateRequest.newBuilder().setStart(start).build());
        }
        try {
            List<GenerateEvent> out = done.get(60, TimeUnit.SECONDS);
            synchronized (requests) {
                requests[0].onCompleted();
            }
            return out;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) throw s;
            throw new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The events of a Diffusion.Generate call run to its end. */
    public List<DiffusionEvent> diffusion(DiffusionStart start) {
        CompletableFuture<List<DiffusionEvent>> done = new CompletableFuture<>();
        List<DiffusionEvent> events = new ArrayList<>();
        StreamObserver<DiffusionRequest> requests = DiffusionGrpc.newStub(channel).generate(new StreamObserver<>() {
            @Override
            public void onNext(DiffusionEvent e) {
                events.add(e);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(events);
            }
        });
        requests.onNext(DiffusionRequest.newBuilder().setStart(start).build());
        try {
            List<DiffusionEvent> out = done.get(60, TimeUnit.SECONDS);
            requests.onCompleted();
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
