package io.headgate.model.lm;

import io.headgate.model.BundleManifest;

import java.util.function.Function;

/**
 * The static KV cache Headgate owns: per layer a key and a value tensor of
 * [slots, kvHeads, maxLength, headDim] (fp32, or fp16 for an fp16 graph). A stream owns a slot; a
 * run over slots [first, first + rows) sees a view of them, and the graph writes new keys and
 * values in place.
 *
 * <p>Where the cache lives is the graph's business, not its caller's: its memory is allocated by
 * the first forward pass that uses it — Java direct buffers for a graph run through
 * {@code OrtSession.run}, or memory the session allocates on its device for a graph run through
 * IOBinding (the GPU) — and it stays with that graph. {@link #close()} frees device memory early;
 * otherwise the graph frees it when it closes.
 */
public final class KvCache implements AutoCloseable {

    private final CacheGeometry geometry;
    /** Who allocated {@link #storage}: the host marker or a bound session. */
    private Object owner;
    private CacheStorage storage;
    private boolean closed;

    public KvCache(BundleManifest manifest, int slots) {
        if (slots <= 0) throw new IllegalArgumentException("slots must be positive");
        this.geometry = CacheGeometry.of(manifest, slots);
        long bytes = geometry.tensorElements() * geometry.elementBytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a cache of " + slots + " slots x " + manifest.maxLength()
                    + " positions exceeds 2 GiB per layer; use fewer slots or a shorter max length");
        }
    }

    public int slots() {
        return geometry.slots();
    }

    public int layers() {
        return geometry.layers();
    }

    CacheGeometry geometry() {
        return geometry;
    }

    /** True once a forward pass has allocated the cache in memory bound through IOBinding (on the GPU under CUDA). */
    public boolean bound() {
        return storage != null && !(storage instanceof HostCacheStorage);
    }

    /**
     * The cache's storage, allocated by {@code allocator} on first use. A cache stays with the graph
     * that allocated it, except that host buffers serve any graph run through {@code OrtSession.run}.
     */
    synchronized CacheStorage storage(Object allocator, Function<CacheGeometry, CacheStorage> allocate) {
        if (closed) throw new IllegalStateException("this KV cache is closed");
        if (storage == null) {
            storage = allocate.apply(geometry);
            owner = allocator;
        } else if (owner != allocator) {
            throw new IllegalStateException("this KV cache is held by another graph ("
                    + (storage instanceof HostCacheStorage ? "in host buffers" : "in memory bound to its session") + ")");
        }
        return storage;
    }

    /** Copies the first {@code length} positions of slot {@code from} into slot {@code to}, every layer. */
    public synchronized void move(int from, int to, int length) {
        checkPositions(from, length);
        geometry.checkSlots(to, 1);
        // an unallocated cache is all zeros: there is nothing to move
        if (storage != null && from != to) storage.move(from, to, length);
    }

    /** Exchanges two slots' first {@code lengthA} / {@code lengthB} positions, every layer. */
    public synchronized void swap(int a, int b, int lengthA, int lengthB) {
        checkPositions(a, lengthA);
        checkPositions(b, lengthB);
        if (storage != null && a != b) storage.swap(a, b, lengthA, lengthB);
    }

    private void checkPositions(int slot, int length) {
        geometry.checkSlots(slot, 1);
        if (length < 0 || length > geometry.maxLength()) {
            throw new IndexOutOfBoundsException("length " + length + " of slot " + slot + " is outside 0.." + geometry.maxLength());
        }
    }

    /** Frees the cache's memory now (device memory would otherwise wait for its graph to close); idempotent. */
    @Override
    public synchronized void close() {
        if (storage != null) storage.close();
        storage = null;
        closed = true;
    }
}
