package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One LightningDb shared by many threads. */
class ThreadsTest {
    @TempDir
    Path tmp;

    @Test
    void manyThreadsReadAndWrite() throws Exception {
        int threads = 8;
        int perThread = 2000;
        try (LightningDb db = LightningDb.open(tmp.resolve("db"),
                Options.builder().sync(false).build())) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    ByteBuffer key = ByteBuffer.allocateDirect(32);
                    ByteBuffer value = ByteBuffer.allocateDirect(32);
                    for (int i = 0; i < perThread; i++) {
                        byte[] k = b("t" + id + ":" + i);
                        if (i % 2 == 0) {
                            db.put(k, b("v" + i));
                        } else {
                            key.clear().put(k).flip();
                            value.clear().put(b("v" + i)).flip();
                            db.put(key, value);
                        }
                        assertEquals("v" + i, s(db.get(k)));
                        if (i % 100 == 0) {
                            try (Snapshot snap = db.snapshot()) {
                                assertNotNull(snap.get(k));
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            int count = 0;
            try (DbIterator it = db.range(Range.all())) {
                while (it.hasNext()) {
                    it.next();
                    count++;
                }
            }
            assertEquals(threads * perThread, count);
        }
    }

    @Test
    void contendedTransactionsKeepAnExactTotal() throws Exception {
        int threads = 6;
        int increments = 150;
        AtomicInteger attempts = new AtomicInteger();
        try (LightningDb db = LightningDb.open(tmp.resolve("db"),
                Options.builder().sync(false).build())) {
            db.put(b("counter"), b("0"));
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < increments; i++) {
                        db.transaction(Isolation.SERIALIZABLE, 1000, txn -> {
                            attempts.incrementAndGet();
                            long n = Long.parseLong(s(txn.get(b("counter"))));
                            txn.put(b("counter"), b(Long.toString(n + 1)));
                            return n + 1;
                        });
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            assertEquals(Integer.toString(threads * increments), s(db.get(b("counter"))));
            assertEquals(0L, db.stats().get("open_transactions"));
        }
        System.out.println("contended transactions: " + attempts.get() + " attempts for "
                + threads * increments + " commits");
    }
}
