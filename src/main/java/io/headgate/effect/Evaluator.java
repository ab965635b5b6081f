package io.headgate.effect;

import io.headgate.engine.Fault;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.BooleanSupplier;

/**
 * Scores a profile on labelled probes by running them through the model's own scheduler as
 * low-priority streams (live traffic first): greedy, and correct when the generated text is
 * exactly the answer followed by the end of text. An evaluation that runs out of time (or is
 * cancelled) cancels the probes it still has running.
 */
public final class Evaluator {

    /** Correct answers in one task/group. */
    public record GroupResult(String task, String group, int examples, int correct) {
        public double accuracy() {
            return examples == 0 ? 0 : (double) correct / examples;
        }
    }

    private final Scheduler<LmState, Void, TokenEvent, Completion> scheduler;
    private final CausalLmWorkload workload;
    private final Function<String, long[]> tokenize;

    public Evaluator(Scheduler<LmState, Void, TokenEvent, Completion> scheduler, CausalLmWorkload workload, Function<String, long[]> tokenize) {
        this.scheduler = scheduler;
        this.workload = workload;
        this.tokenize = tokenize;
    }

    public List<GroupResult> evaluate(Steering steering, List<Probe> probes, Duration timeout) throws Exception {
        return groups(probes, outcomes(steering, probes, timeout));
    }

    /**
     * Whether each probe was answered correctly, in the probes' order: two steerings run on the
     * same probes give paired outcomes (see {@link McNemarTest}). Running out of time cancels the
     * probes still running.
     */
    public boolean[] outcomes(Steering steering, List<Probe> probes, Duration timeout) throws Exception {
        return outcomes(List.of(steering), probes, probes.size(), timeout, () -> false)[0];
    }

    /**
     * Whether each steering answered each probe correctly, {@code [steering][probe]}: every steering
     * sees the same probes, so any two rows are paired. At most {@code inFlight} probes run at once;
     * the steerings' rows share the scheduler's batches.
     */
    public boolean[][] outcomes(List<Steering> steerings, List<Probe> probes, int inFlight, Duration timeout, BooleanSupplier cancelled)
            throws Exception {
        long[][] prompts = new long[probes.size()][];
        for (int i = 0; i < prompts.length; i++) prompts[i] = tokenize.apply(probes.get(i).prompt());
        int p = probes.size();
        List<Boolean> verdicts = BackgroundRuns.all(scheduler, steerings.size() * p, i -> {
            Probe probe = probes.get(i % p);
            LmState state = workload.open(new LmRequest(prompts[i % p], SamplingParams.greedy(), probe.answer().length() + 2, List.of()));
            return new BackgroundRuns.Run<>(state, steerings.get(i / p), new Verdict(probe.answer()));
        }, inFlight, timeout, cancelled);
        boolean[][] correct = new boolean[steerings.size()][p];
        for (int i = 0; i < verdicts.size(); i++) correct[i / p][i % p] = verdicts.get(i);
        return correct;
    }

    /** Outcomes counted per task and group, in the order the groups first appear. */
    public static List<GroupResult> groups(List<Probe> probes, boolean[] correct) {
        Map<String, int[]> counts = new LinkedHashMap<>(); // task/group -> examples, correct
        for (int i = 0; i < probes.size(); i++) {
            int[] c = counts.computeIfAbsent(probes.get(i).task() + "\u0000" + probes.get(i).group(), k -> new int[2]);
            c[0]++;
            if (correct[i]) c[1]++;
        }
        List<GroupResult> out = new ArrayList<>();
        counts.forEach((key, c) -> {
            String[] tg = key.split("\u0000");
            out.add(new GroupResult(tg[0], tg[1], c[0], c[1]));
        });
        return out;
    }

    /** Collects one probe's text; correct iff it is the answer and the model then ended the text. */
    private static final class Verdict implements BackgroundRuns.Collector<TokenEvent, Completion, Boolean> {
        final CompletableFuture<Boolean> result = new CompletableFuture<>();
        final StringBuilder text = new StringBuilder();
        final String answer;

        Verdict(String answer) {
            this.answer = answer;
        }

        @Override
        public CompletableFuture<Boolean> result() {
            return result;
        }

        @Override
        public void event(StreamEvent<TokenEvent, Completion> event) {
            switch (event) {
                case StreamEvent.Output<TokenEvent, Completion>(TokenEvent t) -> text.append(t.text());
                case StreamEvent.Finished<TokenEvent, Completion> f -> {
                    boolean eos = f.ending() instanceof StreamEvent.Ending.Completed<Completion>(Completion c)
                            && c.reason() == Completion.Reason.EOS;
                    if (f.ending() instanceof StreamEvent.Ending.Completed<Completion>(Completion c)) text.append(c.text());
                    result.complete(eos && text.toString().equals(answer));
                }
                default -> {
                }
            }
        }

        @Override
        public void complete() {
            result.complete(false); // no-op after Finished
        }

        @Override
        public void fail(Fault fault) {
            result.completeExceptionally(new IllegalStateException(fault.message()));
        }
    }
}
