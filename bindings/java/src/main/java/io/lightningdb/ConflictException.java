package io.lightningdb;

/**
 * A transaction conflicted with a concurrent commit (a key it wrote, or under serializable isolation a key or range it read, was written after it began). Retryable: run the transaction again, as {@link LightningDb#transaction(Isolation, TransactionFunction)} does. Its code is {@link ErrorCode#CONFLICT}.
 */
public class ConflictException extends LightningDbException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with code {@link ErrorCode#CONFLICT}.
     *
     * @param message what went wrong
     */
    public ConflictException(String message) {
        super(ErrorCode.CONFLICT, message);
    }
}
