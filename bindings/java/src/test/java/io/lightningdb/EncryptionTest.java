package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encryption at rest: the enums and builder methods, secrets never shown, encrypted (and
 * compressed) databases under a key and under a passphrase written, closed, reopened and read
 * back, nothing of a value in the clear on disk, {@link WrongKeyException} for a wrong or
 * missing key or passphrase, {@link ErrorCode#INVALID_OPTION} for a key on a plain database and
 * a malformed key (never echoing the secret), a replayed encrypted write-ahead log, and {@link
 * LightningDb#rekey(Options)}.
 */
class EncryptionTest {
    static final String KEY_A =
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    static final String KEY_B =
            "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    static final String PASSPHRASE = "correct horse battery staple";
    /** Bytes that would show in the files if values were stored in the clear. */
    static final String MARKER = "PLAINTEXT-MARKER-";
    private static final int N = 500;

    @TempDir
    Path tmp;

    static byte[] key(int i) {
        return b(String.format("key%06d", i));
    }

    /** A 150-byte value starting with {@link #MARKER}; compressible (a run of x). */
    static byte[] value(int i) {
        return b((MARKER + String.format("%06d", i) + "x".repeat(150)).substring(0, 150));
    }

    /** A passphrase at the cheapest Argon2id costs, as tests may use (never in production). */
    static Options.Builder cheapPassphrase(String passphrase) {
        return Options.builder().sync(false).passphrase(passphrase).kdf(Kdf.ARGON2ID)
                .kdfMemory("1MiB").kdfIterations(1);
    }

    private static void fill(LightningDb db, int from, int to) {
        for (int i = from; i < to; i++) {
            db.put(key(i), value(i));
        }
    }

    private static void check(LightningDb db, int n) {
        for (int i = 0; i < n; i++) {
            assertArrayEquals(value(i), db.get(key(i)), "key " + i);
        }
        int count = 0;
        try (DbIterator it = db.range(Range.prefix(b("key")))) {
            while (it.hasNext()) {
                it.next();
                count++;
            }
        }
        assertEquals(n, count);
    }

    /** Whether any file under {@code dir} holds {@code needle}. */
    static boolean filesContain(Path dir, byte[] needle) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            byte[] data = Files.readAllBytes(file);
            outer:
            for (int at = 0; at + needle.length <= data.length; at++) {
                for (int j = 0; j < needle.length; j++) {
                    if (data[at + j] != needle[j]) {
                        continue outer;
                    }
                }
                return true;
            }
        }
        return false;
    }

    /** Asserts {@code call} throws {@code type} with {@code code}, naming no secret. */
    private static <T extends LightningDbException> T expect(
            Class<T> type, ErrorCode code, Executable call) {
        T e = assertThrows(type, call);
        assertEquals(code, e.getCode(), e.getMessage());
        String message = e.getMessage();
        assertFalse(message.isEmpty());
        for (String secret : new String[] {KEY_A, KEY_B, PASSPHRASE, "wrong passphrase"}) {
            assertFalse(message.contains(secret), message);
        }
        return e;
    }

    @Test
    void optionValues() {
        assertEquals(3, Encryption.values().length);
        assertEquals("none", Encryption.NONE.optionValue());
        assertEquals("aes-256-gcm", Encryption.AES_256_GCM.optionValue());
        assertEquals("chacha20-poly1305", Encryption.CHACHA20_POLY1305.optionValue());
        assertEquals(2, Kdf.values().length);
        assertEquals("argon2id", Kdf.ARGON2ID.optionValue());
        assertEquals("pbkdf2-sha256", Kdf.PBKDF2_SHA256.optionValue());
    }

    @Test
    void builderSetsTheCanonicalNamesAndHidesTheSecrets() {
        Options options = Options.builder()
                .encryption(Encryption.AES_256_GCM)
                .encryptionKey(KEY_A)
                .kdf(Kdf.PBKDF2_SHA256)
                .kdfMemory("2MiB")
                .kdfIterations(20_000)
                .kdfParallelism(2)
                .build();
        assertEquals(Map.of(
                "encryption", "aes-256-gcm",
                "encryption_key", Options.REDACTED,
                "kdf", "pbkdf2-sha256",
                "kdf_memory", "2MiB",
                "kdf_iterations", "20000",
                "kdf_parallelism", "2"), options.asMap());
        assertEquals("<redacted>", Options.REDACTED);
        assertFalse(options.toString().contains(KEY_A), options.toString());
        assertTrue(options.toString().contains("encryption_key=<redacted>"), options.toString());
        assertEquals("1048576", Options.builder().kdfMemory(1L << 20).build().asMap()
                .get("kdf_memory"));

        // Passphrases, however given and under whatever spelling of the name.
        Options withPassphrase = Options.builder().passphrase(PASSPHRASE.toCharArray()).build();
        assertEquals(Options.builder().passphrase(PASSPHRASE).build(), withPassphrase);
        assertEquals(Map.of("passphrase", Options.REDACTED), withPassphrase.asMap());
        assertFalse(withPassphrase.toString().contains(PASSPHRASE));
        for (String name : new String[] {"passphrase", "Passphrase", "PASSPHRASE",
            "encryption_key", "encryptionKey", "EncryptionKey", "encryption-key",
            "ENCRYPTION_KEY"}) {
            Options set = Options.builder().set(name, KEY_B).build();
            assertEquals(Options.REDACTED, set.asMap().get(name), name);
            assertFalse(set.toString().contains(KEY_B), name);
        }
        // Secrets still count for equality.
        assertFalse(Options.builder().encryptionKey(KEY_A).build()
                .equals(Options.builder().encryptionKey(KEY_B).build()));

        assertThrows(NullPointerException.class, () -> Options.builder().encryption(null));
        assertThrows(NullPointerException.class, () -> Options.builder().kdf(null));
        assertThrows(NullPointerException.class,
                () -> Options.builder().encryptionKey(null));
        assertThrows(NullPointerException.class,
                () -> Options.builder().passphrase((String) null));
        assertThrows(NullPointerException.class,
                () -> Options.builder().passphrase((char[]) null));
        // A NUL would shift the native name/value pairs; refused without echoing the value.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Options.builder().passphrase("secret\0part"));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Options.builder().set("a\0b", "1"));
    }

    @Test
    void encryptedAndCompressedDatabasesRoundTrip() throws IOException {
        Object[][] cases = {
            {Encryption.AES_256_GCM, Compression.ZSTD, "key"},
            {Encryption.AES_256_GCM, Compression.ZSTD, "passphrase"},
            {Encryption.CHACHA20_POLY1305, Compression.NONE, "key"},
            {Encryption.CHACHA20_POLY1305, Compression.NONE, "passphrase"},
        };
        for (Object[] c : cases) {
            Encryption encryption = (Encryption) c[0];
            Compression compression = (Compression) c[1];
            boolean passphrase = c[2].equals("passphrase");
            String what = encryption + " " + compression + " " + c[2];
            Path dir = tmp.resolve(encryption.optionValue() + "-" + compression.optionValue()
                    + "-" + c[2]);
            Options.Builder secret = passphrase
                    ? cheapPassphrase(PASSPHRASE)
                    : Options.builder().sync(false).encryptionKey(KEY_A);
            Options create = secret.encryption(encryption).compression(compression).build();
            try (LightningDb db = LightningDb.open(dir, create)) {
                fill(db, 0, N);
                db.flush(); // half in the page file, half only in the write-ahead log
                fill(db, N, 2 * N);
                check(db, 2 * N);
                db.verify();
            }
            assertFalse(filesContain(dir, b(MARKER)), what + ": a value is in the clear");

            // Reopened with the key or passphrase alone: the cipher, the KDF and its costs
            // come from the database.
            Options reopen = passphrase
                    ? Options.builder().passphrase(PASSPHRASE).build()
                    : Options.builder().encryptionKey(KEY_A).build();
            try (LightningDb db = LightningDb.open(dir, reopen)) {
                check(db, 2 * N);
                db.put(b("after reopen"), value(7));
                db.verify();
            }
            try (LightningDb db = LightningDb.open(dir, reopen)) {
                assertArrayEquals(value(7), db.get(b("after reopen")), what);
                assertNull(db.get(b("absent")));
            }
            assertFalse(filesContain(dir, b(MARKER)), what + ": a value is in the clear");
        }
    }

    @Test
    void aPlainDatabaseShowsTheValuesThatEncryptionHides() throws IOException {
        // The check above means something: the same values are visible without encryption.
        Path dir = tmp.resolve("plain");
        try (LightningDb db = LightningDb.open(dir, Options.builder().sync(false).build())) {
            fill(db, 0, 10);
        }
        assertTrue(filesContain(dir, b(MARKER)));
    }

    @Test
    void wrongOrMissingKeyOrPassphrase() {
        Path keyed = tmp.resolve("keyed");
        Options a = Options.builder().encryption(Encryption.AES_256_GCM).encryptionKey(KEY_A)
                .build();
        try (LightningDb db = LightningDb.open(keyed, a)) {
            fill(db, 0, 10);
        }
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(keyed, Options.builder().encryptionKey(KEY_B).build()));
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY, () -> LightningDb.open(keyed));
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(keyed, cheapPassphrase(PASSPHRASE).build()));
        // Catchable as the base class, with the code.
        LightningDbException base = assertThrows(LightningDbException.class,
                () -> LightningDb.open(keyed, Options.defaults()));
        assertEquals(ErrorCode.WRONG_KEY, base.getCode());

        Path protectedDir = tmp.resolve("passphrase");
        try (LightningDb db = LightningDb.open(protectedDir,
                cheapPassphrase(PASSPHRASE).encryption(Encryption.CHACHA20_POLY1305).build())) {
            fill(db, 0, 10);
        }
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(protectedDir, cheapPassphrase("wrong passphrase")
                        .build()));
        // Spaces are part of a passphrase.
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(protectedDir, cheapPassphrase(PASSPHRASE + " ")
                        .build()));
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(protectedDir));
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY,
                () -> LightningDb.open(protectedDir,
                        Options.builder().encryptionKey(KEY_A).build()));

        // Nothing was harmed: the right ones still open them.
        try (LightningDb db = LightningDb.open(keyed, a)) {
            check(db, 10);
        }
        try (LightningDb db = LightningDb.open(protectedDir,
                Options.builder().passphrase(PASSPHRASE).build())) {
            check(db, 10);
        }
    }

    @Test
    void badKeysAndKeysForPlainDatabasesAreInvalidOptions() {
        Path plain = tmp.resolve("plain");
        try (LightningDb db = LightningDb.open(plain)) {
            db.put(b("k"), b("v"));
        }
        // A key or passphrase for a database that is not encrypted.
        for (Options options : new Options[] {
            Options.builder().encryptionKey(KEY_A).build(),
            Options.builder().encryption(Encryption.AES_256_GCM).encryptionKey(KEY_A).build(),
            cheapPassphrase(PASSPHRASE).build(),
        }) {
            expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                    () -> LightningDb.open(plain, options));
        }
        try (LightningDb db = LightningDb.open(plain)) {
            assertEquals("v", TestSupport.s(db.get(b("k"))));
        }

        // Malformed keys: refused before anything is created, without echoing them.
        Path fresh = tmp.resolve("fresh");
        String almost = KEY_A.substring(1); // 63 digits
        String notHex = "zz" + KEY_A.substring(2);
        for (String bad : new String[] {almost, notHex, KEY_A + "00", "secret-key"}) {
            LightningDbException e = expect(LightningDbException.class,
                    ErrorCode.INVALID_OPTION, () -> LightningDb.open(fresh, Options.builder()
                            .encryption(Encryption.AES_256_GCM).encryptionKey(bad).build()));
            assertFalse(e.getMessage().contains(bad), e.getMessage());
            assertFalse(e.getMessage().contains(almost), e.getMessage());
            assertTrue(e.getMessage().contains("encryption_key"), e.getMessage());
            assertFalse(Files.exists(fresh));
        }

        // A new encrypted database needs one of a key and a passphrase, not both; KDF costs
        // have floors. Refused before anything is created.
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION, () -> LightningDb.open(
                fresh, cheapPassphrase(PASSPHRASE).encryption(Encryption.AES_256_GCM)
                        .encryptionKey(KEY_A).build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION, () -> LightningDb.open(
                fresh, cheapPassphrase(PASSPHRASE).encryption(Encryption.AES_256_GCM)
                        .kdf(Kdf.PBKDF2_SHA256).kdfIterations(9_999).build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION, () -> LightningDb.open(
                fresh, cheapPassphrase(PASSPHRASE).kdfMemory("512KiB").build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION, () -> LightningDb.open(
                fresh, cheapPassphrase(PASSPHRASE).kdfParallelism(17).build()));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION, () -> LightningDb.open(
                fresh, Options.builder().set("encryption", "rot13").build()));
        assertFalse(Files.exists(fresh));
        // A cipher without a key, and a key without a cipher: refused before a directory is made.
        LightningDbException e = expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                () -> LightningDb.open(tmp.resolve("no-key"),
                        Options.builder().encryption(Encryption.AES_256_GCM).build()));
        assertTrue(e.getMessage().contains("encryption_key"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("no-key")));
        expect(LightningDbException.class, ErrorCode.INVALID_OPTION, () -> LightningDb.open(
                tmp.resolve("no-cipher"), Options.builder().encryptionKey(KEY_A).build()));
        assertFalse(Files.exists(tmp.resolve("no-cipher")));
    }

    @Test
    void rekeyChangesTheKeyAndKeepsTheData() throws IOException {
        Path dir = tmp.resolve("db");
        Options a = Options.builder().sync(false).encryption(Encryption.CHACHA20_POLY1305)
                .compression(Compression.ZSTD).encryptionKey(KEY_A).build();
        try (LightningDb db = LightningDb.open(dir, a)) {
            fill(db, 0, N);
            db.flush();
            // From a key to a passphrase, with the database open.
            db.rekey(cheapPassphrase(PASSPHRASE).kdf(Kdf.PBKDF2_SHA256).kdfIterations(10_000)
                    .build());
            fill(db, N, 2 * N);
            check(db, 2 * N);
            // Rekey needs a new key or passphrase.
            expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                    () -> db.rekey(Options.defaults()));
            expect(LightningDbException.class, ErrorCode.INVALID_OPTION,
                    () -> db.rekey(Options.builder().encryptionKey("abc").build()));
            assertThrows(NullPointerException.class, () -> db.rekey(null));
        }
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY, () -> LightningDb.open(dir, a));
        try (LightningDb db = LightningDb.open(dir, Options.builder().passphrase(PASSPHRASE)
                .build())) {
            check(db, 2 * N);
            // And from the passphrase to another key.
            db.rekey(Options.builder().encryptionKey(KEY_B).build());
        }
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY, () -> LightningDb.open(dir, a));
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY, () -> LightningDb.open(dir,
                Options.builder().passphrase(PASSPHRASE).build()));
        try (LightningDb db = LightningDb.open(dir, Options.builder().encryptionKey(KEY_B)
                .build())) {
            check(db, 2 * N);
            db.verify();
        }
        assertFalse(filesContain(dir, b(MARKER)));

        // Only an encrypted database can be rekeyed, and only while open.
        LightningDb plain = LightningDb.open(tmp.resolve("plain"));
        expect(InvalidArgumentException.class, ErrorCode.INVALID_ARGUMENT,
                () -> plain.rekey(Options.builder().encryptionKey(KEY_A).build()));
        plain.close();
        expect(ClosedException.class, ErrorCode.CLOSED,
                () -> plain.rekey(Options.builder().encryptionKey(KEY_A).build()));
    }

    @Test
    void anEncryptedWriteAheadLogIsReplayed() throws Exception {
        Path dir = tmp.resolve("db");
        // The child writes under AES-256-GCM and Zstandard and halts without closing, so this
        // open replays the encrypted log records.
        TestSupport.Result r = TestSupport.run(TestSupport.javaCommand(
                TestSupport.childClasspath(), ChildMain.class.getName(), "encrypted",
                dir.toString(), Integer.toString(N), KEY_A));
        assertEquals(0, r.status(), r.output());
        assertEquals("written " + N, r.output().strip());
        assertFalse(filesContain(dir, b(MARKER)), "a value is in the clear in the log");
        expect(WrongKeyException.class, ErrorCode.WRONG_KEY, () -> LightningDb.open(dir));
        try (LightningDb db = LightningDb.open(dir, Options.builder().encryptionKey(KEY_A)
                .build())) {
            check(db, N);
        }
    }
}
