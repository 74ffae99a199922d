// header_compiles.cpp — include/lightning.h must be usable from C++: it compiles cleanly, its
// functions have C linkage (this links against liblightning), and the types behave as documented.
//
//   c++ -std=c++17 -Wall -Wextra -Werror -Iinclude ffi/tests/c/header_compiles.cpp
//       -Ltarget/release -llightning -Wl,-rpath,"$PWD/target/release" -o header_compiles
#include "lightning.h"
#include "lightning.h" // the include guard makes a second inclusion harmless

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(sizeof(ldb_status) == sizeof(int32_t), "ldb_status is 32 bits, as in C");
static_assert(std::is_same<std::underlying_type<ldb_status>::type, int32_t>::value,
              "ldb_status has int32_t as its underlying type in C++");
static_assert(LDB_OK == 0 && LDB_INTERNAL == 13, "status numbers are stable");
static_assert(std::is_same<ldb_durability, int32_t>::value, "ldb_durability is int32_t");
static_assert(std::is_same<ldb_isolation, int32_t>::value, "ldb_isolation is int32_t");
static_assert(std::is_standard_layout<ldb_range>::value, "ldb_range is a plain C struct");

int main() {
    int failures = 0;
    auto check = [&failures](bool ok, const char *what) {
        if (!ok) {
            std::fprintf(stderr, "FAILED: %s\n", what);
            failures++;
        }
    };

    std::printf("lightning %s, ABI %u (header %d.%d.%d, ABI %d)\n", ldb_version(),
                ldb_abi_version(), LDB_VERSION_MAJOR, LDB_VERSION_MINOR, LDB_VERSION_PATCH,
                LDB_ABI_VERSION);
    check(ldb_abi_version() == LDB_ABI_VERSION, "ABI version");
    check(std::strcmp(ldb_status_name(LDB_CONFLICT), "CONFLICT") == 0, "status name");
    check(std::strcmp(ldb_status_name(-1), "UNKNOWN") == 0, "unknown status name");

    // A call through the enum type, with nullptr handles.
    ldb_status st = ldb_put(nullptr, nullptr, 0, nullptr, 0, LDB_DURABILITY_DEFAULT);
    check(st == LDB_INVALID_ARGUMENT, "ldb_put(nullptr) is LDB_INVALID_ARGUMENT");
    check(std::strlen(ldb_last_error_message()) > 0, "an error message");

    // Aggregate initialization of ldb_range, and a handle type used as an out-parameter.
    ldb_range range{};
    range.reverse = true;
    ldb_iter *iter = nullptr;
    check(ldb_iter_new(nullptr, &range, &iter) == LDB_INVALID_ARGUMENT && iter == nullptr,
          "ldb_iter_new(nullptr)");

    ldb_options *options = nullptr;
    check(ldb_options_new(&options) == LDB_OK, "ldb_options_new");
    char *value = nullptr;
    check(ldb_options_get(options, "sync", &value) == LDB_OK && std::strcmp(value, "true") == 0,
          "ldb_options_get");
    ldb_free(value);
    ldb_options_free(options);

    std::printf("%s\n", failures == 0 ? "C++ header check: ok" : "C++ header check: FAILED");
    return failures == 0 ? 0 : 1;
}
