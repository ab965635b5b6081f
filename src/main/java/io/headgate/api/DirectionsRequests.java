package io.headgate.api;

import io.headgate.api.v1.BuiltinContrast;
import io.headgate.api.v1.DirectionsRequest;
import io.headgate.discovery.ScanExamples;
import io.headgate.discovery.directions.Contrast;
import io.headgate.discovery.directions.DirectionsJob;
import io.headgate.effect.Probe;
import io.headgate.server.HeadgateConfig;
import io.headgate.server.lm.LmModel;

import java.util.ArrayList;
import java.util.List;

/** A DirectionsRequest → a DirectionsJob: the contrast tokenized and checked, defaults filled in. Every refusal names the field. */
final class DirectionsRequests {

    private final LmModel model;
    private final HeadgateConfig.Discovery limits;

    DirectionsRequests(LmModel model, HeadgateConfig.Discovery limits) {
        this.model = model;
        this.limits = limits;
    }

    DirectionsJob job(DirectionsRequest r) {
        if (Integer.toUnsignedLong(r.getLimit()) > limits.maxExamples()) throw Errors.invalid("limit", Integer.toUnsignedLong(r.getLimit()) + " prompts; at most " + limits.maxExamples());
        double fraction = r.getValidationFraction() == 0 ? DirectionsJob.DEFAULT_VALIDATION_FRACTION : r.getValidationFraction();
        if (!(fraction > 0 && fraction < 1)) {
            throw Errors.invalid("validation_fraction", "must be in (0, 1) (0: " + DirectionsJob.DEFAULT_VALIDATION_FRACTION + "), got " + r.getValidationFraction());
        }
        int heads = model.manifest().dimensions().layers() * model.manifest().dimensions().heads();
        long top = r.getTop() == 0 ? DirectionsJob.DEFAULT_TOP : Integer.toUnsignedLong(r.getTop());
        if (top > heads) throw Errors.invalid("top", top + " heads; model '" + model.name() + "' has " + heads);
        double alpha = r.getAlpha() == 0 ? DirectionsJob.DEFAULT_ALPHA : r.getAlpha();
        if (!Double.isFinite(alpha)) throw Errors.invalid("alpha", "must be finite, got " + r.getAlpha());
        Contrast contrast = switch (r.getContrastCase()) {
            case BUILTIN -> builtin(r.getBuiltin(), r.getLimit());
            case INLINE -> inline(r.getInline().getPositiveList(), r.getInline().getNegativeList());
            case CONTRAST_NOT_SET -> throw Errors.invalid("contrast", "set builtin (a set of " + ScanExamples.builtinSets(model.name())
                    + " and a positive_answer) or inline (positive and negative prompts)");
        };
        return new DirectionsJob(model.name(), contrast, fraction, r.getSeed(), (int) top, alpha);
    }

    /** A probe set split by answer: positive where the expected answer starts with positive_answer. */
    private Contrast builtin(BuiltinContrast b, int limit) {
        if (!ScanExamples.builtinSets(model.name()).contains(b.getSet())) {
            throw Errors.notFound("builtin.set", "no built-in set '" + b.getSet() + "' for model '" + model.name() + "'; available: "
                    + (ScanExamples.builtinSets(model.name()).isEmpty() ? "none (send inline prompts)" : ScanExamples.builtinSets(model.name())));
        }
        if (b.getPositiveAnswer().isEmpty()) throw Errors.invalid("builtin.positive_answer", "required: the answer prefix that makes a probe positive");
        List<long[]> positive = new ArrayList<>(), negative = new ArrayList<>();
        List<Probe> probes = ScanExamples.builtin(model.name(), b.getSet(), limit);
        for (Probe p : probes) {
            (p.answer().startsWith(b.getPositiveAnswer()) ? positive : negative).add(model.tokenizer().encode(p.prompt()));
        }
        String at = "builtin.positive_answer", of = " of the " + probes.size() + " probes used";
        checkClassSize(at, "positive (answer starting with '" + b.getPositiveAnswer() + "')" + of, positive.size());
        checkClassSize(at, "negative (any other answer)" + of, negative.size());
        return new Contrast("builtin " + b.getSet() + ", positive: answer starts with '" + b.getPositiveAnswer() + "'", positive, negative);
    }

    private Contrast inline(List<String> positiveText, List<String> negativeText) {
        if (positiveText.size() + negativeText.size() > limits.maxExamples()) {
            throw Errors.invalid("inline", (positiveText.size() + negativeText.size()) + " prompts; at most " + limits.maxExamples());
        }
        checkClassSize("inline.positive", "positive", positiveText.size());
        checkClassSize("inline.negative", "negative", negativeText.size());
        return new Contrast("inline prompts", encode("inline.positive", positiveText), encode("inline.negative", negativeText));
    }

    private static void checkClassSize(String field, String what, int size) {
        if (size < Contrast.MIN_PER_CLASS) {
            throw Errors.invalid(field, size + " " + what + " prompts; each class needs at least " + Contrast.MIN_PER_CLASS
                    + " (to fit the means on and to validate on)");
        }
    }

    private List<long[]> encode(String field, List<String> prompts) {
        int max = model.manifest().maxLength() - 1;
        List<long[]> out = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            String at = field + "[" + i + "]", text = prompts.get(i);
            if (text.isEmpty()) throw Errors.invalid(at, "empty");
            long[] ids = Requests.encodeWhole(model.tokenizer(), text, at);
            if (ids.length > max) throw Errors.invalid(at, ids.length + " tokens; model '" + model.name() + "' takes at most " + max);
            out.add(ids);
        }
        return out;
    }
}
