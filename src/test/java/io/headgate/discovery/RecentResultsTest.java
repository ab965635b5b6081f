package io.headgate.discovery;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RecentResultsTest {

    static ScanReport report(String id) {
        return ScanReport.of(id, "m", "inline examples", "identity@0", ProfileSuggestionTest.TABLES, new HeadClassifier(0.8, 0.05, true));
    }

    @Test
    void keepsTheMostRecentResults() {
        RecentResults<ScanReport> store = new RecentResults<>(2);
        store.put("a", report("a"));
        store.put("b", report("b"));
        store.put("c", report("c"));
        assertThat(store.size()).isEqualTo(2);
        assertThat(store.get("a")).isEmpty();
        assertThat(store.get("c")).get().extracting(ScanReport::scanId).isEqualTo("c");
    }
}
