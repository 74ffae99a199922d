package io.lightningdb;

/**
 * The work of a transaction, for {@link LightningDb#transaction(Isolation, TransactionFunction)}.
 * It may run more than once (once per conflict), so it should have no effects outside the
 * transaction.
 *
 * @param <T> what the work returns
 */
@FunctionalInterface
public interface TransactionFunction<T> {
    /**
     * Does the work in {@code txn}; the caller commits it afterwards (unless this committed or
     * rolled it back itself).
     *
     * @param txn the transaction, valid during this call only
     * @return the result, handed back by {@code transaction}
     * @throws Exception to roll the transaction back ({@link ConflictException}: and retry)
     */
    T apply(Transaction txn) throws Exception;
}
