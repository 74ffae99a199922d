package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Closing: idempotent, thread-safe, children released, never a crash. */
class CloseTest {
    @TempDir
    Path tmp;

    private static void closed(Executable call) {
        ClosedException e = assertThrows(ClosedException.class, call);
        assertEquals(ErrorCode.CLOSED, e.getCode());
    }

    @Test
    void closeTwiceAndUseAfterClose() {
        LightningDb db = LightningDb.open(tmp.resolve("db"));
        db.put(b("k"), b("v"));
        assertFalse(db.isClosed());
        db.close();
        db.close();
        assertTrue(db.isClosed());
        closed(() -> db.get(b("k")));
        closed(() -> db.get(ByteBuffer.allocateDirect(1), ByteBuffer.allocateDirect(1)));
        closed(() -> db.put(b("k"), b("v")));
        closed(() -> db.put(ByteBuffer.allocateDirect(1), ByteBuffer.allocateDirect(1)));
        closed(() -> db.delete(b("k")));
        closed(() -> db.write(new WriteBatch()));
        closed(() -> db.range(Range.all()));
        closed(db::snapshot);
        closed(() -> db.begin(Isolation.SNAPSHOT));
        closed(() -> db.transaction(txn -> null));
        closed(db::bulkLoad);
        closed(db::sync);
        closed(db::flush);
        closed(db::compact);
        closed(db::stats);
        closed(db::verify);
        assertTrue(db.toString().contains("closed"));
    }

    @Test
    void closingTheDatabaseClosesItsChildren() {
        Path dir = tmp.resolve("db");
        LightningDb db = LightningDb.open(dir);
        for (int i = 0; i < 100; i++) {
            db.put(b(String.format("k%03d", i)), b("v"));
        }
        DbIterator it = db.range(Range.all());
        assertTrue(it.hasNext()); // a chunk is buffered
        Snapshot snap = db.snapshot();
        DbIterator snapIt = snap.range(Range.all());
        Transaction txn = db.begin(Isolation.SNAPSHOT);
        txn.put(b("uncommitted"), b("x"));
        DbIterator txnIt = txn.range(Range.all());
        db.close();

        closed(it::hasNext);
        closed(it::next);
        closed(() -> snap.get(b("k000")));
        closed(() -> snap.range(Range.all()));
        closed(snap::sequence);
        closed(snapIt::hasNext);
        closed(() -> txn.get(b("k000")));
        closed(() -> txn.put(b("k"), b("v")));
        closed(txn::commit);
        closed(txnIt::hasNext);
        assertTrue(snap.isClosed());
        assertTrue(txn.isFinished());
        // Closing the children afterwards is fine.
        it.close();
        snap.close();
        txn.close();
        txnIt.close();
        snapIt.close();

        // The directory is free at once, and the uncommitted write is gone.
        try (LightningDb again = LightningDb.open(dir)) {
            assertEquals("v", s(again.get(b("k000"))));
            assertEquals(null, again.get(b("uncommitted")));
        }
    }

    @Test
    void childrenCloseTwiceAndUseAfterClose() {
        try (LightningDb db = LightningDb.open(tmp.resolve("db"))) {
            db.put(b("k"), b("v"));
            DbIterator it = db.range(Range.all());
            it.close();
            it.close();
            closed(it::hasNext);
            closed(it::next);
            Snapshot snap = db.snapshot();
            snap.close();
            snap.close();
            closed(() -> snap.get(b("k")));
            Transaction txn = db.begin(Isolation.SNAPSHOT);
            txn.close();
            txn.close();
            closed(() -> txn.get(b("k")));
            closed(txn::rollback);
            WriteBatch batch = new WriteBatch();
            batch.close();
            batch.close();
            closed(() -> batch.put(b("k"), b("v")));
            closed(() -> db.write(batch));
            // An iterator made from a snapshot outlives nothing it needs: the database is open.
            Snapshot s2 = db.snapshot();
            DbIterator fromSnap = s2.range(Range.all());
            s2.close();
            try {
                while (fromSnap.hasNext()) {
                    fromSnap.next();
                }
            } catch (ClosedException e) {
                // either behaviour is safe; nothing crashes
            }
            fromSnap.close();
            assertEquals("v", s(db.get(b("k"))));
        }
    }

    /**
     * A child process started while the database is open (ProcessBuilder passes no descriptors
     * on, and the engine opens every file close-on-exec) does not hold its lock: the parent
     * closes and reopens while the child still runs.
     */
    @Test
    void aRunningChildProcessDoesNotKeepTheDatabaseLocked() throws Exception {
        Path dir = tmp.resolve("db");
        LightningDb db = LightningDb.open(dir);
        db.put(b("k"), b("parent"));
        Process child = new ProcessBuilder("sleep", "60").start();
        try {
            db.close();
            try (LightningDb again = LightningDb.open(dir)) {
                assertEquals("parent", s(again.get(b("k"))));
            }
            assertTrue(child.isAlive(), "the child was still running");
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
    }

    @Test
    void reopenAtOnceManyTimes() {
        Path dir = tmp.resolve("db");
        for (int i = 0; i < 20; i++) {
            try (LightningDb db = LightningDb.open(dir)) {
                byte[] old = db.get(b("n"));
                assertEquals(i == 0 ? null : Integer.toString(i - 1), s(old));
                db.put(b("n"), b(Integer.toString(i)));
                db.snapshot(); // left open: released by the database's close
                db.range(Range.all()).hasNext();
                db.begin(Isolation.SNAPSHOT);
            }
        }
    }

    @Test
    void closeWhileOtherThreadsAreInCalls() throws Exception {
        for (int round = 0; round < 5; round++) {
            LightningDb db = LightningDb.open(tmp.resolve("db" + round),
                    Options.builder().sync(false).build());
            int threads = 4;
            CountDownLatch started = new CountDownLatch(threads);
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            AtomicInteger closedSeen = new AtomicInteger();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread worker = new Thread(() -> {
                    started.countDown();
                    try {
                        for (int i = 0; ; i++) {
                            byte[] key = b("k" + id + ":" + (i % 500));
                            switch (i % 4) {
                                case 0 -> db.put(key, b("v"));
                                case 1 -> db.get(key);
                                case 2 -> {
                                    try (DbIterator it = db.range(Range.prefix(b("k" + id)))) {
                                        for (int n = 0; n < 10 && it.hasNext(); n++) {
                                            it.next();
                                        }
                                    }
                                }
                                default -> db.transaction(txn -> {
                                    txn.put(key, b("t"));
                                    return null;
                                });
                            }
                        }
                    } catch (ClosedException e) {
                        closedSeen.incrementAndGet();
                    } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                    }
                });
                worker.start();
                workers.add(worker);
            }
            started.await();
            Thread.sleep(30);
            Thread closer = new Thread(db::close);
            closer.start();
            db.close(); // two closers at once
            closer.join();
            for (Thread w : workers) {
                w.join(10_000);
                assertFalse(w.isAlive());
            }
            if (unexpected.get() != null) {
                throw new AssertionError("a worker failed", unexpected.get());
            }
            assertEquals(threads, closedSeen.get());
        }
    }

    @Test
    void unreachableObjectsAreCleanedWithoutCrashing() throws Exception {
        Path dir = tmp.resolve("db");
        try (LightningDb db = LightningDb.open(dir)) {
            for (int i = 0; i < 2000; i++) {
                db.range(Range.all()); // never closed: freed by the Cleaner
                db.snapshot().close();
            }
            db.put(b("k"), b("v"));
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        try (LightningDb db = LightningDb.open(dir)) {
            assertEquals("v", s(db.get(b("k"))));
        }
    }
}
