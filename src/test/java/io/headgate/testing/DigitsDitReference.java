package io.headgate.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code reference.json} of digits-dit, written by training/train_digits_dit.py in float64: velocities
 * of single rows under named control settings, and one guided sampling trajectory whose CFG scale,
 * perturbation scale and perturbed heads change after a step.
 */
public record DigitsDitReference(List<Case> cases, Trajectory trajectory) {

    public record Case(String name, float[] x, float t, long label, JsonNode controls, double[] velocity) {
        public ControlRow row(Dimensions d) {
            return DigitsDitReference.controlRow(controls, d);
        }
    }

    /** From step {@code fromStep} on: these scales, and the perturbed row's {@code attn_identity_mix} [L, H]. */
    public record Phase(int fromStep, double cfgScale, double perturbationScale, float[] mix) {
    }

    public record Trajectory(long seed, int steps, long label, float[] noise, List<Phase> phases, double[][] x) {
        public Phase phaseAt(int step) {
            Phase current = phases.getFirst();
            for (Phase p : phases) if (p.fromStep() <= step) current = p;
            return current;
        }
    }

    public static DigitsDitReference read() throws IOException {
        JsonNode root = new ObjectMapper().readTree(DigitsDit.FIXTURES.resolve("reference.json").toFile());
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            cases.add(new Case(c.get("name").asText(), floats(c.get("x_t")), (float) c.get("t").asDouble(), c.get("class_label").asLong(),
                    c.get("controls"), doubles(c.get("velocity"))));
        }
        JsonNode t = root.get("trajectory");
        List<Phase> phases = new ArrayList<>();
        for (JsonNode p : t.get("phases")) {
            phases.add(new Phase(p.get("from_step").asInt(), p.get("cfg_scale").asDouble(), p.get("perturbation_scale").asDouble(), floats(p.get("mix"))));
        }
        double[][] x = new double[t.get("x").size()][];
        for (int i = 0; i < x.length; i++) x[i] = doubles(t.get("x").get(i));
        return new DigitsDitReference(cases, new Trajectory(t.get("seed").asLong(), t.get("steps").asInt(), t.get("class_label").asLong(),
                floats(t.get("noise")), phases, x));
    }

    static ControlRow controlRow(JsonNode controls, Dimensions d) {
        ControlRow row = ControlRow.identity(d);
        fill(controls.get("gain"), row.gain());
        fill(controls.get("bias"), row.bias());
        fill(controls.get("mix"), row.mix());
        return row;
    }

    private static void fill(JsonNode nested, float[] out) {
        if (nested == null) return;
        float[] values = floats(nested);
        if (values.length != out.length) throw new IllegalStateException("fixture control has " + values.length + " values, expected " + out.length);
        System.arraycopy(values, 0, out, 0, out.length);
    }

    public static float[] floats(JsonNode nested) {
        double[] d = doubles(nested);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    public static double[] doubles(JsonNode nested) {
        List<Double> flat = new ArrayList<>();
        flatten(nested, flat);
        return flat.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static void flatten(JsonNode n, List<Double> out) {
        if (n.isArray()) n.forEach(x -> flatten(x, out));
        else out.add(n.asDouble());
    }
}
