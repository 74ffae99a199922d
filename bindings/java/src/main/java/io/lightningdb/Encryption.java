package io.lightningdb;

import java.util.Locale;

/**
 * The cipher a new database encrypts its pages and write-ahead-log records with: the option
 * {@code encryption}. Set with {@link Options.Builder#encryption(Encryption)}, together with an
 * {@link Options.Builder#encryptionKey(String) encryptionKey} or a {@link
 * Options.Builder#passphrase(String) passphrase}; data is compressed (if {@link Compression}
 * says so) before it is encrypted. The cipher is fixed when the database is created: an
 * existing database keeps its own whatever this option says, and opens with its key or
 * passphrase alone.
 */
public enum Encryption {
    /** No encryption (the default). */
    NONE,
    /** AES-256 in Galois/Counter Mode: fast where the CPU has AES instructions. */
    AES_256_GCM,
    /** ChaCha20-Poly1305: fast in software, on any CPU. */
    CHACHA20_POLY1305;

    /**
     * The value of the option {@code encryption} for this cipher: its lower-case name with
     * dashes, e.g. {@code "aes-256-gcm"}.
     *
     * @return the option value
     */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
