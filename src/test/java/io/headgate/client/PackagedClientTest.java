package io.headgate.client;

import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.ForecastBatchRequest;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.Preview;
import io.headgate.api.v1.SeriesInput;
import io.headgate.api.v1.Start;
import io.headgate.server.ModelHost;
import io.headgate.web.GrpcReference;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The packaged client as users run it: {@code bin/headgate} starting {@code target/headgate-client.jar}
 * (built at process-classes, before the tests) in its own JVM against the gateway under test. What it
 * prints and writes is held to what a grpc-java client gets for the same requests.
 */
@QuarkusTest
class PackagedClientTest {

    static final Path LAUNCHER = Path.of("bin", "headgate");
    static final Path JAR = Path.of("target", "headgate-client.jar");
    static final Path AIR_PASSENGERS = Path.of("docs", "examples", "air-passengers.csv");

    @TestHTTPResource("/")
    URL base;

    @Inject
    ModelHost host;

    GrpcReference grpc;

    @TempDir
    Path dir;

    @BeforeEach
    void connect() throws InterruptedException {
        assertThat(JAR).as("the packaged client, built by ./mvnw package (process-classes)").isRegularFile();
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        grpc = new GrpcReference(base.getPort());
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        grpc.close();
    }

    record Run(int status, String out, String err) {
    }

    /** Runs {@code bin/headgate ARGS --target} this gateway, with the admin token in the environment or not. */
    Run headgate(String token, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--target", "localhost:" + base.getPort()));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("HEADGATE_JAVA_OPTS");
        if (token == null) pb.environment().remove(Gateway.TOKEN_VARIABLE);
        else pb.environment().put(Gateway.TOKEN_VARIABLE, token);
        Path out = dir.resolve("stdout"), err = dir.resolve("stderr");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bin/headgate " + String.join(" ", args) + " still running after 120 s; stderr: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /**
     * {@code generate --switch-at 2 --to pag-l1}: stdout is the text a gRPC client doing the same gets,
     * each token in order, with the marker of the new profile right before token 3.
     */
    @Test
    void tokensWithASwitchPrintExactlyWhatGrpcGives() throws Exception {
        String prompt = "{(<[()]([{=";
        Run run = headgate(null, "generate", "--model", "parens-lm", "--max-tokens", "20", "--switch-at", "2", "--to", "pag-l1", prompt);
        assertThat(run.status()).as(run.err()).isZero();

        List<GenerateEvent> reference = grpc.generate(Start.newBuilder().setModel("parens-lm").setText(prompt).setMaxTokens(20)
                .setCreditWindow(3).build(), 3, "pag-l1");
        StringBuilder expected = new StringBuilder("⟦identity@0⟧");
        for (GenerateEvent e : reference) {
            if (!e.hasToken()) continue;
            if (e.getToken().getIndex() == 3) expected.append("⟦pag-l1@1⟧");
            expected.append(e.getToken().getText());
        }
        expected.append(reference.getLast().getFinished().getText()).append('\n');
        assertThat(reference.stream().filter(GenerateEvent::hasToken).count()).isGreaterThan(3);
        assertThat(run.out()).isEqualTo(expected.toString());
        assertThat(run.err()).contains("→ now pag-l1@1 from token 3\n")
                .contains("finished: " + reference.getLast().getFinished().getReason());
    }

    /** {@code image}: the PNG saved is byte for byte the one a gRPC client gets, and every preview asked for is saved. */
    @Test
    void anImageIsSavedAsThePngTheServerSent() throws Exception {
        Path png = dir.resolve("three.png"), previews = dir.resolve("previews");
        Run run = headgate(null, "image", "--model", "digits-dit", "--label", "3", "--seed", "7", "--steps", "10",
                "--preview-every", "2", "--previews", previews.toString(), "--out", png.toString());
        assertThat(run.status()).as(run.err()).isZero();

        List<DiffusionEvent> reference = grpc.diffusion(DiffusionStart.newBuilder().setModel("digits-dit").setLabel(3).setSeed(7).setSteps(10).build());
        var finished = reference.getLast().getFinished();
        assertThat(Files.readAllBytes(png)).isEqualTo(finished.getImage().getPng().toByteArray());
        assertThat(run.out()).startsWith("wrote " + png + " (" + finished.getImage().getWidth() + "x" + finished.getImage().getHeight() + ", seed 7, 10 steps");
        assertThat(run.err().lines().filter(l -> l.startsWith("step ")).count()).isEqualTo(10);

        List<DiffusionEvent> withPreviews = grpc.diffusion(DiffusionStart.newBuilder().setModel("digits-dit").setLabel(3).setSeed(7).setSteps(10)
                .setPreview(Preview.newBuilder().setEvery(2).setFormat(Preview.Format.PNG)).build());
        List<String> expectedPreviews = new ArrayList<>();
        for (DiffusionEvent e : withPreviews) {
            if (e.hasStep() && e.getStep().hasPreview()) {
                String name = String.format("step-%02d.png", e.getStep().getIndex());
                expectedPreviews.add(name);
                assertThat(Files.readAllBytes(previews.resolve(name))).as(name).isEqualTo(e.getStep().getPreview().getPng().toByteArray());
            }
        }
        assertThat(expectedPreviews).isNotEmpty();
        try (var files = Files.list(previews)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).isEqualTo(expectedPreviews);
        }
    }

    /**
     * {@code forecast --csv}: the first 132 months are the history, the last 12 go back as actuals four
     * at a time; a forecast comes at every origin (132, 136, 140 and 144, past the data) equal to a
     * ForecastBatch of the same history, and the final score is the error of those forecasts against
     * the actuals that were sent.
     */
    @Test
    void aForecastFromACsvFeedsTheRestBackAsActuals() throws Exception {
        double[] series = Files.readAllLines(AIR_PASSENGERS).stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
        assertThat(series).hasSize(144);
        Path forecasts = dir.resolve("forecasts.csv");
        Run run = headgate(null, "forecast", "--csv", AIR_PASSENGERS.toString(), "--column", "passengers", "--history", "132", "--horizon", "12",
                "--every", "4", "--frequency", "monthly", "--out", forecasts.toString());
        assertThat(run.status()).as(run.err()).isZero();

        // origin -> the identity medians, step by step, as the client wrote them
        Map<Integer, double[]> medians = new TreeMap<>();
        List<String> rows = Files.readAllLines(forecasts);
        assertThat(rows.getFirst()).isEqualTo("origin,step,index,profile,median,low,high");
        for (String row : rows.subList(1, rows.size())) {
            String[] c = row.split(",");
            if (!c[3].equals("identity")) continue;
            int origin = Integer.parseInt(c[0]), step = Integer.parseInt(c[1]);
            assertThat(Integer.parseInt(c[2])).isEqualTo(origin + step - 1);
            double low = Double.parseDouble(c[5]), median = Double.parseDouble(c[4]), high = Double.parseDouble(c[6]);
            assertThat(low).isLessThanOrEqualTo(median);
            assertThat(high).isGreaterThanOrEqualTo(median);
            medians.computeIfAbsent(origin, o -> new double[12])[step - 1] = median;
        }
        assertThat(medians.keySet()).containsExactly(132, 136, 140, 144);

        double absoluteErrors = 0;
        int scored = 0;
        for (var e : medians.entrySet()) {
            int origin = e.getKey();
            var batch = grpc.forecaster().forecastBatch(ForecastBatchRequest.newBuilder().setModel("series-tsfm").addSeries(SeriesInput.newBuilder()
                    .addAllContext(Arrays.stream(series, 0, origin).boxed().toList()).setHorizon(12).setFrequency("monthly")).build());
            List<Double> want = batch.getSeries(0).getForecast().getMedianList();
            for (int i = 0; i < 12; i++) {
                assertThat(e.getValue()[i]).as("origin %d step %d", origin, i + 1).isCloseTo(want.get(i), within(1e-6 * Math.abs(want.get(i))));
                if (origin + i < series.length) {
                    absoluteErrors += Math.abs(series[origin + i] - e.getValue()[i]);
                    scored++;
                }
            }
        }
        assertThat(scored).isEqualTo(12 + 8 + 4);
        assertThat(run.out()).contains("finished: CLOSED, 12 actuals, 4 forecasts");
        assertThat(run.out().lines().filter(l -> l.startsWith("actual ")).count()).as("a score per Observe").isEqualTo(3);
        Matcher identity = Pattern.compile("(?m)^identity +(\\d+) +(\\S+) ").matcher(run.out());
        assertThat(identity.find()).as(run.out()).isTrue();
        assertThat(Integer.parseInt(identity.group(1))).isEqualTo(scored);
        double mae = absoluteErrors / scored;
        assertThat(Double.parseDouble(identity.group(2))).as("MAE, printed to 4 significant digits").isCloseTo(mae, within(mae * 1e-3));
    }

    /** {@code profiles put}: refused without HEADGATE_ADMIN_TOKEN (nothing written), written with it. */
    @Test
    void adminCallsTakeTheTokenFromTheEnvironment() throws Exception {
        String name = "cli-" + Long.toHexString(System.nanoTime());
        Path spec = dir.resolve("spec.json");
        Files.writeString(spec, "{\"description\": \"from the CLI test\", \"gains\": [{\"layer\": 2, \"head\": 1, \"gain\": 0.5}]}");

        Run refused = headgate(null, "profiles", "put", "--model", "parens-lm", name, spec.toString());
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).startsWith("error: UNAUTHENTICATED: ").contains("set HEADGATE_ADMIN_TOKEN");
        Run listed = headgate(null, "profiles", "list", "--model", "parens-lm");
        assertThat(listed.status()).isEqualTo(1);

        Run written = headgate(GrpcReference.ADMIN_TOKEN, "profiles", "put", "--model", "parens-lm", name, spec.toString());
        assertThat(written.status()).as(written.err()).isZero();
        assertThat(written.out()).isEqualTo("parens-lm " + name + "@1\n");
        var stored = grpc.admin().get(GetProfileRequest.newBuilder().setModel("parens-lm").setName(name).build());
        assertThat(stored.getSpec().getDescription()).isEqualTo("from the CLI test");
        assertThat(stored.getSpec().getGainsList()).containsExactly(HeadGain.newBuilder().setLayer(2).setHead(1).setGain(0.5f).build());

        Run table = headgate(GrpcReference.ADMIN_TOKEN, "profiles", "list", "--model", "parens-lm");
        assertThat(table.status()).as(table.err()).isZero();
        assertThat(table.out().lines().filter(l -> l.matches("parens-lm +" + name + " +1 .*from the CLI test"))).hasSize(1);
    }
}
