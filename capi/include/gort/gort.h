/*
 * gort.h - the C ABI of gort, an embeddable M:N goroutine runtime.
 *
 * This is the only public header. It is C99 and C++ compatible, exposes only
 * opaque handles, and every entry point returns an int error code (GORT_OK or
 * a negative GORT_E* value) unless its comment says otherwise. Bad input is
 * answered with an error code and changes nothing; broken internal invariants
 * abort the process with "gort: fatal error: ..." and a goroutine dump.
 *
 * Model (the Go 1.4 scheduler, runtime/proc1.go):
 *   G  a goroutine: a function running on its own execution stack;
 *   M  an OS thread that runs goroutines;
 *   P  a processor: the right to run goroutines. At most gort_maxprocs()
 *      goroutines run in parallel.
 *
 * Life cycle:
 *   gort_init(cfg)        configure; creates no thread.
 *   gort_main(fn, arg)    the calling thread becomes m0 and runs goroutines;
 *                         returns when fn returns. Like a Go program's main,
 *                         goroutines still runnable or waiting at that point
 *                         do not run again.
 *   or gort_start()       background mode: goroutines run on threads the
 *                         runtime creates on demand; the calling thread stays
 *                         a host thread and may call gort_go / gort_ready.
 *   gort_shutdown()       from a host thread: waits until every running
 *                         goroutine reaches a scheduling point (park, gosched,
 *                         exit), then stops the runtime, joins every thread it
 *                         created and releases every goroutine, stack and
 *                         mapping. Goroutines not yet finished are discarded.
 *                         gort_init may then be called again.
 *                         No other call into the runtime may run
 *                         concurrently with gort_shutdown or after it starts.
 *
 * Thread-local storage: a goroutine may resume on a different OS thread after
 * any call that can switch goroutines (gort_gosched, gort_park, and anything
 * built on them). Do not keep the address of a thread_local / __thread
 * variable across such a call: the compiler may cache it in a register.
 * Re-read it after the call, lock the goroutine to its thread with
 * gort_lock_os_thread, or keep per-goroutine state in the goroutine-local
 * slot (gort_set_local / gort_get_local).
 */
#ifndef GORT_GORT_H
#define GORT_GORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GORT_BUILDING_LIBRARY)
#define GORT_API __attribute__((visibility("default")))
#else
#define GORT_API
#endif

#define GORT_ABI_VERSION 1

/* Returns GORT_ABI_VERSION of the library actually loaded. */
GORT_API int gort_abi_version(void);

/* Release version of this header, MAJOR.MINOR.PATCH. It is the CMake
 * project(VERSION) of the library (the configure fails if they disagree);
 * the shared library's SONAME is libgort.so.GORT_VERSION_MAJOR.
 * GORT_VERSION is one comparable integer: major * 10000 + minor * 100 +
 * patch (1.0.0 is 10000), e.g. #if GORT_VERSION >= 10100. */
#define GORT_VERSION_MAJOR 1
#define GORT_VERSION_MINOR 0
#define GORT_VERSION_PATCH 0
#define GORT_VERSION \
    (GORT_VERSION_MAJOR * 10000 + GORT_VERSION_MINOR * 100 + GORT_VERSION_PATCH)

/* The release version of the library actually loaded, as a static string
 * "MAJOR.MINOR.PATCH" (e.g. "1.0.0"); compare with the GORT_VERSION_* of
 * the header the caller was compiled with. Needs no gort_init. */
GORT_API const char *gort_version(void);

/* Error codes. Values are part of the ABI. */
#define GORT_OK 0
#define GORT_EINVAL (-1)         /* bad argument: NULL function, size out of range */
#define GORT_ENOTINIT (-2)       /* gort_init not called, or after gort_shutdown */
#define GORT_ENOTG (-3)          /* the call must be made from a goroutine */
#define GORT_ESTATE (-4)         /* wrong state: double ready, unlock of unlocked thread, ... */
#define GORT_ENOMEM (-5)         /* out of memory or address space */
#define GORT_EAGAIN (-6)         /* would block / try again */
#define GORT_EBUSY (-7)          /* resource in use */
#define GORT_ESTACKOVERFLOW (-8) /* managed stack would exceed its maximum */
#define GORT_ETIMEDOUT (-9)      /* timed out */
#define GORT_ECLOSED (-10)       /* closed */

/* A static, human-readable description of err ("unknown error" if none). */
GORT_API const char *gort_strerror(int err);

typedef void (*gort_fn)(void *arg);
typedef struct gort_g gort_g; /* opaque goroutine handle */

/* Configuration. Fill with gort_config_init, then override fields.
 * size: sizeof(gort_config) as the caller knows it (forward compatibility).
 * maxprocs: number of Ps (0: GORT_MAXPROCS from the environment, else the
 *           number of CPUs available to the process). At most 256.
 * stack_size: execution stack size in bytes for new goroutines (0: the
 *           default, 64 KiB, or GORT_STACKSIZE). Rounded up to a power of two;
 *           between 16 KiB and 256 MiB. The lowest 4 KiB is a guard page
 *           (see "Stacks" below).
 * max_threads: the most OS threads the runtime may create (0: 10000, the
 *           seed's sched.maxmcount). Exceeding it is the fatal error
 *           "thread exhaustion".
 * debug: GODEBUG-style "name=value,..." (NULL: GORT_DEBUG from the
 *           environment). Unknown names are ignored; a malformed string here
 *           makes gort_init fail with GORT_EINVAL.
 * Environment variables (GORT_MAXPROCS, GORT_STACKSIZE, GORT_DEBUG) apply
 * only where the config leaves a field 0/NULL; a malformed or out-of-range
 * environment value is ignored, as Go ignores a bad GOMAXPROCS. */
typedef struct gort_config {
    size_t size;
    int maxprocs;
    size_t stack_size;
    int max_threads;
    const char *debug;
} gort_config;

GORT_API void gort_config_init(gort_config *cfg);

/* Initialises the runtime. cfg NULL: defaults and environment
 * (GORT_MAXPROCS, GORT_STACKSIZE, GORT_DEBUG). GORT_EBUSY if already
 * initialised. Creates no thread. */
GORT_API int gort_init(const gort_config *cfg);

/* Runs fn(arg) as the main goroutine with the calling thread as m0, and
 * returns when fn returns (see the life cycle above). Must be called from a
 * host thread after gort_init, once. */
GORT_API int gort_main(gort_fn fn, void *arg);

/* Background mode: goroutines run on runtime threads; returns at once. */
GORT_API int gort_start(void);

/* Stops the runtime and frees everything (see the life cycle above).
 * From a host thread only: GORT_EBUSY from a goroutine. */
GORT_API int gort_shutdown(void);

/* Options for gort_go_ex. size: sizeof(gort_go_opts) as the caller knows it.
 * stack_size: 0 for the runtime default, else as gort_config.stack_size.
 * lock_os_thread: nonzero to start the goroutine locked to its thread, as if
 * its first action were gort_lock_os_thread(). */
typedef struct gort_go_opts {
    size_t size;
    size_t stack_size;
    int lock_os_thread;
} gort_go_opts;

/* Starts a goroutine running fn. argsize > 0: argsize bytes at arg are
 * copied onto the new goroutine's stack and fn gets a pointer to the copy
 * (16-byte aligned; at most 1024 bytes). argsize == 0: fn gets arg itself.
 * goid_out may be NULL. Callable from a goroutine, and from any host thread
 * once gort_init has returned (the goroutine runs once the runtime runs).
 * No start order is promised: as in Go, a goroutine started by a goroutine
 * usually runs next on that P, as soon as its creator blocks or yields.
 * GORT_ENOMEM when no stack can be had (address space exhausted, e.g. under
 * RLIMIT_AS): nothing is started and the runtime keeps running. */
GORT_API int gort_go(gort_fn fn, const void *arg, size_t argsize, int64_t *goid_out);
GORT_API int gort_go_ex(gort_fn fn, const void *arg, size_t argsize,
                        const gort_go_opts *opts, int64_t *goid_out);

/* The current goroutine, or NULL outside one. A handle stays valid while its
 * goroutine lives; after the goroutine exits the runtime reuses it. */
GORT_API gort_g *gort_self(void);

/* The goroutine id of g (g NULL: the current goroutine); -1 outside one. */
GORT_API int64_t gort_goid(const gort_g *g);

/* Yields the processor; the goroutine goes to the global run queue. */
GORT_API int gort_gosched(void);

/* Parks the current goroutine (the seed's park(unlockf, lock, reason)).
 * The goroutine is marked waiting, then unlockf(g, lock) runs on the
 * scheduler stack: if it returns 0 the park is cancelled and the goroutine
 * resumes at once; otherwise it sleeps until gort_ready(g). unlockf may be
 * NULL. unlockf must not block or switch goroutines. reason is shown in
 * goroutine dumps (NULL: "park"); it must outlive the park. */
typedef int (*gort_unlockf)(gort_g *g, void *lock);
GORT_API int gort_park(gort_unlockf unlockf, void *lock, const char *reason);

/* Makes a parked goroutine runnable. From any thread, goroutine or host.
 * GORT_ESTATE if g is not parked (for example a second ready), or is parked
 * in gort_sleep or gort_poll_fd (only the runtime wakes those). */
GORT_API int gort_ready(gort_g *g);

/* Ends the current goroutine; does not return on success. The main
 * goroutine of gort_main ends by returning from its function instead:
 * GORT_ESTATE there. */
GORT_API int gort_goexit(void);

/* Wires the current goroutine to its OS thread: until it exits or unlocks,
 * it always runs on this thread and no other goroutine does. As in Go 1.4
 * (the seed's LockOSThread), the lock is a flag, not a count: a second lock
 * is a no-op and one unlock undoes any number of locks. */
GORT_API int gort_lock_os_thread(void);
/* GORT_ESTATE if the goroutine is not locked. */
GORT_API int gort_unlock_os_thread(void);

/* Goroutine-local storage: one pointer per goroutine, NULL when it starts.
 * gort_set_local: GORT_ENOTG outside a goroutine. gort_get_local: NULL
 * outside a goroutine. The runtime never dereferences the value. */
GORT_API int gort_set_local(void *value);
GORT_API void *gort_get_local(void);

/* Number of Ps; GORT_ENOTINIT before init. */
GORT_API int gort_maxprocs(void);

/* Number of live goroutines (the seed's gcount); GORT_ENOTINIT before init. */
GORT_API int gort_numgoroutine(void);

/* A snapshot of scheduler counters. Fields may be mutually inconsistent by a
 * few units while the runtime runs. size: sizeof(gort_stats) as the caller
 * knows it; only that many bytes are written. */
typedef struct gort_stats {
    size_t size;
    int64_t goroutines;       /* live goroutines */
    int64_t threads;          /* Ms created and not exited */
    int64_t idle_threads;     /* Ms sleeping for work (sched.nmidle) */
    int64_t spinning_threads; /* Ms looking for work (sched.nmspinning) */
    int64_t idle_procs;       /* sched.npidle */
    int64_t maxprocs;
    int64_t global_runq;      /* sched.runqsize */
    uint64_t goroutines_created;
    uint64_t context_switches; /* goroutines started or resumed */
    uint64_t steals;           /* successful runqsteal calls */
} gort_stats;
GORT_API int gort_stats_get(gort_stats *st);

/* ---- System calls (seed: entersyscall / exitsyscall) ----
 * Bracket a call that may block in the kernel or in host code, so that the
 * goroutine's P can run other goroutines meanwhile:
 *     gort_entersyscall(); n = read(fd, buf, len); gort_exitsyscall();
 * Between the two the goroutine must not call into gort except
 * gort_exitsyscall (GORT_ESTATE otherwise). If the call lasts longer than a
 * sysmon tick (20 us .. 10 ms) the P is handed to another thread.
 * gort_entersyscallblock: the call is known to block; hands the P off at once.
 * gort_exitsyscall takes a P back (its own if still free, else an idle one,
 * else it waits in the global run queue): like any call that can switch, it
 * may return on another OS thread. It must be called from the frame that
 * called gort_entersyscall or a deeper one (GORT_ESTATE otherwise).
 * GORT_ENOTG outside a goroutine; GORT_ESTATE when not in a syscall (exit) or
 * already in one (enter), while pinned, or while holding the stopped world. */
GORT_API int gort_entersyscall(void);
GORT_API int gort_entersyscallblock(void);
GORT_API int gort_exitsyscall(void);

/* ---- Preemption ----
 * Cooperative preemption point: cheap (a load and a compare, no lock, no
 * system call) when nothing is pending; yields the processor when the
 * scheduler asked this goroutine to (it ran for more than 10 ms, or the world
 * or a GC scan is stopping). Returns 1 if it yielded, 0 if not, or an error.
 * Long-running loops in goroutines should call it. */
GORT_API int gort_safepoint(void);

/* ---- Stop the world ----
 * gort_stop_the_world: from a goroutine; returns once every other P is
 * stopped (goroutines in system calls lose their P; running ones stop at
 * their next safe point). reason names the stop for diagnostics (NULL
 * allowed; not yet recorded anywhere). Only the
 * calling goroutine runs until gort_start_the_world. Nesting: GORT_ESTATE.
 * While the world is stopped the caller must not park or yield. */
GORT_API int gort_stop_the_world(const char *reason);
GORT_API int gort_start_the_world(void);

/* Sets the number of Ps (1..256) at run time; returns the previous value
 * (>= 1) or an error. From a goroutine or a host thread; stops the world
 * briefly. Runnable goroutines of removed Ps move to the global run queue in
 * FIFO order (the seed's procresize). */
GORT_API int gort_set_maxprocs(int n);

/* Sets the most OS threads the runtime may create (seed: setMaxThreads);
 * returns the previous limit. GORT_EINVAL if n < 1; GORT_EBUSY if n is below
 * the number already created. Exceeding it later is the fatal error
 * "thread exhaustion". */
GORT_API int gort_set_max_threads(int n);

/* Disables preemption and migration of the current goroutine and returns the
 * id of its P (seed: procPin). Until gort_proc_unpin it must not park, yield
 * or enter a syscall. Pins do not nest: GORT_ESTATE on a second pin or an
 * unpin without pin. */
GORT_API int gort_proc_pin(void);
GORT_API int gort_proc_unpin(void);

/* ---- Foreign threads (seed: needm / dropm / cgocallback) ----
 * Any thread gort did not create may call gort_go and gort_ready at any
 * time. gort_call_as_goroutine runs fn(arg) on a goroutine bound to the
 * calling thread (it may call everything a goroutine may: park, channels,
 * ...), and returns when fn returns. The first call on a thread takes an
 * "extra" M for it; the M stays bound to the thread (released by a pthread
 * key destructor when the thread exits, or by gort_thread_detach) so later
 * calls are cheap. gort_thread_attach binds an extra M ahead of time
 * (idempotent); gort_thread_detach releases it (GORT_ESTATE if none, or
 * from inside gort_call_as_goroutine). Returns fn's status GORT_OK, or
 * GORT_EBUSY if called from a goroutine (call fn directly there). */
GORT_API int gort_call_as_goroutine(gort_fn fn, void *arg);
GORT_API int gort_thread_attach(void);
GORT_API int gort_thread_detach(void);

/* ---- Deadlock detection (seed: checkdead) ----
 * When every goroutine is asleep and nothing can wake one (no timer, no
 * poller waiter, no goroutine in a system call):
 *   under gort_main: fatal error "all goroutines are asleep - deadlock!"
 *     with a goroutine dump (unless a foreign thread is attached, which may
 *     still wake one);
 *   in background mode: hook(ctx) is called once per episode, on the thread
 *     whose M went idle last (a runtime thread, or a foreign thread in
 *     gort_thread_detach or exiting); it may call gort_go / gort_ready and
 *     must not block.
 * A host thread that will wake goroutines later under gort_main should
 * gort_thread_attach first. GORT_DEBUG=deadlock=0 turns detection off.
 * hook NULL removes it. */
GORT_API int gort_set_deadlock_hook(void (*hook)(void *ctx), void *ctx);

/* ---- Tracing ----
 * Writes a dump of every goroutine to fd: "goroutine N [waitreason]:" and a
 * symbolised native backtrace of each suspended goroutine from its saved
 * context (a goroutine running on another thread prints without one). From
 * any thread; GORT_EINVAL if fd is not an open descriptor, GORT_ENOTINIT
 * before gort_init. GORT_DEBUG keys: schedtrace=N (a SCHED line every N ms from
 * sysmon), scheddetail=1 (with P, M and G detail), sigquit=1 (a SIGQUIT
 * handler dumps all goroutines, then chains to the host's handler, or exits
 * with status 2 like Go), deadlock=0 (see above). */
GORT_API int gort_dump_goroutines(int fd);

/* ---- Time, sleeping and the network poller ----
 * gort_nanotime: monotonic clock in ns (CLOCK_MONOTONIC). Any thread, even
 *   before gort_init.
 * gort_sleep: parks the goroutine for at least ns (<= 0: yields at most).
 * gort_poll_fd: parks until fd is ready for events (GORT_POLL_IN and/or
 *   GORT_POLL_OUT) and returns the ready subset (> 0); errors and hangups
 *   report as ready. Like poll(2), readiness is a hint: the operation may
 *   still see EAGAIN (use O_NONBLOCK fds). timeout_ns < 0 waits for ever; 0
 *   polls; else GORT_ETIMEDOUT after it. GORT_ECLOSED if fd was closed (or
 *   gort_poll_close'd) while waited on. GORT_EINVAL for a bad fd (negative,
 *   not open, or 2^22 and above) or events (0, or bits other than IN|OUT).
 *   Several goroutines may wait on one fd, in either direction: an event
 *   wakes every waiter it concerns. Regular files are always ready.
 * Both from a goroutine only: GORT_ENOTG from a host thread (or inside an
 * unlockf); GORT_ESTATE while holding a runtime lock or inside a
 * gort_entersyscall bracket. */
#define GORT_POLL_IN 1
#define GORT_POLL_OUT 2
GORT_API int64_t gort_nanotime(void);
GORT_API int gort_sleep(int64_t ns);
GORT_API int gort_poll_fd(int fd, int events, int64_t timeout_ns);
/* Wakes every goroutine waiting on fd with GORT_ECLOSED and forgets fd
 * (Go's pollDesc evict). Call it before closing an fd that goroutines may be
 * waiting on; a close without it is detected later (by sysmon, within tens of
 * ms while the runtime is running), and if the number is reused meanwhile,
 * the first wait on the new file may end with that GORT_ECLOSED. From any
 * thread; GORT_OK also for an fd never polled; GORT_EINVAL for a negative
 * fd. */
GORT_API int gort_poll_close(int fd);
/* ---- Stacks ---- */

/* Execution stacks. Every goroutine runs native code on an execution stack
 * of gort_config.stack_size / gort_go_opts.stack_size bytes (default 64 KiB;
 * GORT_STACKSIZE). Its lowest 4 KiB page is a guard page, so usable space is
 * the size minus 4 KiB; memory is committed as it is touched. Overflowing it
 * is fatal: "gort: fatal error: stack overflow in goroutine N (stack size
 * S)" and a goroutine dump. Guard pages use madvise(MADV_GUARD_INSTALL)
 * where the kernel has it, else mprotect within a quarter of
 * vm.max_map_count while the process's own mappings leave an eighth of it
 * free, else none: an unguarded stack carries a canary checked each time its
 * goroutine switches out (GORT_DEBUG=stackguard=0 turns guard pages off).
 * An overflow of an unguarded stack is reported only if nothing it
 * overwrote crashes first: the canary is a best effort, the guard page is
 * the promise. The SIGSEGV handler gort installs for its guard pages runs on
 * an alternate signal stack and passes every other fault to the handler
 * that was installed before it.
 *
 * GORT_DEBUG keys for stacks: efence=1 (a mapping per stack, freed stacks
 * made inaccessible and never reused), stackguard=0|1|2 (2: mprotect guard
 * pages even where MADV_GUARD_INSTALL works), stackpoisoncopy=1
 * (fill old and new managed stacks with poison bytes while copying),
 * stackdebug=1..4 (log per-stack, per-frame, per-word updates, per-word
 * reads), gcdead=1 (copying writes 0x6868686868686868 into dead slots),
 * invalidptr=0 (accept small integers in pointer slots). */

/* Managed stacks (precise, copyable). A goroutine may lay frames described
 * by registered funcinfo records on its managed stack, which gort grows by
 * doubling (and shrinks by halving) by copying it, adjusting every pointer
 * slot the stack maps mark, every frame link and every registered root that
 * points into it. Each frame: [arguments][runtime header][locals], from high
 * to low addresses; locals and arguments are zeroed by the push.
 *
 * Stack maps: 2 bits per word, word i at bits 2*(i%4) of byte i/4:
 * GORT_BITS_DEAD, GORT_BITS_SCALAR, GORT_BITS_POINTER. A locals map of nbit
 * bits describes the nbit/2 words just below the frame header (the top of
 * the locals), an args map the nbit/2 words from the first argument up.
 * A slot marked pointer must hold NULL, a pointer into this managed stack,
 * or any other pointer; a small integer (below 4096) there is the fatal
 * error "invalid stack pointer" when the stack is copied.
 *
 * A host must not keep raw pointers into its managed stack in native locals
 * across gort_mframe_push (growth moves the stack), or across any call that
 * can switch goroutines (gort_park, gort_gosched, ...: a shrink may move the
 * stack while the goroutine is parked): re-read them (gort_mframe_top,
 * gort_mframe_args) or register the variables holding them as roots. The
 * same holds for a gort_park unlockf: it runs after the goroutine is marked
 * waiting, when gort_shrink_stacks may already be moving its managed stack,
 * so its lock argument must not point into the managed stack. */
#define GORT_BITS_DEAD 0
#define GORT_BITS_SCALAR 1
#define GORT_BITS_POINTER 2

typedef struct gort_stackmap {
    uint32_t nbit;            /* 2 bits per word */
    const uint8_t *bytedata;  /* (nbit + 7) / 8 bytes */
} gort_stackmap;

/* size: sizeof(gort_funcinfo). name: for errors and logs. frame_words,
 * arg_words: locals and arguments, in pointer-sized words (each at most
 * 2^20). nmaps: entries of locals[] and args[], indexed by the frame's pc
 * index (gort_mframe_setpc); locals may be NULL when frame_words is 0, args
 * when arg_words is 0. The record and its maps must stay valid and
 * unchanged while the runtime runs. */
typedef struct gort_funcinfo {
    size_t size;
    const char *name;
    uint32_t frame_words;
    uint32_t arg_words;
    uint32_t nmaps;
    const gort_stackmap *locals;
    const gort_stackmap *args;
} gort_funcinfo;

/* Registers fi (GORT_EINVAL if malformed: a map longer than its area, bits
 * 3, a NULL map needed by a nonzero area). Registering twice is GORT_OK.
 * Registrations end at gort_shutdown. */
GORT_API int gort_funcinfo_register(const gort_funcinfo *fi);

/* Pushes a frame of fi (registered) on the current goroutine's managed
 * stack, creating the stack (2 KiB) on first use, and returns its locals
 * (8-byte aligned, zeroed). The frame's pc index starts at 0. Growth past
 * gort_set_max_stack fails with GORT_ESTACKOVERFLOW and the stack is left
 * as it was. The push is a safe point: a pending preemption request makes
 * the goroutine yield here. On failure returns NULL and gort_last_error()
 * says why (GORT_ENOTG, GORT_EINVAL, GORT_ESTACKOVERFLOW; GORT_ENOMEM when
 * no address space is left for the stack, which is then left as it was). */
GORT_API void *gort_mframe_push(const gort_funcinfo *fi);
/* Pops the innermost frame. GORT_ESTATE if there is none. */
GORT_API int gort_mframe_pop(void);
/* Locals of the innermost frame, NULL if none (or outside a goroutine). */
GORT_API void *gort_mframe_top(void);
/* The argument words of the frame whose locals are `frame` (a frame of the
 * current goroutine); NULL (gort_last_error: GORT_EINVAL) if there is no
 * such frame. */
GORT_API void *gort_mframe_args(void *frame);
/* Sets which stack map of the innermost frame is live. GORT_EINVAL if
 * pcindex >= its funcinfo's nmaps, GORT_ESTATE if there is no frame. */
GORT_API int gort_mframe_setpc(uint32_t pcindex);
/* Registers a slot outside the managed stack (a native local, a wait node)
 * whose value, if it points into the current goroutine's managed stack, is
 * adjusted whenever the stack moves. Remove it before the slot dies; the
 * goroutine's roots are dropped when it exits. GORT_EINVAL for NULL,
 * GORT_EBUSY if already registered; gort_mstack_root_remove: GORT_ESTATE
 * if not registered. */
GORT_API int gort_mstack_root_add(void **slot);
GORT_API int gort_mstack_root_remove(void **slot);
/* Maximum size of a managed stack (default 1,000,000,000 bytes, as Go;
 * reset by gort_shutdown). GORT_EINVAL below 2048. */
GORT_API int gort_set_max_stack(size_t bytes);
/* Why the last pointer-returning call of this goroutine (or host thread)
 * failed: a GORT_E* code, GORT_OK if it did not. */
GORT_API int gort_last_error(void);

/* Shrinks stacks now (as the GC scan protocol does): every managed stack of
 * a parked or runnable goroutine (and the caller's own) using less than a
 * quarter of its size is halved by copying, never below 2 KiB; every
 * parked execution stack using less than a quarter has its pages below the
 * saved stack pointer given back to the kernel. Goroutines that are running
 * elsewhere or in a system call are skipped. From a goroutine or a host
 * thread. Returns the number of stacks shrunk or trimmed (>= 0), or an
 * error. */
GORT_API int gort_shrink_stacks(void);

/* Stack statistics. size: sizeof(gort_stack_stats) as the caller knows it. */
typedef struct gort_stack_stats {
    size_t size;
    uint64_t exec_stacks;       /* execution stacks allocated */
    uint64_t exec_unguarded;    /* of which without a guard page (canary only) */
    uint64_t managed_stacks;    /* managed stacks allocated */
    uint64_t arenas;            /* 1 GiB address windows holding stacks */
    uint64_t arena_bytes;       /* address space reserved for stacks (grows
                                   in 64 MiB steps, as stacks are needed) */
    uint64_t guard_vmas;        /* VMAs spent on mprotect guard pages */
    int guard_mode;             /* 0 none yet, 1 MADV_GUARD_INSTALL, 2 mprotect */
} gort_stack_stats;
GORT_API int gort_stack_stats_get(gort_stack_stats *st);

/* ---- Channels (Go's chan and select) ----
 * A channel carries elements of elemsize bytes (0 .. 65535; 0 makes a pure
 * signalling channel) and buffers up to cap of them (0: unbuffered, every
 * send meets a receive). Elements are copied in and out by value.
 * Semantics are Go's: FIFO for buffered elements and for blocked senders and
 * receivers; a blocked sender hands its element directly to a receiver;
 * close wakes every blocked goroutine; a receive from a closed channel
 * returns the buffered elements, then succeeds at once with a zeroed element
 * and *ok = 0. Where Go panics, gort returns GORT_ECLOSED (send on a closed
 * channel, also when the close comes while the sender is blocked; close of a
 * closed channel). A NULL or freed channel is GORT_EINVAL.
 *
 * Blocking calls (send, recv, select with a timeout other than 0) need a
 * goroutine: GORT_ENOTG from a host thread, GORT_ESTATE inside
 * gort_entersyscall, while pinned or holding the stopped world. The try
 * calls, close, len, cap and free work from any thread, host threads
 * included (a waiter they wake is made runnable as by gort_ready).
 * A goroutine blocked in a channel operation is not gort_ready's to wake.
 *
 * gort_chan_new: GORT_EINVAL if out is NULL, elemsize >= 65536, cap >
 *   INT_MAX or the buffer would exceed 2^40 bytes. Needs gort_init. As in
 *   Go, a buffer the system cannot provide is the fatal error "out of
 *   memory".
 * gort_chan_send: copies elemsize bytes from elem (NULL only if elemsize is
 *   0); blocks until a receiver takes it or there is room in the buffer.
 * gort_chan_recv: blocks until an element arrives (copied to elem; elem may
 *   be NULL to drop it) or the channel is closed and drained. ok may be
 *   NULL; *ok = 1: an element was received, 0: closed (elem zeroed).
 * gort_chan_trysend / gort_chan_tryrecv: the same without blocking:
 *   GORT_EAGAIN where the blocking call would wait.
 * gort_chan_close: GORT_ECLOSED if already closed.
 * gort_chan_len / gort_chan_cap: elements buffered now / buffer size (>= 0),
 *   or GORT_EINVAL.
 * gort_chan_free: releases the channel. GORT_EBUSY (and nothing changes)
 *   while goroutines are blocked on it, including a select that has been
 *   woken by another case but has not yet returned. No other call may use
 *   the channel concurrently with or after a successful free. A channel
 *   belongs to the runtime that made it: after gort_shutdown it can only be
 *   freed (other calls return GORT_ESTATE), whatever waited on it. */
typedef struct gort_chan gort_chan;
GORT_API int gort_chan_new(size_t elemsize, size_t cap, gort_chan **out);
GORT_API int gort_chan_send(gort_chan *c, const void *elem);
GORT_API int gort_chan_recv(gort_chan *c, void *elem, int *ok);
GORT_API int gort_chan_trysend(gort_chan *c, const void *elem);
GORT_API int gort_chan_tryrecv(gort_chan *c, void *elem, int *ok);
GORT_API int gort_chan_close(gort_chan *c);
GORT_API int gort_chan_len(const gort_chan *c);
GORT_API int gort_chan_cap(const gort_chan *c);
GORT_API int gort_chan_free(gort_chan *c);

/* gort_select: Go's select over n cases (0 <= n <= 65536). Each case is a
 * send (dir GORT_SEND, elem: the element to send) or a receive (GORT_RECV,
 * elem: where to store it, or NULL) on channel c; a case with c NULL never
 * proceeds (Go's nil channel). When several cases can proceed, one is chosen
 * uniformly at random. Returns the index of the case that ran and sets its
 * ok: 1 if it sent or received an element, 0 if its channel was closed (a
 * receive then got a zeroed element; a send did not send - where Go
 * panics). The other cases' ok fields are left alone.
 * timeout_ns 0: poll, GORT_EAGAIN if no case is ready (any thread);
 * negative: wait for ever; positive: GORT_ETIMEDOUT if no case proceeded
 * within timeout_ns. GORT_EINVAL: cases NULL with n > 0, n out of range, a
 * dir other than GORT_SEND / GORT_RECV, a send with a NULL elem on a channel
 * whose elemsize is not 0, or a bad channel. */
enum { GORT_SEND = 1, GORT_RECV = 2 };
typedef struct gort_select_case {
    gort_chan *c;
    int dir;
    void *elem;
    int ok;
} gort_select_case;
GORT_API int gort_select(gort_select_case *cases, int n, int64_t timeout_ns);

/* ---- Synchronisation (Go's sync package and runtime semaphore) ----
 * Plain structs owned by the caller; all-zero bytes is the initial state
 * (unlocked, no waiters, counter 0), so they need no init or destroy call.
 * They must not be moved or copied while in use. None is tied to a
 * goroutine: a mutex may be unlocked by another goroutine or thread. Calls
 * that may block need a goroutine (GORT_ENOTG / GORT_ESTATE as for
 * channels); the others work from any thread. If the runtime shuts down
 * while goroutines wait on one of them, zero it before using it again.
 *
 * gort_mutex: sync.Mutex. Spins briefly when another P holds it, then
 *   parks; FIFO wakeups, and starvation mode: once a waiter has waited more
 *   than 1 ms, the mutex is handed directly from unlocker to waiter until
 *   the queue drains. gort_mutex_trylock: GORT_EBUSY if it cannot take the
 *   mutex at once (any thread). gort_mutex_unlock: GORT_ESTATE if not
 *   locked (any thread). */
typedef struct gort_mutex { uint64_t opaque[2]; } gort_mutex;
GORT_API int gort_mutex_lock(gort_mutex *m);
GORT_API int gort_mutex_trylock(gort_mutex *m);
GORT_API int gort_mutex_unlock(gort_mutex *m);

/* gort_cond: sync.Cond. gort_cond_wait: m must be locked by the caller
 *   (GORT_ESTATE otherwise); atomically unlocks it and parks until signalled,
 *   then locks m again before returning. Wakeups may be spurious from the
 *   caller's point of view: re-check the condition in a loop.
 *   gort_cond_signal wakes the longest waiter, gort_cond_broadcast all of
 *   them (any thread; a no-op without waiters). */
typedef struct gort_cond { uint64_t opaque[4]; } gort_cond;
GORT_API int gort_cond_wait(gort_cond *c, gort_mutex *m);
GORT_API int gort_cond_signal(gort_cond *c);
GORT_API int gort_cond_broadcast(gort_cond *c);

/* gort_wg: sync.WaitGroup. gort_wg_add adds delta (may be negative) to the
 *   counter; when it reaches 0 every waiter is released. GORT_ESTATE (and
 *   nothing changes) if the counter would go negative (or past INT32_MAX),
 *   or for an add of a
 *   positive delta to a zero counter while goroutines wait (Go's "Add called
 *   concurrently with Wait"). gort_wg_done is gort_wg_add(w, -1).
 *   gort_wg_wait blocks until the counter is 0; GORT_ESTATE if the WaitGroup
 *   was reused before it returned. */
typedef struct gort_wg { uint64_t opaque[2]; } gort_wg;
GORT_API int gort_wg_add(gort_wg *w, int delta);
GORT_API int gort_wg_done(gort_wg *w);
GORT_API int gort_wg_wait(gort_wg *w);

/* Go's runtime semaphore: *addr counts available units (4-byte aligned,
 * GORT_EINVAL otherwise). gort_semacquire waits until *addr > 0 and
 * decrements it (goroutine only); gort_semrelease increments it and wakes a
 * waiter, longest-waiting first (any thread). Other code may read or
 * change *addr only with atomic operations. */
GORT_API int gort_semacquire(uint32_t *addr);
GORT_API int gort_semrelease(uint32_t *addr);

/* ---- GC hooks: the scan protocol for a host's collector ----
 * (seed: stopg, restartg, stopscanstart, quiesce, gcphasework, helpgc;
 * gc_hooks/README.md says what is called when and on which thread.)
 *
 * A goroutine is scanned only at a GC safe point, with its stack held still
 * by the scan bit of its status: either it is not running (parked, runnable,
 * in a system call: the scanner claims it) or it reaches a safe point itself
 * (gort_safepoint, a managed frame push, a park, a yield, a system call
 * entry) and scans itself there. Scanning means calling the host's scan_g
 * with a gort_scan record, when the phase is GORT_GC_SCAN; in the other
 * phases a goroutine brought to a safe point is only marked done.
 *
 * A scan cycle begins with each gort_quiesce (and with gort_gc_set_phase to
 * GORT_GC_SCAN from another phase): every live goroutine is then scanned at
 * most once until the next cycle begins, whoever triggers it. */
#define GORT_GC_OFF 0
#define GORT_GC_SCAN 1
#define GORT_GC_MARK 2

/* Goroutine statuses in gort_scan.status (the seed's values). */
#define GORT_G_RUNNABLE 1
#define GORT_G_RUNNING 2 /* stopped at a safe point, scanning itself */
#define GORT_G_SYSCALL 3
#define GORT_G_WAITING 4

/* What scan_g gets. size: sizeof(gort_scan) as the runtime knows it.
 * stack_lo/stack_hi: the goroutine's execution stack (native frames), to be
 * scanned conservatively from saved_sp up to stack_hi; the registers of a
 * goroutine that is not running are saved in that range. For a goroutine in
 * a system call the range is [the sp at gort_entersyscall, stack_hi): its
 * host code may still run below it, and may be using those frames; a
 * collector that needs them exact must not let system-call code hold the
 * only reference to an object. The record is valid during scan_g only. */
typedef struct gort_scan {
    size_t size;
    gort_g *g;
    int64_t goid;
    int status;                /* GORT_G_* */
    const void *stack_lo, *stack_hi;
    const void *saved_sp;      /* [saved_sp, stack_hi) is live */
} gort_scan;

/* gort_scan_precise_roots: calls v(slot, ctx) for every pointer slot of the
 * goroutine's managed stack (each frame's live locals and arguments, by the
 * stack map its pc index selects; innermost frame first) and then for every
 * slot registered with gort_mstack_root_add. A slot may hold NULL or a
 * pointer into the managed stack itself: the visitor decides what is an
 * object. A moving collector may store a new value in *slot. Only during
 * scan_g for s, or while the caller holds s->g claimed by gort_stopg:
 * GORT_EINVAL for NULL s or v or a bad s->size / s->g, GORT_ESTATE if s->g
 * is not held at a safe point. The visitor must not call into gort. */
typedef void (*gort_root_visitor)(void **slot, void *ctx);
GORT_API int gort_scan_precise_roots(const gort_scan *s, gort_root_visitor v, void *ctx);

/* size: sizeof(gort_gc_hooks) as the caller knows it.
 * scan_g: called once per goroutine per scan cycle (phase GORT_GC_SCAN), on
 *   whichever thread brought the goroutine to its safe point, possibly on
 *   several threads at once for different goroutines. It runs on a
 *   scheduler stack with the goroutine held: it must not block, park, yield
 *   or call gort functions other than gort_scan_precise_roots and
 *   gort_goid.
 * gc_trigger: optional (NULL). The seed's forced GC: when no scan cycle has
 *   begun for force_period_ns (0: the seed's 2 minutes), sysmon wakes a
 *   runtime goroutine that calls gc_trigger(ctx); it may do anything a
 *   goroutine may (gort_quiesce included). Not counted by
 *   gort_numgoroutine or deadlock detection.
 * ctx: passed to both. */
typedef struct gort_gc_hooks {
    size_t size;
    void (*scan_g)(const gort_scan *s, void *ctx);
    void (*gc_trigger)(void *ctx);
    int64_t force_period_ns;
    void *ctx;
} gort_gc_hooks;

/* Installs hooks (copied), or removes them (h NULL). GORT_EINVAL for a bad
 * size, a NULL scan_g or a negative period; GORT_EBUSY during a scan cycle
 * in progress (gort_quiesce) or from inside scan_g. Hooks are removed by
 * gort_shutdown. */
GORT_API int gort_gc_set_hooks(const gort_gc_hooks *h);
/* Sets the phase (GORT_GC_OFF at init; GORT_EINVAL for others; GORT_EBUSY
 * during gort_quiesce or from inside scan_g). Returns the previous phase,
 * once no scan_g that may have seen the previous phase is still running
 * (a scan in progress on another thread is waited for), so a collector may
 * rely on the new phase from then on. */
GORT_API int gort_gc_set_phase(int phase);
GORT_API int gort_gc_phase(void);

/* gort_quiesce: from a goroutine. Brings every goroutine to a safe point
 * and, in phase GORT_GC_SCAN, has each live one scanned exactly once (the
 * caller included; goroutines that exit before their turn are not scanned,
 * goroutines started during the cycle need not be); managed stacks using
 * less than a quarter of their size are halved first, as the seed's GC
 * shrinks them. Returns once every one has been done. Running goroutines
 * are asked to stop at their next safe point: one that never reaches one
 * delays gort_quiesce (as it would stop-the-world). Cycles are serialised
 * with each other and with stop-the-world; the holder of the stopped world
 * may call it (nothing else runs then: no waiting). GORT_ENOTG from a host
 * thread, GORT_ESTATE inside gort_entersyscall or while pinned. */
GORT_API int gort_quiesce(void);

/* gort_stopg: claims g at a safe point for the caller (any thread). If g is
 * parked, runnable or in a system call and not yet scanned in this cycle,
 * it is claimed with the scan bit and scanned (scan_g), and 1 is returned:
 * g stays held (it cannot run, and its stacks cannot move) until the
 * caller's gort_restartg(g). Otherwise 0 and nothing to release: g is
 * running (it is asked to scan itself at its next safe point), already
 * scanned in this cycle, claimed by someone else, or dead. GORT_EINVAL for
 * a NULL or bad handle, GORT_ESTATE for the caller itself inside
 * gort_entersyscall. Hold claims briefly: the goroutine, and whoever
 * waits for it, is stopped meanwhile.
 * gort_restartg: releases a claim made by the same thread (the same
 * goroutine, if a goroutine claimed it); GORT_ESTATE if g is not held by
 * the caller. */
GORT_API int gort_stopg(gort_g *g);
GORT_API int gort_restartg(gort_g *g);

/* gort_gc_helpers: from the goroutine holding the stopped world
 * (gort_stop_the_world). Runs fn(arg) on the calling thread and at once on
 * up to n - 1 idle Ms (the seed's helpgc(nproc): nproc counts the caller;
 * also limited by gort_maxprocs, the CPUs and the idle Ms), and returns the
 * number of runs (1 .. n) after all of them have returned. fn runs on a
 * scheduler stack without a goroutine: it must not call gort functions
 * that need one. GORT_EINVAL for NULL fn or n < 1, GORT_ESTATE if the
 * caller does not hold the stopped world, GORT_EBUSY from inside fn. */
GORT_API int gort_gc_helpers(int n, gort_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* GORT_GORT_H */
