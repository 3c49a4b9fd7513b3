/* echo_client.c — sends each line of stdin to an echo server and prints the echo.
 *
 * Shows: gn_dial, stdin as a connection (gn_conn_from_fd: a pipe or a terminal
 * is read through the poller, so waiting for input parks only this coroutine,
 * never the thread; a regular file just reads), gn_bufreader (read_line) over
 * gn_conn_reader and gn_bufwriter over gn_conn_writer, and a read deadline on
 * the reply (gn_set_read_deadline: GN_ETIMEDOUT if no echo comes in 10 s).
 *
 *   cc -O2 examples/echo_client.c -o echo_client -pthread
 *   ./echo & printf 'hello\nworld\n' | ./echo_client [ADDR]; kill %1
 *
 * ADDR defaults to 127.0.0.1:7000, where examples/echo.c listens.             */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int status = 0;

static void fail(const char *what, int64_t rc) {
    fprintf(stderr, "echo_client: %s: %s\n", what, gn_strerror((int)rc));
    status = 1;
}

static void app(void *arg) {
    const char *addr = (const char *)arg;
    gn_conn *conn, *in;
    int64_t rc = gn_dial(&conn, "tcp", addr);
    if (rc < 0) { fail(addr, rc); return; }
    /* A duplicate of stdin: the gn_conn owns (and closes) it; fd 0 stays open. */
    int fd = dup(0);
    if (fd < 0 || (rc = gn_conn_from_fd(&in, fd)) < 0) {
        fail("stdin", fd < 0 ? GN_EINVAL : rc);
        gn_close(conn);
        return;
    }
    char inbuf[4096], netbuf[4096], outbuf[4096];
    gn_bufreader lines, echoes;
    gn_bufwriter out;
    gn_bufreader_init(&lines, gn_conn_reader, in, inbuf, sizeof inbuf);
    gn_bufreader_init(&echoes, gn_conn_reader, conn, netbuf, sizeof netbuf);
    gn_bufwriter_init(&out, gn_conn_writer, conn, outbuf, sizeof outbuf);

    for (;;) {
        /* One line of stdin; a line longer than the buffer comes in pieces.   */
        const char *p;
        int more = 1;
        while (more) {
            rc = gn_bufreader_read_line(&lines, &p, &more);
            if (rc < 0) goto done;                      /* GN_EOF: all sent    */
            if ((rc = gn_bufwriter_write(&out, p, (size_t)rc)) < 0) { fail("send", rc); goto done; }
        }
        if ((rc = gn_bufwriter_write_byte(&out, '\n')) < 0 || (rc = gn_bufwriter_flush(&out)) < 0) {
            fail("send", rc);
            goto done;
        }
        /* Its echo, up to the newline.                                        */
        gn_set_read_deadline(conn, gn_now() + 10 * GN_SECOND);
        more = 1;
        while (more) {
            rc = gn_bufreader_read_line(&echoes, &p, &more);
            if (rc < 0) { fail("receive", rc); goto done; }   /* GN_EOF: server gone */
            fwrite(p, 1, (size_t)rc, stdout);
        }
        putchar('\n');
        fflush(stdout);
    }
done:
    if (rc < 0 && rc != GN_EOF && status == 0) fail("stdin", rc);
    gn_close(in);
    gn_close(conn);
}

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7000";
    /* gn_conn_from_fd makes the descriptor non-blocking, and a dup shares that
     * flag with fd 0: put it back on the way out, for the shell's sake.      */
    int flags = fcntl(0, F_GETFL);
    int rc = gn_main(app, (void *)addr);
    if (flags >= 0) fcntl(0, F_SETFL, flags);
    return rc != 0 ? 1 : status;
}
