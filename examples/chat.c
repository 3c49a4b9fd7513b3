/* chat.c — a TCP chat room: every line a client sends goes to every other client.
 *
 * Shows Go's "share memory by communicating": one hub coroutine owns the list
 * of clients and nobody else touches it; connections talk to it over channels
 * (join, leave, say). Each client has a reader coroutine (bufio lines from the
 * socket to the hub) and a writer coroutine (its own buffered channel to the
 * socket), so a slow client never holds up the room: when its queue is full the
 * hub drops it, as a Go chat server would.
 *
 *   cc -O2 examples/chat.c -o chat -pthread && ./chat [ADDR]
 *
 * ADDR defaults to 127.0.0.1:7001. Try two terminals with `nc 127.0.0.1 7001`,
 * or examples/echo_client.c. Commands: "/nick NAME", "/who", "/quit".         */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <stdio.h>
#include <stdlib.h>

#define LINE_MAX_BYTES 512
#define QUEUE          64     /* lines a client may lag behind before it is dropped */

typedef struct client {
    gn_conn       *conn;
    gn_chan       *out;        /* char * lines (malloc'd) for the writer            */
    char           nick[32];
    struct client *next;       /* the hub's list: only the hub touches it           */
} client;

typedef struct msg {
    client *from;              /* NULL: from the server                             */
    char   *text;              /* malloc'd, ends in '\n'                            */
} msg;

static gn_chan *joins, *leaves, *says;    /* client *, client *, msg             */

/* ---- the hub: the only owner of the client list ---------------------------------- */
static void deliver(client *to, const char *text) {
    size_t n = strlen(text);
    char *copy = (char *)malloc(n + 1);
    if (!copy) return;
    memcpy(copy, text, n + 1);
    if (gn_chan_try_send(to->out, &copy) != 0) {   /* full: too slow, drop it */
        free(copy);
        gn_set_read_deadline(to->conn, 1);          /* a past deadline: its reader leaves */
    }
}

static void hub(void *arg) {
    (void)arg;
    client *all = NULL;
    for (;;) {
        client *c;
        msg m;
        gn_select_case cases[3] = {{joins, GN_RECV, &c, 0},
                                   {leaves, GN_RECV, &c, 0},
                                   {says, GN_RECV, &m, 0}};
        char line[LINE_MAX_BYTES + 64];
        switch (gn_select(cases, 3)) {
        case 0:
            c->next = all;
            all = c;
            snprintf(line, sizeof line, "* %s joined\n", c->nick);
            for (client *o = all; o; o = o->next) deliver(o, line);
            break;
        case 1:
            for (client **pp = &all; *pp; pp = &(*pp)->next)
                if (*pp == c) { *pp = c->next; break; }
            snprintf(line, sizeof line, "* %s left\n", c->nick);
            for (client *o = all; o; o = o->next) deliver(o, line);
            gn_chan_close(c->out);   /* the writer drains, then ends and frees c */
            break;
        case 2:
            if (strcmp(m.text, "/who\n") == 0) {
                for (client *o = all; o; o = o->next) {
                    snprintf(line, sizeof line, "* here: %s\n", o->nick);
                    deliver(m.from, line);
                }
            } else if (strncmp(m.text, "/nick ", 6) == 0) {
                char old[32];
                snprintf(old, sizeof old, "%s", m.from->nick);
                snprintf(m.from->nick, sizeof m.from->nick, "%.*s", (int)strcspn(m.text + 6, "\r\n"), m.text + 6);
                snprintf(line, sizeof line, "* %s is now %s\n", old, m.from->nick);
                for (client *o = all; o; o = o->next) deliver(o, line);
            } else {
                snprintf(line, sizeof line, "%s: %s", m.from->nick, m.text);
                for (client *o = all; o; o = o->next)
                    if (o != m.from) deliver(o, line);
            }
            free(m.text);
            break;
        default:
            return;
        }
    }
}

/* ---- one client --------------------------------------------------------------------- */
static void writer(void *arg) {
    client *c = (client *)arg;
    char *line;
    int ok = 1;
    while (gn_chan_recv(c->out, &line) == 0) {   /* until the hub closes out */
        if (ok && gn_write(c->conn, line, strlen(line)) < 0) ok = 0;
        free(line);
    }
    gn_close(c->conn);
    gn_chan_free(c->out);
    free(c);
}

static void reader(void *arg) {
    client *c = (client *)arg;
    gn_bufreader *in = gn_bufreader_new(gn_conn_reader, c->conn, LINE_MAX_BYTES);
    gn_chan_send(joins, &c);
    const char *line;
    int64_t n;
    int prefix = 0, skipping = 0;
    while (in && (n = gn_bufreader_read_line(in, &line, &prefix)) >= 0) {
        if (skipping || prefix) {   /* a line longer than the buffer: ignored */
            skipping = prefix;
            continue;
        }
        if (n == 5 && memcmp(line, "/quit", 5) == 0) break;
        if (n == 0) continue;
        msg m = {c, (char *)malloc((size_t)n + 2)};
        if (!m.text) break;
        memcpy(m.text, line, (size_t)n);
        memcpy(m.text + n, "\n", 2);
        gn_chan_send(says, &m);
    }
    gn_bufreader_free(in);
    gn_chan_send(leaves, &c);   /* the hub closes c->out; the writer cleans up */
}

static void app(void *arg) {
    const char *addr = (const char *)arg;
    joins = gn_chan_new(sizeof(client *), 0);
    leaves = gn_chan_new(sizeof(client *), 0);
    says = gn_chan_new(sizeof(msg), 64);
    gn_go(hub, NULL);
    gn_listener *l;
    int rc = gn_listen(&l, "tcp", addr);
    if (rc < 0) {
        fprintf(stderr, "chat: listen %s: %s\n", addr, gn_strerror(rc));
        exit(1);
    }
    fprintf(stderr, "chat: listening on %s\n", addr);
    for (int id = 1;; id++) {
        gn_conn *conn;
        if ((rc = gn_accept(l, &conn)) < 0) break;
        client *c = (client *)calloc(1, sizeof *c);
        if (!c || !(c->out = gn_chan_new(sizeof(char *), QUEUE))) {
            free(c);
            gn_close(conn);
            continue;
        }
        c->conn = conn;
        snprintf(c->nick, sizeof c->nick, "guest%d", id);
        gn_go(writer, c);
        gn_go(reader, c);
    }
    fprintf(stderr, "chat: accept: %s\n", gn_strerror(rc));
}

int main(int argc, char **argv) {
    return gn_main(app, (void *)(argc > 1 ? argv[1] : "127.0.0.1:7001")) < 0;
}
