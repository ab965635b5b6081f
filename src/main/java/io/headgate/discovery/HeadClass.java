package io.headgate.discovery;

/** A head's role for a task, from its direct logit attribution across examples. */
public enum HeadClass {
    /** Consistently promotes the correct answer. */
    SOUND,
    /** Consistently works against it. */
    INTERFERING,
    IRRELEVANT
}
