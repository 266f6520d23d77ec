// core/base/debugvars.cc - see debugvars.h.
#include "core/base/debugvars.h"

#include <cstddef>
#include <cstring>

namespace gort {

DebugVars debug;

bool parse_int(const char *s, std::size_t n, int64_t *out) {
    if (n == 0 || n > 18) return false;
    int64_t v = 0;
    for (std::size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool parse_debug(const char *s, DebugVars *dv) {
    DebugVars d;
    while (s != nullptr && *s != '\0') {
        const char *end = std::strchr(s, ',');
        std::size_t len = end ? std::size_t(end - s) : std::strlen(s);
        const char *eq = static_cast<const char *>(std::memchr(s, '=', len));
        if (eq == nullptr || eq == s) return false;
        std::size_t nlen = std::size_t(eq - s);
        int64_t v;
        if (!parse_int(eq + 1, len - nlen - 1, &v)) return false;
        if (nlen == 10 && std::strncmp(s, "schedtrace", 10) == 0) d.schedtrace = v;
        if (nlen == 11 && std::strncmp(s, "scheddetail", 11) == 0) d.scheddetail = v;
        if (nlen == 7 && std::strncmp(s, "sigquit", 7) == 0) d.sigquit = v;
        if (nlen == 12 && std::strncmp(s, "tracebackall", 12) == 0) d.tracebackall = v;
        if (nlen == 8 && std::strncmp(s, "deadlock", 8) == 0) d.deadlock = v;
        if (nlen == 6 && std::strncmp(s, "efence", 6) == 0) d.efence = v;
        if (nlen == 10 && std::strncmp(s, "stackguard", 10) == 0) d.stackguard = v;
        if (nlen == 15 && std::strncmp(s, "stackpoisoncopy", 15) == 0) d.stackpoisoncopy = v;
        if (nlen == 10 && std::strncmp(s, "stackdebug", 10) == 0) d.stackdebug = v;
        if (nlen == 6 && std::strncmp(s, "gcdead", 6) == 0) d.gcdead = v;
        if (nlen == 10 && std::strncmp(s, "invalidptr", 10) == 0) d.invalidptr = v;
        if (nlen == 16 && std::strncmp(s, "gcshrinkstackoff", 16) == 0) d.gcshrinkstackoff = v;
        // Unknown names are ignored, as GODEBUG does.
        s = end ? end + 1 : s + len;
    }
    if (dv != nullptr) *dv = d;
    return true;
}

}  // namespace gort
