// core/base/sanitizers.h - which sanitizer this translation unit is built with,
// once for gcc (__SANITIZE_*__) and clang (__has_feature). Defines
// GORT_ASAN and GORT_TSAN to 1 or 0. LSan comes with ASan.
#pragma once

#if defined(__has_feature)
#define GORT_HAS_FEATURE_(x) __has_feature(x)
#else
#define GORT_HAS_FEATURE_(x) 0
#endif

#if defined(__SANITIZE_ADDRESS__) || GORT_HAS_FEATURE_(address_sanitizer)
#define GORT_ASAN 1
#else
#define GORT_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__) || GORT_HAS_FEATURE_(thread_sanitizer)
#define GORT_TSAN 1
#else
#define GORT_TSAN 0
#endif
