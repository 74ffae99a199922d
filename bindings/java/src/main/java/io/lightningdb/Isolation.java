package io.lightningdb;

/** A transaction's isolation level. Concurrency control is optimistic: nothing is locked. */
public enum Isolation {
    // The native library takes the ordinal: keep this order.
    /**
     * Snapshot isolation: reads see the database as of {@code begin}; a commit fails with {@link
     * ConflictException} if a key it writes was written by another commit since (no lost
     * updates; write skew is possible).
     */
    SNAPSHOT,
    /**
     * Serializable: a commit also fails if a key it read, or any key in a range it iterated
     * (including keys that did not exist), was written since it began.
     */
    SERIALIZABLE
}
