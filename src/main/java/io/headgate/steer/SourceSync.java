package io.headgate.steer;

import java.util.List;
import java.util.Set;

/**
 * What one sync of a watched directory did not store, and the (model, name) pairs the directory
 * holds now ({@code held}, stored or not): pass them as {@code previous} to the next sync, so that
 * an entry whose file is still there is never deleted for being invalid.
 */
public record SourceSync(Set<List<String>> held, List<SourceRejection> rejected) {
}
