package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM writes synced batches and prints each acknowledged one; it is killed with SIGKILL
 * mid-way. Reopened, the database holds every acknowledged batch, and every batch whole or not
 * at all.
 */
class CrashTest {
    @TempDir
    Path tmp;

    @Test
    void killedWriterLosesNoAcknowledgedWrite() throws Exception {
        for (int round = 0; round < 3; round++) {
            Path dir = tmp.resolve("db");
            int acked = -1;
            Process child = new ProcessBuilder(TestSupport.javaCommand(
                    TestSupport.childClasspath(), ChildMain.class.getName(), "crash",
                    dir.toString())).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int target = 50 + 40 * round;
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("ack ")) {
                        acked = Integer.parseInt(line.substring(4));
                        if (acked >= target) {
                            child.destroyForcibly(); // SIGKILL on Linux
                            break;
                        }
                    }
                }
            }
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            assertTrue(acked >= target, "the child acknowledged only " + acked);

            try (LightningDb db = LightningDb.open(dir)) {
                int present = 0;
                for (int i = 0; ; i++) {
                    int found = 0;
                    for (int j = 0; j < 10; j++) {
                        byte[] v = db.get(b("batch:" + i + ":" + j));
                        if (v != null) {
                            assertEquals(Integer.toString(i), s(v));
                            found++;
                        }
                    }
                    assertTrue(found == 0 || found == 10, "batch " + i + " is partial: " + found);
                    if (i <= acked) {
                        assertEquals(10, found, "acknowledged batch " + i + " is missing");
                        if (i % 3 == 0) {
                            assertEquals(Integer.toString(i), s(db.get(b("single:" + i))));
                        }
                    }
                    if (found == 0 && i > acked) {
                        // Nothing after a missing batch (a prefix of the history: no holes).
                        assertNull(db.get(b("batch:" + (i + 1) + ":0")));
                        break;
                    }
                    present++;
                }
                assertTrue(present >= acked + 1);
                assertFalse(db.verify().isEmpty());
            }
        }
    }
}
