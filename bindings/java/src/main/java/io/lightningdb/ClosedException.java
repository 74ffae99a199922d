package io.lightningdb;

/**
 * The database, snapshot, iterator, transaction or bulk load was closed, or the transaction or
 * bulk load is finished (committed, rolled back or aborted). Its code is {@link
 * ErrorCode#CLOSED}.
 */
public class ClosedException extends LightningDbException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with code {@link ErrorCode#CLOSED}.
     *
     * @param message what went wrong
     */
    public ClosedException(String message) {
        super(ErrorCode.CLOSED, message);
    }
}
