package io.lightningdb;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * Loads the JNI library {@code lightningdb_jni}: from {@code java.library.path} if it is there,
 * otherwise extracted from the jar ({@code /native/<os>-<arch>/<file>}) into the directory named
 * by the system property {@code lightningdb.native.dir} (default: a new temporary directory).
 */
final class NativeLibrary {
    static final String NAME = "lightningdb_jni";
    static final String DIR_PROPERTY = "lightningdb.native.dir";

    /** Frees the native state of unreachable objects (never their engine handles' users). */
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * Calls {@code free} with {@code handle} once {@code owner} is unreachable, and never before:
     * a thread inside a native call made through {@code owner} keeps it reachable, so the native
     * state outlives every call. {@code free} must not refer to {@code owner} (a static method
     * reference), or the owner would never become unreachable.
     */
    static void freeWhenUnreachable(Object owner, long handle, LongConsumer free) {
        CLEANER.register(owner, () -> free.accept(handle));
    }

    private static boolean loaded;
    private static String failure;

    private NativeLibrary() {}

    /** Loads the library once; throws {@link UnsatisfiedLinkError} saying where it looked. */
    static synchronized void load() {
        if (loaded) {
            return;
        }
        if (failure != null) {
            throw new UnsatisfiedLinkError(failure);
        }
        String first;
        try {
            System.loadLibrary(NAME);
            loaded = true;
            return;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            first = e.getMessage();
        }
        String dirProperty = System.getProperty(DIR_PROPERTY);
        String second;
        try {
            Path dir = dirProperty != null && !dirProperty.isEmpty()
                    ? Paths.get(dirProperty)
                    : Files.createTempDirectory("lightningdb-native");
            Path file = extract(dir);
            if (dirProperty == null || dirProperty.isEmpty()) {
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            }
            System.load(file.toAbsolutePath().toString());
            loaded = true;
            return;
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            second = e.toString();
        }
        failure = "cannot load the Lightning DB native library " + NAME + ": "
                + "(1) not on java.library.path (" + System.getProperty("java.library.path")
                + "): " + first + "; (2) extracting " + resource() + " from the jar into "
                + (dirProperty != null ? dirProperty : "a temporary directory")
                + " (system property " + DIR_PROPERTY + ") failed: " + second;
        throw new UnsatisfiedLinkError(failure);
    }

    /** The platform folder: {@code linux-x86_64}, {@code darwin-aarch64}, {@code windows-x86_64}... */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "darwin";
        } else if (os.startsWith("windows")) {
            os = "windows";
        } else {
            os = os.replaceAll("[^a-z0-9]+", "");
        }
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
                arch = "x86_64";
                break;
            case "aarch64":
            case "arm64":
                arch = "aarch64";
                break;
            default:
                arch = arch.replaceAll("[^a-z0-9_]+", "");
        }
        return os + "-" + arch;
    }

    /** Where the library lies in the jar. */
    static String resource() {
        return "/native/" + platform() + "/" + System.mapLibraryName(NAME);
    }

    /**
     * Copies the library from the jar into {@code dir} (created if missing), unless an identical
     * file is there already; the copy is written to a temporary file and moved into place, so a
     * concurrent JVM never loads a half-written file.
     */
    static Path extract(Path dir) throws IOException {
        byte[] bytes;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource())) {
            if (in == null) {
                throw new IOException("the jar has no " + resource()
                        + " (no native library built for this platform)");
            }
            bytes = in.readAllBytes();
        }
        Files.createDirectories(dir);
        Path target = dir.resolve(System.mapLibraryName(NAME));
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                && Arrays.equals(Files.readAllBytes(target), bytes)) {
            return target;
        }
        Path temp = Files.createTempFile(dir, NAME, ".tmp");
        try {
            Files.write(temp, bytes);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return target;
    }
}
