package io.lightningdb;

/**
 * A checksum or structure check failed; the message names the file. Never returned as data. Its code is {@link ErrorCode#CORRUPTION}.
 */
public class CorruptionException extends LightningDbException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with code {@link ErrorCode#CORRUPTION}.
     *
     * @param message what went wrong
     */
    public CorruptionException(String message) {
        super(ErrorCode.CORRUPTION, message);
    }
}
