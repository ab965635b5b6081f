package io.headgate.server;

import org.jboss.logging.Logger;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a model's load acquired (sessions, tokenizers, buffers, the scheduler), closed in reverse
 * order: by the model when it is closed, or at once when its load fails part way.
 */
public final class Resources implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Resources.class);

    private final Deque<AutoCloseable> held = new ArrayDeque<>();
    private final String owner;
    private int released;

    public Resources(String owner) {
        this.owner = owner;
    }

    /** Takes ownership of {@code resource} and returns it. */
    public synchronized <T extends AutoCloseable> T hold(T resource) {
        held.push(resource);
        return resource;
    }

    /** How many resources are held (tests check a failed load leaves none). */
    public synchronized int held() {
        return held.size();
    }

    /** How many were closed without an error. */
    public synchronized int released() {
        return released;
    }

    @Override
    public synchronized void close() {
        while (!held.isEmpty()) {
            AutoCloseable r = held.pop();
            try {
                r.close();
                released++;
            } catch (Exception e) {
                LOG.warnf(e, "%s: releasing %s failed", owner, r);
            }
        }
    }
}
