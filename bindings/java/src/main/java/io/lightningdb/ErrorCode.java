package io.lightningdb;

/**
 * The kinds of failure, mirroring the C ABI's status codes ({@code ldb_status}) by name and
 * number. {@code OK} is not an error and has no constant.
 */
public enum ErrorCode {
    /** A bad argument: a key over the size limit, a misused iterator, a missing database. */
    INVALID_ARGUMENT(1),
    /** An unknown option, or a value it does not accept. */
    INVALID_OPTION(2),
    /** A checksum or structure check failed; the message names the file. */
    CORRUPTION(3),
    /** The operating system reported an I/O error. */
    IO_ERROR(4),
    /** The disk is full. */
    NO_SPACE(5),
    /** Another process (or handle) has the database open. */
    LOCKED(6),
    /** The directory holds something that is not a Lightning DB database. */
    NOT_A_DATABASE(7),
    /** The database was written by a newer, incompatible version. */
    UNSUPPORTED_VERSION(8),
    /**
     * The database, snapshot, iterator, transaction or bulk load was closed (or finished)
     * already.
     */
    CLOSED(9),
    /** A transaction conflicted with a concurrent commit; run it again. */
    CONFLICT(10),
    /**
     * A limit was reached (e.g. {@code max_active_transactions}), or a write met an open {@link
     * BulkLoad}; try again later.
     */
    BUSY(11),
    /** A write in a read-only transaction. */
    READ_ONLY(12),
    /** A bug in Lightning DB (or a status this version does not know); please report it. */
    INTERNAL(13),
    /**
     * The database is encrypted and the {@code encryption_key} or {@code passphrase} given does
     * not open it, or none was given. (A key or passphrase for a database that is not encrypted
     * is {@link #INVALID_OPTION}.)
     */
    WRONG_KEY(14);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    /**
     * The stable number of this code, as in the C ABI.
     *
     * @return the number, 1 to 14
     */
    public int code() {
        return code;
    }

    /**
     * The constant for a C ABI status number.
     *
     * @param code a status number
     * @return its constant; {@link #INTERNAL} for a number this version does not know
     */
    public static ErrorCode fromCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return INTERNAL;
    }
}
