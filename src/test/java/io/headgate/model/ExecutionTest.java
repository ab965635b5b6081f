package io.headgate.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Execution provider selection on a machine without a usable GPU (CI, and this build's CPU artifact):
 * {@code auto} falls back to the CPU with one log line and reports {@code cpu}; {@code cuda} is an error
 * naming the configuration field; bad values are errors naming it too.
 */
class ExecutionTest {

    static final String FIELD = "headgate.models.demo.execution";

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger logger = Logger.getLogger(SessionFactory.class.getName());

    @BeforeEach
    void capture() {
        logger.addHandler(capture);
    }

    @AfterEach
    void release() {
        logger.removeHandler(capture);
    }

    @Test
    void parsesProvidersAndDeviceIds() {
        assertEquals(new Execution(Execution.Provider.CPU, 0), Execution.parse(FIELD, "cpu"));
        assertEquals(new Execution(Execution.Provider.CUDA, 0), Execution.parse(FIELD, "CUDA"));
        assertEquals(new Execution(Execution.Provider.CUDA, 3), Execution.parse(FIELD, "cuda:3"));
        assertEquals(new Execution(Execution.Provider.AUTO, 1), Execution.parse(FIELD, " auto:1 "));
        assertThat(Execution.parse(FIELD, "cuda:2").label()).isEqualTo("cuda:2");
        assertThat(Execution.CPU.label()).isEqualTo("cpu");
    }

    @Test
    void badValuesNameTheField() {
        for (String bad : List.of("gpu", "", "cuda:", "cuda:-1", "cuda:x", "cpu:0", "auto:1:2")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Execution.parse(FIELD, bad), bad);
            assertThat(e.getMessage()).startsWith(FIELD + " is '" + bad + "'");
        }
    }

    @Test
    void cpuResolvesToItselfWithoutLogging() {
        assertEquals(Execution.CPU, SessionFactory.resolve(FIELD, Execution.CPU));
        assertThat(records).isEmpty();
    }

    @Test
    void autoFallsBackToTheCpuWithOneLogLine() {
        assumeTrue(SessionFactory.cudaProblem(0) != null, "this machine can run CUDA");
        Execution resolved = SessionFactory.resolve(FIELD, Execution.parse(FIELD, "auto"));
        assertEquals(Execution.CPU, resolved);
        assertThat(resolved.label()).isEqualTo("cpu");
        List<LogRecord> fromFactory = records.stream().filter(r -> r.getLevel().intValue() >= Level.INFO.intValue()).toList();
        assertThat(fromFactory).hasSize(1);
        assertThat(formatted(fromFactory.getFirst())).contains(FIELD).contains("'auto:0'").contains("running on the CPU")
                .contains(SessionFactory.cudaProblem(0));
        assertThat(fromFactory.getFirst().getLevel()).isEqualTo(Level.WARNING);
    }

    @Test
    void theCpuArtifactSaysItHasNoCudaProvider() {
        assumeTrue(!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "the GPU artifact is on the classpath");
        assertThat(SessionFactory.cudaProblem(0)).contains("no CUDA provider").contains("-Pcuda");
    }

    @Test
    void cudaIsAnErrorNamingTheField() {
        assumeTrue(SessionFactory.cudaProblem(1) != null, "this machine can run CUDA");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SessionFactory.resolve(FIELD, Execution.parse(FIELD, "cuda:1")));
        assertThat(e.getMessage()).startsWith(FIELD + " is 'cuda:1' but CUDA cannot be used: ").contains(SessionFactory.cudaProblem(1));
        assertThat(records).isEmpty();
    }

    @Test
    void aGraphLoadedWithAutoReportsWhereItRuns() throws Exception {
        assumeTrue(SessionFactory.cudaProblem(0) != null, "this machine can run CUDA");
        try (CausalLmGraph graph = CausalLmGraph.load(ParensLm.bundle(), new CausalLmGraph.SessionConfig(1, Execution.parse("execution", "auto")))) {
            assertThat(graph.execution().label()).isEqualTo("cpu");
            assertThat(graph.cacheLocation()).isEqualTo("host");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CausalLmGraph.load(ParensLm.bundle(), new CausalLmGraph.SessionConfig(1, Execution.parse("execution", "cuda"))));
        assertThat(e.getMessage()).startsWith("execution is 'cuda:0' but CUDA cannot be used");
    }

    private static String formatted(LogRecord r) {
        String message = r.getMessage();
        Object[] parameters = r.getParameters();
        if (parameters == null || parameters.length == 0) return message;
        try {
            return String.format(message, parameters);
        } catch (java.util.IllegalFormatException e) {
            return java.text.MessageFormat.format(message, parameters);
        }
    }
}
