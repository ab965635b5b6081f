package io.headgate.steer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Revisions as files {@code <dir>/<model>/<name>/<revision>.json} on one machine, written with
 * {@link RevisionFiles#publish} (a hard link that fails if the revision exists). Everything is
 * read once at open; processes sharing the directory learn of each other's revisions only when a
 * write collides ({@link #history}).
 */
public final class FileRevisionStore<R extends Revisioned> implements RevisionStore<R> {

    private final Path dir;
    private final RevisionCodec<R> codec;

    public FileRevisionStore(Path dir, RevisionCodec<R> codec) throws IOException {
        this.dir = dir;
        this.codec = codec;
        RevisionFiles.createDirectory(dir);
    }

    @Override
    public void open(Sink<R> sink) throws IOException {
        for (Path modelDir : RevisionFiles.sortedEntries(dir)) {
            String model = RevisionFiles.fileName(modelDir);
            if (!Files.isDirectory(modelDir) || !ProfileValidator.isValidName(model)) continue;
            for (Path nameDir : RevisionFiles.sortedEntries(modelDir)) {
                String name = RevisionFiles.fileName(nameDir);
                if (!Files.isDirectory(nameDir) || !ProfileValidator.isValidName(name)) continue;
                for (R entry : history(model, name)) sink.accept(entry, false);
            }
        }
    }

    @Override
    public boolean create(R entry) throws IOException {
        return RevisionFiles.publish(nameDir(entry.model(), entry.name()), entry.revision(), codec.encode(entry));
    }

    /** Every published revision of one name; skips temp files and removes those a crash abandoned. */
    @Override
    public List<R> history(String model, String name) throws IOException {
        return new ArrayList<>(RevisionFiles.readRevisions(nameDir(model, name),
                (file, number) -> codec.decode(Files.readAllBytes(file), model, name, number, file.toString())).values());
    }

    @Override
    public Health health() {
        return new Health(true, "files under " + dir);
    }

    @Override
    public void whenLoaded(Runnable task) {
        task.run();
    }

    @Override
    public void close() {
        // nothing held open
    }

    private Path nameDir(String model, String name) {
        return dir.resolve(model).resolve(name);
    }
}
