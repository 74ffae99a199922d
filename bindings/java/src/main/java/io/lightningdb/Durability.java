package io.lightningdb;

/** How durable a write is when the call returns. */
public enum Durability {
    // The native library takes the ordinal: keep this order.
    /** The database's option {@code sync} (default {@code true}: {@link #SYNC}). */
    DEFAULT,
    /** Returns after the write-ahead log is fsynced (concurrent writers share one fsync). */
    SYNC,
    /**
     * Returns after handing the write to the operating system: survives a crash of the process;
     * on power loss a suffix of the latest buffered writes may be lost (never a hole).
     */
    BUFFERED
}
