package io.headgate.steer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Every revision a registry holds, in memory, so reads never touch the store: (model, name) →
 * revision → entry. Thread-safe; revisions are added once their store holds them.
 */
final class RevisionIndex<R extends Revisioned> {

    private record Key(String model, String name) {
    }

    private final Map<Key, NavigableMap<Long, R>> histories = new HashMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    /** The latest revision; empty if never written or the latest revision is a deletion. */
    Optional<R> latest(String model, String name) {
        lock.readLock().lock();
        try {
            NavigableMap<Long, R> history = histories.get(new Key(model, name));
            if (history == null) return Optional.empty();
            R last = history.lastEntry().getValue();
            return last.deleted() ? Optional.empty() : Optional.of(last);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A pinned revision, readable after newer revisions or a deletion; empty if never written or a deletion. */
    Optional<R> revision(String model, String name, long revision) {
        lock.readLock().lock();
        try {
            NavigableMap<Long, R> history = histories.get(new Key(model, name));
            R entry = history == null ? null : history.get(revision);
            return entry == null || entry.deleted() ? Optional.empty() : Optional.of(entry);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The revision a write must expect: the latest, or 0 if absent or deleted. */
    long currentRevision(String model, String name) {
        return latest(model, name).map(Revisioned::revision).orElse(0L);
    }

    /** The highest revision number used, deletions included; 0 if never written. */
    long lastRevision(String model, String name) {
        lock.readLock().lock();
        try {
            NavigableMap<Long, R> history = histories.get(new Key(model, name));
            return history == null ? 0 : history.lastKey();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The latest live revision of each name, of one model ({@code null} or "" for all), sorted by model and name. */
    List<R> list(String model) {
        boolean all = model == null || model.isEmpty();
        List<R> out = new ArrayList<>();
        lock.readLock().lock();
        try {
            histories.forEach((key, history) -> {
                R last = history.lastEntry().getValue();
                if ((all || key.model().equals(model)) && !last.deleted()) out.add(last);
            });
        } finally {
            lock.readLock().unlock();
        }
        out.sort(Comparator.comparing(Revisioned::model).thenComparing(Revisioned::name));
        return out;
    }

    /** Adds a revision; false if the index already holds that revision (revisions never change, so it is the same). */
    boolean add(R entry) {
        lock.writeLock().lock();
        try {
            return histories.computeIfAbsent(new Key(entry.model(), entry.name()), k -> new TreeMap<>())
                    .putIfAbsent(entry.revision(), entry) == null;
        } finally {
            lock.writeLock().unlock();
        }
    }
}
