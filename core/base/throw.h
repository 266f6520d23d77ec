// core/base/throw.h - fatal errors and low-level printing (seed: gothrow, print).
//
// gothrow is for broken invariants only (caller mistakes get error codes in
// capi/). It prints "gort: fatal error: <msg>" and a goroutine dump to
// stderr with write(2) (no allocation, no locks it might already hold), then
// aborts. The message must be a constant string, as in the seed.
#pragma once

#include <cstdint>

namespace gort {

struct G;

[[noreturn]] void gothrow(const char *msg);  // seed: gothrow

// seed: dumpgstatus
void dumpgstatus(G *gp);

// Unbuffered printing to stderr (seed: print). Safe in any context.
void printstr(const char *s);
void printint(int64_t v);
void printuint(uint64_t v);
void printhex(uint64_t v);
void printptr(const void *p);

// Writes every goroutine, "goroutine N [waitreason]:" and its native
// backtrace, to fd (core/diag/traceback.h; gothrow uses its Fatal mode).
void dumpgoroutines(int fd);

const char *gstatusname(uint32_t status);

}  // namespace gort
