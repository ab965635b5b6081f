package io.headgate.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.headgate.api.v1.Ack;
import io.headgate.api.v1.DenoisingStep;
import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionFinished;
import io.headgate.api.v1.DiffusionGrpc;
import io.headgate.api.v1.DiffusionRequest;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.Guidance;
import io.headgate.api.v1.Preview;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.client.ClientOptions.UsageException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code headgate image}: one Diffusion.Generate call. Prints a line per denoising step on stderr,
 * marks where a switch took effect, and saves the image as PNG (and, if asked, the previews).
 * {@code --switch-at K --to REF} holds the acknowledgements so that step K+1 is the first computed
 * under REF, as {@code generate} does for tokens.
 */
final class ImageCommand {

    static final String USAGE = """
            usage: headgate image [--model digits-dit] (--label N | --unconditional) --out FILE.png
                                  [--seed S] [--steps N] [--cfg W] [--pag S] [--adaptive A] [--profile REF]
                                  [--switch-at STEP --to REF] [--preview-every N --previews DIR] [--scale K]

            Draws one image with a diffusion model and saves it as PNG; one line per denoising step on stderr.
              --label N            the class to draw (0 .. classes - 1); or --unconditional
              --seed S             the initial noise: the same seed gives the same image      default: random
              --steps N            denoising steps                                             default: the model's
              --cfg W              classifier-free guidance scale (<= 1 is off)                default: the model's
              --pag S              perturbation-guidance scale on the profile's mixed heads    default: the model's
              --adaptive A         perturbation scale decay as t falls                         default 0
              --profile REF        steering (e.g. pag-l0, which mixes layer 0's heads)         default identity
              --switch-at STEP     after step STEP arrives, switch to --to REF before acknowledging it, so steps
              --to REF             STEP+1 onwards are computed under REF
              --preview-every N    a preview of the clean-image estimate every N steps, saved as DIR/step-NN.png
              --previews DIR
              --scale K            save the image (and previews) K times larger, nearest neighbour  default 1
              --out FILE.png       where to save the image
              --target HOST:PORT   the gateway                                                 default localhost:8080""";

    private static final Set<String> OPTIONS = Set.of("--target", "--model", "--label", "--seed", "--steps", "--cfg", "--pag", "--adaptive",
            "--profile", "--switch-at", "--to", "--preview-every", "--previews", "--scale", "--out");
    private static final Set<String> FLAGS = Set.of("--unconditional");

    private ImageCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws UsageException, IOException {
        CommandLine c = CommandLine.parse(args, OPTIONS, FLAGS);
        if (!c.positional().isEmpty()) throw new UsageException("unexpected argument '" + c.positional().getFirst() + "'");
        DiffusionStart.Builder start = DiffusionStart.newBuilder().setModel(c.option("--model", "digits-dit"))
                .setSteps(c.integer("--steps", 0, 0, Integer.MAX_VALUE));
        if (c.has("--label") == c.flag("--unconditional")) throw new UsageException("give --label N or --unconditional");
        if (c.has("--label")) start.setLabel(c.integer("--label", 0, 0, Integer.MAX_VALUE));
        else start.setUnconditional(true);
        if (c.unsigned("--seed") != null) start.setSeed(c.unsigned("--seed"));
        Guidance.Builder guidance = Guidance.newBuilder();
        if (c.has("--cfg")) guidance.setCfgScale(c.number("--cfg", 0, Float.MAX_VALUE));
        if (c.has("--pag")) guidance.setPerturbationScale(c.number("--pag", 0, Float.MAX_VALUE));
        if (c.has("--adaptive")) guidance.setAdaptiveScale(c.number("--adaptive", 0, Float.MAX_VALUE));
        if (guidance.hasCfgScale() || guidance.hasPerturbationScale() || guidance.hasAdaptiveScale()) start.setGuidance(guidance);
        if (c.has("--profile")) start.setSteering(Steering.newBuilder().setProfile(c.required("--profile")));
        Integer switchAt = c.has("--switch-at") ? c.integer("--switch-at", 0, 0, Integer.MAX_VALUE) : null;
        String switchTo = c.option("--to", null);
        if ((switchAt == null) != (switchTo == null)) throw new UsageException("--switch-at and --to go together");
        int every = c.integer("--preview-every", 0, 0, Integer.MAX_VALUE);
        Path previews = c.has("--previews") ? Path.of(c.required("--previews")) : null;
        if ((every > 0) != (previews != null)) throw new UsageException("--preview-every and --previews go together");
        if (every > 0) start.setPreview(Preview.newBuilder().setEvery(every).setFormat(Preview.Format.PNG));
        int scale = c.integer("--scale", 1, 1, 256);
        Path output = Path.of(c.required("--out"));
        // with a switch, the server may run only up to the switch step before it has the Steer
        int credit = switchAt == null ? 0 : switchAt + 1;
        start.setCreditWindow(credit);
        if (previews != null) Files.createDirectories(previews);

        try (Gateway g = new Gateway(AdminCommands.target(c), null)) {
            Drawing d = new Drawing(new HeadgateClient.AckPlan(credit, switchAt), switchTo, previews, scale, err);
            DiffusionGrpc.newStub(g.channel()).generate(d);
            d.send(DiffusionRequest.newBuilder().setStart(start).build());
            DiffusionFinished finished = d.result.join();
            if (finished.getReason() != DiffusionFinished.Reason.COMPLETED) {
                err.println("error: the image was not completed: " + finished.getReason());
                return HeadgateClient.EXIT_ERROR;
            }
            write(finished.getImage().getPng().toByteArray(), scale, output);
            out.printf(Locale.ROOT, "wrote %s (%dx%d, seed %s, %d steps, %.3f s)%n", output, finished.getImage().getWidth() * scale,
                    finished.getImage().getHeight() * scale, Long.toUnsignedString(finished.getSeed()), finished.getSteps(), finished.getTotalSeconds());
            return HeadgateClient.EXIT_FINISHED;
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof io.grpc.StatusRuntimeException s) throw s;
            throw Status.fromThrowable(e.getCause()).asRuntimeException();
        }
    }

    /** The PNG as sent, or enlarged {@code scale} times with every pixel a square. */
    static void write(byte[] png, int scale, Path to) throws IOException {
        if (scale == 1) {
            Files.write(to, png);
            return;
        }
        BufferedImage in = ImageIO.read(new ByteArrayInputStream(png));
        BufferedImage big = new BufferedImage(in.getWidth() * scale, in.getHeight() * scale, in.getType() == 0 ? BufferedImage.TYPE_INT_RGB : in.getType());
        for (int y = 0; y < big.getHeight(); y++) {
            for (int x = 0; x < big.getWidth(); x++) big.setRGB(x, y, in.getRGB(x / scale, y / scale));
        }
        if (!ImageIO.write(big, "png", to.toFile())) throw new IOException("no PNG writer for " + to);
    }

    /** The call: prints steps, saves previews, acknowledges, sends the switch. */
    private static final class Drawing implements ClientResponseObserver<DiffusionRequest, DiffusionEvent> {
        final CompletableFuture<DiffusionFinished> result = new CompletableFuture<>();
        private final HeadgateClient.AckPlan acks;
        private final String switchTo;
        private final Path previews;
        private final int scale;
        private final PrintStream err;
        private ClientCallStreamObserver<DiffusionRequest> requests;

        Drawing(HeadgateClient.AckPlan acks, String switchTo, Path previews, int scale, PrintStream err) {
            this.acks = acks;
            this.switchTo = switchTo;
            this.previews = previews;
            this.scale = scale;
            this.err = err;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<DiffusionRequest> requests) {
            this.requests = requests;
        }

        synchronized void send(DiffusionRequest r) {
            if (!result.isDone()) requests.onNext(r);
        }

        @Override
        public void onNext(DiffusionEvent e) {
            switch (e.getKindCase()) {
                case STARTED -> err.println("started: stream " + e.getStarted().getStreamId() + ", steering " + EventPrinter.tag(e.getStarted().getSteering())
                        + (e.getStarted().getArm().equals("none") || e.getStarted().getArm().isEmpty() ? "" : ", arm " + e.getStarted().getArm()));
                case STEP -> step(e.getStep());
                case STEERING_APPLIED -> err.println("→ now " + EventPrinter.tag(e.getSteeringApplied().getSteering()) + " from step "
                        + e.getSteeringApplied().getFromIndex());
                case STEERING_REJECTED -> err.println("✗ steering rejected: " + e.getSteeringRejected().getField() + ": " + e.getSteeringRejected().getReason());
                case FINISHED -> {
                    synchronized (this) {
                        result.complete(e.getFinished());
                        requests.onCompleted();
                    }
                }
                case KIND_NOT_SET -> {
                }
            }
        }

        private void step(DenoisingStep s) {
            err.printf(Locale.ROOT, "step %d (%d of %d)  t %.3f→%.3f  %s  rows %d  cfg %.2f  pag %.2f%n", s.getIndex(), s.getIndex() + 1, s.getTotal(), s.getT(), s.getTNext(),
                    EventPrinter.tag(s.getSteering()), s.getRows(), s.getGuidance().getCfgScale(), s.getGuidance().getPerturbationScale());
            if (s.hasPreview() && previews != null && !s.getPreview().getPng().isEmpty()) {
                try {
                    write(s.getPreview().getPng().toByteArray(), scale, previews.resolve(String.format(Locale.ROOT, "step-%02d.png", s.getIndex())));
                } catch (IOException ex) {
                    err.println("could not save the preview of step " + s.getIndex() + ": " + ex.getMessage());
                }
            }
            if (acks.isSwitchPoint(s.getIndex())) {
                send(DiffusionRequest.newBuilder().setSteer(Steer.newBuilder().setSteering(Steering.newBuilder().setProfile(switchTo))).build());
            }
            long consumed = acks.afterPrinting(s.getIndex());
            if (consumed > 0) send(DiffusionRequest.newBuilder().setAck(Ack.newBuilder().setConsumed(consumed)).build());
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            result.completeExceptionally(Status.INTERNAL.withDescription("the server ended the call without a DiffusionFinished").asRuntimeException());
        }
    }
}
