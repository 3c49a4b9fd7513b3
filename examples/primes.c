/* primes.c — Go's concurrent prime sieve: a chain of coroutines joined by channels.
 *
 * Shows: gn_main, gn_go, unbuffered channels (gn_chan_new / send / recv /
 * close), and that thousands of coroutines cost little. A generator sends
 * 2, 3, 4, ...; each prime found adds a filter coroutine to the chain that
 * drops multiples of that prime.
 *
 *   cc -O2 examples/primes.c -o primes -pthread && ./primes 1000
 */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct { gn_chan *in, *out; int prime; } filter_args;

static void generate(void *arg) {
    gn_chan *out = (gn_chan *)arg;
    for (int i = 2;; i++)
        if (gn_chan_send(out, &i) != 0) return;   /* closed: the sieve is done */
}

static void filter(void *arg) {
    filter_args *f = (filter_args *)arg;
    int n;
    while (gn_chan_recv(f->in, &n) == 0)
        if (n % f->prime != 0 && gn_chan_send(f->out, &n) != 0) break;
    gn_chan_close(f->in);   /* tell the stage before us to stop */
}

static void sieve(void *arg) {
    int count = *(int *)arg;
    gn_chan *first = gn_chan_new(sizeof(int), 0);
    gn_chan **chans = (gn_chan **)calloc((size_t)count + 1, sizeof *chans);
    filter_args *filters = (filter_args *)calloc((size_t)count, sizeof *filters);
    if (!first || !chans || !filters) {
        fprintf(stderr, "out of memory\n");
        return;
    }
    chans[0] = first;
    gn_go(generate, first);
    for (int i = 0; i < count; i++) {
        int prime;
        gn_chan_recv(chans[i], &prime);
        printf("%d\n", prime);
        chans[i + 1] = gn_chan_new(sizeof(int), 0);
        filters[i] = (filter_args){chans[i], chans[i + 1], prime};
        gn_go(filter, &filters[i]);
    }
    /* Shut the chain down from the end: each filter closes its input in turn.  */
    gn_chan_close(chans[count]);
    while (gn_num_goroutine() > 1) gn_sleep(GN_MILLISECOND);
    for (int i = 0; i <= count; i++) gn_chan_free(chans[i]);
    free(chans);
    free(filters);
}

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 100;
    if (count < 1) count = 1;
    return gn_main(sieve, &count);
}
