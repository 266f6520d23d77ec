// core/base/throw.h - fatal errors and low-level printing (seed: gothrow, print).
//
// gothrow is for broken invariants only (caller mistakes get error codes in
// capi/). It prints "gort: fatal error: <msg>" and a goroutine dump to
// stderr with write(2) (no allocation, no locks it might already hold), then
// aborts. The message must be a constant string, as in the seed.
#pragma once

#include <cstdint>
#include <type_traits>

namespace gort {

[[noreturn]] void gothrow(const char *msg);  // seed: gothrow

// Unbuffered printing to stderr (seed: print). Safe in any context: write(2)
// only, no allocation, no lock.
void printstr(const char *s);
void printint(int64_t v);
void printuint(uint64_t v);
void printhex(uint64_t v);
void printptr(const void *p);

// print(a, b, ...): the seed's print builtin, for the lines a fatal error
// writes before gothrow: strings as text, signed integers in decimal,
// unsigned ones in decimal, pointers in hex.
//     print("runtime: bad status ", s, " for g ", gp->goid, "\n");
//     gothrow("casgstatus: bad status");
inline void printarg(const char *s) { printstr(s); }
template <class T> inline void printarg(T *p) { printptr(p); }
inline void printarg(bool b) { printstr(b ? "true" : "false"); }
template <class T> inline void printarg(T v) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>, "print: strings, integers, enums and pointers");
    if constexpr (std::is_signed_v<T>) printint(int64_t(v)); else printuint(uint64_t(v));
}
template <class... A> inline void print(const A &...a) { (printarg(a), ...); }

}  // namespace gort
