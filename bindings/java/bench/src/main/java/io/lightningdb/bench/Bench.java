package io.lightningdb.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Lightning DB against lmdbjava and rocksdbjni: the workloads of the Python binding's bench
 * (bindings/python/bench/bench.py), in one JVM, on one machine, in one run.
 *
 * <p>200,000 keys of 16 bytes (splitmix64, as the Rust and Python benches), values of 100
 * seeded random bytes. Every engine runs with the same durability class: buffered writes (no
 * fsync per write; Lightning {@code sync=false}, RocksDB's default WriteOptions (WAL written,
 * not fsynced), LMDB with {@code MDB_NOSYNC}), the bulk load made durable at its end. Reads
 * return a {@code byte[]} copy of the value on every engine (LMDB's zero-copy view is copied
 * out); {@code read_random_direct} uses each engine's direct-ByteBuffer API instead (LMDB: the
 * zero-copy view, no copy). Write workloads alternate chunks of 10,000 operations between the
 * engines; read workloads alternate whole passes; each engine is warmed up first (JIT).
 */
public final class Bench {
    static final int KEY_LEN = 16;
    static final int VALUE_LEN = 100;
    static final int BATCH = 1000;
    static final int WRITE_CHUNK = 10_000;
    static final int MIN_READ_ROUNDS = 3;
    static final double MIN_READ_SECONDS = 1.0;

    static final long SEED = 0x4C69_6768_746E_696EL;
    static final long GOLDEN_GAMMA = 0x9E37_79B9_7F4A_7C15L;

    static final String[] WORKLOADS = {
        "bulk_load", "write_buffered", "write_batch_1000", "read_random", "read_random_direct",
        "scan"
    };

    private Bench() {}

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    static byte[] makeKey(long stream, long i) {
        long counter = (stream << 40) + 2 * i;
        long hi = mix64(SEED + (counter + 1) * GOLDEN_GAMMA);
        long lo = mix64(SEED + (counter + 2) * GOLDEN_GAMMA);
        byte[] key = new byte[KEY_LEN];
        for (int b = 0; b < 8; b++) {
            key[b] = (byte) (hi >>> (56 - 8 * b));
            key[8 + b] = (byte) (lo >>> (56 - 8 * b));
        }
        return key;
    }

    /** Pairs 0..count of {@code stream}: keys[i], values[i]. */
    static byte[][][] makePairs(long stream, int count) {
        Random random = new Random(SEED ^ stream);
        byte[][] keys = new byte[count][];
        byte[][] values = new byte[count][];
        for (int i = 0; i < count; i++) {
            keys[i] = makeKey(stream, i);
            values[i] = new byte[VALUE_LEN];
            random.nextBytes(values[i]);
        }
        return new byte[][][] {keys, values};
    }

    /** One engine under test; each loop lives in the engine, so its call sites stay monomorphic. */
    interface Engine extends AutoCloseable {
        String name();

        void bulkLoad(byte[][] keys, byte[][] values) throws Exception;

        void putRange(byte[][] keys, byte[][] values, int from, int to) throws Exception;

        void batchRange(byte[][] keys, byte[][] values, int from, int to) throws Exception;

        /** Gets keys[from..to] as byte[] copies; returns how many were missing. */
        int getRange(byte[][] keys, int from, int to) throws Exception;

        /** Gets keys[from..to] through direct buffers; returns how many were missing. */
        int getDirectRange(byte[][] keys, int from, int to) throws Exception;

        long scan() throws Exception;

        @Override
        void close() throws Exception;
    }

    interface Opener {
        Engine open(Path dir) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int n = 200_000;
        double writeSeconds = 10.0;
        Path base = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--n" -> n = Integer.parseInt(args[++i]);
                case "--dir" -> base = Path.of(args[++i]);
                case "--write-seconds" -> writeSeconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; use --n N, --dir DIR, --write-seconds S");
            }
        }
        boolean ownDir = base == null;
        if (ownDir) {
            base = Files.createTempDirectory("lightning-java-bench");
        }
        Map<String, Opener> openers = new LinkedHashMap<>();
        openers.put("lightning", Engines.Lightning::new);
        openers.put("lmdbjava", Engines.Lmdb::new);
        openers.put("rocksdbjni", Engines.Rocks::new);
        System.err.printf(Locale.ROOT, "java %s on %s %s, %d cores; n=%d, data in %s%n",
                System.getProperty("java.version"), System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), n,
                base);
        Map<String, Map<String, Double>> results = new LinkedHashMap<>();
        for (String w : WORKLOADS) {
            results.put(w, new LinkedHashMap<>());
        }
        try {
            run(openers, base, n, writeSeconds, results);
        } finally {
            if (ownDir) {
                try (Stream<Path> files = Files.walk(base)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
        printTable(results, new ArrayList<>(openers.keySet()), n);
    }

    static void run(Map<String, Opener> openers, Path base, int n, double writeSeconds,
            Map<String, Map<String, Double>> results) throws Exception {
        byte[][][] loaded = makePairs(0, n);
        byte[][][] sorted = sortedCopy(loaded);
        byte[][] readKeys = new byte[n][];
        Random pick = new Random(SEED ^ 99);
        for (int i = 0; i < n; i++) {
            readKeys[i] = loaded[0][pick.nextInt(n)];
        }

        // Bulk loads, one engine after the other; the loaded databases stay open for reads.
        Map<String, Engine> engines = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Opener> e : openers.entrySet()) {
                Engine engine = e.getValue().open(base.resolve(e.getKey() + "-loaded"));
                engines.put(e.getKey(), engine);
                long start = System.nanoTime();
                engine.bulkLoad(sorted[0], sorted[1]);
                double seconds = (System.nanoTime() - start) / 1e9;
                report(results, e.getKey(), "bulk_load", n / seconds);
                long count = engine.scan();
                if (count != n) {
                    throw new IllegalStateException(e.getKey() + ": a scan after the bulk load found "
                            + count + " keys, expected " + n);
                }
            }
            // Warm-up (JIT, caches): not timed.
            for (Engine engine : engines.values()) {
                for (int r = 0; r < 3; r++) {
                    check(engine, engine.getRange(readKeys, 0, Math.min(n, 50_000)));
                    check(engine, engine.getDirectRange(readKeys, 0, Math.min(n, 50_000)));
                    engine.scan();
                }
            }
            readPasses(engines, results, "read_random", (e) -> check(e, e.getRange(readKeys, 0, n)), n);
            readPasses(engines, results, "read_random_direct",
                    (e) -> check(e, e.getDirectRange(readKeys, 0, n)), n);
            readPasses(engines, results, "scan", (e) -> {
                long count = e.scan();
                if (count != n) {
                    throw new IllegalStateException(e.name() + ": scan found " + count);
                }
            }, n);
        } finally {
            for (Engine engine : engines.values()) {
                engine.close();
            }
        }

        writeWorkload(openers, base, "write_buffered", 1, n, writeSeconds, results, false);
        writeWorkload(openers, base, "write_batch_1000", 8, n, writeSeconds, results, true);
    }

    static void check(Engine engine, int missing) {
        if (missing != 0) {
            throw new IllegalStateException(engine.name() + ": " + missing + " keys missing");
        }
    }

    interface Pass {
        void run(Engine engine) throws Exception;
    }

    /** Whole passes, alternating engines, until each has MIN_READ_ROUNDS and MIN_READ_SECONDS. */
    static void readPasses(Map<String, Engine> engines, Map<String, Map<String, Double>> results,
            String workload, Pass pass, int opsPerPass) throws Exception {
        Map<String, double[]> totals = new LinkedHashMap<>(); // seconds, ops
        for (String name : engines.keySet()) {
            totals.put(name, new double[2]);
        }
        for (int round = 0; ; round++) {
            boolean enough = round >= MIN_READ_ROUNDS;
            for (Map.Entry<String, Engine> e : engines.entrySet()) {
                double[] t = totals.get(e.getKey());
                long start = System.nanoTime();
                pass.run(e.getValue());
                t[0] += (System.nanoTime() - start) / 1e9;
                t[1] += opsPerPass;
                enough &= t[0] >= MIN_READ_SECONDS;
            }
            if (enough) {
                break;
            }
        }
        for (Map.Entry<String, double[]> e : totals.entrySet()) {
            report(results, e.getKey(), workload, e.getValue()[1] / e.getValue()[0]);
        }
    }

    /** Fresh databases, all open at once; chunks of WRITE_CHUNK operations in turns. */
    static void writeWorkload(Map<String, Opener> openers, Path base, String workload, long stream,
            int n, double seconds, Map<String, Map<String, Double>> results, boolean batches)
            throws Exception {
        byte[][][] pairs = makePairs(stream, n);
        byte[][][] warm = makePairs(stream + 100, 20_000);
        Map<String, Engine> engines = new LinkedHashMap<>();
        Map<String, double[]> totals = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Opener> e : openers.entrySet()) {
                Engine engine = e.getValue().open(base.resolve(e.getKey() + "-" + workload));
                engines.put(e.getKey(), engine);
                totals.put(e.getKey(), new double[2]);
                // Warm-up (JIT): keys of another stream, not timed.
                if (batches) {
                    engine.batchRange(warm[0], warm[1], 0, warm[0].length);
                } else {
                    engine.putRange(warm[0], warm[1], 0, warm[0].length);
                }
            }
            for (int from = 0; from < n; from += WRITE_CHUNK) {
                int to = Math.min(n, from + WRITE_CHUNK);
                boolean over = false;
                for (Map.Entry<String, Engine> e : engines.entrySet()) {
                    double[] t = totals.get(e.getKey());
                    long start = System.nanoTime();
                    if (batches) {
                        e.getValue().batchRange(pairs[0], pairs[1], from, to);
                    } else {
                        e.getValue().putRange(pairs[0], pairs[1], from, to);
                    }
                    t[0] += (System.nanoTime() - start) / 1e9;
                    t[1] += to - from;
                    over |= t[0] >= seconds;
                }
                if (over) {
                    break;
                }
            }
        } finally {
            for (Engine engine : engines.values()) {
                engine.close();
            }
        }
        for (Map.Entry<String, double[]> e : totals.entrySet()) {
            report(results, e.getKey(), workload, e.getValue()[1] / e.getValue()[0]);
        }
    }

    static byte[][][] sortedCopy(byte[][][] pairs) {
        Integer[] order = new Integer[pairs[0].length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(pairs[0][a], pairs[0][b]));
        byte[][] keys = new byte[order.length][];
        byte[][] values = new byte[order.length][];
        for (int i = 0; i < order.length; i++) {
            keys[i] = pairs[0][order[i]];
            values[i] = pairs[1][order[i]];
        }
        return new byte[][][] {keys, values};
    }

    static void report(Map<String, Map<String, Double>> results, String engine, String workload,
            double opsPerSec) {
        results.get(workload).put(engine, opsPerSec);
        System.out.printf(Locale.ROOT,
                "{\"engine\": \"%s\", \"workload\": \"%s\", \"ops_per_sec\": %.1f}%n",
                engine, workload, opsPerSec);
    }

    static String human(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1fK", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static void printTable(Map<String, Map<String, Double>> results, List<String> engines, int n) {
        System.out.println();
        System.out.printf(Locale.ROOT, "ops/sec, n=%d (16-byte keys, 100-byte values)%n%n", n);
        StringBuilder header = new StringBuilder("| workload |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String e : engines) {
            header.append(' ').append(e).append(" |");
            rule.append("---:|");
        }
        header.append(" lightning / lmdbjava | lightning / rocksdbjni |");
        rule.append("---:|---:|");
        System.out.println(header);
        System.out.println(rule);
        for (Map.Entry<String, Map<String, Double>> row : results.entrySet()) {
            Map<String, Double> r = row.getValue();
            StringBuilder line = new StringBuilder("| " + row.getKey() + " |");
            for (String e : engines) {
                Double v = r.get(e);
                line.append(' ').append(v == null ? "-" : human(v)).append(" |");
            }
            line.append(' ').append(ratio(r, "lmdbjava")).append(" | ")
                    .append(ratio(r, "rocksdbjni")).append(" |");
            System.out.println(line);
        }
        System.out.println();
        target(results, "read_random", "lmdbjava", "get >= 1.0x lmdbjava");
        target(results, "write_buffered", "rocksdbjni", "put >= 1.0x rocksdbjni");
    }

    static String ratio(Map<String, Double> r, String peer) {
        Double l = r.get("lightning");
        Double p = r.get(peer);
        return l == null || p == null ? "-" : String.format(Locale.ROOT, "%.2fx", l / p);
    }

    static void target(Map<String, Map<String, Double>> results, String workload, String peer,
            String text) {
        Map<String, Double> r = results.get(workload);
        double x = r.get("lightning") / r.get(peer);
        System.out.printf(Locale.ROOT, "target %s (%s): %.2fx %s%n", text, workload, x,
                x >= 1.0 ? "MET" : "not met");
    }
}
