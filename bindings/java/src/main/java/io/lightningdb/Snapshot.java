package io.lightningdb;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A consistent read-only view of a database as of the moment {@link LightningDb#snapshot()}
 * was called, however long it lives; it never blocks writers. Thread-safe. Close it when done
 * (closing the database closes it too); later use throws {@link ClosedException}.
 */
public final class Snapshot implements AutoCloseable {
    private final LightningDb db;
    private final long handle;
    private final AtomicBoolean closed = new AtomicBoolean();

    Snapshot(LightningDb db, long handle) {
        this.db = db;
        this.handle = handle;
        NativeLibrary.freeWhenUnreachable(this, handle, Snapshot::nFree);
    }

    /**
     * The value of {@code key} in the snapshot.
     *
     * @param key the key
     * @return a copy of the value, or {@code null} if the key is absent
     */
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        return nGet(handle, key);
    }

    /**
     * An iterator over the entries of {@code range} in the snapshot.
     *
     * @param range which keys, in which order
     * @return the iterator, for one thread at a time
     */
    public DbIterator range(Range range) {
        Objects.requireNonNull(range, "range");
        checkOpen();
        long it = nIter(handle, range.start(), range.end(), range.prefixBytes(),
                range.isReversed());
        return new DbIterator(db, it);
    }

    /**
     * The sequence number of the last write the snapshot sees.
     *
     * @return the sequence number
     */
    public long sequence() {
        checkOpen();
        return nSequence(handle);
    }

    /**
     * Whether the snapshot or its database was closed.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed.get() || db.isClosed();
    }

    /** Releases the snapshot. Idempotent and thread-safe. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            nClose(handle);
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new ClosedException("the snapshot is closed");
        }
        db.checkOpen();
    }

    private native byte[] nGet(long handle, byte[] key);

    private native long nIter(long handle, byte[] start, byte[] end, byte[] prefix,
            boolean reverse);

    private native long nSequence(long handle);

    private native void nClose(long handle);

    private static native void nFree(long handle);
}
