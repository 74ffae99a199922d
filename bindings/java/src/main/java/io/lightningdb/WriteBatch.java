package io.lightningdb;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes applied together by {@link LightningDb#write(WriteBatch)}: after any crash they are
 * all present or all absent. Operations apply in the order added (a later put of a key wins).
 * The batch copies what it is given and holds it in Java memory; size limits (keys of 4096
 * bytes, values of 64 MiB) are checked when it is written. A batch may be written more than
 * once, to any database. For one thread at a time; {@link #close()} is thread-safe.
 */
public final class WriteBatch implements AutoCloseable {
    private static final byte PUT = 0;
    private static final byte DELETE = 1;

    private final AtomicBoolean closed = new AtomicBoolean();
    /** The operations, encoded as the native library reads them (see native/src/db.rs). */
    private byte[] buf = new byte[256];
    private int length;
    private int count;

    /** An empty batch. */
    public WriteBatch() {}

    /**
     * Adds: set {@code key} to {@code value}.
     *
     * @param key the key
     * @param value the value
     * @return this batch
     * @throws ClosedException if the batch is closed
     */
    public WriteBatch put(byte[] key, byte[] value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkOpen();
        reserve(9L + key.length + value.length);
        buf[length++] = PUT;
        append(key);
        append(value);
        count++;
        return this;
    }

    /**
     * Adds: remove {@code key} (an absent key is fine).
     *
     * @param key the key
     * @return this batch
     * @throws ClosedException if the batch is closed
     */
    public WriteBatch delete(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        reserve(5L + key.length);
        buf[length++] = DELETE;
        append(key);
        count++;
        return this;
    }

    /**
     * Removes every operation.
     *
     * @throws ClosedException if the batch is closed
     */
    public void clear() {
        checkOpen();
        length = 0;
        count = 0;
        if (buf.length > 1 << 20) {
            buf = new byte[256];
        }
    }

    /**
     * The number of operations added.
     *
     * @return the number of puts and deletes
     */
    public int size() {
        return count;
    }

    /**
     * Whether no operation was added.
     *
     * @return true if empty
     */
    public boolean isEmpty() {
        return count == 0;
    }

    /** Releases the batch's memory; later use throws {@link ClosedException}. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            buf = new byte[0];
            length = 0;
            count = 0;
        }
    }

    byte[] buffer() {
        checkOpen();
        return buf;
    }

    int length() {
        return length;
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new ClosedException("the write batch is closed");
        }
    }

    private void reserve(long more) {
        long needed = length + more;
        if (needed > Integer.MAX_VALUE - 16) {
            throw new InvalidArgumentException("the write batch is over 2 GiB");
        }
        if (needed > buf.length) {
            long grown = Math.max(needed, Math.min(2L * buf.length, Integer.MAX_VALUE - 16));
            buf = Arrays.copyOf(buf, (int) grown);
        }
    }

    private void append(byte[] bytes) {
        int n = bytes.length;
        buf[length] = (byte) n;
        buf[length + 1] = (byte) (n >>> 8);
        buf[length + 2] = (byte) (n >>> 16);
        buf[length + 3] = (byte) (n >>> 24);
        System.arraycopy(bytes, 0, buf, length + 4, n);
        length += 4 + n;
    }

    @Override
    public String toString() {
        return "WriteBatch[" + (closed.get() ? "closed" : count + " operations") + "]";
    }
}
