/*
 * tests/header_c_test.c - proves that <gort/gort.h> is valid, warning-free
 * C99 (built with -std=c99 -Wall -Wextra -Werror -pedantic) and links
 * against libgort alone. Every type, macro and function the header declares
 * is used at least once. The runtime is exercised only lightly: init, a main
 * goroutine that spawns, parks and readies a child, and shutdown. Exits 0 on
 * success, 1 with a message on the first failure.
 */
#include <gort/gort.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if !defined(GORT_GORT_H)
#error "include guard GORT_GORT_H missing"
#endif
#if GORT_ABI_VERSION != 1
#error "unexpected GORT_ABI_VERSION"
#endif

/* GORT_API expands to nothing (or an attribute) for clients; it must be
 * usable on a declaration. */
GORT_API int header_c_test_dummy(void);
int header_c_test_dummy(void) { return 0; }

static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* Function-pointer types from the header, spelt out. */
static gort_fn fn_ptr_check;
static gort_unlockf unlockf_ptr_check;

/* Cross-thread flags use the GCC/Clang __atomic builtins (plain function
 * call syntax, so still -pedantic C99) rather than volatile, so that a
 * ThreadSanitizer build (GORT_SANITIZE=thread) sees no data race. */
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

struct shared {
    gort_g *parked; /* written by the child's unlockf */
    int resumed;
    int park_rc;
    int64_t child_goid;
};

static int publish_unlockf(gort_g *g, void *lock) {
    struct shared *s = (struct shared *)lock;
    STORE_REL(&s->parked, g);
    return 1;
}

static void child(void *arg) {
    struct shared *s = *(struct shared **)arg; /* argsize > 0: a copy */
    s->child_goid = gort_goid(NULL);
    s->park_rc = gort_park(unlockf_ptr_check, s, "header_c_test");
    STORE_REL(&s->resumed, 1);
}

struct main_result {
    int go_rc, go_ex_rc, ready_rc, ready_again_rc, lock_rc, unlock_rc;
    int gosched_rc, maxprocs, numg, stats_rc, local_rc, local_ok;
    int64_t goid, goid_out;
    int self_ok, spun_ok;
    gort_stats st;
};

static void main_goroutine(void *arg) {
    struct main_result *r = (struct main_result *)arg;
    static struct shared s;
    struct shared *sp = &s;
    gort_go_opts opts;
    long i;

    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.stack_size = 0;
    opts.lock_os_thread = 0;

    r->self_ok = gort_self() != NULL;
    r->goid = gort_goid(gort_self());
    r->maxprocs = gort_maxprocs();
    r->go_rc = gort_go(child, &sp, sizeof sp, &r->goid_out);
    r->go_ex_rc = gort_go_ex(fn_ptr_check, NULL, 0, &opts, NULL);
    /* Bounded wait for the child to park. */
    r->gosched_rc = gort_gosched();
    for (i = 0; i < 20000000L && LOAD_ACQ(&s.parked) == NULL; i++) gort_gosched();
    if (LOAD_ACQ(&s.parked) == NULL) return;
    /* The child never parks again: the second ready finds it not waiting. */
    r->ready_rc = gort_ready(s.parked);
    r->ready_again_rc = gort_ready(s.parked);
    for (i = 0; i < 20000000L && !LOAD_ACQ(&s.resumed); i++) gort_gosched();
    r->spun_ok = LOAD_ACQ(&s.resumed) && s.park_rc == GORT_OK && s.child_goid == r->goid_out;
    r->lock_rc = gort_lock_os_thread();
    r->unlock_rc = gort_unlock_os_thread();
    r->numg = gort_numgoroutine();
    memset(&r->st, 0, sizeof r->st);
    r->st.size = sizeof r->st;
    r->stats_rc = gort_stats_get(&r->st);
    r->local_rc = gort_set_local(r);
    r->local_ok = gort_get_local() == (void *)r;
}

static void noop(void *arg) { (void)arg; }

int main(void) {
    static const int codes[] = {GORT_OK,        GORT_EINVAL,  GORT_ENOTINIT,
                                GORT_ENOTG,     GORT_ESTATE,  GORT_ENOMEM,
                                GORT_EAGAIN,    GORT_EBUSY,   GORT_ESTACKOVERFLOW,
                                GORT_ETIMEDOUT, GORT_ECLOSED};
    size_t i, j;
    gort_config cfg;
    struct main_result r;

    fn_ptr_check = noop;
    unlockf_ptr_check = publish_unlockf;

    CHECK(gort_abi_version() == GORT_ABI_VERSION);
    CHECK(header_c_test_dummy() == 0);
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = gort_strerror(codes[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, "unknown error") != 0);
        for (j = 0; j < i; j++) CHECK(strcmp(s, gort_strerror(codes[j])) != 0);
    }
    CHECK(strcmp(gort_strerror(12345), "unknown error") == 0);

    /* Before init. */
    CHECK(gort_self() == NULL);
    CHECK(gort_goid(NULL) == -1);
    CHECK(gort_maxprocs() == GORT_ENOTINIT);
    CHECK(gort_goexit() == GORT_ENOTINIT);
    CHECK(gort_start() == GORT_ENOTINIT);
    CHECK(gort_numgoroutine() == GORT_ENOTINIT);
    CHECK(gort_shutdown() == GORT_ENOTINIT);

    gort_config_init(&cfg);
    CHECK(cfg.size == sizeof cfg);
    CHECK(cfg.maxprocs == 0 && cfg.stack_size == 0 && cfg.max_threads == 0 && cfg.debug == NULL);
    cfg.maxprocs = 2;
    cfg.stack_size = 64 * 1024;
    cfg.max_threads = 0;
    cfg.debug = "schedtrace=0";
    CHECK(gort_init(&cfg) == GORT_OK);

    memset(&r, 0, sizeof r);
    CHECK(gort_main(main_goroutine, &r) == GORT_OK);
    CHECK(r.self_ok);
    CHECK(r.local_rc == GORT_OK && r.local_ok);
    CHECK(r.goid > 0);
    CHECK(r.maxprocs == 2);
    CHECK(r.go_rc == GORT_OK);
    CHECK(r.go_ex_rc == GORT_OK);
    CHECK(r.goid_out > 0);
    CHECK(r.gosched_rc == GORT_OK);
    CHECK(r.ready_rc == GORT_OK);
    CHECK(r.ready_again_rc == GORT_ESTATE);
    CHECK(r.spun_ok);
    CHECK(r.lock_rc == GORT_OK);
    CHECK(r.unlock_rc == GORT_OK);
    CHECK(r.numg >= 1);
    CHECK(r.stats_rc == GORT_OK);
    CHECK(r.st.size == sizeof r.st);
    CHECK(r.st.maxprocs == 2);
    CHECK(r.st.goroutines >= 1 && r.st.threads >= 1);
    CHECK(r.st.idle_threads >= 0 && r.st.spinning_threads >= 0 && r.st.idle_procs >= 0);
    CHECK(r.st.global_runq >= 0);
    CHECK(r.st.goroutines_created >= 3 && r.st.context_switches >= 1);
    CHECK(r.st.steals == r.st.steals);

    CHECK(gort_shutdown() == GORT_OK);
    CHECK(gort_shutdown() == GORT_ENOTINIT);

    if (failures != 0) return 1;
    return gort_abi_version() == GORT_ABI_VERSION ? 0 : 1;
}
