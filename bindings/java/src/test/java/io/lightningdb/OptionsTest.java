package io.lightningdb;

import static io.lightningdb.TestSupport.b;
import static io.lightningdb.TestSupport.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptionsTest {
    @TempDir
    Path tmp;

    @Test
    void typedSettersUseTheCanonicalNames() {
        Options options = Options.builder()
                .createIfMissing(true)
                .sync(false)
                .cacheSize("64MiB")
                .pageSize(8192)
                .memtableSize(1L << 20)
                .maxFrozenMemtables(2)
                .mmap(false)
                .maxActiveTransactions(10)
                .compression(Compression.ZSTD)
                .compressionLevel(5)
                .build();
        assertEquals(Map.of(
                "create_if_missing", "true",
                "sync", "false",
                "cache_size", "64MiB",
                "page_size", "8192",
                "memtable_size", "1048576",
                "max_frozen_memtables", "2",
                "mmap", "false",
                "max_active_transactions", "10",
                "compression", "zstd",
                "compression_level", "5"), options.asMap());
        assertEquals("1073741824", Options.builder().cacheSize(1L << 30).build().asMap()
                .get("cache_size"));
        assertEquals("256MiB", Options.builder().memtableSize("256MiB").build().asMap()
                .get("memtable_size"));
        try (LightningDb db = LightningDb.open(tmp.resolve("db"), options)) {
            db.put(b("k"), b("v"));
            assertEquals("v", s(db.get(b("k"))));
        }
    }

    @Test
    void setByNameAndImmutability() {
        Options.Builder builder = Options.builder().set("cache_size", "1MiB").set("sync", "true");
        Options first = builder.build();
        builder.set("cache_size", "2MiB");
        assertEquals("1MiB", first.asMap().get("cache_size"));
        assertEquals("2MiB", builder.build().asMap().get("cache_size"));
        assertThrows(UnsupportedOperationException.class, () -> first.asMap().put("x", "y"));
        assertEquals(first, Options.builder().set("cache_size", "1MiB").set("sync", "true")
                .build());
        assertTrue(Options.defaults().asMap().isEmpty());
        assertTrue(first.toString().contains("cache_size=1MiB"));
        // camelCase names are accepted by the engine too
        try (LightningDb db = LightningDb.open(tmp.resolve("db"),
                Options.builder().set("cacheSize", "8MiB").build())) {
            db.put(b("k"), b("v"));
        }
    }
}
