package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** {@link BulkLoad}: content, ordering, the only writer, atomicity, finishing and closing. */
class BulkLoadTest {
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

    private static <T extends LightningDbException> T expect(Class<T> type, ErrorCode code,
            Executable call) {
        T e = assertThrows(type, call);
        assertEquals(code, e.getCode(), e.getMessage());
        return e;
    }

    private static void busy(Executable call) {
        expect(LightningDbException.class, ErrorCode.BUSY, call);
    }

    private static void closed(Executable call) {
        expect(ClosedException.class, ErrorCode.CLOSED, call);
    }

    private static byte[] key(int i) {
        return b(String.format("key%07d", i));
    }

    /** A 100-byte value that differs per key. */
    private static byte[] value(int i) {
        byte[] v = new byte[100];
        for (int j = 0; j < v.length; j++) {
            v[j] = (byte) (i * 31 + j);
        }
        return v;
    }

    private List<String> keys(LightningDb from) {
        List<String> keys = new ArrayList<>();
        try (DbIterator it = from.range(Range.all())) {
            it.forEachRemaining(e -> keys.add(s(e.key())));
        }
        return keys;
    }

    /** 100,000 pairs of 100-byte values (over 10 MiB, more than one of the engine's chunks). */
    @Test
    void aLoadOverManyChunksReadsBackWithGetAndIteration() {
        int n = 100_000;
        db.put(key(5), b("old")); // replaced by the load
        db.put(b("zzz"), b("kept")); // outside the load: untouched
        try (BulkLoad load = db.bulkLoad()) {
            for (int i = 0; i < n; i++) {
                load.put(key(i), value(i));
            }
            assertFalse(load.isFinished());
            load.commit();
            assertTrue(load.isFinished());
        }

        for (int i : new int[] {0, 1, 5, 4_096, 50_000, 81_919, n - 1}) {
            assertArrayEquals(value(i), db.get(key(i)), "key " + i);
        }
        assertNull(db.get(key(n)));
        assertEquals("kept", s(db.get(b("zzz"))));
        int i = 0;
        try (DbIterator it = db.range(Range.all())) {
            while (it.hasNext()) {
                Entry e = it.next();
                if (i < n) {
                    assertArrayEquals(key(i), e.key(), "entry " + i);
                    assertArrayEquals(value(i), e.value(), "entry " + i);
                } else {
                    assertEquals("zzz", s(e.key()));
                }
                i++;
            }
        }
        assertEquals(n + 1, i);

        // Durable: there after reopening, and the database takes ordinary writes again.
        db.put(b("after"), b("1"));
        db.close();
        db = LightningDb.open(tmp.resolve("db"));
        assertArrayEquals(value(n - 1), db.get(key(n - 1)));
        assertArrayEquals(value(5), db.get(key(5)));
        assertEquals("1", s(db.get(b("after"))));
    }

    /** Pairs too long for the thread's scratch buffer take the array path; both land. */
    @Test
    void longValuesTakeTheArrayPath() {
        byte[] big = new byte[Scratch.SIZE + 1];
        big[Scratch.SIZE] = 42;
        try (BulkLoad load = db.bulkLoad()) {
            load.put(b("a"), b("short"));
            load.put(b("b"), big);
            load.put(b("c"), b("short again"));
            load.commit();
        }
        assertEquals("short", s(db.get(b("a"))));
        assertArrayEquals(big, db.get(b("b")));
        assertEquals("short again", s(db.get(b("c"))));
    }

    @Test
    void aKeyOutOfOrderIsRefusedAndTheLoadGoesOn() {
        try (BulkLoad load = db.bulkLoad()) {
            load.put(b("a"), b("1"));
            load.put(b("c"), b("3"));
            InvalidArgumentException e = expect(InvalidArgumentException.class,
                    ErrorCode.INVALID_ARGUMENT, () -> load.put(b("b"), b("2")));
            assertFalse(e.getMessage().isEmpty());
            // Equal is not after: refused too.
            expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                    () -> load.put(b("c"), b("again")));
            // Unsigned order: 0xFF sorts after 'c', 0x01 before it.
            expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                    () -> load.put(new byte[] {0x01}, b("x")));
            load.put(new byte[] {(byte) 0xFF}, b("ff"));
            assertFalse(load.isFinished());
            load.commit();
        }
        assertEquals("1", s(db.get(b("a"))));
        assertNull(db.get(b("b")));
        assertEquals("3", s(db.get(b("c"))));
        assertEquals("ff", s(db.get(new byte[] {(byte) 0xFF})));
        assertNull(db.get(new byte[] {0x01}));
    }

    @Test
    void anOpenLoadIsTheOnlyWriterAndReadsSeeTheDatabaseAsBefore() {
        db.put(b("a"), b("old"));
        db.put(b("b"), b("kept"));
        Transaction txn = db.begin(Isolation.SNAPSHOT);
        txn.put(b("t"), b("1"));
        try (BulkLoad load = db.bulkLoad()) {
            load.put(b("a"), b("new"));
            load.put(b("c"), b("new"));

            busy(() -> db.put(b("x"), b("1")));
            busy(() -> db.put(b("x"), b("1"), Durability.SYNC));
            busy(() -> db.delete(b("b")));
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(b("x"), b("1"));
                busy(() -> db.write(batch));
            }
            busy(txn::commit);
            assertTrue(txn.isFinished());
            busy(db::flush);
            busy(db::compact);
            busy(db::bulkLoad);

            // Reads go on, seeing the database as before the load.
            assertEquals("old", s(db.get(b("a"))));
            assertEquals("kept", s(db.get(b("b"))));
            assertNull(db.get(b("c")));
            assertEquals(List.of("a", "b"), keys(db));
            try (Snapshot snap = db.snapshot()) {
                assertEquals("old", s(snap.get(b("a"))));
            }

            load.commit();
        }
        assertEquals("new", s(db.get(b("a"))));
        assertEquals("kept", s(db.get(b("b"))));
        assertEquals("new", s(db.get(b("c"))));
        assertNull(db.get(b("t")));
        assertEquals(List.of("a", "b", "c"), keys(db));
        // Writers write again.
        db.put(b("x"), b("1"));
        db.flush();
        try (BulkLoad again = db.bulkLoad()) {
            again.abort();
        }
    }

    @Test
    void aFinishedLoadThrowsClosed() {
        BulkLoad load = db.bulkLoad();
        load.put(b("k"), b("v"));
        load.commit();
        assertTrue(load.isFinished());
        closed(() -> load.put(b("l"), b("v")));
        closed(load::commit);
        closed(load::abort);
        load.close();
        load.close();
        assertEquals("v", s(db.get(b("k"))));

        BulkLoad aborted = db.bulkLoad();
        aborted.put(b("m"), b("v"));
        aborted.abort();
        assertTrue(aborted.isFinished());
        closed(() -> aborted.put(b("n"), b("v")));
        closed(aborted::commit);
        closed(aborted::abort);
        aborted.close();
        assertNull(db.get(b("m")));

        BulkLoad closedLoad = db.bulkLoad();
        closedLoad.close();
        closed(() -> closedLoad.put(b("n"), b("v")));
        closed(closedLoad::commit);
        db.put(b("n"), b("v")); // the closed load no longer holds the writes
    }

    @Test
    void closingWithoutCommitLeavesNothing() {
        db.put(b("b"), b("before"));
        try (BulkLoad load = db.bulkLoad()) {
            for (int i = 0; i < 1000; i++) {
                load.put(key(i), value(i));
            }
        }
        assertNull(db.get(key(0)));
        assertNull(db.get(key(999)));
        assertEquals(List.of("b"), keys(db));
        assertEquals("before", s(db.get(b("b"))));
        db.put(b("c"), b("after")); // not BUSY: the load was abandoned

        db.close();
        db = LightningDb.open(tmp.resolve("db"));
        assertNull(db.get(key(0)));
        assertEquals(List.of("b", "c"), keys(db));
    }

    @Test
    void closingTheDatabaseAbandonsAnOpenLoad() {
        Path dir = tmp.resolve("db");
        db.put(b("b"), b("before"));
        BulkLoad load = db.bulkLoad();
        load.put(b("a"), b("loaded"));
        db.close();

        closed(load::commit);
        closed(() -> load.put(b("c"), b("v")));
        closed(load::abort);
        assertTrue(load.isFinished());
        load.close();
        closed(db::bulkLoad);

        // The directory is free at once, and nothing of the load was written.
        db = LightningDb.open(dir);
        assertNull(db.get(b("a")));
        assertEquals("before", s(db.get(b("b"))));
        db.put(b("c"), b("v"));
    }

    @Test
    void nullsAreProgrammingErrors() {
        try (BulkLoad load = db.bulkLoad()) {
            assertThrows(NullPointerException.class, () -> load.put(null, b("v")));
            assertThrows(NullPointerException.class, () -> load.put(b("k"), null));
            load.put(b("k"), b("v"));
            load.commit();
        }
        assertEquals("v", s(db.get(b("k"))));
    }
}
