/**
 * Lightning DB for Java: an embedded, transactional key-value database.
 *
 * <p>Open a database with {@link io.lightningdb.LightningDb#open(java.nio.file.Path, Options)};
 * read and write byte-array keys and values; group writes atomically in a {@link
 * io.lightningdb.WriteBatch}; iterate a {@link io.lightningdb.Range} with a {@link
 * io.lightningdb.DbIterator}; read one point in time through a {@link io.lightningdb.Snapshot};
 * run optimistic {@link io.lightningdb.Transaction}s, retried on conflict by {@link
 * io.lightningdb.LightningDb#transaction(Isolation, TransactionFunction)}; and fill a database
 * fast from sorted pairs with a {@link io.lightningdb.BulkLoad}, committed atomically.
 *
 * <p>Conventions of the whole package:
 *
 * <ol>
 *   <li>Every object holding native resources is {@link java.lang.AutoCloseable}; {@code close()}
 *       is idempotent and thread-safe, and there are no finalizers: close what you open (a
 *       {@code try}-with-resources block does it). Using an object after {@code close()} throws
 *       {@link io.lightningdb.ClosedException}. Closing a database closes its snapshots,
 *       iterators, transactions and bulk loads too.
 *   <li>{@link io.lightningdb.LightningDb} and {@link io.lightningdb.Snapshot} are thread-safe;
 *       {@link io.lightningdb.Transaction}, {@link io.lightningdb.DbIterator} and {@link
 *       io.lightningdb.WriteBatch} are for one thread at a time; a {@link
 *       io.lightningdb.BulkLoad} is thread-safe but takes its keys in order, so one thread
 *       feeds it.
 *   <li>Errors are unchecked {@link io.lightningdb.LightningDbException}s whose {@link
 *       io.lightningdb.LightningDbException#getCode() code} mirrors the C ABI's status codes.
 *       A {@code null} key, value, range or option is a programming error and throws {@link
 *       java.lang.NullPointerException}.
 *   <li>Byte arrays passed in are copied before the call returns; byte arrays returned belong to
 *       the caller.
 * </ol>
 */
package io.lightningdb;
