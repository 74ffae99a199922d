package io.lightningdb;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Which keys an iterator covers, and in which order: an immutable value. Keys sort bytewise
 * (unsigned). Build one with {@link #all()}, {@link #from(byte[])}, {@link #between(byte[],
 * byte[])} or {@link #prefix(byte[])}; {@link #reversed()} gives the same keys in descending
 * order. The arrays given are copied.
 */
public final class Range {
    private static final Range ALL = new Range(null, null, null, false);

    private final byte[] start;
    private final byte[] end;
    private final byte[] prefix;
    private final boolean reverse;

    private Range(byte[] start, byte[] end, byte[] prefix, boolean reverse) {
        this.start = start;
        this.end = end;
        this.prefix = prefix;
        this.reverse = reverse;
    }

    /**
     * Every key.
     *
     * @return the range of all keys, ascending
     */
    public static Range all() {
        return ALL;
    }

    /**
     * The keys from {@code start} (inclusive) to the last.
     *
     * @param start the first key
     * @return the range, ascending
     */
    public static Range from(byte[] start) {
        return new Range(copy(start, "start"), null, null, false);
    }

    /**
     * The keys from {@code start} (inclusive) to {@code end} (exclusive).
     *
     * @param start the first key
     * @param end where the range stops (not included)
     * @return the range, ascending
     */
    public static Range between(byte[] start, byte[] end) {
        return new Range(copy(start, "start"), copy(end, "end"), null, false);
    }

    /**
     * The keys that start with {@code prefix}.
     *
     * @param prefix the prefix (empty: every key)
     * @return the range, ascending
     */
    public static Range prefix(byte[] prefix) {
        return new Range(null, null, copy(prefix, "prefix"), false);
    }

    /**
     * The same keys in the opposite order; {@code r.reversed().reversed()} equals {@code r}.
     *
     * @return the range with its direction flipped
     */
    public Range reversed() {
        return new Range(start, end, prefix, !reverse);
    }

    /**
     * Whether the range runs from the largest key down.
     *
     * @return true if descending
     */
    public boolean isReversed() {
        return reverse;
    }

    byte[] start() {
        return start;
    }

    byte[] end() {
        return end;
    }

    byte[] prefixBytes() {
        return prefix;
    }

    private static byte[] copy(byte[] bytes, String what) {
        return Objects.requireNonNull(bytes, what).clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Range r
                && reverse == r.reverse
                && Arrays.equals(start, r.start)
                && Arrays.equals(end, r.end)
                && Arrays.equals(prefix, r.prefix);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                Arrays.hashCode(start), Arrays.hashCode(end), Arrays.hashCode(prefix), reverse);
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        StringBuilder s = new StringBuilder("Range[");
        if (prefix != null) {
            s.append("prefix=").append(hex.formatHex(prefix));
        } else if (start == null && end == null) {
            s.append("all");
        } else {
            s.append(start == null ? "" : hex.formatHex(start))
                    .append("..")
                    .append(end == null ? "" : hex.formatHex(end));
        }
        return s.append(reverse ? ", reversed]" : "]").toString();
    }
}
