/*
 * tests/capi/header_c_test.c - proves that <gort/gort.h> is valid, warning-free
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
#if GORT_VERSION != GORT_VERSION_MAJOR * 10000 + GORT_VERSION_MINOR * 100 + GORT_VERSION_PATCH
#error "GORT_VERSION does not pack GORT_VERSION_MAJOR/MINOR/PATCH"
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
    int chan_sync_bad;
    gort_stats st;
};

static int chan_sync_checks(void);

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
    r->chan_sync_bad = chan_sync_checks();
}

static void noop(void *arg) { (void)arg; }

/* Channels and sync from C: one goroutine, so nothing blocks for long.
 * Returns the number of failed checks. */
static int chan_sync_checks(void) {
    int bad = 0, v = 7, got = 0, ok = -1, rc;
    gort_chan *c = NULL;
    gort_select_case cases[2];
    gort_mutex m;
    gort_cond cv;
    gort_wg wg;
    uint32_t sem = 1;

#define CCHECK(cond) \
    do {             \
        if (!(cond)) bad++; \
    } while (0)
    CCHECK(gort_chan_new(sizeof(int), 1, &c) == GORT_OK);
    CCHECK(gort_chan_cap(c) == 1 && gort_chan_len(c) == 0);
    CCHECK(gort_chan_send(c, &v) == GORT_OK);
    CCHECK(gort_chan_trysend(c, &v) == GORT_EAGAIN);
    CCHECK(gort_chan_recv(c, &got, &ok) == GORT_OK && got == 7 && ok == 1);
    CCHECK(gort_chan_tryrecv(c, &got, &ok) == GORT_EAGAIN);
    cases[0].c = c;
    cases[0].dir = GORT_SEND;
    cases[0].elem = &v;
    cases[0].ok = -1;
    cases[1].c = NULL;
    cases[1].dir = GORT_RECV;
    cases[1].elem = &got;
    cases[1].ok = -1;
    rc = gort_select(cases, 2, 0);
    CCHECK(rc == 0 && cases[0].ok == 1);
    CCHECK(gort_select(cases, 2, 1000) == GORT_ETIMEDOUT); /* full buffer, no receiver */
    CCHECK(gort_chan_close(c) == GORT_OK && gort_chan_close(c) == GORT_ECLOSED);
    CCHECK(gort_chan_recv(c, &got, &ok) == GORT_OK && ok == 1);
    CCHECK(gort_chan_recv(c, &got, &ok) == GORT_OK && ok == 0 && got == 0);
    CCHECK(gort_chan_free(c) == GORT_OK);

    memset(&m, 0, sizeof m);
    memset(&cv, 0, sizeof cv);
    memset(&wg, 0, sizeof wg);
    CCHECK(gort_mutex_lock(&m) == GORT_OK && gort_mutex_trylock(&m) == GORT_EBUSY);
    CCHECK(gort_mutex_unlock(&m) == GORT_OK && gort_mutex_unlock(&m) == GORT_ESTATE);
    CCHECK(gort_cond_wait(&cv, &m) == GORT_ESTATE); /* m not locked */
    CCHECK(gort_cond_signal(&cv) == GORT_OK && gort_cond_broadcast(&cv) == GORT_OK);
    CCHECK(gort_wg_add(&wg, 1) == GORT_OK && gort_wg_done(&wg) == GORT_OK);
    CCHECK(gort_wg_wait(&wg) == GORT_OK && gort_wg_done(&wg) == GORT_ESTATE);
    CCHECK(gort_semacquire(&sem) == GORT_OK && sem == 0);
    CCHECK(gort_semrelease(&sem) == GORT_OK && sem == 1);
#undef CCHECK
    return bad;
}

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
    {
        /* The loaded library's version string is the header's version. */
        char v[32];
        snprintf(v, sizeof v, "%d.%d.%d", GORT_VERSION_MAJOR, GORT_VERSION_MINOR,
                 GORT_VERSION_PATCH);
        CHECK(gort_version() != NULL && strcmp(gort_version(), v) == 0);
    }
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
    CHECK(r.chan_sync_bad == 0);
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
