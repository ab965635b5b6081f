package io.headgate.discovery.lm;

import io.headgate.discovery.search.Guard;
import io.headgate.discovery.search.Measure;
import io.headgate.discovery.search.Measurement;
import io.headgate.discovery.search.Objective;
import io.headgate.effect.Evaluator;
import io.headgate.effect.Probe;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A language model's search objective: greedy exact-match accuracy on a task's probes, with guard
 * tasks measured on the same candidates. Every task brings its development and held-out probes;
 * a candidate's rows for all tasks run through the evaluator together.
 */
public final class ProbeObjective implements Objective {

    /** A task's probes on both splits (disjoint: the caller draws them from different seeds or halves). */
    public record Task(String name, List<Probe> dev, List<Probe> heldOut) {
        public Task {
            dev = List.copyOf(dev);
            heldOut = List.copyOf(heldOut);
            if (dev.isEmpty() || heldOut.isEmpty()) throw new IllegalArgumentException("task " + name + " has no probes on one split");
            var heldOutPrompts = heldOut.stream().map(Probe::prompt).collect(java.util.stream.Collectors.toSet());
            dev.stream().filter(p -> heldOutPrompts.contains(p.prompt())).findFirst().ifPresent(p -> {
                throw new IllegalArgumentException("task " + name + ": prompt '" + p.prompt() + "' is on both the development and held-out splits");
            });
        }

        List<Probe> probes(Split split) {
            return split == Split.DEV ? dev : heldOut;
        }
    }

    /** A guard task and how much accuracy it may lose. */
    public record GuardTask(Task task, double tolerance) {
    }

    private final Evaluator evaluator;
    private final Function<ProfileSpec, Steering> steering;
    private final Task score;
    private final List<GuardTask> guards;
    private final int batch, inFlight;
    private final Duration timeout;

    public ProbeObjective(Evaluator evaluator, Function<ProfileSpec, Steering> steering, Task score, List<GuardTask> guards, int batch,
                          int inFlight, Duration timeout) {
        this.evaluator = evaluator;
        this.steering = steering;
        this.score = score;
        this.guards = List.copyOf(guards);
        this.batch = batch;
        this.inFlight = inFlight;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return score.name() + " accuracy";
    }

    @Override
    public List<Guard> guards() {
        return guards.stream().map(g -> new Guard(g.task().name() + " accuracy", g.tolerance())).toList();
    }

    @Override
    public int examples(Split split) {
        return score.probes(split).size();
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public List<Measurement> measure(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception {
        List<Task> tasks = new ArrayList<>();
        tasks.add(score);
        guards.forEach(g -> tasks.add(g.task()));
        List<Probe> probes = new ArrayList<>();
        tasks.forEach(t -> probes.addAll(t.probes(split)));
        boolean[][] correct = evaluator.outcomes(candidates.stream().map(steering).toList(), probes, inFlight, timeout, cancelled);
        List<Measurement> out = new ArrayList<>(candidates.size());
        for (boolean[] row : correct) {
            List<Measure> measures = new ArrayList<>(tasks.size());
            int first = 0;
            for (Task t : tasks) {
                int n = t.probes(split).size();
                double[] perProbe = new double[n];
                double sum = 0;
                for (int i = 0; i < n; i++) sum += perProbe[i] = row[first + i] ? 1 : 0;
                measures.add(new Measure(t.name() + " accuracy", false, sum / n, perProbe));
                first += n;
            }
            out.add(new Measurement(measures.getFirst(), measures.subList(1, measures.size())));
        }
        return out;
    }
}
