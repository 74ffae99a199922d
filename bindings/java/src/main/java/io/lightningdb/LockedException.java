package io.lightningdb;

/**
 * Another process, or another open {@link LightningDb} in this one, has the database open. Its code is {@link ErrorCode#LOCKED}.
 */
public class LockedException extends LightningDbException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with code {@link ErrorCode#LOCKED}.
     *
     * @param message what went wrong
     */
    public LockedException(String message) {
        super(ErrorCode.LOCKED, message);
    }
}
