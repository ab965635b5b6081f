package io.headgate.steer;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The revisions of one kind (profiles or experiments) as a registry serves them: an in-memory
 * index that a {@link RevisionStore} feeds, so reads never touch the store; writes that name the
 * revision they expect and create the next one in the store; and listeners told of every new
 * revision — written here or, on a shared store, by another replica — once, in order within each name.
 */
final class Revisions<R extends Revisioned> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Revisions.class);

    /** Makes the revision to write, numbered {@code number}, from the current live one (null: absent or deleted). */
    interface Next<R> {
        R make(long number, R current);
    }

    private final String kind;
    private final RevisionStore<R> store;
    private final RevisionIndex<R> index = new RevisionIndex<>();
    /** Serialises this process's writers, so an fsync or a round trip never blocks readers. */
    private final ReentrantLock writes = new ReentrantLock();
    /** Makes "add to the index, then tell the listeners" one step, so listeners hear each revision once and in order. */
    private final Object delivering = new Object();
    private final List<Consumer<R>> listeners = new CopyOnWriteArrayList<>();

    Revisions(String kind, RevisionStore<R> store) throws IOException {
        this.kind = kind;
        this.store = store;
        store.open(this::deliver);
    }

    /**
     * Writes the next revision of (model, name) if its current live revision (0: absent or deleted) is
     * {@code expected}. A replica's index may lag a shared store, so a mismatch is checked against the
     * store before it is refused; the store's create-unless-exists decides races between writers.
     *
     * @throws StaleRevisionException       if the current revision is not {@code expected}
     * @throws RegistryUnavailableException if the store cannot be reached
     */
    R write(String model, String name, long expected, Next<R> next) throws IOException {
        writes.lock();
        try {
            if (index.currentRevision(model, name) != expected) catchUp(model, name);
            R current = index.latest(model, name).orElse(null);
            R made = next.make(index.lastRevision(model, name) + 1, current);
            long actual = current == null ? 0 : current.revision();
            if (actual != expected) throw new StaleRevisionException(kind, model, name, expected, actual);
            if (!store.create(made)) {
                catchUp(model, name); // another writer took the number: learn what it wrote
                throw new StaleRevisionException(kind, model, name, expected, index.currentRevision(model, name));
            }
            deliver(made, true);
            return made;
        } finally {
            writes.unlock();
        }
    }

    /**
     * Creates revision 1 of a name that was never written, in one create-unless-exists: however many
     * processes seed at once, each name is installed once, and one deleted since stays deleted.
     *
     * @return false if the name was ever written
     */
    boolean createFirst(R first) throws IOException {
        if (first.revision() != 1) throw new IllegalArgumentException("a first revision is numbered 1, not " + first.revision());
        writes.lock();
        try {
            if (index.lastRevision(first.model(), first.name()) != 0) return false;
            if (!store.create(first)) {
                catchUp(first.model(), first.name());
                return false;
            }
            deliver(first, true);
            return true;
        } finally {
            writes.unlock();
        }
    }

    Optional<R> latest(String model, String name) {
        return index.latest(model, name);
    }

    Optional<R> revision(String model, String name, long revision) {
        return index.revision(model, name, revision);
    }

    long currentRevision(String model, String name) {
        return index.currentRevision(model, name);
    }

    List<R> list(String model) {
        return index.list(model);
    }

    /** Calls {@code listener} with every new revision (a deletion has a null spec), in order within each name; a listener that throws is logged. */
    void subscribe(Consumer<R> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    RevisionStore.Health health() {
        return store.health();
    }

    void whenLoaded(Runnable task) {
        store.whenLoaded(task);
    }

    @Override
    public void close() {
        store.close();
    }

    private void catchUp(String model, String name) throws IOException {
        for (R entry : store.history(model, name)) deliver(entry, true);
    }

    /** Adds a revision from the store or a local write; the first delivery of a live one is news. */
    private void deliver(R entry, boolean live) {
        synchronized (delivering) {
            if (!index.add(entry) || !live) return;
            for (Consumer<R> listener : listeners) {
                try {
                    listener.accept(entry);
                } catch (RuntimeException e) {
                    LOG.warnf(e, "%s listener failed on %s/%s revision %d", kind, entry.model(), entry.name(), entry.revision());
                }
            }
        }
    }
}
