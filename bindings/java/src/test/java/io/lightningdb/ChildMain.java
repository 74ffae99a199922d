package io.lightningdb;

import java.nio.file.Path;

/**
 * What the tests run in child JVMs: {@code open DIR} prints the error code of opening DIR (or
 * OPENED), {@code crash DIR} writes batches with sync until killed, printing each acknowledged
 * batch number, {@code compressed DIR N} writes {@link TestSupport#compressible(int)} values
 * 0..N-1 with Zstandard compression, prints {@code written N} and halts without closing (so the
 * next open replays the compressed write-ahead log), {@code encrypted DIR N KEY} does the same
 * with {@link EncryptionTest}'s values under AES-256-GCM with the key KEY.
 */
public final class ChildMain {
    private ChildMain() {}

    /**
     * The child's entry point.
     *
     * @param args the mode and the database directory
     */
    public static void main(String[] args) {
        Path dir = Path.of(args[1]);
        switch (args[0]) {
            case "open":
                try (LightningDb db = LightningDb.open(dir)) {
                    System.out.println("OPENED " + TestSupport.s(db.get(TestSupport.b("k"))));
                } catch (LightningDbException e) {
                    System.out.println(e.getCode());
                } catch (UnsatisfiedLinkError e) {
                    System.out.println("UNSATISFIED " + e.getMessage());
                }
                break;
            case "crash":
                crash(dir);
                break;
            case "compressed":
                compressed(dir, Integer.parseInt(args[2]));
                break;
            case "encrypted":
                encrypted(dir, Integer.parseInt(args[2]), args[3]);
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }

    /** Writes {@code n} compressible values in batches of 10, then halts without closing. */
    private static void compressed(Path dir, int n) {
        LightningDb db = LightningDb.open(dir, Options.builder()
                .compression(Compression.ZSTD).compressionLevel(5).build());
        for (int start = 0; start < n; start += 10) {
            try (WriteBatch batch = new WriteBatch()) {
                for (int i = start; i < Math.min(start + 10, n); i++) {
                    batch.put(TestSupport.compressibleKey(i), TestSupport.compressible(i));
                }
                db.write(batch);
            }
        }
        System.out.println("written " + n);
        System.out.flush();
        Runtime.getRuntime().halt(0); // no close: nothing is merged into the page file
    }

    /**
     * Writes {@code n} of {@link EncryptionTest}'s values encrypted with {@code key} (and
     * compressed), then halts without closing.
     */
    private static void encrypted(Path dir, int n, String key) {
        LightningDb db = LightningDb.open(dir, Options.builder()
                .encryption(Encryption.AES_256_GCM).encryptionKey(key)
                .compression(Compression.ZSTD).build());
        for (int i = 0; i < n; i++) {
            db.put(EncryptionTest.key(i), EncryptionTest.value(i));
        }
        System.out.println("written " + n);
        System.out.flush();
        Runtime.getRuntime().halt(0); // no close: nothing is merged into the page file
    }

    /** Batch {@code i} sets {@code batch:i:0..9} to {@code i}; each is synced, then printed. */
    private static void crash(Path dir) {
        LightningDb db = LightningDb.open(dir, Options.builder().sync(true).build());
        for (int i = 0; ; i++) {
            try (WriteBatch batch = new WriteBatch()) {
                for (int j = 0; j < 10; j++) {
                    batch.put(TestSupport.b("batch:" + i + ":" + j), TestSupport.b("" + i));
                }
                if (i % 3 == 0) {
                    db.put(TestSupport.b("single:" + i), TestSupport.b("" + i));
                }
                db.write(batch);
            }
            System.out.println("ack " + i);
            System.out.flush();
        }
    }
}
