package io.lightningdb;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Helpers shared by the tests. */
final class TestSupport {
    static final int PAGE = 4096;

    private TestSupport() {}

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** The key of {@link #compressible(int)} value {@code i}: {@code key00000042}. */
    static byte[] compressibleKey(int i) {
        return b(String.format("key%08d", i));
    }

    /**
     * A compressible 200-byte value, the same for the same {@code i} in every JVM: 100 random
     * bytes (seeded with {@code i}), then 100 zeros.
     */
    static byte[] compressible(int i) {
        byte[] value = new byte[200];
        byte[] random = new byte[100];
        new java.util.Random(i).nextBytes(random);
        System.arraycopy(random, 0, value, 0, random.length);
        return value;
    }

    /**
     * Creates a database in {@code dir} with {@code n} keys ({@code key0000}...) of 127-byte
     * values, closes it (which merges everything into the page file) and returns its contents.
     */
    static Map<String, String> fillAndClose(Path dir, int n, Options.Builder options) {
        Map<String, String> contents = new LinkedHashMap<>();
        String value = "v".repeat(127);
        try (LightningDb db = LightningDb.open(dir, options.pageSize(PAGE).build())) {
            for (int i = 0; i < n; i++) {
                String key = String.format("key%04d", i);
                db.put(b(key), b(value));
                contents.put(key, value);
            }
        }
        return contents;
    }

    /** The numbers of the leaf pages (page type 2 at byte 4) of the page file in {@code dir}. */
    static List<Integer> leafPages(Path dir) throws IOException {
        byte[] data = Files.readAllBytes(dir.resolve("data.ldb"));
        List<Integer> leaves = new ArrayList<>();
        for (int p = 2; p < data.length / PAGE; p++) {
            if (data[p * PAGE + 4] == 2) {
                leaves.add(p);
            }
        }
        return leaves;
    }

    /** Flips every bit of one byte of the page file in {@code dir}. */
    static void flipByte(Path dir, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("data.ldb").toFile(), "rw")) {
            f.seek(offset);
            int old = f.read();
            f.seek(offset);
            f.write(old ^ 0xFF);
        }
    }

    /** The classpath of the library's classes and the tests' (no JUnit): for child JVMs. */
    static String childClasspath() {
        try {
            Path main = Path.of(LightningDb.class.getProtectionDomain().getCodeSource()
                    .getLocation().toURI());
            Path tests = Path.of(TestSupport.class.getProtectionDomain().getCodeSource()
                    .getLocation().toURI());
            return main + java.io.File.pathSeparator + tests;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A command starting a child JVM running {@code mainClass} with this JVM's native setup. */
    static List<String> javaCommand(String classpath, String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1");
        String nativeDir = System.getProperty(NativeLibrary.DIR_PROPERTY);
        if (nativeDir != null) {
            command.add("-D" + NativeLibrary.DIR_PROPERTY + "=" + nativeDir);
        }
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(List.of(args));
        return command;
    }

    /** Runs a child JVM to its end; returns its exit status and output (stderr merged). */
    static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }

    record Result(int status, String output) {}
}
