// core/base/fdwriter.h - buffered, allocation-free output to a file descriptor for
// dumps and traces (the seed's print, with a buffer).
//
// Async-signal-safe: a fixed buffer on the caller's stack, write(2) only, no
// lock. Output is flushed when the buffer fills, on flush(), and when the
// writer goes out of scope. Write errors are ignored (a diagnostic must not
// fail its caller); EINTR is retried.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace gort {

class FdWriter {
public:
    explicit FdWriter(int fd) : fd_(fd) {}
    ~FdWriter() { flush(); }
    FdWriter(const FdWriter &) = delete;
    FdWriter &operator=(const FdWriter &) = delete;

    FdWriter &str(const char *s) {
        if (s == nullptr) return *this;
        while (*s != '\0') ch(*s++);
        return *this;
    }
    FdWriter &ch(char c) {
        if (n_ == sizeof buf_) flush();
        buf_[n_++] = c;
        return *this;
    }
    FdWriter &udec(uint64_t v) { return num(v, 10); }
    FdWriter &dec(int64_t v) {
        if (v < 0) {
            ch('-');
            return num(uint64_t(0) - uint64_t(v), 10);
        }
        return num(uint64_t(v), 10);
    }
    FdWriter &hex(uint64_t v) {  // 0x-prefixed, as the seed prints pointers
        str("0x");
        return num(v, 16);
    }
    FdWriter &boolean(bool b) { return str(b ? "true" : "false"); }  // as Go's print(bool)

    void flush() {
        const char *p = buf_;
        std::size_t n = n_;
        n_ = 0;
        while (n > 0) {
            ssize_t w = ::write(fd_, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return;
            p += w;
            n -= std::size_t(w);
        }
    }

private:
    FdWriter &num(uint64_t v, unsigned base) {
        char tmp[24];
        int i = sizeof tmp;
        do {
            tmp[--i] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v != 0);
        while (i < int(sizeof tmp)) ch(tmp[i++]);
        return *this;
    }

    int fd_;
    std::size_t n_ = 0;
    char buf_[512];
};

}  // namespace gort
