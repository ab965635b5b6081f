package io.headgate.steer;

import java.util.List;

/**
 * What one sync of a watched directory settled into the registry — pass it as {@code previous} to
 * the next sync, so that only changes are written and an entry whose file is still there is never
 * deleted for being invalid — and the files it refused.
 */
public record SourceSync(SourceDirectory.Synced synced, List<SourceRejection> rejected) {
}
