package io.headgate.steer;

/** A stored revision of something named per model (a profile, an experiment); a deletion is a revision too. */
public interface Revisioned {
    String model();

    String name();

    long revision();

    boolean deleted();
}
