package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.UndeclaredThrowableException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole API on one open database. */
class DatabaseTest {
    @TempDir
    Path tmp;

    LightningDb db;

    @BeforeEach
    void open() {
        db = LightningDb.open(tmp.resolve("db"), Options.builder().sync(false).build());
    }

    @AfterEach
    void close() {
        db.close();
    }

    private List<String> keys(DbIterator it) {
        List<String> keys = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                keys.add(s(it.next().key()));
            }
        }
        return keys;
    }

    @Test
    void putGetDelete() {
        assertNull(db.get(b("k")));
        db.put(b("k"), b("v"));
        assertEquals("v", s(db.get(b("k"))));
        db.put(b("k"), b("v2"), Durability.SYNC);
        assertEquals("v2", s(db.get(b("k"))));
        db.delete(b("k"));
        assertNull(db.get(b("k")));
        db.delete(b("absent"), Durability.BUFFERED);
        db.put(new byte[0], new byte[0]);
        assertArrayEquals(new byte[0], db.get(new byte[0]));
    }

    @Test
    void binaryKeysSortUnsigned() {
        db.put(new byte[] {(byte) 0xFF}, b("high"));
        db.put(new byte[] {0x01}, b("low"));
        db.put(new byte[] {0x00, 0x00}, b("zero"));
        List<byte[]> keys = new ArrayList<>();
        try (DbIterator it = db.range(Range.all())) {
            it.forEachRemaining(e -> keys.add(e.key()));
        }
        assertArrayEquals(new byte[] {0x00, 0x00}, keys.get(0));
        assertArrayEquals(new byte[] {0x01}, keys.get(1));
        assertArrayEquals(new byte[] {(byte) 0xFF}, keys.get(2));
    }

    @Test
    void largeValuesRoundTrip() {
        for (int size : new int[] {2047, 2048, 2049, 100_000, 3 << 20}) {
            byte[] value = new byte[size];
            new java.util.Random(size).nextBytes(value);
            db.put(b("big" + size), value);
            assertArrayEquals(value, db.get(b("big" + size)), "size " + size);
        }
        byte[] key = new byte[4096];
        Arrays.fill(key, (byte) 'k');
        db.put(key, b("longest key"));
        assertEquals("longest key", s(db.get(key)));
    }

    @Test
    void arraysAreCopied() {
        byte[] key = b("k");
        byte[] value = b("v");
        db.put(key, value);
        value[0] = 'x';
        key[0] = 'y';
        assertEquals("v", s(db.get(b("k"))));
        byte[] got = db.get(b("k"));
        got[0] = 'z';
        assertEquals("v", s(db.get(b("k"))));
    }

    @Test
    void directBuffers() {
        ByteBuffer key = ByteBuffer.allocateDirect(32);
        key.put(b("xxdirect-key")).flip().position(2); // the key is position..limit
        ByteBuffer value = ByteBuffer.allocateDirect(32).put(b("direct-value")).flip();
        db.put(key, value);
        assertEquals(2, key.position());
        assertEquals(0, value.position());
        assertEquals("direct-value", s(db.get(b("direct-key"))));

        ByteBuffer out = ByteBuffer.allocateDirect(64);
        out.position(3);
        assertEquals(12, db.get(key, out));
        assertEquals(3, out.position());
        assertEquals(15, out.limit());
        byte[] read = new byte[out.remaining()];
        out.get(read);
        assertEquals("direct-value", s(read));

        ByteBuffer small = ByteBuffer.allocateDirect(4);
        assertEquals(12, db.get(key, small)); // too small: nothing copied, nothing changed
        assertEquals(0, small.position());
        assertEquals(4, small.limit());
        assertEquals(0, small.get(0));

        ByteBuffer absent = ByteBuffer.allocateDirect(8).put(b("nokey")).flip();
        assertEquals(-1, db.get(absent, out.clear()));

        // One buffer as key and value: the value overwrites the key.
        ByteBuffer same = ByteBuffer.allocateDirect(32).put(b("direct-key")).flip();
        same.limit(same.capacity());
        ByteBuffer keyView = same.duplicate().limit(10);
        assertEquals(12, db.get(keyView, same));
        byte[] overwritten = new byte[12];
        same.get(overwritten);
        assertEquals("direct-value", s(overwritten));

        ByteBuffer empty = ByteBuffer.allocateDirect(0);
        db.put(empty, empty, Durability.BUFFERED);
        assertEquals(0, db.get(empty, ByteBuffer.allocateDirect(1)));
    }

    @Test
    void heapBuffers() {
        ByteBuffer key = ByteBuffer.wrap(b("heap-key"));
        db.put(key, ByteBuffer.wrap(b("heap-value")));
        assertEquals("heap-value", s(db.get(b("heap-key"))));
        ByteBuffer out = ByteBuffer.allocate(20);
        assertEquals(10, db.get(key, out));
        assertEquals(10, out.limit());
        assertEquals("heap-value", s(Arrays.copyOf(out.array(), 10)));
        ByteBuffer direct = ByteBuffer.allocateDirect(20);
        assertEquals(10, db.get(key, direct)); // mixed heap key, direct value
        assertEquals(-1, db.get(ByteBuffer.wrap(b("absent")), out));
        assertThrows(java.nio.ReadOnlyBufferException.class,
                () -> db.get(key, ByteBuffer.allocate(4).asReadOnlyBuffer()));
    }

    @Test
    void writeBatch() {
        db.put(b("gone"), b("x"));
        try (WriteBatch batch = new WriteBatch()) {
            assertTrue(batch.isEmpty());
            batch.put(b("a"), b("1")).put(b("b"), b("2")).delete(b("gone")).put(b("a"), b("3"));
            assertEquals(4, batch.size());
            db.write(batch);
            assertEquals("3", s(db.get(b("a"))));
            assertEquals("2", s(db.get(b("b"))));
            assertNull(db.get(b("gone")));
            batch.clear();
            assertEquals(0, batch.size());
            db.write(batch, Durability.SYNC); // empty: fine
            for (int i = 0; i < 5000; i++) { // grows past its first buffer
                batch.put(b("many" + i), new byte[100]);
            }
            db.write(batch, Durability.BUFFERED);
            assertEquals(100, db.get(b("many4999")).length);
        }
    }

    @Test
    void writeBatchLimitsAreCheckedOnWrite() {
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(b("fine"), b("x")).put(new byte[5000], b("x"));
            assertThrows(InvalidArgumentException.class, () -> db.write(batch));
            assertNull(db.get(b("fine"))); // all or nothing
        }
    }

    @Test
    void ranges() {
        for (String k : List.of("a", "b", "ba", "bb", "c", "d")) {
            db.put(b(k), b("v" + k));
        }
        assertEquals(List.of("a", "b", "ba", "bb", "c", "d"), keys(db.range(Range.all())));
        assertEquals(List.of("d", "c", "bb", "ba", "b", "a"),
                keys(db.range(Range.all().reversed())));
        assertEquals(List.of("ba", "bb", "c", "d"), keys(db.range(Range.from(b("ba")))));
        assertEquals(List.of("d", "c", "bb", "ba"),
                keys(db.range(Range.from(b("ba")).reversed())));
        assertEquals(List.of("b", "ba", "bb"), keys(db.range(Range.between(b("b"), b("c")))));
        assertEquals(List.of("bb", "ba", "b"),
                keys(db.range(Range.between(b("b"), b("c")).reversed())));
        assertEquals(List.of("b", "ba", "bb"), keys(db.range(Range.prefix(b("b")))));
        assertEquals(List.of("bb", "ba", "b"), keys(db.range(Range.prefix(b("b")).reversed())));
        assertEquals(List.of(), keys(db.range(Range.prefix(b("x")))));
        assertEquals(List.of(), keys(db.range(Range.between(b("c"), b("c")))));
        try (DbIterator it = db.range(Range.prefix(b("c")))) {
            Entry e = it.next();
            assertEquals(new Entry(b("c"), b("vc")), e);
            assertFalse(it.hasNext());
            assertFalse(it.hasNext());
            assertThrows(NoSuchElementException.class, it::next);
        }
    }

    @Test
    void rangeValues() {
        Range r = Range.between(b("a"), b("b"));
        assertEquals(r, Range.between(b("a"), b("b")));
        assertNotEquals(r, r.reversed());
        assertEquals(r, r.reversed().reversed());
        assertEquals(r.hashCode(), Range.between(b("a"), b("b")).hashCode());
        assertTrue(r.reversed().isReversed());
        assertSame(Range.all(), Range.all());
        assertEquals("Range[prefix=70, reversed]", Range.prefix(b("p")).reversed().toString());
        assertEquals("Range[all]", Range.all().toString());
        byte[] start = b("s");
        Range from = Range.from(start);
        start[0] = 'x'; // copied
        assertEquals(Range.from(b("s")), from);
        assertThrows(NullPointerException.class, () -> Range.prefix(null));
    }

    @Test
    void entryValues() {
        Entry e = new Entry(b("k"), b("v"));
        assertEquals(e, new Entry(b("k"), b("v")));
        assertNotEquals(e, new Entry(b("k"), b("w")));
        assertEquals(e.hashCode(), new Entry(b("k"), b("v")).hashCode());
        assertEquals("Entry[key=6b, value=76]", e.toString());
    }

    @Test
    void longScanCrossesManyChunks() {
        try (WriteBatch batch = new WriteBatch()) {
            for (int i = 0; i < 3000; i++) {
                batch.put(b(String.format("k%05d", i)), b("value" + i));
            }
            db.write(batch);
        }
        int n = 0;
        try (DbIterator it = db.range(Range.all())) {
            while (it.hasNext()) {
                Entry e = it.next();
                assertEquals(String.format("k%05d", n), s(e.key()));
                assertEquals("value" + n, s(e.value()));
                n++;
            }
        }
        assertEquals(3000, n);
        // Big values: chunks are capped by size too.
        for (int i = 0; i < 10; i++) {
            db.put(b("z" + i), new byte[300_000]);
        }
        try (DbIterator it = db.range(Range.prefix(b("z")))) {
            int count = 0;
            while (it.hasNext()) {
                assertEquals(300_000, it.next().value().length);
                count++;
            }
            assertEquals(10, count);
        }
    }

    @Test
    void iteratorSeesOnePointInTime() {
        db.put(b("a"), b("1"));
        try (DbIterator it = db.range(Range.all())) {
            db.put(b("b"), b("2"));
            db.delete(b("a"));
            assertEquals("a", s(it.next().key()));
            assertFalse(it.hasNext());
        }
    }

    @Test
    void snapshots() {
        db.put(b("k"), b("old"));
        try (Snapshot snap = db.snapshot()) {
            long seq = snap.sequence();
            db.put(b("k"), b("new"));
            db.put(b("k2"), b("added"));
            assertEquals("old", s(snap.get(b("k"))));
            assertNull(snap.get(b("k2")));
            assertEquals(List.of("k"), keys(snap.range(Range.all())));
            assertEquals(List.of("k"), keys(snap.range(Range.prefix(b("k")).reversed())));
            assertEquals(seq, snap.sequence());
            assertFalse(snap.isClosed());
        }
        try (Snapshot later = db.snapshot()) {
            assertEquals("new", s(later.get(b("k"))));
        }
    }

    @Test
    void transactionCommitAndRollback() {
        db.put(b("k"), b("1"));
        try (Transaction t = db.begin(Isolation.SNAPSHOT)) {
            assertEquals("1", s(t.get(b("k"))));
            t.put(b("k"), b("2"));
            t.put(b("n"), b("new"));
            t.delete(b("gone"));
            assertEquals("2", s(t.get(b("k")))); // its own writes
            assertNull(db.get(b("n"))); // not visible before commit
            assertEquals(List.of("k", "n"), keys(t.range(Range.all())));
            t.commit();
            assertTrue(t.isFinished());
            assertThrows(ClosedException.class, () -> t.get(b("k")));
        }
        assertEquals("2", s(db.get(b("k"))));
        try (Transaction t = db.begin(Isolation.SERIALIZABLE)) {
            t.put(b("k"), b("3"));
            t.rollback();
            assertThrows(ClosedException.class, t::commit);
        }
        try (Transaction t = db.begin(Isolation.SNAPSHOT, false, Durability.SYNC)) {
            t.put(b("k"), b("4")); // closed without commit: rolled back
        }
        assertEquals("2", s(db.get(b("k"))));
    }

    @Test
    void readOnlyTransaction() {
        db.put(b("k"), b("v"));
        try (Transaction t = db.begin(Isolation.SERIALIZABLE, true)) {
            assertEquals("v", s(t.get(b("k"))));
            LightningDbException e = assertThrows(LightningDbException.class,
                    () -> t.put(b("k"), b("w")));
            assertEquals(ErrorCode.READ_ONLY, e.getCode());
            e = assertThrows(LightningDbException.class, () -> t.delete(b("k")));
            assertEquals(ErrorCode.READ_ONLY, e.getCode());
            t.commit();
        }
    }

    @Test
    void transactionHelper() {
        int n = db.transaction(Isolation.SERIALIZABLE, txn -> {
            txn.put(b("counter"), b("1"));
            return 42;
        });
        assertEquals(42, n);
        assertEquals("1", s(db.get(b("counter"))));
        String r = db.transaction(txn -> {
            txn.put(b("self"), b("committed"));
            txn.commit(); // committing itself is fine
            return "done";
        });
        assertEquals("done", r);
        assertEquals("committed", s(db.get(b("self"))));
    }

    @Test
    void transactionHelperRetriesConflicts() {
        db.put(b("counter"), b("0"));
        AtomicInteger runs = new AtomicInteger();
        int result = db.transaction(Isolation.SNAPSHOT, txn -> {
            int value = Integer.parseInt(s(txn.get(b("counter"))));
            if (runs.incrementAndGet() <= 2) {
                db.put(b("counter"), b(Integer.toString(value + 10))); // a concurrent write
            }
            txn.put(b("counter"), b(Integer.toString(value + 1)));
            return value + 1;
        });
        assertEquals(3, runs.get());
        assertEquals(21, result);
        assertEquals("21", s(db.get(b("counter"))));
    }

    @Test
    void transactionHelperGivesUpAfterMaxRetries() {
        AtomicInteger runs = new AtomicInteger();
        assertThrows(ConflictException.class, () -> db.transaction(Isolation.SNAPSHOT, 2, txn -> {
            runs.incrementAndGet();
            txn.get(b("k"));
            db.put(b("k"), b("other"));
            txn.put(b("k"), b("mine"));
            return null;
        }));
        assertEquals(3, runs.get());
        assertEquals("other", s(db.get(b("k"))));
        assertThrows(IllegalArgumentException.class,
                () -> db.transaction(Isolation.SNAPSHOT, -1, txn -> null));
    }

    @Test
    void transactionHelperRollsBackOnOtherExceptions() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> db.transaction(txn -> {
                    txn.put(b("k"), b("v"));
                    throw new IllegalStateException("boom");
                }));
        assertEquals("boom", e.getMessage());
        assertNull(db.get(b("k")));
        UndeclaredThrowableException wrapped = assertThrows(UndeclaredThrowableException.class,
                () -> db.transaction(txn -> {
                    txn.put(b("k"), b("v"));
                    throw new IOException("checked");
                }));
        assertTrue(wrapped.getCause() instanceof IOException);
        assertNull(db.get(b("k")));
        assertEquals(0L, db.stats().get("open_transactions"));
    }

    @Test
    void statsVerifySyncFlush() {
        for (int i = 0; i < 100; i++) {
            db.put(b("k" + i), b("v" + i));
        }
        db.sync();
        db.flush();
        Map<String, Long> stats = db.stats();
        assertTrue(stats.containsKey("last_sequence"), stats.toString());
        assertEquals(100L, stats.get("last_sequence"));
        assertThrows(UnsupportedOperationException.class, () -> stats.put("x", 1L));
        String report = db.verify();
        assertTrue(report.contains("="), report);
        assertEquals(tmp.resolve("db"), db.path());
        assertTrue(db.toString().contains("db"));
    }

    @Test
    void compactGivesBackWhatDeletesFreed() {
        byte[] value = new byte[400];
        Arrays.fill(value, (byte) 'v');
        try (WriteBatch batch = new WriteBatch()) {
            for (int i = 0; i < 4000; i++) {
                batch.put(b(String.format("key%05d", i)), value);
            }
            db.write(batch);
        }
        db.flush();
        try (WriteBatch batch = new WriteBatch()) {
            for (int i = 0; i < 4000; i++) {
                if (i % 10 != 0) {
                    batch.delete(b(String.format("key%05d", i)));
                }
            }
            db.write(batch);
        }
        db.flush();
        long before = db.stats().get("file_bytes");
        long givenBack = db.compact();
        long after = db.stats().get("file_bytes");
        assertTrue(givenBack > 0, "gave back " + givenBack);
        assertEquals(before, after + givenBack);
        assertTrue(after * 4 < before, after + " of " + before + " bytes left");
        assertEquals(0L, db.compact());
        assertEquals(400L, db.stats().get("tree_keys"));
        assertArrayEquals(value, db.get(b("key00010")));
        assertNull(db.get(b("key00011")));
    }

    @Test
    void nullsThrowNullPointerException() {
        assertThrows(NullPointerException.class, () -> db.get((byte[]) null));
        assertThrows(NullPointerException.class, () -> db.put(null, b("v")));
        assertThrows(NullPointerException.class, () -> db.put(b("k"), null));
        assertThrows(NullPointerException.class, () -> db.put(b("k"), b("v"), null));
        assertThrows(NullPointerException.class, () -> db.delete(null));
        assertThrows(NullPointerException.class, () -> db.write(null));
        assertThrows(NullPointerException.class, () -> db.range(null));
        assertThrows(NullPointerException.class, () -> db.begin(null));
        assertThrows(NullPointerException.class, () -> db.get((ByteBuffer) null, null));
        assertThrows(NullPointerException.class, () -> new WriteBatch().put(null, b("v")));
        assertThrows(NullPointerException.class, () -> Options.builder().set("sync", null));
        assertThrows(NullPointerException.class, () -> LightningDb.open(null));
    }
}
