package io.lightningdb.bench;

import io.lightningdb.BulkLoad;
import io.lightningdb.DbIterator;
import io.lightningdb.Durability;
import io.lightningdb.LightningDb;
import io.lightningdb.Options;
import io.lightningdb.Range;
import io.lightningdb.WriteBatch;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/** The three engines, each written out in the same shape. */
final class Engines {
    static final long CACHE_BYTES = 512L << 20;

    private Engines() {}

    /** Lightning DB through io.lightningdb (sync=false: buffered writes). */
    static final class Lightning implements Bench.Engine {
        private final LightningDb db;
        private final ByteBuffer keyBuf = ByteBuffer.allocateDirect(4096);
        private final ByteBuffer valueBuf = ByteBuffer.allocateDirect(4096);

        Lightning(Path dir) {
            db = LightningDb.open(dir, Options.builder().cacheSize(CACHE_BYTES).sync(false).build());
        }

        @Override
        public String name() {
            return "lightning";
        }

        @Override
        public void bulkLoad(byte[][] keys, byte[][] values) {
            // The loading API, as lmdbjava's MDB_APPEND: sorted pairs straight into the tree; the
            // commit fsyncs it.
            try (BulkLoad load = db.bulkLoad()) {
                for (int i = 0; i < keys.length; i++) {
                    load.put(keys[i], values[i]);
                }
                load.commit();
            }
        }

        @Override
        public void putRange(byte[][] keys, byte[][] values, int from, int to) {
            for (int i = from; i < to; i++) {
                db.put(keys[i], values[i], Durability.BUFFERED);
            }
        }

        @Override
        public void batchRange(byte[][] keys, byte[][] values, int from, int to) {
            for (int start = from; start < to; start += Bench.BATCH) {
                try (WriteBatch batch = new WriteBatch()) {
                    for (int i = start; i < Math.min(to, start + Bench.BATCH); i++) {
                        batch.put(keys[i], values[i]);
                    }
                    db.write(batch, Durability.BUFFERED);
                }
            }
        }

        @Override
        public int getRange(byte[][] keys, int from, int to) {
            int missing = 0;
            for (int i = from; i < to; i++) {
                if (db.get(keys[i]) == null) {
                    missing++;
                }
            }
            return missing;
        }

        @Override
        public int getDirectRange(byte[][] keys, int from, int to) {
            int missing = 0;
            for (int i = from; i < to; i++) {
                keyBuf.clear();
                keyBuf.put(keys[i]).flip();
                valueBuf.clear();
                if (db.get(keyBuf, valueBuf) < 0) {
                    missing++;
                }
            }
            return missing;
        }

        @Override
        public long scan() {
            long count = 0;
            try (DbIterator it = db.range(Range.all())) {
                while (it.hasNext()) {
                    it.next();
                    count++;
                }
            }
            return count;
        }

        @Override
        public void close() {
            db.close();
        }
    }

    /** LMDB through lmdbjava, with MDB_NOSYNC: a commit is written to the OS, not fsynced. */
    static final class Lmdb implements Bench.Engine {
        private final Env<ByteBuffer> env;
        private final Dbi<ByteBuffer> dbi;
        private final ByteBuffer keyBuf = ByteBuffer.allocateDirect(511);
        private final ByteBuffer valueBuf = ByteBuffer.allocateDirect(4096);

        Lmdb(Path dir) throws Exception {
            Files.createDirectories(dir);
            env = Env.create()
                    .setMapSize(4L << 30)
                    .setMaxDbs(1)
                    .open(dir.toFile(), EnvFlags.MDB_NOSYNC);
            dbi = env.openDbi("bench", DbiFlags.MDB_CREATE);
        }

        @Override
        public String name() {
            return "lmdbjava";
        }

        private void fill(byte[] key, byte[] value) {
            keyBuf.clear();
            keyBuf.put(key).flip();
            valueBuf.clear();
            valueBuf.put(value).flip();
        }

        @Override
        public void bulkLoad(byte[][] keys, byte[][] values) {
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                for (int i = 0; i < keys.length; i++) {
                    fill(keys[i], values[i]);
                    dbi.put(txn, keyBuf, valueBuf, PutFlags.MDB_APPEND);
                }
                txn.commit();
            }
            env.sync(true);
        }

        @Override
        public void putRange(byte[][] keys, byte[][] values, int from, int to) {
            for (int i = from; i < to; i++) {
                try (Txn<ByteBuffer> txn = env.txnWrite()) {
                    fill(keys[i], values[i]);
                    dbi.put(txn, keyBuf, valueBuf);
                    txn.commit();
                }
            }
        }

        @Override
        public void batchRange(byte[][] keys, byte[][] values, int from, int to) {
            for (int start = from; start < to; start += Bench.BATCH) {
                try (Txn<ByteBuffer> txn = env.txnWrite()) {
                    for (int i = start; i < Math.min(to, start + Bench.BATCH); i++) {
                        fill(keys[i], values[i]);
                        dbi.put(txn, keyBuf, valueBuf);
                    }
                    txn.commit();
                }
            }
        }

        @Override
        public int getRange(byte[][] keys, int from, int to) {
            // One read transaction for the loop: how lmdbjava users read.
            int missing = 0;
            try (Txn<ByteBuffer> txn = env.txnRead()) {
                for (int i = from; i < to; i++) {
                    keyBuf.clear();
                    keyBuf.put(keys[i]).flip();
                    ByteBuffer found = dbi.get(txn, keyBuf);
                    if (found == null) {
                        missing++;
                    } else {
                        byte[] copy = new byte[found.remaining()];
                        found.get(copy);
                    }
                }
            }
            return missing;
        }

        @Override
        public int getDirectRange(byte[][] keys, int from, int to) {
            int missing = 0;
            try (Txn<ByteBuffer> txn = env.txnRead()) {
                for (int i = from; i < to; i++) {
                    keyBuf.clear();
                    keyBuf.put(keys[i]).flip();
                    if (dbi.get(txn, keyBuf) == null) { // a zero-copy view of the value
                        missing++;
                    }
                }
            }
            return missing;
        }

        @Override
        public long scan() {
            long count = 0;
            try (Txn<ByteBuffer> txn = env.txnRead(); Cursor<ByteBuffer> c = dbi.openCursor(txn)) {
                for (boolean more = c.first(); more; more = c.next()) {
                    ByteBuffer k = c.key();
                    ByteBuffer v = c.val();
                    byte[] key = new byte[k.remaining()];
                    byte[] value = new byte[v.remaining()];
                    k.get(key);
                    v.get(value);
                    count++;
                }
            }
            return count;
        }

        @Override
        public void close() {
            dbi.close();
            env.close();
        }
    }

    /** RocksDB through rocksdbjni: default WriteOptions (WAL written, not fsynced). */
    static final class Rocks implements Bench.Engine {
        static {
            RocksDB.loadLibrary();
        }

        private final org.rocksdb.Options options;
        private final LRUCache cache;
        private final RocksDB db;
        private final WriteOptions writeOptions = new WriteOptions();
        private final ReadOptions readOptions = new ReadOptions();
        private final ByteBuffer keyBuf = ByteBuffer.allocateDirect(4096);
        private final ByteBuffer valueBuf = ByteBuffer.allocateDirect(4096);

        Rocks(Path dir) throws Exception {
            Files.createDirectories(dir);
            cache = new LRUCache(CACHE_BYTES);
            options = new org.rocksdb.Options()
                    .setCreateIfMissing(true)
                    .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache));
            db = RocksDB.open(options, dir.toString());
        }

        @Override
        public String name() {
            return "rocksdbjni";
        }

        @Override
        public void bulkLoad(byte[][] keys, byte[][] values) throws Exception {
            try (org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch()) {
                for (int i = 0; i < keys.length; i++) {
                    batch.put(keys[i], values[i]);
                }
                db.write(writeOptions, batch);
            }
            try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
                db.flush(flush);
            }
        }

        @Override
        public void putRange(byte[][] keys, byte[][] values, int from, int to) throws Exception {
            for (int i = from; i < to; i++) {
                db.put(writeOptions, keys[i], values[i]);
            }
        }

        @Override
        public void batchRange(byte[][] keys, byte[][] values, int from, int to)
                throws Exception {
            for (int start = from; start < to; start += Bench.BATCH) {
                try (org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch()) {
                    for (int i = start; i < Math.min(to, start + Bench.BATCH); i++) {
                        batch.put(keys[i], values[i]);
                    }
                    db.write(writeOptions, batch);
                }
            }
        }

        @Override
        public int getRange(byte[][] keys, int from, int to) throws Exception {
            int missing = 0;
            for (int i = from; i < to; i++) {
                if (db.get(keys[i]) == null) {
                    missing++;
                }
            }
            return missing;
        }

        @Override
        public int getDirectRange(byte[][] keys, int from, int to) throws Exception {
            int missing = 0;
            for (int i = from; i < to; i++) {
                keyBuf.clear();
                keyBuf.put(keys[i]).flip();
                valueBuf.clear();
                if (db.get(readOptions, keyBuf, valueBuf) == RocksDB.NOT_FOUND) {
                    missing++;
                }
            }
            return missing;
        }

        @Override
        public long scan() {
            long count = 0;
            try (RocksIterator it = db.newIterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    it.key();
                    it.value();
                    count++;
                }
            }
            return count;
        }

        @Override
        public void close() {
            readOptions.close();
            writeOptions.close();
            db.close();
            options.close();
            cache.close();
        }
    }
}
