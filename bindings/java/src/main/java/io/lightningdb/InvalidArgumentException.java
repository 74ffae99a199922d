package io.lightningdb;

/**
 * A bad argument: a key longer than 4096 bytes, a value longer than 64 MiB, a range with both a prefix and bounds, a missing database with {@code create_if_missing=false}. Its code is {@link ErrorCode#INVALID_ARGUMENT}.
 */
public class InvalidArgumentException extends LightningDbException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with code {@link ErrorCode#INVALID_ARGUMENT}.
     *
     * @param message what went wrong
     */
    public InvalidArgumentException(String message) {
        super(ErrorCode.INVALID_ARGUMENT, message);
    }
}
