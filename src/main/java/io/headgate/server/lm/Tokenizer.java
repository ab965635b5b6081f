package io.headgate.server.lm;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A model's Hugging Face tokenizer, safe to close while request and canary threads still use it.
 * The native tokenizer is freed on close; an encode racing that free read freed memory and
 * aborted the JVM, so calls hold a read lock, close takes the write lock, and a call after close
 * fails as an ordinary exception.
 */
public final class Tokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private Tokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static Tokenizer load(Path tokenizerJson) throws java.io.IOException {
        // DJL truncates to 512 tokens unless told not to; a longer prompt must reach the length
        // check whole, to be refused for its length rather than for the characters cut off
        return new Tokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("truncation", "false")));
    }

    public long[] encode(String text) {
        lock.readLock().lock();
        try {
            ensureOpen();
            return tokenizer.encode(text).getIds();
        } finally {
            lock.readLock().unlock();
        }
    }

    public String decode(long[] ids) {
        lock.readLock().lock();
        try {
            ensureOpen();
            return tokenizer.decode(ids, true);
        } finally {
            lock.readLock().unlock();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("the model's tokenizer is closed (the model was unloaded)");
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) tokenizer.close();
            closed = true;
        } finally {
            lock.writeLock().unlock();
        }
    }
}
