package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.compressible;
import static io.lightningdb.TestSupport.compressibleKey;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The options {@code compression} and {@code compression_level}: the enum's values, what the
 * builder sets, values written under one policy read back under another (from the page file
 * and from a replayed write-ahead log), smaller logs, and bad values refused at open.
 */
class CompressionTest {
    private static final int N = 300;

    @TempDir
    Path tmp;

    /** Writes values 0..n-1 in batches of 10; returns the WAL bytes written. */
    private static long write(LightningDb db, int n) {
        long before = db.stats().get("wal_bytes");
        for (int start = 0; start < n; start += 10) {
            try (WriteBatch batch = new WriteBatch()) {
                for (int i = start; i < Math.min(start + 10, n); i++) {
                    batch.put(compressibleKey(i), compressible(i));
                }
                db.write(batch);
            }
        }
        return db.stats().get("wal_bytes") - before;
    }

    private static void readAll(LightningDb db, String policy) {
        for (int i = 0; i < N; i++) {
            assertArrayEquals(compressible(i), db.get(compressibleKey(i)), policy + " key " + i);
        }
        int count = 0;
        try (DbIterator it = db.range(Range.prefix(b("key")))) {
            while (it.hasNext()) {
                it.next();
                count++;
            }
        }
        assertEquals(N, count);
        db.verify();
    }

    @Test
    void optionValues() {
        assertEquals(5, Compression.values().length);
        assertEquals("none", Compression.NONE.optionValue());
        assertEquals("lz4", Compression.LZ4.optionValue());
        assertEquals("zstd", Compression.ZSTD.optionValue());
        assertEquals("snappy", Compression.SNAPPY.optionValue());
        assertEquals("auto", Compression.AUTO.optionValue());
    }

    @Test
    void builderSetsTheCanonicalNames() {
        Options options = Options.builder()
                .compression(Compression.ZSTD)
                .compressionLevel(5)
                .build();
        assertEquals(Map.of("compression", "zstd", "compression_level", "5"), options.asMap());
        assertEquals(Options.builder().set("compression", "zstd")
                .set("compression_level", "5").build(), options);
        assertEquals("lz4", Options.builder().compression(Compression.ZSTD)
                .compression(Compression.LZ4).build().asMap().get("compression"));
        assertThrows(NullPointerException.class, () -> Options.builder().compression(null));
    }

    @Test
    void writtenWithZstdReadBackWithLz4AndNone() {
        Path dir = tmp.resolve("db");
        try (LightningDb db = LightningDb.open(dir, Options.builder()
                .compression(Compression.ZSTD).compressionLevel(5).build())) {
            write(db, N);
            assertArrayEquals(compressible(7), db.get(compressibleKey(7)));
        }
        try (LightningDb db = LightningDb.open(dir,
                Options.builder().compression(Compression.LZ4).build())) {
            readAll(db, "lz4");
            db.put(b("written"), b("with lz4"));
        }
        try (LightningDb db = LightningDb.open(dir,
                Options.builder().compression(Compression.NONE).build())) {
            readAll(db, "none");
            assertEquals("with lz4", s(db.get(b("written"))));
        }
    }

    @Test
    void compressedWriteAheadLogIsReplayedUnderAnotherPolicy() throws Exception {
        Path dir = tmp.resolve("db");
        // The child writes with Zstandard and halts without closing: nothing reaches the page
        // file, so this open replays the compressed log records.
        TestSupport.Result r = TestSupport.run(TestSupport.javaCommand(
                TestSupport.childClasspath(), ChildMain.class.getName(), "compressed",
                dir.toString(), Integer.toString(N)));
        assertEquals(0, r.status(), r.output());
        assertEquals("written " + N, r.output().strip());
        try (LightningDb db = LightningDb.open(dir,
                Options.builder().compression(Compression.LZ4).build())) {
            readAll(db, "lz4 after replay");
        }
        try (LightningDb db = LightningDb.open(dir, Options.defaults())) {
            readAll(db, "none");
        }
    }

    @Test
    void everyPolicyShrinksTheLogAndReadsBack() {
        long plain = 0;
        for (Compression policy : new Compression[] {Compression.NONE, Compression.LZ4,
            Compression.ZSTD, Compression.SNAPPY, Compression.AUTO}) {
            Path dir = tmp.resolve("db-" + policy.optionValue());
            long bytes;
            try (LightningDb db = LightningDb.open(dir,
                    Options.builder().sync(false).compression(policy).build())) {
                bytes = write(db, N);
                long saved = db.stats().get("compression_saved_bytes");
                assertEquals(policy != Compression.NONE, saved > 0, policy + ": saved " + saved);
            }
            if (policy == Compression.NONE) {
                plain = bytes;
                assertTrue(plain > (long) N * 200, "plain WAL bytes " + plain);
            } else {
                // Half of each value is zeros.
                assertTrue(bytes * 10 < plain * 8, policy + ": " + bytes + " against " + plain);
            }
            try (LightningDb db = LightningDb.open(dir)) {
                readAll(db, policy.optionValue());
            }
        }
    }

    @Test
    void anyLetterCaseIsAccepted() {
        try (LightningDb db = LightningDb.open(tmp.resolve("db"),
                Options.builder().set("compression", "ZStd").set("compressionLevel", "19")
                        .build())) {
            db.put(b("k"), b("v"));
            assertEquals("v", s(db.get(b("k"))));
        }
    }

    @Test
    void badValuesAreRefusedAtOpen() {
        Path dir = tmp.resolve("db");
        Options[] bad = {
            Options.builder().set("compression", "gzip").build(),
            Options.builder().set("compression", "").build(),
            Options.builder().compressionLevel(20).build(),
            Options.builder().compressionLevel(0).build(),
            Options.builder().compression(Compression.ZSTD).set("compression_level", "high")
                    .build(),
        };
        for (Options options : bad) {
            LightningDbException e = assertThrows(LightningDbException.class,
                    () -> LightningDb.open(dir, options));
            assertEquals(ErrorCode.INVALID_OPTION, e.getCode(), e.getMessage());
            String name = options.asMap().containsKey("compression_level")
                    ? "compression_level" : "compression";
            assertTrue(e.getMessage().contains(name), e.getMessage());
            assertFalse(Files.exists(dir), options.toString());
        }
        LightningDbException e = assertThrows(LightningDbException.class,
                () -> LightningDb.open(dir, bad[0]));
        assertTrue(e.getMessage().contains("gzip"), e.getMessage());
        for (Compression c : Compression.values()) {
            assertTrue(e.getMessage().contains(c.optionValue()), e.getMessage());
        }
    }
}
