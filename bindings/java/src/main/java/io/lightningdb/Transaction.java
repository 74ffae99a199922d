package io.lightningdb;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A transaction: reads see the database as of {@link LightningDb#begin(Isolation)} plus the
 * transaction's own writes; {@link #commit()} applies the writes atomically, or throws {@link
 * ConflictException} if a concurrent commit got in the way (see {@link Isolation}). Concurrency
 * is optimistic: nothing is locked and writers are never blocked.
 *
 * <p>For one thread at a time. A transaction is finished by {@link #commit()}, {@link
 * #rollback()} or {@link #close()} (which rolls back unless committed); using it afterwards
 * throws {@link ClosedException}. Closing the database rolls back its open transactions.
 */
public final class Transaction implements AutoCloseable {
    private final LightningDb db;
    private final long handle;
    private final AtomicBoolean closed = new AtomicBoolean();

    Transaction(LightningDb db, long handle) {
        this.db = db;
        this.handle = handle;
        NativeLibrary.freeWhenUnreachable(this, handle, Transaction::nFree);
    }

    /**
     * The value of {@code key} as this transaction sees it.
     *
     * @param key the key
     * @return a copy of the value, or {@code null} if absent
     */
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        return nGet(handle, key);
    }

    /**
     * Sets {@code key} to {@code value} when the transaction commits.
     *
     * @param key the key
     * @param value the value
     * @throws LightningDbException with code {@link ErrorCode#READ_ONLY} in a read-only
     *     transaction
     */
    public void put(byte[] key, byte[] value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkOpen();
        nPut(handle, key, value);
    }

    /**
     * Removes {@code key} when the transaction commits.
     *
     * @param key the key
     */
    public void delete(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        nDelete(handle, key);
    }

    /**
     * An iterator over the entries of {@code range} as this transaction sees them (its own
     * writes included, as of this call). Under serializable isolation the range counts as read.
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
     * Applies the writes atomically. The transaction is finished either way.
     *
     * @throws ConflictException if a concurrent commit got in the way: run it again
     */
    public void commit() {
        checkOpen();
        try {
            nCommit(handle);
        } finally {
            close();
        }
    }

    /** Discards the writes; the transaction is finished. */
    public void rollback() {
        checkOpen();
        try {
            nRollback(handle);
        } finally {
            close();
        }
    }

    /**
     * Whether the transaction was committed, rolled back or closed (or its database closed).
     *
     * @return true once finished
     */
    public boolean isFinished() {
        return closed.get() || db.isClosed();
    }

    /** Rolls back unless committed, and releases the transaction. Idempotent, thread-safe. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            nClose(handle);
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new ClosedException("the transaction is finished");
        }
        db.checkOpen();
    }

    private native byte[] nGet(long handle, byte[] key);

    private native void nPut(long handle, byte[] key, byte[] value);

    private native void nDelete(long handle, byte[] key);

    private native long nIter(long handle, byte[] start, byte[] end, byte[] prefix,
            boolean reverse);

    private native void nCommit(long handle);

    private native void nRollback(long handle);

    private native void nClose(long handle);

    private static native void nFree(long handle);
}
