package io.lightningdb;

import static io.lightningdb.TestSupport.PAGE;
import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

/**
 * Every exception users can provoke, with its class and code. Not provoked: NO_SPACE (needs a
 * full disk) and INTERNAL (needs a bug), as in the C and Python suites; their mapping is checked.
 */
class ErrorsTest {
    @TempDir
    Path tmp;

    private static <T extends LightningDbException> T expect(
            Class<T> type, ErrorCode code, Executable call) {
        T e = assertThrows(type, call);
        assertEquals(code, e.getCode());
        assertNotNull(e.getMessage());
        assertFalse(e.getMessage().isEmpty());
        return e;
    }

    @Test
    void codesMirrorTheCAbi() {
        String[] names = {"INVALID_ARGUMENT", "INVALID_OPTION", "CORRUPTION", "IO_ERROR",
            "NO_SPACE", "LOCKED", "NOT_A_DATABASE", "UNSUPPORTED_VERSION", "CLOSED", "CONFLICT",
            "BUSY", "READ_ONLY", "INTERNAL", "WRONG_KEY"};
        assertEquals(names.length, ErrorCode.values().length);
        for (int i = 0; i < names.length; i++) {
            ErrorCode code = ErrorCode.valueOf(names[i]);
            assertEquals(i + 1, code.code());
            assertSame(code, ErrorCode.fromCode(i + 1));
        }
        assertSame(ErrorCode.INTERNAL, ErrorCode.fromCode(99));
    }

    @Test
    void subclassPerCommonCode() {
        Map<ErrorCode, Class<?>> classes = Map.of(
                ErrorCode.CONFLICT, ConflictException.class,
                ErrorCode.CORRUPTION, CorruptionException.class,
                ErrorCode.LOCKED, LockedException.class,
                ErrorCode.CLOSED, ClosedException.class,
                ErrorCode.INVALID_ARGUMENT, InvalidArgumentException.class,
                ErrorCode.WRONG_KEY, WrongKeyException.class);
        for (ErrorCode code : ErrorCode.values()) {
            LightningDbException e = LightningDbException.create(code.code(), "message");
            assertEquals(code, e.getCode());
            assertEquals("message", e.getMessage());
            assertSame(classes.getOrDefault(code, LightningDbException.class), e.getClass());
            assertInstanceOf(RuntimeException.class, e);
        }
        LightningDbException unknown = LightningDbException.create(42, "new code");
        assertEquals(ErrorCode.INTERNAL, unknown.getCode());
        assertTrue(unknown.getMessage().contains("42"));
    }

    @Test
    void invalidArgument() {
        try (LightningDb db = LightningDb.open(tmp.resolve("db"))) {
            InvalidArgumentException e = expect(InvalidArgumentException.class,
                    ErrorCode.INVALID_ARGUMENT, () -> db.put(new byte[4097], b("v")));
            assertTrue(e.getMessage().contains("4097"), e.getMessage());
            expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                    () -> db.get(new byte[4097]));
            expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                    () -> db.delete(new byte[4097]));
            expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                    () -> db.put(ByteBuffer.allocateDirect(4097), ByteBuffer.allocateDirect(1)));
            try (Snapshot snap = db.snapshot()) {
                expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                        () -> snap.get(new byte[4097]));
            }
            expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                    () -> db.put(b("k"), new byte[(64 << 20) + 1]));
            try (Transaction t = db.begin(Isolation.SNAPSHOT)) {
                expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                        () -> t.put(new byte[4097], b("v")));
            }
        }
        Path missing = tmp.resolve("missing");
        expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                () -> LightningDb.open(missing, Options.builder().createIfMissing(false).build()));
        assertFalse(Files.exists(missing));
    }

    @Test
    void invalidOption() {
        List<String[]> bad = List.of(
                new String[] {"no_such_option", "1"},
                new String[] {"sync", "maybe"},
                new String[] {"cache_size", "lots"},
                new String[] {"page_size", "5000"},
                new String[] {"max_active_transactions", "0"},
                new String[] {"mmap", "2"},
                new String[] {"compression", "gzip"},
                new String[] {"compression_level", "20"});
        Path dir = tmp.resolve("db");
        for (String[] option : bad) {
            LightningDbException e = expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                    () -> LightningDb.open(dir, Options.builder().set(option[0], option[1])
                            .build()));
            assertTrue(e.getMessage().contains(option[0]), e.getMessage());
            assertFalse(Files.exists(dir));
        }
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                () -> LightningDb.open(dir, Options.builder().pageSize(1000).build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                () -> LightningDb.open(dir, Options.builder().maxFrozenMemtables(0).build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                () -> LightningDb.open(dir, Options.builder().memtableSize(1).build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                () -> LightningDb.open(dir, Options.builder().compressionLevel(20).build()));
    }

    @Test
    void corruptionInThePageFile() throws IOException {
        for (boolean mmap : new boolean[] {false, true}) {
            Path dir = tmp.resolve("corrupt-" + mmap);
            Map<String, String> contents =
                    TestSupport.fillAndClose(dir, 300, Options.builder().mmap(mmap));
            List<Integer> leaves = TestSupport.leafPages(dir);
            assertFalse(leaves.isEmpty(), "no leaf page found");
            TestSupport.flipByte(dir, (long) leaves.get(0) * PAGE + 300);
            LightningDb db;
            try {
                db = LightningDb.open(dir, Options.builder().mmap(mmap).build());
            } catch (CorruptionException e) {
                assertTrue(e.getMessage().contains("data.ldb"), e.getMessage());
                continue;
            }
            try (db) {
                CorruptionException e = expect(CorruptionException.class, ErrorCode.CORRUPTION,
                        db::verify);
                assertTrue(e.getMessage().contains("data.ldb"), e.getMessage());
                int corrupt = 0;
                for (Map.Entry<String, String> kv : contents.entrySet()) {
                    try {
                        assertEquals(kv.getValue(), s(db.get(b(kv.getKey())))); // never wrong
                    } catch (CorruptionException c) {
                        corrupt++;
                    }
                }
                assertTrue(corrupt > 0);
                assertThrows(CorruptionException.class, () -> {
                    try (DbIterator it = db.range(Range.all())) {
                        while (it.hasNext()) {
                            Entry entry = it.next();
                            assertEquals(contents.get(s(entry.key())), s(entry.value()));
                        }
                    }
                });
            }
        }
    }

    @Test
    void ioError() throws IOException {
        Path file = Files.write(tmp.resolve("a-file"), b("hello"));
        expect(LightningDbException.class, ErrorCode.IO_ERROR,
                () -> LightningDb.open(file.resolve("db")));
    }

    @Test
    void lockedInThisProcess() {
        Path dir = tmp.resolve("db");
        try (LightningDb first = LightningDb.open(dir)) {
            first.put(b("k"), b("v"));
            expect(LockedException.class, ErrorCode.LOCKED, () -> LightningDb.open(dir));
        }
        try (LightningDb second = LightningDb.open(dir)) {
            assertEquals("v", s(second.get(b("k"))));
        }
    }

    @Test
    void lockedByAnotherProcess() throws Exception {
        Path dir = tmp.resolve("db");
        try (LightningDb db = LightningDb.open(dir)) {
            db.put(b("k"), b("v"));
            TestSupport.Result r = TestSupport.run(TestSupport.javaCommand(
                    TestSupport.childClasspath(), ChildMain.class.getName(), "open",
                    dir.toString()));
            assertEquals(0, r.status(), r.output());
            assertEquals("LOCKED", r.output().strip());
        }
        TestSupport.Result r = TestSupport.run(TestSupport.javaCommand(
                TestSupport.childClasspath(), ChildMain.class.getName(), "open", dir.toString()));
        assertEquals("OPENED v", r.output().strip()); // released by close()
    }

    @Test
    void notADatabase() throws IOException {
        Path file = Files.write(tmp.resolve("a-file"), b("hello"));
        expect(LightningDbException.class, ErrorCode.NOT_A_DATABASE, () -> LightningDb.open(file));

        Path foreign = Files.createDirectory(tmp.resolve("foreign"));
        Files.write(foreign.resolve("notes.txt"), b("my notes"));
        LightningDbException e = expect(LightningDbException.class, ErrorCode.NOT_A_DATABASE,
                () -> LightningDb.open(foreign));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
        assertEquals("my notes", s(Files.readAllBytes(foreign.resolve("notes.txt"))));
        assertFalse(Files.exists(foreign.resolve("data.ldb")));

        Path garbage = Files.createDirectory(tmp.resolve("garbage"));
        Files.write(garbage.resolve("data.ldb"), "x".repeat(8192).getBytes());
        expect(LightningDbException.class, ErrorCode.NOT_A_DATABASE,
                () -> LightningDb.open(garbage));
    }

    @Test
    void unsupportedVersion() throws IOException {
        Path dir = tmp.resolve("db");
        try (LightningDb db = LightningDb.open(dir)) {
            db.put(b("k"), b("v"));
        }
        Path dataFile = dir.resolve("data.ldb");
        byte[] data = Files.readAllBytes(dataFile);
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int meta : new int[] {0, PAGE}) { // both meta pages name format version 99
            buf.putInt(meta + 24, 99);
        }
        Files.write(dataFile, data);
        expect(LightningDbException.class, ErrorCode.UNSUPPORTED_VERSION,
                () -> LightningDb.open(dir));
    }

    @Test
    void wrongKey() {
        Path dir = tmp.resolve("db");
        String key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        try (LightningDb db = LightningDb.open(dir, Options.builder()
                .encryption(Encryption.AES_256_GCM).encryptionKey(key).build())) {
            db.put(b("k"), b("v"));
        }
        WrongKeyException e = expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(dir));
        assertFalse(e.getMessage().contains(key));
        String other = "ff" + key.substring(2);
        e = expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(dir, Options.builder().encryptionKey(other).build()));
        assertFalse(e.getMessage().contains(other));
    }

    @Test
    void closed() {
        LightningDb db = LightningDb.open(tmp.resolve("db"));
        db.close();
        ClosedException e = expect(ClosedException.class, ErrorCode.CLOSED, () -> db.get(b("k")));
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void conflict() {
        try (LightningDb db = LightningDb.open(tmp.resolve("db"))) {
            Transaction t1 = db.begin(Isolation.SNAPSHOT);
            Transaction t2 = db.begin(Isolation.SNAPSHOT);
            t1.put(b("k"), b("1"));
            t2.put(b("k"), b("2"));
            t1.commit();
            expect(ConflictException.class, ErrorCode.CONFLICT, t2::commit);
            assertEquals("1", s(db.get(b("k"))));
            expect(ClosedException.class, ErrorCode.CLOSED, () -> t2.get(b("k")));

            // Serializable: a read key written since the transaction began.
            Transaction t3 = db.begin(Isolation.SERIALIZABLE);
            t3.get(b("k"));
            t3.put(b("other"), b("x"));
            db.put(b("k"), b("changed"));
            expect(ConflictException.class, ErrorCode.CONFLICT, t3::commit);
        }
    }

    @Test
    void busy() {
        Options options = Options.builder().maxActiveTransactions(1).build();
        try (LightningDb db = LightningDb.open(tmp.resolve("db"), options)) {
            Transaction txn = db.begin(Isolation.SNAPSHOT);
            LightningDbException e = expect(LightningDbException.class, ErrorCode.BUSY,
                    () -> db.begin(Isolation.SNAPSHOT));
            assertTrue(e.getMessage().contains("max_active_transactions"), e.getMessage());
            expect(LightningDbException.class, ErrorCode.BUSY,
                    () -> db.begin(Isolation.SNAPSHOT, true)); // read-only ones count too
            expect(LightningDbException.class, ErrorCode.BUSY,
                    () -> db.transaction(t -> null)); // BUSY is not retried
            txn.commit(); // a finished transaction no longer counts
            try (Transaction again = db.begin(Isolation.SERIALIZABLE)) {
                again.put(b("k"), b("v"));
            }
        }
    }

    @Test
    void readOnly() {
        try (LightningDb db = LightningDb.open(tmp.resolve("db"));
                Transaction txn = db.begin(Isolation.SNAPSHOT, true)) {
            expect(LightningDbException.class, ErrorCode.READ_ONLY, () -> txn.put(b("k"), b("v")));
            expect(LightningDbException.class, ErrorCode.READ_ONLY, () -> txn.delete(b("k")));
        }
    }

    @Test
    void catchableByTheBaseClass() {
        try (LightningDb db = LightningDb.open(tmp.resolve("db"))) {
            LightningDbException e = assertThrows(LightningDbException.class,
                    () -> db.put(new byte[5000], b("v")));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.getCode());
        }
    }
}
