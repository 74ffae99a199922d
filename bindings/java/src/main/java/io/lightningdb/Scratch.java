package io.lightningdb;

import java.nio.ByteBuffer;

/**
 * A per-thread direct buffer through which short keys and values cross into native code, so a
 * {@code get} or {@code put} is one native call with no calls back into the JVM: Java copies the
 * key (and value) in, the native side reads them and writes the value at a fixed address.
 * Nothing calls back into Java during such a call, so a thread never uses its buffer twice at
 * once.
 */
final class Scratch {
    /** Keys up to this long (the engine's limit) go through the buffer. */
    static final int KEY_CAP = 4096;
    /** Values up to this long go through the buffer; longer ones take the array path. */
    static final int VALUE_CAP = 12 * 1024;
    static final int SIZE = KEY_CAP + VALUE_CAP;

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    final ByteBuffer buffer;
    /** The buffer's address, as the native library sees it. */
    final long address;

    private Scratch() {
        buffer = ByteBuffer.allocateDirect(SIZE);
        address = LightningDb.nAddress(buffer);
    }

    static Scratch get() {
        return LOCAL.get();
    }
}
