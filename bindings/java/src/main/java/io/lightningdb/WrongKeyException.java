package io.lightningdb;

/**
 * The database is encrypted and cannot be opened with what was given: the {@code
 * encryption_key} or {@code passphrase} is wrong, or neither was given. The message never holds
 * the key or the passphrase. Not retryable with the same options; a key or passphrase given for
 * a database that is not encrypted is {@link ErrorCode#INVALID_OPTION} instead. Its code is
 * {@link ErrorCode#WRONG_KEY}.
 */
public class WrongKeyException extends LightningDbException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with code {@link ErrorCode#WRONG_KEY}.
     *
     * @param message what went wrong
     */
    public WrongKeyException(String message) {
        super(ErrorCode.WRONG_KEY, message);
    }
}
