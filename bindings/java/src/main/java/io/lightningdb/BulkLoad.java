package io.lightningdb;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A bulk load, begun by {@link LightningDb#bulkLoad()}: pairs given in strictly ascending key
 * order (bytewise, unsigned, as the database sorts) go straight into the tree, not through the
 * write-ahead log and the memtable, and {@link #commit()} makes them all durable and visible at
 * once. Memory stays bounded (the pairs are written in chunks of a few MiB), so a load may be
 * of any size. A pair replaces the value its key has in the database.
 *
 * <pre>{@code
 * try (BulkLoad load = db.bulkLoad()) {
 *     for (...) {
 *         load.put(key, value);                // keys in ascending order
 *     }
 *     load.commit();                           // without it, close() abandons the load
 * }
 * }</pre>
 *
 * <p>While open, the load is the database's only writer: {@link LightningDb#put(byte[],
 * byte[]) put}, {@link LightningDb#delete(byte[]) delete}, {@link LightningDb#write(WriteBatch)
 * write}, a transaction's {@link Transaction#commit() commit}, {@link LightningDb#flush()
 * flush}, {@link LightningDb#compact() compact} and another {@link LightningDb#bulkLoad()}
 * throw {@link LightningDbException} with code {@link ErrorCode#BUSY}. Reads go on and see the
 * database as before the load.
 *
 * <p>The calls are thread-safe, but the keys must come in order, so feed a load from one thread.
 * A load is finished by {@link #commit()}, {@link #abort()} or {@link #close()} (which abandons
 * it unless committed); using it afterwards throws {@link ClosedException}. Closing the
 * database abandons its open load.
 */
public final class BulkLoad implements AutoCloseable {
    private final LightningDb db;
    private final long handle;
    private final AtomicBoolean closed = new AtomicBoolean();

    BulkLoad(LightningDb db, long handle) {
        this.db = db;
        this.handle = handle;
        NativeLibrary.freeWhenUnreachable(this, handle, BulkLoad::nFree);
    }

    /**
     * Adds {@code key} with {@code value}, to be written when the load commits.
     *
     * @param key the key; it must sort after the previous pair's key
     * @param value the value
     * @throws InvalidArgumentException if {@code key} does not sort after the previous pair's
     *     key (the load goes on without this pair), or for a key or value over the size limit
     * @throws ClosedException if the load is finished or its database closed
     */
    public void put(byte[] key, byte[] value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkOpen();
        if ((long) key.length + value.length <= Scratch.SIZE) {
            // The fast path, as LightningDb.put's: one native call, no JNI calls back.
            Scratch s = Scratch.get();
            s.buffer.put(0, key).put(key.length, value);
            nPutAt(handle, s.address, key.length, value.length);
        } else {
            nPut(handle, key, value);
        }
    }

    /**
     * Makes every pair durable and visible at once, and lets other writers write again. The load
     * is finished either way (a failed one is abandoned).
     *
     * @throws ClosedException if the load is finished or its database closed
     */
    public void commit() {
        checkOpen();
        try {
            nCommit(handle);
        } finally {
            close();
        }
    }

    /**
     * Abandons the load: nothing it was given is written, and other writers may write again.
     *
     * @throws ClosedException if the load is finished or its database closed
     */
    public void abort() {
        checkOpen();
        try {
            nAbort(handle);
        } finally {
            close();
        }
    }

    /**
     * Whether the load was committed, aborted or closed (or its database closed).
     *
     * @return true once finished
     */
    public boolean isFinished() {
        return closed.get() || db.isClosed();
    }

    /** Abandons the load unless committed, and releases it. Idempotent, thread-safe. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            nClose(handle);
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new ClosedException("the bulk load is finished");
        }
        db.checkOpen();
    }

    private native void nPut(long handle, byte[] key, byte[] value);

    private native void nPutAt(long handle, long address, int keyLen, int valueLen);

    private native void nCommit(long handle);

    private native void nAbort(long handle);

    private native void nClose(long handle);

    private static native void nFree(long handle);
}
