package io.lightningdb;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The entries of a {@link Range} in key order (or reversed), seeing one point in time: the
 * moment the iterator was made (of a database or transaction) or the snapshot's. Entries are
 * fetched from the native library in chunks that grow as the iteration goes on, so a scan
 * crosses into native code rarely. For one thread at a time; {@link #close()} is thread-safe.
 *
 * <p>Close it when done (closing its database closes it too); after either, {@link #hasNext()}
 * and {@link #next()} throw {@link ClosedException}. An iterator that reached its end releases
 * its native resources by itself.
 */
public final class DbIterator implements Iterator<Entry>, AutoCloseable {
    private final LightningDb db;
    private final long handle;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The current chunk of entries, packed by the native library (see native/src/iter.rs). */
    private byte[] chunk = new byte[1024];
    private int offset;
    private int limit;
    private boolean done;

    DbIterator(LightningDb db, long handle) {
        this.db = db;
        this.handle = handle;
        NativeLibrary.freeWhenUnreachable(this, handle, DbIterator::nFree);
    }

    /**
     * Whether there is another entry.
     *
     * @return true if {@link #next()} has an entry to return
     * @throws ClosedException if the iterator or its database is closed
     * @throws CorruptionException if a damaged page is met
     */
    @Override
    public boolean hasNext() {
        checkOpen();
        if (offset < limit) {
            return true;
        }
        if (done) {
            return false;
        }
        int n = nNext(handle, chunk);
        if (n < 0) { // a chunk longer than the array: grow it and take the chunk
            chunk = new byte[-n];
            n = nNext(handle, chunk);
        }
        offset = 0;
        limit = n;
        if (n == 0) {
            done = true;
            if (chunk.length > 1 << 20) {
                chunk = new byte[0];
            }
            nClose(handle); // at the end: release the engine's iterator now
            return false;
        }
        return true;
    }

    /**
     * The next entry.
     *
     * @return the entry, with fresh arrays
     * @throws NoSuchElementException at the end
     * @throws ClosedException if the iterator or its database is closed
     */
    @Override
    public Entry next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        byte[] c = chunk;
        int at = offset;
        int keyLen = readInt(c, at);
        int valueLen = readInt(c, at + 4);
        int keyStart = at + 8;
        int valueStart = keyStart + keyLen;
        offset = valueStart + valueLen;
        return new Entry(Arrays.copyOfRange(c, keyStart, valueStart),
                Arrays.copyOfRange(c, valueStart, offset));
    }

    /** Releases the iterator. Idempotent and thread-safe. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            chunk = new byte[0];
            offset = 0;
            limit = 0;
            nClose(handle);
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new ClosedException("the iterator is closed");
        }
        db.checkOpen();
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16
                | (b[at + 3] & 0xFF) << 24;
    }

    private native int nNext(long handle, byte[] buffer);

    private native void nClose(long handle);

    private static native void nFree(long handle);
}
