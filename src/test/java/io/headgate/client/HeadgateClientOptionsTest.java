package io.headgate.client;

import io.headgate.client.ClientOptions.Target;
import io.headgate.client.ClientOptions.UsageException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client's command line, parsed without a server. */
class HeadgateClientOptionsTest {

    @Test
    void defaults() throws Exception {
        ClientOptions o = ClientOptions.parse("([{=");
        assertThat(o.target()).isEqualTo(new Target("localhost", 8080));
        assertThat(o.model()).isEqualTo("parens-lm");
        assertThat(o.profile()).isNull();
        assertThat(o.maxTokens()).isZero();
        assertThat(o.sampling()).isFalse();
        assertThat(o.temperature()).isNull();
        assertThat(o.topK()).isNull();
        assertThat(o.topP()).isNull();
        assertThat(o.seed()).isNull();
        assertThat(o.stops()).isEmpty();
        assertThat(o.credit()).isEqualTo(4);
        assertThat(o.creditWindow()).isEqualTo(4);
        assertThat(o.switchAt()).isNull();
        assertThat(o.switchTo()).isNull();
        assertThat(o.reprefill()).isFalse();
        assertThat(o.interactive()).isFalse();
        assertThat(o.verbose()).isFalse();
        assertThat(o.prompt()).isEqualTo("([{=");
    }

    @Test
    void everyOption() throws Exception {
        ClientOptions o = ClientOptions.parse(
                "--target", "gateway.example:9001", "--model", "other-lm", "--profile", "pag-l1@2", "--max-tokens", "32",
                "--temperature", "0.7", "--top-k", "5", "--top-p", "0.9", "--seed", "18446744073709551615",
                "--stop", ")", "--stop", "]]", "--credit", "8", "--switch-at", "10", "--to", "boost-l3@1", "--reprefill",
                "--interactive", "--verbose", "57+681=");
        assertThat(o.target()).isEqualTo(new Target("gateway.example", 9001));
        assertThat(o.model()).isEqualTo("other-lm");
        assertThat(o.profile()).isEqualTo("pag-l1@2");
        assertThat(o.maxTokens()).isEqualTo(32);
        assertThat(o.sampling()).isTrue();
        assertThat(o.temperature()).isEqualTo(0.7f);
        assertThat(o.topK()).isEqualTo(5);
        assertThat(o.topP()).isEqualTo(0.9f);
        assertThat(o.seed()).isEqualTo(-1L); // uint64 max, as the proto carries it
        assertThat(o.stops()).containsExactly(")", "]]");
        assertThat(o.credit()).isEqualTo(8);
        assertThat(o.switchAt()).isEqualTo(10);
        assertThat(o.switchTo()).isEqualTo("boost-l3@1");
        assertThat(o.reprefill()).isTrue();
        assertThat(o.interactive()).isTrue();
        assertThat(o.verbose()).isTrue();
        assertThat(o.prompt()).isEqualTo("57+681=");
    }

    @Test
    void optionsMayFollowThePromptAndTakeTheirValueAfterAnEqualsSign() throws Exception {
        ClientOptions o = ClientOptions.parse("{(<=", "--credit=1", "--target=[::1]:18080", "--seed", "7");
        assertThat(o.prompt()).isEqualTo("{(<=");
        assertThat(o.credit()).isEqualTo(1);
        assertThat(o.target()).isEqualTo(new Target("::1", 18080));
        assertThat(o.target()).hasToString("[::1]:18080");
        assertThat(o.seed()).isEqualTo(7L);
        assertThat(o.sampling()).isTrue(); // a seed alone still sends Sampling (temperature 0: greedy)
    }

    @Test
    void doubleDashEndsOptions() throws Exception {
        assertThat(ClientOptions.parse("--verbose", "--", "--not-an-option").prompt()).isEqualTo("--not-an-option");
    }

    @Test
    void aSwitchLowersALargerCreditWindowSoItCanLandRightAfterItsIndex() throws Exception {
        assertThat(ClientOptions.parse("--switch-at", "2", "--to", "boost-l3", "p").creditWindow()).isEqualTo(3);
        assertThat(ClientOptions.parse("--switch-at", "9", "--to", "boost-l3", "p").creditWindow()).isEqualTo(4);
        assertThat(ClientOptions.parse("--switch-at", "0", "--to", "boost-l3", "--credit", "16", "p").creditWindow()).isEqualTo(1);
        assertThat(ClientOptions.parse("--switch-at", "2", "--to", "boost-l3", "--credit", "0", "p").creditWindow()).isZero();
    }

    @Test
    void switchAtWithoutToIsRejected() {
        assertUsage("--switch-at needs --to", "--switch-at", "3", "p");
        assertUsage("--to needs --switch-at", "--to", "boost-l3", "p");
        assertUsage("--reprefill goes with --switch-at", "--reprefill", "p");
    }

    @Test
    void anExperimentWithARoutingKeyInsteadOfAProfile() throws Exception {
        ClientOptions o = ClientOptions.parse("--experiment", "ab", "--routing-key", "user-7", "((=");
        assertThat(o.experiment()).isEqualTo("ab");
        assertThat(o.routingKey()).isEqualTo("user-7");
        assertThat(o.profile()).isNull();
        assertThat(ClientOptions.parse("p").experiment()).isNull();
        assertUsage("--experiment and --profile exclude each other", "--experiment", "ab", "--profile", "pag-l1", "p");
        assertUsage("--routing-key goes with --experiment", "--routing-key", "k", "p");
    }

    @Test
    void unknownOptionIsRejected() {
        assertUsage("unknown option '--bogus'", "--bogus", "p");
        assertUsage("unknown option '--bogus'", "p", "--bogus");
        assertUsage("unknown option '-x'", "-x", "p");
    }

    @Test
    void missingPromptIsRejected() {
        assertUsage("PROMPT is required");
        assertUsage("PROMPT is required", "--verbose", "--credit", "2");
        assertUsage("PROMPT is empty", "");
        assertUsage("one PROMPT only", "([", "{<");
    }

    @Test
    void badValuesAreRejectedWithTheOptionNamed() {
        assertUsage("--credit needs a value", "p", "--credit");
        assertUsage("--credit must be >= 0, got -1", "--credit", "-1", "p");
        assertUsage("--max-tokens must be an integer, got 'many'", "--max-tokens", "many", "p");
        assertUsage("--temperature must be >= 0.0", "--temperature", "-0.5", "p");
        assertUsage("--temperature must be >= 0.0", "--temperature", "NaN", "p");
        assertUsage("--top-p must be in [0.0, 1.0]", "--top-p", "1.5", "p");
        assertUsage("--seed must be an integer", "--seed", "-3", "p");
        assertUsage("--target must be HOST:PORT", "--target", "localhost", "p");
        assertUsage("--target port must be from 1 to 65535", "--target", "localhost:70000", "p");
        assertUsage("--profile must not be empty", "--profile", "", "p");
        assertUsage("--stop must not be empty", "--stop", "", "p");
        assertUsage("--verbose takes no value", "--verbose=yes", "p");
    }

    @Test
    void helpIsNotAnError() {
        for (String help : List.of("-h", "--help")) {
            assertThatThrownBy(() -> ClientOptions.parse("p", help))
                    .isInstanceOfSatisfying(UsageException.class, e -> assertThat(e.help()).isTrue());
        }
        assertThatThrownBy(() -> ClientOptions.parse("--bogus"))
                .isInstanceOfSatisfying(UsageException.class, e -> assertThat(e.help()).isFalse());
    }

    @Test
    void ackPlanHoldsBackUntilTheSwitchIsSent() {
        // window 3, switch at 2: the server may compute tokens 0..2 before any ack and must stop there
        HeadgateClient.AckPlan plan = new HeadgateClient.AckPlan(3, 2);
        assertThat(plan.isSwitchPoint(0)).isFalse();
        assertThat(plan.afterPrinting(0)).isZero();
        assertThat(plan.afterPrinting(1)).isZero();
        assertThat(plan.isSwitchPoint(2)).isTrue();
        assertThat(plan.afterPrinting(2)).isEqualTo(3);
        assertThat(plan.isSwitchPoint(3)).isFalse();
        assertThat(plan.afterPrinting(3)).isEqualTo(4);

        // window 4, switch at 9: acks run normally up to 6, then wait for token 9
        HeadgateClient.AckPlan later = new HeadgateClient.AckPlan(4, 9);
        assertThat(later.afterPrinting(4)).isEqualTo(5);
        assertThat(later.afterPrinting(5)).isEqualTo(6);
        assertThat(later.afterPrinting(6)).isZero();
        assertThat(later.afterPrinting(8)).isZero();
        assertThat(later.isSwitchPoint(9)).isTrue();
        assertThat(later.afterPrinting(9)).isEqualTo(10);

        HeadgateClient.AckPlan plain = new HeadgateClient.AckPlan(4, null);
        assertThat(plain.isSwitchPoint(0)).isFalse();
        assertThat(plain.afterPrinting(0)).isEqualTo(1);
    }

    @Test
    void verboseTextIsQuotedOnOneLine() {
        assertThat(EventPrinter.quote("a\tb\n\"c\"\\")).isEqualTo("\"a\\tb\\n\\\"c\\\"\\\\\"");
    }

    private static void assertUsage(String message, String... args) {
        assertThatThrownBy(() -> ClientOptions.parse(args))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining(message);
    }
}
