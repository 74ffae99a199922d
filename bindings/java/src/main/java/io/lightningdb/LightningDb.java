package io.lightningdb;

import java.lang.reflect.UndeclaredThrowableException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * An open Lightning DB database: a directory holding an ordered map of byte-string keys to
 * byte-string values, with atomic batches, snapshots and optimistic transactions.
 *
 * <pre>{@code
 * try (LightningDb db = LightningDb.open(Path.of("my.db"),
 *         Options.builder().cacheSize("64MiB").sync(true).build())) {
 *     db.put(key, value);
 *     byte[] v = db.get(key);                  // null if absent
 *     int n = db.transaction(Isolation.SERIALIZABLE, txn -> { ...; return 42; });
 * }
 * }</pre>
 *
 * <p>Thread-safe: share one instance between threads. One process may open a database at a
 * time (a second open throws {@link LockedException}). Close it when done; {@link #close()}
 * waits for calls in flight, closes the snapshots, iterators, transactions and bulk loads made
 * from it, and releases the directory at once. Any later use throws {@link ClosedException}.
 *
 * <p>Keys are 0 to 4096 bytes, values 0 to 64 MiB; larger ones throw {@link
 * InvalidArgumentException}. {@code null} keys and values throw {@link NullPointerException}.
 */
public final class LightningDb implements AutoCloseable {
    /** Retries of {@link #transaction(Isolation, TransactionFunction)} after a conflict. */
    public static final int DEFAULT_MAX_RETRIES = 10;

    private final long handle;
    private final Path path;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LightningDb(long handle, Path path) {
        this.handle = handle;
        this.path = path;
        NativeLibrary.freeWhenUnreachable(this, handle, LightningDb::nFree);
    }

    /**
     * Opens (or creates) the database in directory {@code path} with default options.
     *
     * @param path the database's directory
     * @return the open database
     * @throws LightningDbException if it cannot be opened (e.g. {@link LockedException})
     */
    public static LightningDb open(Path path) {
        return open(path, Options.defaults());
    }

    /**
     * Opens (or creates) the database in directory {@code path}.
     *
     * @param path the database's directory
     * @param options how to open it
     * @return the open database
     * @throws LightningDbException if it cannot be opened: {@link LockedException} if another
     *     process has it open, {@link ErrorCode#INVALID_OPTION} for a bad option, {@link
     *     ErrorCode#NOT_A_DATABASE}, {@link CorruptionException}, ...
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     */
    public static LightningDb open(Path path, Options options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        NativeLibrary.load();
        byte[] pathBytes = path.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] encoded = options.encode();
        long handle;
        try {
            handle = nOpen(pathBytes, encoded);
        } finally {
            Arrays.fill(encoded, (byte) 0); // it may hold a key or passphrase
        }
        return new LightningDb(handle, path);
    }

    /**
     * The value of {@code key}.
     *
     * @param key the key
     * @return a copy of the value, or {@code null} if the key is absent
     */
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        if (key.length <= Scratch.KEY_CAP) {
            // The fast path: one native call, no JNI calls back (see Scratch).
            Scratch s = Scratch.get();
            s.buffer.put(0, key);
            int n = nGetAt(handle, s.address, key.length, s.address + Scratch.KEY_CAP,
                    Scratch.VALUE_CAP);
            if (n < 0) {
                return null;
            }
            if (n <= Scratch.VALUE_CAP) {
                byte[] value = new byte[n];
                s.buffer.get(Scratch.KEY_CAP, value);
                return value;
            }
        }
        return nGet(handle, key);
    }

    /**
     * Copies the value of {@code key} into {@code value} without allocating. The key is read
     * from {@code key}'s position to its limit (neither changes). If the value fits in {@code
     * value}'s remaining space, it is copied at {@code value}'s position and {@code value}'s
     * limit is set to just after it (the position does not change: the buffer is ready to read
     * the value). If it does not fit, nothing is copied and neither buffer changes: call again
     * with a buffer of at least the returned length. Direct buffers are read and written in
     * place; heap buffers are copied.
     *
     * @param key the key
     * @param value where to copy the value
     * @return the value's length, or -1 if the key is absent
     */
    public int get(ByteBuffer key, ByteBuffer value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkOpen();
        if (value.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (key.isDirect() && value.isDirect()) {
            int n = nGetDirect(handle, key, key.position(), key.remaining(),
                    value, value.position(), value.remaining());
            if (n >= 0 && n <= value.remaining()) {
                value.limit(value.position() + n);
            }
            return n;
        }
        byte[] found = get(remaining(key));
        if (found == null) {
            return -1;
        }
        if (found.length <= value.remaining()) {
            value.duplicate().put(found);
            value.limit(value.position() + found.length);
        }
        return found.length;
    }

    /**
     * Sets {@code key} to {@code value}, with the durability of the option {@code sync}.
     *
     * @param key the key
     * @param value the value
     */
    public void put(byte[] key, byte[] value) {
        put(key, value, Durability.DEFAULT);
    }

    /**
     * Sets {@code key} to {@code value}.
     *
     * @param key the key
     * @param value the value
     * @param durability how durable the write is when this returns
     */
    public void put(byte[] key, byte[] value, Durability durability) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(durability, "durability");
        checkOpen();
        if ((long) key.length + value.length <= Scratch.SIZE) {
            // The fast path: one native call, no JNI calls back (see Scratch).
            Scratch s = Scratch.get();
            s.buffer.put(0, key).put(key.length, value);
            nPutAt(handle, s.address, key.length, value.length, durability.ordinal());
        } else {
            nPut(handle, key, value, durability.ordinal());
        }
    }

    /**
     * Sets the key in {@code key} to the value in {@code value} (each from its position to its
     * limit; the buffers do not change), with the durability of the option {@code sync}. Direct
     * buffers are read in place, without copying.
     *
     * @param key the key
     * @param value the value
     */
    public void put(ByteBuffer key, ByteBuffer value) {
        put(key, value, Durability.DEFAULT);
    }

    /**
     * Sets the key in {@code key} to the value in {@code value}; see {@link #put(ByteBuffer,
     * ByteBuffer)}.
     *
     * @param key the key
     * @param value the value
     * @param durability how durable the write is when this returns
     */
    public void put(ByteBuffer key, ByteBuffer value, Durability durability) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(durability, "durability");
        checkOpen();
        if (key.isDirect() && value.isDirect()) {
            nPutDirect(handle, key, key.position(), key.remaining(),
                    value, value.position(), value.remaining(), durability.ordinal());
        } else {
            nPut(handle, remaining(key), remaining(value), durability.ordinal());
        }
    }

    /**
     * Removes {@code key}, with the durability of the option {@code sync}; an absent key is
     * fine.
     *
     * @param key the key
     */
    public void delete(byte[] key) {
        delete(key, Durability.DEFAULT);
    }

    /**
     * Removes {@code key}; an absent key is fine.
     *
     * @param key the key
     * @param durability how durable the write is when this returns
     */
    public void delete(byte[] key, Durability durability) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(durability, "durability");
        checkOpen();
        nDelete(handle, key, durability.ordinal());
    }

    /**
     * Applies {@code batch} atomically, with the durability of the option {@code sync}. The
     * batch is unchanged and may be written again.
     *
     * @param batch the writes
     */
    public void write(WriteBatch batch) {
        write(batch, Durability.DEFAULT);
    }

    /**
     * Applies {@code batch} atomically.
     *
     * @param batch the writes
     * @param durability how durable the writes are when this returns
     */
    public void write(WriteBatch batch, Durability durability) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(durability, "durability");
        checkOpen();
        nWrite(handle, batch.buffer(), batch.length(), durability.ordinal());
    }

    /**
     * An iterator over the entries in {@code range}, seeing the database as of this call.
     * Close it when done (closing the database closes it too).
     *
     * @param range which keys, in which order
     * @return the iterator, for one thread at a time
     * @throws InvalidArgumentException for a key over the size limit in the range
     */
    public DbIterator range(Range range) {
        Objects.requireNonNull(range, "range");
        checkOpen();
        long it = nIter(handle, range.start(), range.end(), range.prefixBytes(),
                range.isReversed());
        return new DbIterator(this, it);
    }

    /**
     * A consistent read-only view of the database as of now. It never blocks writers, but holds
     * back the reuse of old data while open: close it when done.
     *
     * @return the snapshot
     */
    public Snapshot snapshot() {
        checkOpen();
        return new Snapshot(this, nSnapshot(handle));
    }

    /**
     * Begins a read-write transaction.
     *
     * @param isolation its isolation level
     * @return the transaction, for one thread at a time
     * @throws LightningDbException with code {@link ErrorCode#BUSY} beyond {@code
     *     max_active_transactions} open transactions
     */
    public Transaction begin(Isolation isolation) {
        return begin(isolation, false);
    }

    /**
     * Begins a transaction.
     *
     * @param isolation its isolation level
     * @param readOnly whether it only reads (it then never conflicts; a write throws {@link
     *     ErrorCode#READ_ONLY})
     * @return the transaction, for one thread at a time
     */
    public Transaction begin(Isolation isolation, boolean readOnly) {
        return begin(isolation, readOnly, Durability.DEFAULT);
    }

    /**
     * Begins a transaction whose commit has the given durability.
     *
     * @param isolation its isolation level
     * @param readOnly whether it only reads
     * @param durability how durable the commit is when it returns
     * @return the transaction, for one thread at a time
     */
    public Transaction begin(Isolation isolation, boolean readOnly, Durability durability) {
        Objects.requireNonNull(isolation, "isolation");
        Objects.requireNonNull(durability, "durability");
        checkOpen();
        return new Transaction(this, nBegin(handle, isolation.ordinal(), readOnly,
                durability.ordinal()));
    }

    /**
     * Runs {@code work} in a new snapshot-isolation transaction and commits it, again on
     * conflict; see {@link #transaction(Isolation, int, TransactionFunction)}.
     *
     * @param <T> what the work returns
     * @param work the transaction's work
     * @return what {@code work} returned
     */
    public <T> T transaction(TransactionFunction<T> work) {
        return transaction(Isolation.SNAPSHOT, DEFAULT_MAX_RETRIES, work);
    }

    /**
     * Runs {@code work} in a new transaction and commits it, again on conflict (up to {@value
     * #DEFAULT_MAX_RETRIES} more times); see {@link #transaction(Isolation, int,
     * TransactionFunction)}.
     *
     * @param <T> what the work returns
     * @param isolation the transactions' isolation level
     * @param work the transaction's work
     * @return what {@code work} returned
     */
    public <T> T transaction(Isolation isolation, TransactionFunction<T> work) {
        return transaction(isolation, DEFAULT_MAX_RETRIES, work);
    }

    /**
     * Runs {@code work} in a new transaction and commits it (unless {@code work} committed or
     * rolled back itself). On {@link ConflictException} (from the commit or from {@code work})
     * it waits a short random time and runs {@code work} again in a new transaction, up to
     * {@code maxRetries} more times, then lets the conflict through. Any other exception rolls
     * the transaction back and propagates: unchecked ones as they are, checked ones wrapped in
     * an {@link UndeclaredThrowableException}.
     *
     * @param <T> what the work returns
     * @param isolation the transactions' isolation level
     * @param maxRetries how many times to run again after a conflict (0: never)
     * @param work the transaction's work; it may run more than once
     * @return what {@code work} returned
     */
    public <T> T transaction(Isolation isolation, int maxRetries, TransactionFunction<T> work) {
        Objects.requireNonNull(isolation, "isolation");
        Objects.requireNonNull(work, "work");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries < 0");
        }
        for (int attempt = 0; ; attempt++) {
            try (Transaction txn = begin(isolation)) {
                T result = work.apply(txn);
                if (!txn.isFinished()) {
                    txn.commit();
                }
                return result;
            } catch (ConflictException e) {
                if (attempt >= maxRetries) {
                    throw e;
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new UndeclaredThrowableException(e, "the transaction's work threw " + e);
            }
            // Colliding transactions drift apart after a random pause that grows per attempt.
            long bound = 20_000L << Math.min(attempt, 9);
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(bound / 2, bound));
        }
    }

    /**
     * Begins a bulk load: sorted pairs written straight into the tree and made durable and
     * visible at once by {@link BulkLoad#commit()}, with bounded memory however many come. Until
     * the load is finished it is the database's only writer: other writes, {@link #flush()},
     * {@link #compact()} and another bulk load throw {@link ErrorCode#BUSY}; reads see the
     * database as before the load. Close it when done (try-with-resources): a load closed
     * without {@link BulkLoad#commit()} is abandoned.
     *
     * @return the bulk load
     * @throws LightningDbException with code {@link ErrorCode#BUSY} while another bulk load is
     *     open
     */
    public BulkLoad bulkLoad() {
        checkOpen();
        return new BulkLoad(this, nBulkLoad(handle));
    }

    /** Makes every write so far durable, including buffered ones. */
    public void sync() {
        checkOpen();
        nSync(handle);
    }

    /** Merges everything in memory into the page file. */
    public void flush() {
        checkOpen();
        nFlush(handle);
    }

    /**
     * Gives the page file's free space back to the file system while the database stays open:
     * merges what is in memory, moves the tree out of the file's tail and cuts the file. Readers
     * and writers on other threads go on, and a crash at any point loses nothing. Pages an open
     * snapshot, iterator or transaction still reads stay until it is closed. Also runs by itself
     * when free pages pass a third of a page file of 64 MiB or more.
     *
     * @return the bytes the page file shrank by
     */
    public long compact() {
        checkOpen();
        return nCompact(handle);
    }

    /**
     * Changes the key or passphrase of this encrypted database to the {@code encryption_key} or
     * {@code passphrase} in {@code options} (with {@code kdf} and its costs for a passphrase);
     * the other options are ignored. Only the wrapped data key is rewritten, atomically: if the
     * call fails or the process dies during it, the old key or the new one opens the database,
     * never neither. Once it returns, only the new key or passphrase opens the database; a
     * passphrase may replace a key and the other way round. The database stays open.
     *
     * <pre>{@code
     * db.rekey(Options.builder().passphrase(newPassphrase).build());
     * }</pre>
     *
     * @param options the new key or passphrase
     * @throws InvalidArgumentException if the database is not encrypted
     * @throws LightningDbException with code {@link ErrorCode#INVALID_OPTION} if {@code options}
     *     hold no key or passphrase, or both, or a bad value
     */
    public void rekey(Options options) {
        Objects.requireNonNull(options, "options");
        checkOpen();
        byte[] encoded = options.encode();
        try {
            nRekey(handle, encoded);
        } finally {
            Arrays.fill(encoded, (byte) 0); // it holds a key or passphrase
        }
    }

    /**
     * Counters and sizes, by name (e.g. {@code open_transactions}, {@code pinned_pages}). Only
     * numeric ones are included.
     *
     * @return an unmodifiable map, in the engine's order
     */
    public Map<String, Long> stats() {
        checkOpen();
        Map<String, Long> stats = new LinkedHashMap<>();
        for (String line : nStats(handle).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                try {
                    stats.put(line.substring(0, eq), Long.parseUnsignedLong(line.substring(eq + 1)));
                } catch (NumberFormatException e) {
                    // not a number (e.g. background_error): left out
                }
            }
        }
        return Collections.unmodifiableMap(stats);
    }

    /**
     * Reads and checks every page and write-ahead-log record.
     *
     * @return what was checked, one {@code name=value} line each
     * @throws CorruptionException naming the fault, if one is found
     */
    public String verify() {
        checkOpen();
        return nVerify(handle);
    }

    /**
     * The directory the database lives in.
     *
     * @return the path given to {@link #open(Path, Options)}
     */
    public Path path() {
        return path;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Closes the database: waits for calls in flight, closes its snapshots, iterators,
     * transactions (rolling back uncommitted ones) and bulk load (abandoned unless committed),
     * merges and releases the directory. Idempotent and thread-safe.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            nClose(handle);
        }
    }

    @Override
    public String toString() {
        return "LightningDb[" + path + (closed.get() ? ", closed]" : "]");
    }

    void checkOpen() {
        if (closed.get()) {
            throw new ClosedException("the database is closed");
        }
    }

    /** The bytes from a buffer's position to its limit, as a new array (the buffer is unchanged). */
    private static byte[] remaining(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static native long nOpen(byte[] path, byte[] options);

    private native byte[] nGet(long handle, byte[] key);

    /** The address of a direct buffer (for {@link Scratch}). */
    static native long nAddress(ByteBuffer buffer);

    private native int nGetAt(long handle, long keyAddress, int keyLen, long valueAddress,
            int valueCap);

    private native void nPutAt(long handle, long address, int keyLen, int valueLen,
            int durability);

    private native int nGetDirect(long handle, ByteBuffer key, int keyPos, int keyLen,
            ByteBuffer value, int valuePos, int valueCap);

    private native void nPut(long handle, byte[] key, byte[] value, int durability);

    private native void nPutDirect(long handle, ByteBuffer key, int keyPos, int keyLen,
            ByteBuffer value, int valuePos, int valueLen, int durability);

    private native void nDelete(long handle, byte[] key, int durability);

    private native void nWrite(long handle, byte[] ops, int length, int durability);

    private native long nSnapshot(long handle);

    private native long nIter(long handle, byte[] start, byte[] end, byte[] prefix,
            boolean reverse);

    private native long nBegin(long handle, int isolation, boolean readOnly, int durability);

    private native long nBulkLoad(long handle);

    private native void nSync(long handle);

    private native void nFlush(long handle);

    private native long nCompact(long handle);

    private native void nRekey(long handle, byte[] options);

    private native String nStats(long handle);

    private native String nVerify(long handle);

    private native void nClose(long handle);

    private static native void nFree(long handle);
}
