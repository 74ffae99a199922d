package io.lightningdb;

/**
 * The database, snapshot, iterator or transaction was closed, or the transaction is finished (committed or rolled back). Its code is {@link ErrorCode#CLOSED}.
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
