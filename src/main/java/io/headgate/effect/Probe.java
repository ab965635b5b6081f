package io.headgate.effect;

/** One labelled example: a prompt, its expected answer, and the task and group it is scored in. */
public record Probe(String task, String group, String prompt, String answer) {
    public Probe {
        if (prompt.isEmpty() || answer.isEmpty()) throw new IllegalArgumentException("a probe needs a prompt and an answer");
    }
}
