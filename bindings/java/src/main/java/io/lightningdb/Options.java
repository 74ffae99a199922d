package io.lightningdb;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to open a database: settings by name, with string values, as in every Lightning DB
 * language (DESIGN §4: {@code cache_size=512MiB}, {@code sync=false}, {@code page_size=4096}).
 * Immutable; build one with {@link #builder()}. The engine checks the values when the database
 * opens: a bad one makes {@link LightningDb#open(java.nio.file.Path, Options) open} throw a
 * {@link LightningDbException} with code {@link ErrorCode#INVALID_OPTION} naming the option,
 * the value and what is allowed. Options not set keep their defaults (and environment
 * variables such as {@code LIGHTNING_DB_CACHE_SIZE} do not apply).
 *
 * <p>The secret options {@code encryption_key} and {@code passphrase} are never shown: {@link
 * #asMap()} and {@link #toString()} give {@value #REDACTED} for them, and the engine's error
 * messages never hold them.
 */
public final class Options {
    /** What {@link #asMap()} and {@link #toString()} show instead of a secret option's value. */
    public static final String REDACTED = "<redacted>";

    private static final Options DEFAULTS = new Options(new LinkedHashMap<>());

    /** The settings as given, secrets included: only {@link #encode()} reads them. */
    private final Map<String, String> values;

    /** The settings with the secrets' values replaced by {@link #REDACTED}. */
    private final Map<String, String> shown;

    private Options(LinkedHashMap<String, String> values) {
        this.values = Collections.unmodifiableMap(values);
        LinkedHashMap<String, String> shown = new LinkedHashMap<>();
        values.forEach((name, value) -> shown.put(name, isSecret(name) ? REDACTED : value));
        this.shown = Collections.unmodifiableMap(shown);
    }

    /**
     * Whether {@code name} is a secret option ({@code encryption_key}, {@code passphrase}) in any
     * of the spellings the engine accepts (snake_case, camelCase, kebab-case, any letter case).
     */
    static boolean isSecret(String name) {
        String plain = name.replace("_", "").replace("-", "").trim().toLowerCase(Locale.ROOT);
        return plain.equals("encryptionkey") || plain.equals("passphrase");
    }

    /**
     * The defaults: nothing set.
     *
     * @return options with every setting at its default
     */
    public static Options defaults() {
        return DEFAULTS;
    }

    /**
     * A builder with nothing set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings made, by name, in the order set. The secret options ({@code encryption_key},
     * {@code passphrase}) are listed with the value {@value #REDACTED}.
     *
     * @return an unmodifiable map of name to value
     */
    public Map<String, String> asMap() {
        return shown;
    }

    /** The settings as UTF-8 {@code name NUL value NUL} pairs, for the native library. */
    byte[] encode() {
        StringBuilder s = new StringBuilder();
        values.forEach((name, value) -> s.append(name).append('\0').append(value).append('\0'));
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Options o && values.equals(o.values);
    }

    @Override
    public int hashCode() {
        return shown.hashCode(); // no hash of a secret
    }

    /**
     * The settings, as {@code Options{name=value, ...}}; secrets show as {@value #REDACTED}.
     *
     * @return the settings as text
     */
    @Override
    public String toString() {
        return "Options" + shown;
    }

    /**
     * Builds {@link Options}: a typed setter per option, and {@link #set(String, String)} for
     * any option by name. Setting an option again replaces its value. Not thread-safe.
     */
    public static final class Builder {
        private final LinkedHashMap<String, String> values = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets any option by its name (snake_case, e.g. {@code cache_size}; camelCase is
         * accepted too) to its canonical string form (e.g. {@code 512MiB}).
         *
         * @param name the option's name
         * @param value its value as text
         * @return this builder
         * @throws IllegalArgumentException if the name or the value holds a NUL character
         */
        public Builder set(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("an option name holds a NUL character");
            }
            if (value.indexOf('\0') >= 0) {
                // Never echo the value: it may be a secret.
                throw new IllegalArgumentException(
                        "the value of option " + name + " holds a NUL character");
            }
            values.put(name, value);
            return this;
        }

        /**
         * {@code create_if_missing} (default {@code true}): create the database if the
         * directory has none.
         *
         * @param create whether to create a missing database
         * @return this builder
         */
        public Builder createIfMissing(boolean create) {
            return set("create_if_missing", Boolean.toString(create));
        }

        /**
         * {@code sync} (default {@code true}): the durability of writes made with {@link
         * Durability#DEFAULT}: {@code true} returns after fsync, {@code false} is buffered.
         *
         * @param sync whether writes are synced by default
         * @return this builder
         */
        public Builder sync(boolean sync) {
            return set("sync", Boolean.toString(sync));
        }

        /**
         * {@code cache_size} (default {@code 64MiB}, 0 to 1 TiB): the page cache for reads that
         * do not go through the memory map.
         *
         * @param size a size with an optional unit, e.g. {@code "256MiB"}
         * @return this builder
         */
        public Builder cacheSize(String size) {
            return set("cache_size", size);
        }

        /**
         * {@code cache_size} in bytes; see {@link #cacheSize(String)}.
         *
         * @param bytes the size in bytes
         * @return this builder
         */
        public Builder cacheSize(long bytes) {
            return set("cache_size", Long.toString(bytes));
        }

        /**
         * {@code page_size} (default 4096): a power of two from 4096 to 65536, fixed when the
         * database is created.
         *
         * @param bytes the page size in bytes
         * @return this builder
         */
        public Builder pageSize(int bytes) {
            return set("page_size", Integer.toString(bytes));
        }

        /**
         * {@code memtable_size} (default {@code 64MiB}, 64 KiB to 4 GiB): the in-memory table
         * is frozen and merged into the page file when it reaches this size.
         *
         * @param size a size with an optional unit, e.g. {@code "128MiB"}
         * @return this builder
         */
        public Builder memtableSize(String size) {
            return set("memtable_size", size);
        }

        /**
         * {@code memtable_size} in bytes; see {@link #memtableSize(String)}.
         *
         * @param bytes the size in bytes
         * @return this builder
         */
        public Builder memtableSize(long bytes) {
            return set("memtable_size", Long.toString(bytes));
        }

        /**
         * {@code max_frozen_memtables} (default 4, 1 to 64): beyond this backlog of tables
         * waiting to be merged, writers are slowed (never stopped).
         *
         * @param count the number of frozen tables
         * @return this builder
         */
        public Builder maxFrozenMemtables(int count) {
            return set("max_frozen_memtables", Integer.toString(count));
        }

        /**
         * {@code mmap} (default {@code true}): read pages through a memory map when the storage
         * allows.
         *
         * @param mmap whether to map the page file
         * @return this builder
         */
        public Builder mmap(boolean mmap) {
            return set("mmap", Boolean.toString(mmap));
        }

        /**
         * {@code max_active_transactions} (default 1024, 1 to 1,000,000): beyond this many open
         * transactions, {@link LightningDb#begin(Isolation)} fails with {@link ErrorCode#BUSY}.
         *
         * @param count the limit
         * @return this builder
         */
        public Builder maxActiveTransactions(int count) {
            return set("max_active_transactions", Integer.toString(count));
        }

        /**
         * {@code compression} (default {@link Compression#NONE}): how records of the write-ahead
         * log are compressed (pages will follow). Each record says how it was written, so the
         * policy may change between opens.
         *
         * @param compression the compression policy
         * @return this builder
         */
        public Builder compression(Compression compression) {
            Objects.requireNonNull(compression, "compression");
            return set("compression", compression.optionValue());
        }

        /**
         * {@code compression_level} (default 3, 1 to 19): Zstandard's level, for {@link
         * Compression#ZSTD} and {@link Compression#AUTO}.
         *
         * @param level the Zstandard level
         * @return this builder
         */
        public Builder compressionLevel(int level) {
            return set("compression_level", Integer.toString(level));
        }

        /**
         * {@code encryption} (default {@link Encryption#NONE}): the cipher a new database
         * encrypts its pages and write-ahead-log records with (after compressing them). It needs
         * an {@link #encryptionKey(String)} or a {@link #passphrase(String)}. An existing
         * database keeps the cipher it was created with, whatever this says.
         *
         * @param encryption the cipher
         * @return this builder
         */
        public Builder encryption(Encryption encryption) {
            Objects.requireNonNull(encryption, "encryption");
            return set("encryption", encryption.optionValue());
        }

        /**
         * {@code encryption_key} (secret): the 256-bit key, as 64 hex digits, that protects a
         * new encrypted database and opens an existing one. A wrong key (or none) for an
         * encrypted database makes {@code open} throw {@link WrongKeyException}; a key for a
         * database that is not encrypted, or a malformed key, is {@link
         * ErrorCode#INVALID_OPTION} (the message never holds the key). Give this or a {@link
         * #passphrase(String)}, not both. Shown as {@value Options#REDACTED}.
         *
         * @param hexKey 64 hex digits
         * @return this builder
         */
        public Builder encryptionKey(String hexKey) {
            Objects.requireNonNull(hexKey, "hexKey");
            return set("encryption_key", hexKey);
        }

        /**
         * {@code passphrase} (secret): the text a new encrypted database derives its key from
         * through {@link #kdf(Kdf)}, and that opens an existing one. Taken as it is (spaces
         * included). A wrong passphrase (or none) for an encrypted database makes {@code open}
         * throw {@link WrongKeyException}. Give this or an {@link #encryptionKey(String)}, not
         * both. Shown as {@value Options#REDACTED}.
         *
         * @param passphrase the passphrase
         * @return this builder
         */
        public Builder passphrase(String passphrase) {
            Objects.requireNonNull(passphrase, "passphrase");
            return set("passphrase", passphrase);
        }

        /**
         * {@code passphrase} from characters, e.g. those of {@link
         * java.io.Console#readPassword()}; see {@link #passphrase(String)}. The builder and the
         * options it builds keep a copy as a {@code String} (the caller may clear its array).
         *
         * @param passphrase the passphrase
         * @return this builder
         */
        public Builder passphrase(char[] passphrase) {
            Objects.requireNonNull(passphrase, "passphrase");
            return passphrase(new String(passphrase));
        }

        /**
         * {@code kdf} (default {@link Kdf#ARGON2ID}): how a new database (or a {@link
         * LightningDb#rekey(Options) rekey}) derives its key from the {@link
         * #passphrase(String)}. The database records it with its costs, so opening needs only
         * the passphrase.
         *
         * @param kdf the key derivation function
         * @return this builder
         */
        public Builder kdf(Kdf kdf) {
            Objects.requireNonNull(kdf, "kdf");
            return set("kdf", kdf.optionValue());
        }

        /**
         * {@code kdf_memory} (default {@code 64MiB}, 1 MiB to 4 GiB): Argon2id's memory cost.
         * The 1 MiB floor is for tests; keep the default or more for real passphrases.
         *
         * @param size a size with an optional unit, e.g. {@code "256MiB"}
         * @return this builder
         */
        public Builder kdfMemory(String size) {
            return set("kdf_memory", size);
        }

        /**
         * {@code kdf_memory} in bytes; see {@link #kdfMemory(String)}.
         *
         * @param bytes the memory cost in bytes
         * @return this builder
         */
        public Builder kdfMemory(long bytes) {
            return set("kdf_memory", Long.toString(bytes));
        }

        /**
         * {@code kdf_iterations} (default 0, up to 100,000,000): Argon2id's passes or PBKDF2's
         * iterations; 0 is the function's default (3 and 600,000). The floors, 1 and 10,000,
         * are for tests.
         *
         * @param iterations the passes or iterations, or 0
         * @return this builder
         */
        public Builder kdfIterations(int iterations) {
            return set("kdf_iterations", Integer.toString(iterations));
        }

        /**
         * {@code kdf_parallelism} (default 1, 1 to 16): Argon2id's lanes.
         *
         * @param lanes the number of lanes
         * @return this builder
         */
        public Builder kdfParallelism(int lanes) {
            return set("kdf_parallelism", Integer.toString(lanes));
        }

        /**
         * The options set so far; the builder may be reused.
         *
         * @return immutable options
         */
        public Options build() {
            return new Options(new LinkedHashMap<>(values));
        }
    }
}
