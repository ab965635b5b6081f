package io.headgate.model.lm;

/**
 * Where a {@link KvCache}'s keys and values live: Java direct buffers passed to every run
 * ({@link HostCacheStorage}), or memory a session allocated on its device and binds through IOBinding
 * ({@link BoundSession#allocate}). Slot indices are checked by the cache before they get here.
 */
public interface CacheStorage extends AutoCloseable {

    CacheGeometry geometry();

    /** Copies the first {@code length} positions of slot {@code from} into slot {@code to}, every layer (a storage may copy more). */
    void move(int from, int to, int length);

    /** Exchanges two slots' first {@code lengthA} / {@code lengthB} positions, every layer (a storage may exchange more). */
    void swap(int a, int b, int lengthA, int lengthB);

    /** Frees what the storage allocated; idempotent. */
    @Override
    void close();
}
