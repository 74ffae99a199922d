package io.lightningdb;

/**
 * A failed Lightning DB call. Unchecked; {@link #getCode()} tells the kind of failure, and
 * the common kinds have subclasses ({@link ConflictException}, {@link CorruptionException},
 * {@link LockedException}, {@link ClosedException}, {@link InvalidArgumentException}, {@link
 * WrongKeyException}).
 */
public class LightningDbException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kind of failure. */
    private final ErrorCode code;

    /**
     * A failure of the kind {@code code}.
     *
     * @param code the kind of failure
     * @param message what went wrong
     */
    public LightningDbException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    /**
     * The kind of failure, mirroring the C ABI's status.
     *
     * @return the code
     */
    public ErrorCode getCode() {
        return code;
    }

    /**
     * The exception for a C ABI status: the subclass for the common codes. Called by the native
     * library.
     */
    static LightningDbException create(int status, String message) {
        ErrorCode code = ErrorCode.fromCode(status);
        if (code.code() != status) {
            message = "status " + status + ": " + message;
        }
        switch (code) {
            case CONFLICT:
                return new ConflictException(message);
            case CORRUPTION:
                return new CorruptionException(message);
            case LOCKED:
                return new LockedException(message);
            case CLOSED:
                return new ClosedException(message);
            case INVALID_ARGUMENT:
                return new InvalidArgumentException(message);
            case WRONG_KEY:
                return new WrongKeyException(message);
            default:
                return new LightningDbException(code, message);
        }
    }
}
