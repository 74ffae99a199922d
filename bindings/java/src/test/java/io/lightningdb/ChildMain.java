package io.lightningdb;

import java.nio.file.Path;

/**
 * What the tests run in child JVMs: {@code open DIR} prints the error code of opening DIR (or
 * OPENED), {@code crash DIR} writes batches with sync until killed, printing each acknowledged
 * batch number.
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
            default:
                throw new IllegalArgumentException(args[0]);
        }
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
