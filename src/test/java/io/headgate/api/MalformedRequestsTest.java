package io.headgate.api;

import io.grpc.Status;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.HeadBias;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.HeadMix;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.Sampling;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.TokenIds;
import io.headgate.testing.GrpcStream;
import io.quarkus.test.junit.QuarkusTest;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Malformed and out-of-order requests: each fails its call with the expected status and a message
 * naming the field, and the gateway keeps serving.
 */
@QuarkusTest
class MalformedRequestsTest extends GatewayTestBase {

    /** A request sequence refused with {@code code}, the description starting with {@code field: } and containing {@code fragment}. */
    record Case(String name, List<GenerateRequest> requests, Status.Code code, String field, String fragment) {
        @Override
        public String toString() {
            return name;
        }
    }

    static GenerateRequest req(Start.Builder s) {
        return GenerateRequest.newBuilder().setStart(s).build();
    }

    static Start.Builder ok() {
        return Start.newBuilder().setModel(MODEL).setText("([{<=");
    }

    static Start.Builder inline(ProfileSpec.Builder spec) {
        return ok().setSteering(Steering.newBuilder().setInline(spec));
    }

    static Case c(String name, Status.Code code, String field, String fragment, GenerateRequest... requests) {
        return new Case(name, List.of(requests), code, field, fragment);
    }

    static Stream<Case> cases() {
        GenerateRequest steer = GenerateRequest.newBuilder().setSteer(Steer.newBuilder().setSteering(Steering.newBuilder().setProfile("pag-l1"))).build();
        GenerateRequest ack = GenerateRequest.newBuilder().setAck(io.headgate.api.v1.Ack.newBuilder().setConsumed(1)).build();
        var INVALID = Status.Code.INVALID_ARGUMENT;
        var NOT_FOUND = Status.Code.NOT_FOUND;
        var PRECONDITION = Status.Code.FAILED_PRECONDITION;
        return Stream.of(
                c("empty request", INVALID, "request", "set one of start", GenerateRequest.getDefaultInstance()),
                c("no model", INVALID, "start.model", "required", req(ok().clearModel())),
                c("unknown model", NOT_FOUND, "start.model", "no model 'gpt-9'", req(ok().setModel("gpt-9"))),
                c("no prompt", INVALID, "start.prompt", "set text or token_ids", req(Start.newBuilder().setModel(MODEL))),
                c("empty text", INVALID, "start.prompt.text", "empty", req(ok().setText(""))),
                c("characters the tokenizer cannot encode", INVALID, "start.prompt.text", "the tokenizer cannot encode 'xy'", req(ok().setText("(x[y"))),
                c("empty token ids", INVALID, "start.prompt.token_ids", "empty", req(ok().setTokenIds(TokenIds.getDefaultInstance()))),
                c("token id past the vocabulary", INVALID, "start.prompt.token_ids[1]", "23 is outside",
                        req(ok().setTokenIds(TokenIds.newBuilder().addIds(1).addIds(23)))),
                c("negative token id", INVALID, "start.prompt.token_ids[0]", "", req(ok().setTokenIds(TokenIds.newBuilder().addIds(-4)))),
                c("prompt longer than the model allows", INVALID, "start.prompt", "71 tokens", req(ok().setText("(".repeat(70)))),
                c("max tokens past the limit", INVALID, "start.max_tokens", "", req(ok().setMaxTokens(100_000))),
                c("max tokens 4294967295, read unsigned", INVALID, "start.max_tokens", "4294967295 exceeds the limit of 4096", req(ok().setMaxTokens(-1))),
                c("5,000 characters of ( (past the tokenizer's default truncation at 512)", INVALID, "start.prompt",
                        "5001 tokens; model 'parens-lm' accepts at most 63", req(ok().setText("(".repeat(5000)))),
                c("negative temperature", INVALID, "start.sampling.temperature", "", req(ok().setSampling(Sampling.newBuilder().setTemperature(-1)))),
                c("NaN temperature", INVALID, "start.sampling.temperature", "", req(ok().setSampling(Sampling.newBuilder().setTemperature(Float.NaN)))),
                c("top_p above one", INVALID, "start.sampling.top_p", "", req(ok().setSampling(Sampling.newBuilder().setTopP(1.5f)))),
                c("empty stop string", INVALID, "start.stop[0]", "empty", req(ok().addStop(""))),
                c("too many stop strings", INVALID, "start.stop", "17 stop strings", req(ok().addAllStop(java.util.Collections.nCopies(17, ")")))),
                c("unknown profile", NOT_FOUND, "start.steering.profile", "no profile 'nope'", req(ok().setSteering(Steering.newBuilder().setProfile("nope")))),
                c("unknown revision", NOT_FOUND, "start.steering.profile", "profile 'pag-l1' of model 'parens-lm' has no revision 999",
                        req(ok().setSteering(Steering.newBuilder().setProfile("pag-l1@999")))),
                c("malformed revision", INVALID, "start.steering.profile", "", req(ok().setSteering(Steering.newBuilder().setProfile("pag-l1@two")))),
                c("identity has only revision 0", NOT_FOUND, "start.steering.profile", "identity", req(ok().setSteering(Steering.newBuilder().setProfile("identity@3")))),
                c("empty steering", INVALID, "start.steering", "set profile or inline", req(ok().setSteering(Steering.getDefaultInstance()))),
                c("inline layer out of range", INVALID, "start.steering.inline.gains[0].layer", "",
                        req(inline(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(4).setHead(0).setGain(1))))),
                c("inline head out of range", INVALID, "start.steering.inline.gains[1].head", "",
                        req(inline(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(0).setHead(0).setGain(1))
                                .addGains(HeadGain.newBuilder().setLayer(0).setHead(-2).setGain(1))))),
                c("inline gain not finite", INVALID, "start.steering.inline.gains[0].gain", "",
                        req(inline(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(0).setHead(0).setGain(Float.POSITIVE_INFINITY))))),
                c("inline gain too large", INVALID, "start.steering.inline.gains[0].gain", "",
                        req(inline(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(0).setHead(0).setGain(1e6f))))),
                c("inline bias of the wrong length", INVALID, "start.steering.inline.biases[0].vector", "",
                        req(inline(ProfileSpec.newBuilder().addBiases(HeadBias.newBuilder().setLayer(0).setHead(0).addVector(0.5f))))),
                c("inline mix above one", INVALID, "start.steering.inline.mixes[0].mix", "",
                        req(inline(ProfileSpec.newBuilder().addMixes(HeadMix.newBuilder().setLayer(1).setHead(1).setMix(2f))))),
                c("steer before start", PRECONDITION, "steer", "send Start before Steer", steer),
                c("ack before start", PRECONDITION, "ack", "send Start before Ack", ack),
                c("a second start", PRECONDITION, "start", "this call has already started", req(ok().setCreditWindow(1)), req(ok())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithStatusAndField(Case c) throws Exception {
        Status status = run(c);
        assertThat(status.getCode()).as(String.valueOf(status.getDescription())).isEqualTo(c.code());
        assertThat(status.getDescription()).startsWith(c.field() + ": ").contains(c.fragment());
    }

    /** The whole table in one go, each case with its status and field, then a normal stream on the same gateway. */
    @Test
    void aTableOfAtLeastTwentyCasesEachNamingItsFieldThenANormalStream() throws Exception {
        List<Case> table = cases().toList();
        assertThat(table).hasSizeGreaterThanOrEqualTo(20);
        SoftAssertions softly = new SoftAssertions();
        for (Case c : table) {
            Status status = run(c);
            softly.assertThat(status.getCode()).as(c.name() + ": " + status.getDescription()).isEqualTo(c.code());
            softly.assertThat(status.getDescription()).as(c.name()).startsWith(c.field() + ": ");
        }
        softly.assertAll();

        var events = GrpcStream.start(generator, ok().build()).rest();
        assertThat(GrpcStream.tokens(events)).isNotEmpty();
        assertThat(events.getLast().getFinished().getReason()).isEqualTo(io.headgate.api.v1.Finished.Reason.EOS);
        var scheduler = model().model().scheduler();
        await("slots freed after the failed calls").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(scheduler.activeStreams()).isZero());
    }

    private Status run(Case c) throws InterruptedException {
        GrpcStream s = new GrpcStream(generator);
        c.requests().forEach(s::send);
        return s.status();
    }
}
