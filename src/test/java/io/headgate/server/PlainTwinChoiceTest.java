package io.headgate.server;

import org.junit.jupiter.api.Test;

import static io.headgate.server.HeadgateConfig.PlainGraph.AUTO;
import static io.headgate.server.HeadgateConfig.PlainGraph.OFF;
import static io.headgate.server.HeadgateConfig.PlainGraph.ON;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code plain-graph-for-identity}: auto loads a second copy only of small weights; on and off decide alone. */
class PlainTwinChoiceTest {

    static final long MIB = 1 << 20;

    @Test
    void autoLoadsThePlainGraphOnlyForSmallWeights() {
        assertThat(ModelHost.loadsPlainTwin(AUTO, 3 * MIB)).as("parens-lm's size").isTrue();
        assertThat(ModelHost.loadsPlainTwin(AUTO, ModelHost.PLAIN_TWIN_AUTO_MAX_MIB * MIB)).isTrue();
        assertThat(ModelHost.loadsPlainTwin(AUTO, ModelHost.PLAIN_TWIN_AUTO_MAX_MIB * MIB + 1)).isFalse();
        assertThat(ModelHost.loadsPlainTwin(AUTO, 4096 * MIB)).as("a 1B-parameter model in fp32").isFalse();
    }

    @Test
    void onAndOffIgnoreTheSize() {
        assertThat(ModelHost.loadsPlainTwin(ON, 4096 * MIB)).isTrue();
        assertThat(ModelHost.loadsPlainTwin(OFF, MIB)).isFalse();
    }
}
