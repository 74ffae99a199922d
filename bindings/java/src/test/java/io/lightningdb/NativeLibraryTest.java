package io.lightningdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader: java.library.path first, then extraction from the jar. */
class NativeLibraryTest {
    @TempDir
    Path tmp;

    @Test
    void platformFolderNaming() {
        String platform = NativeLibrary.platform();
        assertTrue(platform.matches("[a-z0-9]+-[a-z0-9_]+"), platform);
        assertTrue(NativeLibrary.resource().startsWith("/native/" + platform + "/"));
        assertTrue(NativeLibrary.resource().endsWith(System.mapLibraryName("lightningdb_jni")));
    }

    @Test
    void extractsIntoTheChosenDirectoryAndReusesAnIdenticalCopy() throws IOException {
        Path dir = tmp.resolve("native/sub");
        Path file = NativeLibrary.extract(dir);
        assertEquals(dir.resolve(System.mapLibraryName(NativeLibrary.NAME)), file);
        byte[] expected;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(NativeLibrary.resource())) {
            expected = in.readAllBytes();
        }
        assertArrayEquals(expected, Files.readAllBytes(file));
        FileTime old = FileTime.fromMillis(1_000_000);
        Files.setLastModifiedTime(file, old);
        assertEquals(file, NativeLibrary.extract(dir));
        assertEquals(old, Files.getLastModifiedTime(file)); // identical: not rewritten
        Files.write(file, new byte[] {1, 2, 3}); // a different file is replaced
        NativeLibrary.extract(dir);
        assertArrayEquals(expected, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count()); // no temporary file left behind
        }
    }

    @Test
    void childJvmExtractsWhenNotOnTheLibraryPath() throws Exception {
        Path nativeDir = tmp.resolve("chosen");
        Path db = tmp.resolve("db");
        var command = TestSupport.javaCommand(TestSupport.childClasspath(),
                ChildMain.class.getName(), "open", db.toString());
        command.removeIf(a -> a.startsWith("-D" + NativeLibrary.DIR_PROPERTY));
        command.add(1, "-D" + NativeLibrary.DIR_PROPERTY + "=" + nativeDir);
        command.add(1, "-Djava.library.path=" + tmp.resolve("nothing-here"));
        TestSupport.Result r = TestSupport.run(command);
        assertEquals(0, r.status(), r.output());
        assertEquals("OPENED null", r.output().strip());
        assertTrue(Files.isRegularFile(nativeDir.resolve(System.mapLibraryName("lightningdb_jni"))));
    }

    @Test
    void childJvmLoadsFromTheLibraryPathFirst() throws Exception {
        Path libDir = tmp.resolve("libpath");
        NativeLibrary.extract(libDir);
        Path nativeDir = tmp.resolve("unused");
        var command = TestSupport.javaCommand(TestSupport.childClasspath(),
                ChildMain.class.getName(), "open", tmp.resolve("db").toString());
        command.removeIf(a -> a.startsWith("-D" + NativeLibrary.DIR_PROPERTY));
        command.add(1, "-D" + NativeLibrary.DIR_PROPERTY + "=" + nativeDir);
        command.add(1, "-Djava.library.path=" + libDir);
        TestSupport.Result r = TestSupport.run(command);
        assertEquals("OPENED null", r.output().strip(), r.output());
        assertTrue(Files.notExists(nativeDir)); // nothing extracted
    }

    @Test
    void clearErrorWhenNeitherWorks() throws Exception {
        // The classes without the native folder, and nothing on java.library.path.
        Path classes = tmp.resolve("classes");
        Path main = Path.of(LightningDb.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI());
        try (Stream<Path> files = Files.walk(main.resolve("io"))) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = classes.resolve(main.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        Path tests = Path.of(TestSupport.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI());
        var command = TestSupport.javaCommand(classes + java.io.File.pathSeparator + tests,
                ChildMain.class.getName(), "open", tmp.resolve("db").toString());
        command.removeIf(a -> a.startsWith("-D" + NativeLibrary.DIR_PROPERTY));
        command.add(1, "-D" + NativeLibrary.DIR_PROPERTY + "=" + tmp.resolve("never"));
        command.add(1, "-Djava.library.path=" + tmp.resolve("nothing-here"));
        TestSupport.Result r = TestSupport.run(command);
        String out = r.output().strip();
        assertTrue(out.startsWith("UNSATISFIED "), out);
        assertTrue(out.contains("java.library.path"), out);
        assertTrue(out.contains(NativeLibrary.resource()), out);
        assertTrue(out.contains(NativeLibrary.DIR_PROPERTY), out);
    }
}
