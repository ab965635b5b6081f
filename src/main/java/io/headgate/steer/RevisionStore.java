package io.headgate.steer;

import java.io.IOException;
import java.util.List;

/**
 * Where a registry keeps its revisions. A revision of a (model, name) is written once, under its
 * number, and never changed (a deletion is a revision too), so a store needs only "create this
 * revision unless it exists" and "tell me every revision there is": that is the whole of optimistic
 * concurrency, on a directory ({@link FileRevisionStore}) as on etcd shared by replicas.
 */
public interface RevisionStore<R extends Revisioned> extends AutoCloseable {

    /** Receives the revisions a store holds. */
    interface Sink<R> {
        /**
         * @param live false for the revisions stored before the registry opened (loading them is no news
         *             to anyone); true for revisions stored since, by any writer
         */
        void accept(R entry, boolean live);
    }

    /** Whether the store can be written and followed now; {@code detail} says where it is, or why not. */
    record Health(boolean up, String detail) {
    }

    /**
     * Starts delivering revisions to {@code sink}: every one stored now, then every one another writer
     * stores, in order within each (model, name), possibly more than once. A directory delivers what it
     * holds before this returns; etcd from a thread of its own that loads, watches, and after a
     * disconnect resumes from the last revision it saw.
     */
    void open(Sink<R> sink) throws IOException;

    /**
     * Stores {@code entry} as revision {@code entry.revision()} of its (model, name), unless that revision exists.
     *
     * @return false if it exists (another writer took the number): nothing was stored
     * @throws RegistryUnavailableException if the store cannot be reached
     */
    boolean create(R entry) throws IOException;

    /** Every revision of one (model, name) stored now, in order: how a writer that lost a race catches up. */
    List<R> history(String model, String name) throws IOException;

    Health health();

    /** Runs {@code task} once the store has delivered what it held when first reached (a directory: now), retrying it after later loads until it succeeds. */
    void whenLoaded(Runnable task);

    @Override
    void close();
}
