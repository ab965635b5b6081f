package io.headgate.steer;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The file machinery shared by the versioned registries (profiles, experiments): one directory per
 * (model, name) holding {@code <revision>.json} files, each written once and never changed.
 *
 * <p>{@link #publish} writes to a temp file in the same directory, fsyncs it and publishes it with a
 * hard link to its final name; the link fails if the revision exists, so two writers can never both
 * create one revision, and a crash leaves at worst a temp file that is never read (and is removed by
 * {@link #readRevisions} once old).
 */
final class RevisionFiles {

    private static final Logger LOG = Logger.getLogger(RevisionFiles.class);
    private static final Pattern REVISION_FILE = Pattern.compile("([0-9]{1,18})\\.json");
    private static final String TEMP_PREFIX = ".tmp-";
    /** A temp file this old belongs to no live writer (a write takes milliseconds): a crash left it. */
    private static final Duration ABANDONED_TEMP = Duration.ofMinutes(10);

    private RevisionFiles() {
    }

    /** Reads one published revision file; {@code revision} is the number its file name carries. */
    @FunctionalInterface
    interface Reader<T> {
        T read(Path file, long revision) throws IOException;
    }

    /**
     * Publishes {@code json} as {@code <dir>/<revision>.json}, durably and atomically.
     *
     * @return false if that revision already exists (another writer took it); nothing was published
     */
    static boolean publish(Path dir, long revision, byte[] json) throws IOException {
        createDirectory(dir);
        Path temp = Files.createTempFile(dir, TEMP_PREFIX, ".json");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(json);
                while (buffer.hasRemaining()) channel.write(buffer);
                channel.force(true);
            }
            try {
                Files.createLink(dir.resolve(revision + ".json"), temp);
            } catch (FileAlreadyExistsException e) {
                return false;
            }
            syncDirectory(dir);
            return true;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Every published revision in {@code dir}, by number; skips temp files and removes those a crash abandoned. */
    static <T> NavigableMap<Long, T> readRevisions(Path dir, Reader<T> reader) throws IOException {
        NavigableMap<Long, T> revisions = new TreeMap<>();
        if (!Files.isDirectory(dir)) return revisions;
        for (Path file : sortedEntries(dir)) {
            String fileName = fileName(file);
            Matcher revision = REVISION_FILE.matcher(fileName);
            if (revision.matches()) {
                long number = Long.parseLong(revision.group(1));
                revisions.put(number, reader.read(file, number));
            } else if (fileName.startsWith(TEMP_PREFIX) && abandoned(file)) {
                Files.deleteIfExists(file);
            }
        }
        return revisions;
    }

    static List<Path> sortedEntries(Path directory) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
            stream.forEach(entries::add);
        }
        entries.sort(Comparator.comparing(RevisionFiles::fileName));
        return entries;
    }

    /** The last path element; zip filesystems end directory names with a slash. */
    static String fileName(Path path) {
        String name = path.getFileName().toString();
        return name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    }

    /** Creates a directory and its missing parents, syncing each parent so the new entry survives a crash. */
    static void createDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) return;
        Path parent = directory.toAbsolutePath().getParent();
        if (parent != null) createDirectory(parent);
        try {
            Files.createDirectory(directory);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(directory)) throw e;
            return; // a concurrent writer made it
        }
        if (parent != null) syncDirectory(parent);
    }

    private static boolean abandoned(Path file) {
        try {
            return Files.getLastModifiedTime(file).toInstant().isBefore(Instant.now().minus(ABANDONED_TEMP));
        } catch (IOException e) {
            return false; // gone already, or unreadable: leave it
        }
    }

    /** Makes a directory's entries (a new link, a new subdirectory) durable; not every platform can. */
    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.debugf("cannot sync directory %s: %s", directory, e);
        }
    }
}
