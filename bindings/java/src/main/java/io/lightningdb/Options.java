package io.lightningdb;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How to open a database: settings by name, with string values, as in every Lightning DB
 * language (DESIGN §4: {@code cache_size=512MiB}, {@code sync=false}, {@code page_size=4096}).
 * Immutable; build one with {@link #builder()}. The engine checks the values when the database
 * opens: a bad one makes {@link LightningDb#open(java.nio.file.Path, Options) open} throw a
 * {@link LightningDbException} with code {@link ErrorCode#INVALID_OPTION} naming the option,
 * the value and what is allowed. Options not set keep their defaults (and environment
 * variables such as {@code LIGHTNING_DB_CACHE_SIZE} do not apply).
 */
public final class Options {
    private static final Options DEFAULTS = new Options(new LinkedHashMap<>());

    private final Map<String, String> values;

    private Options(LinkedHashMap<String, String> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * The defaults: nothing set.
     *
     * @return options with every setting at its default
     */
    public static Options defaults() {
        return DEFAULTS;
    }

    /**
     * A builder with nothing set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings made, by name, in the order set.
     *
     * @return an unmodifiable map of name to value
     */
    public Map<String, String> asMap() {
        return values;
    }

    /** The settings as UTF-8 {@code name NUL value NUL} pairs, for the native library. */
    byte[] encode() {
        StringBuilder s = new StringBuilder();
        values.forEach((name, value) -> s.append(name).append('\0').append(value).append('\0'));
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Options o && values.equals(o.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return "Options" + values;
    }

    /**
     * Builds {@link Options}: a typed setter per option, and {@link #set(String, String)} for
     * any option by name. Setting an option again replaces its value. Not thread-safe.
     */
    public static final class Builder {
        private final LinkedHashMap<String, String> values = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets any option by its name (snake_case, e.g. {@code cache_size}; camelCase is
         * accepted too) to its canonical string form (e.g. {@code 512MiB}).
         *
         * @param name the option's name
         * @param value its value as text
         * @return this builder
         */
        public Builder set(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            values.put(name, value);
            return this;
        }

        /**
         * {@code create_if_missing} (default {@code true}): create the database if the
         * directory has none.
         *
         * @param create whether to create a missing database
         * @return this builder
         */
        public Builder createIfMissing(boolean create) {
            return set("create_if_missing", Boolean.toString(create));
        }

        /**
         * {@code sync} (default {@code true}): the durability of writes made with {@link
         * Durability#DEFAULT}: {@code true} returns after fsync, {@code false} is buffered.
         *
         * @param sync whether writes are synced by default
         * @return this builder
         */
        public Builder sync(boolean sync) {
            return set("sync", Boolean.toString(sync));
        }

        /**
         * {@code cache_size} (default {@code 64MiB}, 0 to 1 TiB): the page cache for reads that
         * do not go through the memory map.
         *
         * @param size a size with an optional unit, e.g. {@code "256MiB"}
         * @return this builder
         */
        public Builder cacheSize(String size) {
            return set("cache_size", size);
        }

        /**
         * {@code cache_size} in bytes; see {@link #cacheSize(String)}.
         *
         * @param bytes the size in bytes
         * @return this builder
         */
        public Builder cacheSize(long bytes) {
            return set("cache_size", Long.toString(bytes));
        }

        /**
         * {@code page_size} (default 4096): a power of two from 4096 to 65536, fixed when the
         * database is created.
         *
         * @param bytes the page size in bytes
         * @return this builder
         */
        public Builder pageSize(int bytes) {
            return set("page_size", Integer.toString(bytes));
        }

        /**
         * {@code memtable_size} (default {@code 64MiB}, 64 KiB to 4 GiB): the in-memory table
         * is frozen and merged into the page file when it reaches this size.
         *
         * @param size a size with an optional unit, e.g. {@code "128MiB"}
         * @return this builder
         */
        public Builder memtableSize(String size) {
            return set("memtable_size", size);
        }

        /**
         * {@code memtable_size} in bytes; see {@link #memtableSize(String)}.
         *
         * @param bytes the size in bytes
         * @return this builder
         */
        public Builder memtableSize(long bytes) {
            return set("memtable_size", Long.toString(bytes));
        }

        /**
         * {@code max_frozen_memtables} (default 4, 1 to 64): beyond this backlog of tables
         * waiting to be merged, writers are slowed (never stopped).
         *
         * @param count the number of frozen tables
         * @return this builder
         */
        public Builder maxFrozenMemtables(int count) {
            return set("max_frozen_memtables", Integer.toString(count));
        }

        /**
         * {@code mmap} (default {@code true}): read pages through a memory map when the storage
         * allows.
         *
         * @param mmap whether to map the page file
         * @return this builder
         */
        public Builder mmap(boolean mmap) {
            return set("mmap", Boolean.toString(mmap));
        }

        /**
         * {@code max_active_transactions} (default 1024, 1 to 1,000,000): beyond this many open
         * transactions, {@link LightningDb#begin(Isolation)} fails with {@link ErrorCode#BUSY}.
         *
         * @param count the limit
         * @return this builder
         */
        public Builder maxActiveTransactions(int count) {
            return set("max_active_transactions", Integer.toString(count));
        }

        /**
         * {@code compression} (default {@link Compression#NONE}): how records of the write-ahead
         * log are compressed (pages will follow). Each record says how it was written, so the
         * policy may change between opens.
         *
         * @param compression the compression policy
         * @return this builder
         */
        public Builder compression(Compression compression) {
            Objects.requireNonNull(compression, "compression");
            return set("compression", compression.optionValue());
        }

        /**
         * {@code compression_level} (default 3, 1 to 19): Zstandard's level, for {@link
         * Compression#ZSTD} and {@link Compression#AUTO}.
         *
         * @param level the Zstandard level
         * @return this builder
         */
        public Builder compressionLevel(int level) {
            return set("compression_level", Integer.toString(level));
        }

        /**
         * The options set so far; the builder may be reused.
         *
         * @return immutable options
         */
        public Options build() {
            return new Options(new LinkedHashMap<>(values));
        }
    }
}
