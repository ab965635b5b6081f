package io.headgate.discovery;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The most recent results of one kind (scan reports, searches) by id, in memory; the oldest is dropped past the capacity. */
public final class RecentResults<T> {

    private final Map<String, T> results;

    public RecentResults(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity must be positive");
        this.results = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, T> eldest) {
                return size() > capacity;
            }
        };
    }

    public synchronized void put(String id, T result) {
        results.put(id, result);
    }

    public synchronized Optional<T> get(String id) {
        return Optional.ofNullable(results.get(id));
    }

    public synchronized int size() {
        return results.size();
    }
}
