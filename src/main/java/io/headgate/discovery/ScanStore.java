package io.headgate.discovery;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The most recent scan reports by id, in memory; the oldest is dropped past the capacity. */
public final class ScanStore {

    private final Map<String, ScanReport> reports;

    public ScanStore(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity must be positive");
        this.reports = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, ScanReport> eldest) {
                return size() > capacity;
            }
        };
    }

    public synchronized void put(ScanReport report) {
        reports.put(report.scanId(), report);
    }

    public synchronized Optional<ScanReport> get(String scanId) {
        return Optional.ofNullable(reports.get(scanId));
    }

    public synchronized int size() {
        return reports.size();
    }
}
