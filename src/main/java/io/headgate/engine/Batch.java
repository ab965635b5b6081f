package io.headgate.engine;

import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The rows of one step. The scheduler names the streams that run in it; the workload lays out their
 * rows in the order its graph wants them — a stream may own several (a language model's shadow row,
 * a diffusion stream's conditional, unconditional and perturbed rows, one per profile a forecast
 * compares) — and each row gets its own control row. A control row is copied into the batch only
 * when the row's content changes, so a step under unchanged steering copies nothing.
 */
public final class Batch<S, O, F> {

    private final ControlBatch controls;
    private final ControlRow[] content;
    private final List<Stream<S, O, F>> owners;
    private final List<Stream<S, O, F>> streams = new ArrayList<>();
    private Stream<S, O, F>[] slots;
    private int span;
    private final List<String> phases = new ArrayList<>();
    private final List<Long> phaseNanos = new ArrayList<>();

    Batch(BundleManifest.Dimensions dims, int maxRows) {
        this.controls = new ControlBatch(dims, maxRows);
        this.content = new ControlRow[maxRows];
        this.owners = new ArrayList<>(maxRows);
    }

    /** A new step over the streams that may run, within slots [0, span). */
    void reset(Stream<S, O, F>[] slots, int span) {
        this.slots = slots;
        this.span = span;
        streams.clear();
        owners.clear();
        phases.clear();
        phaseNanos.clear();
        for (int i = 0; i < span; i++) if (slots[i].runnable) streams.add(slots[i]);
    }

    /** The streams that run in this step, in slot order: each gets its outputs after the forward pass. */
    public List<Stream<S, O, F>> streams() {
        return streams;
    }

    /**
     * Slots [0, span) hold every stream that runs, and between them paused ones: a workload whose
     * rows must be contiguous (a KV cache) computes the paused ones too and ignores their outputs.
     */
    public int span() {
        return span;
    }

    /** The stream in slot {@code slot} < {@link #span()}, running or paused. */
    public Stream<S, O, F> slot(int slot) {
        if (slot < 0 || slot >= span) throw new IndexOutOfBoundsException("slot " + slot + " of span " + span);
        return slots[slot];
    }

    /** Appends a row owned by {@code owner} under {@code control}; returns its index in the batch. */
    public int add(Stream<S, O, F> owner, ControlRow control) {
        int row = owners.size();
        if (row == content.length) throw new IllegalStateException("a step may hold at most " + content.length + " rows");
        if (content[row] != control) {
            controls.set(row, control);
            content[row] = control;
        }
        owners.add(owner);
        return row;
    }

    public int rows() {
        return owners.size();
    }

    public Stream<S, O, F> owner(int row) {
        return owners.get(row);
    }

    /** The control inputs of rows [0, rows()). */
    public ControlBatch controls() {
        return controls;
    }

    /**
     * Reports how long a part of the step took (a language model's prefill chunks and its decode
     * pass), recorded in {@code headgate_step_duration_seconds{phase}} beside the whole step.
     */
    public void timed(String phase, long nanos) {
        phases.add(phase);
        phaseNanos.add(nanos);
    }

    int timedPhases() {
        return phases.size();
    }

    String phase(int i) {
        return phases.get(i);
    }

    long phaseNanos(int i) {
        return phaseNanos.get(i);
    }

    /** Forgets which control rows the batch holds (after a failed step, whose buffers are suspect). */
    void invalidate() {
        Arrays.fill(content, null);
    }
}
