// capi/version.cc - gort_version(): the release version of the loaded
// library, spelled from the GORT_VERSION_* macros of gort.h so that the
// string, the macros and (through the configure-time check in
// CMakeLists.txt) project(VERSION) and the SONAME cannot drift apart.
#include "capi/include/gort/gort.h"

#define GORT_STR_(x) #x
#define GORT_STR(x) GORT_STR_(x)

static_assert(GORT_VERSION_MINOR < 100 && GORT_VERSION_PATCH < 100,
              "GORT_VERSION packs minor and patch in two decimal digits each");

GORT_API const char *gort_version(void) {
    return GORT_STR(GORT_VERSION_MAJOR) "." GORT_STR(GORT_VERSION_MINOR) "." GORT_STR(
        GORT_VERSION_PATCH);
}
