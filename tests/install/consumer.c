/*
 * tests/install/consumer.c - the program every install consumer builds (the
 * find_package project, and the pkg-config builds in run.sh). It includes the
 * installed <gort/gort.h> and nothing else of gort, runs one goroutine that
 * hands a value back over a channel, and prints the loaded library's
 * version. Exit 0 only if the goroutine ran, the value arrived and the loaded
 * library's version is the header's; run.sh also compares the printed line.
 */
#include <gort/gort.h>

#include <stdio.h>
#include <string.h>

struct result {
    gort_chan *c;
    int recv_rc, ok, value;
};

static void child(void *arg) {
    gort_chan *c = *(gort_chan **)arg; /* argsize > 0: a copy */
    int v = 4242;
    gort_chan_send(c, &v);
}

static void main_goroutine(void *arg) {
    struct result *r = (struct result *)arg;
    if (gort_chan_new(sizeof(int), 0, &r->c) != GORT_OK) return;
    /* The unbuffered receive returns only once the child has sent: it is
     * the wait for the child, so gort_main cannot return before it ran.
     * The channel is freed after gort_shutdown: here the child may not yet
     * have returned from its send. */
    if (gort_go(child, &r->c, sizeof r->c, NULL) == GORT_OK)
        r->recv_rc = gort_chan_recv(r->c, &r->value, &r->ok);
}

int main(void) {
    char header_version[32];
    struct result r = {NULL, -1, 0, 0};
    int rc;

    snprintf(header_version, sizeof header_version, "%d.%d.%d", GORT_VERSION_MAJOR,
             GORT_VERSION_MINOR, GORT_VERSION_PATCH);
    if (strcmp(gort_version(), header_version) != 0) {
        fprintf(stderr, "consumer: library %s, header %s\n", gort_version(), header_version);
        return 1;
    }
    if ((rc = gort_init(NULL)) != GORT_OK || (rc = gort_main(main_goroutine, &r)) != GORT_OK ||
        (rc = gort_shutdown()) != GORT_OK) {
        fprintf(stderr, "consumer: %s\n", gort_strerror(rc));
        return 1;
    }
    if (r.c != NULL && gort_chan_free(r.c) != GORT_OK) {
        fprintf(stderr, "consumer: gort_chan_free failed\n");
        return 1;
    }
    if (r.recv_rc != GORT_OK || !r.ok || r.value != 4242) {
        fprintf(stderr, "consumer: goroutine did not run (recv %d ok %d value %d)\n", r.recv_rc,
                r.ok, r.value);
        return 1;
    }
    printf("gort %s\n", gort_version());
    return 0;
}
