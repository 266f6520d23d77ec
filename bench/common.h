// bench/common.h - what gort's and Boost.Fiber's benchmark programs share:
// the clock, the workload sizes, the CPU-bound unit of the fanout workload,
// the resident-set and CPU-time probes, and the output format run.sh parses.
// bench/go/main.go mirrors every constant and function here; keep them equal
// (same names) so that the three programs run the same workloads.
#pragma once

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

inline int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Workload sizes (issue 5 §2). --quick divides the counts by kQuickDiv.
inline constexpr int64_t kRawSwitches = 10000000;
inline constexpr int64_t kYields = 2000000;          // per goroutine, two goroutines
inline constexpr int64_t kParkReadyRounds = 1000000; // round trips; 2 wakes each
inline constexpr int64_t kChanRounds = 1000000;      // round trips
inline constexpr int64_t kSpawns = 1000000;
inline constexpr int64_t kSkynetLeaves = 1000000;
inline constexpr int64_t kSkynetSum = 499999500000;  // sum of 0..999,999
inline constexpr int64_t kMutexGoroutines = 4;
inline constexpr int64_t kMutexOps = 1000000;        // lock/unlock per goroutine
inline constexpr int64_t kBlocked = 100000;          // memory workload
inline constexpr int64_t kFanoutTasks = 10000;
inline constexpr int64_t kFanoutIters = 25000;       // ~50 us per task on the 2026-11 EPYC VM
inline constexpr int64_t kIdleWarmTasks = 16;        // run before the idle second
inline constexpr int64_t kIdleSettleMs = 100;        // let spinning threads give up first
inline constexpr int64_t kQuickDiv = 10;

// spin_work: the CPU-bound body of a fanout task: a dependent chain of
// multiply/xor-shift steps that no compiler folds, ~2 ns per step.
inline uint64_t spin_work(uint64_t seed, int64_t iters) {
    uint64_t x = seed | 1;
    for (int64_t i = 0; i < iters; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        x ^= x >> 29;
    }
    return x;
}

// rss_bytes: the resident set of the process (/proc/self/statm, field 2).
inline int64_t rss_bytes() {
    FILE *f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) std::abort();
    long size = 0, resident = 0;
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) std::abort();
    std::fclose(f);
    return int64_t(resident) * sysconf(_SC_PAGESIZE);
}

// cpu_ns: user + system CPU time of the whole process (every thread).
inline int64_t cpu_ns() {
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t(ru.ru_utime.tv_sec) + ru.ru_stime.tv_sec) * 1000000000 +
           (int64_t(ru.ru_utime.tv_usec) + ru.ru_stime.tv_usec) * 1000;
}

inline void sleep_ms(int64_t ms) {
    timespec ts{time_t(ms / 1000), long(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

// Output lines for run.sh, one per measurement:
//   BENCH <system> <workload> <procs> <value> <unit>
//   NA    <system> <workload> <procs> <reason...>   (no such measurement)
//   INFO  <system> <workload> <procs> <text...>     (context for the notes)
inline void emit(const char *sys, const char *w, int procs, double v, const char *unit) {
    std::printf("BENCH %s %s %d %.3f %s\n", sys, w, procs, v, unit);
    std::fflush(stdout);
}
inline void emit_na(const char *sys, const char *w, int procs, const char *why) {
    std::printf("NA %s %s %d %s\n", sys, w, procs, why);
    std::fflush(stdout);
}
inline void emit_info(const char *sys, const char *w, int procs, const std::string &text) {
    std::printf("INFO %s %s %d %s\n", sys, w, procs, text.c_str());
    std::fflush(stdout);
}

}  // namespace bench
