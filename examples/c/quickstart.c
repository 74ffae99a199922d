/*
 * quickstart.c — a tour of the Lightning DB C API.
 *
 *   cargo build --release -p lightning-ffi
 *   cc -std=c11 -Wall -Wextra -Werror -Iinclude examples/c/quickstart.c \
 *      -Ltarget/release -llightning -Wl,-rpath,"$PWD/target/release" -o quickstart
 *   ./quickstart [DIRECTORY]
 *
 * With no argument the database goes into a new temporary directory (removed at the end).
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lightning.h"

/* Keys and values are (pointer, length) pairs; these helpers pass C strings without their NUL. */
#define BYTES(s) ((const uint8_t *)(s)), strlen(s)

/* Prints what failed and why. Every fallible call returns an ldb_status. */
static void report(const char *what, ldb_status status) {
    fprintf(stderr, "%s failed: %s: %s\n", what, ldb_status_name(status), ldb_last_error_message());
}

/* Runs `call`; on failure reports it and jumps to the cleanup at the end of the function. */
#define TRY(call)                                                                                  \
    do {                                                                                           \
        ldb_status try_status_ = (call);                                                           \
        if (try_status_ != LDB_OK) {                                                               \
            report(#call, try_status_);                                                            \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Prints every entry of an iterator's range, in its order. */
static ldb_status print_iterator(const char *title, ldb_iter *it) {
    printf("%s:", title);
    for (;;) {
        /* The first ldb_iter_next goes to the first entry of the range. */
        ldb_status st = ldb_iter_next(it);
        if (st != LDB_OK || !ldb_iter_valid(it)) {
            printf("\n");
            return st; /* LDB_OK at the end of the range */
        }
        const uint8_t *key, *value;
        size_t key_len, value_len;
        if ((st = ldb_iter_key(it, &key, &key_len)) != LDB_OK ||
            (st = ldb_iter_value(it, &value, &value_len)) != LDB_OK)
            return st;
        /* Borrowed bytes, valid until the iterator moves: no ldb_free. */
        printf(" %.*s=%.*s", (int)key_len, (const char *)key, (int)value_len, (const char *)value);
    }
}

/* Adds `amount` to the number stored at `key`, in a transaction, retrying on LDB_CONFLICT.
 * With `interfere`, another writer changes the key during the first attempt, to show a retry. */
static ldb_status add_to_counter(ldb_db *db, const char *key, long amount, bool interfere) {
    for (int attempt = 1;; attempt++) {
        ldb_txn *txn = NULL;
        ldb_status st = ldb_txn_begin(db, LDB_ISOLATION_SERIALIZABLE, false,
                                      LDB_DURABILITY_DEFAULT, &txn);
        if (st != LDB_OK)
            return st;

        uint8_t *old = NULL;
        size_t old_len = 0;
        st = ldb_txn_get(txn, BYTES(key), &old, &old_len);
        if (st == LDB_OK) {
            char number[32] = "0";
            if (old != NULL) { /* NULL means absent, not an error */
                snprintf(number, sizeof number, "%.*s", (int)old_len, (const char *)old);
                ldb_free(old); /* values from *_get are ours to free */
            }
            snprintf(number, sizeof number, "%ld", strtol(number, NULL, 10) + amount);
            st = ldb_txn_put(txn, BYTES(key), BYTES(number));
        }
        if (st == LDB_OK && interfere && attempt == 1) /* a concurrent write, outside the txn */
            st = ldb_put(db, BYTES(key), BYTES("1000"), LDB_DURABILITY_DEFAULT);
        if (st == LDB_OK)
            st = ldb_txn_commit(txn);
        ldb_txn_free(txn); /* always, even after commit; rolls back if unfinished */

        if (st != LDB_CONFLICT || attempt == 10)
            return st;
        printf("  conflict on attempt %d; running the transaction again\n", attempt);
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    char temp_dir[] = "/tmp/lightning-quickstart-XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(temp_dir);
    char encrypted_dir[4096] = "";
    if (dir == NULL) {
        perror("mkdtemp");
        return 1;
    }

    int exit_code = 1;
    ldb_options *options = NULL;
    ldb_db *db = NULL;
    ldb_batch *batch = NULL;
    ldb_iter *iter = NULL;
    uint8_t *value = NULL;
    char *text = NULL;

    printf("Lightning DB %s (ABI %u; header %d.%d.%d, ABI %d)\n", ldb_version(), ldb_abi_version(),
           LDB_VERSION_MAJOR, LDB_VERSION_MINOR, LDB_VERSION_PATCH, LDB_ABI_VERSION);
    if (ldb_abi_version() != LDB_ABI_VERSION) {
        fprintf(stderr, "the loaded library does not match this header\n");
        return 1;
    }

    /* --- Options, and handling an error on purpose ------------------------------------------ */
    TRY(ldb_options_new(&options));
    TRY(ldb_options_set(options, "cache_size", "16MiB"));
    ldb_status st = ldb_options_set(options, "cache_size", "lots");
    if (st == LDB_INVALID_OPTION) {
        /* Expected: the message says which values are allowed; the options are unchanged. */
        printf("rejected as expected: %s: %s\n", ldb_status_name(st), ldb_last_error_message());
    } else {
        report("setting cache_size to \"lots\" (expected LDB_INVALID_OPTION)", st);
        goto fail;
    }
    TRY(ldb_options_get(options, "cache_size", &text));
    printf("cache_size is still %s\n", text);
    ldb_free(text);
    text = NULL;

    /* --- Open --------------------------------------------------------------------------------- */
    TRY(ldb_open(dir, options, &db));
    ldb_options_free(options); /* copied by ldb_open */
    options = NULL;
    printf("opened %s\n", dir);

    /* --- Put, get, delete --------------------------------------------------------------------- */
    TRY(ldb_put(db, BYTES("greeting"), BYTES("hello, world"), LDB_DURABILITY_DEFAULT));
    size_t len = 0;
    TRY(ldb_get(db, BYTES("greeting"), &value, &len));
    printf("greeting = %.*s\n", (int)len, (const char *)value);
    ldb_free(value);
    value = NULL;

    TRY(ldb_delete(db, BYTES("greeting"), LDB_DURABILITY_DEFAULT));
    TRY(ldb_get(db, BYTES("greeting"), &value, &len));
    printf("after delete, greeting is %s\n", value == NULL ? "absent" : "still there?!");
    ldb_free(value); /* NULL here; freeing NULL is fine */
    value = NULL;

    /* Keys are bytes, not strings: this one has a NUL in the middle. */
    const uint8_t binary_key[] = {'b', 'i', 'n', 0, 1, 2};
    TRY(ldb_put(db, binary_key, sizeof binary_key, BYTES("binary"), LDB_DURABILITY_BUFFERED));

    /* --- A write batch: applied atomically ---------------------------------------------------- */
    TRY(ldb_batch_new(&batch));
    const char *fruits[][2] = {{"fruit:apple", "red"},    {"fruit:banana", "yellow"},
                               {"fruit:cherry", "dark red"}, {"fruit:grape", "green"},
                               {"vegetable:kale", "green"}};
    for (size_t i = 0; i < sizeof fruits / sizeof fruits[0]; i++)
        TRY(ldb_batch_put(batch, BYTES(fruits[i][0]), BYTES(fruits[i][1])));
    TRY(ldb_batch_delete(batch, BYTES("fruit:durian")));
    TRY(ldb_write(db, batch, LDB_DURABILITY_SYNC));
    printf("wrote a batch of %zu operations\n", ldb_batch_count(batch));
    ldb_batch_free(batch);
    batch = NULL;

    /* --- Iterate a prefix, forward and in reverse --------------------------------------------- */
    ldb_range range = {0}; /* all-zero: every key, forward */
    range.prefix = (const uint8_t *)"fruit:";
    range.prefix_len = strlen("fruit:");
    TRY(ldb_iter_new(db, &range, &iter));
    TRY(print_iterator("fruits", iter));
    ldb_iter_free(iter);
    iter = NULL;

    range.reverse = true;
    TRY(ldb_iter_new(db, &range, &iter));
    TRY(print_iterator("fruits, reversed", iter));
    ldb_iter_free(iter);
    iter = NULL;

    /* A [start, end) range, and seeking. */
    ldb_range between = {0};
    between.start = (const uint8_t *)"fruit:b";
    between.start_len = strlen("fruit:b");
    between.end = (const uint8_t *)"fruit:g";
    between.end_len = strlen("fruit:g");
    TRY(ldb_iter_new(db, &between, &iter));
    TRY(print_iterator("fruit:b <= key < fruit:g", iter));
    TRY(ldb_iter_seek(iter, BYTES("fruit:c")));
    if (ldb_iter_valid(iter)) {
        const uint8_t *key;
        size_t key_len;
        TRY(ldb_iter_key(iter, &key, &key_len));
        printf("seek(\"fruit:c\") lands on %.*s\n", (int)key_len, (const char *)key);
    }
    ldb_iter_free(iter);
    iter = NULL;

    /* --- Transactions: read-modify-write, retried on LDB_CONFLICT ----------------------------- */
    for (int i = 0; i < 3; i++)
        TRY(add_to_counter(db, "visits", 10, false));
    TRY(ldb_get(db, BYTES("visits"), &value, &len));
    printf("visits = %.*s\n", (int)len, (const char *)value);
    ldb_free(value);
    value = NULL;

    /* Someone else sets visits to 1000 while we add 5: the first commit conflicts, the retry
     * reads 1000 and stores 1005. */
    TRY(add_to_counter(db, "visits", 5, true));
    TRY(ldb_get(db, BYTES("visits"), &value, &len));
    printf("visits = %.*s\n", (int)len, (const char *)value);
    ldb_free(value);
    value = NULL;

    /* Two transactions write the same key: the second commit loses and is finished; a real
     * program would run it again, as add_to_counter does. */
    {
        ldb_txn *a = NULL, *b = NULL;
        TRY(ldb_txn_begin(db, LDB_ISOLATION_SNAPSHOT, false, LDB_DURABILITY_DEFAULT, &a));
        st = ldb_txn_begin(db, LDB_ISOLATION_SNAPSHOT, false, LDB_DURABILITY_DEFAULT, &b);
        if (st == LDB_OK) st = ldb_txn_put(a, BYTES("owner"), BYTES("a"));
        if (st == LDB_OK) st = ldb_txn_put(b, BYTES("owner"), BYTES("b"));
        if (st == LDB_OK) st = ldb_txn_commit(a);
        if (st == LDB_OK) {
            st = ldb_txn_commit(b);
            if (st == LDB_CONFLICT)
                printf("second commit: %s (run it again to apply it)\n", ldb_status_name(st));
            st = st == LDB_CONFLICT ? LDB_OK : st;
        }
        ldb_txn_free(a);
        ldb_txn_free(b);
        TRY(st);
    }

    /* --- A bulk load: sorted pairs straight into the tree, all visible at once on commit -------- */
    {
        ldb_bulk_load *load = NULL;
        char key[16];
        TRY(ldb_bulk_load_begin(db, &load));
        for (int i = 0; i < 1000 && st == LDB_OK; i++) {
            snprintf(key, sizeof key, "item:%04d", i); /* keys in ascending order */
            st = ldb_bulk_load_put(load, (const uint8_t *)key, strlen(key), BYTES("loaded"));
        }
        if (st == LDB_OK) st = ldb_bulk_load_commit(load);
        ldb_bulk_load_free(load); /* abandons the load unless it was committed */
        TRY(st);
        printf("bulk load: 1000 pairs\n");
    }

    /* --- Statistics and a consistency check ---------------------------------------------------- */
    uint64_t puts = 0;
    TRY(ldb_stats_value(db, "puts", &puts));
    printf("puts so far: %llu\n", (unsigned long long)puts);
    TRY(ldb_verify(db, NULL));
    printf("verify: ok\n");

    /* --- Close (reports errors), then free the handle ------------------------------------------ */
    TRY(ldb_close(db));
    st = ldb_put(db, BYTES("late"), BYTES("write"), LDB_DURABILITY_DEFAULT);
    printf("put after close: %s\n", ldb_status_name(st));
    exit_code = st == LDB_CLOSED ? 0 : 1;

    /* --- An encrypted, compressed database: blocks and WAL records are compressed, then sealed
     *     with AES-256-GCM under a random data key that the passphrase (Argon2id) unlocks ------- */
    {
        snprintf(encrypted_dir, sizeof encrypted_dir, "%s-encrypted", dir);
        ldb_options *secret = NULL;
        ldb_db *vault = NULL;
        st = ldb_options_new(&secret);
        if (st == LDB_OK) st = ldb_options_set(secret, "compression", "auto");
        if (st == LDB_OK) st = ldb_options_set(secret, "encryption", "aes-256-gcm");
        if (st == LDB_OK) st = ldb_options_set(secret, "passphrase", "correct horse battery staple");
        if (st == LDB_OK) st = ldb_open(encrypted_dir, secret, &vault);
        if (st == LDB_OK) st = ldb_put(vault, BYTES("card"), BYTES("4111 1111 1111 1111"),
                                       LDB_DURABILITY_DEFAULT);
        if (st == LDB_OK) st = ldb_close(vault);
        ldb_db_free(vault);
        vault = NULL;
        /* The wrong passphrase gets LDB_WRONG_KEY, never garbage. */
        if (st == LDB_OK) st = ldb_options_set(secret, "passphrase", "tr0ub4dor&3");
        if (st == LDB_OK) {
            ldb_status wrong = ldb_open(encrypted_dir, secret, &vault);
            printf("wrong passphrase: %s\n", ldb_status_name(wrong));
            if (wrong != LDB_WRONG_KEY) exit_code = 1;
        }
        ldb_options_free(secret);
        TRY(st);
    }

fail:
    ldb_free(value); /* every free accepts NULL */
    ldb_iter_free(iter);
    ldb_batch_free(batch);
    ldb_options_free(options);
    ldb_db_free(db);
    if (argc <= 1) {
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        nftw(encrypted_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    printf("%s\n", exit_code == 0 ? "done" : "FAILED");
    return exit_code;
}
