/*
 * Quickstart.java - a tour of Lightning DB from Java.
 *
 *     mvn -B -f bindings/java/pom.xml verify          # builds target/lightning-db-0.1.0.jar
 *     javac -cp bindings/java/target/lightning-db-0.1.0.jar -d /tmp/qs examples/java/Quickstart.java
 *     java -cp bindings/java/target/lightning-db-0.1.0.jar:/tmp/qs Quickstart [DIRECTORY]
 *
 * With no argument the database goes into a new temporary directory (removed at the end). The
 * jar carries the native library and extracts it on first use (into the directory named by the
 * system property lightningdb.native.dir, default a temporary one). The tour ends with an
 * encrypted database, always in a temporary directory of its own.
 */

import io.lightningdb.BulkLoad;
import io.lightningdb.ClosedException;
import io.lightningdb.Compression;
import io.lightningdb.DbIterator;
import io.lightningdb.Encryption;
import io.lightningdb.Entry;
import io.lightningdb.InvalidArgumentException;
import io.lightningdb.Isolation;
import io.lightningdb.LightningDb;
import io.lightningdb.Options;
import io.lightningdb.Range;
import io.lightningdb.Snapshot;
import io.lightningdb.Transaction;
import io.lightningdb.WriteBatch;
import io.lightningdb.WrongKeyException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

public final class Quickstart {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    /** Adds {@code amount} to the number at {@code key} in a transaction, retried on conflict. */
    static long addToCounter(LightningDb db, byte[] key, long amount) {
        return db.transaction(Isolation.SERIALIZABLE, txn -> {
            byte[] old = txn.get(key);
            long total = (old == null ? 0 : Long.parseLong(text(old))) + amount;
            txn.put(key, bytes(Long.toString(total)));
            return total;
        });
    }

    static void tour(Path dir) {
        Options options = Options.builder().cacheSize("64MiB").sync(true).build();
        LightningDb closedLater;
        try (LightningDb db = LightningDb.open(dir, options)) {
            closedLater = db;
            db.put(bytes("hello"), bytes("world"));
            db.put(bytes("language"), bytes("java"));
            System.out.println("hello = " + text(db.get(bytes("hello"))));
            System.out.println("missing = " + text(db.get(bytes("missing")))); // null: absent

            // A batch is applied atomically.
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(bytes("fruit:apple"), bytes("red"))
                        .put(bytes("fruit:banana"), bytes("yellow"))
                        .put(bytes("fruit:cherry"), bytes("red"))
                        .delete(bytes("language"));
                db.write(batch);
            }

            // Iterate over a prefix in key order (reversed() for the other way).
            try (DbIterator it = db.range(Range.prefix(bytes("fruit:")))) {
                while (it.hasNext()) {
                    Entry e = it.next();
                    System.out.println("  " + text(e.key()) + " = " + text(e.value()));
                }
            }
            try (DbIterator it = db.range(Range.prefix(bytes("fruit:")).reversed())) {
                System.out.println("last fruit: " + text(it.next().key()));
            }

            // A snapshot keeps seeing the database as of the moment it was taken.
            try (Snapshot snap = db.snapshot()) {
                db.put(bytes("fruit:apple"), bytes("green"));
                System.out.println("apple now: " + text(db.get(bytes("fruit:apple")))
                        + ", in the snapshot: " + text(snap.get(bytes("fruit:apple"))));
            }

            // Transactions, with the retry helper...
            addToCounter(db, bytes("visits"), 1);
            System.out.println("visits = " + addToCounter(db, bytes("visits"), 41));
            // ... or by hand (close() rolls back unless committed).
            try (Transaction txn = db.begin(Isolation.SNAPSHOT)) {
                txn.put(bytes("note"), bytes("written in a transaction"));
                txn.commit();
            }

            // A bulk load: pairs in ascending key order go straight into the tree, and commit()
            // makes them all visible and durable at once (close() without it abandons them).
            try (BulkLoad load = db.bulkLoad()) {
                for (int i = 0; i < 1000; i++) {
                    load.put(bytes(String.format("item:%04d", i)), bytes("loaded"));
                }
                load.commit();
            }
            System.out.println("item:0999 = " + text(db.get(bytes("item:0999"))));

            // Zero-copy reads and writes with direct buffers.
            ByteBuffer key = ByteBuffer.allocateDirect(16).put(bytes("direct")).flip();
            ByteBuffer value = ByteBuffer.allocateDirect(64);
            db.put(key, ByteBuffer.allocateDirect(8).put(bytes("buffers")).flip());
            int n = db.get(key, value);
            byte[] read = new byte[n];
            value.get(read);
            System.out.println("direct = " + text(read));

            // Errors are unchecked LightningDbExceptions with a code, and a subclass per common code.
            try {
                db.put(new byte[5000], bytes("a key longer than the 4 KiB limit"));
            } catch (InvalidArgumentException e) {
                System.out.println("refused as expected: " + e.getCode() + ": " + e.getMessage());
            }
            System.out.println("writes so far: " + db.stats().get("last_sequence"));
        }
        // The try block closed the database; using it now throws ClosedException.
        try {
            closedLater.get(bytes("hello"));
        } catch (ClosedException e) {
            System.out.println("after close: " + e.getCode());
        }
    }

    /**
     * Encryption at rest: a compressed database encrypted under a passphrase, reopened, given a
     * new passphrase, and refused to the old one.
     */
    static void encryptedTour(Path dir) {
        // In real code the passphrase comes from a secret store or System.console().readPassword().
        char[] passphrase = "correct horse battery staple".toCharArray();
        Options create = Options.builder()
                .encryption(Encryption.AES_256_GCM) // or CHACHA20_POLY1305
                .compression(Compression.ZSTD)      // compressed, then encrypted
                .passphrase(passphrase)             // or encryptionKey(64 hex digits)
                .build();                           // key derived with Argon2id (kdf, kdfMemory...)
        Arrays.fill(passphrase, '\0'); // the options keep their own copy
        System.out.println("vault options: " + create); // the passphrase shows as <redacted>
        try (LightningDb vault = LightningDb.open(dir, create)) {
            vault.put(bytes("secret"), bytes("attack at dawn"));
        }
        // Reopening needs only the passphrase: the cipher and the KDF are in the database.
        Options old = Options.builder().passphrase("correct horse battery staple").build();
        try (LightningDb vault = LightningDb.open(dir, old)) {
            System.out.println("secret = " + text(vault.get(bytes("secret"))));
            vault.rekey(Options.builder().passphrase("a new passphrase").build());
        }
        try {
            LightningDb.open(dir, old).close();
            System.out.println("opened with the old passphrase?!");
        } catch (WrongKeyException e) {
            System.out.println("old passphrase after rekey: " + e.getCode());
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 0) {
            tour(Path.of(args[0]));
        } else {
            Path tmp = Files.createTempDirectory("lightningdb-quickstart");
            try {
                tour(tmp.resolve("db"));
            } finally {
                deleteTree(tmp);
            }
        }
        Path vaultDir = Files.createTempDirectory("lightningdb-vault");
        try {
            encryptedTour(vaultDir.resolve("vault"));
        } finally {
            deleteTree(vaultDir);
        }
    }
}
