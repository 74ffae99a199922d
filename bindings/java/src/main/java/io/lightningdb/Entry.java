package io.lightningdb;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A key and its value, as an iterator returns them. The arrays are the caller's (fresh copies
 * for each entry); equality compares their contents.
 *
 * @param key the key
 * @param value the value
 */
public record Entry(byte[] key, byte[] value) {
    /**
     * An entry of {@code key} and {@code value} (not copied).
     *
     * @param key the key
     * @param value the value
     */
    public Entry {
        java.util.Objects.requireNonNull(key, "key");
        java.util.Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Entry e
                && Arrays.equals(key, e.key)
                && Arrays.equals(value, e.value);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Entry[key=" + HexFormat.of().formatHex(key)
                + ", value=" + HexFormat.of().formatHex(value) + "]";
    }
}
