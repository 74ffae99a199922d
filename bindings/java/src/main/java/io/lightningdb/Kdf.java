package io.lightningdb;

import java.util.Locale;

/**
 * How a new database derives its key from a {@link Options.Builder#passphrase(String)
 * passphrase}: the option {@code kdf}. The KDF and its costs ({@code kdf_memory}, {@code
 * kdf_iterations}, {@code kdf_parallelism}) are recorded in the database when it is created (or
 * rekeyed), so a later open needs only the passphrase.
 */
public enum Kdf {
    /**
     * Argon2id (the default): memory-hard; costs {@code kdf_memory} (default 64 MiB), {@code
     * kdf_iterations} passes (default 3) and {@code kdf_parallelism} lanes (default 1).
     */
    ARGON2ID,
    /**
     * PBKDF2 with HMAC-SHA-256: {@code kdf_iterations} rounds (default 600,000, at least
     * 10,000).
     */
    PBKDF2_SHA256;

    /**
     * The value of the option {@code kdf} for this function: its lower-case name with dashes,
     * e.g. {@code "pbkdf2-sha256"}.
     *
     * @return the option value
     */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
