package io.lightningdb;

import java.util.Locale;

/**
 * How the database compresses what it writes: the option {@code compression}. Today it applies
 * to the write-ahead log's records (pages will follow); each record says how it was written, so
 * the policy may change between opens and a database reads back whatever was written before.
 */
public enum Compression {
    /** No compression (the default). */
    NONE,
    /** LZ4: fast, for data with repeats. */
    LZ4,
    /** Zstandard at the level {@code compression_level} (default 3, 1 to 19). */
    ZSTD,
    /** Snappy: fast, for data with repeats. */
    SNAPPY,
    /**
     * Chosen per record: LZ4 for data with repeats, Zstandard (at {@code compression_level})
     * where entropy coding saves much more, nothing when compression saves under 1/8.
     */
    AUTO;

    /**
     * The value of the option {@code compression} for this policy: its lower-case name, e.g.
     * {@code "zstd"}.
     *
     * @return the option value
     */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
