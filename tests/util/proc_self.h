// tests/util/proc_self.h - what the process looks like from /proc/self:
// its thread count and whether an address is mapped. For leak checks (threads
// joined, stacks unmapped after gort_shutdown).
#pragma once

#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace gort_test {

// Threads of this process (entries of /proc/self/task).
inline int count_tasks() {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == nullptr) return -1;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

// Whether addr lies in a mapping of /proc/self/maps.
inline bool is_mapped(uintptr_t addr) {
    std::ifstream f("/proc/self/maps");
    std::string line;
    while (std::getline(f, line)) {
        unsigned long lo, hi;
        if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) return true;
    }
    return false;
}

}  // namespace gort_test
