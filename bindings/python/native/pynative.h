#ifndef GORT_PYNATIVE_H
#define GORT_PYNATIVE_H
#include <gort/gort.h>
#include <stdint.h>

/* Layouts mirrored by ctypes Structures in the Python tests, examples and
 * bench.py: keep them in step. */
struct pyn_spawn_arg {
    int64_t n;
    gort_wg *wg;
    int failed;
};
struct pyn_skynet_arg {
    int64_t leaves;
    int64_t result;
    gort_wg *wg;
};

void pyn_spawn(void *arg);
void pyn_skynet(void *arg);
#endif
