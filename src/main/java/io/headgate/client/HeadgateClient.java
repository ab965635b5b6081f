package io.headgate.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.headgate.api.v1.Ack;
import io.headgate.api.v1.Finished;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.GeneratorGrpc;
import io.headgate.api.v1.Sampling;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.Token;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code headgate generate}: one Generate call from the command line, a plain program that does not
 * start Quarkus ({@link Headgate} runs it); {@link ClientOptions#USAGE} lists the options.
 *
 * <p>The client acknowledges each token after printing it. With the credit window sent in Start,
 * the server is then never more than that many tokens ahead of the screen, which is what lets a
 * Steer sent after token K change token K+1 and not one hundreds of tokens later.
 */
public final class HeadgateClient {

    static final int EXIT_FINISHED = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130;

    private HeadgateClient() {
    }

    /** Kept for {@code exec:java -Dexec.mainClass=io.headgate.client.HeadgateClient}: the {@code generate} command. */
    public static void main(String[] args) {
        String[] command = new String[args.length + 1];
        command[0] = "generate";
        System.arraycopy(args, 0, command, 1, args.length);
        Headgate.main(command);
    }

    /** Runs one generation to its end, printing to {@code out} and {@code err}; returns the exit status. */
    static int run(ClientOptions options, PrintStream out, PrintStream err, InputStream in) {
        EventPrinter printer = new EventPrinter(options.verbose(), out, err);
        ManagedChannel channel = ManagedChannelBuilder.forAddress(options.target().host(), options.target().port())
                .usePlaintext()
                .build();
        Generation generation = new Generation(options, printer);
        // Ctrl-C: cancel the call so the server frees the stream's slot at once instead of generating on
        Thread interrupt = new Thread(() -> {
            generation.cancel();
            close(channel);
        }, "headgate-client-interrupt");
        Runtime.getRuntime().addShutdownHook(interrupt);
        try {
            generation.start(GeneratorGrpc.newStub(channel));
            if (options.interactive()) readSwitchesFromStdin(generation, printer, in);
            return generation.exitStatus().join();
        } finally {
            close(channel);
            try {
                Runtime.getRuntime().removeShutdownHook(interrupt);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C arrived: the hook is running and cleans up itself
            }
        }
    }

    /**
     * {@code --interactive}: each non-empty stdin line, "REF" or "REF reprefill", switches the stream.
     * A daemon thread, so a pending read never keeps the program alive after the stream ends.
     */
    private static void readSwitchesFromStdin(Generation generation, EventPrinter printer, InputStream stdin) {
        Thread.ofPlatform().daemon().name("headgate-client-stdin").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    String[] words = line.strip().split("\\s+");
                    if (words[0].isEmpty()) continue;
                    boolean reprefill = words.length == 2 && words[1].equals("reprefill");
                    if (words.length > 2 || words.length == 2 && !reprefill) {
                        printer.notice("ignored '" + line.strip() + "': type NAME[@REV], optionally followed by 'reprefill'");
                        continue;
                    }
                    if (!generation.steer(words[0], reprefill)) return;
                }
            } catch (IOException e) {
                printer.notice("stopped reading stdin: " + e.getMessage());
            }
        });
    }

    private static void close(ManagedChannel channel) {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) channel.shutdownNow();
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ the call

    /**
     * One Generate call: sends Start, prints events, acknowledges tokens and sends the Steers.
     * Sends are synchronized: a gRPC request stream takes one writer at a time, and both the
     * callback thread (acks, {@code --switch-at}) and the stdin thread (interactive switches) write.
     */
    static final class Generation implements ClientResponseObserver<GenerateRequest, GenerateEvent> {

        private final ClientOptions options;
        private final EventPrinter printer;
        private final int creditWindow;
        private final CompletableFuture<Integer> exitStatus = new CompletableFuture<>();

        private ClientCallStreamObserver<GenerateRequest> requests;
        private boolean closed;            // half-closed, failed or cancelled: send nothing more
        private volatile boolean cancelled; // by Ctrl-C
        private volatile boolean steerUnanswered; // a Steer was sent and no SteeringApplied/Rejected has come back
        private Finished finished;         // callback thread only
        private final AckPlan acks;        // callback thread only

        Generation(ClientOptions options, EventPrinter printer) {
            this.options = options;
            this.printer = printer;
            this.creditWindow = options.creditWindow();
            this.acks = new AckPlan(creditWindow, options.switchAt());
        }

        void start(GeneratorGrpc.GeneratorStub stub) {
            stub.generate(this); // calls beforeStart, which keeps the request stream
            send(GenerateRequest.newBuilder().setStart(startMessage()).build());
        }

        CompletableFuture<Integer> exitStatus() {
            return exitStatus;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<GenerateRequest> requests) {
            this.requests = requests;
        }

        private Start startMessage() {
            Start.Builder start = Start.newBuilder()
                    .setModel(options.model())
                    .setText(options.prompt())
                    .setMaxTokens(options.maxTokens())
                    .addAllStop(options.stops())
                    .setCreditWindow(creditWindow);
            if (options.profile() != null) start.setSteering(Steering.newBuilder().setProfile(options.profile()));
            if (options.experiment() != null) start.setExperiment(options.experiment());
            if (options.routingKey() != null) start.setRoutingKey(options.routingKey());
            if (options.sampling()) {
                Sampling.Builder s = Sampling.newBuilder();
                if (options.temperature() != null) s.setTemperature(options.temperature());
                if (options.topK() != null) s.setTopK(options.topK());
                if (options.topP() != null) s.setTopP(options.topP());
                if (options.seed() != null) s.setSeed(options.seed());
                start.setSampling(s);
            }
            return start.build();
        }

        private String describeCredit() {
            if (creditWindow == 0) return "unlimited";
            if (creditWindow == options.credit()) return String.valueOf(creditWindow);
            return creditWindow + " (lowered from " + options.credit() + " so the switch after token " + options.switchAt() + " lands next)";
        }

        // -------------------------------------------------------------- server → client

        @Override
        public void onNext(GenerateEvent event) {
            switch (event.getKindCase()) {
                case STARTED -> printer.started(event.getStarted(), describeCredit());
                case TOKEN -> onToken(event.getToken());
                case STEERING_APPLIED -> {
                    steerUnanswered = false;
                    printer.applied(event.getSteeringApplied());
                }
                case STEERING_REJECTED -> {
                    steerUnanswered = false;
                    printer.rejected(event.getSteeringRejected());
                }
                case FINISHED -> {
                    finished = event.getFinished();
                    printer.finishedText(finished);
                    if (options.switchAt() != null && acks.switchPending()) {
                        printer.notice("note: the stream ended before token " + options.switchAt() + "; no switch was sent");
                    } else if (steerUnanswered) {
                        // the server computes nothing after the last token, so a late Steer is neither applied nor rejected
                        printer.notice("note: the last switch arrived after the final token was computed; it did not apply");
                    }
                    printer.summary(finished);
                    halfClose(); // nothing more to say; the server ends the call after Finished
                }
                case KIND_NOT_SET -> {
                    // an event kind newer than this client: skip it
                }
            }
        }

        private void onToken(Token token) {
            printer.token(token);
            if (acks.isSwitchPoint(token.getIndex())) {
                // before the ack for this token: the server, out of credit, computes nothing more until it has both
                steer(options.switchTo(), options.reprefill());
            }
            long consumed = acks.afterPrinting(token.getIndex());
            if (consumed > 0) send(GenerateRequest.newBuilder().setAck(Ack.newBuilder().setConsumed(consumed)).build());
        }

        @Override
        public void onError(Throwable t) {
            markClosed();
            if (cancelled) {
                printer.endStdoutLine();
                printer.notice("cancelled");
                exitStatus.complete(EXIT_INTERRUPTED);
            } else {
                printer.error(Status.fromThrowable(t));
                exitStatus.complete(EXIT_ERROR);
            }
        }

        @Override
        public void onCompleted() {
            markClosed();
            if (finished != null) {
                exitStatus.complete(EXIT_FINISHED);
            } else {
                printer.error(Status.INTERNAL.withDescription("the server ended the call without a Finished event"));
                exitStatus.complete(EXIT_ERROR);
            }
        }

        // -------------------------------------------------------------- client → server

        /** Sends a Steer to profile {@code reference}; false once the stream has ended. */
        boolean steer(String reference, boolean reprefill) {
            Steer steer = Steer.newBuilder()
                    .setSteering(Steering.newBuilder().setProfile(reference))
                    .setReprefill(reprefill)
                    .build();
            if (options.verbose()) printer.notice("asking for " + reference + (reprefill ? " with re-prefill" : ""));
            steerUnanswered = true;
            boolean sent = send(GenerateRequest.newBuilder().setSteer(steer).build());
            if (!sent) printer.notice("not switched to " + reference + ": the stream has ended");
            return sent;
        }

        /** Ctrl-C: cancel the call unless it is already over. */
        void cancel() {
            synchronized (this) {
                if (requests == null || closed) return;
                closed = true;
                cancelled = true;
            }
            requests.cancel("interrupted by the user", null);
            exitStatus.completeOnTimeout(EXIT_INTERRUPTED, 2, TimeUnit.SECONDS);
        }

        private synchronized boolean send(GenerateRequest request) {
            if (closed) return false;
            requests.onNext(request);
            return true;
        }

        private synchronized void halfClose() {
            if (closed) return;
            closed = true;
            requests.onCompleted();
        }

        private synchronized void markClosed() {
            closed = true;
        }
    }

    // ------------------------------------------------------------------ acks

    /**
     * Which cumulative Ack to send after each printed token.
     *
     * <p>Normally "everything printed so far". With {@code --switch-at K} the acks are held at
     * {@code K + 1 - window} until the Steer is sent: the server may then compute up to token K
     * and no further, so the Steer (sent on receiving K, before its ack) reaches it while it is
     * paused and token K+1 is the first computed under the new profile. With an unlimited window
     * (0) there is nothing to hold back and the switch lands wherever the server has got to.
     */
    static final class AckPlan {
        private final Integer switchAt;
        private final long holdAt;
        private boolean switchSent;
        private long acked;

        AckPlan(int creditWindow, Integer switchAt) {
            this.switchAt = switchAt;
            this.holdAt = switchAt == null || creditWindow == 0 ? Long.MAX_VALUE : switchAt + 1L - creditWindow;
        }

        /** True once, for token K: send the switch now. */
        boolean isSwitchPoint(int index) {
            if (switchAt == null || switchSent || index < switchAt) return false;
            switchSent = true;
            return true;
        }

        boolean switchPending() {
            return switchAt != null && !switchSent;
        }

        /** The Ack to send after printing token {@code index}, or 0 if the last one sent still stands. */
        long afterPrinting(int index) {
            long consumed = index + 1L;
            if (switchPending()) consumed = Math.min(consumed, holdAt);
            if (consumed <= acked) return 0;
            acked = consumed;
            return consumed;
        }
    }
}
