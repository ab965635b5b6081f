package io.headgate.model.forecast;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.Execution;
import io.headgate.model.SessionFactory;
import io.headgate.testing.ForecastReference;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A forecast graph opens its session through {@link SessionFactory}: the CPU by default, {@code auto}
 * resolved at load (the CPU where CUDA cannot run, with the same forecasts bit for bit), {@code cuda}
 * refused with the reason where it cannot run.
 */
class ForecastExecutionTest {

    @Test
    void theDefaultRunsOnTheCpu() throws Exception {
        assertEquals(Execution.CPU, ForecastGraph.SessionConfig.DEFAULT.execution());
        try (ForecastGraph graph = SeriesTsfm.graph(SeriesTsfm.PLAIN)) {
            assertEquals(Execution.CPU, graph.execution());
        }
    }

    @Test
    void autoWithoutCudaResolvesToTheCpuWithTheSameForecasts() throws Exception {
        assumeTrue(SessionFactory.cudaProblem(0) != null, "this machine can run CUDA");
        Path bundle = SeriesTsfm.bundle(SeriesTsfm.PLAIN);
        List<double[]> contexts = ForecastReference.read(SeriesTsfm.REFERENCE).inputs().values().stream()
                .map(ForecastReference.Input::context).toList();
        try (ForecastGraph cpu = ForecastGraph.load(bundle, ForecastGraph.SessionConfig.DEFAULT);
             ForecastGraph auto = ForecastGraph.load(bundle, new ForecastGraph.SessionConfig(1, Execution.parse("execution", "auto")))) {
            assertEquals(Execution.CPU, auto.execution());
            double[] a = cpu.forward(contexts, null).values(), b = auto.forward(contexts, null).values();
            assertEquals(a.length, b.length);
            for (int i = 0; i < a.length; i++) {
                assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), "value " + i + ": " + a[i] + " vs " + b[i]);
            }
        }
    }

    @Test
    void cudaWhereItCannotRunIsRefusedWithTheReason() throws Exception {
        assumeTrue(SessionFactory.cudaProblem(0) != null, "this machine can run CUDA");
        Path bundle = SeriesTsfm.bundle(CheckpointConverter.Options.STEERABLE);
        var e = assertThrows(IllegalArgumentException.class,
                () -> ForecastGraph.load(bundle, new ForecastGraph.SessionConfig(1, Execution.parse("execution", "cuda"))));
        assertThat(e.getMessage()).contains("execution is 'cuda:0'").contains(SessionFactory.cudaProblem(0));
    }

    @Test
    void badSessionSettingsAreNamed() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> new ForecastGraph.SessionConfig(-1)).getMessage())
                .contains("intraOpThreads");
        assertThat(assertThrows(IllegalArgumentException.class, () -> new ForecastGraph.SessionConfig(1, null)).getMessage())
                .contains("execution");
    }
}
