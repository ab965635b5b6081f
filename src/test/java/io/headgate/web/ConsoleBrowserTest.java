package io.headgate.web;

import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.ForecastBatchRequest;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.Preview;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.api.v1.ScanEvent;
import io.headgate.api.v1.ScanRequest;
import io.headgate.api.v1.SeriesInput;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.Token;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlRow;
import io.headgate.server.ModelHost;
import io.headgate.steer.HeadBias;
import io.headgate.steer.HeadGain;
import io.headgate.steer.HeadMix;
import io.headgate.steer.ProfileCompiler;
import io.headgate.steer.ProfileSpec;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

import java.math.BigDecimal;
import java.net.URL;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The console in a real headless Chromium, against the gateway under test: what the page shows is
 * checked against what a gRPC client gets for the same request (tokens, images, forecasts, scan
 * tables) or what the server compiles (a profile's heatmap). A failure leaves a screenshot and the
 * page's HTML under target/console-screenshots.
 */
@QuarkusTest
class ConsoleBrowserTest {

    static final String PROMPT = "{(<[()]([{=";

    static Browser browser;

    @RegisterExtension
    static final Browser.ScreenshotOnFailure SCREENSHOTS = new Browser.ScreenshotOnFailure(() -> browser);

    @TestHTTPResource("/")
    URL base;

    @Inject
    ModelHost host;

    GrpcReference grpc;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) browser.close();
    }

    @BeforeEach
    void connect() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        grpc = new GrpcReference(base.getPort());
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        grpc.close();
    }

    void open(String view) {
        browser.open(base + "#" + view);
    }

    /**
     * Paused after token 5 (the page holds its acks back within a credit window), switched to
     * pag-l1 and resumed: the marker sits right before token 6, every token before it was computed
     * under identity and every token after under pag-l1@1, exactly the tokens a gRPC client doing
     * the same gets; hovering a token shows its profile, revision, log-prob and KL.
     */
    @Test
    void aSwitchMidStreamIsMarkedAtTheTokenItTookEffectFrom() {
        open("stream");
        browser.choose("stream-model", "parens-lm");
        browser.type("stream-prompt", PROMPT);
        browser.type("stream-max-tokens", "24");
        browser.check("stream-ignore-eos", true);
        browser.check("stream-shadow", true);
        browser.type("stream-credit", "4");
        browser.type("stream-pause-at", "5");
        browser.click("stream-start");
        browser.untilText("stream-status", "paused after token 5");
        assertThat(browser.all("#tokens .token")).as("the server stops at the pause").hasSize(6);

        browser.type("switch-profile", "pag-l1");
        browser.click("switch-apply");
        browser.untilText("stream-status", "asked for pag-l1");
        browser.click("stream-resume");
        browser.untilText("stream-status", "finished: MAX_TOKENS");

        List<WebElement> markers = browser.all("#tokens .marker");
        assertThat(markers).hasSize(1);
        WebElement marker = markers.getFirst();
        assertThat(marker.getDomAttribute("data-from-index")).isEqualTo("6");
        assertThat(marker.getText()).isEqualTo("⟦pag-l1@1⟧");
        WebElement after = (WebElement) browser.js("return arguments[0].nextElementSibling", marker);
        WebElement before = (WebElement) browser.js("return arguments[0].previousElementSibling", marker);
        assertThat(after.getDomAttribute("data-index")).isEqualTo("6");
        assertThat(before.getDomAttribute("data-index")).isEqualTo("5");

        List<GenerateEvent> reference = grpc.generate(Start.newBuilder().setModel("parens-lm").setText(PROMPT).setMaxTokens(24)
                .setIgnoreEos(true).setShadow(true).setCreditWindow(6).build(), 6, "pag-l1");
        List<Token> expected = reference.stream().filter(GenerateEvent::hasToken).map(GenerateEvent::getToken).toList();
        List<WebElement> tokens = browser.all("#tokens .token");
        assertThat(tokens).hasSize(expected.size());
        for (int i = 0; i < tokens.size(); i++) {
            WebElement t = tokens.get(i);
            Token e = expected.get(i);
            assertThat(t.getDomAttribute("data-index")).isEqualTo(String.valueOf(i));
            assertThat(t.getDomAttribute("data-profile")).as("token %d", i).isEqualTo(i < 6 ? "identity" : "pag-l1");
            assertThat(t.getDomAttribute("data-revision")).as("token %d", i).isEqualTo(i < 6 ? "0" : "1");
            assertThat(Long.parseLong(t.getDomAttribute("data-id"))).as("token %d", i).isEqualTo(e.getId());
            assertThat(Float.parseFloat(t.getDomAttribute("data-logprob"))).as("token %d", i).isCloseTo(e.getLogprob(), within(1e-5f));
            assertThat(Double.parseDouble(t.getDomAttribute("data-kl"))).as("token %d", i).isCloseTo(e.getEffect().getKl(), within(1e-5));
        }
        assertThat(expected.subList(6, expected.size())).anySatisfy(t -> assertThat(t.getEffect().getKl()).isGreaterThan(0.01));

        // hover the token the switch changed most (a visible one): its tip tells profile, revision, log-prob and KL
        int most = 6;
        for (int i = 6; i < expected.size(); i++) {
            if (!expected.get(i).getText().isEmpty() && expected.get(i).getEffect().getKl() > expected.get(most).getEffect().getKl()) most = i;
        }
        new Actions(browser.driver).moveToElement(tokens.get(most)).perform();
        String tip = browser.until(d -> {
            WebElement e = d.findElement(By.id("token-tip"));
            return e.isDisplayed() ? e.getText() : null;
        });
        assertThat(tip).startsWith("token " + most + " (id " + expected.get(most).getId() + ")").contains("\nprofile pag-l1@1\n");
        var numbers = java.util.regex.Pattern.compile("log-prob (-?[0-9.]+)\nKL ([0-9.]+) nats").matcher(tip);
        assertThat(numbers.find()).as(tip).isTrue();
        assertThat(Double.parseDouble(numbers.group(1))).isCloseTo(expected.get(most).getLogprob(), within(6e-5));
        assertThat(Double.parseDouble(numbers.group(2))).isCloseTo(expected.get(most).getEffect().getKl(), within(6e-5));
    }

    /** A profile's heatmaps show, cell by cell, the controls the server compiles from it. */
    @Test
    void aProfilesHeatmapShowsTheCompiledControlsAndSavingNeedsTheToken() {
        String name = "console-heat-" + Long.toHexString(System.nanoTime());
        float[] bias = new float[host.entry("parens-lm").model().manifest().dimensions().headDim()];
        bias[0] = 3;
        bias[1] = 4;
        ProfileSpec spec = new ProfileSpec("heatmap test", List.of(new HeadGain(-1, 2, 0.5f), new HeadGain(1, -1, 0), new HeadGain(3, 5, 1.75f)),
                List.of(new HeadBias(0, 1, bias)), List.of(new HeadMix(2, 7, 0.25f)));
        var proto = io.headgate.api.v1.ProfileSpec.newBuilder().setDescription(spec.description());
        spec.gains().forEach(g -> proto.addGains(io.headgate.api.v1.HeadGain.newBuilder().setLayer(g.layer()).setHead(g.head()).setGain(g.gain())));
        var b = io.headgate.api.v1.HeadBias.newBuilder().setLayer(0).setHead(1);
        for (float f : bias) b.addVector(f);
        proto.addBiases(b);
        proto.addMixes(io.headgate.api.v1.HeadMix.newBuilder().setLayer(2).setHead(7).setMix(0.25f));
        grpc.admin().put(PutProfileRequest.newBuilder().setModel("parens-lm").setName(name).setSpec(proto).build());

        open("profiles");
        browser.type("admin-token", GrpcReference.ADMIN_TOKEN);
        browser.choose("profiles-model", "parens-lm");
        browser.click("profiles-load");
        browser.until(d -> d.findElements(By.cssSelector("#profiles-list button[data-profile='" + name + "']")).size() == 1);
        browser.click(By.cssSelector("#profiles-list button[data-profile='" + name + "']"));
        browser.untilText("profiles-status", name + "@1");

        BundleManifest.Dimensions dims = host.entry("parens-lm").model().manifest().dimensions();
        ControlRow compiled = ProfileCompiler.compile(spec, dims);
        float[] biasNorm = new float[dims.layers() * dims.heads()];
        for (int i = 0; i < biasNorm.length; i++) {
            double s = 0;
            for (int d = 0; d < dims.headDim(); d++) s += Math.pow(compiled.bias()[i * dims.headDim() + d], 2);
            biasNorm[i] = (float) Math.sqrt(s);
        }
        checkCells("heatmap-gain", dims, compiled.gain());
        checkCells("heatmap-mix", dims, compiled.mix());
        checkCells("heatmap-bias", dims, biasNorm);

        // edit one head, then try to save without the admin token: refused in the page, nothing written
        browser.click(By.cssSelector("#heatmap-gain td[data-layer='0'][data-head='0']"));
        browser.type("cell-editor-value", "0.3");
        browser.click("cell-editor-ok");
        browser.untilText("profiles-status", "not saved");
        assertThat(browser.driver.findElement(By.cssSelector("#heatmap-gain td[data-layer='0'][data-head='0']")).getDomAttribute("data-value")).isEqualTo("0.3");
        browser.type("admin-token", "");
        browser.click("profile-save");
        String refusal = browser.untilText("profiles-status", "not saved: ");
        assertThat(refusal).isEqualTo("not saved: UNAUTHENTICATED: authorization: send 'Bearer <admin token>'");
        assertThat(browser.byId("profiles-status").getDomAttribute("class")).contains("error");
        assertThat(grpc.admin().get(GetProfileRequest.newBuilder().setModel("parens-lm").setName(name).build()).getRevision()).isEqualTo(1);

        browser.type("admin-token", GrpcReference.ADMIN_TOKEN);
        browser.click("profile-save");
        browser.untilText("profiles-status", "saved " + name + "@2");
        var saved = grpc.admin().get(GetProfileRequest.newBuilder().setModel("parens-lm").setName(name).build());
        assertThat(saved.getRevision()).isEqualTo(2);
        assertThat(saved.getSpec().getGainsList().getLast()).isEqualTo(io.headgate.api.v1.HeadGain.newBuilder().setLayer(0).setHead(0).setGain(0.3f).build());
    }

    private void checkCells(String id, BundleManifest.Dimensions dims, float[] expected) {
        List<WebElement> cells = browser.all("#" + id + " td");
        assertThat(cells).hasSize(dims.layers() * dims.heads());
        for (WebElement cell : cells) {
            int l = Integer.parseInt(cell.getDomAttribute("data-layer")), h = Integer.parseInt(cell.getDomAttribute("data-head"));
            float want = expected[l * dims.heads() + h];
            assertThat(Float.parseFloat(cell.getDomAttribute("data-value"))).as("%s layer %d head %d", id, l, h).isEqualTo(want);
            assertThat(cell.getText()).as("%s layer %d head %d", id, l, h).isEqualTo(BigDecimal.valueOf(want).stripTrailingZeros().toPlainString());
        }
    }

    /** A short scan's progress and its tables: every head's attribution and class as a gRPC scan gives them. */
    @Test
    void aShortScanShowsItsTable() {
        open("discovery");
        browser.choose("scan-model", "parens-lm");
        browser.choose("scan-builtin", "brackets");
        browser.type("scan-limit", "8");
        browser.click("scan-run");
        browser.untilText("scan-progress", "done: 8 examples");
        assertThat(browser.byId("scan-summary").getText()).contains("8 examples");

        var events = new ArrayList<ScanEvent>();
        grpc.discovery().scan(ScanRequest.newBuilder().setModel("parens-lm").setBuiltin("brackets").setLimit(8)
                .setSteering(Steering.newBuilder().setProfile("identity")).setSoundThreshold(0.8f).build()).forEachRemaining(events::add);
        var result = events.getLast().getResult();
        List<WebElement> attribution = browser.all("#scan-attribution td");
        List<WebElement> classes = browser.all("#scan-classes td");
        assertThat(attribution).hasSize(result.getLayers() * result.getHeads());
        assertThat(classes).hasSize(result.getLayers() * result.getHeads());
        for (int i = 0; i < attribution.size(); i++) {
            WebElement a = attribution.get(i);
            int l = Integer.parseInt(a.getDomAttribute("data-layer")), h = Integer.parseInt(a.getDomAttribute("data-head"));
            int k = l * result.getHeads() + h;
            assertThat(Double.parseDouble(a.getDomAttribute("data-value"))).as("layer %d head %d", l, h).isCloseTo(result.getAttributionMean(k), within(1e-9));
            assertThat(classes.get(i).getDomAttribute("data-class")).isEqualTo(result.getClasses(k).name());
            assertThat(classes.get(i).getText()).isEqualTo(switch (result.getClasses(k)) {
                case SOUND -> "S";
                case INTERFERING -> "I";
                default -> "·";
            });
        }
    }

    /** The console's default search on the forecaster: its picks, each head's score alone and the held-out table, as a gRPC search gives them. */
    @Test
    void aSearchShowsEachHeadAloneAndItsHeldOutReport() {
        open("discovery");
        browser.choose("search-model", "series-tsfm");
        browser.click("search-run");
        browser.untilText("search-progress", "done (");

        var request = io.headgate.api.v1.SearchRequest.newBuilder().setModel("series-tsfm").setRounds(2).setRandomSets(2).setSeed(1).setGain(0)
                .setMaxLoss(1).setWindows(io.headgate.api.v1.WindowObjective.newBuilder().setMetric("relative_mase").setDevPerFrequency(3)
                        .setHeldOutPerFrequency(3)).build();
        var events = new ArrayList<io.headgate.api.v1.SearchEvent>();
        grpc.discovery().search(request).forEachRemaining(events::add);
        var result = events.getLast().getResult();
        String chosen = result.getPicksList().stream().map(p -> "L" + p.getUnit().getLayer() + "H" + p.getUnit().getHead())
                .collect(java.util.stream.Collectors.joining(" "));
        assertThat(browser.byId("search-summary").getText()).contains("chose " + chosen);
        List<WebElement> cells = browser.all("#search-first-round td");
        assertThat(cells).hasSize(result.getFirstRoundCount());
        double baseline = result.getDevBaseline().getScore().getValue();
        for (WebElement cell : cells) {
            int l = Integer.parseInt(cell.getDomAttribute("data-layer")), h = Integer.parseInt(cell.getDomAttribute("data-head"));
            var alone = result.getFirstRoundList().stream().filter(p -> p.getUnit().getLayer() == l && p.getUnit().getHead() == h).findFirst().orElseThrow();
            // relative MASE is lower-is-better: the map shows the improvement, baseline minus the head's score
            assertThat(Double.parseDouble(cell.getDomAttribute("data-value"))).as("layer %d head %d", l, h)
                    .isCloseTo(baseline - alone.getDevScore(), within(1e-9));
        }
        // baseline, the choice, two random sets
        assertThat(browser.all("#search-table tbody tr")).hasSize(4);
        assertThat(browser.all("#search-table tbody tr").get(1).getText()).startsWith("search: " + chosen);
    }

    /** An image's denoising steps appear with previews, then the image: the very PNG a gRPC client gets. */
    @Test
    void aDiffusionImageAppears() {
        open("stream");
        browser.choose("stream-model", "digits-dit");
        browser.choose("diffusion-label", "3");
        browser.type("diffusion-seed", "7");
        browser.type("diffusion-steps", "10");
        browser.type("diffusion-preview-every", "2");
        browser.type("stream-profile", "identity");
        browser.click("stream-start");
        browser.untilText("stream-status", "finished: COMPLETED");
        WebElement image = browser.byId("diffusion-final");
        assertThat(image.isDisplayed()).isTrue();
        String src = image.getDomAttribute("src");
        assertThat(src).startsWith("data:image/png;base64,");
        assertThat(((Number) browser.js("return arguments[0].naturalWidth", image)).intValue()).isPositive();

        List<DiffusionEvent> reference = grpc.diffusion(DiffusionStart.newBuilder().setModel("digits-dit").setLabel(3).setSeed(7).setSteps(10)
                .setPreview(Preview.newBuilder().setEvery(2).setScale(8)).build());
        byte[] png = reference.getLast().getFinished().getImage().getPng().toByteArray();
        assertThat(Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1))).isEqualTo(png);
        long previews = reference.stream().filter(e -> e.hasStep() && e.getStep().hasPreview()).count();
        assertThat(browser.all("#diffusion-strip img")).hasSize((int) previews);
    }

    /**
     * A forecast of the page's history shows a band per compared profile and the median a gRPC
     * ForecastBatch gives; an actual sent from the page is drawn and scored.
     */
    @Test
    void aForecastBandRendersAndAnActualIsScored() {
        open("stream");
        browser.choose("stream-model", "series-tsfm");
        browser.type("forecast-holdback", "24");
        browser.type("forecast-horizon", "12");
        browser.choose("forecast-frequency", "monthly");
        browser.type("forecast-compare", "prune-2");
        browser.type("stream-profile", "identity");
        double[] all = Arrays.stream(browser.byId("forecast-history").getDomProperty("value").trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
        double[] history = Arrays.copyOf(all, all.length - 24);
        browser.click("stream-start");
        browser.until(d -> d.findElements(By.cssSelector("#forecast-chart path.band")).size() == 2);

        var batch = grpc.forecaster().forecastBatch(ForecastBatchRequest.newBuilder().setModel("series-tsfm")
                .addSeries(SeriesInput.newBuilder().addAllContext(Arrays.stream(history).boxed().toList()).setHorizon(12).setFrequency("monthly")).build());
        List<Double> median = batch.getSeries(0).getForecast().getMedianList();
        WebElement band = browser.driver.findElement(By.cssSelector("#forecast-chart path.band[data-profile='identity']"));
        assertThat(band.getDomAttribute("data-origin")).isEqualTo(String.valueOf(history.length));
        double[] low = numbers(band.getDomAttribute("data-low")), high = numbers(band.getDomAttribute("data-high"));
        double[] shown = numbers(browser.driver.findElement(By.cssSelector("#forecast-chart path.median[data-profile='identity']")).getDomAttribute("data-values"));
        assertThat(shown).hasSize(12);
        for (int i = 0; i < 12; i++) {
            assertThat(shown[i]).as("step %d", i).isCloseTo(median.get(i), within(1e-6 * Math.abs(median.get(i))));
            assertThat(low[i]).isLessThanOrEqualTo(shown[i]);
            assertThat(high[i]).isGreaterThanOrEqualTo(shown[i]);
        }
        assertThat(browser.all("#forecast-chart path.band[data-profile='prune-2']")).hasSize(1);

        browser.click("forecast-send-next");
        browser.until(d -> d.findElements(By.cssSelector("#forecast-scores tr[data-profile='identity']")).size() == 1);
        assertThat(browser.all("#forecast-chart circle.actual")).hasSize(1);
        WebElement mae = browser.driver.findElement(By.cssSelector("#forecast-scores tr[data-profile='identity'] td[data-col='mae']"));
        WebElement steps = browser.driver.findElement(By.cssSelector("#forecast-scores tr[data-profile='identity'] td[data-col='steps']"));
        assertThat(steps.getText()).isEqualTo("1");
        assertThat(Double.parseDouble(mae.getDomAttribute("data-value"))).isCloseTo(Math.abs(all[history.length] - shown[0]), within(1e-9));
    }

    /** Profiles side by side on one prompt: each column is the text a gRPC client gets under that profile. */
    @Test
    void profilesRunSideBySideOnTheSamePrompt() {
        open("experiments");
        browser.choose("ab-model", "parens-lm");
        browser.type("ab-prompt", PROMPT);
        browser.type("ab-profiles", "identity, ablate-l3");
        browser.type("ab-temperature", "0");
        browser.type("ab-max-tokens", "12");
        browser.click("ab-run");
        browser.until(d -> d.findElements(By.cssSelector(".arm-column[data-finished]")).size() == 2);
        for (String profile : List.of("identity", "ablate-l3")) {
            List<GenerateEvent> reference = grpc.generate(Start.newBuilder().setModel("parens-lm").setText(PROMPT).setMaxTokens(12)
                    .setSteering(Steering.newBuilder().setProfile(profile)).build(), 0, null);
            StringBuilder text = new StringBuilder();
            reference.stream().filter(GenerateEvent::hasToken).forEach(e -> text.append(e.getToken().getText()));
            text.append(reference.getLast().getFinished().getText());
            WebElement column = browser.driver.findElement(By.cssSelector(".arm-column[data-profile='" + profile + "']"));
            assertThat(column.getDomAttribute("data-text")).as(profile).isEqualTo(text.toString());
        }
    }

    private static double[] numbers(String json) {
        return Arrays.stream(json.replaceAll("[\\[\\]]", "").split(",")).mapToDouble(Double::parseDouble).toArray();
    }
}
