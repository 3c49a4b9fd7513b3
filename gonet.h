/* gonet.h v0.1.0 (2026-11-22) — Go's concurrency and networking model for C, in one header.
   MIT licence at the end of the file.

   Do this in exactly one .c file:
       #define GONET_IMPLEMENTATION
       #include "gonet.h"
   and include "gonet.h" without the define wherever else you call it. Build with
       cc -O2 app.c -o app -pthread           (Linux; glibc 2.34+ needs no -pthread)
       x86_64-w64-mingw32-gcc -O2 app.c -o app.exe -lws2_32 -lmswsock -lsynchronization
                                              (Windows x64, MinGW-w64 or clang)
       cl /O2 /std:c11 app.c                  (Windows x64, MSVC; C++ too; it links
                                              its libraries by #pragma comment)

   CONTENTS
     1. Quick start
     2. Configuration macros
     3. Concepts: G, P, M, and what "a coroutine may change threads" means for you
     4. Runtime and coroutines        gn_main gn_run gn_go gn_yield gn_sleep gn_pin
     5. Blocking calls                gn_blocking gn_blocking_enter/exit
     6. Channels and select           gn_chan_* gn_select*
     7. Sync and context              gn_mutex gn_rwmutex gn_waitgroup gn_cond gn_once gn_context_*
     8. Timers                        gn_timer_* gn_ticker_new gn_after_func
     9. Stacks and memory             stack sizes, guard pages, a million coroutines
    10. Errors                        return codes, gn_strerror
    11. Stats and the dump            gn_stats_read gn_dump
    12. Networking                    gn_listen gn_accept gn_dial gn_read gn_write deadlines UDP bufio
                                      gn_signal_notify (Go's os/signal)
    13. HTTP                          gn_http_server_* gn_http_mux_* gn_http_do gn_http_fs_*
    14. Where gonet differs from Go
    15. Platforms

   1. QUICK START ---------------------------------------------------------------
       static void worker(void *arg) {
           gn_chan *results = arg;
           int v = 42;
           gn_sleep(10 * GN_MILLISECOND);        // parks this coroutine only
           gn_chan_send(results, &v);
       }
       static void app(void *arg) {
           gn_chan *results = gn_chan_new(sizeof(int), 0);
           for (int i = 0; i < 1000; i++) gn_go(worker, results);
           for (int i = 0, v; i < 1000; i++) gn_chan_recv(results, &v);
           gn_chan_free(results);
       }
       int main(void) { return gn_main(app, NULL); }

   2. CONFIGURATION MACROS --------------------------------------------------------
     Set before including gonet.h. "impl" means: only where GONET_IMPLEMENTATION
     is defined; "all" means: identically in every file that includes gonet.h.
       GONET_STATIC        all   off   make every function static (one-file programs)
       GONET_DLL           all   off   export (or import) the API from a shared library
       GN_MALLOC/GN_REALLOC/GN_FREE
                           impl  libc  the allocator; define all three or none
       GN_ASSERT(c)        impl  assert  internal consistency checks
       GN_STACK_SIZE       impl  65536 default coroutine stack, bytes (see 9)
       GN_MAX_PROCS        impl  256   upper bound on Ps
       GN_MAX_THREADS      impl  10000 upper bound on OS threads running coroutines:
                                       past it, a P freed by a blocking call waits
                                       for a thread to come back (Go aborts)
       GN_CTX_UCONTEXT     impl  off   use the portable ucontext switch instead of
                                       the assembly one (any CPU; much slower)
       GN_POLL_POLL        impl  0     use the portable poll() backend instead of
                                       epoll/kqueue
       GN_POLL_KQUEUE      impl  0     use the kqueue backend (the default on macOS
                                       and the BSDs; elsewhere it needs a
                                       <sys/event.h>, as the tests' shim gives)
       GN_FUTEX_EMULATED   impl  0     park threads on mutex+condition variable
                                       buckets instead of the OS futex (NetBSD
                                       always does)
       GN_CC_MSVC          impl  auto  take the path for Microsoft's cl, with no GNU
                                       extensions (see 15): on under cl, and =1
                                       forces it on MinGW-w64 gcc or clang (tests)
       GN_NO_VALGRIND      impl  off   do not tell valgrind about coroutine stacks
                                       even when <valgrind/valgrind.h> is present
       GN_FAULT_INJECTION  impl  0     for tests: every I/O system call first asks
                                       int gn__fault_hook(int call, int fd), which
                                       the program defines: 0 to go on, or an errno
                                       to fail the call with (POSIX; the
                                       >>sys-posix part lists the calls)
     At run time: GONET_MAXPROCS=n in the environment sets the number of Ps when
     gn_config.procs is 0.
     If the implementing file includes system headers before gonet.h, define
     _GNU_SOURCE first (gonet.h defines it itself when it comes first).

   3. CONCEPTS ---------------------------------------------------------------------
     A coroutine (a G, as in Go) is a function with its own stack. Write plain
     blocking code in it: every gn_ call that waits (gn_sleep, a channel
     operation, a mutex, later a socket read) parks the coroutine and lets the
     thread run another one. The runtime runs coroutines on M OS threads; at
     most P of them run at once, P being gn_config.procs (default: the CPUs this
     process may use, from its affinity mask and cgroup CPU quota). Each P has
     its own run queue; idle threads steal work from busy ones, and sleep when
     there is none. Scheduling is cooperative: a coroutine runs until it
     reaches a switch point (a gn_ call that waits, or gn_yield). A loop that
     computes for long without one holds its P (gn_stats counts such
     "long runners"); call gn_yield in it now and then.

     A coroutine may resume on a different OS thread than the one it parked on.
     This is the one rule that C code must respect:
       * errno is saved and restored by the runtime, so a coroutine keeps its
         own errno across switch points. But glibc declares errno's address
         constant, so the compiler may reuse the old thread's address after a
         switch: read errno right after the call that set it, before any gn_
         call that may switch. gonet's own functions never leave their error
         in errno; they return it. On Windows GetLastError() is kept per
         coroutine the same way.
       * Thread-local variables (_Thread_local, __thread, pthread keys, and
         library state kept per thread) are the current thread's: after a
         switch point they may be another thread's. Compilers may also keep the
         address of a thread-local in a register across a call; reading one
         after a switch point can then read the old thread's variable. Either
         do not hold thread-local state across switch points, or pin the
         coroutine to its thread with gn_pin()/gn_unpin() around that code.
         (MSVC's /GT stops cl from keeping such addresses across calls.)
       * Never hold a pthread mutex (or any lock that blocks the thread) across
         a switch point; use gn_mutex, which parks the coroutine instead.

   4. RUNTIME AND COROUTINES ---------------------------------------------------------
     gn_main(fn, arg) starts the runtime on the calling thread with default
     settings, runs fn(arg) as the first coroutine, and returns when fn returns;
     gn_run(&cfg, fn, arg) does the same with a gn_config (zero fields take
     defaults). Coroutines still blocked at that point are discarded, as when a
     Go program's main returns; the runtime waits for threads that are inside a
     blocking call (5) to come back. The runtime can be started again later,
     but only one runs at a time in a process.
     gn_go(fn, arg) spawns a coroutine and returns its id; it works from any
     thread while the runtime runs. gn_go_with adds options (stack size).
     gn_yield() lets other runnable coroutines run first. gn_sleep(d) and
     gn_sleep_until(t) park; outside a coroutine they sleep the thread.
     gn_id() is the running coroutine's id (0 outside one).
     gn_pin() keeps the calling coroutine on its thread, and other coroutines
     off it, until gn_unpin() (calls nest). Go's runtime.LockOSThread.

   5. BLOCKING CALLS ----------------------------------------------------------------
     Code that blocks its thread (a blocking read of a file, a database client
     library, a heavy computation) goes between gn_blocking_enter() and
     gn_blocking_exit(), or inside gn_blocking(fn, arg). The thread keeps
     running that coroutine, but its P is marked as in a blocking call; if the
     call lasts (from about 20 us when other work is waiting, at most 10 ms
     otherwise) the monitor thread hands the P to another thread, so the other
     coroutines keep running. On exit the coroutine gets a P back, waiting its
     turn if all are busy. Inside the section, call no gn_ function that may
     switch. Go's entersyscall/exitsyscall.

   6. CHANNELS AND SELECT -------------------------------------------------------------
     gn_chan_new(elem_size, cap) makes a channel of fixed-size elements, copied
     in and out; cap 0 is unbuffered (a send waits for a receiver). send, recv,
     close, len and cap behave as in Go, with errors instead of panics: a send
     on a closed channel returns GN_ECLOSED, a receive returns GN_ECLOSED once
     the channel is closed and drained. try_send/try_recv never wait.
     gn_select(cases, n) waits on several sends and receives and performs one,
     chosen at random among the ready ones; gn_select_try is select with a
     default case; gn_select_until adds a deadline. A case with a NULL channel
     never proceeds, as a nil channel in Go.

   7. SYNC AND CONTEXT ------------------------------------------------------------------
     gn_mutex, gn_rwmutex, gn_waitgroup, gn_cond and gn_once are usable when
     zeroed, like Go's zero values, and park the coroutine, never the thread.
     A gn_context carries cancellation and a deadline from parent to children;
     gn_context_done(ctx) is a channel that closes on cancellation, for
     gn_select. Free derived contexts with gn_context_free (which cancels them).

   8. TIMERS --------------------------------------------------------------------------------
     gn_timer_new(d) and gn_ticker_new(period) deliver gn_now() on a channel of
     capacity 1 (gn_timer_chan); gn_after_func(d, fn, arg) runs fn in a new
     coroutine. Stop and reset follow Go 1.23: once they return, no value from
     the old arming can be received. Timers live in a heap per P, run by the
     scheduler; the thread that sleeps in the poller wakes for the earliest.

   9. STACKS AND MEMORY -------------------------------------------------------------------
     Stacks have a fixed size (gn_config.stack_size, gn_go_opts.stack_size,
     default GN_STACK_SIZE = 64 KiB) and do not grow; they are reserved, not
     committed, so a coroutine costs only the pages it touches (a sleeping
     coroutine is about one 4 KiB page: its G struct lives at the top of its
     own stack). Large local arrays or deep recursion need a bigger stack.
     A guard page below each stack turns an overflow into a fault, reported as
     "gonet: stack overflow in coroutine N" before the process dies. A single
     frame larger than a page (a big local array) can jump over the guard and
     corrupt a neighbour instead; compile with -fstack-clash-protection (gcc,
     clang) so such frames touch every page on the way down and hit it.
     Linux limits mappings per process (vm.max_map_count, 65530 by default),
     and a guarded stack takes two. gn_config.stack_guard chooses:
        0 (default)  guard pages while they fit in half of that limit; after
                     that, default-size stacks come unguarded from slabs of 64
                     (a million coroutines work out of the box);
        1            always guard (spawning fails with GN_ENOMEM at the limit);
       -1            never guard: slabs only, the least memory and mappings.
     Windows does not overcommit, so there a stack is committed as it grows,
     the way the system grows a thread's stack: 8 KiB at first, then a page
     at a time through a guard page; a parked coroutine takes 12 KiB of
     commit (20 with its overflow guard), not its whole stack.
     Stacks of finished coroutines are kept for reuse until the runtime stops.

  10. ERRORS --------------------------------------------------------------------------------
     Functions return >= 0 on success and a negative code on failure: GN_EOF,
     GN_ETIMEDOUT, GN_ECLOSED, GN_ECANCELED, GN_EAGAIN, GN_ENOMEM, GN_EINVAL,
     GN_ESTATE, GN_ENOSYS, or -errno for an operating-system error.
     gn_strerror(code) describes any of them. A NULL or out-of-range argument
     is GN_EINVAL, never a crash.

  11. STATS AND THE DUMP --------------------------------------------------------------------
     gn_stats_read(&st) fills counters kept per P (so cheap to leave on):
     coroutines alive and created, context switches, parks, steals, threads,
     blocking calls and hand-offs, long runners, pending timers, poller calls.
     For a program that seems stuck, gn_dump(write, ctx) writes one line per
     live coroutine: its id, state, what it waits on (a channel or lock by
     address, an fd) and for how long, its function and who spawned it:
         coroutine 7 [chan receive, 1520 ms]: on 0x55d0c2a4e2c0, fn 0x55d0..
     With gn_config.quit_dump = 1, `kill -QUIT <pid>` writes the same to
     stderr within 10 ms (the handler only flags it; the monitor thread
     writes) and the program goes on (Go prints its stacks and exits; a server
     being diagnosed should not die of it). examples/stats.c serves it at
     GET /coroutines.

  12. NETWORKING ----------------------------------------------------------------------------
     Go's net, for coroutines. gn_listen(&l, "tcp", ":8080") and gn_accept give
     connections; gn_dial(&c, "tcp", "example.org:80") connects (names resolve
     through gn_blocking, so other coroutines keep running; every address of a
     name is tried in turn). gn_read returns what is there (GN_EOF at the end);
     gn_write writes everything or fails. Networks: tcp, tcp4, tcp6, unix, udp,
     udp4, udp6, unixgram; ":port" listens on every interface, IPv6 and IPv4.
     Deadlines work as in Go: absolute instants, settable from any coroutine at
     any time, applied to an operation already blocked, GN_ETIMEDOUT once passed,
     and a connection is usable again once its deadline is moved later.
     gn_close wakes coroutines blocked on the connection with GN_ECLOSED; the
     descriptor itself is closed when the last of them has returned, so a
     reused descriptor number is never touched. Start no call after gn_close.
     Under the hood every descriptor is non-blocking and registered once with
     epoll, edge-triggered. An operation tries its system call first and parks
     only on EAGAIN; a short read marks the socket drained, so the next read
     waits for readiness instead of spending a system call on EAGAIN.
     gn_accept rides out descriptor exhaustion (EMFILE) by backing off, 5 ms
     doubling to 1 s. Writes to sockets never raise SIGPIPE (MSG_NOSIGNAL;
     SO_NOSIGPIPE on macOS); writes to a pipe wrapped with gn_conn_from_fd
     can, as in C: ignore SIGPIPE if that matters to you.
     Decisions where Go and C part ways: ports are numbers (0-65535, no service
     names); a zero-length gn_read returns 0 at once; on UDP an empty datagram
     is a datagram (gn_write of 0 bytes sends one, gn_read of one returns 0);
     an IPv4 peer of a dual-stack socket is printed "127.0.0.1:p", as in Go.
     A dial with a context is cut short when the context ends (GN_ECANCELED or
     GN_ETIMEDOUT, from gn_context_err).

     bufio (Go's bufio) buffers any gn_read_func / gn_write_func: gn_conn_reader
     and gn_conn_writer adapt a connection; pipes, files and memory supply their
     own. gn_bufreader_init over your buffer (at least GN_BUFREADER_MIN_SIZE,
     16 bytes) or gn_bufreader_new (one allocation, gn_bufreader_free); _reset
     switches the source and keeps the buffer. Where Go returns data and an error
     together, a C call returns the data, and the error comes from the next call
     that needs input; the exceptions are peek, read_slice (GN_EBUFFULL when the
     buffer fills with no delimiter) and read_full (GN_EUNEXPECTEDEOF for a short
     input). read_line gives lines longer than the buffer in pieces (is_prefix);
     read_bytes and read_string return malloc'd copies. The writer's first error
     sticks; gn_bufwriter_free does not flush. Neither is safe for concurrent
     use. A read that fills the buffer exactly costs one more read (EAGAIN) next
     time, since only a short read proves the socket empty.

     Signals (Go's os/signal): gn_signal_notify(c, SIGTERM) sends the signal
     number (an int) to channel c without blocking, so give c a buffer; several
     channels may watch one signal. gn_signal_stop(c), gn_signal_ignore(signo)
     and gn_signal_reset(signo) are Go's Stop, Ignore and Reset. A signal nobody
     watches gets back its former disposition, and so does every signal when the
     run ends. The runtime's own threads block asynchronous signals: send them to
     the process (kill), not to a thread of the runtime.

  13. HTTP --------------------------------------------------------------------------------
     HTTP/1.1 in the shape of Go's net/http. A handler is
         void handler(gn_http_response *w, gn_http_request *r, void *ud);
     it runs in the connection's coroutine and may block freely. Serve with
         gn_http_server_opts o = {0};  o.handler = handler;  o.ud = ...;
         gn_http_server *s = gn_http_server_new(&o);
         gn_http_listen_and_serve(s, ":8080");      // or gn_http_serve(s, listener)
     and stop with gn_http_shutdown(s, deadline): listeners close, idle
     connections close, active ones finish their response (with
     "Connection: close") and are waited for until deadline, then cut. A
     connection that has not sent its first request yet counts as active,
     as in Go: one whose request arrives before the deadline is answered.
     Options left at 0 take safe defaults (Go's zero means "no timeout", which
     leaves a server open to slowloris): read header 10 s, read 60 s, write 60 s,
     idle 120 s, 16 KiB of request head (431 beyond), 64 MiB of body (413).
       The request: method, target, decoded path, raw query, host, remote
     address, headers (case-insensitive lookup, repeats kept), path values of
     the mux pattern, query values, and the body as a stream
     (gn_http_body_read, Content-Length or chunked; "100 Continue" is sent on
     the first read when the client asked for it). Strings live until the
     handler returns. gn_http_request_context is cancelled when the handler
     returns or the client goes away.
       The response: set/add/del headers until the first write; write_header;
     write; flush. A response that fits the write buffer (4 KiB) goes out with
     a Content-Length in one system call with its head; a longer one is
     streamed chunked (HTTP/1.0: until close) unless the handler set a
     Content-Length. Date is added; Content-Type is sniffed (HTML, JSON, text,
     binary) when not set; HEAD gets the headers of GET; a handler that writes
     nothing sends an empty 200. gn_http_error and gn_http_redirect are Go's.
     gn_http_hijack hands the raw connection over (the server still counts it
     until it is closed; shutdown waits for it).
       The wire: keep-alive and pipelining (responses in order; responses to
     requests already buffered go out together). A strict parser: request
     smuggling shapes (Content-Length with Transfer-Encoding, differing lengths,
     bad chunk sizes, obs-fold, bare CR), control characters, a path with a
     malformed %-escape and oversized heads get their 4xx (or 501/505) and a
     closed connection. An unread body
     is drained (up to 256 KiB) or the connection closed, as Go does.
       Cost: an idle keep-alive connection holds no coroutine and no buffer:
     it waits in the poller, which starts a coroutine when bytes arrive; so
     does a new connection until its first bytes (a crowd of silent
     connections costs about 1 KiB each until read_header_timeout). A
     request on a warm connection allocates nothing and costs one read and
     one write.
       The mux (gn_http_mux_*) takes Go 1.22 patterns: "[METHOD ][HOST]/path"
     with {name}, {name...} and {$}; the most specific pattern wins, conflicts
     are refused at registration (GN_ECONFLICT, gn_http_mux_error says why),
     GET serves HEAD, 405 comes with Allow, 404, and unclean paths or "/dir"
     for "/dir/" redirect. Register every pattern before serving.
       Middleware is a handler that wraps a handler, its settings and the next
     handler in its ud (see examples/fileserver.c for logging).
     gn_http_timeout_serve is Go's TimeoutHandler: a 503 when the wrapped
     handler is late, whose context is then cancelled. Static files:
     gn_http_fs_new(root) and the handler gn_http_fs_serve.
       The client (gn_http_do, gn_http_get) keeps per-host pools of keep-alive
     connections, with dial, response-header and overall timeouts, optional
     redirects, and streams bodies both ways. No TLS: "https" is GN_ENOSYS.

     Bounds. Nothing queues without a limit; what bounds each queue:
       run queues      256 Gs per P, the rest on the global list; a G is on at
                       most one, so all are bounded by the coroutines the
                       program made (as in Go).
       channels        the capacity given to gn_chan_new; blocked senders and
                       receivers are coroutines, one waiter each.
       timers          one heap entry per pending timer, sleep or deadline.
       threads         one per P, plus one per blocking call that outlasted its
                       P, up to GN_MAX_THREADS.
       signals         one pending bit per signal: repeats coalesce (as Go's).
       poller          one descriptor per open fd, reused after close.
       server          connections: max_conns (the rest wait in the kernel's
                       listen backlog). Per active connection: a read buffer
                       of max_header_bytes + 4 KiB, write_buffer_size, 6 KiB of
                       head and header space, and the coroutine's stack; an
                       idle keep-alive connection, or a new one that has sent
                       nothing yet, holds about 1 KiB and no coroutine. Pipelined requests beyond the read buffer
                       wait in the socket (TCP flow control), never in memory;
                       headers: 100 fields, max_header_bytes (431); bodies:
                       max_body_bytes (413), chunk framing overhead limited;
                       an unread body is drained up to 256 KiB, else the
                       connection is closed. Each phase has its timeout.
                       64 free connection blocks are kept for reuse.
       client          max_idle_per_host pooled connections per host, closed
                       after idle_conn_timeout; max_conns_per_host open (the
                       rest wait, each in its caller's coroutine); a response
                       head of at most max_header_bytes.

  14. WHERE GONET DIFFERS FROM GO -----------------------------------------------------------
     * No preemption: a coroutine that never reaches a switch point keeps its P.
       Signals cannot safely interrupt C code (malloc, locks), so this is a choice.
     * Fixed-size stacks (see 9) instead of growing ones.
     * Errors are return codes; where Go panics (send on a closed channel,
       negative WaitGroup counter, unlock of an unlocked mutex) gonet returns
       GN_ECLOSED, GN_EINVAL or GN_ESTATE.
     * The floating-point environment (rounding mode) belongs to the thread,
       as in Go, so a coroutine that changes it must restore it before its
       next switch point.

  15. PLATFORMS -----------------------------------------------------------------------------
     Linux on x86_64 and aarch64 (assembly context switch, epoll), and any
     other Linux CPU with GN_CTX_UCONTEXT. macOS, FreeBSD, DragonFly, OpenBSD
     and NetBSD have their OS layer (os_darwin.c, os_bsd.c) and the kqueue
     poller, which the tests run on Linux over an epoll shim. Their network,
     signal and file-server code takes each system's own calls (below). It
     is syntax-checked for each of them (clang -target, over stand-in
     headers) but neither built with their SDKs nor run there: treat those
     ports as untested. What differs there:
       macOS      sockets get O_NONBLOCK and FD_CLOEXEC by fcntl after
                  socket()/accept() (no SOCK_NONBLOCK, no accept4), and
                  SO_NOSIGPIPE instead of MSG_NOSIGNAL (also on descriptors
                  given to gn_conn_from_fd); a fork on another thread right
                  between the two calls can leak a descriptor into a child
                  that execs. Keep-alive idle time is TCP_KEEPALIVE. The
                  file server finds its root's real path with F_GETPATH and
                  checks paths with realpath plus an inode check.
       FreeBSD    SO_REUSEPORT_LB for reuse_port (connections shared out);
                  the file server opens with O_RESOLVE_BENEATH (13.0 on);
                  signals up to 126 (the real-time ones) can be watched.
       OpenBSD,   IPv6 sockets are IPv6-only: ":port" over "tcp"/"udp" is
       DragonFly  IPv4 only, as in Go (add a "tcp6" "[::]:port" listener).
       OpenBSD    gn_set_keepalive sets SO_KEEPALIVE only: the period is the
                  system's (net.inet.tcp.keepidle); Go returns ENOPROTOOPT.
       OpenBSD,   an IPv4 multicast group is joined by the interface's IPv4
       NetBSD     address (ip_mreq), as Go does.
       macOS,     reuse_port lets listeners share a port, but the kernel
       OpenBSD,   hands every connection to one of them (DragonFly shares
       NetBSD     them out or not by a system-wide setting).
       OpenBSD,   the file server checks paths with realpath plus an inode
       NetBSD,    check (as Linux does without openat2) and takes its root's
       DragonFly  real path from the root's name.
     Windows x64: an I/O completion port in completion mode (every read,
     write, accept and connect is an overlapped operation; a deadline or
     close cancels it with CancelIoEx and waits for it); sockets only for
     gn_conn_from_fd, no SO_REUSEPORT, no unixgram, "unix" from Windows 10
     1803. The tests run under wine, which
     lacks AF_UNIX, ICMP errors on UDP and symbolic links (those tests skip).
     The header is GNU C (inline assembly, __atomic builtins) for gcc and
     clang, MinGW-w64 included, with a path for Microsoft's cl on x64
     (/std:c11 or C++): the _Interlocked intrinsics for atomics, and the
     context switch as its machine code placed in .text. That path's code
     runs in the tests under wine, forced on MinGW-w64 (make
     test-windows-msvc), and clang in MSVC mode checks it as C and C++ (make
     check-msvc); cl itself has not built it yet. Link without /CETCOMPAT: a
     hardware shadow stack cannot follow a switch to another stack (true of
     both paths). clang-cl takes the GNU path and is untested.
*/

#ifndef GONET_H
#define GONET_H
#if defined(GONET_IMPLEMENTATION) && defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE 1
#endif
#if defined(GONET_IMPLEMENTATION) && defined(__APPLE__) && defined(GN_CTX_UCONTEXT)
#  if !defined(_XOPEN_SOURCE)
#    define _XOPEN_SOURCE 700
#  endif
#  if !defined(_DARWIN_C_SOURCE)
#    define _DARWIN_C_SOURCE 1
#  endif
#endif

/* ==== begin src/api_base.h ==== */
/* api_base.h — version, linkage, error codes and time: what every other part of the API uses. */

#include <stddef.h>
#include <stdint.h>

#define GONET_VERSION_MAJOR 0
#define GONET_VERSION_MINOR 1
#define GONET_VERSION_PATCH 0
#define GONET__STR2(x) #x
#define GONET__STR(x) GONET__STR2(x)
#define GONET_VERSION_STRING                                                     \
    GONET__STR(GONET_VERSION_MAJOR) "." GONET__STR(GONET_VERSION_MINOR) "."      \
    GONET__STR(GONET_VERSION_PATCH)
#define GONET_VERSION_NUMBER                                                     \
    (GONET_VERSION_MAJOR * 10000 + GONET_VERSION_MINOR * 100 + GONET_VERSION_PATCH)

#ifndef GONET_API
#  if defined(GONET_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define GONET_API static __attribute__((unused))
#  elif defined(GONET_STATIC)
#    define GONET_API static
#  elif defined(_WIN32) && defined(GONET_DLL) && defined(GONET_IMPLEMENTATION)
#    define GONET_API __declspec(dllexport)
#  elif defined(_WIN32) && defined(GONET_DLL)
#    define GONET_API __declspec(dllimport)
#  elif defined(GONET_DLL) && (defined(__GNUC__) || defined(__clang__))
#    define GONET_API __attribute__((visibility("default"))) extern
#  else
#    define GONET_API extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ------------------------------------------------------------ */
GONET_API const char *gn_version(void);   /* GONET_VERSION_STRING of the implementation */

/* ---- errors -------------------------------------------------------------
 * Every fallible function returns >= 0 on success and a negative code on failure:
 * one of these (a range no errno value reaches), or -errno for an OS error.
 * Errors are returned, never left in errno: a coroutine may resume on another
 * thread, and errno belongs to the thread.                                      */
#define GN_OK          0
#define GN_EOF        (-4001) /* end of stream: gn_read, bufio                        */
#define GN_ETIMEDOUT  (-4002) /* a deadline passed: select, dial, read, write, context */
#define GN_ECLOSED    (-4003) /* the channel or connection is closed                  */
#define GN_ECANCELED  (-4004) /* the context was cancelled                            */
#define GN_EAGAIN     (-4005) /* would block: gn_chan_try_*, gn_select_try            */
#define GN_ENOMEM     (-4006) /* an allocation failed                                 */
#define GN_EINVAL     (-4007) /* a NULL or out-of-range argument                      */
#define GN_ESTATE     (-4008) /* called in the wrong state (no runtime, not a coroutine,
                                 runtime already running, unlock of an unlocked mutex) */
#define GN_ENOSYS     (-4009) /* not supported on this platform or build              */
#define GN_EBUFFULL   (-4010) /* bufio: the buffer is full (peek, read_slice)         */
#define GN_EUNEXPECTEDEOF (-4011) /* input ended part-way: bufio read_full            */
#define GN_ENOPROGRESS (-4012) /* bufio: the source keeps returning 0 bytes           */
#define GN_EUNREAD    (-4013) /* bufio: unread_byte with no byte to step back over    */
#define GN_ENOHOST    (-4014) /* net: the name does not resolve to any address         */
#define GN_EHTTP      (-4015) /* http: a malformed message (the peer's fault)          */
#define GN_ECONFLICT  (-4016) /* http mux: the pattern conflicts with a registered one */
#define GN_ETOOLARGE  (-4017) /* http: a header block or body over its limit           */

/* A short, constant description of any code this library returns (including -errno). */
GONET_API const char *gn_strerror(int err);

/* ---- time -----------------------------------------------------------------
 * Durations and instants are int64_t nanoseconds. gn_now() reads the monotonic
 * clock; deadlines are absolute gn_now() instants, and 0 means "no deadline".   */
#define GN_NANOSECOND  ((int64_t)1)
#define GN_MICROSECOND ((int64_t)1000)
#define GN_MILLISECOND ((int64_t)1000000)
#define GN_SECOND      ((int64_t)1000000000)
#define GN_MINUTE      (60 * GN_SECOND)
#define GN_HOUR        (60 * GN_MINUTE)

GONET_API int64_t gn_now(void);           /* monotonic nanoseconds, never negative */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_base.h ==== */

/* ==== begin src/api_io.h ==== */
/* api_io.h — the small read/write interface that bufio and connections share. */

#ifdef __cplusplus
extern "C" {
#endif

/* A source of bytes: reads at most n bytes into buf and returns how many (> 0),
 * GN_EOF at the end of the stream, or a negative error. n == 0 returns 0.
 * A sink: writes all n bytes and returns n, or a negative error (then some
 * prefix may have been written). gn_conn_reader / gn_conn_writer adapt a
 * connection; any other source (a pipe, a file, memory) can supply its own.  */
typedef int64_t (*gn_read_func)(void *ctx, void *buf, size_t n);
typedef int64_t (*gn_write_func)(void *ctx, const void *buf, size_t n);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_io.h ==== */

/* ==== begin src/api_runtime.h ==== */
/* api_runtime.h — the runtime: start and stop, coroutines, blocking calls, timers, stats. */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- runtime ---------------------------------------------------------------
 * Zero-initialise a gn_config and set only what you need: every zero field
 * takes its default.                                                            */
typedef struct gn_config {
    int    procs;        /* Ps, i.e. coroutines running at once. 0: $GONET_MAXPROCS,
                            else the CPUs this process may use (affinity, cgroup quota) */
    size_t stack_size;   /* default coroutine stack, bytes. 0: GN_STACK_SIZE (64 KiB)   */
    int    stack_guard;  /* 0: guard pages while the VMA budget allows (see manual),
                            1: always, -1: never (slab-allocated stacks)               */
    int    sysmon;       /* 0: run the monitor thread; -1: do not                       */
    int    quit_dump;    /* 1: SIGQUIT writes gn_dump's report to stderr and the program
                            goes on (POSIX; needs sysmon). 0: SIGQUIT keeps its action */
} gn_config;

/* Starts the runtime on the calling thread, runs fn(arg) as the first coroutine
 * and returns when it returns: 0, or a negative code if the runtime could not
 * start (GN_ESTATE if one is already running in this process). Coroutines still
 * blocked when fn returns are discarded without running further, as when a Go
 * program's main returns. The runtime can be started again afterwards.          */
GONET_API int gn_main(void (*fn)(void *arg), void *arg);
GONET_API int gn_run(const gn_config *cfg, void (*fn)(void *arg), void *arg);

/* ---- coroutines ----------------------------------------------------------- */
typedef struct gn_go_opts {
    size_t stack_size;   /* 0: the runtime's default                                   */
} gn_go_opts;

/* Spawns fn(arg) as a new coroutine. Returns its id (> 0) or GN_ENOMEM,
 * GN_ESTATE (no runtime), GN_EINVAL (fn is NULL). Callable from any thread
 * while the runtime runs, including threads it did not create.               */
GONET_API int64_t gn_go(void (*fn)(void *arg), void *arg);
GONET_API int64_t gn_go_with(void (*fn)(void *arg), void *arg, const gn_go_opts *opts);

GONET_API void    gn_yield(void);          /* let other runnable coroutines run       */
/* Parks the coroutine for d ns (until the deadline); outside a coroutine it
 * sleeps the calling thread. 0, or GN_ENOMEM.                                    */
GONET_API int     gn_sleep(int64_t d);
GONET_API int     gn_sleep_until(int64_t deadline);
GONET_API int64_t gn_id(void);             /* this coroutine's id, 0 outside one       */
GONET_API int     gn_num_goroutine(void);  /* coroutines that exist now                */
GONET_API int     gn_procs(void);          /* Ps of the running runtime, 0 if none     */

/* Pinning keeps the calling coroutine on its current OS thread, and keeps every
 * other coroutine off that thread, until the matching gn_unpin (calls nest):
 * for code that uses thread-local state across a switch point.                  */
GONET_API int gn_pin(void);
GONET_API int gn_unpin(void);

/* ---- blocking calls ----------------------------------------------------------
 * Wrap code that blocks its thread (file I/O, a blocking library call) so that
 * the other coroutines keep running: the thread gives its P away if the call
 * takes long. Between enter and exit, call no gn_ function that may switch.    */
GONET_API void gn_blocking_enter(void);
GONET_API void gn_blocking_exit(void);
GONET_API void gn_blocking(void (*fn)(void *arg), void *arg);

/* ---- timers ------------------------------------------------------------------
 * Go's time.Timer, time.Ticker and time.AfterFunc. A channel timer delivers the
 * gn_now() of its firing, an int64_t, on a channel of capacity 1 (gn_timer_chan).
 * After gn_timer_stop or gn_timer_reset returns, no value from before it can be
 * received (Go 1.23 semantics). A func timer runs fn(arg) in a new coroutine.
 * The timer owns its channel; gn_timer_free stops the timer and frees both.
 * The constructors return NULL on ENOMEM, for a ticker period <= 0, or when no
 * runtime runs. Durations too large to add to gn_now() saturate.               */
typedef struct gn_timer gn_timer;
typedef struct gn_chan  gn_chan;

GONET_API gn_timer *gn_timer_new(int64_t d);                   /* fires once after d   */
GONET_API gn_timer *gn_ticker_new(int64_t period);             /* every period (> 0)   */
GONET_API gn_timer *gn_after_func(int64_t d, void (*fn)(void *arg), void *arg);
GONET_API gn_chan  *gn_timer_chan(gn_timer *t);                 /* NULL for func timers */
GONET_API int  gn_timer_stop(gn_timer *t);   /* 1 if it stopped a pending firing, 0 if
                                                none was pending, GN_EINVAL on NULL     */
GONET_API int  gn_timer_reset(gn_timer *t, int64_t d);  /* re-arm; same result as stop;
                                                for a ticker d becomes the period too    */
GONET_API void gn_timer_free(gn_timer *t);

/* ---- stats ------------------------------------------------------------------
 * Counters since gn_run started; cheap enough to leave on. Read at any time
 * from any thread; each field is exact, the set is not an atomic snapshot.     */
typedef struct gn_stats {
    int64_t goroutines;         /* alive now                                         */
    int64_t goroutines_created;
    int64_t context_switches;
    int64_t parks;              /* coroutines that blocked (channel, sleep, lock...) */
    int64_t steals;             /* steal operations that took work                  */
    int64_t procs;              /* Ps                                                */
    int64_t threads;            /* Ms: OS threads that run coroutines                */
    int64_t threads_idle;
    int64_t blocking_calls;     /* gn_blocking_enter calls                          */
    int64_t handoffs;           /* Ps taken from threads stuck in a blocking call   */
    int64_t long_runners;       /* times a coroutine ran > 10 ms without switching  */
    int64_t timers;             /* pending timers, sleeps included                  */
    int64_t polls;              /* poller calls                                     */
} gn_stats;

GONET_API void gn_stats_read(gn_stats *out);   /* all zeros when no runtime runs */

/* ---- the coroutine dump ------------------------------------------------------
 * For a stuck program: one line per live coroutine, in id order, saying what it
 * is doing and, when parked, on what and for how long, e.g.
 *     coroutine 7 [chan receive, 1520 ms]: on 0x55d0c2a4e2c0, fn 0x55d0c0a01a30,
 *         spawned by 1, stack 912 of 65536 bytes
 *     coroutine 9 [read, 12 ms]: fd 7, ...
 * after a first line with the totals. Durations come from the monitor thread's
 * clock (10 ms resolution; none when it is off). fn is the coroutine's function
 * (addr2line or gdb's `info symbol` names it). Writes the report through w and
 * returns the number of coroutines listed, GN_ESTATE when no runtime runs,
 * GN_EINVAL for a NULL w, GN_ENOMEM, or the first error w returned. Callable from
 * any thread and from a coroutine (never from a signal handler: see quit_dump).  */
GONET_API int gn_dump(gn_write_func w, void *ctx);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_runtime.h ==== */

/* ==== begin src/api_chan.h ==== */
/* api_chan.h — channels and select, Go's chan and select statement. */

#ifdef __cplusplus
extern "C" {
#endif

/* A channel carries elements of a fixed size, copied in and out with memcpy.
 * cap 0 is unbuffered: a send waits for its receiver. Safe from any coroutine
 * on any thread. The creator owns it and frees it with gn_chan_free once no
 * coroutine can touch it any more (after gn_run returns, a channel that still
 * had waiters may be freed but not used). Every function returns GN_EINVAL
 * for a NULL channel, and GN_ESTATE when it would have to wait outside a
 * coroutine; the try_ forms work from any thread.                              */
GONET_API gn_chan *gn_chan_new(size_t elem_size, size_t cap);  /* NULL on ENOMEM or
                                                  elem_size > 65536 */
GONET_API void   gn_chan_free(gn_chan *c);

/* 0 when sent; GN_ECLOSED if the channel is closed (the value is not sent). */
GONET_API int    gn_chan_send(gn_chan *c, const void *elem);
/* 0 when a value was received into elem (elem may be NULL to discard it);
 * GN_ECLOSED once the channel is closed and drained (elem is zeroed).       */
GONET_API int    gn_chan_recv(gn_chan *c, void *elem);
/* The same, but GN_EAGAIN instead of waiting.                                */
GONET_API int    gn_chan_try_send(gn_chan *c, const void *elem);
GONET_API int    gn_chan_try_recv(gn_chan *c, void *elem);
/* Receivers drain what is buffered, then get GN_ECLOSED; waiting senders get
 * GN_ECLOSED. Returns 0, or GN_ECLOSED if it was closed already.            */
GONET_API int    gn_chan_close(gn_chan *c);
GONET_API size_t gn_chan_len(gn_chan *c);
GONET_API size_t gn_chan_cap(gn_chan *c);

/* ---- select ------------------------------------------------------------------
 * Waits until one case can proceed and performs it; when several can, one is
 * chosen uniformly at random, as in Go. A case with a NULL channel never
 * proceeds. Returns the index of the chosen case and sets its result field:
 * 0, or GN_ECLOSED for a receive from a closed, drained channel or a send to a
 * closed channel (where Go panics).                                           */
enum { GN_RECV = 0, GN_SEND = 1 };

typedef struct gn_select_case {
    gn_chan *chan;
    int      op;        /* GN_RECV or GN_SEND                                  */
    void    *elem;      /* where a received value goes (may be NULL), or the
                           value to send                                       */
    int      result;    /* set for the chosen case: 0 or GN_ECLOSED            */
} gn_select_case;

/* GN_EINVAL if n is 0 or every channel is NULL (Go would block forever).      */
GONET_API int gn_select(gn_select_case *cases, int n);
/* With a default case: GN_EAGAIN when no case is ready now.                   */
GONET_API int gn_select_try(gn_select_case *cases, int n);
/* GN_ETIMEDOUT if no case proceeds before the absolute deadline (0: none).     */
GONET_API int gn_select_until(gn_select_case *cases, int n, int64_t deadline);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_chan.h ==== */

/* ==== begin src/api_sync.h ==== */
/* api_sync.h — Go's sync package and context: they park the coroutine, never the thread.
 *
 * Mutex, RWMutex, WaitGroup, Cond and Once are plain structs: embed them, and a
 * zeroed one is ready to use (like Go's zero values; GN_MUTEX_INIT and friends
 * spell that out). Their fields are private. None may be copied once used.
 * Called from a thread outside the runtime, a lock spins with sched_yield and
 * a cond wait returns at once (a spurious wake-up).                            */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gn__waitq { void *head, *tail; } gn__waitq;

typedef struct gn_mutex {
    uint32_t state_, lock_;
    gn__waitq waiters_;
} gn_mutex;
#define GN_MUTEX_INIT {0, 0, {0, 0}}

GONET_API void gn_mutex_lock(gn_mutex *m);
GONET_API int  gn_mutex_trylock(gn_mutex *m);   /* 1 if locked, 0 if held elsewhere  */
GONET_API int  gn_mutex_unlock(gn_mutex *m);    /* 0, or GN_ESTATE if not locked      */

typedef struct gn_rwmutex {
    uint32_t lock_;
    int32_t  readers_, writer_, writers_waiting_;
    gn__waitq rwait_, wwait_;
} gn_rwmutex;
#define GN_RWMUTEX_INIT {0, 0, 0, 0, {0, 0}, {0, 0}}

/* A waiting writer blocks new readers, so writers are not starved (as in Go). */
GONET_API void gn_rwmutex_rlock(gn_rwmutex *m);
GONET_API int  gn_rwmutex_runlock(gn_rwmutex *m);   /* GN_ESTATE if not read-locked */
GONET_API void gn_rwmutex_lock(gn_rwmutex *m);
GONET_API int  gn_rwmutex_unlock(gn_rwmutex *m);    /* GN_ESTATE if not locked      */

typedef struct gn_waitgroup {
    uint64_t state_;    /* counter (high 32 bits, signed) and waiters (low 32)  */
    uint32_t lock_;
    gn__waitq waiters_;
} gn_waitgroup;
#define GN_WAITGROUP_INIT {0, 0, {0, 0}}

/* GN_EINVAL (and no change) if the counter would go negative or past
 * INT32_MAX. As in Go, the wait group may be freed as soon as a wait returns. */
GONET_API int  gn_waitgroup_add(gn_waitgroup *wg, int64_t delta);
GONET_API int  gn_waitgroup_done(gn_waitgroup *wg);
GONET_API void gn_waitgroup_wait(gn_waitgroup *wg);

typedef struct gn_cond {
    uint32_t lock_;
    gn__waitq waiters_;
} gn_cond;
#define GN_COND_INIT {0, {0, 0}}

/* Unlocks m, waits for a signal, locks m again before returning.              */
GONET_API void gn_cond_wait(gn_cond *c, gn_mutex *m);
GONET_API void gn_cond_signal(gn_cond *c);
GONET_API void gn_cond_broadcast(gn_cond *c);

typedef struct gn_once {
    uint32_t done_;
    gn_mutex mu_;
} gn_once;
#define GN_ONCE_INIT {0, GN_MUTEX_INIT}

/* Runs fn(arg) the first time only; every caller returns after it has run.    */
GONET_API void gn_once_do(gn_once *o, void (*fn)(void *arg), void *arg);

/* ---- context -------------------------------------------------------------------
 * Go's context.Context: cancellation and deadlines flowing from parent to
 * children, with a done channel to use in gn_select. Each derived context is
 * owned by its creator and released with gn_context_free, which also cancels it
 * (Go's "defer cancel()") and releases its deadline timer. Free children
 * before their parent (a child whose parent goes first is detached, not left
 * dangling). The background context is static and never freed; NULL means
 * background everywhere. Unlike Go, a value context can be cancelled too.
 * The deadline constructors return NULL when no runtime runs (nothing could
 * fire the deadline), unless the deadline has already passed.                  */
typedef struct gn_context gn_context;

GONET_API gn_context *gn_context_background(void);
GONET_API gn_context *gn_context_with_cancel(gn_context *parent);     /* NULL on ENOMEM */
GONET_API gn_context *gn_context_with_deadline(gn_context *parent, int64_t deadline);
GONET_API gn_context *gn_context_with_timeout(gn_context *parent, int64_t d);
GONET_API gn_context *gn_context_with_value(gn_context *parent, const void *key, void *value);
GONET_API void        gn_context_cancel(gn_context *ctx);   /* err becomes GN_ECANCELED   */
GONET_API void        gn_context_free(gn_context *ctx);
/* 0 while live, then GN_ECANCELED or GN_ETIMEDOUT (deadline exceeded).           */
GONET_API int         gn_context_err(gn_context *ctx);
/* Closed when the context is cancelled; NULL for background (never closes).     */
GONET_API gn_chan    *gn_context_done(gn_context *ctx);
GONET_API int64_t     gn_context_deadline(gn_context *ctx);  /* earliest in the chain, 0: none */
GONET_API void       *gn_context_value(gn_context *ctx, const void *key);  /* NULL if unset */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_sync.h ==== */

/* ==== begin src/api_bufio.h ==== */
/* api_bufio.h — Go's bufio: a buffered reader and a buffered writer over any
 * gn_read_func / gn_write_func (a connection, a pipe, a file, memory).
 *
 * Both are plain structs with private fields, so they can be embedded: init one
 * over a buffer you own, or let _new allocate struct and buffer in one block.
 * Nothing allocates after that except read_bytes / read_string, whose result
 * is a fresh copy. Neither is safe for concurrent use: one coroutine at a time,
 * as in Go. A NULL, zero-filled or invalid (see init) reader or writer makes
 * every call return GN_EINVAL (or do nothing, for the void ones).
 *
 * How errors meet data (where Go returns both, a C call returns one of them):
 * a call that has bytes for you returns them, and the error that stopped it
 * (GN_EOF, a timeout, ...) is kept and returned by the next call that needs
 * more input. So a reader loop sees the last partial line, then GN_EOF.
 * The exceptions are spelled out below: peek, read_slice's GN_EBUFFULL and
 * read_full.
 *
 * A source that returns 0 bytes for a non-empty read is called again, up to
 * 100 times in a row; then the reader reports GN_ENOPROGRESS (Go's
 * io.ErrNoProgress). A source that claims more bytes than were asked for is
 * reported as GN_EINVAL. A sink that writes only a part is called again for the
 * rest (0 bytes 100 times in a row: GN_ENOPROGRESS).                         */

#ifdef __cplusplus
extern "C" {
#endif

#define GN_BUFIO_DEFAULT_SIZE   4096
#define GN_BUFREADER_MIN_SIZE   16   /* read_line needs room to hold back a '\r' */

/* ---- reader ------------------------------------------------------------------ */
typedef struct gn_bufreader {
    char        *buf_;
    size_t       size_, r_, w_;      /* buf_[r_, w_) is buffered, not yet read   */
    gn_read_func rd_;
    void        *ctx_;
    int          err_;               /* the source's error, returned once        */
    int          last_byte_;         /* for unread_byte; -1: none                */
    int          owned_;             /* 1: made by gn_bufreader_new              */
} gn_bufreader;

/* Reads from rd(ctx) through buf[size], which the caller owns and keeps alive.
 * size must be >= GN_BUFREADER_MIN_SIZE; otherwise (or with a NULL buf) the
 * reader is left invalid and every call on it returns GN_EINVAL. rd may be NULL
 * until gn_bufreader_reset gives it one (reads meanwhile: GN_EINVAL).          */
GONET_API void gn_bufreader_init(gn_bufreader *r, gn_read_func rd, void *ctx,
                                 char *buf, size_t size);
/* The same in one allocation; size 0: GN_BUFIO_DEFAULT_SIZE, and at least
 * GN_BUFREADER_MIN_SIZE. NULL on ENOMEM. Release with gn_bufreader_free.       */
GONET_API gn_bufreader *gn_bufreader_new(gn_read_func rd, void *ctx, size_t size);
GONET_API void gn_bufreader_free(gn_bufreader *r);  /* only for _new; no-op otherwise */
/* Switches to another source: drops buffered data and any kept error, keeps
 * the buffer (for pooled readers).                                             */
GONET_API void gn_bufreader_reset(gn_bufreader *r, gn_read_func rd, void *ctx);

/* Up to n bytes into buf: > 0 bytes, or an error (GN_EOF at the end); 0 only
 * when n is 0. Calls the source at most once (see the note on 0-byte reads);
 * with an empty buffer and n >= its size it reads straight into buf, like Go. */
GONET_API int64_t gn_bufreader_read(gn_bufreader *r, void *buf, size_t n);
/* The next byte (0..255), or an error.                                         */
GONET_API int     gn_bufreader_read_byte(gn_bufreader *r);
/* Steps back over the last byte read (by any read call), so that the next read
 * returns it again: 0, or GN_EUNREAD if no byte was read since init, reset,
 * the last peek or discard, or the last unread_byte.                          */
GONET_API int     gn_bufreader_unread_byte(gn_bufreader *r);
/* Points *out at the next n bytes without consuming them, valid until the next
 * call on r. Returns n; or, when n bytes cannot be had, GN_EBUFFULL if n is
 * larger than the buffer, else the error that stopped it (GN_EOF ...) — *out
 * then still points at what is buffered, gn_bufreader_buffered(r) bytes.
 * out may be NULL.                                                             */
GONET_API int64_t gn_bufreader_peek(gn_bufreader *r, size_t n, const char **out);
/* Reads up to and including the byte delim (converted to unsigned char), and
 * points *out at those bytes inside the buffer: valid until the next call on r.
 * Returns their count (> 0). At the end of input the last bytes come back
 * without delim, then GN_EOF (or the source's error). When the buffer fills
 * with no delim in it, returns GN_EBUFFULL and *out points at the whole
 * buffer, gn_bufreader_size(r) bytes, which count as read.                     */
GONET_API int64_t gn_bufreader_read_slice(gn_bufreader *r, int delim, const char **out);
/* Like read_slice, however long the run (it is not limited by the buffer;
 * bound untrusted input with read_line or read_slice instead): *out is a copy
 * from GN_MALLOC, which the caller frees with free() (or with GN_FREE when the
 * allocation hooks are overridden). Returns its length (> 0). A run cut short
 * by an error comes back first without delim, and the error from the next call.
 * On an error *out is NULL; on GN_ENOMEM the bytes read so far are lost.       */
GONET_API int64_t gn_bufreader_read_bytes(gn_bufreader *r, int delim, char **out);
/* read_bytes with a NUL after the bytes (not counted in the length).           */
GONET_API int64_t gn_bufreader_read_string(gn_bufreader *r, int delim, char **out);
/* The next line without its "\n" or "\r\n", *line pointing into the buffer
 * (valid until the next call on r; not NUL-terminated). Returns its length,
 * 0 for an empty line, or an error (GN_EOF after the last line; a last line
 * without "\n" is returned as a line). A line longer than the buffer comes in
 * pieces: *is_prefix is 1 for each piece but the last (Go's "line too long"
 * signal), 0 otherwise. is_prefix may be NULL.                                 */
GONET_API int64_t gn_bufreader_read_line(gn_bufreader *r, const char **line, int *is_prefix);
/* Go's io.ReadFull: exactly n bytes into buf. Returns n; GN_EOF if the input
 * ended before any byte; GN_EUNEXPECTEDEOF if it ended after some; any other
 * error as is (buf then holds an unspecified number of the bytes).            */
GONET_API int64_t gn_bufreader_read_full(gn_bufreader *r, void *buf, size_t n);
/* Skips n bytes. Returns n; fewer if an error stopped it (the error comes from
 * the next call), or the error if nothing could be skipped.                    */
GONET_API int64_t gn_bufreader_discard(gn_bufreader *r, size_t n);
GONET_API size_t  gn_bufreader_buffered(const gn_bufreader *r);  /* bytes readable now */
GONET_API size_t  gn_bufreader_size(const gn_bufreader *r);      /* the buffer's size  */

/* ---- writer ------------------------------------------------------------------
 * Bytes wait in the buffer until it fills or gn_bufwriter_flush. The first
 * error from the sink sticks: every later write and flush returns it, until
 * gn_bufwriter_reset.                                                          */
typedef struct gn_bufwriter {
    char         *buf_;
    size_t        size_, n_;         /* buf_[0, n_) is waiting to be written      */
    gn_write_func wr_;
    void         *ctx_;
    int           err_;              /* sticky                                    */
    int           owned_;            /* 1: made by gn_bufwriter_new               */
} gn_bufwriter;

/* Writes to wr(ctx) through buf[size] (size >= 1), which the caller owns. A
 * NULL buf or size 0 leaves the writer invalid (every call: GN_EINVAL).       */
GONET_API void gn_bufwriter_init(gn_bufwriter *w, gn_write_func wr, void *ctx,
                                 char *buf, size_t size);
/* One allocation; size 0: GN_BUFIO_DEFAULT_SIZE. NULL on ENOMEM.               */
GONET_API gn_bufwriter *gn_bufwriter_new(gn_write_func wr, void *ctx, size_t size);
/* Only for _new (no-op otherwise). Does NOT flush: buffered bytes are dropped,
 * so call gn_bufwriter_flush first.                                            */
GONET_API void gn_bufwriter_free(gn_bufwriter *w);
/* Switches to another sink: drops buffered bytes and the sticky error, keeps
 * the buffer.                                                                  */
GONET_API void gn_bufwriter_reset(gn_bufwriter *w, gn_write_func wr, void *ctx);

/* Returns n, or the (sticky) error. When the buffer is empty, a write larger
 * than it goes straight to the sink, without a copy, like Go.                 */
GONET_API int64_t gn_bufwriter_write(gn_bufwriter *w, const void *p, size_t n);
/* c is converted to unsigned char, as by fputc. 0, or the error.               */
GONET_API int     gn_bufwriter_write_byte(gn_bufwriter *w, int c);
/* strlen(s) bytes: their count, or the error.                                  */
GONET_API int64_t gn_bufwriter_write_string(gn_bufwriter *w, const char *s);
/* Writes out what is buffered: 0, or the (sticky) error.                       */
GONET_API int     gn_bufwriter_flush(gn_bufwriter *w);
GONET_API size_t  gn_bufwriter_available(const gn_bufwriter *w); /* free bytes in buffer */
GONET_API size_t  gn_bufwriter_buffered(const gn_bufwriter *w);  /* bytes not yet flushed */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_bufio.h ==== */

/* ==== begin src/api_net.h ==== */
/* api_net.h — Go's net package: listeners, connections, dialing, deadlines, UDP. */

#ifdef __cplusplus
extern "C" {
#endif

/* Networks: "tcp", "tcp4", "tcp6", "unix", "udp", "udp4", "udp6", "unixgram".
 * Addresses as in Go: "host:port", "[::1]:8080", ":8080" (every interface),
 * "localhost:0" (a free port); a path for unix sockets. ":8080" over "tcp" or
 * "udp" is one dual-stack IPv6 socket, except on OpenBSD and DragonFly, whose
 * IPv6 sockets never take IPv4: there it is IPv4 only, as in Go (listen on
 * "tcp6" "[::]:8080" too for IPv6).
 *
 * Ownership. gn_listen, gn_accept, gn_dial* and gn_conn_from_fd return an
 * object that the caller owns and releases with gn_close / gn_listener_close,
 * exactly once. Closing wakes any coroutine blocked on the object with
 * GN_ECLOSED (Go's "use of closed network connection"); no call may *start* on
 * it after the close. Every call returns >= 0 or a negative code.             */
typedef struct gn_conn     gn_conn;
typedef struct gn_listener gn_listener;

typedef struct gn_listen_opts {
    int backlog;      /* 0: SOMAXCONN                                            */
    int reuse_port;   /* 1: SO_REUSEPORT, for several listeners on one port,
                       * which Linux and FreeBSD (SO_REUSEPORT_LB) share
                       * connections between; macOS, OpenBSD and NetBSD give
                       * each connection to one listener. Windows has none:
                       * GN_ENOSYS                                                */
} gn_listen_opts;

GONET_API int gn_listen(gn_listener **out, const char *network, const char *address);
GONET_API int gn_listen_with(gn_listener **out, const char *network, const char *address,
                             const gn_listen_opts *opts);
/* Waits for a connection. Out of file descriptors (EMFILE, ENFILE), it backs
 * off (5 ms doubling to 1 s, as Go's http server does) and tries again, so a
 * server rides out fd exhaustion instead of spinning or failing.              */
GONET_API int gn_accept(gn_listener *l, gn_conn **out);
GONET_API int gn_listener_close(gn_listener *l);
/* The bound address, "ip:port" (useful after listening on port 0).           */
GONET_API int gn_listener_addr(gn_listener *l, char *buf, size_t size);
GONET_API int gn_listener_port(gn_listener *l);
GONET_API int gn_listener_set_deadline(gn_listener *l, int64_t deadline);

/* Connects; a host name resolves without blocking other coroutines and every
 * address it has is tried in turn ("localhost" is ::1 and 127.0.0.1).          */
GONET_API int gn_dial(gn_conn **out, const char *network, const char *address);
GONET_API int gn_dial_timeout(gn_conn **out, const char *network, const char *address,
                              int64_t timeout);
GONET_API int gn_dial_context(gn_context *ctx, gn_conn **out, const char *network,
                              const char *address);

/* Reads up to n bytes: > 0 read, GN_EOF at the end, or an error.            */
GONET_API int64_t gn_read(gn_conn *c, void *buf, size_t n);
/* Writes all n bytes and returns n, or an error (some prefix may be sent).   */
GONET_API int64_t gn_write(gn_conn *c, const void *buf, size_t n);
GONET_API int     gn_close(gn_conn *c);
GONET_API int     gn_close_read(gn_conn *c);    /* half-close: shutdown(SHUT_RD);
                                                 * reads then get GN_EOF        */
GONET_API int     gn_close_write(gn_conn *c);   /* half-close: shutdown(SHUT_WR)  */

/* Deadlines, absolute gn_now() instants; 0 clears. Settable at any time from
 * any coroutine; a new deadline applies to an operation already blocked; a
 * past one fails blocked and later operations with GN_ETIMEDOUT; extending it
 * makes the connection usable again.                                         */
GONET_API int gn_set_deadline(gn_conn *c, int64_t deadline);
GONET_API int gn_set_read_deadline(gn_conn *c, int64_t deadline);
GONET_API int gn_set_write_deadline(gn_conn *c, int64_t deadline);

GONET_API int gn_local_addr(gn_conn *c, char *buf, size_t size);    /* "ip:port" */
GONET_API int gn_remote_addr(gn_conn *c, char *buf, size_t size);
/* The descriptor, still owned by c (for setsockopt and the like; reading or
 * writing it behind c's back breaks c). On Windows it is the SOCKET as an int:
 * socket handles are 32-bit significant there (as for every kernel handle
 * shared by 32- and 64-bit processes), so (SOCKET)(intptr_t)gn_conn_fd(c)
 * gives the handle back.                                                     */
GONET_API int gn_conn_fd(gn_conn *c);

/* Options. TCP_NODELAY is on by default for TCP, as in Go.                  */
GONET_API int gn_set_nodelay(gn_conn *c, int on);
/* period 0: the OS default. OpenBSD has no per-socket period: there only
 * SO_KEEPALIVE is set and the period is the system's (Go reports ENOPROTOOPT). */
GONET_API int gn_set_keepalive(gn_conn *c, int on, int64_t period);
GONET_API int gn_set_read_buffer(gn_conn *c, int bytes);
GONET_API int gn_set_write_buffer(gn_conn *c, int bytes);
GONET_API int gn_set_linger(gn_conn *c, int seconds);   /* < 0: OS default        */

/* Wraps an open descriptor (a socket, a pipe, stdin) as a connection. It is
 * made non-blocking and owned by the gn_conn from then on. On Windows only a
 * socket can be wrapped, passed as (int)sock (see gn_conn_fd), and one that
 * allows overlapped I/O (socket() and WSA_FLAG_OVERLAPPED ones do); anything
 * else is GN_ENOSYS.                                                         */
GONET_API int gn_conn_from_fd(gn_conn **out, int fd);

/* gn_read/gn_write as a gn_read_func/gn_write_func (ctx is the gn_conn *), for
 * gn_bufreader and gn_bufwriter.                                              */
GONET_API int64_t gn_conn_reader(void *conn, void *buf, size_t n);
GONET_API int64_t gn_conn_writer(void *conn, const void *buf, size_t n);

/* ---- UDP and unixgram --------------------------------------------------------
 * gn_listen_packet binds a datagram socket; gn_dial("udp", ...) gives a
 * connected one that gn_read / gn_write use. Addresses as strings "ip:port".
 * Windows has "unix" streams (since Windows 10 1803; GN_ENOSYS before) but no
 * "unixgram" (GN_ENOSYS).                                                     */
GONET_API int gn_listen_packet(gn_conn **out, const char *network, const char *address);
/* Receives one datagram: its length (a longer one is truncated to n), and the
 * sender as "ip:port" in from (may be NULL).                                  */
GONET_API int64_t gn_read_from(gn_conn *c, void *buf, size_t n, char *from, size_t from_size);
GONET_API int64_t gn_write_to(gn_conn *c, const void *buf, size_t n, const char *address);
GONET_API int gn_set_broadcast(gn_conn *c, int on);
/* Joins (leaves) a multicast group, e.g. "239.1.2.3"; ifname NULL: any. On
 * Windows ifname is an interface index in decimal ("12"), not a name. Where
 * the system lacks MCAST_JOIN_GROUP (OpenBSD, NetBSD), an IPv4 group is
 * joined by the interface's IPv4 address, as Go does: -EADDRNOTAVAIL if it
 * has none.                                                                   */
GONET_API int gn_join_group(gn_conn *c, const char *group, const char *ifname);
GONET_API int gn_leave_group(gn_conn *c, const char *group, const char *ifname);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_net.h ==== */

/* ==== begin src/api_signal.h ==== */
/* api_signal.h — signals on channels, Go's os/signal.
 *
 *   gn_chan *sig = gn_chan_new(sizeof(int), 1);      // give it a buffer
 *   gn_signal_notify(sig, SIGINT);
 *   gn_signal_notify(sig, SIGTERM);
 *   int signo;
 *   gn_chan_recv(sig, &signo);                        // parks until one comes
 *   gn_signal_stop(sig);                              // before gn_chan_free(sig)
 *
 * Delivery. A caught signal's number, an int, is sent to every channel that
 * watches it, without waiting, as Go does: a channel that has no room for it
 * (or, unbuffered, no receiver waiting at that moment) misses it. So give the
 * channel a buffer: 1 is enough to learn that a signal came, more to see
 * several kinds. Several channels may watch one signal, and one channel
 * several signals. Like Go, signals of one number that arrive before the
 * previous one was delivered count as one: never count signals.
 *
 * Which threads catch them. The runtime's own threads block asynchronous
 * signals; a signal is caught by the thread that called gn_run or by another
 * thread of yours that does not block it. So signal the process
 * (kill(getpid(), sig), kill(1) from a shell); raise() or pthread_kill()
 * aimed at a runtime thread, e.g. from a coroutine with procs > 1, stays
 * pending there and is never caught. gn_signal_notify changes no signal mask.
 *
 * Lifetime. What is set here lasts until it is undone or the run ends: when
 * gn_run returns, deliveries stop and every disposition changed here is put
 * back, so the next gn_run starts clean. While the runtime runs, call
 * gn_signal_stop(c) before gn_chan_free(c); after gn_run has returned, c may
 * be freed as it is. gn_signal_stop and gn_signal_reset give a signal that
 * nothing watches any more the disposition it had before this API took it
 * over (normally the default). While a signal is watched, a handler of yours
 * for it is not called. The handler is installed with SA_RESTART, so most
 * system calls it interrupts carry on. A forked child gets what exec would
 * give it: watched signals their former disposition, ignored ones ignored.
 * Under ThreadSanitizer with procs > 1, a signal that reaches the gn_run
 * thread while it idles may wait until the thread has work again (TSan
 * defers it); one P, or a thread of yours that catches the signals, avoids it.
 *
 * Errors. GN_EINVAL for a NULL channel, a channel whose element size is not
 * sizeof(int), or a signal that may not be caught: out of range (1..64 on
 * Linux, 1..63 on NetBSD, 1..126 on FreeBSD and DragonFly, 1..31 on macOS
 * and OpenBSD), SIGKILL and SIGSTOP (no process can), SIGSEGV, SIGBUS,
 * SIGFPE and SIGILL (the runtime and the program need them as they are), and
 * the signals the C library keeps for its threads (32 and 33 on glibc, below
 * SIGRTMIN; 32 to 64 on FreeBSD; 32 on OpenBSD). GN_ESTATE when no runtime
 * runs (notify, ignore). Otherwise
 * -errno from the system, or GN_ENOMEM.
 *
 * Windows has no asynchronous signals; console control events stand in for
 * them, mapped as Go maps them: Ctrl+C and Ctrl+Break are SIGINT; closing the
 * console window, logging off and shutting down are SIGTERM (the system ends
 * the process a few seconds later, or as soon as the program exits). Those two
 * are the only signals there: any other number in range is GN_ENOSYS (SIGSEGV,
 * SIGILL, SIGFPE: GN_EINVAL). Ignoring SIGINT makes Ctrl+C do nothing.       */

#ifdef __cplusplus
extern "C" {
#endif

/* Sends signo to c whenever it is caught, from now until gn_signal_stop(c),
 * gn_signal_ignore/reset(signo) or the end of the run. The first call of a run
 * starts one coroutine that delivers signals. Callable from any thread while
 * the runtime runs. 0, or an error above.                                      */
GONET_API int gn_signal_notify(gn_chan *c, int signo);
/* Stops every delivery to c; once it returns nothing more is sent to c, which
 * may then be freed. Signals nobody watches any more get back their former
 * disposition. 0 (also when c watched nothing, or no runtime runs), GN_EINVAL. */
GONET_API int gn_signal_stop(gn_chan *c);
/* Ignores signo (SIG_IGN) and stops delivering it to any channel (Go's
 * signal.Ignore). A later gn_signal_notify catches it again. 0 or an error.    */
GONET_API int gn_signal_ignore(int signo);
/* Undoes gn_signal_notify and gn_signal_ignore for signo: no channel gets it
 * and it has its former disposition back (Go's signal.Reset). 0, GN_EINVAL.    */
GONET_API int gn_signal_reset(int signo);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_signal.h ==== */

/* ==== begin src/api_http.h ==== */
/* api_http.h — HTTP/1.1 in the shape of Go's net/http: requests, the response
 * writer, handlers, the Go 1.22 mux, the server and the client.
 *
 * A handler is a function and a pointer of yours; it runs in the connection's
 * coroutine and may block (read the body, call a backend, sleep) without
 * holding up any other connection. Strings handed to a handler (method, path,
 * header values, path values) live until the handler returns; copy what you
 * keep. Nothing here is thread-safe on one request: one coroutine serves it.  */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gn_http_request  gn_http_request;
typedef struct gn_http_response gn_http_response;  /* Go's ResponseWriter            */
typedef void (*gn_http_handler_func)(gn_http_response *w, gn_http_request *r, void *ud);

/* One header field: name and value with their lengths. Parsed ones point into
 * the connection's buffer and are NUL-terminated there too.                    */
typedef struct gn_http_header {
    const char *name;
    size_t      name_len;
    const char *value;
    size_t      value_len;
} gn_http_header;

/* ---- the request ------------------------------------------------------------ */
GONET_API const char *gn_http_method(const gn_http_request *r);      /* "GET"            */
GONET_API const char *gn_http_target(const gn_http_request *r);      /* as sent: "/a%20b?x=1" */
GONET_API const char *gn_http_path(const gn_http_request *r);        /* decoded: "/a b"  */
GONET_API const char *gn_http_raw_query(const gn_http_request *r);   /* "x=1", or ""     */
GONET_API const char *gn_http_host(const gn_http_request *r);        /* Host, or ""      */
GONET_API const char *gn_http_remote_addr(const gn_http_request *r); /* "ip:port"        */
GONET_API int         gn_http_proto_minor(const gn_http_request *r); /* 0 or 1: HTTP/1.x */
/* The first value of the header name (any case), NUL-terminated, or NULL.      */
GONET_API const char *gn_http_header_get(const gn_http_request *r, const char *name);
/* All header fields, in arrival order (repeated names kept): count, and *out.  */
GONET_API size_t      gn_http_headers(const gn_http_request *r, const gn_http_header **out);
/* The wildcard {name} of the mux pattern that matched, decoded, or NULL.       */
GONET_API const char *gn_http_path_value(const gn_http_request *r, const char *name);
/* The first value of the query parameter key, decoded, into buf (NUL-terminated).
 * Returns its length, or GN_EINVAL if absent or buf is too small.              */
GONET_API int         gn_http_query_get(const gn_http_request *r, const char *key,
                                        char *buf, size_t size);
/* The content length the client declared, or -1 (chunked or none).            */
GONET_API int64_t     gn_http_content_length(const gn_http_request *r);
/* Reads the body (Content-Length or chunked, 100-continue sent on the first
 * read): > 0 bytes, GN_EOF at its end, or an error.                            */
GONET_API int64_t     gn_http_body_read(gn_http_request *r, void *buf, size_t n);
/* A context cancelled when the client goes away or the handler returns.       */
GONET_API gn_context *gn_http_request_context(gn_http_request *r);
/* The gn_read_func over the body, for gn_bufreader: pass the request as ctx.  */
GONET_API int64_t     gn_http_body_reader(void *request, void *buf, size_t n);

/* ---- the response writer ------------------------------------------------------
 * Headers may change until the first write or write_header; then they are sent.
 * A handler that writes nothing sends an empty 200. When the whole body fits in
 * the writer's buffer it goes out with a Content-Length; otherwise chunked (or,
 * for HTTP/1.0, until close). Date is added, and Content-Type is sniffed from
 * the first bytes (text/html, application/json, text/plain) when not set.   */
GONET_API int     gn_http_set_header(gn_http_response *w, const char *name, const char *value);
GONET_API int     gn_http_add_header(gn_http_response *w, const char *name, const char *value);
GONET_API int     gn_http_del_header(gn_http_response *w, const char *name);
GONET_API int     gn_http_write_header(gn_http_response *w, int status);
GONET_API int64_t gn_http_write(gn_http_response *w, const void *buf, size_t n);
GONET_API int64_t gn_http_write_string(gn_http_response *w, const char *s);
GONET_API int     gn_http_flush(gn_http_response *w);    /* send what is buffered now */
/* The status text and a plain-text body, as Go's http.Error.                   */
GONET_API int     gn_http_error(gn_http_response *w, const char *msg, int status);
/* A redirect to url with status (301, 302, 303, 307, 308), as Go's http.Redirect. */
GONET_API int     gn_http_redirect(gn_http_response *w, gn_http_request *r, const char *url, int status);
GONET_API const char *gn_http_status_text(int status);   /* "Not Found"; "" if unknown */
/* Takes the connection over (for upgrades): the server forgets its HTTP state
 * and the caller owns *out (gn_close it) and whatever is buffered (*buffered,
 * *nbuffered: bytes read past the request, valid until the handler returns). */
GONET_API int     gn_http_hijack(gn_http_response *w, gn_conn **out,
                                 const char **buffered, size_t *nbuffered);

/* ---- the mux (Go 1.22 patterns) -----------------------------------------------
 * Pattern: "[METHOD ][HOST]/path", path segments literal or {name}, a last
 * {name...} taking the rest, {$} matching only the end, a trailing "/" a
 * subtree. The most specific pattern wins; two patterns that match the same
 * requests with neither more specific are a conflict, reported at
 * registration (GN_ECONFLICT, and gn_http_mux_error says which). GET also
 * serves HEAD. No match: 404; a path that matches only for other methods: 405
 * with Allow; "/dir" when only "/dir/" is registered: a redirect.            */
typedef struct gn_http_mux gn_http_mux;
GONET_API gn_http_mux *gn_http_mux_new(void);
GONET_API void         gn_http_mux_free(gn_http_mux *m);
GONET_API int          gn_http_mux_handle(gn_http_mux *m, const char *pattern,
                                          gn_http_handler_func fn, void *ud);
GONET_API const char  *gn_http_mux_error(const gn_http_mux *m);  /* the last registration error */
/* The mux as a handler: ud is the gn_http_mux.                                 */
GONET_API void         gn_http_mux_serve(gn_http_response *w, gn_http_request *r, void *mux);

/* ---- middleware --------------------------------------------------------------------
 * A middleware is a handler that wraps a handler: a struct holding the next
 * handler and its settings is the ud. Go's http.TimeoutHandler: the wrapped
 * handler runs with a buffering writer; if it has not returned after timeout,
 * the client gets a 503 with message (or a short HTML page) at once, the
 * handler's request context is cancelled and its later writes fail with
 * GN_ETIMEDOUT. The connection goes on only once the handler has returned.
 * Flush is a no-op and hijacking is refused under it (as in Go).              */
typedef struct gn_http_timeout {
    gn_http_handler_func handler;
    void       *ud;
    int64_t     timeout;
    const char *message;             /* NULL: a short HTML "Timeout" page          */
} gn_http_timeout;
GONET_API void gn_http_timeout_serve(gn_http_response *w, gn_http_request *r, void *timeout);

/* ---- files (Go's http.FileServer, ServeFile and ServeContent) ------------------
 * Serves the files under a root directory: index.html for a directory that has
 * one, else a sorted HTML listing; "/dir" redirects to "dir/", a file asked for
 * with a trailing slash and ".../index.html" redirect as in Go (301, relative
 * Location, query kept). Content-Type from the extension (a built-in table),
 * else sniffed from the first 512 bytes; Content-Length, Last-Modified,
 * If-Modified-Since / If-Unmodified-Since / If-None-Match "*" / If-Match "*"
 * (304, 412), Range ("bytes=a-b", "a-", "-n": 206 with Content-Range; several:
 * multipart/byteranges; none satisfiable: 416 with "Content-Range: bytes STAR/size",
 * STAR being '*'), If-Range with a date, HEAD. No ETag is made. GET and HEAD
 * only: other methods get 405 with "Allow: GET, HEAD". Missing: 404;
 * unreadable, or not a regular file or directory: 403.
 * Never leaves the root: a path with a ".." element or "%00" gets 400, and a
 * symlink is followed only if its target, resolved, lies under the root's real
 * path (else 404). Opening, stat, directory reads and reads run in gn_blocking;
 * a file goes out in 64 KiB chunks with its Content-Length set first, so a
 * request holds one chunk buffer at most, whatever the file's size.          */
typedef struct gn_http_fs gn_http_fs;
/* Opens root (a directory) for serving: NULL if it is not one or on ENOMEM.
 * Free it with gn_http_fs_free once no handler can use it any more.          */
GONET_API gn_http_fs *gn_http_fs_new(const char *root);
GONET_API void        gn_http_fs_free(gn_http_fs *fs);
/* Go's http.StripPrefix for this server: request paths must start with prefix
 * ("/static"; a trailing '/' is ignored) followed by '/' or nothing, else 404;
 * the rest names the file. The bare prefix redirects to "static/". Call before
 * serving. 0, GN_EINVAL (prefix not starting with '/'), GN_ENOMEM.            */
GONET_API int         gn_http_fs_strip_prefix(gn_http_fs *fs, const char *prefix);
/* The handler: ud is the gn_http_fs. With the mux: "GET /static/" and
 * gn_http_fs_strip_prefix(fs, "/static"), or "GET /" for the whole site.     */
GONET_API void        gn_http_fs_serve(gn_http_response *w, gn_http_request *r, void *fs);
/* Go's http.ServeFile: serves the file (or directory) at path, a file-system
 * path used as given (symlinks followed, no root), with the same headers,
 * conditions and ranges. A request path with a ".." element gets 400 (for
 * handlers that build path from it). Returns the status sent (200, 206, 301,
 * 304, 4xx ...), or a negative code if the body could not be sent (the client
 * went away, the file shrank: the connection is then closed).                */
GONET_API int         gn_http_serve_file(gn_http_response *w, gn_http_request *r, const char *path);

/* ---- the server -----------------------------------------------------------------
 * One coroutine per connection. Zero in any field of the options means its
 * default; the defaults are safe for a server on the open internet (unlike
 * Go's, where zero means no timeout at all).                                    */
typedef struct gn_http_server_opts {
    gn_http_handler_func handler;     /* required                                  */
    void    *ud;
    int64_t  read_header_timeout;     /* request line and headers:   10 s           */
    int64_t  read_timeout;            /* the whole request, body too: 60 s          */
    int64_t  write_timeout;           /* from the end of the headers to the end of
                                       * the response:                 60 s         */
    int64_t  idle_timeout;            /* keep-alive wait for the next request: 120 s */
    size_t   max_header_bytes;        /* request line + headers:     16 KiB (431)   */
    int64_t  max_body_bytes;          /* a request body:             64 MiB (413);
                                       * < 0: no limit                               */
    int      max_conns;               /* connections served at once; more wait in the
                                       * listen backlog.               0: no limit   */
    size_t   write_buffer_size;       /* a response that fits goes out with a
                                       * Content-Length, in one write:  4 KiB        */
} gn_http_server_opts;

typedef struct gn_http_server gn_http_server;
GONET_API gn_http_server *gn_http_server_new(const gn_http_server_opts *opts);  /* NULL: EINVAL/ENOMEM */
/* Accepts on l and serves until gn_http_shutdown (returns GN_ECLOSED then, like
 * Go's ErrServerClosed) or an accept error. l then belongs to the server.    */
GONET_API int  gn_http_serve(gn_http_server *s, gn_listener *l);
/* Listens on addr ("host:port", ":8080") and serves.                           */
GONET_API int  gn_http_listen_and_serve(gn_http_server *s, const char *addr);
/* Graceful shutdown: stop accepting, close idle connections, let active ones
 * finish their response, and wait for them (hijacked ones too, until their
 * owner closes them) until deadline (absolute gn_now() instant, 0: no limit);
 * then close what is left. 0, or GN_ETIMEDOUT if something had to be cut.
 * A new connection counts as active until its first request, as in Go: it is
 * answered if the request comes in time, or closed at read_header_timeout. */
GONET_API int  gn_http_shutdown(gn_http_server *s, int64_t deadline);
/* After serve returned. Safe after a shutdown that timed out: a handler still
 * running then frees the server when its connection ends.                     */
GONET_API void gn_http_server_free(gn_http_server *s);
/* Connections open now (active + idle + hijacked and not yet closed).          */
GONET_API int  gn_http_server_conns(gn_http_server *s);

/* ---- the client -----------------------------------------------------------------
 * Per-host keep-alive pools: a connection whose response body was read to the
 * end goes back to its pool for the next request to the same host:port.    */
typedef struct gn_http_client_opts {
    int64_t dial_timeout;             /* 10 s                                        */
    int64_t response_header_timeout;  /* request sent -> headers received: 30 s      */
    int64_t timeout;                  /* the whole exchange, body included: 0 none  */
    int64_t idle_conn_timeout;        /* a pooled connection is closed after: 90 s   */
    int     max_idle_per_host;        /* pooled per host: 8                          */
    int     max_conns_per_host;       /* open per host (more wait): 0 no limit       */
    int     max_redirects;            /* followed (GET/HEAD, 301/302/303/307/308):
                                       * 0 none, which is the default               */
    size_t  max_header_bytes;         /* of a response head: 64 KiB                  */
} gn_http_client_opts;

typedef struct gn_http_client gn_http_client;
GONET_API gn_http_client *gn_http_client_new(const gn_http_client_opts *opts);  /* NULL: ENOMEM */
GONET_API void            gn_http_client_free(gn_http_client *c);  /* closes pooled connections */

/* A request to send. url is "http://host[:port]/path?query". The body is a
 * buffer (body, body_len) or, if body_reader is set, a stream: with
 * content_length >= 0 that many bytes, with -1 chunked.                        */
typedef struct gn_http_client_request {
    const char           *method;     /* NULL: "GET"                                 */
    const char           *url;
    const gn_http_header *headers;    /* extra fields; Host, Content-Length and
                                       * Transfer-Encoding are set for you          */
    size_t                nheaders;
    const void           *body;
    size_t                body_len;
    gn_read_func          body_reader;
    void                 *body_ctx;
    int64_t               content_length;
    gn_context           *ctx;        /* cancels the exchange; NULL: none            */
} gn_http_client_request;

typedef struct gn_http_resp gn_http_resp;
/* Sends req and reads the response head: 0 and *out, or an error (no status
 * is an error: a 404 is a response). Free *out with gn_http_resp_free.    */
GONET_API int gn_http_do(gn_http_client *c, const gn_http_client_request *req,
                         gn_http_resp **out);
GONET_API int gn_http_get(gn_http_client *c, const char *url, gn_http_resp **out);
GONET_API int         gn_http_resp_status(const gn_http_resp *r);
GONET_API const char *gn_http_resp_header(const gn_http_resp *r, const char *name);
GONET_API size_t      gn_http_resp_headers(const gn_http_resp *r,
                                               const gn_http_header **out);
GONET_API int64_t     gn_http_resp_content_length(const gn_http_resp *r); /* -1 unknown */
/* The body: > 0 bytes, GN_EOF at its end, or an error.                        */
GONET_API int64_t     gn_http_resp_read(gn_http_resp *r, void *buf, size_t n);
GONET_API int64_t     gn_http_resp_body_reader(void *response, void *buf, size_t n);
/* Reads the whole body into a fresh GN_MALLOC'd buffer (NUL after it), at most
 * max bytes (GN_ETOOLARGE beyond). Returns its length.                        */
GONET_API int64_t     gn_http_resp_read_all(gn_http_resp *r, size_t max, char **out);
/* Releases the response; its connection goes back to the pool if the body was
 * read to the end, else it is closed.                                          */
GONET_API void        gn_http_resp_free(gn_http_resp *r);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_http.h ==== */

#endif /* GONET_H */

#if defined(GONET_IMPLEMENTATION) && !defined(GONET_IMPLEMENTATION_INCLUDED)
#define GONET_IMPLEMENTATION_INCLUDED

/* ==== begin src/impl_base.c ==== */
/* impl_base.c — what every implementation part leans on: platform selection, config
 * defaults, allocation hooks, atomics, the runtime's own locks, errors, the clock.
 *
 * >>base                                                                        */

/* ---- platform and backend selection ------------------------------------------
 * Decided once, here. GN__OS_*: the OS layer. GN__CTX_*: the context switch
 * (GN_CTX_UCONTEXT forces the portable one). GN__POLL_*: the poller
 * (GN_POLL_POLL=1 forces the portable one).                                    */
#if defined(_WIN32)
#  define GN__OS_WINDOWS 1
#elif defined(__linux__)
#  define GN__OS_LINUX 1
#elif defined(__APPLE__)
#  define GN__OS_DARWIN 1
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#  define GN__OS_BSD 1
#else
#  error "gonet.h: unknown platform (Linux, Windows, macOS and the BSDs are supported; see the manual's platform table)"
#endif
#if !GN__OS_WINDOWS
#  define GN__OS_POSIX 1
#endif

#if defined(GN_CTX_UCONTEXT)
#  define GN__CTX_UCONTEXT 1
#elif (defined(__x86_64__) || (defined(_M_X64) && !defined(_M_ARM64EC))) && defined(_WIN32)
#  define GN__CTX_X64_WIN 1
#elif defined(__x86_64__)
#  define GN__CTX_X64_SYSV 1
#elif defined(__aarch64__) && !defined(_WIN32)
#  define GN__CTX_ARM64 1
#else
#  define GN__CTX_UCONTEXT 1
#endif

/* Symbol spelling for the assembly switches: Mach-O prefixes an underscore;
 * ELF marks a function's type ("%function" is accepted on every ELF target);
 * PE/COFF has no hidden visibility and declares a function with .def (storage
 * class 2, external; type 32, a function).                                     */
#if defined(__APPLE__)
#  define GN__ASM_NAME(s) "_" s
#  define GN__ASM_HIDE(s) ".private_extern _" s "\n"
#  define GN__ASM_TYPE(s)
#elif defined(_WIN32)
#  define GN__ASM_NAME(s) s
#  define GN__ASM_HIDE(s)
#  define GN__ASM_TYPE(s) ".def " s "; .scl 2; .type 32; .endef\n"
#else
#  define GN__ASM_NAME(s) s
#  define GN__ASM_HIDE(s) ".hidden " s "\n"
#  define GN__ASM_TYPE(s) ".type " s ",%function\n"
#endif
/* A definition every translation unit may carry (GONET_STATIC builds), merged at
 * link time. Mach-O's ".weak" would mark a weak *reference* and leave duplicate
 * definitions; it spells a mergeable one ".weak_definition", on a global.       */
#if defined(__APPLE__)
#  define GN__ASM_WEAK(s) ".globl _" s "\n.weak_definition _" s "\n"
#else
#  define GN__ASM_WEAK(s) ".weak " s "\n"
#endif

/* GN_POLL_POLL=1 (or defined empty) forces the portable poll() backend; it is
 * also what a platform without epoll, kqueue or IOCP gets. GN_POLL_KQUEUE=1
 * forces kqueue (the tests build it on Linux over a <sys/event.h> shim).        */
#define GN__FLAG_SET(x) ((x + 0) != 0 || (0 - x - 1) == 1)

/* GN__CC_MSVC: Microsoft's cl, which has none of the GNU C the header otherwise
 * leans on (attributes, __builtin_expect, __atomic builtins, inline assembly);
 * x64 only, the one Windows CPU with a switch here. clang-cl speaks GNU C and
 * keeps that path. GN_CC_MSVC=1 forces the MSVC path on MinGW-w64 gcc or clang,
 * which is how the tests run it, with no cl at hand.                            */
#if (defined(_MSC_VER) && !defined(__clang__)) || (defined(GN_CC_MSVC) && GN__FLAG_SET(GN_CC_MSVC))
#  define GN__CC_MSVC 1
#  if !GN__CTX_X64_WIN
#    error "gonet.h: with MSVC, only Windows x64 is supported (clang-cl builds the others)"
#  endif
#  if !defined(__cplusplus) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#    error "gonet.h: cl compiles it as C with /std:c11 or later (its atomics need _Generic)"
#  endif
#endif
#if defined(GN_POLL_POLL) && GN__FLAG_SET(GN_POLL_POLL)
#  define GN__POLL_POLL 1
#elif defined(GN_POLL_KQUEUE) && GN__FLAG_SET(GN_POLL_KQUEUE)
#  define GN__POLL_KQUEUE 1
#elif GN__OS_WINDOWS
#  define GN__POLL_IOCP 1
#elif GN__OS_LINUX
#  define GN__POLL_EPOLL 1
#elif GN__OS_DARWIN || GN__OS_BSD
#  define GN__POLL_KQUEUE 1
#else
#  define GN__POLL_POLL 1
#endif

/* The futex under the runtime's locks: the OS's own (os_linux.c, os_darwin.c,
 * os_bsd.c), or GN_FUTEX_EMULATED=1 for the portable one in os_posix.c (mutex
 * and condition variable buckets), which NetBSD gets: it has no futex for
 * user space. make test-kqueue uses it on Linux, so the code is exercised.    */
#if GN__OS_POSIX && ((defined(GN_FUTEX_EMULATED) && GN__FLAG_SET(GN_FUTEX_EMULATED)) || defined(__NetBSD__))
#  define GN__FUTEX_EMULATED 1
#endif

/* Sanitizers: the context switch tells them about stack changes.                */
#if defined(__SANITIZE_ADDRESS__)
#  define GN__ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define GN__ASAN 1
#  endif
#endif
#if defined(__SANITIZE_THREAD__)
#  define GN__TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define GN__TSAN 1
#  endif
#endif
#if !defined(GN_NO_VALGRIND) && defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    define GN__VALGRIND 1
#  endif
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#if GN__OS_WINDOWS
/* winsock2.h must come before windows.h, which would pull in the old winsock.h. */
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN 1
#  endif
#  include <winsock2.h>
#  include <ws2tcpip.h>
#  include <mswsock.h>
#  include <windows.h>
#  if GN__CC_MSVC
#    include <intrin.h>
#  endif
#  if defined(_MSC_VER)
#    pragma comment(lib, "ws2_32")
#  endif
#else
#  include <pthread.h>
#  include <sched.h>
#  include <unistd.h>
#  include <sys/mman.h>
#  include <sys/resource.h>
#  if GN__OS_LINUX
#    include <sys/syscall.h>
#  endif
#endif
#if GN__CTX_UCONTEXT
#  include <ucontext.h>
#endif
#if GN__ASAN
#  include <sanitizer/asan_interface.h>
#  include <sanitizer/common_interface_defs.h>
#endif
#if GN__TSAN
#  include <sanitizer/tsan_interface.h>
#endif
#if GN__VALGRIND
#  include <valgrind/valgrind.h>
#endif

/* ---- config hooks --------------------------------------------------------------*/
#if defined(GN_MALLOC) || defined(GN_REALLOC) || defined(GN_FREE)
#  if !defined(GN_MALLOC) || !defined(GN_REALLOC) || !defined(GN_FREE)
#    error "gonet.h: define all of GN_MALLOC, GN_REALLOC and GN_FREE, or none"
#  endif
#else
#  define GN_MALLOC(n)     malloc(n)
#  define GN_REALLOC(p, n) realloc(p, n)
#  define GN_FREE(p)       free(p)
#endif
#ifndef GN_ASSERT
#  include <assert.h>
#  define GN_ASSERT(c) assert(c)
#endif
#ifndef GN_STACK_SIZE
#  define GN_STACK_SIZE (64 * 1024)
#endif
#ifndef GN_MAX_PROCS
#  define GN_MAX_PROCS 256
#endif
#ifndef GN_MAX_THREADS
#  define GN_MAX_THREADS 10000
#endif

#if (defined(__GNUC__) || defined(__clang__)) && !GN__CC_MSVC
#  define GN__PRIVATE static __attribute__((unused))
#  define GN__NOINLINE __attribute__((noinline))
#  define GN__LIKELY(x) __builtin_expect(!!(x), 1)
#  define GN__UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif GN__CC_MSVC
#  define GN__PRIVATE static
#  define GN__NOINLINE __declspec(noinline)
#  define GN__LIKELY(x) (x)
#  define GN__UNLIKELY(x) (x)
#else
#  define GN__PRIVATE static
#  define GN__NOINLINE
#  define GN__LIKELY(x) (x)
#  define GN__UNLIKELY(x) (x)
#endif
/* Functions the optimiser must treat as opaque: no inlining, no cloning, no
 * deduction that they are pure. Thread-local accessors after a switch point.     */
#if GN__CC_MSVC
#  define GN__OPAQUE __declspec(noinline)
#elif defined(__clang__)
#  define GN__OPAQUE __attribute__((noinline, optnone))
#elif defined(__GNUC__)
#  define GN__OPAQUE __attribute__((noinline, noipa))
#else
#  define GN__OPAQUE
#endif
/* cl's C has no _Thread_local; C++ spells it its own way.                        */
#if defined(__cplusplus)
#  define GN__THREAD_LOCAL thread_local
#elif defined(_MSC_VER)
#  define GN__THREAD_LOCAL __declspec(thread)
#else
#  define GN__THREAD_LOCAL _Thread_local
#endif

#define GN__MIN(a, b) ((a) < (b) ? (a) : (b))
#define GN__MAX(a, b) ((a) > (b) ? (a) : (b))

/* Fatal runtime inconsistency: print and abort. Never used for user errors.      */
/* A GN_MALLOC'd copy of s, or NULL.                                             */
GN__PRIVATE char *gn__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = (char *)GN_MALLOC(n);
    if (d) memcpy(d, s, n);
    return d;
}

GN__PRIVATE void gn__fatal(const char *msg) {
    fprintf(stderr, "gonet: fatal: %s\n", msg);
    abort();
}

/* ---- atomics ---------------------------------------------------------------------
 * The GCC/Clang builtins, which ThreadSanitizer understands. Single-writer
 * counters use gn__count: a relaxed load and store, no locked instruction.
 * The _seq forms are sequentially consistent, for Dekker-style handshakes.      */
#if !GN__CC_MSVC
#define gn__load(p)           __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define gn__load_relaxed(p)   __atomic_load_n((p), __ATOMIC_RELAXED)
#define gn__store(p, v)       __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define gn__store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define gn__cas(p, expp, v)                                                         \
    __atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define gn__xadd(p, v)        __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define gn__xchg(p, v)        __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define gn__load_seq(p)       __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define gn__store_seq(p, v)   __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define gn__xadd_seq(p, v)    __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define gn__or_seq(p, v)      __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#else
/* cl has no type-generic atomics. Each operation goes to a function by the
 * operand's size (4 or 8 bytes: anything else does not compile), carrying the
 * value as uint64_t bits, and gn__atomic_as turns the result back into the
 * operand's type (_Generic in C, a template in C++), so callers read the same
 * on both paths. On x64 an aligned load is an acquire and an aligned store a
 * release in hardware: here they are volatile accesses, and _ReadWriteBarrier
 * keeps the compiler from moving other accesses across them (relaxed ones get
 * the same, which costs next to nothing). The read-modify-writes are
 * _Interlocked* intrinsics, locked instructions and so full barriers; a
 * sequentially consistent store is therefore an exchange, and a sequentially
 * consistent load a plain one.                                                  */
#define gn__atomic_n(p) (sizeof(char[sizeof *(p) == 4 || sizeof *(p) == 8 ? 1 : -1]) ? sizeof *(p) : 0)
#define gn__atomic_bits(v) ((uint64_t)(uintptr_t)(v))
#if defined(__cplusplus)
template <class T> static inline T gn__atomic_as(T *, uint64_t x) { return (T)x; }
#else
GN__PRIVATE uint32_t gn__atomic_u32(uint64_t x) { return (uint32_t)x; }
GN__PRIVATE int32_t gn__atomic_i32(uint64_t x) { return (int32_t)x; }
GN__PRIVATE uint64_t gn__atomic_u64(uint64_t x) { return x; }
GN__PRIVATE int64_t gn__atomic_i64(uint64_t x) { return (int64_t)x; }
GN__PRIVATE void *gn__atomic_ptr(uint64_t x) { return (void *)(uintptr_t)x; }
typedef void (*gn__atomic_fn)(void *);   /* a callback (gn__fd's on_close)          */
GN__PRIVATE gn__atomic_fn gn__atomic_func(uint64_t x) { return (gn__atomic_fn)(uintptr_t)x; }
#define gn__atomic_as(p, x) _Generic(*(p), uint32_t: gn__atomic_u32, int32_t: gn__atomic_i32, \
    uint64_t: gn__atomic_u64, int64_t: gn__atomic_i64, gn__atomic_fn: gn__atomic_func,      \
    default: gn__atomic_ptr)(x)
#endif
GN__PRIVATE uint64_t gn__atomic_ld(const volatile void *p, size_t n) {
    uint64_t v = n == 4 ? *(const volatile uint32_t *)p : *(const volatile uint64_t *)p;
    _ReadWriteBarrier();
    return v;
}
GN__PRIVATE void gn__atomic_st(volatile void *p, uint64_t v, size_t n) {
    _ReadWriteBarrier();
    if (n == 4) *(volatile uint32_t *)p = (uint32_t)v;
    else *(volatile uint64_t *)p = v;
}
GN__PRIVATE int gn__atomic_cas(volatile void *p, void *expp, uint64_t v, size_t n) {
    if (n == 4) {
        LONG e, o;
        memcpy(&e, expp, 4);
        o = _InterlockedCompareExchange((volatile LONG *)p, (LONG)v, e);
        if (o == e) return 1;
        memcpy(expp, &o, 4);
    } else {
        LONG64 e, o;
        memcpy(&e, expp, 8);
        o = _InterlockedCompareExchange64((volatile LONG64 *)p, (LONG64)v, e);
        if (o == e) return 1;
        memcpy(expp, &o, 8);
    }
    return 0;
}
GN__PRIVATE uint64_t gn__atomic_xadd(volatile void *p, uint64_t v, size_t n) {
    if (n == 4) return (uint32_t)_InterlockedExchangeAdd((volatile LONG *)p, (LONG)v);
    return (uint64_t)_InterlockedExchangeAdd64((volatile LONG64 *)p, (LONG64)v);
}
GN__PRIVATE uint64_t gn__atomic_xchg(volatile void *p, uint64_t v, size_t n) {
    if (n == 4) return (uint32_t)_InterlockedExchange((volatile LONG *)p, (LONG)v);
    return (uint64_t)_InterlockedExchange64((volatile LONG64 *)p, (LONG64)v);
}
GN__PRIVATE uint64_t gn__atomic_or(volatile void *p, uint64_t v, size_t n) {
    if (n == 4) return (uint32_t)_InterlockedOr((volatile LONG *)p, (LONG)v);
    return (uint64_t)_InterlockedOr64((volatile LONG64 *)p, (LONG64)v);
}
#define gn__load(p)           gn__atomic_as(p, gn__atomic_ld((p), gn__atomic_n(p)))
#define gn__load_relaxed(p)   gn__load(p)
#define gn__store(p, v)       gn__atomic_st((p), gn__atomic_bits(v), gn__atomic_n(p))
#define gn__store_relaxed(p, v) gn__store((p), (v))
#define gn__cas(p, expp, v)   gn__atomic_cas((p), (expp), gn__atomic_bits(v), gn__atomic_n(p))
#define gn__xadd(p, v)        gn__atomic_as(p, gn__atomic_xadd((p), gn__atomic_bits(v), gn__atomic_n(p)))
#define gn__xchg(p, v)        gn__atomic_as(p, gn__atomic_xchg((p), gn__atomic_bits(v), gn__atomic_n(p)))
#define gn__load_seq(p)       gn__load(p)
#define gn__store_seq(p, v)   ((void)gn__xchg((p), (v)))
#define gn__xadd_seq(p, v)    gn__xadd((p), (v))
#define gn__or_seq(p, v)      gn__atomic_as(p, gn__atomic_or((p), gn__atomic_bits(v), gn__atomic_n(p)))
#endif
#define gn__count(p, v)       gn__store_relaxed((p), gn__load_relaxed(p) + (v))

GN__PRIVATE void gn__cpu_relax(void) {
#if GN__CC_MSVC
    _mm_pause();
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ---- errors -------------------------------------------------------------------- */
/* The text for an errno value. The Windows C runtime names only the classic
 * ones (below 43); the POSIX names mingw's errno.h adds for sockets (100 and
 * up), which gn__err_from_wsa returns, it calls "Unknown error".             */
GN__PRIVATE const char *gn__errno_text(int e) {
#if GN__OS_WINDOWS
    static const struct { int e; const char *text; } names[] = {   /* glibc's words */
        {EADDRINUSE, "Address already in use"},   {EADDRNOTAVAIL, "Cannot assign requested address"},
        {EAFNOSUPPORT, "Address family not supported by protocol"},
        {EALREADY, "Operation already in progress"}, {ECONNABORTED, "Software caused connection abort"},
        {ECONNREFUSED, "Connection refused"},     {ECONNRESET, "Connection reset by peer"},
        {EDESTADDRREQ, "Destination address required"}, {EHOSTUNREACH, "No route to host"},
        {EINPROGRESS, "Operation now in progress"}, {EISCONN, "Transport endpoint is already connected"},
        {ELOOP, "Too many levels of symbolic links"}, {EMSGSIZE, "Message too long"},
        {ENETDOWN, "Network is down"},            {ENETRESET, "Network dropped connection on reset"},
        {ENETUNREACH, "Network is unreachable"},  {ENOBUFS, "No buffer space available"},
        {ENOPROTOOPT, "Protocol not available"},  {ENOTCONN, "Transport endpoint is not connected"},
        {ENOTSOCK, "Socket operation on non-socket"}, {EOPNOTSUPP, "Operation not supported"},
        {EPROTONOSUPPORT, "Protocol not supported"}, {EPROTOTYPE, "Protocol wrong type for socket"},
        {ETIMEDOUT, "Connection timed out"},      {EWOULDBLOCK, "Operation would block"},
        {ECANCELED, "Operation canceled"},        {EOVERFLOW, "Value too large for defined data type"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e) return names[i].text;
#endif
    return strerror(e);
}

GONET_API const char *gn_version(void) { return GONET_VERSION_STRING; }

GONET_API const char *gn_strerror(int err) {
    switch (err) {
    case GN_OK:        return "success";
    case GN_EOF:       return "end of file";
    case GN_ETIMEDOUT: return "deadline exceeded";
    case GN_ECLOSED:   return "use of closed channel or connection";
    case GN_ECANCELED: return "context canceled";
    case GN_EAGAIN:    return "operation would block";
    case GN_ENOMEM:    return "out of memory";
    case GN_EINVAL:    return "invalid argument";
    case GN_ESTATE:    return "invalid state for this call";
    case GN_ENOSYS:    return "not supported";
    case GN_EBUFFULL:  return "buffer full";
    case GN_EUNEXPECTEDEOF: return "unexpected end of file";
    case GN_ENOPROGRESS: return "multiple reads returned no data";
    case GN_EUNREAD:   return "invalid use of unread byte";
    case GN_ENOHOST:   return "no such host";
    case GN_EHTTP:     return "malformed HTTP message";
    case GN_ECONFLICT: return "pattern conflicts with a registered pattern";
    case GN_ETOOLARGE: return "message too large";
    default: break;
    }
    if (err < 0 && err > -4000) return gn__errno_text(-err);
    return "unknown error";
}

/* Maps an errno value to a return code. The one place that reads errno's meaning. */
GN__PRIVATE int gn__err_from_errno(int e) {
    switch (e) {
    case 0:         return GN_OK;
    case ENOMEM:    return GN_ENOMEM;
    case EINVAL:    return GN_EINVAL;
    case ETIMEDOUT: return GN_ETIMEDOUT;
    case ECANCELED: return GN_ECANCELED;
#if EAGAIN != EWOULDBLOCK
    case EWOULDBLOCK:
#endif
    case EAGAIN:    return GN_EAGAIN;
    default:        return -e;
    }
}

#if GN__OS_WINDOWS
/* Maps a Winsock (or Win32, from an overlapped result) error to a return code:
 * the errno a POSIX system gives in the same case, so callers test one set of
 * names everywhere (-ECONNRESET, -ECONNREFUSED, -EADDRINUSE, ...).            */
GN__PRIVATE int gn__err_from_wsa(int e) {
    switch (e) {
    case 0:                      return GN_OK;
    case WSA_NOT_ENOUGH_MEMORY:  return GN_ENOMEM;
    case WSAEINVAL:              return GN_EINVAL;
    case WSAEWOULDBLOCK:         return GN_EAGAIN;
    case WSAETIMEDOUT:
    case ERROR_SEM_TIMEOUT:      return GN_ETIMEDOUT;
    case WSA_OPERATION_ABORTED:  return GN_ECANCELED;
    case WSAEINTR:               return -EINTR;
    case WSAEBADF:
    case WSA_INVALID_HANDLE:     return -EBADF;
    case WSAEACCES:              return -EACCES;
    case WSAEFAULT:              return -EFAULT;
    case WSAEMFILE:              return -EMFILE;
    case WSAEINPROGRESS:         return -EINPROGRESS;
    case WSAEALREADY:            return -EALREADY;
    case WSAENOTSOCK:            return -ENOTSOCK;
    case WSAEDESTADDRREQ:        return -EDESTADDRREQ;
    case WSAEMSGSIZE:            return -EMSGSIZE;
    case WSAEPROTOTYPE:          return -EPROTOTYPE;
    case WSAENOPROTOOPT:         return -ENOPROTOOPT;
    case WSAEPROTONOSUPPORT:     return -EPROTONOSUPPORT;
    case WSAESOCKTNOSUPPORT:
    case WSAEOPNOTSUPP:          return -EOPNOTSUPP;
    case WSAEPFNOSUPPORT:
    case WSAEAFNOSUPPORT:        return -EAFNOSUPPORT;
    case WSAEADDRINUSE:          return -EADDRINUSE;
    case WSAEADDRNOTAVAIL:       return -EADDRNOTAVAIL;
    case WSAENETDOWN:            return -ENETDOWN;
    case WSAENETUNREACH:         return -ENETUNREACH;
    case WSAENETRESET:           return -ENETRESET;
    case WSAECONNABORTED:
    case ERROR_CONNECTION_ABORTED: return -ECONNABORTED;
    case WSAECONNRESET:
    case ERROR_NETNAME_DELETED:  return -ECONNRESET;
    case WSAENOBUFS:             return -ENOBUFS;
    case WSAEISCONN:             return -EISCONN;
    case WSAENOTCONN:            return -ENOTCONN;
    case WSAESHUTDOWN:           return -EPIPE;   /* a write after close_write, as POSIX */
    case WSAECONNREFUSED:
    case ERROR_CONNECTION_REFUSED: return -ECONNREFUSED;
    case WSAELOOP:               return -ELOOP;
    case WSAENAMETOOLONG:        return -ENAMETOOLONG;
    case WSAEHOSTDOWN:
    case WSAEHOSTUNREACH:
    case ERROR_HOST_UNREACHABLE: return -EHOSTUNREACH;
    case ERROR_NETWORK_UNREACHABLE: return -ENETUNREACH;
    case WSANOTINITIALISED:
    case WSASYSNOTREADY:
    case WSAVERNOTSUPPORTED:     return GN_ENOSYS;
    default:                     return -EIO;
    }
}
#endif
/* ==== end src/impl_base.c ==== */

/* ==== begin src/os_posix.c ==== */
/* os_posix.c — the OS layer shared by every POSIX system: clock, memory
 * mappings, threads, sleeping. Every other part reaches the OS through the
 * gn__os_* functions; what differs between POSIX systems (the futex, the CPU
 * count, a thread's stack bounds) is in os_linux.c, os_darwin.c and os_bsd.c,
 * and Windows has os_windows.c.
 *
 * >>os-posix                                                                    */
#if GN__OS_POSIX

GONET_API int64_t gn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * GN_SECOND + ts.tv_nsec;
}

/* Process-wide set-up for a run (Winsock and the timer resolution on Windows):
 * nothing to do on POSIX. 0 or a negative code.                               */
GN__PRIVATE int gn__os_init(void) { return 0; }
GN__PRIVATE void gn__os_fini(void) {}

GN__PRIVATE int gn__os_page_size(void) {
    static int page;
    if (!page) page = (int)sysconf(_SC_PAGESIZE);
    return page;
}

/* Stack memory. The BSDs and macOS spell MAP_ANONYMOUS MAP_ANON (newer ones
 * accept both); FreeBSD and OpenBSD have no MAP_NORESERVE, and they never
 * reserve swap for untouched pages anyway. OpenBSD kills a process whose stack
 * pointer is outside a MAP_STACK mapping at a system call or a fault, and a
 * coroutine's stack is exactly that; elsewhere MAP_STACK is a mere hint (or,
 * on FreeBSD, a grow-down region we do not want), so only OpenBSD gets it.     */
#if defined(MAP_ANONYMOUS)
#  define GN__MAP_ANON MAP_ANONYMOUS
#else
#  define GN__MAP_ANON MAP_ANON
#endif
#if defined(MAP_NORESERVE)
#  define GN__MAP_NORESERVE MAP_NORESERVE
#else
#  define GN__MAP_NORESERVE 0
#endif
#if defined(__OpenBSD__) && defined(MAP_STACK)
#  define GN__MAP_STACK MAP_STACK
#else
#  define GN__MAP_STACK 0
#endif

/* The thread's last-error value, which the runtime keeps per coroutine like
 * errno: Windows' GetLastError(); POSIX has none.                             */
GN__PRIVATE uint32_t gn__os_lasterr(void) { return 0; }
GN__PRIVATE void gn__os_set_lasterr(uint32_t e) { (void)e; }

/* Bytes below each coroutine stack kept for its guard (gn__os_stack_ready).    */
GN__PRIVATE size_t gn__os_guard_size(void) { return (size_t)gn__os_page_size(); }

GN__PRIVATE void *gn__os_map(size_t size) {
    int saved = errno;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | GN__MAP_ANON | GN__MAP_NORESERVE | GN__MAP_STACK, -1, 0);
    errno = saved;
    return p == MAP_FAILED ? NULL : p;
}
GN__PRIVATE void gn__os_unmap(void *p, size_t size) {
    int saved = errno;
    munmap(p, size);
    errno = saved;
}
/* Makes [p, p + size), a slot of a gn__os_map mapping, ready for a stack: the
 * mapping is usable as it is (pages come as they are touched), so only the
 * guard, the lowest guard bytes, needs doing. 0, or -1 (out of mappings).      */
GN__PRIVATE int gn__os_stack_ready(void *p, size_t size, size_t guard, int guarded) {
    (void)size;
    if (!guarded) return 0;
    int saved = errno;
    int rc = mprotect(p, guard, PROT_NONE);
    errno = saved;
    return rc;
}

typedef pthread_t gn__os_thread;

GN__PRIVATE int gn__os_thread_start(gn__os_thread *t, void *(*fn)(void *), void *arg) {
    int saved = errno;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* Asynchronous signals belong to the user's threads, not the runtime's. The
     * synchronous ones stay open: a fault on a blocked SIGSEGV kills the process
     * without running the stack-overflow report.                                  */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    errno = saved;
    return rc ? -rc : 0;
}
GN__PRIVATE void gn__os_thread_join(gn__os_thread t) { pthread_join(t, NULL); }

GN__PRIVATE void gn__os_usleep(int64_t ns) {
    struct timespec ts = {(time_t)(ns / GN_SECOND), (long)(ns % GN_SECOND)};
    nanosleep(&ts, NULL);
}

GN__PRIVATE void gn__os_yield_thread(void) { sched_yield(); }

#if GN__FUTEX_EMULATED
/* ---- the portable futex (GN_FUTEX_EMULATED; NetBSD) -------------------------
 * A sleeper waits on the condition variable of one of a fixed set of buckets,
 * picked by hashing the address. Addresses that share a bucket share its
 * condition variable, so a wake broadcasts and each woken sleeper goes back to
 * its caller, which re-checks its word (the contract allows spurious
 * wake-ups). A sleeper compares *addr under the bucket's mutex and a waker
 * broadcasts under it, so a wake that follows a change of *addr cannot fall
 * between a sleeper's compare and its sleep.
 * Most wakes find nobody asleep (an unlock that raced a spinning locker, a
 * note nobody sleeps on), so each bucket counts its sleepers and a waker
 * that reads 0 skips the mutex. That read is safe: the waker changed *addr
 * before calling, then a full fence, then reads the count; a sleeper raises
 * the count, then a full fence, then reads *addr. With both fences one of the
 * two sees the other's write: the sleeper does not sleep, or the waker
 * broadcasts.                                                                  */
#define GN__FUTEX_BUCKETS 64

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    uint32_t        sleepers;     /* atomic; changed under mu                     */
} gn__futex_bucket;

static gn__futex_bucket gn__futex_tab[GN__FUTEX_BUCKETS];
static pthread_once_t gn__futex_once = PTHREAD_ONCE_INIT;
#if !defined(__APPLE__)
static clockid_t gn__futex_clock = CLOCK_REALTIME;   /* what the condvars time by */
#endif

/* Timed waits run on the monotonic clock where the condition variable can be
 * told so: a wall-clock step must not stretch or cut a runtime sleep. macOS
 * cannot, and times its waits relatively instead (below).                     */
GN__PRIVATE void gn__futex_init(void) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) gn__fatal("cannot create the futex buckets");
#if !defined(__APPLE__)
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0) gn__futex_clock = CLOCK_MONOTONIC;
#endif
    for (int i = 0; i < GN__FUTEX_BUCKETS; i++) {
        if (pthread_mutex_init(&gn__futex_tab[i].mu, NULL) != 0 ||
            pthread_cond_init(&gn__futex_tab[i].cv, &ca) != 0)
            gn__fatal("cannot create the futex buckets");
    }
    pthread_condattr_destroy(&ca);
}

GN__PRIVATE gn__futex_bucket *gn__futex_bucket_of(const uint32_t *addr) {
    uint32_t h = (uint32_t)((uintptr_t)addr >> 2) * 2654435761u;   /* Fibonacci hashing */
    return &gn__futex_tab[h >> (32 - 6)];
}

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit); may return
 * early. Leaves errno as it found it, like os_linux.c's.                      */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    int saved = errno;
    pthread_once(&gn__futex_once, gn__futex_init);
    gn__futex_bucket *b = gn__futex_bucket_of(addr);
    if (ns > GN_HOUR) ns = GN_HOUR;   /* an early return is allowed; overflow is not */
    pthread_mutex_lock(&b->mu);
    gn__xadd(&b->sleepers, 1u);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(addr, __ATOMIC_RELAXED) == val) {
        if (ns < 0) {
            pthread_cond_wait(&b->cv, &b->mu);
        } else {
#if defined(__APPLE__)
            struct timespec rel = {(time_t)(ns / GN_SECOND), (long)(ns % GN_SECOND)};
            pthread_cond_timedwait_relative_np(&b->cv, &b->mu, &rel);
#else
            struct timespec at;
            clock_gettime(gn__futex_clock, &at);
            at.tv_sec += (time_t)(ns / GN_SECOND);
            at.tv_nsec += (long)(ns % GN_SECOND);
            if (at.tv_nsec >= 1000000000L) {
                at.tv_sec++;
                at.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&b->cv, &b->mu, &at);
#endif
        }
    }
    __atomic_fetch_sub(&b->sleepers, 1u, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&b->mu);
    errno = saved;
}

/* Wakes the sleepers on addr (all of the bucket's: see above), n ignored.     */
GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    (void)n;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    gn__futex_bucket *b = gn__futex_bucket_of(addr);
    if (__atomic_load_n(&b->sleepers, __ATOMIC_ACQUIRE) == 0) return;
    int saved = errno;
    pthread_mutex_lock(&b->mu);   /* a non-zero count means the buckets exist */
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    errno = saved;
}
#endif /* GN__FUTEX_EMULATED */

/* SIGQUIT for the coroutine dump (gn_config.quit_dump): fn runs in the handler,
 * so it may only do what is async-signal-safe. NULL puts the old action back.   */
static void (*gn__quit_fn)(void);
static struct sigaction gn__quit_old;

static void gn__quit_handler(int sig) {
    (void)sig;
    int saved = errno;
    if (gn__quit_fn) gn__quit_fn();
    errno = saved;
}

GN__PRIVATE int gn__os_quit_hook(void (*fn)(void)) {
    if (!fn) {
        if (!gn__quit_fn) return 0;
        sigaction(SIGQUIT, &gn__quit_old, NULL);
        gn__quit_fn = NULL;
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gn__quit_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    gn__quit_fn = fn;
    if (sigaction(SIGQUIT, &sa, &gn__quit_old) != 0) {
        gn__quit_fn = NULL;
        return gn__err_from_errno(errno);
    }
    return 0;
}

#endif /* GN__OS_POSIX */
/* ==== end src/os_posix.c ==== */

/* ==== begin src/sys_posix.c ==== */
/* sys_posix.c — the system calls of the I/O path, in one place: the sockets'
 * (socket, bind, listen, accept4 (accept on macOS), connect, read, write,
 * send, sendmsg, writev, recv, recvfrom, sendto, shutdown, close, socket
 * options), the pollers' (epoll, eventfd and pipe wake-ups, poll) and the
 * file server's (open, openat, openat2, fstat, pread). net_posix.c, net.c,
 * poll_epoll.c, poll_poll.c and fs_posix.c make these calls only through
 * gn__sys_*; what they still call directly (getsockname, getpeername, fcntl,
 * the resolver, realpath, readdir) is left out: off the request path, or
 * failing only on a bad descriptor.
 *
 * Each gn__sys_* is a static inline pass-through, so a normal build compiles
 * it to the bare call. A build with GN_FAULT_INJECTION=1 (tests) links a
 *     int gn__fault_hook(int call, int fd);   call: one of GN__SYS_* below;
 *                                             fd: what it acts on, or -1
 * that every wrapper asks first: 0 lets the call happen; an errno value fails
 * it as the OS would (-1, errno set) without making it. That is how a test
 * walks a failure over every call of a request. close is the one exception:
 * it releases the descriptor whatever it reports, as Linux's does, so that an
 * injected failure leaks nothing a real one would not. Windows' calls
 * (net_windows.c, poll_iocp.c, fs_windows.c) do not come through here, nor do
 * the kqueue poller's own (kevent, its wake pipe).
 *
 * >>sys-posix                                                                    */
#if GN__OS_POSIX

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#if GN__OS_LINUX
#  include <sys/eventfd.h>
#endif
#if GN__POLL_EPOLL
#  include <sys/epoll.h>
#endif
/* Numbers of calls newer than some C libraries' headers.                        */
#if GN__OS_LINUX && !defined(SYS_epoll_pwait2) && (defined(__x86_64__) || defined(__aarch64__))
#  define SYS_epoll_pwait2 441
#endif
#if GN__OS_LINUX && !defined(SYS_openat2) && (defined(__x86_64__) || defined(__aarch64__))
#  define SYS_openat2 437
#endif

enum {
    GN__SYS_READ = 1, GN__SYS_WRITE, GN__SYS_WRITEV, GN__SYS_SEND, GN__SYS_SENDMSG, GN__SYS_RECV,
    GN__SYS_RECVFROM, GN__SYS_SENDTO, GN__SYS_ACCEPT, GN__SYS_CONNECT, GN__SYS_SOCKET, GN__SYS_BIND,
    GN__SYS_LISTEN, GN__SYS_SETSOCKOPT, GN__SYS_GETSOCKOPT, GN__SYS_SHUTDOWN, GN__SYS_CLOSE,
    GN__SYS_POLL_CREATE, GN__SYS_POLL_CTL, GN__SYS_POLL_WAIT,
    GN__SYS_WAKE_OPEN, GN__SYS_WAKE_WRITE, GN__SYS_WAKE_READ,   /* eventfd / pipe */
    GN__SYS_OPEN, GN__SYS_FSTAT, GN__SYS_PREAD,
    GN__SYS_COUNT
};

#if defined(GN_FAULT_INJECTION) && GN__FLAG_SET(GN_FAULT_INJECTION)
#  define GN__FAULTS 1
#  ifdef __cplusplus
extern "C"
#  endif
int gn__fault_hook(int call, int fd);
/* Leaves the wrapper failed when the hook says so.                              */
#  define GN__SYS_FAULT(call, fd)                                                  \
    do {                                                                         \
        int gn__e = gn__fault_hook((call), (fd));                                \
        if (gn__e) {                                                             \
            errno = gn__e;                                                       \
            return -1;                                                           \
        }                                                                        \
    } while (0)
#else
#  define GN__SYS_FAULT(call, fd) ((void)0)
#endif

static inline ssize_t gn__sys_read(int fd, void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_READ, fd);
    return read(fd, buf, n);
}
static inline ssize_t gn__sys_write(int fd, const void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_WRITE, fd);
    return write(fd, buf, n);
}
static inline ssize_t gn__sys_writev(int fd, const struct iovec *iov, int n) {
    GN__SYS_FAULT(GN__SYS_WRITEV, fd);
    return writev(fd, iov, n);
}
static inline ssize_t gn__sys_send(int fd, const void *buf, size_t n, int flags) {
    GN__SYS_FAULT(GN__SYS_SEND, fd);
    return send(fd, buf, n, flags);
}
static inline ssize_t gn__sys_sendmsg(int fd, const struct msghdr *mh, int flags) {
    GN__SYS_FAULT(GN__SYS_SENDMSG, fd);
    return sendmsg(fd, mh, flags);
}
static inline ssize_t gn__sys_recv(int fd, void *buf, size_t n, int flags) {
    GN__SYS_FAULT(GN__SYS_RECV, fd);
    return recv(fd, buf, n, flags);
}
static inline ssize_t gn__sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len) {
    GN__SYS_FAULT(GN__SYS_RECVFROM, fd);
    return recvfrom(fd, buf, n, flags, sa, len);
}
static inline ssize_t gn__sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
                                     socklen_t len) {
    GN__SYS_FAULT(GN__SYS_SENDTO, fd);
    return sendto(fd, buf, n, flags, sa, len);
}
#if GN__OS_DARWIN   /* no accept4: net_posix.c sets the flags afterwards */
static inline int gn__sys_accept(int fd) {
    GN__SYS_FAULT(GN__SYS_ACCEPT, fd);
    return accept(fd, NULL, NULL);
}
#else
static inline int gn__sys_accept4(int fd, int flags) {
    GN__SYS_FAULT(GN__SYS_ACCEPT, fd);
    return accept4(fd, NULL, NULL, flags);
}
#endif
static inline int gn__sys_connect(int fd, const struct sockaddr *sa, socklen_t len) {
    GN__SYS_FAULT(GN__SYS_CONNECT, fd);
    return connect(fd, sa, len);
}
static inline int gn__sys_socket(int family, int type, int protocol) {
    GN__SYS_FAULT(GN__SYS_SOCKET, -1);
    return socket(family, type, protocol);
}
static inline int gn__sys_bind(int fd, const struct sockaddr *sa, socklen_t len) {
    GN__SYS_FAULT(GN__SYS_BIND, fd);
    return bind(fd, sa, len);
}
static inline int gn__sys_listen(int fd, int backlog) {
    GN__SYS_FAULT(GN__SYS_LISTEN, fd);
    return listen(fd, backlog);
}
static inline int gn__sys_setsockopt(int fd, int level, int name, const void *v, socklen_t len) {
    GN__SYS_FAULT(GN__SYS_SETSOCKOPT, fd);
    return setsockopt(fd, level, name, v, len);
}
static inline int gn__sys_getsockopt(int fd, int level, int name, void *v, socklen_t *len) {
    GN__SYS_FAULT(GN__SYS_GETSOCKOPT, fd);
    return getsockopt(fd, level, name, v, len);
}
static inline int gn__sys_shutdown(int fd, int how) {
    GN__SYS_FAULT(GN__SYS_SHUTDOWN, fd);
    return shutdown(fd, how);
}
static inline int gn__sys_close(int fd) {
#if GN__FAULTS
    int e = gn__fault_hook(GN__SYS_CLOSE, fd);
    if (e) {
        close(fd);   /* gone all the same, as on Linux after EINTR */
        errno = e;
        return -1;
    }
#endif
    return close(fd);
}

/* ---- the pollers' ---------------------------------------------------------------- */
static inline int gn__sys_poll(struct pollfd *pf, nfds_t n, int ms) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, -1);
    return poll(pf, n, ms);
}
#if (defined(__linux__) && defined(_GNU_SOURCE)) || defined(__FreeBSD__)
static inline int gn__sys_ppoll(struct pollfd *pf, nfds_t n, const struct timespec *ts) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, -1);
    return ppoll(pf, n, ts, NULL);
}
#endif
/* A non-blocking, close-on-exec pipe (the pollers' wake-up, the signal pipe):
 * 0, or -1 and errno. pipe2 on Linux and the BSDs; macOS has none, so there
 * pipe and fcntl, where a fork on another thread between the calls may leak
 * the pipe into a program the child execs (harmless to us: this process keeps
 * its ends).                                                                  */
static inline int gn__sys_pipe_nb(int p[2]) {
    GN__SYS_FAULT(GN__SYS_WAKE_OPEN, -1);
#if GN__OS_LINUX || GN__OS_BSD
    return pipe2(p, O_CLOEXEC | O_NONBLOCK);
#else
    if (pipe(p) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(p[i], F_GETFL);
        if (fl < 0 || fcntl(p[i], F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(p[i], F_SETFD, FD_CLOEXEC) != 0) {
            int e = errno;
            close(p[0]);
            close(p[1]);
            errno = e;
            return -1;
        }
    }
    return 0;
#endif
}
static inline ssize_t gn__sys_wake_write(int fd, const void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_WAKE_WRITE, fd);
    return write(fd, buf, n);
}
static inline ssize_t gn__sys_wake_read(int fd, void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_WAKE_READ, fd);
    return read(fd, buf, n);
}
#if GN__OS_LINUX
static inline int gn__sys_eventfd(unsigned v, int flags) {
    GN__SYS_FAULT(GN__SYS_WAKE_OPEN, -1);
    return eventfd(v, flags);
}
#endif
#if GN__POLL_EPOLL
static inline int gn__sys_epoll_create(void) {
    GN__SYS_FAULT(GN__SYS_POLL_CREATE, -1);
    return epoll_create1(EPOLL_CLOEXEC);
}
static inline int gn__sys_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev) {
    GN__SYS_FAULT(GN__SYS_POLL_CTL, fd);
    return epoll_ctl(ep, op, fd, ev);
}
static inline int gn__sys_epoll_wait(int ep, struct epoll_event *evs, int max, int ms) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, ep);
    return epoll_wait(ep, evs, max, ms);
}
#  if defined(SYS_epoll_pwait2)
static inline long gn__sys_epoll_pwait2(int ep, struct epoll_event *evs, int max, const struct timespec *ts) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, ep);
    return syscall(SYS_epoll_pwait2, ep, evs, max, ts, NULL, 0);
}
#  endif
#endif

/* ---- the file server's --------------------------------------------------------------- */
static inline int gn__sys_open(const char *path, int flags) {
    GN__SYS_FAULT(GN__SYS_OPEN, -1);
    return open(path, flags);
}
static inline int gn__sys_openat(int dirfd, const char *path, int flags) {
    GN__SYS_FAULT(GN__SYS_OPEN, -1);
    return openat(dirfd, path, flags);
}
static inline int gn__sys_fstat(int fd, struct stat *st) {
    GN__SYS_FAULT(GN__SYS_FSTAT, fd);
    return fstat(fd, st);
}
#if defined(SYS_openat2)
/* how: struct open_how, which not every C library declares.                     */
static inline int gn__sys_openat2(int dirfd, const char *path, const void *how, size_t size) {
    GN__SYS_FAULT(GN__SYS_OPEN, -1);
    return (int)syscall(SYS_openat2, dirfd, path, how, size);
}
#endif
static inline ssize_t gn__sys_pread(int fd, void *buf, size_t n, off_t off) {
    GN__SYS_FAULT(GN__SYS_PREAD, fd);
    return pread(fd, buf, n, off);
}

#else /* Windows: the calls net.c shares with POSIX, straight through.         */
#  define gn__sys_bind bind
#  define gn__sys_listen listen
#  define gn__sys_setsockopt setsockopt
#  define gn__sys_shutdown shutdown
#endif /* GN__OS_POSIX */
/* ==== end src/sys_posix.c ==== */

/* ==== begin src/os_linux.c ==== */
/* os_linux.c — the OS layer's Linux part: the futex (unless GN_FUTEX_EMULATED
 * asks for os_posix.c's), the CPU count (affinity and cgroup quota),
 * vm.max_map_count, a thread's stack bounds.
 *
 * >>os-linux                                                                    */
#if GN__OS_LINUX

#if !GN__FUTEX_EMULATED
/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit). Spurious
 * wake-ups are allowed; callers re-check. Like every OS call the runtime makes
 * on a coroutine's behalf, it leaves errno as it found it: the coroutine's
 * errno is saved only at its next switch, after this has run.                  */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    int saved = errno;
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = (time_t)(ns / GN_SECOND);
        ts.tv_nsec = (long)(ns % GN_SECOND);
        tsp = &ts;
    }
    syscall(SYS_futex, addr, 128 /* FUTEX_WAIT_PRIVATE */, val, tsp, NULL, 0);
    errno = saved;
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    int saved = errno;
    syscall(SYS_futex, addr, 129 /* FUTEX_WAKE_PRIVATE */, n, NULL, NULL, 0);
    errno = saved;
}
#endif /* !GN__FUTEX_EMULATED */

/* CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota
 * (rounded up), as Go 1.25 does for GOMAXPROCS.                                  */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char quota[32];
        long period = 0;
        if (fscanf(f, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
            long q = strtol(quota, NULL, 10);
            int lim = (int)((q + period - 1) / period);
            if (lim >= 1 && lim < n) n = lim;
        }
        fclose(f);
    }
    return n;
}

/* vm.max_map_count: each guarded stack costs two mappings.                       */
GN__PRIVATE long gn__os_max_map_count(void) {
    long n = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1) n = 65530;
        fclose(f);
    }
    return n;
}

/* Bounds of the calling thread's stack, for the sanitizers' fiber bookkeeping.   */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t sz = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &sz);
        pthread_attr_destroy(&attr);
    }
    *lo = (char *)addr;
    *size = sz;
}

#endif /* GN__OS_LINUX */
/* ==== end src/os_linux.c ==== */

/* ==== begin src/os_darwin.c ==== */
/* os_darwin.c — the OS layer's macOS part: the futex, the CPU count, the map
 * limit, a thread's stack bounds (what os_linux.c is on Linux).
 *
 * The futex. macOS 14.4 made a wait-on-address public:
 * os_sync_wait_on_address. Before it there are only the private __ulock_wait
 * and __ulock_wake, which libc++ builds std::atomic<T>::wait on and which
 * every release since 10.12 has kept; they are what an older system (or an
 * SDK without the header) gets. A build with clang checks at run time which
 * one the system has, so one binary serves both.
 *
 * >>os-darwin                                                                    */
#if GN__OS_DARWIN

#include <sys/sysctl.h>

#if !GN__FUTEX_EMULATED
#  if defined(__clang__) && defined(__has_include)
#    if __has_include(<os/os_sync_wait_on_address.h>)
#      include <os/os_sync_wait_on_address.h>
#      define GN__DARWIN_OS_SYNC 1
#    endif
#  endif

#ifdef __cplusplus
extern "C" {
#endif
/* Not in any SDK header; the prototypes are libc++'s and xnu's. timeout_us 0
 * means no limit.                                                              */
extern int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
#ifdef __cplusplus
}
#endif
#define GN__UL_COMPARE_AND_WAIT 1            /* a 32-bit word, this process only */
#define GN__ULF_WAKE_ALL        0x00000100
#define GN__ULF_NO_ERRNO        0x01000000   /* report -errno, leave errno alone */

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit); may return
 * early (signals, spurious wake-ups); callers re-check. Leaves errno alone.    */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    if (ns == 0) return;   /* both calls read a zero timeout as "no limit" */
    int saved = errno;
#if GN__DARWIN_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, *)) {
        if (ns < 0)
            os_sync_wait_on_address(addr, val, sizeof *addr, OS_SYNC_WAIT_ON_ADDRESS_NONE);
        else
            os_sync_wait_on_address_with_timeout(addr, val, sizeof *addr, OS_SYNC_WAIT_ON_ADDRESS_NONE,
                                                 OS_CLOCK_MACH_ABSOLUTE_TIME, (uint64_t)ns);
        errno = saved;
        return;
    }
#endif
    uint32_t us = 0;
    if (ns > 0) {   /* whole microseconds, rounded up so a sleep is never cut short */
        int64_t u = (ns + 999) / 1000;
        us = u > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)u;
    }
    __ulock_wait(GN__UL_COMPARE_AND_WAIT | GN__ULF_NO_ERRNO, addr, val, us);
    errno = saved;
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    int saved = errno;
#if GN__DARWIN_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, *)) {
        if (n == 1)
            os_sync_wake_by_address_any(addr, sizeof *addr, OS_SYNC_WAKE_BY_ADDRESS_NONE);
        else
            os_sync_wake_by_address_all(addr, sizeof *addr, OS_SYNC_WAKE_BY_ADDRESS_NONE);
        errno = saved;
        return;
    }
#endif
    /* -ENOENT (nobody waits) is the common answer and needs nothing done.      */
    __ulock_wake(GN__UL_COMPARE_AND_WAIT | GN__ULF_NO_ERRNO | (n == 1 ? 0 : GN__ULF_WAKE_ALL), addr, 0);
    errno = saved;
}
#endif /* !GN__FUTEX_EMULATED */

/* CPUs this process may use. macOS has no affinity masks and no CPU quotas to
 * honour, so it is the active CPUs (fewer than hw.ncpu on a machine with some
 * switched off).                                                              */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
    size_t len = sizeof n;
    if (sysctlbyname("hw.activecpu", &n, &len, NULL, 0) != 0 || n <= 0)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* The Mach VM has no limit on the number of mappings (Linux's
 * vm.max_map_count): every stack may have its guard page.                      */
GN__PRIVATE long gn__os_max_map_count(void) { return LONG_MAX / 4; }

/* Bounds of the calling thread's stack, for the sanitizers' fiber bookkeeping.
 * pthread_get_stackaddr_np gives the top (the highest address), not the base. */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    pthread_t self = pthread_self();
    char *top = (char *)pthread_get_stackaddr_np(self);
    size_t sz = pthread_get_stacksize_np(self);
    *lo = top ? top - sz : NULL;
    *size = top ? sz : 0;
}

#endif /* GN__OS_DARWIN */
/* ==== end src/os_darwin.c ==== */

/* ==== begin src/os_bsd.c ==== */
/* os_bsd.c — the OS layer's part for FreeBSD, DragonFly, OpenBSD and NetBSD:
 * the futex, the CPU count, the map limit, a thread's stack bounds (what
 * os_linux.c is on Linux). Each system has its own futex: FreeBSD _umtx_op,
 * DragonFly umtx_sleep and umtx_wakeup, OpenBSD futex(2); NetBSD keeps its
 * futex for Linux emulation, so it gets os_posix.c's portable one.
 *
 * >>os-bsd                                                                       */
#if GN__OS_BSD

#include <sys/param.h>
#include <pthread.h>
#if defined(__FreeBSD__) || defined(__DragonFly__) || defined(__OpenBSD__)
#  include <pthread_np.h>
#endif
#if defined(__FreeBSD__)
#  include <sys/cpuset.h>
#endif

#if !GN__FUTEX_EMULATED
#if defined(__FreeBSD__)
#  include <sys/umtx.h>
#elif defined(__OpenBSD__)
#  include <sys/futex.h>
#endif

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit); may return
 * early (signals, spurious wake-ups); callers re-check. Leaves errno alone.    */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    if (ns == 0) return;
    int saved = errno;
    if (ns > GN_HOUR) ns = GN_HOUR;   /* an early return is allowed; overflow is not */
#if defined(__FreeBSD__)
    /* The _umtx_time form names the clock: a relative wait on the monotonic
     * one (a bare timespec would be measured on the realtime clock).          */
    struct _umtx_time ut;
    memset(&ut, 0, sizeof ut);
    ut._timeout.tv_sec = (time_t)(ns / GN_SECOND);
    ut._timeout.tv_nsec = (long)(ns % GN_SECOND);
    ut._flags = 0;
    ut._clockid = CLOCK_MONOTONIC;
    _umtx_op(addr, UMTX_OP_WAIT_UINT_PRIVATE, val, ns < 0 ? NULL : (void *)(uintptr_t)sizeof ut,
             ns < 0 ? NULL : &ut);
#elif defined(__DragonFly__)
    /* Microseconds, where 0 means no limit: round up, never down to 0.        */
    int us = 0;
    if (ns > 0) {
        int64_t u = (ns + 999) / 1000;
        us = u > INT_MAX ? INT_MAX : (int)u;
    }
    umtx_sleep((volatile const int *)addr, (int)val, us);
#elif defined(__OpenBSD__)
    struct timespec ts, *tsp = NULL;
    if (ns > 0) {
        ts.tv_sec = (time_t)(ns / GN_SECOND);
        ts.tv_nsec = (long)(ns % GN_SECOND);
        tsp = &ts;
    }
#  ifdef FUTEX_PRIVATE_FLAG
    futex(addr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, (int)val, tsp, NULL);
#  else
    futex(addr, FUTEX_WAIT, (int)val, tsp, NULL);
#  endif
#else
#  error "gonet.h: no futex for this BSD; build with GN_FUTEX_EMULATED=1"
#endif
    errno = saved;
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    int saved = errno;
#if defined(__FreeBSD__)
    _umtx_op(addr, UMTX_OP_WAKE_PRIVATE, (u_long)n, NULL, NULL);
#elif defined(__DragonFly__)
    umtx_wakeup((volatile const int *)addr, n);
#elif defined(__OpenBSD__)
#  ifdef FUTEX_PRIVATE_FLAG
    futex(addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL);
#  else
    futex(addr, FUTEX_WAKE, n, NULL, NULL);
#  endif
#endif
    errno = saved;
}
#endif /* !GN__FUTEX_EMULATED */

/* CPUs this process may use: FreeBSD's affinity mask (cpuset(1) and jails
 * narrow it), elsewhere the CPUs online.                                      */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
#if defined(__FreeBSD__) && defined(CPU_COUNT)
    cpuset_t set;
    CPU_ZERO(&set);
    if (cpuset_getaffinity(CPU_LEVEL_WHICH, CPU_WHICH_PID, -1, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* No BSD caps the number of mappings a process may have (Linux's
 * vm.max_map_count): every stack may have its guard page.                      */
GN__PRIVATE long gn__os_max_map_count(void) { return LONG_MAX / 4; }

/* Bounds of the calling thread's stack, for the sanitizers' fiber bookkeeping. */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    void *addr = NULL;
    size_t sz = 0;
#if defined(__OpenBSD__)
    stack_t ss;   /* ss_sp is the top of the stack, not its base */
    if (pthread_stackseg_np(pthread_self(), &ss) == 0) {
        addr = (char *)ss.ss_sp - ss.ss_size;
        sz = ss.ss_size;
    }
#else
    pthread_attr_t attr;
#  if defined(__NetBSD__)
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &sz);
        pthread_attr_destroy(&attr);
    }
#  else
    /* pthread_attr_get_np fills an attr the caller has initialised.            */
    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_get_np(pthread_self(), &attr) == 0) pthread_attr_getstack(&attr, &addr, &sz);
        pthread_attr_destroy(&attr);
    }
#  endif
#endif
    *lo = (char *)addr;
    *size = sz;
}

#endif /* GN__OS_BSD */
/* ==== end src/os_bsd.c ==== */

/* ==== begin src/os_windows.c ==== */
/* os_windows.c — the OS layer on Windows: clock, futex, memory, threads,
 * sleeping, the CPU count, and the process-wide set-up a run needs (Winsock,
 * the timer resolution). The same gn__os_* contract as os_posix.c with
 * os_linux.c: every call the runtime makes on a coroutine's behalf leaves
 * errno as it found it (and GetLastError too, which Windows code reads the
 * same way).
 *
 * >>os-windows                                                                  */
#if GN__OS_WINDOWS

#include <process.h>   /* _beginthreadex */
#if defined(_MSC_VER)
#  pragma comment(lib, "synchronization")
#endif

/* Keeps errno and the thread's last-error value across an OS call (the later
 * Windows parts use it too: net_windows.c, poll_iocp.c).                      */
#define GN__OS_KEEP_BEGIN { int gn__saved_errno = errno; DWORD gn__saved_lasterr = GetLastError();
#define GN__OS_KEEP_END   errno = gn__saved_errno; SetLastError(gn__saved_lasterr); }

/* GetLastError() is per thread like errno, and Windows code reads it the same
 * way after a failed call: the runtime keeps it per coroutine (sched.c).      */
GN__PRIVATE uint32_t gn__os_lasterr(void) { return (uint32_t)GetLastError(); }
GN__PRIVATE void gn__os_set_lasterr(uint32_t e) { SetLastError((DWORD)e); }

/* The performance counter: monotonic and unaffected by changes of the wall
 * clock, with sub-microsecond resolution; its frequency is fixed at boot.     */
GONET_API int64_t gn_now(void) {
    static int64_t freq;
    LARGE_INTEGER c;
    int64_t f = gn__load_relaxed(&freq);
    if (!f) {
        LARGE_INTEGER q;
        QueryPerformanceFrequency(&q);   /* cannot fail since Windows XP */
        f = q.QuadPart;
        gn__store_relaxed(&freq, f);
    }
    QueryPerformanceCounter(&c);
    return (c.QuadPart / f) * GN_SECOND + (c.QuadPart % f) * GN_SECOND / f;
}

/* Process-wide set-up for a run, from gn_run; gn__os_fini undoes what must be.
 * Winsock is started once per process and never cleaned up (the process's end
 * does that, and sockets may outlive a run in user code). The system timer
 * resolution is raised to 1 ms for the run: every timed wait below (the futex,
 * the poller's) is in milliseconds, and at the default 15.6 ms tick a 1 ms
 * sleep would take 15. timeBeginPeriod is looked up at run time, so users do
 * not need to link winmm; without it, waits are only coarser.               */
typedef unsigned (WINAPI *gn__timeperiod_fn)(unsigned);
static struct {
    int               looked_up;   /* winmm.dll was looked for (once a process) */
    gn__timeperiod_fn begin, end;
    int               raised;      /* this run raised the resolution           */
} gn__tp;

GN__PRIVATE int gn__os_init(void) {
    static uint32_t wsa_started;
    int rc = 0;
    GN__OS_KEEP_BEGIN
    if (!gn__load(&wsa_started)) {
        WSADATA wd;
        if (WSAStartup(MAKEWORD(2, 2), &wd) == 0) gn__store(&wsa_started, 1);
        else rc = GN_ENOSYS;
    }
    if (!gn__tp.looked_up) {
        gn__tp.looked_up = 1;
        HMODULE mm = LoadLibraryA("winmm.dll");
        if (mm) {
            /* Through a void pointer: FARPROC to another function type is a
             * cast gcc's -Wcast-function-type would flag.                      */
            void *b = (void *)GetProcAddress(mm, "timeBeginPeriod");
            void *e = (void *)GetProcAddress(mm, "timeEndPeriod");
            if (b && e) {
                memcpy(&gn__tp.begin, &b, sizeof b);
                memcpy(&gn__tp.end, &e, sizeof e);
            }
        }
    }
    if (rc == 0 && gn__tp.begin) gn__tp.raised = gn__tp.begin(1) == 0;
    GN__OS_KEEP_END
    return rc;
}

GN__PRIVATE void gn__os_fini(void) {
    GN__OS_KEEP_BEGIN
    if (gn__tp.raised) gn__tp.end(1);
    gn__tp.raised = 0;
    GN__OS_KEEP_END
}

/* ---- the futex: WaitOnAddress (Windows 8+, -lsynchronization) ---------------
 * Waits while *addr == val, at most ns nanoseconds (< 0: no limit), rounded up
 * to whole milliseconds (a wait never ends early, only late); spurious wake-ups
 * are allowed, callers re-check.                                               */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    GN__OS_KEEP_BEGIN
    DWORD ms = INFINITE;
    if (ns >= 0) {
        int64_t m = (ns + GN_MILLISECOND - 1) / GN_MILLISECOND;
        ms = m >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)m;
    }
    WaitOnAddress((volatile VOID *)addr, &val, sizeof val, ms);
    GN__OS_KEEP_END
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    GN__OS_KEEP_BEGIN
    if (n == 1) WakeByAddressSingle((PVOID)addr);
    else WakeByAddressAll((PVOID)addr);
    GN__OS_KEEP_END
}

/* ---- memory ----------------------------------------------------------------------
 * A stack is reserved whole and committed as it grows, the way the system
 * grows a thread's stack: Windows does not overcommit (a committed page counts
 * against RAM plus page file from the start), so committing every stack whole
 * would make a million 64 KiB coroutines need 64 GiB of commit. The top
 * GN__OS_STACK_COMMIT bytes are committed at once, with one PAGE_GUARD page
 * below them. A touch of that page is the system's own stack growth: it
 * commits the page, moves the guard one page down and lowers the TIB's
 * StackLimit. That works for a coroutine because the context switch gives each
 * one the TIB's stack fields (ctx_x64_win.c). A stack's pages stay committed
 * when its coroutine exits, for the next one on that stack.
 * The guard at the bottom is three pages, laid out like the end of a thread's
 * stack: the lowest never committed (the context switch gives it to the TIB as
 * DeallocationStack), the two above it PAGE_GUARD. Growth that reaches them is
 * an overflow: the system lifts the guard, raises EXCEPTION_STACK_OVERFLOW on
 * the pages it freed, and stack.c's handler names the coroutine there (one
 * page is too little room for the exception record and a WriteFile). Windows
 * has no alternate stack, so a plain PAGE_NOACCESS page would not do: the
 * exception record would be pushed into that very page, and the process would
 * die without a word. PAGE_GUARD is one-shot, so a stack whose overflow was
 * caught and survived (an __except of the user's) has no guard left; the
 * page below still stops it, without a report. An unguarded stack
 * (stack_guard = -1) only lacks the report: it still grows page by page.
 * Windows has no limit like vm.max_map_count.                                  */
#define GN__OS_STACK_COMMIT (8 * 1024)

GN__PRIVATE int gn__os_page_size(void) {
    static int page;
    if (!page) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        page = (int)si.dwPageSize;
    }
    return page;
}

/* Reserves address space only: gn__os_stack_ready commits what a stack needs.
 * Read-write, as a thread's stack is reserved: wine commits a grown page with
 * the reservation's protection.                                              */
GN__PRIVATE void *gn__os_map(size_t size) {
    void *p;
    GN__OS_KEEP_BEGIN
    p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_READWRITE);
    GN__OS_KEEP_END
    return p;
}

/* p is always what gn__os_map returned: VirtualFree releases whole reservations. */
GN__PRIVATE void gn__os_unmap(void *p, size_t size) {
    (void)size;
    GN__OS_KEEP_BEGIN
    VirtualFree(p, 0, MEM_RELEASE);
    GN__OS_KEEP_END
}

GN__PRIVATE size_t gn__os_guard_size(void) { return 3 * (size_t)gn__os_page_size(); }

/* The lowest byte a new stack in [lo, top) has committed: its TIB StackLimit. */
GN__PRIVATE char *gn__os_stack_limit(char *lo, char *top) {
    size_t pg = (size_t)gn__os_page_size();
    char *page_top = (char *)(((uintptr_t)top + pg - 1) & ~(uintptr_t)(pg - 1));
    return page_top - lo > GN__OS_STACK_COMMIT ? page_top - GN__OS_STACK_COMMIT : lo;
}

/* Commits the top of the slot [p, p + size), the growth guard below it and,
 * if guarded, the overflow guard at the bottom (the lowest guard bytes).
 * 0, or -1 when the system is out of commit.                                 */
GN__PRIVATE int gn__os_stack_ready(void *p, size_t size, size_t guard, int guarded) {
    int rc = 0;
    GN__OS_KEEP_BEGIN
    size_t pg = (size_t)gn__os_page_size();
    char *lo = (char *)p, *top = lo + size, *body = lo + guard;
    char *live = gn__os_stack_limit(body, top);
    if (!VirtualAlloc(live, (size_t)(top - live), MEM_COMMIT, PAGE_READWRITE)) rc = -1;
    if (rc == 0 && live - body >= (ptrdiff_t)pg &&
        !VirtualAlloc(live - pg, pg, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD))
        rc = -1;
    if (rc == 0 && guarded && !VirtualAlloc(lo + pg, guard - pg, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD))
        rc = -1;
    GN__OS_KEEP_END
    return rc;
}

GN__PRIVATE long gn__os_max_map_count(void) { return LONG_MAX; }

/* ---- threads ------------------------------------------------------------------ */
typedef HANDLE gn__os_thread;

typedef struct gn__os_start { void *(*fn)(void *); void *arg; } gn__os_start;

GN__PRIVATE unsigned __stdcall gn__os_thread_main(void *p) {
    gn__os_start s = *(gn__os_start *)p;
    GN_FREE(p);
    s.fn(s.arg);
    return 0;
}

/* _beginthreadex rather than CreateThread: the C runtime sets up its per-thread
 * state for the thread. 256 KiB reserved for the stack, committed as it grows.
 * There are no asynchronous signals to block (see signal_windows.c).          */
GN__PRIVATE int gn__os_thread_start(gn__os_thread *t, void *(*fn)(void *), void *arg) {
    int rc = 0;
    GN__OS_KEEP_BEGIN
    gn__os_start *s = (gn__os_start *)GN_MALLOC(sizeof *s);
    if (!s) {
        rc = GN_ENOMEM;
    } else {
        s->fn = fn;
        s->arg = arg;
        errno = 0;
        uintptr_t h = _beginthreadex(NULL, 256 * 1024, gn__os_thread_main, s,
                                     STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (h == 0) {
            rc = errno ? -errno : GN_ENOMEM;
            GN_FREE(s);
        } else {
            *t = (HANDLE)h;
        }
    }
    GN__OS_KEEP_END
    return rc;
}

GN__PRIVATE void gn__os_thread_join(gn__os_thread t) {
    GN__OS_KEEP_BEGIN
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    GN__OS_KEEP_END
}

/* Bounds of the calling thread's stack. On a coroutine they are the
 * coroutine's: the context switch keeps the TIB's stack fields current.       */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    ULONG_PTR l = 0, h = 0;
    GetCurrentThreadStackLimits(&l, &h);
    *lo = (char *)l;
    *size = (size_t)(h - l);
}

/* ---- sleeping ---------------------------------------------------------------------
 * Under a millisecond, yield until the time has passed: the system's timers
 * cannot wait that little (Go yields instead of sleeping there too). Longer,
 * a high-resolution waitable timer (Windows 10 1803+), else a plain one.    */
GN__PRIVATE void gn__os_usleep(int64_t ns) {
    if (ns <= 0) return;
    GN__OS_KEEP_BEGIN
    int64_t end = gn_now() + ns;
    if (ns < GN_MILLISECOND) {
        while (gn_now() < end) SwitchToThread();
    } else {
#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#  define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif
        HANDLE tm = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                           TIMER_ALL_ACCESS);
        if (!tm) tm = CreateWaitableTimerExW(NULL, NULL, 0, TIMER_ALL_ACCESS);
        for (int64_t left = ns; left > 0; left = end - gn_now()) {
            LARGE_INTEGER due;
            due.QuadPart = -(left + 99) / 100;   /* relative, in 100 ns units */
            if (tm && SetWaitableTimer(tm, &due, 0, NULL, NULL, FALSE))
                WaitForSingleObject(tm, INFINITE);
            else
                Sleep((DWORD)GN__MIN((left + GN_MILLISECOND - 1) / GN_MILLISECOND, (int64_t)INFINITE - 1));
        }
        if (tm) CloseHandle(tm);
    }
    GN__OS_KEEP_END
}

GN__PRIVATE void gn__os_yield_thread(void) { SwitchToThread(); }

/* ---- CPUs ------------------------------------------------------------------------
 * The CPUs this process may use: its affinity mask, which covers one processor
 * group. A process of a machine with several groups (more than 64 CPUs) whose
 * mask is the whole group may run on all of them (Windows 11 spreads threads
 * over groups), so it counts every active CPU.                                */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
    GN__OS_KEEP_BEGIN
    DWORD_PTR proc = 0, sys = 0;
    if (GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys)) {
        for (DWORD_PTR m = proc; m; m &= m - 1) n++;
        if (proc == sys && GetActiveProcessorGroupCount() > 1)
            n = (int)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    }
    if (n <= 0) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        n = (int)si.dwNumberOfProcessors;
    }
    GN__OS_KEEP_END
    return n > 0 ? n : 1;
}

/* Windows has no SIGQUIT: the coroutine dump is on demand only (gn_dump).       */
GN__PRIVATE int gn__os_quit_hook(void (*fn)(void)) { return fn ? GN_ENOSYS : 0; }

#endif /* GN__OS_WINDOWS */
/* ==== end src/os_windows.c ==== */

/* ==== begin src/lock.c ==== */
/* lock.c — the runtime's own thread-level primitives, built on the OS futex:
 *   gn__lock   a mutex for short critical sections (run queues, channels, timers);
 *              it blocks the thread, so never hold one across a switch point;
 *   gn__note   a one-shot sleep/wake-up for parking an M (Go's note).
 * Both are a uint32_t that is ready when zeroed.
 *
 * >>lock                                                                        */

enum { GN__UNLOCKED = 0, GN__LOCKED = 1, GN__CONTENDED = 2 };

GN__PRIVATE void gn__lock_slow(uint32_t *l) {
    for (int spin = 0; spin < 64; spin++) {
        uint32_t c = GN__UNLOCKED;
        if (gn__load_relaxed(l) == GN__UNLOCKED && gn__cas(l, &c, GN__LOCKED)) return;
        gn__cpu_relax();
    }
    while (gn__xchg(l, GN__CONTENDED) != GN__UNLOCKED)
        gn__os_futex_wait(l, GN__CONTENDED, -1);
}

GN__PRIVATE void gn__lock(uint32_t *l) {
    uint32_t c = GN__UNLOCKED;
    if (GN__LIKELY(gn__cas(l, &c, GN__LOCKED))) return;
    gn__lock_slow(l);
}

GN__PRIVATE int gn__trylock(uint32_t *l) {
    uint32_t c = GN__UNLOCKED;
    return gn__cas(l, &c, GN__LOCKED);
}

GN__PRIVATE void gn__unlock(uint32_t *l) {
    if (GN__UNLIKELY(gn__xchg(l, GN__UNLOCKED) == GN__CONTENDED)) gn__os_futex_wake(l, 1);
}

/* A note is cleared (0) or signalled (1). One sleeper, any number of wakers.     */
GN__PRIVATE void gn__note_clear(uint32_t *n) { gn__store(n, 0); }

GN__PRIVATE void gn__note_wakeup(uint32_t *n) {
    if (gn__xchg(n, 1) == 0) gn__os_futex_wake(n, 1);
}

GN__PRIVATE void gn__note_sleep(uint32_t *n) {
    while (gn__load(n) == 0) gn__os_futex_wait(n, 0, -1);
}

/* Returns 1 if signalled, 0 if ns passed first.                                  */
GN__PRIVATE int gn__note_tsleep(uint32_t *n, int64_t ns) {
    int64_t deadline = gn_now() + ns;
    while (gn__load(n) == 0) {
        int64_t left = deadline - gn_now();
        if (left <= 0) return 0;
        gn__os_futex_wait(n, 0, left);
    }
    return 1;
}
/* ==== end src/lock.c ==== */

/* ==== begin src/runtime.h ==== */
/* runtime.h — the runtime's types and the internal interface the other parts use.
 *
 * The vocabulary is Go's:
 *   G  a coroutine: its saved context, stack, status and what it waits on.
 *   M  an OS thread that runs Gs. Each M has a g0: its scheduling loop, running
 *      on the thread's own stack.
 *   P  a processor: the right to run Gs, with a local run queue, a runnext slot,
 *      a timer heap and a cache of free Gs. An M needs a P to run Gs; procs Ps
 *      exist, so at most procs Gs run at once.
 *
 * The invariant everything else follows: a G may resume on another M than the
 * one it parked on. So the runtime never keeps a thread-local address (errno,
 * its own M) across a switch; it re-reads through gn__getm(), which is opaque
 * to the optimiser. errno is saved in the G on switch-out and restored on the
 * thread it resumes on, so user code sees its own errno across switch points
 * (and its own GetLastError() on Windows).
 *
 * Parking, Go's gopark: the running G sets an unlock callback and switches away;
 * the callback runs on the next context (another G or g0), after the parked G's
 * registers are saved, and releases the lock that made the park safe. Only then
 * may a waker find the G, so a G is never readied while it still runs.
 *
 * >>runtime-types                                                               */

typedef struct gn__g gn__g;
typedef struct gn__m gn__m;
typedef struct gn__p gn__p;

/* G status. Transitions: IDLE -> RUNNABLE -> RUNNING -> (WAITING | BLOCKING |
 * RUNNABLE) -> ... -> DEAD -> IDLE (back in a free list).                         */
enum {
    GN__G_IDLE = 0,
    GN__G_RUNNABLE,
    GN__G_RUNNING,
    GN__G_WAITING,   /* parked; someone will gn__ready it                        */
    GN__G_BLOCKING,  /* between gn_blocking_enter and exit                       */
    GN__G_DEAD
};

/* A runtime timer. f runs on a scheduler thread (never in a coroutine): it must
 * be short and must not park; it may gn__ready, gn_go, send or close a channel
 * without waiting, and take gn__locks. seq is t->seq at the time it fired.      */
typedef struct gn__rtimer {
    int64_t   when;
    int64_t   period;                 /* > 0: re-armed by when += period          */
    void    (*f)(void *arg, uintptr_t seq);
    void     *arg;
    uintptr_t seq;
    gn__p    *heap;                   /* atomic: P whose heap holds it, or NULL    */
    int32_t   index;                  /* position in that heap                     */
    uint32_t  running;                /* atomic: f is executing now                */
} gn__rtimer;

/* A timer heap entry: the instant is kept beside the pointer (see timer.c).      */
typedef struct gn__tentry { int64_t when; gn__rtimer *t; } gn__tentry;

/* A G waiting on a queue: a channel, a mutex, a wait group. Lives on the waiting
 * G's stack for as long as it waits (Go's sudog).                               */
typedef struct gn__waiter {
    gn__g             *g;
    struct gn__waiter *next, *prev;
    void              *elem;          /* channel: value to send or where to receive */
    void              *chan;          /* channel: the channel waited on             */
    int                is_select;     /* part of a gn_select: win g->select_done    */
    int                success;       /* channel: 1 by a value, 0 by close           */
    int                index;         /* select: the case index                     */
} gn__waiter;

typedef struct gn__ctx {
#if GN__CTX_UCONTEXT
    ucontext_t uc;
#else
    void *sp;                         /* the switch pushes registers, saves sp here */
#endif
} gn__ctx;

struct gn__g {
    gn__ctx     ctx;
    uint32_t    status;               /* atomic, GN__G_*                            */
    int         saved_errno;
    uint32_t    saved_lasterr;        /* Windows' GetLastError(), kept like errno    */
    gn__m      *m;                    /* the M running it, while RUNNING            */
    gn__g      *schedlink;            /* global run queue, free lists, glists       */
    int64_t     id;
    void      (*fn)(void *);
    void       *arg;
    /* Pinning (gn_pin): while lockedm is set only that M runs this G.             */
    gn__m      *lockedm;
    int         pin_depth;
    /* Parking.                                                                    */
    void       *param;                /* set by the waker before gn__ready          */
    uint32_t    select_done;          /* atomic: the first case to fire wins        */
    /* What a parked G waits on, for gn_dump; written relaxed-atomically by the G
     * itself, read by whoever dumps.                                              */
    const char *wait_reason;
    const void *wait_obj;             /* the park's argument: a lock, a pd slot...  */
    int64_t     wait_since;           /* gn__rt's coarse clock at the park          */
    int64_t     parent_id;            /* the coroutine that spawned it, 0: none     */
    /* The stack: usable [stack_lo, stack_lo + stack_size); the G struct sits just
     * above it, at the top of the same mapping.                                    */
    char       *stack_lo;
    size_t      stack_size;
    char       *map_lo;               /* the whole mapping, guard page first        */
    size_t      map_size;
    int         stack_kind;           /* GN__STACK_*                               */
    int         guarded;              /* the page below stack_lo is PROT_NONE        */
    gn__g      *alllink, *allprev;    /* every allocated G, for shutdown and dumps  */
#if GN__ASAN
    void       *asan_fake_stack;
#endif
#if GN__TSAN
    void       *tsan_fiber;
#endif
#if GN__VALGRIND
    unsigned    valgrind_stack;
#endif
};

/* A list of Gs linked through schedlink (Go's gList).                            */
typedef struct gn__glist { gn__g *head, *tail; int n; } gn__glist;

GN__PRIVATE void gn__glist_push(gn__glist *l, gn__g *g) {
    g->schedlink = NULL;
    if (l->tail) l->tail->schedlink = g; else l->head = g;
    l->tail = g;
    l->n++;
}
/* At the head: a free list used as a stack hands out the G that ran last, whose
 * struct and stack top are still in cache.                                       */
GN__PRIVATE void gn__glist_push_front(gn__glist *l, gn__g *g) {
    g->schedlink = l->head;
    l->head = g;
    if (!l->tail) l->tail = g;
    l->n++;
}
GN__PRIVATE gn__g *gn__glist_pop(gn__glist *l) {
    gn__g *g = l->head;
    if (g) {
        l->head = g->schedlink;
        if (!l->head) l->tail = NULL;
        g->schedlink = NULL;
        l->n--;
    }
    return g;
}

/* ---- the internal interface -------------------------------------------------- */

/* The G running on this thread, or NULL on g0 and on threads outside the runtime.*/
GN__PRIVATE gn__g *gn__getg(void);
GN__PRIVATE gn__m *gn__getm(void);

/* Called on the next context after the parking G is off its stack. Returning 0
 * cancels the park: the G is made runnable again instead. Once the callback
 * has made the G findable (released the lock, started a timer), the G may run
 * and return from its wait at once: from then on the callback must not touch
 * anything on the G's stack.                                                     */
typedef int (*gn__unlockf)(gn__g *g, void *arg);

/* Parks the running G (see the top of this file). Must run on a coroutine.       */
GN__PRIVATE void gn__park(gn__unlockf unlock, void *arg, const char *reason);
/* Makes a parked G runnable; it runs next on this P when called from a P.
 * Callable from any thread, inside or outside the runtime.                      */
GN__PRIVATE void gn__ready(gn__g *g);
GN__PRIVATE int64_t gn__newproc(void (*fn)(void *), void *arg, size_t stack_size);
GN__PRIVATE gn__g *gn__newg_here(void (*fn)(void *), void *arg);
/* The end of a run, for signal.c: called by gn__teardown once every M has stopped. */
GN__PRIVATE void gn__signal_teardown(void);
/* A fast per-thread random number (not for cryptography).                        */
GN__PRIVATE uint32_t gn__rand(void);

/* Timers (timer.c). start: t must not be pending; f, arg, period set by caller;
 * 0 or GN_ENOMEM. stop: 1 if it removed a pending t; 0 if t was not pending.
 * Either way, once it returns f is not running and will not run for the old
 * arming; so call it before t's memory is reused, and never from t's own f, nor
 * while holding a lock that f takes.                                              */
GN__PRIVATE int  gn__timer_start(gn__rtimer *t, int64_t when);
GN__PRIVATE int  gn__timer_stop(gn__rtimer *t);
GN__PRIVATE int  gn__timer_modify(gn__rtimer *t, int64_t when);   /* stop + start   */
/* ==== end src/runtime.h ==== */

/* ==== begin src/ctx_x64_sysv.c ==== */
/* ctx_x64_sysv.c — context switch for x86_64, System V ABI (Linux, BSD, macOS).
 * Saves only the callee-saved registers rbx, rbp, r12-r15, pushed on the old
 * stack; the stack pointer is all a gn__ctx holds. A switch is one call, six
 * pushes, a store, a load, six pops and a ret.
 * The MXCSR and x87 control words (rounding mode, exception masks) are not
 * switched: like Go, the floating-point environment belongs to the thread, and
 * loading them costs more than the rest of the switch. Code that changes the
 * rounding mode must restore it before its next switch point.
 *
 * >>ctx-x64-sysv                                                                 */
#if GN__CTX_X64_SYSV

/* gn__ctx_switch_x64(void **save_sp, void *load_sp). Weak so that several
 * translation units built with GONET_STATIC can each carry a copy.              */
__asm__(
    ".text\n"
    ".p2align 4\n"
    GN__ASM_WEAK("gn__ctx_switch_x64")
    GN__ASM_HIDE("gn__ctx_switch_x64")
    GN__ASM_TYPE("gn__ctx_switch_x64")
    GN__ASM_NAME("gn__ctx_switch_x64") ":\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n");

extern void gn__ctx_switch_x64(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_x64(&from->sp, to->sp); }

/* Lays out a frame that gn__ctx_switch_x64 "returns" into entry from: the saved
 * registers (zero), entry's address, and a zero return address so that entry
 * starts with rsp % 16 == 8 like any call.                                     */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0;                          /* entry's return address: never used     */
    *--sp = (uint64_t)(uintptr_t)entry; /* where the switch's ret lands           */
    for (int i = 0; i < 6; i++) *--sp = 0;  /* rbp rbx r12 r13 r14 r15          */
    c->sp = sp;
}

#endif /* GN__CTX_X64_SYSV */
/* ==== end src/ctx_x64_sysv.c ==== */

/* ==== begin src/ctx_x64_win.c ==== */
/* ctx_x64_win.c — context switch for x86_64, Windows x64 ABI (MinGW-w64, clang).
 *
 * The Windows ABI has more callee-saved state than System V: rbx, rbp, rdi,
 * rsi, r12-r15 and xmm6-xmm15. On top of those the switch carries three fields
 * of the thread's TIB: StackBase (gs:0x08), StackLimit (gs:0x10) and
 * DeallocationStack (gs:0x1478). The system reads them to tell whether an
 * address is on "the" stack: the stack probe of MSVC-built code (__chkstk),
 * exception dispatch (RtlDispatchException rejects a frame outside them as an
 * invalid stack and stops unwinding), GetCurrentThreadStackLimits. So each
 * coroutine runs with its own bounds in the TIB, and g0 gets the thread's back.
 * The MXCSR and x87 control words are not switched, as on System V (see
 * ctx_x64_sysv.c): the floating-point environment belongs to the thread.
 *
 * Why not Fibers (CreateFiber/SwitchToFiber). A fiber owns a stack the system
 * allocates, one reservation of at least 64 KiB each, with no say in its layout:
 * no G struct at its top, no slabs, no pooling, no guard policy shared with the
 * other platforms. Each M would have to become a fiber thread (and back before
 * it exits), and SwitchToFiber does more per switch (fiber-local storage, the
 * floating-point state, the whole TIB stack block) than the runtime needs.
 * This switch is the System V one with a few more registers, so the scheduler
 * does not know which it runs on.
 *
 * The frame, from the saved stack pointer up: xmm6..xmm15 (160 bytes), the TIB
 * fields StackBase, StackLimit, DeallocationStack, r15 r14 r13 r12 rsi rdi rbx
 * rbp, the return address. The xmm stores are unaligned (movups): a fresh
 * frame's return slot sits at the other parity from a real call's, so no
 * single alignment fits both, and movups on aligned data costs nothing.
 *
 * With MSVC the same switch comes as machine code (below the assembly).
 *
 * >>ctx-x64-win                                                                  */
#if GN__CTX_X64_WIN

#if !GN__CC_MSVC

/* gn__ctx_switch_x64_win(void **save_sp, void *load_sp): rcx, rdx. In a COMDAT
 * section (.linkonce discard), the PE way of letting several translation units
 * built with GONET_STATIC each carry a copy.                                     */
__asm__(
    ".section .text$gn__ctx_switch_x64_win,\"xr\"\n"
    ".linkonce discard\n"
    ".p2align 4\n"
    ".globl " GN__ASM_NAME("gn__ctx_switch_x64_win") "\n"
    GN__ASM_TYPE("gn__ctx_switch_x64_win")
    GN__ASM_NAME("gn__ctx_switch_x64_win") ":\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %rdi\n"
    "    pushq %rsi\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    pushq %gs:0x1478\n"
    "    pushq %gs:0x10\n"
    "    pushq %gs:0x08\n"
    "    subq $160, %rsp\n"
    "    movups %xmm6, 0(%rsp)\n"
    "    movups %xmm7, 16(%rsp)\n"
    "    movups %xmm8, 32(%rsp)\n"
    "    movups %xmm9, 48(%rsp)\n"
    "    movups %xmm10, 64(%rsp)\n"
    "    movups %xmm11, 80(%rsp)\n"
    "    movups %xmm12, 96(%rsp)\n"
    "    movups %xmm13, 112(%rsp)\n"
    "    movups %xmm14, 128(%rsp)\n"
    "    movups %xmm15, 144(%rsp)\n"
    "    movq %rsp, (%rcx)\n"
    "    movq %rdx, %rsp\n"
    "    movups 0(%rsp), %xmm6\n"
    "    movups 16(%rsp), %xmm7\n"
    "    movups 32(%rsp), %xmm8\n"
    "    movups 48(%rsp), %xmm9\n"
    "    movups 64(%rsp), %xmm10\n"
    "    movups 80(%rsp), %xmm11\n"
    "    movups 96(%rsp), %xmm12\n"
    "    movups 112(%rsp), %xmm13\n"
    "    movups 128(%rsp), %xmm14\n"
    "    movups 144(%rsp), %xmm15\n"
    "    addq $160, %rsp\n"
    "    popq %gs:0x08\n"
    "    popq %gs:0x10\n"
    "    popq %gs:0x1478\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rsi\n"
    "    popq %rdi\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".text\n");

#ifdef __cplusplus
extern "C"
#endif
void gn__ctx_switch_x64_win(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_x64_win(&from->sp, to->sp); }

#else /* GN__CC_MSVC */
/* cl has no inline assembly for x64, and a .asm file would be a second file to
 * build. So the switch above is here as the bytes the GNU assembler makes of it
 * (x86_64-w64-mingw32-gcc -c, then objdump -d), in the executable .text
 * section, called through a pointer. The code is position-independent: the TIB
 * fields are gs-relative at absolute offsets and nothing else is addressed, so
 * the bytes need no relocation. Each translation unit has its own static copy,
 * which is what GONET_STATIC needs. guard(nocf): a build with Control Flow
 * Guard (/guard:cf) would otherwise refuse the call, the target not being a
 * function the compiler knows. make test-windows-msvc runs this path, forced
 * with GN_CC_MSVC=1 on MinGW-w64, where the section is spelled for ld.          */
#if defined(_MSC_VER)
#  pragma section(".text")
#  define GN__CTX_TEXT __declspec(allocate(".text"))
#  define GN__CTX_NOCFG __declspec(noinline) __declspec(guard(nocf))
#else
#  define GN__CTX_TEXT __attribute__((section(".text$gn__ctx_switch_code")))
#  define GN__CTX_NOCFG
#endif
GN__CTX_TEXT static const unsigned char gn__ctx_switch_code[] = {
    0x55,                                                 /* push %rbp                */
    0x53,                                                 /* push %rbx                */
    0x57,                                                 /* push %rdi                */
    0x56,                                                 /* push %rsi                */
    0x41, 0x54,                                           /* push %r12                */
    0x41, 0x55,                                           /* push %r13                */
    0x41, 0x56,                                           /* push %r14                */
    0x41, 0x57,                                           /* push %r15                */
    0x65, 0xff, 0x34, 0x25, 0x78, 0x14, 0x00, 0x00,       /* push %gs:0x1478          */
    0x65, 0xff, 0x34, 0x25, 0x10, 0x00, 0x00, 0x00,       /* push %gs:0x10            */
    0x65, 0xff, 0x34, 0x25, 0x08, 0x00, 0x00, 0x00,       /* push %gs:0x8             */
    0x48, 0x81, 0xec, 0xa0, 0x00, 0x00, 0x00,             /* sub $0xa0,%rsp           */
    0x0f, 0x11, 0x34, 0x24,                               /* movups %xmm6,(%rsp)      */
    0x0f, 0x11, 0x7c, 0x24, 0x10,                         /* movups %xmm7,0x10(%rsp)  */
    0x44, 0x0f, 0x11, 0x44, 0x24, 0x20,                   /* movups %xmm8,0x20(%rsp)  */
    0x44, 0x0f, 0x11, 0x4c, 0x24, 0x30,                   /* movups %xmm9,0x30(%rsp)  */
    0x44, 0x0f, 0x11, 0x54, 0x24, 0x40,                   /* movups %xmm10,0x40(%rsp) */
    0x44, 0x0f, 0x11, 0x5c, 0x24, 0x50,                   /* movups %xmm11,0x50(%rsp) */
    0x44, 0x0f, 0x11, 0x64, 0x24, 0x60,                   /* movups %xmm12,0x60(%rsp) */
    0x44, 0x0f, 0x11, 0x6c, 0x24, 0x70,                   /* movups %xmm13,0x70(%rsp) */
    0x44, 0x0f, 0x11, 0xb4, 0x24, 0x80, 0x00, 0x00, 0x00, /* movups %xmm14,0x80(%rsp) */
    0x44, 0x0f, 0x11, 0xbc, 0x24, 0x90, 0x00, 0x00, 0x00, /* movups %xmm15,0x90(%rsp) */
    0x48, 0x89, 0x21,                                     /* mov %rsp,(%rcx)          */
    0x48, 0x89, 0xd4,                                     /* mov %rdx,%rsp            */
    0x0f, 0x10, 0x34, 0x24,                               /* movups (%rsp),%xmm6      */
    0x0f, 0x10, 0x7c, 0x24, 0x10,                         /* movups 0x10(%rsp),%xmm7  */
    0x44, 0x0f, 0x10, 0x44, 0x24, 0x20,                   /* movups 0x20(%rsp),%xmm8  */
    0x44, 0x0f, 0x10, 0x4c, 0x24, 0x30,                   /* movups 0x30(%rsp),%xmm9  */
    0x44, 0x0f, 0x10, 0x54, 0x24, 0x40,                   /* movups 0x40(%rsp),%xmm10 */
    0x44, 0x0f, 0x10, 0x5c, 0x24, 0x50,                   /* movups 0x50(%rsp),%xmm11 */
    0x44, 0x0f, 0x10, 0x64, 0x24, 0x60,                   /* movups 0x60(%rsp),%xmm12 */
    0x44, 0x0f, 0x10, 0x6c, 0x24, 0x70,                   /* movups 0x70(%rsp),%xmm13 */
    0x44, 0x0f, 0x10, 0xb4, 0x24, 0x80, 0x00, 0x00, 0x00, /* movups 0x80(%rsp),%xmm14 */
    0x44, 0x0f, 0x10, 0xbc, 0x24, 0x90, 0x00, 0x00, 0x00, /* movups 0x90(%rsp),%xmm15 */
    0x48, 0x81, 0xc4, 0xa0, 0x00, 0x00, 0x00,             /* add $0xa0,%rsp           */
    0x65, 0x8f, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00,       /* pop %gs:0x8              */
    0x65, 0x8f, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00,       /* pop %gs:0x10             */
    0x65, 0x8f, 0x04, 0x25, 0x78, 0x14, 0x00, 0x00,       /* pop %gs:0x1478           */
    0x41, 0x5f,                                           /* pop %r15                 */
    0x41, 0x5e,                                           /* pop %r14                 */
    0x41, 0x5d,                                           /* pop %r13                 */
    0x41, 0x5c,                                           /* pop %r12                 */
    0x5e,                                                 /* pop %rsi                 */
    0x5f,                                                 /* pop %rdi                 */
    0x5b,                                                 /* pop %rbx                 */
    0x5d,                                                 /* pop %rbp                 */
    0xc3,                                                 /* ret                      */
};

GN__PRIVATE GN__CTX_NOCFG void gn__ctx_switch(gn__ctx *from, gn__ctx *to) {
    void (*sw)(void **save_sp, void *load_sp) =
        (void (*)(void **, void *))(uintptr_t)gn__ctx_switch_code;
    sw(&from->sp, to->sp);
}
#endif /* GN__CC_MSVC */

/* Lays out a frame that the switch "returns" into entry from. entry starts as
 * if called: rsp % 16 == 8, a zero return address (the unwinder's end of the
 * chain), and above it the 32 bytes of shadow space the ABI gives every callee.
 * The TIB fields describe the coroutine's stack as the system describes a
 * thread's: StackLimit is the low end of the committed part, which the system
 * lowers as the stack grows (see os_windows.c), and DeallocationStack the
 * bottom of the guard below it, which is how an overflow into the guard
 * becomes EXCEPTION_STACK_OVERFLOW. StackLimit must not claim less than is
 * committed (the unwinder rejects frames below it) nor more (stack probes skip
 * what lies above it), so a stack used before keeps the StackLimit its last
 * coroutine saved in its final switch: the growth stays committed.            */
#define GN__WIN_FRAME_STACKLIMIT 21   /* its slot in a saved frame: above xmm6-15, StackBase */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    char *limit = gn__os_stack_limit(stack_lo, (char *)top);
    if (c->sp) {   /* a stack used before: c->sp is its last coroutine's final frame */
        char *grown = (char *)(uintptr_t)((uint64_t *)c->sp)[GN__WIN_FRAME_STACKLIMIT];
        if (grown >= stack_lo && grown < limit) limit = grown;
    }
    uint64_t *sp = (uint64_t *)top;
    sp -= 4;                            /* shadow space                          */
    *--sp = 0;                          /* entry's return address: never used     */
    *--sp = (uint64_t)(uintptr_t)entry; /* where the switch's ret lands           */
    for (int i = 0; i < 8; i++) *--sp = 0;   /* rbp rbx rdi rsi r12 r13 r14 r15  */
    *--sp = (uint64_t)(uintptr_t)(stack_lo - gn__os_guard_size());   /* DeallocationStack */
    *--sp = (uint64_t)(uintptr_t)limit;      /* StackLimit                       */
    *--sp = (uint64_t)top;                   /* StackBase                        */
    sp -= 20;                                /* xmm6-xmm15                       */
    memset(sp, 0, 160);
    c->sp = sp;
}

#endif /* GN__CTX_X64_WIN */
/* ==== end src/ctx_x64_win.c ==== */

/* ==== begin src/ctx_arm64.c ==== */
/* ctx_arm64.c — context switch for aarch64 (AAPCS64: Linux, macOS).
 * Saves the callee-saved set: x19-x28, the frame pointer x29, the link register
 * x30 and the low halves d8-d15 of v8-v15, in a 160-byte frame on the old stack.
 *
 * >>ctx-arm64                                                                    */
#if GN__CTX_ARM64

__asm__(
    ".text\n"
    ".p2align 4\n"
    GN__ASM_WEAK("gn__ctx_switch_a64")
    GN__ASM_HIDE("gn__ctx_switch_a64")
    GN__ASM_TYPE("gn__ctx_switch_a64")
    GN__ASM_NAME("gn__ctx_switch_a64") ":\n"
    "    sub sp, sp, #160\n"
    "    stp x19, x20, [sp, #0]\n"
    "    stp x21, x22, [sp, #16]\n"
    "    stp x23, x24, [sp, #32]\n"
    "    stp x25, x26, [sp, #48]\n"
    "    stp x27, x28, [sp, #64]\n"
    "    stp x29, x30, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    mov x9, sp\n"
    "    str x9, [x0]\n"
    "    mov sp, x1\n"
    "    ldp x19, x20, [sp, #0]\n"
    "    ldp x21, x22, [sp, #16]\n"
    "    ldp x23, x24, [sp, #32]\n"
    "    ldp x25, x26, [sp, #48]\n"
    "    ldp x27, x28, [sp, #64]\n"
    "    ldp x29, x30, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    add sp, sp, #160\n"
    "    ret\n");

extern void gn__ctx_switch_a64(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_a64(&from->sp, to->sp); }

/* A frame whose x30 is entry and x29 zero (the end of the frame chain); the
 * switch's ret branches to entry with sp at the 16-byte aligned top.            */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[11] = (uint64_t)(uintptr_t)entry;   /* x30 */
    c->sp = sp;
}

#endif /* GN__CTX_ARM64 */
/* ==== end src/ctx_arm64.c ==== */

/* ==== begin src/ctx_ucontext.c ==== */
/* ctx_ucontext.c — the portable context switch: POSIX ucontext. Slower (glibc's
 * swapcontext saves the signal mask with a system call) but needs no assembly;
 * selected with GN_CTX_UCONTEXT or on CPUs without a hand-written switch.
 *
 * >>ctx-ucontext                                                                 */
#if GN__CTX_UCONTEXT

/* macOS marks the ucontext calls deprecated (the default there is assembly);
 * a user's -Werror must not turn that into a failed build of their program.
 * OpenBSD has no ucontext at all: there only the assembly switches build.     */
#if defined(__APPLE__) && defined(__clang__)
#  pragma clang diagnostic push
#  pragma clang diagnostic ignored "-Wdeprecated-declarations"
#endif

/* swapcontext restores the signal mask saved with the context, which is the
 * mask of the thread the coroutine last ran on. Coroutines move between
 * threads, and the runtime's threads block the asynchronous signals that the
 * user's thread takes: carried across, that mask would close the user's
 * thread to them, and a signal for the process could find nobody to take it.
 * So the mask stays with the thread, as with the assembly switches; this
 * costs a second system call per switch, here only.                           */
GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) {
    pthread_sigmask(SIG_SETMASK, NULL, &to->uc.uc_sigmask);
    swapcontext(&from->uc, &to->uc);
}

GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack_lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}

#if defined(__APPLE__) && defined(__clang__)
#  pragma clang diagnostic pop
#endif

#endif /* GN__CTX_UCONTEXT */
/* ==== end src/ctx_ucontext.c ==== */

/* ==== begin src/stack.c ==== */
/* stack.c — coroutine stacks: allocation, guard pages, the slab mode, overflow reports.
 *
 * A G and its stack share one mapping: the gn__g struct sits at the top and the
 * stack grows down from just below it, so a coroutine that sleeps after a few
 * calls touches one page in all. Memory is reserved with MAP_NORESERVE and only
 * the pages a coroutine really touches become resident.
 *
 * Guard pages. A guarded stack has a PROT_NONE page below it (three guard pages
 * on Windows, see os_windows.c), so an overflow faults instead of corrupting
 * the neighbour, and the SIGSEGV handler (on an alternate signal stack) names
 * the coroutine. But a guard splits the mapping
 * in two, and Linux allows vm.max_map_count (65530 by default) mappings per
 * process: a million guarded stacks would need two million. So the default
 * (stack_guard = 0) guards stacks while they fit in half of that budget and
 * leaves further ones unguarded; their slabs of 64 stay one mapping each.
 * stack_guard = 1 always guards (and fails with GN_ENOMEM at the limit);
 * -1 never guards.
 *
 * Default-size Gs are never unmapped while the runtime runs: they go back to a
 * free list with their stack. Gs with their own stack size are unmapped on exit.
 *
 * >>stack                                                                        */

enum { GN__STACK_SLAB = 1, GN__STACK_PLAIN = 2 };
#define GN__SLAB_STACKS 64

typedef struct gn__slab { struct gn__slab *next; char *lo; size_t size; } gn__slab;

static struct {
    int       guard_mode;         /* gn_config.stack_guard                      */
    long      guard_budget;       /* guarded stacks we may still create         */
    uint32_t  lock;               /* guards everything below                    */
    gn__slab *slabs;
    char     *slab_next;          /* the next unused slot of the newest slab    */
    int       slab_left;
    size_t    slab_slot;          /* bytes per slab slot                        */
    gn__g    *allg;               /* every G with a mapping, for shutdown       */
    long      nguarded;
    unsigned  colour;             /* the next G's cache colour                  */
} gn__stk;

#define GN__G_SPACE ((sizeof(gn__g) + 63) & ~(size_t)63)

GN__PRIVATE size_t gn__round_page(size_t n) {
    size_t pg = (size_t)gn__os_page_size();
    return (n + pg - 1) & ~(pg - 1);
}

GN__PRIVATE void gn__stack_init(int guard_mode) {
    memset(&gn__stk, 0, sizeof gn__stk);
    gn__stk.guard_mode = guard_mode;
    /* Leave room for the heap, libraries, thread stacks and the user's own maps. */
    long budget = (gn__os_max_map_count() - 8192) / 2;
    gn__stk.guard_budget = budget > 0 ? budget : 0;
}

/* Cache colours. Every stack top is page aligned, so G structs at the very top
 * would all share a few cache sets and evict each other when the scheduler walks
 * queues of Gs. Each G sits 64 bytes * (0..GN__COLOURS-1) below the top instead;
 * the top page keeps room for the frames of a parked coroutine.                 */
#define GN__COLOURS 32

/* Places a G near the top of [lo, lo + size) whose lowest guard bytes are a guard. */
GN__PRIVATE gn__g *gn__g_place(char *map_lo, size_t map_size, size_t guard, int kind) {
    size_t colour = (size_t)(gn__stk.colour++ * 7 % GN__COLOURS) * 64;
    gn__g *g = (gn__g *)(map_lo + map_size - GN__G_SPACE - colour);
#if GN__ASAN
    /* The range may have held another coroutine's stack, whose poisoned frames
     * AddressSanitizer still remembers: munmap does not clear its shadow.      */
    __asan_unpoison_memory_region(map_lo + guard, map_size - guard);
#endif
    memset(g, 0, sizeof *g);
    g->map_lo = map_lo;
    g->map_size = map_size;
    g->stack_lo = map_lo + guard;
    g->stack_size = (size_t)((char *)g - g->stack_lo);
    g->stack_kind = kind;
#if GN__TSAN
    g->tsan_fiber = __tsan_create_fiber(0);
#endif
#if GN__VALGRIND
    g->valgrind_stack = VALGRIND_STACK_REGISTER(g->stack_lo, g->stack_lo + g->stack_size);
#endif
    return g;
}

GN__PRIVATE void gn__allg_add(gn__g *g) {
    g->allprev = NULL;
    g->alllink = gn__stk.allg;
    if (gn__stk.allg) gn__stk.allg->allprev = g;
    gn__stk.allg = g;
}

/* A new G with a stack of at least stack_size bytes, or NULL (out of memory or
 * mappings). Default-size stacks are carved from slabs of 64 slots, each slot a
 * page for the guard and then the stack with its G: one mmap (and at shutdown
 * one munmap) per 64 coroutines. Other sizes get a mapping of their own.         */
GN__PRIVATE gn__g *gn__g_alloc(size_t stack_size, int default_size) {
    size_t pg = gn__os_guard_size();   /* a page; three on Windows (os_windows.c) */
    size_t body = gn__round_page(stack_size + GN__G_SPACE);
    size_t slot = pg + body;
    gn__g *g = NULL;
    char *lo = NULL;
    gn__lock(&gn__stk.lock);
    int guard = gn__stk.guard_mode > 0 ||
                (gn__stk.guard_mode == 0 && gn__stk.nguarded < gn__stk.guard_budget);
    if (default_size) {
        if (gn__stk.slab_left == 0 || gn__stk.slab_slot != slot) {
            size_t size = slot * GN__SLAB_STACKS;
            gn__slab *sl = (gn__slab *)GN_MALLOC(sizeof *sl);
            char *mem = sl ? (char *)gn__os_map(size) : NULL;
            if (mem) {
                sl->lo = mem;
                sl->size = size;
                sl->next = gn__stk.slabs;
                gn__stk.slabs = sl;
                gn__stk.slab_next = mem;
                gn__stk.slab_left = GN__SLAB_STACKS;
                gn__stk.slab_slot = slot;
            } else {
                GN_FREE(sl);
            }
        }
        if (gn__stk.slab_left > 0 && gn__stk.slab_slot == slot) {
            lo = gn__stk.slab_next;
            gn__stk.slab_next += slot;
            gn__stk.slab_left--;
        }
    } else {
        lo = (char *)gn__os_map(slot);
    }
    if (lo && gn__os_stack_ready(lo, slot, pg, guard) != 0) {
        /* Out of mappings for the guard: an unguarded slot keeps its guard
         * bytes as untouched slack, unless every stack must be guarded.      */
        if (guard && gn__stk.guard_mode <= 0 && gn__os_stack_ready(lo, slot, pg, 0) == 0)
            guard = 0;
        else
            lo = NULL;
    }
    if (lo) {
        g = gn__g_place(lo, slot, pg, default_size ? GN__STACK_SLAB : GN__STACK_PLAIN);
        g->guarded = guard;
        if (guard) gn__stk.nguarded++;
        gn__allg_add(g);
    }
    gn__unlock(&gn__stk.lock);
    return g;
}

GN__PRIVATE void gn__g_release(gn__g *g) {
#if GN__TSAN
    __tsan_destroy_fiber(g->tsan_fiber);
#endif
#if GN__VALGRIND
    VALGRIND_STACK_DEREGISTER(g->valgrind_stack);
#endif
#if GN__ASAN
    __asan_unpoison_memory_region(g->stack_lo, g->stack_size);
#endif
    if (g->stack_kind != GN__STACK_SLAB) gn__os_unmap(g->map_lo, g->map_size);
}

/* Frees a G that has its own mapping (called off its stack).                      */
GN__PRIVATE void gn__g_free(gn__g *g) {
    gn__lock(&gn__stk.lock);
    if (g->allprev) g->allprev->alllink = g->alllink; else gn__stk.allg = g->alllink;
    if (g->alllink) g->alllink->allprev = g->allprev;
    if (g->guarded) gn__stk.nguarded--;
    gn__unlock(&gn__stk.lock);
    gn__g_release(g);
}

/* At shutdown: every G and every slab, whatever state it was left in. Freed
 * stacks of a guarded slot are not unmapped one by one: the slab goes whole.     */
GN__PRIVATE void gn__stack_shutdown(void) {
    gn__g *g = gn__stk.allg;
    while (g) {
        gn__g *next = g->alllink;
        gn__g_release(g);
        g = next;
    }
    gn__slab *s = gn__stk.slabs;
    while (s) {
        gn__slab *next = s->next;
        gn__os_unmap(s->lo, s->size);
        GN_FREE(s);
        s = next;
    }
    memset(&gn__stk, 0, sizeof gn__stk);
}

/* ---- overflow reports ----------------------------------------------------------
 * SIGSEGV and SIGBUS run on a per-thread alternate stack. A fault inside the
 * running coroutine's guard page is reported with the coroutine's id; any other
 * fault goes to the previous handler (or the default action) unchanged.
 * Windows has its own version below.                                            */
/* Writes s to stderr with no lock and no allocation: in a fault handler.     */
GN__PRIVATE void gn__write_str(const char *s);   /* per OS, below */
GN__PRIVATE gn__g *gn__signal_curg(void);

GN__PRIVATE void gn__write_u64(uint64_t v) {
    char buf[24], *p = buf + sizeof buf;
    *--p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    gn__write_str(p);
}

GN__PRIVATE void gn__overflow_report(const gn__g *g) {
    gn__write_str("gonet: stack overflow in coroutine ");
    gn__write_u64((uint64_t)g->id);
    gn__write_str(" (stack ");
    gn__write_u64((uint64_t)g->stack_size);
    gn__write_str(" bytes; raise gn_config.stack_size or gn_go_opts.stack_size)\n");
}

#if GN__OS_POSIX
#define GN__ALTSTACK_SIZE (64 * 1024)

static struct sigaction gn__old_segv, gn__old_bus;
static int gn__overflow_installed;

GN__PRIVATE void gn__write_str(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}


GN__PRIVATE void gn__overflow_handler(int sig, siginfo_t *info, void *uctx) {
    gn__g *g = gn__signal_curg();
    char *addr = (char *)info->si_addr;
    if (g && g->guarded && addr >= g->map_lo && addr < g->stack_lo) {
        gn__overflow_report(g);
    }
    /* Hand the fault on: restore the previous disposition and let the faulting
     * instruction run again.                                                     */
    struct sigaction *old = sig == SIGBUS ? &gn__old_bus : &gn__old_segv;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, info, uctx);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
}

GN__PRIVATE void gn__overflow_install(void) {
#if !GN__ASAN /* AddressSanitizer reports stack overflows itself */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = gn__overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &gn__old_segv);
    sigaction(SIGBUS, &sa, &gn__old_bus);
    gn__overflow_installed = 1;
#endif
}

GN__PRIVATE void gn__overflow_uninstall(void) {
    if (!gn__overflow_installed) return;
    sigaction(SIGSEGV, &gn__old_segv, NULL);
    sigaction(SIGBUS, &gn__old_bus, NULL);
    gn__overflow_installed = 0;
}

/* Each M gets an alternate signal stack. The thread's own one, if any, is put
 * back when the runtime is done with the thread (it matters for the thread that
 * called gn_run, which goes on as the user's).                                  */
typedef struct gn__altstack { void *mem; stack_t old; } gn__altstack;

GN__PRIVATE gn__altstack *gn__altstack_enable(void) {
#if GN__ASAN
    return NULL;
#else
    gn__altstack *a = (gn__altstack *)GN_MALLOC(sizeof *a + GN__ALTSTACK_SIZE);
    if (!a) return NULL;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = a->mem = (char *)(a + 1);
    ss.ss_size = GN__ALTSTACK_SIZE;
    if (sigaltstack(&ss, &a->old) != 0) {
        GN_FREE(a);
        return NULL;
    }
    return a;
#endif
}

GN__PRIVATE void gn__altstack_disable(gn__altstack *a) {
    if (!a) return;
    stack_t none;
    memset(&none, 0, sizeof none);
    none.ss_flags = SS_DISABLE;
    sigaltstack((a->old.ss_flags & SS_DISABLE) ? &none : &a->old, NULL);
    GN_FREE(a);
}

#else /* Windows */

/* A vectored exception handler sees the stack overflow exception (or an access
 * violation in the guard) first, before any frame's handler. Windows has no
 * alternate stack: the handler runs below the faulting frame, on the guard
 * pages the system has just lifted (see os_windows.c for the layout that makes
 * room). It names the coroutine and ends the process with the exception's
 * code, as an unhandled overflow would: handing the exception on is no use, as
 * unwinding a coroutine's stack never reaches the thread's own last-chance
 * handler. Any other exception goes on unchanged.                             */
typedef struct gn__altstack { int unused; } gn__altstack;

static void *gn__overflow_veh;

GN__PRIVATE void gn__write_str(const char *s) {
    DWORD w;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), s, (DWORD)strlen(s), &w, NULL);
}


GN__PRIVATE LONG WINAPI gn__overflow_handler(EXCEPTION_POINTERS *ep) {
    EXCEPTION_RECORD *er = ep->ExceptionRecord;
    if (er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION && er->ExceptionCode != EXCEPTION_STACK_OVERFLOW)
        return EXCEPTION_CONTINUE_SEARCH;
    gn__g *g = gn__signal_curg();
    if (!g || !g->guarded) return EXCEPTION_CONTINUE_SEARCH;
    /* An access violation gives the address; the overflow exception may not,
     * but it is raised with the stack pointer on the faulting stack.           */
    char *addr = (char *)ep->ContextRecord->Rsp, *hi = (char *)g;
    if (er->ExceptionCode == EXCEPTION_ACCESS_VIOLATION) {
        if (er->NumberParameters < 2) return EXCEPTION_CONTINUE_SEARCH;
        addr = (char *)er->ExceptionInformation[1];
        hi = g->stack_lo;
    }
    if (addr >= g->map_lo && addr < hi) {
        gn__overflow_report(g);
        TerminateProcess(GetCurrentProcess(), (UINT)er->ExceptionCode);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

GN__PRIVATE void gn__overflow_install(void) {
#if !GN__ASAN
    gn__overflow_veh = AddVectoredExceptionHandler(1, gn__overflow_handler);
#endif
}

GN__PRIVATE void gn__overflow_uninstall(void) {
    if (!gn__overflow_veh) return;
    RemoveVectoredExceptionHandler(gn__overflow_veh);
    gn__overflow_veh = NULL;
}

GN__PRIVATE gn__altstack *gn__altstack_enable(void) { return NULL; }
GN__PRIVATE void gn__altstack_disable(gn__altstack *a) { (void)a; }

#endif /* GN__OS_POSIX */
/* ==== end src/stack.c ==== */

/* ==== begin src/netpoll.c ==== */
/* netpoll.c — poll descriptors: how a coroutine waits for a file descriptor.
 *
 * Every fd the runtime polls has a gn__pd, registered with the poller once when
 * the fd is opened (edge-triggered, like Go). A pd holds one semaphore-like
 * slot per direction, rg for reading and wg for writing (Go's pollDesc):
 *     0          nothing happened, nobody waits
 *     READY      readiness arrived while nobody waited; the next wait takes it
 *     WAIT       a G is about to park (set before the park, replaced by the G
 *                in the park callback)
 *     SPAWN      nobody waits, but readiness (or a deadline, or a close) starts
 *                a new coroutine, spawn_fn(spawn_arg): how a server keeps an
 *                idle connection without a coroutine (read direction only)
 *     a gn__g *  that G is parked and waits
 * The poller turns readiness into READY or wakes the G; a deadline or a close
 * wakes it too, and the G then sees the reason in the pd (timed out, closing).
 *
 * Deadlines are absolute instants kept in the pd (rd, wd); an expired one is
 * stored as -1, so every later operation fails at once until it is changed.
 * A runtime timer per direction wakes the waiter when the instant comes; a seq
 * number tells a timer that fires for an old deadline to do nothing.
 *
 * Stale events: pds are never freed while the runtime runs. An event carries
 * the pd's id and its generation, so an event for a closed fd cannot wake the
 * waiter of the pd's next fd.
 *
 * >>netpoll                                                                      */

#define GN__PD_READY ((uintptr_t)1)
#define GN__PD_WAIT  ((uintptr_t)2)
#define GN__PD_SPAWN ((uintptr_t)3)
#define GN__PD_SPAWNED ((gn__g *)GN__PD_SPAWN)   /* what gn__pd_unblock returns for it */

typedef struct gn__pd {
    int         fd;
    uint32_t    id;                /* index in the pd table                        */
    uint32_t    gen;               /* atomic: bumped when the fd is closed          */
    uint32_t    lock;              /* deadline values, waiters' wake-ups, closing  */
    uint32_t    dl_lock;           /* serialises deadline changes and timer stops  */
    uintptr_t   rg, wg;            /* atomic: 0, READY, WAIT or a waiting gn__g *   */
    int64_t     rd, wd;            /* atomic: deadline, 0 none, -1 expired         */
    uint32_t    closing;           /* atomic                                        */
    uint32_t    hup;               /* atomic: the peer hung up or the fd has an error:
                                    * reads never wait for another edge             */
    uint32_t    rseq, wseq;        /* deadline generations, under lock              */
    gn__rtimer  rt, wt;            /* deadline timers                             */
    void      (*spawn_fn)(void *); /* for SPAWN; set before rg becomes SPAWN        */
    void       *spawn_arg;
    struct gn__pd *free_next;
} gn__pd;

/* The backend's hook (poll_*.c): a G has just started waiting on pd.           */
GN__PRIVATE void gn__netpoll_interest(gn__pd *pd);

/* The table: a fixed array of chunks, so a lookup by id never races a resize.  */
#define GN__PD_CHUNK 1024
#define GN__PD_CHUNKS 65536
static struct {
    uint32_t lock;
    gn__pd  *chunks[GN__PD_CHUNKS];
    uint32_t next_id;
    gn__pd  *free;
    int32_t  waiters;              /* atomic: Gs parked on a pd (Go's netpollWaiters) */
} gn__pds;

GN__PRIVATE gn__pd *gn__pd_lookup(uint32_t id) {
    gn__pd *chunk = gn__load(&gn__pds.chunks[id / GN__PD_CHUNK]);
    return chunk ? &chunk[id % GN__PD_CHUNK] : NULL;
}

GN__PRIVATE gn__pd *gn__pd_alloc(void) {
    gn__lock(&gn__pds.lock);
    gn__pd *pd = gn__pds.free;
    if (pd) {
        gn__pds.free = pd->free_next;
    } else {
        uint32_t id = gn__pds.next_id;
        uint32_t c = id / GN__PD_CHUNK;
        if (c >= GN__PD_CHUNKS) {
            gn__unlock(&gn__pds.lock);
            return NULL;
        }
        if (!gn__pds.chunks[c]) {
            gn__pd *chunk = (gn__pd *)GN_MALLOC(GN__PD_CHUNK * sizeof *chunk);
            if (!chunk) {
                gn__unlock(&gn__pds.lock);
                return NULL;
            }
            memset(chunk, 0, GN__PD_CHUNK * sizeof *chunk);
            for (uint32_t i = 0; i < GN__PD_CHUNK; i++) chunk[i].id = c * GN__PD_CHUNK + i;
            gn__store(&gn__pds.chunks[c], chunk);
        }
        gn__pds.next_id++;
        pd = &gn__pds.chunks[c][id % GN__PD_CHUNK];
    }
    gn__unlock(&gn__pds.lock);
    gn__lock(&pd->lock);
    gn__store(&pd->rg, (uintptr_t)0);
    gn__store(&pd->wg, (uintptr_t)0);
    gn__store(&pd->rd, (int64_t)0);
    gn__store(&pd->wd, (int64_t)0);
    gn__store(&pd->closing, 0u);
    gn__store(&pd->hup, 0u);
    gn__unlock(&pd->lock);
    return pd;
}

GN__PRIVATE void gn__pd_release(gn__pd *pd) {
    gn__lock(&gn__pds.lock);
    pd->free_next = gn__pds.free;
    gn__pds.free = pd;
    gn__unlock(&gn__pds.lock);
}

GN__PRIVATE void gn__pds_shutdown(void) {
    for (uint32_t c = 0; c < GN__PD_CHUNKS && gn__pds.chunks[c]; c++) GN_FREE(gn__pds.chunks[c]);
    memset(&gn__pds, 0, sizeof gn__pds);
}

/* Takes the waiter of one direction: ioready says readiness arrived (leave
 * READY behind if nobody waits); otherwise only a parked G is taken (for a
 * deadline or a close). Returns the G to ready, or NULL.                         */
GN__PRIVATE gn__g *gn__pd_unblock(uintptr_t *gpp, int ioready) {
    for (;;) {
        uintptr_t old = gn__load(gpp);
        if (old == GN__PD_READY) return NULL;
        if (old == 0 && !ioready) return NULL;
        /* A parked G takes READY when it wakes; a spawned one never sees it, so
         * leaving it would make the next wait return at once (and read EAGAIN). */
        uintptr_t nv = ioready && old != GN__PD_SPAWN ? GN__PD_READY : 0;
        if (gn__cas(gpp, &old, nv)) {
            if (old == GN__PD_WAIT) return NULL;   /* it will see the new state    */
            if (old != 0) gn__xadd(&gn__pds.waiters, -1);
            return (gn__g *)old;
        }
    }
}

/* Delivers what gn__pd_unblock took: readies a G, or starts the coroutine a
 * SPAWN slot asked for.                                                          */
GN__PRIVATE void gn__pd_wake(gn__pd *pd, gn__g *g) {
    if (g == GN__PD_SPAWNED) {
        if (gn__newproc(pd->spawn_fn, pd->spawn_arg, 0) < 0)
            gn__fatal("cannot start the coroutine for a ready connection");
    } else if (g) {
        gn__ready(g);
    }
}

/* The reason an operation in direction mode ('r' or 'w') cannot go on, or 0. */
GN__PRIVATE int gn__pd_check(gn__pd *pd, int mode) {
    if (gn__load(&pd->closing)) return GN_ECLOSED;
    int64_t d = gn__load(mode == 'r' ? &pd->rd : &pd->wd);
    if (d < 0) return GN_ETIMEDOUT;
    return 0;
}

GN__PRIVATE int gn__pd_commit(gn__g *g, void *arg) {
    uintptr_t *gpp = (uintptr_t *)arg;
    uintptr_t wait = GN__PD_WAIT;
    if (gn__cas(gpp, &wait, (uintptr_t)g)) {
        gn__xadd(&gn__pds.waiters, 1);
        return 1;
    }
    return 0;   /* readiness, a deadline or a close came first: run again */
}

/* Waits until the fd may be ready in direction mode. 0, or why not.           */
GN__PRIVATE int gn__pd_wait(gn__pd *pd, int mode) {
    int err = gn__pd_check(pd, mode);
    if (err) return err;
    uintptr_t *gpp = mode == 'r' ? &pd->rg : &pd->wg;
    for (;;) {
        uintptr_t old = gn__load(gpp);
        if (old == GN__PD_READY) {
            uintptr_t r = GN__PD_READY;
            if (gn__cas(gpp, &r, (uintptr_t)0)) return 0;
            continue;
        }
        if (old != 0) gn__fatal("two coroutines wait on one fd in the same direction");
        /* (SPAWN included: its owner must not also read.)                        */
        if (gn__cas(gpp, &old, GN__PD_WAIT)) break;
    }
    gn__netpoll_interest(pd);
    /* A deadline or close may have landed between the check and WAIT.          */
    if (gn__pd_check(pd, mode) == 0) gn__park(gn__pd_commit, gpp, mode == 'r' ? "read" : "write");
    uintptr_t old = gn__xchg(gpp, (uintptr_t)0);
    if (old > GN__PD_WAIT) gn__fatal("poll descriptor in an impossible state");
    return old == GN__PD_READY ? 0 : gn__pd_check(pd, mode);
}

/* Takes back a spawn armed by gn__pd_spawn_on_read: 1 if it had not fired.   */
GN__PRIVATE int gn__pd_spawn_cancel(gn__pd *pd) {
    uintptr_t sp = GN__PD_SPAWN;
    if (!gn__cas(&pd->rg, &sp, (uintptr_t)0)) return 0;
    gn__xadd(&gn__pds.waiters, -1);
    return 1;
}

/* Arms pd so that readiness (or a deadline or close) starts fn(arg) in a new
 * coroutine, and returns 0; the caller's coroutine may then end. Returns 1 if
 * the fd is already readable (nothing armed: read now), or the error that
 * stops a read (closed, timed out).                                             */
GN__PRIVATE int gn__pd_spawn_on_read(gn__pd *pd, void (*fn)(void *), void *arg) {
    int err = gn__pd_check(pd, 'r');
    if (err) return err;
    pd->spawn_fn = fn;
    pd->spawn_arg = arg;
    for (;;) {
        uintptr_t old = gn__load(&pd->rg);
        if (old == GN__PD_READY) {
            uintptr_t r = GN__PD_READY;
            if (gn__cas(&pd->rg, &r, (uintptr_t)0)) return 1;
            continue;
        }
        if (old != 0) gn__fatal("a coroutine waits on an fd armed to spawn");
        gn__xadd(&gn__pds.waiters, 1);
        if (gn__cas(&pd->rg, &old, GN__PD_SPAWN)) break;
        gn__xadd(&gn__pds.waiters, -1);
    }
    gn__netpoll_interest(pd);
    /* A deadline or close that landed before SPAWN was visible woke nobody.     */
    if ((err = gn__pd_check(pd, 'r')) != 0 && gn__pd_spawn_cancel(pd)) return err;
    return 0;
}

/* The poller's entry: readiness for pd in the given directions; hup says the
 * peer closed its side or the fd failed, a state no later edge will announce. */
GN__PRIVATE void gn__pd_ready(gn__pd *pd, int readable, int writable, int hup, gn__glist *out) {
    gn__g *g;
    if (hup && !gn__load_relaxed(&pd->hup)) gn__store(&pd->hup, 1u);
    if (readable && (g = gn__pd_unblock(&pd->rg, 1)) != NULL) {
        if (g == GN__PD_SPAWNED) {   /* a new G, handed back like a woken one */
            g = gn__newg_here(pd->spawn_fn, pd->spawn_arg);
            if (!g) gn__fatal("cannot start the coroutine for a ready connection");
        }
        gn__glist_push(out, g);
    }
    if (writable && (g = gn__pd_unblock(&pd->wg, 1)) != NULL) gn__glist_push(out, g);
}

/* ---- deadlines ------------------------------------------------------------------ */
GN__PRIVATE void gn__pd_deadline_fire(gn__pd *pd, int mode, uintptr_t seq) {
    gn__lock(&pd->lock);
    uint32_t cur = mode == 'r' ? pd->rseq : pd->wseq;
    if ((uint32_t)seq != cur) {   /* the deadline changed since this was armed */
        gn__unlock(&pd->lock);
        return;
    }
    gn__store(mode == 'r' ? &pd->rd : &pd->wd, (int64_t)-1);
    gn__g *g = gn__pd_unblock(mode == 'r' ? &pd->rg : &pd->wg, 0);
    gn__unlock(&pd->lock);
    gn__pd_wake(pd, g);
}
GN__PRIVATE void gn__pd_rtimer_fire(void *arg, uintptr_t seq) { gn__pd_deadline_fire((gn__pd *)arg, 'r', seq); }
GN__PRIVATE void gn__pd_wtimer_fire(void *arg, uintptr_t seq) { gn__pd_deadline_fire((gn__pd *)arg, 'w', seq); }

/* Sets the deadline of mode ('r', 'w' or 'b' for both) to the absolute instant
 * d (0: none). A past instant fails the waiter and later operations at once.
 * Setters are serialised by dl_lock; the old timer is stopped outside the pd
 * lock, since a timer that is firing takes that lock.                          */
GN__PRIVATE int gn__pd_set_deadline(gn__pd *pd, int64_t d, int mode) {
    if (d < 0) d = 0;
    gn__glist wake = {NULL, NULL, 0};
    int spawn = 0;
    gn__lock(&pd->dl_lock);
    for (int dir = 0; dir < 2; dir++) {
        int m = dir == 0 ? 'r' : 'w';
        if (mode != 'b' && mode != m) continue;
        gn__rtimer *t = m == 'r' ? &pd->rt : &pd->wt;
        gn__timer_stop(t);
        gn__lock(&pd->lock);
        uint32_t seq = ++*(m == 'r' ? &pd->rseq : &pd->wseq);
        int64_t v = d == 0 ? 0 : (d <= gn_now() ? -1 : d);
        gn__store(m == 'r' ? &pd->rd : &pd->wd, v);
        if (v > 0) {
            t->f = m == 'r' ? gn__pd_rtimer_fire : gn__pd_wtimer_fire;
            t->arg = pd;
            t->seq = seq;
            gn__timer_start(t, v);
        } else if (v < 0) {
            gn__g *g = gn__pd_unblock(m == 'r' ? &pd->rg : &pd->wg, 0);
            if (g == GN__PD_SPAWNED) spawn = 1;
            else if (g) gn__glist_push(&wake, g);
        }
        gn__unlock(&pd->lock);
    }
    gn__unlock(&pd->dl_lock);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    if (spawn) gn__pd_wake(pd, GN__PD_SPAWNED);
    return 0;
}

/* Marks pd closing and wakes both waiters; they return GN_ECLOSED.              */
GN__PRIVATE void gn__pd_evict(gn__pd *pd) {
    gn__lock(&pd->lock);
    gn__store(&pd->closing, 1u);
    pd->rseq++;
    pd->wseq++;
    gn__store(&pd->rd, (int64_t)0);
    gn__store(&pd->wd, (int64_t)0);
    gn__g *r = gn__pd_unblock(&pd->rg, 0);
    gn__g *w = gn__pd_unblock(&pd->wg, 0);
    gn__unlock(&pd->lock);
    gn__pd_wake(pd, r);
    gn__pd_wake(pd, w);
}

/* Before the pd is reused: stop its timers (outside its lock: a firing timer
 * takes the lock) and bump its generation so late events miss.                  */
GN__PRIVATE void gn__pd_retire(gn__pd *pd) {
    gn__lock(&pd->dl_lock);
    gn__timer_stop(&pd->rt);
    gn__timer_stop(&pd->wt);
    gn__unlock(&pd->dl_lock);
    gn__xadd(&pd->gen, 1u);
}
/* ==== end src/netpoll.c ==== */

/* ==== begin src/poll_epoll.c ==== */
/* poll_epoll.c — the poller on Linux: epoll, edge-triggered, and an eventfd to wake it.
 *
 * The poller contract, the same for every backend (after Go's netpoll.go):
 *   gn__netpoll_init()      create the poller; 0 or a negative code.
 *   gn__netpoll_fini()      destroy it (at runtime shutdown).
 *   gn__netpoll_arm(pd)     start watching pd->fd, once, for both directions;
 *                           0 or a negative code.
 *   gn__netpoll_disarm(pd)  stop watching it (before the fd is closed).
 *   gn__netpoll(delay, out) wait for readiness: delay < 0 blocks until an event
 *                           or a break, 0 only looks, > 0 waits at most delay ns
 *                           (rounded up to 1 ms, the poller's grain). Each event
 *                           goes to gn__pd_ready (with hup set when the peer
 *                           hung up or the fd failed); Gs made runnable are
 *                           appended to out; returns how many.
 *   gn__netpoll_break()     make a blocked gn__netpoll return now. Wake-ups that
 *                           arrive while one is pending collapse into one.
 *   gn__netpoll_interest(pd) a G has just started waiting on pd (rg or wg became
 *                           WAIT, or rg SPAWN): a backend whose set is rebuilt
 *                           per call (poll_poll.c) breaks a blocked poller so
 *                           that it looks again; a no-op where the kernel keeps
 *                           the set (epoll, kqueue).
 * Only one M blocks in gn__netpoll at a time (the scheduler sees to that); any
 * thread may call gn__netpoll_break.
 *
 * >>poll-epoll                                                                   */
#if GN__POLL_EPOLL

#include <sys/epoll.h>
#include <sys/eventfd.h>

#define GN__EP_WAKE_TAG UINT64_MAX   /* the eventfd's tag: no pd has this id */

static struct {
    int      epfd;
    int      wakefd;
    uint32_t wake_pending;     /* atomic: a break is in flight, later ones are no-ops */
} gn__ep = {-1, -1, 0};

GN__PRIVATE int gn__netpoll_init(void) {
    gn__ep.epfd = gn__sys_epoll_create();
    if (gn__ep.epfd < 0) return gn__err_from_errno(errno);
    gn__ep.wakefd = gn__sys_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (gn__ep.wakefd < 0) {
        int err = gn__err_from_errno(errno);
        gn__sys_close(gn__ep.epfd);
        gn__ep.epfd = -1;
        return err;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = GN__EP_WAKE_TAG;
    if (gn__sys_epoll_ctl(gn__ep.epfd, EPOLL_CTL_ADD, gn__ep.wakefd, &ev) != 0) {
        int err = gn__err_from_errno(errno);
        gn__sys_close(gn__ep.wakefd);
        gn__sys_close(gn__ep.epfd);
        gn__ep.epfd = gn__ep.wakefd = -1;
        return err;
    }
    gn__ep.wake_pending = 0;
    return 0;
}

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__ep.wakefd >= 0) gn__sys_close(gn__ep.wakefd);
    if (gn__ep.epfd >= 0) gn__sys_close(gn__ep.epfd);
    gn__ep.epfd = gn__ep.wakefd = -1;
}

/* The kernel keeps the set: nothing to rebuild.                                 */
static inline void gn__netpoll_interest(gn__pd *pd) { (void)pd; }

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__ep.wake_pending, &z, 1)) return;
    uint64_t one = 1;
    int saved = errno;   /* callable from a coroutine: keep its errno */
    for (;;) {
        ssize_t n = gn__sys_wake_write(gn__ep.wakefd, &one, sizeof one);
        if (n == (ssize_t)sizeof one) break;
        if (errno == EINTR) continue;
        /* EAGAIN: the counter is full, so a wake-up waits to be read. Any other
         * failure sent none: the next break must not think one is pending.     */
        if (errno != EAGAIN) gn__store(&gn__ep.wake_pending, 0u);
        break;
    }
    errno = saved;
}

/* epoll_pwait2 (Linux 5.11) takes a timespec; plain epoll_wait only whole
 * milliseconds, which would make every short sleep up to 1 ms late.            */
GN__PRIVATE int gn__epoll_wait_ns(struct epoll_event *evs, int max, int64_t delay) {
    if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
#ifdef SYS_epoll_pwait2
    static int no_pwait2;
    if (delay > 0 && !gn__load_relaxed(&no_pwait2)) {
        struct timespec ts = {(time_t)(delay / GN_SECOND), (long)(delay % GN_SECOND)};
        long n = gn__sys_epoll_pwait2(gn__ep.epfd, evs, max, &ts);
        if (n >= 0 || errno != ENOSYS) return (int)n;
        gn__store_relaxed(&no_pwait2, 1);
    }
#endif
    int ms;
    if (delay < 0) ms = -1;
    else if (delay == 0) ms = 0;
    else ms = (int)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);
    return gn__sys_epoll_wait(gn__ep.epfd, evs, max, ms);
}

/* Edge-triggered, both directions at once: an fd costs one epoll_ctl in its
 * life, and a short read or write is enough to know it is drained.             */
GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (uint64_t)pd->id << 32 | gn__load(&pd->gen);
    if (gn__sys_epoll_ctl(gn__ep.epfd, EPOLL_CTL_ADD, pd->fd, &ev) != 0) return gn__err_from_errno(errno);
    return 0;
}

GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int saved = errno;
    gn__sys_epoll_ctl(gn__ep.epfd, EPOLL_CTL_DEL, pd->fd, &ev);
    errno = saved;
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    struct epoll_event evs[128];
    int n = gn__epoll_wait_ns(evs, 128, delay);
    int before = out->n;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == GN__EP_WAKE_TAG) {
            uint64_t v;
            if (gn__sys_wake_read(gn__ep.wakefd, &v, sizeof v) < 0) { /* drained already: fine */ }
            gn__store(&gn__ep.wake_pending, 0);
            continue;
        }
        gn__pd *pd = gn__pd_lookup((uint32_t)(tag >> 32));
        if (!pd || gn__load(&pd->gen) != (uint32_t)tag) continue;   /* a closed fd's event */
        uint32_t e = evs[i].events;
        int readable = (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        int writable = (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
        gn__pd_ready(pd, readable, writable, (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0, out);
    }
    return out->n - before;
}

#endif /* GN__POLL_EPOLL */
/* ==== end src/poll_epoll.c ==== */

/* ==== begin src/poll_poll.c ==== */
/* poll_poll.c — the portable fallback poller: poll(2), level-triggered, and an
 * eventfd (a self-pipe where there is none) to wake it. Chosen with
 * GN_POLL_POLL=1, and on platforms with neither epoll, kqueue nor IOCP. It
 * keeps the contract at the top of poll_epoll.c.
 *
 * poll() is level-triggered and keeps no state, so the backend keeps it:
 *   - a table of armed pds (pd pointer, its generation at arm time, the fd);
 *     arm adds, disarm removes, both under a lock;
 *   - each gn__netpoll builds its pollfd array from that table: POLLIN (and
 *     POLLRDHUP) for a pd whose rg holds a parked G, WAIT or SPAWN, POLLOUT for
 *     one whose wg holds a G or WAIT. A pd nobody waits on is polled only for
 *     a hang-up (POLLRDHUP, or POLLHUP/POLLERR), and only until one is seen,
 *     so that pd->hup is set for an idle connection as epoll's edge sets it (the
 *     HTTP client reads it to drop a pooled connection the server closed).
 *     Readiness with nobody waiting is never asked for: level-triggered, it
 *     would be reported on every call. READY is left for the next wait, as
 *     epoll's edge leaves it, when readiness comes for a waiter that has gone.
 *   - a G that starts waiting while a poller is blocked changes the set under
 *     it: gn__pd_wait and gn__pd_spawn_on_read call gn__netpoll_interest, which
 *     breaks a blocked poll (a flag is set while one is inside poll(); it and
 *     the waiting slot are ordered by seq_cst fences, so either the poller sees
 *     the new waiter or the waiter sees the flag). The poller then rebuilds.
 *   - disarm breaks a blocked poller too: poll() holds a reference to each file
 *     it waits on, so a socket closed while in a blocked poll's set would not be
 *     released (no FIN to the peer) until that poll returned.
 * Events are checked against the generation recorded at arm time, so a fd
 * closed and reused while a poll was in flight cannot wake the wrong pd.
 *
 * Cost: O(armed fds) per call to build the set, and poll() itself is O(n) in
 * the kernel. That is acceptable for a fallback; use epoll (or kqueue, IOCP)
 * for many thousands of connections. Calls do not overlap: a look (delay 0)
 * while another M is inside gn__netpoll returns nothing at once (that M
 * reports what is ready), a blocking call waits for a look to finish.
 *
 * >>poll-poll                                                                    */
#if GN__POLL_POLL

#include <poll.h>
#include <sys/stat.h>
#if defined(__linux__)
#  include <sys/eventfd.h>
#  define GN__PP_EVENTFD 1
#endif
#if (defined(__linux__) && defined(_GNU_SOURCE)) || defined(__FreeBSD__)
#  define GN__PP_PPOLL 1     /* a timespec timeout: no rounding to whole ms */
#endif
#ifdef POLLRDHUP
#  define GN__PP_RDHUP POLLRDHUP
#else
#  define GN__PP_RDHUP 0
#endif

typedef struct {
    gn__pd  *pd;
    uint32_t gen;                  /* pd->gen when it was armed                  */
    int      fd;
} gn__pp_ent;

static struct {
    uint32_t    lock;              /* the table: ents, slot                      */
    gn__pp_ent *ents;              /* the armed pds, dense                       */
    uint32_t    n, cap;
    uint32_t   *slot;              /* pd id -> index in ents + 1; 0: not armed   */
    uint32_t    nslot;
    uint32_t    poll_lock;         /* one gn__netpoll at a time; owns the scratch */
    struct pollfd *pfds;           /* scratch: [0] is the wake fd                */
    gn__pp_ent *snap;              /* scratch: the entry behind each pfds[i]     */
    uint32_t    pcap;
    /* Bigger scratch, made by arm (under lock) for the poller to take: an fd
     * that cannot get room in the poll set fails to arm with GN_ENOMEM, and
     * the poller never has to allocate, which it could not fail cleanly.       */
    struct pollfd *spare_pfds;
    gn__pp_ent *spare_snap;
    uint32_t    spare_cap;
    int         wakefd[2];         /* read end, write end (one eventfd: the same) */
    uint32_t    wake_pending;      /* atomic: a break is in flight               */
    uint32_t    blocked;           /* atomic: a poller is (about to be) in poll() */
} gn__pp = {0, NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0, NULL, NULL, 0, {-1, -1}, 0, 0};

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__pp.wakefd[0] >= 0) gn__sys_close(gn__pp.wakefd[0]);
    if (gn__pp.wakefd[1] >= 0 && gn__pp.wakefd[1] != gn__pp.wakefd[0]) gn__sys_close(gn__pp.wakefd[1]);
    gn__pp.wakefd[0] = gn__pp.wakefd[1] = -1;
    GN_FREE(gn__pp.ents);
    GN_FREE(gn__pp.slot);
    GN_FREE(gn__pp.pfds);
    GN_FREE(gn__pp.snap);
    GN_FREE(gn__pp.spare_pfds);
    GN_FREE(gn__pp.spare_snap);
    gn__pp.spare_pfds = NULL;
    gn__pp.spare_snap = NULL;
    gn__pp.spare_cap = 0;
    gn__pp.ents = gn__pp.snap = NULL;
    gn__pp.slot = NULL;
    gn__pp.pfds = NULL;
    gn__pp.n = gn__pp.cap = gn__pp.nslot = gn__pp.pcap = 0;
}

GN__PRIVATE int gn__netpoll_init(void) {
    gn__pp.n = 0;
    gn__pp.wake_pending = 0;
    gn__pp.blocked = 0;
    /* The first scratch: room for the wake fd and 63 others.                    */
    gn__pp.pcap = 64;
    gn__pp.pfds = (struct pollfd *)GN_MALLOC(gn__pp.pcap * sizeof *gn__pp.pfds);
    gn__pp.snap = (gn__pp_ent *)GN_MALLOC(gn__pp.pcap * sizeof *gn__pp.snap);
    if (!gn__pp.pfds || !gn__pp.snap) {
        GN_FREE(gn__pp.pfds);
        GN_FREE(gn__pp.snap);
        gn__pp.pfds = NULL;
        gn__pp.snap = NULL;
        gn__pp.pcap = 0;
        return GN_ENOMEM;
    }
#if GN__PP_EVENTFD
    int fd = gn__sys_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return gn__err_from_errno(errno);
    gn__pp.wakefd[0] = gn__pp.wakefd[1] = fd;
#else
    int p[2];
    if (gn__sys_pipe_nb(p) != 0) return gn__err_from_errno(errno);
    gn__pp.wakefd[0] = p[0];
    gn__pp.wakefd[1] = p[1];
#endif
    return 0;
}

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__pp.wake_pending, &z, 1)) return;
    int saved = errno;   /* callable from a coroutine: keep its errno */
#if GN__PP_EVENTFD
    uint64_t one = 1;
#else
    char one = 1;
#endif
    for (;;) {
        ssize_t n = gn__sys_wake_write(gn__pp.wakefd[1], &one, sizeof one);
        if (n == (ssize_t)sizeof one) break;
        if (errno == EINTR) continue;
        /* EAGAIN: full, so a wake-up waits to be read. Any other failure sent
         * none: the next break must not think one is pending.                  */
        if (errno != EAGAIN) gn__store(&gn__pp.wake_pending, 0u);
        break;
    }
    errno = saved;
}

/* Called by a G that has just put itself (WAIT, SPAWN) in rg or wg: a poller
 * blocked on a set built before must look again.                              */
GN__PRIVATE void gn__netpoll_interest(gn__pd *pd) {
    (void)pd;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the slot's store, then the flag */
    if (__atomic_load_n(&gn__pp.blocked, __ATOMIC_RELAXED)) gn__netpoll_break();
}

/* Not pollable (a regular file, a directory): -EPERM, as epoll says, so the fd
 * is treated as always ready and never polled.                                 */
GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    if (gn__pp.wakefd[0] < 0) return -EBADF;   /* no runtime: as epoll says */
    struct stat st;
    if (fstat(pd->fd, &st) != 0) return gn__err_from_errno(errno);
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return -EPERM;
    int rc = 0;
    gn__lock(&gn__pp.lock);
    if (pd->id >= gn__pp.nslot) {
        uint32_t ns = gn__pp.nslot ? gn__pp.nslot : 256;
        while (ns <= pd->id) ns *= 2;
        uint32_t *s = (uint32_t *)GN_REALLOC(gn__pp.slot, ns * sizeof *s);
        if (!s) {
            rc = GN_ENOMEM;
            goto out;
        }
        memset(s + gn__pp.nslot, 0, (ns - gn__pp.nslot) * sizeof *s);
        gn__pp.slot = s;
        gn__pp.nslot = ns;
    }
    if (gn__pp.n == gn__pp.cap) {
        uint32_t nc = gn__pp.cap ? gn__pp.cap * 2 : 64;
        gn__pp_ent *e = (gn__pp_ent *)GN_REALLOC(gn__pp.ents, nc * sizeof *e);
        if (!e) {
            rc = GN_ENOMEM;
            goto out;
        }
        gn__pp.ents = e;
        gn__pp.cap = nc;
    }
    if (gn__pp.slot[pd->id]) {   /* armed twice: epoll says EEXIST */
        rc = -EEXIST;
        goto out;
    }
    if (gn__pp.pcap < gn__pp.n + 2 && gn__pp.spare_cap < gn__pp.n + 2) {
        uint32_t nc = gn__pp.pcap ? gn__pp.pcap * 2 : 64;
        while (nc < gn__pp.n + 2) nc *= 2;
        struct pollfd *p = (struct pollfd *)GN_MALLOC(nc * sizeof *p);
        gn__pp_ent *s = p ? (gn__pp_ent *)GN_MALLOC(nc * sizeof *s) : NULL;
        if (!s) {
            GN_FREE(p);
            rc = GN_ENOMEM;
            goto out;
        }
        GN_FREE(gn__pp.spare_pfds);
        GN_FREE(gn__pp.spare_snap);
        gn__pp.spare_pfds = p;
        gn__pp.spare_snap = s;
        gn__pp.spare_cap = nc;
    }
    gn__pp.ents[gn__pp.n].pd = pd;
    gn__pp.ents[gn__pp.n].gen = gn__load(&pd->gen);
    gn__pp.ents[gn__pp.n].fd = pd->fd;
    gn__pp.slot[pd->id] = ++gn__pp.n;
out:
    gn__unlock(&gn__pp.lock);
    return rc;
}

GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    gn__lock(&gn__pp.lock);
    uint32_t i = pd->id < gn__pp.nslot ? gn__pp.slot[pd->id] : 0;
    if (i && gn__pp.ents[i - 1].pd == pd) {
        gn__pp_ent *last = &gn__pp.ents[--gn__pp.n];
        gn__pp.ents[i - 1] = *last;
        gn__pp.slot[last->pd->id] = i;
        gn__pp.slot[pd->id] = 0;
    }
    gn__unlock(&gn__pp.lock);
    /* A blocked poll() holds a reference to every file in its set: the close
     * that follows would not release the socket (no FIN goes out) until that
     * poll returned, which may be never.                                     */
    if (__atomic_load_n(&gn__pp.blocked, __ATOMIC_SEQ_CST)) gn__netpoll_break();
}

/* The events to ask pd for, or -1 to leave it out.                              */
GN__PRIVATE int gn__pp_events(gn__pd *pd) {
    if (gn__load(&pd->closing)) return -1;
    int ev = 0;
    if (gn__load(&pd->rg) >= GN__PD_WAIT) ev |= POLLIN | GN__PP_RDHUP;   /* WAIT, SPAWN, a G */
    if (gn__load(&pd->wg) >= GN__PD_WAIT) ev |= POLLOUT;
    if (ev) return ev;
    if (gn__load(&pd->hup)) return -1;   /* nobody waits, the hang-up is known   */
    return GN__PP_RDHUP;                 /* watch for a hang-up only             */
}

/* Builds the set in the scratch arrays (under poll_lock): how many entries,
 * the wake fd at 0 included.                                                    */
GN__PRIVATE uint32_t gn__pp_build(void) {
    gn__lock(&gn__pp.lock);
    if (gn__pp.pcap < gn__pp.n + 1) {   /* arm made room: take it */
        GN_FREE(gn__pp.pfds);
        GN_FREE(gn__pp.snap);
        gn__pp.pfds = gn__pp.spare_pfds;
        gn__pp.snap = gn__pp.spare_snap;
        gn__pp.pcap = gn__pp.spare_cap;
        gn__pp.spare_pfds = NULL;
        gn__pp.spare_snap = NULL;
        gn__pp.spare_cap = 0;
    }
    struct pollfd *pf = gn__pp.pfds;
    pf[0].fd = gn__pp.wakefd[0];
    pf[0].events = POLLIN;
    pf[0].revents = 0;
    uint32_t k = 1;
    for (uint32_t i = 0; i < gn__pp.n; i++) {
        gn__pp_ent *e = &gn__pp.ents[i];
        int ev = gn__pp_events(e->pd);
        if (ev < 0) continue;
        pf[k].fd = e->fd;
        pf[k].events = (short)ev;
        pf[k].revents = 0;
        gn__pp.snap[k] = *e;
        k++;
    }
    gn__unlock(&gn__pp.lock);
    return k;
}

GN__PRIVATE int gn__pp_poll(struct pollfd *pf, uint32_t n, int64_t delay) {
    if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
#if GN__PP_PPOLL
    struct timespec ts, *tsp = NULL;
    if (delay >= 0) {
        ts.tv_sec = (time_t)(delay / GN_SECOND);
        ts.tv_nsec = (long)(delay % GN_SECOND);
        tsp = &ts;
    }
    return gn__sys_ppoll(pf, (nfds_t)n, tsp);
#else
    int ms;
    if (delay < 0) ms = -1;
    else if (delay == 0) ms = 0;
    else ms = (int)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);   /* never early */
    return gn__sys_poll(pf, (nfds_t)n, ms);
#endif
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    if (delay == 0) {
        if (!gn__trylock(&gn__pp.poll_lock)) return 0;   /* the M inside reports */
    } else {
        gn__lock(&gn__pp.poll_lock);
        /* From here a new waiter breaks us; the set is built after, so a
         * waiter either is in it or sees the flag.                          */
        __atomic_store_n(&gn__pp.blocked, 1u, __ATOMIC_SEQ_CST);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    uint32_t n = gn__pp_build();
    int before = out->n;
    int r = 0;
    if (n > 1 || delay != 0) r = gn__pp_poll(gn__pp.pfds, n, delay);
    if (delay != 0) gn__store(&gn__pp.blocked, 0u);
    struct pollfd *pf = gn__pp.pfds;
    for (uint32_t i = 0; r > 0 && i < n; i++) {
        short e = pf[i].revents;
        if (!e) continue;
        r--;
        if (i == 0) {
#if GN__PP_EVENTFD
            uint64_t v;
            if (gn__sys_wake_read(gn__pp.wakefd[0], &v, sizeof v) < 0) { /* drained already: fine */ }
#else
            char buf[64];
            while (gn__sys_wake_read(gn__pp.wakefd[0], buf, sizeof buf) > 0) {}
#endif
            gn__store(&gn__pp.wake_pending, 0);
            continue;
        }
        gn__pd *pd = gn__pp.snap[i].pd;
        if (gn__load(&pd->gen) != gn__pp.snap[i].gen) continue;   /* a closed fd's event */
        /* POLLNVAL: the fd was closed behind the runtime's back. Report it as a
         * failure, so a waiter gets EBADF from its call instead of a spin.       */
        int hup = (e & (GN__PP_RDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
        int readable = (e & POLLIN) != 0 || hup;
        int writable = (e & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) != 0;
        gn__pd_ready(pd, readable, writable, hup, out);
    }
    gn__unlock(&gn__pp.poll_lock);
    return out->n - before;
}

#endif /* GN__POLL_POLL */
/* ==== end src/poll_poll.c ==== */

/* ==== begin src/poll_kqueue.c ==== */
/* poll_kqueue.c — the poller on macOS and the BSDs: kqueue, with EV_CLEAR (edge-
 * triggered, like our use of epoll) and EVFILT_USER to wake it; a pipe wakes it
 * where the kernel has no EVFILT_USER (OpenBSD, NetBSD before 10). It keeps the
 * contract at the top of poll_epoll.c. GN_POLL_KQUEUE=1 forces it; make
 * test-kqueue runs it on Linux over tests/shim/sys/event.h.
 *
 * An fd is registered once, both filters in one kevent call. Each filter
 * reports on its own, so one readiness change is one event, where epoll's one
 * event may carry both directions.
 *
 * Hang-ups. EV_EOF on EVFILT_READ says the peer will send nothing more, or the
 * socket failed (fflags then holds the error): what EPOLLRDHUP and EPOLLERR say,
 * so it sets pd->hup. EV_EOF on EVFILT_WRITE only says nothing more can be
 * sent, which our own shutdown(SHUT_WR) causes too while reads go on; it is a
 * hang-up only with an error in fflags. A connection that is gone both ways
 * shows EV_EOF on EVFILT_READ as well.
 *
 * Not registered: regular files and directories. kqueue would take them and
 * call them ready forever; arm answers -EPERM, as epoll does, and their
 * callers treat them as always ready (as Go does on these systems).
 *
 * Stale events: udata carries the pd's id and generation (the id alone on
 * 32-bit systems, where the fd number must match too), as epoll's data does.
 * Closing an fd removes its filters from the kqueue, but events already
 * collected by a kevent call running on another thread may still arrive.
 *
 * >>poll-kqueue                                                                  */
#if GN__POLL_KQUEUE

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/stat.h>

#if defined(EVFILT_USER)
#  define GN__KQ_USER 1           /* wake with a user event, else with a pipe     */
#endif
#define GN__KQ_WAKE_IDENT 0       /* the user event's ident (not an fd)           */
#define GN__KQ_WAKE_TAG UINTPTR_MAX   /* the wake pipe's udata: no pd has this tag */

static struct {
    int      kq;
    int      wakefd[2];          /* the wake pipe: read end, write end; or -1    */
    uint32_t wake_pending;       /* atomic: a break is in flight, later ones are no-ops */
} gn__kq = {-1, {-1, -1}, 0};

/* udata for pd. EV_SET casts it to whatever the system's udata is (void *, or
 * intptr_t on older NetBSD).                                                   */
GN__PRIVATE void *gn__kq_tag(gn__pd *pd) {
#if UINTPTR_MAX > 0xffffffffu
    return (void *)((uintptr_t)pd->id << 32 | gn__load(&pd->gen));
#else
    return (void *)(uintptr_t)pd->id;
#endif
}

/* The pd an event is for, or NULL when it belongs to an fd closed since.      */
GN__PRIVATE gn__pd *gn__kq_pd(const struct kevent *ev) {
    uintptr_t tag = (uintptr_t)ev->udata;
#if UINTPTR_MAX > 0xffffffffu
    gn__pd *pd = gn__pd_lookup((uint32_t)(tag >> 32));
    if (!pd || gn__load(&pd->gen) != (uint32_t)tag) return NULL;
#else
    gn__pd *pd = gn__pd_lookup((uint32_t)tag);
    if (!pd || (uintptr_t)pd->fd != ev->ident) return NULL;
#endif
    return pd;
}

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__kq.wakefd[0] >= 0) close(gn__kq.wakefd[0]);
    if (gn__kq.wakefd[1] >= 0) close(gn__kq.wakefd[1]);
    if (gn__kq.kq >= 0) close(gn__kq.kq);
    gn__kq.kq = gn__kq.wakefd[0] = gn__kq.wakefd[1] = -1;
}

GN__PRIVATE int gn__netpoll_init(void) {
    gn__kq.kq = kqueue();
    if (gn__kq.kq < 0) return gn__err_from_errno(errno);
    /* A fork's child does not inherit a kqueue; an exec'd program must not
     * get the descriptor either.                                             */
    fcntl(gn__kq.kq, F_SETFD, FD_CLOEXEC);
    struct kevent ev;
#if GN__KQ_USER
    EV_SET(&ev, GN__KQ_WAKE_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
#else
    int p[2];
    if (gn__sys_pipe_nb(p) != 0) {
        int err = gn__err_from_errno(errno);
        gn__netpoll_fini();
        return err;
    }
    gn__kq.wakefd[0] = p[0];
    gn__kq.wakefd[1] = p[1];
    /* Level-triggered: bytes left behind by a short drain report again.       */
    EV_SET(&ev, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)GN__KQ_WAKE_TAG);
#endif
    if (kevent(gn__kq.kq, &ev, 1, NULL, 0, NULL) != 0) {
        int err = gn__err_from_errno(errno);
        gn__netpoll_fini();
        return err;
    }
    gn__kq.wake_pending = 0;
    return 0;
}

/* The kernel keeps the set: nothing to rebuild.                                 */
static inline void gn__netpoll_interest(gn__pd *pd) { (void)pd; }

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__kq.wake_pending, &z, 1)) return;
    int saved = errno;   /* callable from a coroutine: keep its errno */
#if GN__KQ_USER
    struct kevent ev;
    EV_SET(&ev, GN__KQ_WAKE_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
    while (kevent(gn__kq.kq, &ev, 1, NULL, 0, NULL) < 0 && errno == EINTR) {}
#else
    char one = 1;
    while (write(gn__kq.wakefd[1], &one, 1) < 0 && errno == EINTR) {}   /* EAGAIN: full */
#endif
    errno = saved;
}

GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    if (gn__kq.kq < 0) return -EBADF;   /* no runtime: as epoll says */
    struct stat st;
    if (fstat(pd->fd, &st) != 0) return gn__err_from_errno(errno);
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return -EPERM;
    void *tag = gn__kq_tag(pd);
    struct kevent ch[2];
    EV_SET(&ch[0], pd->fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, tag);
    EV_SET(&ch[1], pd->fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, tag);
    if (kevent(gn__kq.kq, ch, 2, NULL, 0, NULL) != 0) return gn__err_from_errno(errno);
    return 0;
}

/* Closing the fd would remove its filters, but a pd is also disarmed while its
 * fd stays open (the signal pipe), so delete them: one call, as epoll's DEL.  */
GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    int saved = errno;
    struct kevent ch[2];
    EV_SET(&ch[0], pd->fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
    EV_SET(&ch[1], pd->fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    kevent(gn__kq.kq, ch, 2, NULL, 0, NULL);
    errno = saved;
}

/* kevent takes a timespec: a short sleep is not rounded to a millisecond.     */
GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    struct kevent evs[128];
    struct timespec ts, *tsp = NULL;
    if (delay >= 0) {
        if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
        ts.tv_sec = (time_t)(delay / GN_SECOND);
        ts.tv_nsec = (long)(delay % GN_SECOND);
        tsp = &ts;
    }
    int n = kevent(gn__kq.kq, NULL, 0, evs, 128, tsp);
    int before = out->n;
    for (int i = 0; i < n; i++) {
        const struct kevent *ev = &evs[i];
        if (ev->flags & EV_ERROR) continue;   /* a failed change: none are passed here */
#if GN__KQ_USER
        if (ev->filter == EVFILT_USER) {
            gn__store(&gn__kq.wake_pending, 0);
            continue;
        }
#else
        if ((uintptr_t)ev->udata == GN__KQ_WAKE_TAG) {
            char buf[64];
            while (read(gn__kq.wakefd[0], buf, sizeof buf) > 0) {}
            gn__store(&gn__kq.wake_pending, 0);
            continue;
        }
#endif
        gn__pd *pd = gn__kq_pd(ev);
        if (!pd) continue;
        int eof = (ev->flags & EV_EOF) != 0;
        if (ev->filter == EVFILT_READ) gn__pd_ready(pd, 1, 0, eof, out);
        else if (ev->filter == EVFILT_WRITE) gn__pd_ready(pd, 0, 1, eof && ev->fflags != 0, out);
    }
    return out->n - before;
}

#endif /* GN__POLL_KQUEUE */
/* ==== end src/poll_kqueue.c ==== */

/* ==== begin src/poll_iocp.c ==== */
/* poll_iocp.c — the poller on Windows: one I/O completion port, in completion
 * mode. It keeps the contract at the top of poll_epoll.c, with one difference
 * in what an event means: epoll says "the socket may be read now"; here an
 * event is "the overlapped operation you started has finished".
 *
 * Operations. net_windows.c starts each read, write, accept and connect as an
 * overlapped call on a gn__iocp_op (OVERLAPPED first) and parks the coroutine
 * on the pd slot of the op's direction (rg for reads and accepts, wg for
 * writes and connects), exactly as a readiness wait parks. The completion,
 * dequeued here, records the result in the op, clears op->busy, and passes
 * through gn__pd_ready: the parked G wakes, or READY waits for it, or a SPAWN
 * slot starts a coroutine (an idle connection's zero-byte read finishing).
 * A waiter never trusts the slot alone: it loops until its op is not busy, so
 * a READY left by an older completion costs one more look, never a wrong
 * result. A deadline or a close wakes the waiter the usual way; it then
 * cancels its op with CancelIoEx and waits (gn__iocp_wait_done) for the
 * cancelled completion before the OVERLAPPED or the buffer is reused or freed.
 *
 * Lifetime. The ops of a socket live in a gn__iocp_sock, counted: one
 * reference for the gn__fd, one per op in flight. A socket closed with an op
 * in flight (the idle read nobody waits for) is freed by whichever comes
 * last, the close or the completion, so the kernel never writes to freed
 * memory. A completion carries pd->gen from when its op started: one for a
 * socket since closed wakes nobody.
 *
 * Completions on success. Where every provider of a family is an IFS (the
 * base TCP/IP ones are; a layered provider may not be), a socket gets
 * FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: a call that succeeds at once returns
 * its result and queues nothing, so a busy connection's read and write cost
 * no trip through the port. Go checks every installed protocol; this checks
 * the family in use, since an IPX provider (which wine lists) says nothing
 * about TCP.
 *
 * Wake-up: PostQueuedCompletionStatus with a key no socket uses (they use 0),
 * collapsed by a pending flag. arm associates a socket with the port once;
 * disarm has nothing to undo (closesocket does).
 *
 * >>poll-iocp                                                                    */
#if GN__POLL_IOCP

#define GN__IOCP_WAKE_KEY ((ULONG_PTR)1)

typedef struct gn__iocp_sock gn__iocp_sock;

typedef struct gn__iocp_op {
    OVERLAPPED     ov;          /* first: a completion hands back &ov           */
    gn__iocp_sock *owner;
    gn__pd        *pd;          /* whose waiter the completion wakes            */
    uint32_t       gen;         /* pd->gen when it started                      */
    int            mode;        /* 'r' or 'w': the pd slot                      */
    uint32_t       busy;        /* atomic: started, completion not yet seen     */
    uint32_t       status;      /* NTSTATUS of the completion, 0: success       */
    DWORD          bytes;       /* bytes moved, once busy is 0                  */
    DWORD          sync_bytes;  /* the call's own count, for a success at once  */
    DWORD          flags;       /* WSARecv's flags, in and out                  */
} gn__iocp_op;

struct gn__iocp_sock {
    gn__iocp_op r, w;           /* one reader and one writer at a time          */
    uint32_t    refs;           /* atomic: the fd's, plus one per op in flight  */
};

static struct {
    HANDLE   port;
    uint32_t wake_pending;      /* atomic: a wake-up is queued, later ones are no-ops */
    int      skip_ok[3];        /* AF_INET, AF_INET6, AF_UNIX: success queues nothing */
} gn__iocp;

GN__PRIVATE gn__iocp_sock *gn__iocp_sock_new(void) {
    gn__iocp_sock *s = (gn__iocp_sock *)GN_MALLOC(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->r.owner = s->w.owner = s;
    s->r.mode = 'r';
    s->w.mode = 'w';
    s->refs = 1;
    return s;
}

GN__PRIVATE void gn__iocp_sock_put(gn__iocp_sock *s) {
    if (gn__xadd(&s->refs, (uint32_t)-1) == 1) GN_FREE(s);
}

/* Before an overlapped call on op for pd: from here a completion may come.      */
GN__PRIVATE void gn__iocp_op_start(gn__iocp_op *op, gn__pd *pd) {
    memset(&op->ov, 0, sizeof op->ov);
    op->pd = pd;
    op->gen = gn__load(&pd->gen);
    op->status = 0;
    op->bytes = op->sync_bytes = 0;
    gn__xadd(&op->owner->refs, 1u);
    gn__store(&op->busy, 1u);
}

/* The call finished without queueing a completion (an error, or a success with
 * skip-on-success): the op is free again.                                      */
GN__PRIVATE void gn__iocp_op_done_now(gn__iocp_op *op) {
    gn__store(&op->busy, 0u);
    gn__xadd(&op->owner->refs, (uint32_t)-1);   /* the fd still holds one */
}

/* Waits, parked, until op's completion has been seen, whatever deadlines or
 * closes say meanwhile: a cancelled op still owns its OVERLAPPED and buffer
 * until then. Must run on a coroutine.                                        */
GN__PRIVATE void gn__iocp_wait_done(gn__iocp_op *op) {
    uintptr_t *gpp = op->mode == 'r' ? &op->pd->rg : &op->pd->wg;
    while (gn__load(&op->busy)) {
        uintptr_t old = gn__load(gpp);
        if (old == GN__PD_READY) {
            gn__cas(gpp, &old, (uintptr_t)0);
            continue;
        }
        if (old != 0) gn__fatal("poll descriptor busy while an operation is cancelled");
        if (!gn__cas(gpp, &old, GN__PD_WAIT)) continue;
        if (gn__load(&op->busy)) gn__park(gn__pd_commit, gpp, "io cancel");
        gn__xchg(gpp, (uintptr_t)0);
    }
}

/* Can a socket of this family skip the port when a call succeeds at once?       */
GN__PRIVATE int gn__iocp_skip_ok(int family) {
    switch (family) {
    case AF_INET:  return gn__iocp.skip_ok[0];
    case AF_INET6: return gn__iocp.skip_ok[1];
    case AF_UNIX:  return gn__iocp.skip_ok[2];
    default:       return gn__iocp.skip_ok[0] && gn__iocp.skip_ok[1] && gn__iocp.skip_ok[2];
    }
}

/* Which families have only IFS providers (their handles are kernel handles,
 * so the I/O manager, not a layered provider, completes their operations).   */
GN__PRIVATE void gn__iocp_probe_providers(void) {
    static const int fams[3] = {AF_INET, AF_INET6, AF_UNIX};
    for (int i = 0; i < 3; i++) gn__iocp.skip_ok[i] = 0;
    DWORD len = 0;
    if (WSAEnumProtocolsW(NULL, NULL, &len) != SOCKET_ERROR || WSAGetLastError() != WSAENOBUFS) return;
    WSAPROTOCOL_INFOW *pi = (WSAPROTOCOL_INFOW *)GN_MALLOC(len);
    if (!pi) return;
    int n = WSAEnumProtocolsW(NULL, pi, &len);
    for (int f = 0; f < 3 && n > 0; f++) {
        int seen = 0, ifs = 1;
        for (int i = 0; i < n; i++) {
            if (pi[i].iAddressFamily != fams[f]) continue;
            seen = 1;
            if (!(pi[i].dwServiceFlags1 & XP1_IFS_HANDLES)) ifs = 0;
        }
        gn__iocp.skip_ok[f] = seen && ifs;
    }
    GN_FREE(pi);
}

GN__PRIVATE int gn__netpoll_init(void) {
    gn__iocp.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    if (!gn__iocp.port) return gn__err_from_wsa((int)GetLastError());
    gn__iocp.wake_pending = 0;
    gn__iocp_probe_providers();
    return 0;
}

/* At the end of a run every M has stopped: the completions still queued (the
 * idle reads of sockets closed last, aborted by closesocket) are taken here so
 * that their ops are freed; nobody is left to wake.                          */
GN__PRIVATE void gn__netpoll_fini(void) {
    if (!gn__iocp.port) return;
    OVERLAPPED_ENTRY evs[64];
    ULONG n = 0;
    while (GetQueuedCompletionStatusEx(gn__iocp.port, evs, 64, &n, 0, FALSE) && n > 0) {
        for (ULONG i = 0; i < n; i++) {
            if (!evs[i].lpOverlapped) continue;
            gn__iocp_op *op = (gn__iocp_op *)(void *)evs[i].lpOverlapped;
            gn__iocp_sock *owner = op->owner;
            gn__store(&op->busy, 0u);
            gn__iocp_sock_put(owner);
        }
    }
    CloseHandle(gn__iocp.port);
    gn__iocp.port = NULL;
}

/* The port keeps every operation: nothing to rebuild.                           */
static inline void gn__netpoll_interest(gn__pd *pd) { (void)pd; }

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__iocp.wake_pending, &z, 1)) return;
    GN__OS_KEEP_BEGIN   /* callable from a coroutine: keep its error state */
    if (!PostQueuedCompletionStatus(gn__iocp.port, 0, GN__IOCP_WAKE_KEY, NULL))
        gn__store(&gn__iocp.wake_pending, 0);
    GN__OS_KEEP_END
}

/* Associates socket s (of family, 0 if unknown) with the port. *skip says
 * whether a call that succeeds at once queues nothing. 0 or an error.        */
GN__PRIVATE int gn__iocp_arm(SOCKET s, int family, int *skip) {
    *skip = 0;
    if (!gn__iocp.port) return -EBADF;   /* outside a run: nothing polls (as epoll's -1) */
    if (!CreateIoCompletionPort((HANDLE)s, gn__iocp.port, 0, 0)) return gn__err_from_wsa((int)GetLastError());
    UCHAR modes = FILE_SKIP_SET_EVENT_ON_HANDLE;
    if (gn__iocp_skip_ok(family)) modes |= FILE_SKIP_COMPLETION_PORT_ON_SUCCESS;
    if (SetFileCompletionNotificationModes((HANDLE)s, modes))
        *skip = (modes & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != 0;
    return 0;
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    OVERLAPPED_ENTRY evs[128];
    ULONG n = 0;
    DWORD ms;
    if (delay < 0) ms = INFINITE;
    else if (delay == 0) ms = 0;
    else if (delay >= GN_HOUR) ms = (DWORD)(GN_HOUR / GN_MILLISECOND);   /* wake now and then */
    else ms = (DWORD)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);
    BOOL ok;
    GN__OS_KEEP_BEGIN
    ok = GetQueuedCompletionStatusEx(gn__iocp.port, evs, 128, &n, ms, FALSE);
    GN__OS_KEEP_END
    if (!ok) return 0;   /* timed out (or the port is gone at shutdown) */
    int before = out->n;
    for (ULONG i = 0; i < n; i++) {
        if (evs[i].lpCompletionKey == GN__IOCP_WAKE_KEY && !evs[i].lpOverlapped) {
            gn__store(&gn__iocp.wake_pending, 0);
            continue;
        }
        if (!evs[i].lpOverlapped) continue;
        gn__iocp_op *op = (gn__iocp_op *)(void *)evs[i].lpOverlapped;
        gn__iocp_sock *owner = op->owner;
        gn__pd *pd = op->pd;
        uint32_t gen = op->gen;
        int mode = op->mode;
        op->status = (uint32_t)op->ov.Internal;
        op->bytes = evs[i].dwNumberOfBytesTransferred;
        /* From here the op may be started again by its waiter.                   */
        gn__store(&op->busy, 0u);
        if (gn__load(&pd->gen) == gen) gn__pd_ready(pd, mode == 'r', mode == 'w', 0, out);
        gn__iocp_sock_put(owner);
    }
    return out->n - before;
}

#endif /* GN__POLL_IOCP */
/* ==== end src/poll_iocp.c ==== */

/* ==== begin src/sched.c ==== */
/* sched.c — the scheduler: Gs, Ms and Ps (see runtime.h), after Go's proc.go.
 *
 * Where a G runs next. A G that parks or yields switches straight to the next
 * G of its P's local queue (runnext first) when there is one: one context
 * switch, no trip through the scheduler. Otherwise it switches to its M's g0,
 * whose loop (gn__schedule) finds work: local queue, the global queue (also
 * every 61st schedule, for fairness), stealing half of a random victim's queue,
 * expired timers; and when nothing is found, the M gives its P back and either
 * blocks in the poller until the next timer (one M at most) or sleeps on its
 * note until another M hands it a P.
 *
 * Spinning. An M that looks for work while holding a P but none is runnable is
 * "spinning". At most half the busy Ps may have a spinning M; a G made runnable
 * wakes an idle M only if none spins (gn__wakep), so a burst of wake-ups costs
 * one thread wake, and idle threads do not burn CPU.
 *
 * Blocking calls (gn_blocking_enter/exit, Go's entersyscall/exitsyscall) leave
 * the P in the BLOCKING state, still owned; the monitor thread takes it away
 * and gives it to another M if the call lasts and there is work. On exit the M
 * takes its P back if it can, or any idle P, or queues the G globally and sleeps.
 *
 * Rejected designs: one run queue for all threads (contended lock on every
 * switch); a fixed thread per P with no hand-off (one blocking call stalls a
 * P's queue); preemption by signal (a G interrupted inside malloc or holding a
 * lock deadlocks in C; scheduling is cooperative, and the monitor only counts
 * Gs that run too long).
 *
 * >>sched                                                                         */

#define GN__RUNQ_SIZE 256
#define GN__MAX_STACK ((size_t)1 << 30)   /* larger stack sizes are a mistake: GN_EINVAL */
enum { GN__P_IDLE = 0, GN__P_RUNNING, GN__P_BLOCKING };
enum { GN__AFTER_NONE = 0, GN__AFTER_PARK, GN__AFTER_YIELD, GN__AFTER_GLOBAL, GN__AFTER_EXIT };

struct gn__p {
    int          id;
    uint32_t     status;                 /* atomic, GN__P_*                          */
    gn__m       *m;
    gn__p       *link;                   /* idle list                                */
    uint32_t     schedtick;              /* owner-written, read by the monitor       */
    uint32_t     blocktick;              /* blocking calls entered                    */
    uint32_t     runq_head, runq_tail;   /* atomic; head moves under CAS (stealers) */
    gn__g       *runnext;                /* atomic                                   */
    gn__g       *runq[GN__RUNQ_SIZE];    /* slots accessed atomically (relaxed)      */
    gn__glist    gfree;                  /* idle Gs with default-size stacks         */
    int64_t      goid_next, goid_end;    /* a batch of ids, to spare the global one  */
    /* timers (timer.c)                                                             */
    uint32_t     timer_lock;
    gn__tentry  *timers;                 /* 4-ary min-heap on when                   */
    int32_t      ntimers, ctimers;
    int64_t      timer0;                 /* atomic: earliest when, 0 if none         */
    /* counters, written by the owner only (gn__count)                              */
    int64_t      st_created, st_exited, st_switches, st_parks, st_steals, st_blocking;
    /* the monitor's view, touched only by the monitor thread                       */
    uint32_t     mon_schedtick, mon_counted, mon_blocktick;
    int64_t      mon_schedwhen, mon_blockwhen;
};

/* Idle Gs an M keeps for the poller: about a poll's worth of idle connections
 * waking at once.                                                               */
#define GN__GSPARE 32

struct gn__m {
    gn__g          g0;                   /* the scheduling loop, on the thread stack  */
    gn__g         *curg;                 /* the G running, NULL on g0                 */
    gn__p         *p, *nextp, *oldp;     /* held P; P handed over; P before blocking  */
    gn__g         *lockedg;              /* pinned G                                  */
    gn__g         *handoff_g;            /* taken from the queue but pinned elsewhere */
    gn__glist      gspare;               /* idle Gs kept for the poller, which may start
                                          * coroutines while this M holds no P         */
    int            spinning;
    int            blocking;             /* inside gn_blocking_enter/exit             */
    uint32_t       park;                 /* note: sleep here when idle                */
    gn__m         *link, *alllink;
    gn__os_thread  thread;
    int            id;
    uint64_t       rand;
    gn__altstack  *altstack;
    /* What the next context must do once we are off the old G's stack.             */
    int            after;
    gn__g         *after_g;
    gn__unlockf    after_unlock;
    void          *after_arg;
};

static struct gn__sched {
    uint32_t      running;               /* atomic: gn_run is active                 */
    uint32_t      live;                  /* atomic: set up and not stopping (outside
                                            callers look only at this)               */
    int32_t       outside;               /* atomic: callers from outside the runtime */
    uint32_t      stopping;              /* atomic: the main G returned              */
    uint32_t      lock;                  /* guards everything down to allm           */
    gn__g       **runq;                  /* global run queue: a ring that grows, so    */
    uint32_t      runq_head, runq_cap;   /* moving Gs never touches their memory     */
    gn__glist     runq_over;             /* after the ring, when it could not grow     */
    int32_t       runqsize;              /* atomic: Gs in the global queue (both)    */
    gn__p        *pidle;
    int32_t       npidle;                /* atomic                                   */
    gn__m        *midle;
    int32_t       nmidle;                /* atomic                                   */
    int32_t       nmspinning;            /* atomic                                   */
    gn__m        *allm;
    int32_t       mcount;
    uint32_t      gfree_lock;
    gn__glist     gfree;                 /* idle Gs shared between Ps                */
    int32_t       gfree_n;               /* atomic mirror of gfree.n                 */
    gn__p        *allp[GN_MAX_PROCS];
    int           nprocs;
    size_t        stack_size;
    int64_t       lastpoll;              /* atomic: 0 while an M blocks in the poller */
    int64_t       polluntil;             /* atomic: when that M wakes by itself       */
    gn__g        *main_g;
    int           main_started;
    int64_t       goid_gen;              /* atomic                                   */
    int64_t       st_created_nop;        /* atomic: Gs spawned from outside any P    */
    int64_t       st_handoffs, st_long_runners, st_polls;   /* atomic                */
    uint32_t      sysmon_note;
    int           sysmon_on;
    int64_t       now_coarse;            /* atomic: gn_now() at sysmon's last round  */
    uint32_t      dump_pending;          /* atomic: SIGQUIT asked sysmon for a dump   */
    int           dump_on_quit;
    gn__os_thread sysmon_thread;
} gn__rt;

/* Timer heap operations (timer.c), needed by the scheduling loop.                  */
GN__PRIVATE int64_t gn__timers_run(gn__p *p, int64_t now);
GN__PRIVATE void gn__timers_free(gn__p *p);

/* ---- the current M, errno ------------------------------------------------------
 * Opaque accessors: see runtime.h's invariant.                                      */
static GN__THREAD_LOCAL gn__m *gn__tls_m;

GN__PRIVATE GN__OPAQUE gn__m *gn__getm(void) { return gn__tls_m; }
GN__PRIVATE GN__OPAQUE void gn__setm(gn__m *m) { gn__tls_m = m; }
GN__PRIVATE GN__OPAQUE void gn__errno_set(int e) { errno = e; }

GN__PRIVATE gn__g *gn__getg(void) {
    gn__m *m = gn__getm();
    return m ? m->curg : NULL;
}

GN__PRIVATE gn__g *gn__signal_curg(void) { return gn__tls_m ? gn__tls_m->curg : NULL; }

GN__PRIVATE uint32_t gn__rand(void) {
    static GN__THREAD_LOCAL uint64_t outside = 0x9E3779B97F4A7C15ull;
    gn__m *m = gn__getm();
    uint64_t *s = m ? &m->rand : &outside;
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return (uint32_t)(x >> 32);
}

/* ---- the local run queue ---------------------------------------------------------
 * A ring owned by its P: only the owner writes tail; the owner and thieves take
 * from head with a CAS. runnext holds a G readied by the running one, so a
 * producer/consumer pair stays on one P and runs back to back.                     */
GN__PRIVATE void gn__globrunqput_batch(gn__g **batch, int n);

GN__PRIVATE int gn__runq_empty(gn__p *p) {
    for (;;) {
        uint32_t h = gn__load(&p->runq_head), t = gn__load(&p->runq_tail);
        gn__g *next = gn__load(&p->runnext);
        if (t == gn__load(&p->runq_tail)) return h == t && next == NULL;
    }
}

/* Moves half the local queue and g to the global queue; 0 if a thief interfered. */
GN__PRIVATE int gn__runq_put_slow(gn__p *p, gn__g *g, uint32_t h, uint32_t t) {
    gn__g *batch[GN__RUNQ_SIZE / 2 + 1];
    uint32_t n = (t - h) / 2;
    for (uint32_t i = 0; i < n; i++) batch[i] = gn__load_relaxed(&p->runq[(h + i) % GN__RUNQ_SIZE]);
    if (!gn__cas(&p->runq_head, &h, h + n)) return 0;
    batch[n] = g;
    gn__globrunqput_batch(batch, (int)n + 1);
    return 1;
}

GN__PRIVATE void gn__runq_put(gn__p *p, gn__g *g, int next) {
    if (next) {
        /* Only the owner makes runnext non-NULL, so an empty slot can be filled
         * with a plain store; a full one races with thieves and needs the swap.   */
        if (gn__load_relaxed(&p->runnext) == NULL) {
            gn__store(&p->runnext, g);
            return;
        }
        g = gn__xchg(&p->runnext, g);
        if (!g) return;   /* the old runnext, if any, goes to the tail */
    }
    for (;;) {
        uint32_t h = gn__load(&p->runq_head);
        uint32_t t = p->runq_tail;
        if (t - h < GN__RUNQ_SIZE) {
            gn__store_relaxed(&p->runq[t % GN__RUNQ_SIZE], g);
            gn__store(&p->runq_tail, t + 1);
            return;
        }
        if (gn__runq_put_slow(p, g, h, t)) return;
    }
}

GN__PRIVATE gn__g *gn__runq_get(gn__p *p) {
    gn__g *next = gn__load_relaxed(&p->runnext);
    if (next && gn__cas(&p->runnext, &next, NULL)) return next;
    for (;;) {
        uint32_t h = gn__load(&p->runq_head);
        uint32_t t = p->runq_tail;
        if (t == h) return NULL;
        gn__g *g = gn__load_relaxed(&p->runq[h % GN__RUNQ_SIZE]);
        if (gn__cas(&p->runq_head, &h, h + 1)) return g;
    }
}

/* Takes half of victim's queue into ring[start...]; returns how many.             */
GN__PRIVATE uint32_t gn__runq_grab(gn__p *victim, gn__g **ring, uint32_t start, int take_next) {
    for (;;) {
        uint32_t h = gn__load(&victim->runq_head);
        uint32_t t = gn__load(&victim->runq_tail);
        uint32_t n = t - h;
        n = n - n / 2;
        if (n == 0) {
            if (take_next) {
                gn__g *next = gn__load(&victim->runnext);
                if (next) {
                    /* A running victim is about to schedule its runnext: give it a
                     * moment, or a ping-pong pair gets split across threads.     */
                    if (gn__load(&victim->status) == GN__P_RUNNING) {
                        gn__os_usleep(3 * GN_MICROSECOND);
                        next = gn__load(&victim->runnext);
                        if (!next) return 0;
                    }
                    if (gn__cas(&victim->runnext, &next, NULL)) {
                        gn__store_relaxed(&ring[start % GN__RUNQ_SIZE], next);
                        return 1;
                    }
                }
            }
            return 0;
        }
        if (n > GN__RUNQ_SIZE / 2) continue;   /* read an inconsistent h and t */
        for (uint32_t i = 0; i < n; i++)
            gn__store_relaxed(&ring[(start + i) % GN__RUNQ_SIZE],
                              gn__load_relaxed(&victim->runq[(h + i) % GN__RUNQ_SIZE]));
        if (gn__cas(&victim->runq_head, &h, h + n)) return n;
    }
}

GN__PRIVATE gn__g *gn__runq_steal(gn__p *p, gn__p *victim, int take_next) {
    uint32_t t = p->runq_tail;
    uint32_t n = gn__runq_grab(victim, p->runq, t, take_next);
    if (n == 0) return NULL;
    n--;
    gn__g *g = gn__load_relaxed(&p->runq[(t + n) % GN__RUNQ_SIZE]);
    if (n > 0) gn__store(&p->runq_tail, t + n);
    gn__count(&p->st_steals, 1);
    return g;
}

/* ---- the global run queue (sched lock held) --------------------------------------*/
GN__PRIVATE int gn__globrunq_grow(void) {
    uint32_t cap = gn__rt.runq_cap ? gn__rt.runq_cap * 2 : 1024;
    gn__g **q = (gn__g **)GN_MALLOC((size_t)cap * sizeof *q);
    if (!q) return 0;
    uint32_t n = (uint32_t)gn__rt.runqsize;
    for (uint32_t i = 0; i < n; i++) q[i] = gn__rt.runq[(gn__rt.runq_head + i) % gn__rt.runq_cap];
    GN_FREE(gn__rt.runq);
    gn__rt.runq = q;
    gn__rt.runq_head = 0;
    gn__rt.runq_cap = cap;
    return 1;
}

/* Out of memory for a bigger ring, Gs queue behind it through their schedlink
 * (and later ones after them, to stay first in, first out): a runnable G is
 * never lost for want of a slot.                                                */
GN__PRIVATE void gn__globrunqput(gn__g *g) {
    uint32_t n = (uint32_t)gn__rt.runqsize;
    if (gn__rt.runq_over.n == 0 && (n < gn__rt.runq_cap || gn__globrunq_grow()))
        gn__rt.runq[(gn__rt.runq_head + n) % gn__rt.runq_cap] = g;
    else
        gn__glist_push(&gn__rt.runq_over, g);
    gn__store(&gn__rt.runqsize, (int32_t)n + 1);
}

GN__PRIVATE void gn__globrunqput_batch(gn__g **batch, int n) {
    gn__lock(&gn__rt.lock);
    for (int i = 0; i < n; i++) gn__globrunqput(batch[i]);
    gn__unlock(&gn__rt.lock);
}

GN__PRIVATE gn__g *gn__globrunqpop(void) {
    gn__g *g;
    if (gn__rt.runqsize > gn__rt.runq_over.n) {
        g = gn__rt.runq[gn__rt.runq_head];
        gn__rt.runq_head = (gn__rt.runq_head + 1) % gn__rt.runq_cap;
    } else {
        g = gn__glist_pop(&gn__rt.runq_over);
    }
    gn__store(&gn__rt.runqsize, gn__rt.runqsize - 1);
    return g;
}

/* Takes a fair share of the global queue: one G to run, the rest to p's queue.    */
GN__PRIVATE gn__g *gn__globrunqget(gn__p *p, int max) {
    int n = gn__rt.runqsize;
    if (n == 0) return NULL;
    int share = n / gn__rt.nprocs + 1;
    if (n > share) n = share;
    if (max > 0 && n > max) n = max;
    if (n > GN__RUNQ_SIZE / 2) n = GN__RUNQ_SIZE / 2;
    gn__g *g = gn__globrunqpop();
    for (int i = 1; i < n; i++) gn__runq_put(p, gn__globrunqpop(), 0);
    return g;
}

/* ---- Ps and Ms ---------------------------------------------------------------------*/
GN__PRIVATE void gn__acquirep(gn__m *m, gn__p *p) {
    m->p = p;
    p->m = m;
    gn__store(&p->status, GN__P_RUNNING);
}

GN__PRIVATE gn__p *gn__releasep(gn__m *m) {
    gn__p *p = m->p;
    p->m = NULL;
    m->p = NULL;
    gn__store(&p->status, GN__P_IDLE);
    return p;
}

GN__PRIVATE void gn__pidleput(gn__p *p) {    /* sched lock held */
    p->link = gn__rt.pidle;
    gn__rt.pidle = p;
    gn__xadd(&gn__rt.npidle, 1);
}

GN__PRIVATE gn__p *gn__pidleget(void) {      /* sched lock held */
    gn__p *p = gn__rt.pidle;
    if (p) {
        gn__rt.pidle = p->link;
        gn__xadd(&gn__rt.npidle, -1);
    }
    return p;
}

GN__PRIVATE void *gn__mstart(void *arg);
GN__PRIVATE void gn__schedule(gn__m *m);

GN__PRIVATE void gn__g0_init(gn__m *m) {
    m->g0.status = GN__G_RUNNING;
    gn__os_thread_stack(&m->g0.stack_lo, &m->g0.stack_size);
#if GN__TSAN
    m->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
    m->altstack = gn__altstack_enable();
}

/* Creates an M that starts with P p. 0, or a negative code (the caller keeps p). */
GN__PRIVATE int gn__newm(gn__p *p, int spinning) {
    gn__m *m = (gn__m *)GN_MALLOC(sizeof *m);
    if (!m) return GN_ENOMEM;
    memset(m, 0, sizeof *m);
    m->nextp = p;
    m->spinning = spinning;
    gn__lock(&gn__rt.lock);
    if (gn__load(&gn__rt.stopping)) {
        gn__unlock(&gn__rt.lock);
        GN_FREE(m);
        return GN_ESTATE;
    }
    if (gn__rt.mcount >= GN_MAX_THREADS) {
        /* Go dies here ("thread exhaustion"); we leave the P idle instead, and
         * the next M to come back from a blocking call takes it.               */
        gn__unlock(&gn__rt.lock);
        GN_FREE(m);
        return GN_EAGAIN;
    }
    m->id = gn__rt.mcount++;
    m->rand = 0x2545F4914F6CDD1Dull * (uint64_t)(m->id + 1) ^ (uint64_t)gn_now();
    int rc = gn__os_thread_start(&m->thread, gn__mstart, m);
    if (rc == 0) {
        m->alllink = gn__rt.allm;
        gn__rt.allm = m;
    } else {
        gn__rt.mcount--;
    }
    gn__unlock(&gn__rt.lock);
    if (rc != 0) GN_FREE(m);
    return rc;
}

/* Runs p (or an idle P if p is NULL) on an idle or new M.                          */
GN__PRIVATE void gn__startm(gn__p *p, int spinning) {
    gn__lock(&gn__rt.lock);
    if (!p && !gn__load(&gn__rt.stopping)) p = gn__pidleget();
    if (!p || gn__load(&gn__rt.stopping)) {   /* idle Ms are on their way out */
        gn__unlock(&gn__rt.lock);
        if (spinning) gn__xadd(&gn__rt.nmspinning, -1);
        return;
    }
    gn__m *m = gn__rt.midle;
    if (m) {
        gn__rt.midle = m->link;
        gn__xadd(&gn__rt.nmidle, -1);
        /* Under the lock: a stop that wakes every M takes it after us, so m
         * sees these whichever wake-up it wakes from.                          */
        m->spinning = spinning;
        m->nextp = p;
    }
    gn__unlock(&gn__rt.lock);
    if (m) {
        gn__note_wakeup(&m->park);
        return;
    }
    if (gn__newm(p, spinning) != 0) {
        /* No thread to be had: the P goes back to the idle list. The Gs it holds
         * run when a running M next looks for work.                              */
        gn__lock(&gn__rt.lock);
        gn__pidleput(p);
        gn__unlock(&gn__rt.lock);
        if (spinning) gn__xadd(&gn__rt.nmspinning, -1);
    }
}

/* Wakes an M to run Gs if there is an idle P and nobody is spinning already.     */
GN__PRIVATE void gn__wakep(void) {
    if (gn__load(&gn__rt.npidle) == 0) return;
    int32_t z = 0;
    if (gn__load(&gn__rt.nmspinning) != 0 || !gn__cas(&gn__rt.nmspinning, &z, 1)) return;
    gn__startm(NULL, 1);
}

GN__PRIVATE void gn__wake_netpoller(int64_t when) {
    if (gn__load(&gn__rt.lastpoll) == 0) {
        int64_t until = gn__load(&gn__rt.polluntil);
        if (until == 0 || until > when) gn__netpoll_break();
    } else {
        gn__wakep();
    }
}

/* Gives p away from an M that no longer runs Gs (blocking call, pinned G).         */
GN__PRIVATE void gn__handoffp(gn__p *p) {
    if (!gn__runq_empty(p) || gn__load(&gn__rt.runqsize) != 0) {
        gn__startm(p, 0);
        return;
    }
    int32_t z = 0;
    if (gn__load(&gn__rt.nmspinning) + gn__load(&gn__rt.npidle) == 0 &&
        gn__cas(&gn__rt.nmspinning, &z, 1)) {
        gn__startm(p, 1);
        return;
    }
    gn__lock(&gn__rt.lock);
    if (gn__rt.runqsize != 0) {
        gn__unlock(&gn__rt.lock);
        gn__startm(p, 0);
        return;
    }
    int64_t when = gn__load(&p->timer0);
    gn__pidleput(p);
    gn__unlock(&gn__rt.lock);
    if (when != 0) gn__wake_netpoller(when);
}

/* Parks m until another M hands it a P (or the runtime stops).                    */
GN__PRIVATE void gn__stopm(gn__m *m) {
    gn__lock(&gn__rt.lock);
    if (gn__load(&gn__rt.stopping)) {
        gn__unlock(&gn__rt.lock);
        return;
    }
    m->link = gn__rt.midle;
    gn__rt.midle = m;
    gn__xadd(&gn__rt.nmidle, 1);
    gn__unlock(&gn__rt.lock);
    gn__note_sleep(&m->park);
    gn__note_clear(&m->park);
    if (m->nextp) {
        gn__acquirep(m, m->nextp);
        m->nextp = NULL;
    }
}

/* m's pinned G is not runnable: give the P away and wait until the G is.           */
GN__PRIVATE void gn__stoplockedm(gn__m *m) {
    if (m->p) gn__handoffp(gn__releasep(m));
    gn__note_sleep(&m->park);
    gn__note_clear(&m->park);
    if (m->nextp) {
        gn__acquirep(m, m->nextp);
        m->nextp = NULL;
    }
}

/* g is pinned to another M: hand that M our P (g runs there) and go idle.          */
GN__PRIVATE void gn__startlockedm(gn__m *m, gn__g *g) {
    gn__m *owner = g->lockedm;
    gn__p *p = gn__releasep(m);
    owner->nextp = p;   /* owner runs its m->lockedg, which is g */
    gn__note_wakeup(&owner->park);
    gn__stopm(m);
}

GN__PRIVATE void gn__resetspinning(gn__m *m) {
    m->spinning = 0;
    gn__xadd(&gn__rt.nmspinning, -1);
    /* We were the spinner that found work; there may be more, so let another spin. */
    gn__wakep();
}

/* ---- threads outside the runtime ----------------------------------------------------
 * A thread that is not an M with a P (a user thread calling gn_go, a channel
 * try_send, the stats) touches Ps and queues that teardown frees. It holds the
 * runtime open while it does: teardown waits for such callers after stopping,
 * and a caller arriving later sees the stop and backs off. Sequentially
 * consistent, so that neither side can miss the other (Dekker's pattern).         */
GN__PRIVATE int gn__outside_enter(void) {
    gn__xadd_seq(&gn__rt.outside, 1);
    if (gn__load_seq(&gn__rt.live)) return 1;
    gn__xadd_seq(&gn__rt.outside, -1);
    return 0;
}
GN__PRIVATE void gn__outside_exit(void) { gn__xadd_seq(&gn__rt.outside, -1); }

GN__PRIVATE void gn__outside_drain(void) {
    while (gn__load_seq(&gn__rt.outside) != 0) gn__os_yield_thread();
}

/* ---- free Gs ------------------------------------------------------------------------*/
GN__PRIVATE gn__g *gn__gfget(gn__p *p) {
    if (p && p->gfree.n == 0 && gn__load_relaxed(&gn__rt.gfree_n) > 0) {
        gn__lock(&gn__rt.gfree_lock);
        for (int i = 0; i < 32 && gn__rt.gfree.n > 0; i++)
            gn__glist_push(&p->gfree, gn__glist_pop(&gn__rt.gfree));
        gn__store_relaxed(&gn__rt.gfree_n, gn__rt.gfree.n);
        gn__unlock(&gn__rt.gfree_lock);
    }
    if (p) return gn__glist_pop(&p->gfree);
    gn__lock(&gn__rt.gfree_lock);
    gn__g *g = gn__glist_pop(&gn__rt.gfree);
    gn__store_relaxed(&gn__rt.gfree_n, gn__rt.gfree.n);
    gn__unlock(&gn__rt.gfree_lock);
    return g;
}

GN__PRIVATE void gn__gfput(gn__p *p, gn__g *g) {
    gn__store(&g->status, GN__G_IDLE);
    if (g->stack_kind != GN__STACK_SLAB) {   /* a stack size of its own */
        gn__g_free(g);
        return;
    }
    gn__glist_push_front(&p->gfree, g);   /* a stack: the next spawn gets a warm G */
    if (p->gfree.n >= 64) {
        /* Keep the 32 most recent; the colder half goes to the shared list.     */
        gn__g *keep = p->gfree.head;
        for (int i = 1; i < 32; i++) keep = keep->schedlink;
        gn__glist cold = {keep->schedlink, p->gfree.tail, p->gfree.n - 32};
        keep->schedlink = NULL;
        p->gfree.tail = keep;
        p->gfree.n = 32;
        gn__lock(&gn__rt.gfree_lock);
        if (gn__rt.gfree.tail) gn__rt.gfree.tail->schedlink = cold.head; else gn__rt.gfree.head = cold.head;
        gn__rt.gfree.tail = cold.tail;
        gn__rt.gfree.n += cold.n;
        gn__store_relaxed(&gn__rt.gfree_n, gn__rt.gfree.n);
        gn__unlock(&gn__rt.gfree_lock);
    }
}

/* ---- switching ------------------------------------------------------------------------*/
GN__PRIVATE void gn__switch(gn__g *from, gn__g *to) {
#if GN__ASAN
    int dying = gn__load_relaxed(&from->status) == GN__G_DEAD;
    __sanitizer_start_switch_fiber(dying ? NULL : &from->asan_fake_stack, to->stack_lo, to->stack_size);
#endif
#if GN__TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    gn__ctx_switch(&from->ctx, &to->ctx);
#if GN__ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, NULL, NULL);
#endif
}

/* Runs what the previous context asked for once it is off its stack.             */
GN__PRIVATE void gn__run_after(gn__m *m) {
    int what = m->after;
    if (what == GN__AFTER_NONE) return;
    gn__g *g = m->after_g;
    m->after = GN__AFTER_NONE;
    m->after_g = NULL;
    switch (what) {
    case GN__AFTER_PARK:
        if (m->after_unlock && !m->after_unlock(g, m->after_arg)) {
            gn__store(&g->status, GN__G_RUNNABLE);
            gn__runq_put(m->p, g, 0);
        }
        break;
    case GN__AFTER_YIELD:
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__runq_put(m->p, g, 0);
        break;
    case GN__AFTER_GLOBAL:
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__lock(&gn__rt.lock);
        gn__globrunqput(g);
        gn__unlock(&gn__rt.lock);
        break;
    case GN__AFTER_EXIT:
        gn__gfput(m->p, g);
        break;
    default:
        break;
    }
}

/* The next G to run on p without a trip through g0, or NULL to take that trip.  */
GN__PRIVATE gn__g *gn__next_fast(gn__m *m, gn__p *p) {
    if (m->lockedg || gn__load_relaxed(&gn__rt.stopping)) return NULL;
    if (p->schedtick % 61 == 0 && gn__load_relaxed(&gn__rt.runqsize) > 0) return NULL;
    /* Due timers: looked at every 8th switch, which spares a clock read per
     * switch and delays a timer by a few switches at most.                      */
    int64_t t0 = gn__load_relaxed(&p->timer0);
    if (t0 != 0 && (p->schedtick & 7) == 0 && t0 <= gn_now()) return NULL;
    gn__g *g = gn__runq_get(p);
    if (g && g->lockedm && g->lockedm != m) {
        m->handoff_g = g;
        return NULL;
    }
    return g;
}

/* Switches away from the running G g (after m->after is set) and returns when g
 * runs again, on whichever M that is.                                             */
GN__PRIVATE void gn__switch_out(gn__m *m, gn__g *g) {
    gn__p *p = m->p;
    g->saved_errno = errno;   /* still on the thread that set it */
    g->saved_lasterr = gn__os_lasterr();
    gn__g *next = p ? gn__next_fast(m, p) : NULL;
    if (next) {
        gn__count(&p->st_switches, 1);
        gn__count(&p->schedtick, 1);
        gn__store_relaxed(&next->status, GN__G_RUNNING);
        next->m = m;
        m->curg = next;
        gn__switch(g, next);
    } else {
        m->curg = NULL;
        gn__switch(g, &m->g0);
    }
    m = gn__getm();
    gn__run_after(m);
    gn__errno_set(g->saved_errno);
    gn__os_set_lasterr(g->saved_lasterr);
}

GN__PRIVATE void gn__execute(gn__m *m, gn__g *g) {
    gn__p *p = m->p;
    gn__count(&p->st_switches, 1);
    gn__count(&p->schedtick, 1);
    gn__store_relaxed(&g->status, GN__G_RUNNING);
    g->m = m;
    m->curg = g;
    gn__switch(&m->g0, g);
}

/* ---- finding work ------------------------------------------------------------------*/
GN__PRIVATE int64_t gn__timers_earliest(void) {
    int64_t best = 0;
    for (int i = 0; i < gn__rt.nprocs; i++) {
        int64_t w = gn__load(&gn__rt.allp[i]->timer0);
        if (w != 0 && (best == 0 || w < best)) best = w;
    }
    return best;
}

GN__PRIVATE void gn__inject(gn__glist *l) {
    if (l->n == 0) return;
    int n = l->n;
    gn__g *g;
    gn__lock(&gn__rt.lock);
    while ((g = gn__glist_pop(l)) != NULL) {
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__globrunqput(g);
    }
    gn__unlock(&gn__rt.lock);
    for (int i = 0; i < n && gn__load(&gn__rt.npidle) > 0; i++) gn__startm(NULL, 0);
}

/* Steals Gs (and, on the last pass, runs other Ps' expired timers).               */
GN__PRIVATE gn__g *gn__steal_work(gn__m *m) {
    gn__p *p = m->p;
    int64_t now = 0;
    int n = gn__rt.nprocs;
    for (int pass = 0; pass < 4; pass++) {
        int last = pass == 3;
        int start = (int)(gn__rand() % (uint32_t)n);
        for (int i = 0; i < n; i++) {
            gn__p *victim = gn__rt.allp[(start + i) % n];
            if (victim == p) continue;
            if (last && gn__load(&victim->timer0) != 0) {
                if (now == 0) now = gn_now();
                gn__timers_run(victim, now);
                gn__g *g = gn__runq_get(p);
                if (g) return g;
            }
            if (!gn__runq_empty(victim)) {
                gn__g *g = gn__runq_steal(p, victim, last);
                if (g) return g;
            }
        }
    }
    return NULL;
}

/* Blocks until there is a G for m to run; NULL once the runtime stops.            */
GN__PRIVATE gn__g *gn__findrunnable(gn__m *m) {
    for (;;) {
        if (gn__load(&gn__rt.stopping)) return NULL;
        if (!m->p) {
            gn__stopm(m);
            continue;
        }
        gn__p *p = m->p;
        if (gn__load(&p->timer0) != 0) gn__timers_run(p, gn_now());

        gn__g *g;
        if (p->schedtick % 61 == 0 && gn__load(&gn__rt.runqsize) > 0) {
            gn__lock(&gn__rt.lock);
            g = gn__globrunqget(p, 1);
            gn__unlock(&gn__rt.lock);
            if (g) return g;
        }
        if ((g = gn__runq_get(p)) != NULL) return g;
        if (gn__load(&gn__rt.runqsize) > 0) {
            gn__lock(&gn__rt.lock);
            g = gn__globrunqget(p, 0);
            gn__unlock(&gn__rt.lock);
            if (g) return g;
        }

        /* Ready network I/O, if nobody else is polling: cheaper than stealing.   */
        if (gn__load(&gn__pds.waiters) > 0 && gn__load(&gn__rt.lastpoll) != 0) {
            gn__glist ready = {NULL, NULL, 0};
            if (gn__netpoll(0, &ready) > 0 && (g = gn__glist_pop(&ready)) != NULL) {
                gn__inject(&ready);
                gn__store(&g->status, GN__G_RUNNABLE);
                return g;
            }
        }

        /* Spin only while fewer than half the busy Ps have a spinner.              */
        int busy = gn__rt.nprocs - gn__load(&gn__rt.npidle);
        if (m->spinning || 2 * gn__load(&gn__rt.nmspinning) < busy) {
            if (!m->spinning) {
                m->spinning = 1;
                gn__xadd(&gn__rt.nmspinning, 1);
            }
            if ((g = gn__steal_work(m)) != NULL) return g;
        }

        /* Nothing: give the P back, then look once more before sleeping, since work
         * may have arrived while we were not counted as idle.                      */
        gn__lock(&gn__rt.lock);
        if (gn__load(&gn__rt.stopping)) {
            gn__unlock(&gn__rt.lock);
            return NULL;
        }
        if (gn__rt.runqsize > 0) {
            g = gn__globrunqget(p, 0);
            gn__unlock(&gn__rt.lock);
            return g;
        }
        /* Keep a few idle Gs: blocked in the poller without a P, this M may have
         * to start coroutines for connections parked there (gn__newg_here).   */
        while (m->gspare.n < GN__GSPARE && p->gfree.n > 0)
            gn__glist_push_front(&m->gspare, gn__glist_pop(&p->gfree));
        gn__pidleput(gn__releasep(m));
        gn__unlock(&gn__rt.lock);

        int was_spinning = m->spinning;
        if (m->spinning) {
            m->spinning = 0;
            gn__xadd(&gn__rt.nmspinning, -1);
            for (int i = 0; i < gn__rt.nprocs; i++) {
                if (!gn__runq_empty(gn__rt.allp[i])) {
                    gn__lock(&gn__rt.lock);
                    gn__p *q = gn__pidleget();
                    gn__unlock(&gn__rt.lock);
                    if (q) {
                        gn__acquirep(m, q);
                        m->spinning = 1;
                        gn__xadd(&gn__rt.nmspinning, 1);
                    }
                    break;
                }
            }
            if (m->p) continue;
        }

        /* Block in the poller until the next timer, if no other M does.            */
        int64_t until = gn__timers_earliest();
        if ((until != 0 || gn__load(&gn__pds.waiters) > 0) && gn__xchg(&gn__rt.lastpoll, 0) != 0) {
            gn__store(&gn__rt.polluntil, until);
            int64_t delay = -1;                    /* no timer: until a wake-up */
            if (until != 0) {
                int64_t left = until - gn_now();   /* read the clock once: a timer due
                                                    * by now is a 0 delay, never -1   */
                delay = left > 0 ? left : 0;
            }
            gn__glist ready = {NULL, NULL, 0};
            gn__netpoll(delay, &ready);
            gn__xadd(&gn__rt.st_polls, 1);
            gn__store(&gn__rt.polluntil, 0);
            gn__store(&gn__rt.lastpoll, gn_now());
            gn__lock(&gn__rt.lock);
            gn__p *q = gn__pidleget();
            gn__unlock(&gn__rt.lock);
            if (!q) {
                gn__inject(&ready);
                gn__stopm(m);
                continue;
            }
            gn__acquirep(m, q);
            g = gn__glist_pop(&ready);
            gn__inject(&ready);
            if (g) {
                gn__store(&g->status, GN__G_RUNNABLE);
                return g;
            }
            if (was_spinning) {
                m->spinning = 1;
                gn__xadd(&gn__rt.nmspinning, 1);
            }
            continue;
        }
        if (until != 0) {
            int64_t pu = gn__load(&gn__rt.polluntil);
            if (pu == 0 || pu > until) gn__netpoll_break();
        }
        gn__stopm(m);
    }
}

/* g0's loop: run the G found, take back control when it switches to g0, repeat.  */
GN__PRIVATE void gn__schedule(gn__m *m) {
    for (;;) {
        gn__run_after(m);
        gn__g *g;
        if (m->lockedg) {
            gn__stoplockedm(m);
            if (gn__load(&gn__rt.stopping) || !m->p) return;
            g = m->lockedg;
        } else {
            g = m->handoff_g;
            m->handoff_g = NULL;
            if (!g && (g = gn__findrunnable(m)) == NULL) return;
            if (m->spinning) gn__resetspinning(m);
            if (g->lockedm && g->lockedm != m) {
                gn__startlockedm(m, g);
                continue;
            }
        }
        gn__execute(m, g);
    }
}

/* ---- G life ------------------------------------------------------------------------*/
GN__PRIVATE void gn__begin_stop(void);

GN__PRIVATE void gn__goexit(gn__g *g) {
    gn__m *m = gn__getm();
    if (g == gn__rt.main_g) gn__begin_stop();
    if (g->lockedm) {
        m->lockedg = NULL;
        g->lockedm = NULL;
        g->pin_depth = 0;
    }
    gn__count(&m->p->st_exited, 1);
    gn__store(&g->status, GN__G_DEAD);
    m->after = GN__AFTER_EXIT;
    m->after_g = g;
    gn__switch_out(m, g);
    gn__fatal("a dead coroutine was resumed");
}

/* Where every G starts, on its own stack.                                          */
GN__PRIVATE void gn__g_main(void) {
#if GN__ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    gn__m *m = gn__getm();
    gn__run_after(m);
    gn__g *g = m->curg;
    gn__errno_set(0);
    gn__os_set_lasterr(0);
    g->fn(g->arg);
    gn__goexit(g);
}

GN__PRIVATE int64_t gn__newproc_on(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size);

GN__PRIVATE int64_t gn__newproc(void (*fn)(void *), void *arg, size_t stack_size) {
    if (!fn || stack_size > GN__MAX_STACK) return GN_EINVAL;
    gn__m *m = gn__getm();
    if (m && m->p) return gn__newproc_on(m->p, fn, arg, stack_size);
    if (!gn__outside_enter()) return GN_ESTATE;
    int64_t id = gn__newproc_on(NULL, fn, arg, stack_size);
    gn__outside_exit();
    return id;
}

/* A new G for fn(arg), RUNNABLE but not queued (from p's free list if p), or
 * NULL on ENOMEM. *id gets its id, which stays valid once g runs and exits.   */
GN__PRIVATE gn__g *gn__newg(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size, int64_t *id) {
    size_t size = stack_size ? stack_size : gn__rt.stack_size;
    if (size < 8192) size = 8192;
    int default_size = gn__round_page(size + GN__G_SPACE) == gn__round_page(gn__rt.stack_size + GN__G_SPACE);
    gn__g *g = NULL;
    gn__m *m = gn__getm();   /* once: it is opaque, a call each time */
    if (default_size) g = !p && m && m->gspare.n ? gn__glist_pop(&m->gspare) : gn__gfget(p);
    if (g) {
#if GN__ASAN
        __asan_unpoison_memory_region(g->stack_lo, g->stack_size);
#endif
    } else {
        g = gn__g_alloc(size, default_size);
        if (!g) return NULL;
    }
    g->fn = fn;
    g->arg = arg;
    g->lockedm = NULL;
    g->pin_depth = 0;
    g->param = NULL;
    g->select_done = 0;
    gn__store_relaxed(&g->wait_reason, (const char *)NULL);
    g->parent_id = m && m->curg ? m->curg->id : 0;
    gn__ctx_init(&g->ctx, g->stack_lo, g->stack_size, gn__g_main);
    if (p) {
        if (p->goid_next == p->goid_end) {
            p->goid_next = gn__xadd(&gn__rt.goid_gen, 16) + 1;
            p->goid_end = p->goid_next + 16;
        }
        g->id = *id = p->goid_next++;
        gn__count(&p->st_created, 1);
    } else {
        g->id = *id = gn__xadd(&gn__rt.goid_gen, 1) + 1;
        gn__xadd(&gn__rt.st_created_nop, 1);
    }
    gn__store(&g->status, GN__G_RUNNABLE);
    return g;
}

/* gn__newg for the poller, on whatever M and P it runs (maybe neither).     */
GN__PRIVATE gn__g *gn__newg_here(void (*fn)(void *), void *arg) {
    gn__m *m = gn__getm();
    int64_t id;
    return gn__newg(m ? m->p : NULL, fn, arg, 0, &id);
}

GN__PRIVATE int64_t gn__newproc_on(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size) {
    if (!gn__load(&gn__rt.running) || gn__load(&gn__rt.stopping)) return GN_ESTATE;
    int64_t id;   /* once g is queued it may run, exit and be reused: keep its id here */
    gn__g *g = gn__newg(p, fn, arg, stack_size, &id);
    if (!g) return GN_ENOMEM;
    if (p) {
        gn__runq_put(p, g, 1);
    } else {
        gn__lock(&gn__rt.lock);
        gn__globrunqput(g);
        gn__unlock(&gn__rt.lock);
    }
    if (gn__rt.main_started) gn__wakep();
    return id;
}

GONET_API int64_t gn_go(void (*fn)(void *), void *arg) { return gn__newproc(fn, arg, 0); }

GONET_API int64_t gn_go_with(void (*fn)(void *), void *arg, const gn_go_opts *opts) {
    return gn__newproc(fn, arg, opts ? opts->stack_size : 0);
}

GONET_API void gn_blocking_enter(void);
GONET_API void gn_blocking_exit(void);

GN__PRIVATE void gn__park(gn__unlockf unlock, void *arg, const char *reason) {
    gn__m *m = gn__getm();
    gn__g *g = m->curg;
    GN_ASSERT(g && "gn__park outside a coroutine");
    if (GN__UNLIKELY(m->blocking)) {
        /* Parking inside a blocking section: take a P back first, re-enter after. */
        int depth = m->blocking;
        m->blocking = 1;
        gn_blocking_exit();
        gn__park(unlock, arg, reason);
        gn_blocking_enter();
        gn__getm()->blocking = depth;
        return;
    }
    /* For gn_dump. The clock is sysmon's, read by it anyway: a park must not
     * pay for a clock read of its own.                                         */
    gn__store_relaxed(&g->wait_reason, reason);
    gn__store_relaxed(&g->wait_obj, (const void *)arg);
    gn__store_relaxed(&g->wait_since, gn__load_relaxed(&gn__rt.now_coarse));
    gn__store(&g->status, GN__G_WAITING);
    gn__count(&m->p->st_parks, 1);
    m->after = GN__AFTER_PARK;
    m->after_g = g;
    m->after_unlock = unlock;
    m->after_arg = arg;
    gn__switch_out(m, g);
}

GN__PRIVATE void gn__ready(gn__g *g) {
    gn__m *m = gn__getm();
    gn__store(&g->status, GN__G_RUNNABLE);
    if (m && m->p) {
        gn__runq_put(m->p, g, 1);
        gn__wakep();
        return;
    }
    /* From a thread without a P. After a stop the G is discarded with the rest.   */
    int outside = !m;
    if (outside && !gn__outside_enter()) return;
    gn__lock(&gn__rt.lock);
    gn__globrunqput(g);
    gn__unlock(&gn__rt.lock);
    gn__wakep();
    if (outside) gn__outside_exit();
}

GONET_API void gn_yield(void) {
    gn__m *m = gn__getm();
    gn__g *g = m ? m->curg : NULL;
    if (!g) {
        gn__os_yield_thread();
        return;
    }
    if (GN__UNLIKELY(m->blocking)) return;   /* no P to share inside a blocking call */
    gn__p *p = m->p;
    /* Nobody else to run: keep going. Racy reads are fine, this is only a hint.
     * Once the runtime stops, a yield is where a busy coroutine is let go.       */
    if (gn__load_relaxed(&p->runq_head) == p->runq_tail && !gn__load_relaxed(&p->runnext) &&
        gn__load_relaxed(&gn__rt.runqsize) == 0 && !gn__load_relaxed(&gn__rt.stopping)) {
        int64_t t0 = gn__load_relaxed(&p->timer0);
        if (t0 == 0 || t0 > gn_now()) return;
    }
    /* Behind the local queue if it has work; otherwise behind the global queue,
     * or the scheduler would pick us straight back (Go's Gosched does the same). */
    int local = !m->lockedg && (gn__load_relaxed(&p->runq_head) != p->runq_tail ||
                                gn__load_relaxed(&p->runnext));
    m->after = local ? GN__AFTER_YIELD : GN__AFTER_GLOBAL;
    m->after_g = g;
    gn__switch_out(m, g);
}

GONET_API int64_t gn_id(void) {
    gn__g *g = gn__getg();
    return g ? g->id : 0;
}

GONET_API int gn_procs(void) {
    if (!gn__outside_enter()) return 0;
    int n = gn__rt.nprocs;
    gn__outside_exit();
    return n;
}

GONET_API int gn_pin(void) {
    gn__m *m = gn__getm();
    gn__g *g = m ? m->curg : NULL;
    if (!g) return GN_ESTATE;
    if (g->pin_depth++ == 0) {
        g->lockedm = m;
        m->lockedg = g;
    }
    return 0;
}

GONET_API int gn_unpin(void) {
    gn__m *m = gn__getm();
    gn__g *g = m ? m->curg : NULL;
    if (!g || g->pin_depth == 0) return GN_ESTATE;
    if (--g->pin_depth == 0) {
        g->lockedm = NULL;
        m->lockedg = NULL;
    }
    return 0;
}

/* ---- blocking calls ------------------------------------------------------------------*/
/* Both keep errno as the caller left it: the blocking call's errno is what the
 * caller reads after gn_blocking_exit.                                          */
GONET_API void gn_blocking_enter(void) {
    gn__m *m = gn__getm();
    if (!m || !m->curg || m->blocking++ > 0) return;
    int saved = errno;
    gn__p *p = m->p;
    gn__count(&p->st_blocking, 1);
    gn__count(&p->blocktick, 1);
    gn__store(&m->curg->status, GN__G_BLOCKING);
    m->oldp = p;
    m->p = NULL;
    p->m = NULL;
    gn__store(&p->status, GN__P_BLOCKING);
    /* Work is waiting behind us: have the monitor look soon.                       */
    if (gn__rt.sysmon_on && (!gn__runq_empty(p) || gn__load(&gn__rt.runqsize) > 0))
        gn__note_wakeup(&gn__rt.sysmon_note);
    errno = saved;
}

GONET_API void gn_blocking_exit(void) {
    gn__m *m = gn__getm();
    if (!m || !m->curg || m->blocking == 0 || --m->blocking > 0) return;
    gn__g *g = m->curg;
    gn__p *p = m->oldp;
    m->oldp = NULL;
    uint32_t s = GN__P_BLOCKING;
    if (p && gn__cas(&p->status, &s, GN__P_RUNNING)) {
        m->p = p;
        p->m = m;
        gn__store(&g->status, GN__G_RUNNING);
        return;
    }
    int saved = errno;
    gn__lock(&gn__rt.lock);
    p = gn__pidleget();
    gn__unlock(&gn__rt.lock);
    if (p) {
        gn__acquirep(m, p);
        gn__store(&g->status, GN__G_RUNNING);
        errno = saved;
        return;
    }
    /* Every P is busy: queue g globally and let this M sleep.                      */
    errno = saved;
    m->after = GN__AFTER_GLOBAL;
    m->after_g = g;
    gn__switch_out(m, g);
}

GONET_API void gn_blocking(void (*fn)(void *), void *arg) {
    if (!fn) return;
    gn_blocking_enter();
    fn(arg);
    gn_blocking_exit();
}

/* ---- the monitor (Go's sysmon) ---------------------------------------------------------
 * Takes Ps from Ms stuck in blocking calls, polls the network when nobody has
 * for 10 ms, and counts Gs that run for 10 ms without a switch. Sleeps 20 us
 * while there is something to do, backing off to 10 ms when idle.                */
#define GN__LONG_RUN (10 * GN_MILLISECOND)

GN__PRIVATE int gn__retake(int64_t now) {
    int n = 0;
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__p *p = gn__rt.allp[i];
        uint32_t s = gn__load(&p->status);
        if (s == GN__P_RUNNING) {
            uint32_t t = gn__load_relaxed(&p->schedtick);
            if (p->mon_schedtick != t) {
                p->mon_schedtick = t;
                p->mon_schedwhen = now;
            } else if (now - p->mon_schedwhen >= GN__LONG_RUN && p->mon_counted != t + 1) {
                p->mon_counted = t + 1;
                gn__xadd(&gn__rt.st_long_runners, 1);
            }
        } else if (s == GN__P_BLOCKING) {
            uint32_t t = gn__load_relaxed(&p->blocktick);
            if (p->mon_blocktick != t) {
                p->mon_blocktick = t;
                p->mon_blockwhen = now;
                continue;
            }
            /* Leave it if it has nothing queued, someone else can take new work, and
             * the call is young: taking a P costs a thread wake-up.                 */
            if (gn__runq_empty(p) && gn__load(&p->timer0) == 0 &&
                gn__load(&gn__rt.nmspinning) + gn__load(&gn__rt.npidle) > 0 &&
                now - p->mon_blockwhen < 10 * GN_MILLISECOND)
                continue;
            uint32_t b = GN__P_BLOCKING;
            if (gn__cas(&p->status, &b, GN__P_IDLE)) {
                n++;
                gn__xadd(&gn__rt.st_handoffs, 1);
                gn__handoffp(p);
            }
        }
    }
    return n;
}

/* dump.c: the SIGQUIT path. The handler only flags the request; sysmon sees it
 * within a round (10 ms at most) and writes the dump. A signal handler can
 * neither lock nor allocate, and waking sysmon's note could lock: the portable
 * futex (GN_FUTEX_EMULATED, NetBSD) takes a mutex, which the interrupted
 * thread may hold.                                                            */
GN__PRIVATE void gn__dump_to_stderr(void);
GN__PRIVATE void gn__dump_request(void) { gn__store_relaxed(&gn__rt.dump_pending, 1); }

GN__PRIVATE void *gn__sysmon(void *arg) {
    (void)arg;
    int64_t delay = 20 * GN_MICROSECOND;
    int idle = 0;
    while (!gn__load(&gn__rt.stopping)) {
        if (idle == 0) delay = 20 * GN_MICROSECOND;
        else if (idle > 50) delay = GN__MIN(delay * 2, 10 * GN_MILLISECOND);
        gn__note_tsleep(&gn__rt.sysmon_note, delay);
        gn__note_clear(&gn__rt.sysmon_note);
        if (gn__load(&gn__rt.stopping)) break;
        int64_t now = gn_now();
        gn__store_relaxed(&gn__rt.now_coarse, now);
        if (gn__load_relaxed(&gn__rt.dump_pending) && gn__xchg(&gn__rt.dump_pending, 0))
            gn__dump_to_stderr();
        int64_t lp = gn__load(&gn__rt.lastpoll);
        if (lp != 0 && now - lp > 10 * GN_MILLISECOND && gn__cas(&gn__rt.lastpoll, &lp, now)) {
            gn__glist ready = {NULL, NULL, 0};
            if (gn__netpoll(0, &ready) > 0) gn__inject(&ready);
        }
        int64_t t = gn__timers_earliest();
        if (t != 0 && t < now && gn__load(&gn__rt.nmspinning) == 0 && gn__load(&gn__rt.lastpoll) != 0)
            gn__startm(NULL, 0);
        if (gn__retake(now) > 0) idle = 0; else idle++;
    }
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------*/
GN__PRIVATE void *gn__mstart(void *arg) {
    gn__m *m = (gn__m *)arg;
    gn__setm(m);
    gn__g0_init(m);
    gn__acquirep(m, m->nextp);
    m->nextp = NULL;
    gn__schedule(m);
    gn__altstack_disable(m->altstack);
    gn__setm(NULL);
    return NULL;
}

GN__PRIVATE void gn__begin_stop(void) {
    gn__store_seq(&gn__rt.live, 0);
    gn__lock(&gn__rt.lock);
    gn__store(&gn__rt.stopping, 1);
    for (gn__m *m = gn__rt.allm; m; m = m->alllink) gn__note_wakeup(&m->park);
    gn__unlock(&gn__rt.lock);
    gn__netpoll_break();
    gn__note_wakeup(&gn__rt.sysmon_note);
}

GN__PRIVATE int gn__default_procs(const gn_config *cfg) {
    int n = cfg && cfg->procs > 0 ? cfg->procs : 0;
    if (n == 0) {
        const char *env = getenv("GONET_MAXPROCS");
        if (env && atoi(env) > 0) n = atoi(env);
    }
    if (n == 0) n = gn__os_ncpu();
    return GN__MAX(1, GN__MIN(n, GN_MAX_PROCS));
}

GN__PRIVATE void gn__teardown(gn__m *m0) {
    if (gn__rt.dump_on_quit) gn__os_quit_hook(NULL);
    gn__outside_drain();
    if (gn__rt.sysmon_on) gn__os_thread_join(gn__rt.sysmon_thread);
    for (gn__m *m = gn__rt.allm; m; m = m->alllink)
        if (m != m0) gn__os_thread_join(m->thread);
    gn__signal_teardown();   /* signal.c: dispositions back, watchers forgotten */
    gn__m *m = gn__rt.allm;
    while (m) {
        gn__m *next = m->alllink;
        if (m != m0) GN_FREE(m);
        m = next;
    }
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__timers_free(gn__rt.allp[i]);
        GN_FREE(gn__rt.allp[i]);
    }
    gn__stack_shutdown();
    GN_FREE(gn__rt.runq);
    gn__rt.runq = NULL;
    gn__netpoll_fini();
    gn__pds_shutdown();
    gn__overflow_uninstall();
    gn__os_fini();
    gn__altstack_disable(m0->altstack);
    gn__setm(NULL);
    GN_FREE(m0);
}

GONET_API int gn_run(const gn_config *cfg, void (*fn)(void *), void *arg) {
    if (!fn) return GN_EINVAL;
    if (cfg && (cfg->procs < 0 || cfg->stack_size > GN__MAX_STACK ||
                cfg->stack_guard < -1 || cfg->stack_guard > 1))
        return GN_EINVAL;
    if (gn__getm()) return GN_ESTATE;
    uint32_t z = 0;
    if (!gn__cas(&gn__rt.running, &z, 1)) return GN_ESTATE;

    memset(&gn__rt.stopping, 0, sizeof gn__rt - offsetof(struct gn__sched, stopping));
    gn__rt.nprocs = gn__default_procs(cfg);
    size_t ss = cfg && cfg->stack_size ? cfg->stack_size : GN_STACK_SIZE;
    gn__rt.stack_size = GN__MAX(ss, (size_t)8192);
    gn__stack_init(cfg ? cfg->stack_guard : 0);

    int rc = gn__os_init();
    int os_ready = rc == 0;
    if (rc == 0) rc = gn__netpoll_init();
    gn__m *m0 = (gn__m *)GN_MALLOC(sizeof *m0);
    if (rc == 0 && !m0) rc = GN_ENOMEM;
    for (int i = 0; rc == 0 && i < gn__rt.nprocs; i++) {
        gn__p *p = (gn__p *)GN_MALLOC(sizeof *p);
        if (!p) { rc = GN_ENOMEM; break; }
        memset(p, 0, sizeof *p);
        p->id = i;
        gn__rt.allp[i] = p;
    }
    if (rc != 0) {
        for (int i = 0; i < gn__rt.nprocs; i++) GN_FREE(gn__rt.allp[i]);
        GN_FREE(m0);
        gn__netpoll_fini();
        if (os_ready) gn__os_fini();
        gn__store(&gn__rt.running, 0);
        return rc;
    }
    memset(m0, 0, sizeof *m0);
    m0->rand = 0x9E3779B97F4A7C15ull ^ (uint64_t)gn_now();
    gn__rt.allm = m0;
    gn__rt.mcount = 1;
    gn__setm(m0);
    gn__g0_init(m0);
    gn__overflow_install();
    for (int i = gn__rt.nprocs - 1; i >= 1; i--) gn__pidleput(gn__rt.allp[i]);
    gn__acquirep(m0, gn__rt.allp[0]);
    gn__store(&gn__rt.lastpoll, gn_now());

    int64_t id = gn__newproc(fn, arg, 0);
    if (id < 0) {
        gn__teardown(m0);
        gn__store(&gn__rt.running, 0);
        return (int)id;
    }
    gn__rt.main_g = gn__rt.allp[0]->runnext;
    gn__rt.main_started = 1;
    gn__store_seq(&gn__rt.live, 1);
    gn__store_relaxed(&gn__rt.now_coarse, gn_now());
    gn__rt.sysmon_on = !(cfg && cfg->sysmon < 0) &&
                       gn__os_thread_start(&gn__rt.sysmon_thread, gn__sysmon, NULL) == 0;
    /* The dump is written by sysmon: without it, SIGQUIT keeps its default.      */
    gn__rt.dump_on_quit = cfg && cfg->quit_dump > 0 && gn__rt.sysmon_on &&
                          gn__os_quit_hook(gn__dump_request) == 0;
    gn__schedule(m0);
    gn__teardown(m0);
    gn__store(&gn__rt.running, 0);
    return 0;
}

GONET_API int gn_main(void (*fn)(void *), void *arg) { return gn_run(NULL, fn, arg); }

/* ---- stats ----------------------------------------------------------------------------------*/
GONET_API int gn_num_goroutine(void) {
    if (!gn__outside_enter()) return 0;
    int64_t n = gn__load_relaxed(&gn__rt.st_created_nop);
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__p *p = gn__rt.allp[i];
        n += gn__load_relaxed(&p->st_created) - gn__load_relaxed(&p->st_exited);
    }
    gn__outside_exit();
    return (int)n;
}

GONET_API void gn_stats_read(gn_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!gn__outside_enter()) return;
    out->goroutines_created = gn__load_relaxed(&gn__rt.st_created_nop);
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__p *p = gn__rt.allp[i];
        out->goroutines_created += gn__load_relaxed(&p->st_created);
        out->goroutines -= gn__load_relaxed(&p->st_exited);
        out->context_switches += gn__load_relaxed(&p->st_switches);
        out->parks += gn__load_relaxed(&p->st_parks);
        out->steals += gn__load_relaxed(&p->st_steals);
        out->blocking_calls += gn__load_relaxed(&p->st_blocking);
        gn__lock(&p->timer_lock);
        out->timers += p->ntimers;
        gn__unlock(&p->timer_lock);
    }
    out->goroutines += out->goroutines_created;
    out->procs = gn__rt.nprocs;
    gn__lock(&gn__rt.lock);
    out->threads = gn__rt.mcount;
    gn__unlock(&gn__rt.lock);
    out->threads_idle = gn__load(&gn__rt.nmidle);
    out->handoffs = gn__load(&gn__rt.st_handoffs);
    out->long_runners = gn__load(&gn__rt.st_long_runners);
    out->polls = gn__load(&gn__rt.st_polls);
    gn__outside_exit();
}
/* ==== end src/sched.c ==== */

/* ==== begin src/timer.c ==== */
/* timer.c — runtime timers: a min-heap per P, run by the scheduler, and gn_sleep.
 *
 * A timer goes into the heap of the P that starts it; p->timer0 mirrors the
 * heap's earliest instant so the scheduler can test "anything due?" with one
 * load. Expired timers run in the scheduling loop of their P, or of an M that
 * steals work (which also runs other Ps' due timers, so a P parked in a
 * blocking call does not hold its timers back), and the M that sleeps in the
 * poller sleeps until the earliest timer of all Ps.
 *
 * A periodic timer goes back into the heap before its callback runs. If it
 * comes due again while that callback still runs, the tick is dropped (a slow
 * ticker falls behind rather than running its callback twice at once).
 *
 * Rule for owners: call gn__timer_stop before the timer's memory is reused;
 * it waits for a callback in flight, so timers may live on a coroutine stack.
 *
 * >>timer                                                                         */

/* The heap is 4-ary and keeps each timer's instant next to its pointer, like
 * Go's: sifting compares entries of one array and writes only the index of the
 * timers it moves, instead of reading timers that live on many different
 * coroutine stacks (a cache and TLB miss each).                               */
GN__PRIVATE void gn__heap_set(gn__tentry *h, int32_t i, gn__tentry e) {
    h[i] = e;
    e.t->index = i;
}

GN__PRIVATE void gn__heap_up(gn__tentry *h, int32_t i) {
    gn__tentry e = h[i];
    while (i > 0) {
        int32_t parent = (i - 1) / 4;
        if (h[parent].when <= e.when) break;
        gn__heap_set(h, i, h[parent]);
        i = parent;
    }
    gn__heap_set(h, i, e);
}

GN__PRIVATE void gn__heap_down(gn__tentry *h, int32_t n, int32_t i) {
    gn__tentry e = h[i];
    for (;;) {
        int32_t c = 4 * i + 1, best = -1;
        int64_t when = e.when;
        for (int32_t k = c; k < c + 4 && k < n; k++)
            if (h[k].when < when) { when = h[k].when; best = k; }
        if (best < 0) break;
        gn__heap_set(h, i, h[best]);
        i = best;
    }
    gn__heap_set(h, i, e);
}

GN__PRIVATE void gn__heap_remove(gn__p *p, int32_t i) {
    int32_t last = --p->ntimers;
    if (i != last) {
        p->timers[i] = p->timers[last];
        p->timers[i].t->index = i;
        gn__heap_down(p->timers, last, i);
        gn__heap_up(p->timers, i);
    }
}

GN__PRIVATE void gn__timer0_update(gn__p *p) {
    gn__store(&p->timer0, p->ntimers ? p->timers[0].when : 0);
}

GN__PRIVATE int gn__timer_add(gn__p *p, gn__rtimer *t, int64_t when);

GN__PRIVATE int gn__timer_start(gn__rtimer *t, int64_t when) {
    gn__m *m = gn__getm();
    if (m && m->p) return gn__timer_add(m->p, t, when);
    if (m) return gn__timer_add(gn__rt.allp[gn__rand() % (uint32_t)gn__rt.nprocs], t, when);
    if (!gn__outside_enter()) return GN_ESTATE;   /* a thread outside the runtime */
    int rc = gn__timer_add(gn__rt.allp[gn__rand() % (uint32_t)gn__rt.nprocs], t, when);
    gn__outside_exit();
    return rc;
}

GN__PRIVATE int gn__timer_add(gn__p *p, gn__rtimer *t, int64_t when) {
    if (when < 1) when = 1;   /* 0 means "no timer" in timer0 */
    gn__lock(&p->timer_lock);
    if (p->ntimers == p->ctimers) {
        int32_t cap = p->ctimers ? p->ctimers * 2 : 64;
        gn__tentry *h = (gn__tentry *)GN_REALLOC(p->timers, (size_t)cap * sizeof *h);
        if (!h) {
            gn__unlock(&p->timer_lock);
            return GN_ENOMEM;
        }
        p->timers = h;
        p->ctimers = cap;
    }
    t->when = when;
    int32_t i = p->ntimers++;
    p->timers[i].when = when;
    p->timers[i].t = t;
    gn__heap_up(p->timers, i);
    gn__store(&t->heap, p);
    int first = p->timers[0].t == t;
    gn__timer0_update(p);
    gn__unlock(&p->timer_lock);
    if (first) gn__wake_netpoller(when);   /* the M asleep in the poller may wake too late */
    return 0;
}

GN__PRIVATE int gn__timer_stop_in(gn__rtimer *t);

GN__PRIVATE int gn__timer_stop(gn__rtimer *t) {
    if (gn__getm()) return gn__timer_stop_in(t);
    /* Outside the runtime: hold it open, or once it is shutting down, wait until
     * teardown has detached every pending timer from its P.                      */
    for (;;) {
        if (gn__outside_enter()) {
            int rc = gn__timer_stop_in(t);
            gn__outside_exit();
            return rc;
        }
        if (!gn__load(&gn__rt.running)) return gn__timer_stop_in(t);
        gn__os_yield_thread();
    }
}

GN__PRIVATE int gn__timer_stop_in(gn__rtimer *t) {
    int removed = 0;
    for (;;) {
        gn__p *p = gn__load(&t->heap);
        if (!p) break;
        gn__lock(&p->timer_lock);
        if (gn__load(&t->heap) == p) {
            gn__heap_remove(p, t->index);
            gn__store(&t->heap, NULL);
            gn__timer0_update(p);
            gn__unlock(&p->timer_lock);
            removed = 1;
            break;
        }
        gn__unlock(&p->timer_lock);
    }
    while (gn__load(&t->running)) gn__os_yield_thread();
    return removed;
}

GN__PRIVATE int gn__timer_modify(gn__rtimer *t, int64_t when) {
    int removed = gn__timer_stop(t);
    int rc = gn__timer_start(t, when);
    return rc < 0 ? rc : removed;
}

/* Runs p's due timers; returns p's earliest remaining instant (0: none).          */
GN__PRIVATE int64_t gn__timers_run(gn__p *p, int64_t now) {
    int64_t t0 = gn__load(&p->timer0);
    if (t0 == 0 || t0 > now) return t0;
    gn__lock(&p->timer_lock);
    while (p->ntimers > 0 && p->timers[0].when <= now) {
        gn__rtimer *t = p->timers[0].t;
        if (t->period > 0) {
            t->when += t->period * (1 + (now - t->when) / t->period);
            p->timers[0].when = t->when;
            gn__heap_down(p->timers, p->ntimers, 0);
            if (gn__load(&t->running)) {   /* its last tick is still running: drop this one */
                gn__timer0_update(p);
                continue;
            }
            gn__store(&t->running, 1);
        } else {
            gn__store(&t->running, 1);
            gn__heap_remove(p, 0);
            gn__store(&t->heap, NULL);
        }
        gn__timer0_update(p);
        void (*f)(void *, uintptr_t) = t->f;
        void *arg = t->arg;
        uintptr_t seq = t->seq;
        gn__unlock(&p->timer_lock);
        f(arg, seq);
        gn__store(&t->running, 0);
        gn__lock(&p->timer_lock);
    }
    gn__timer0_update(p);
    t0 = p->timer0;
    gn__unlock(&p->timer_lock);
    return t0;
}

/* At shutdown. Timers still pending belong to their owners, who may stop or
 * free them after gn_run returns: they must not point at a freed P.          */
GN__PRIVATE void gn__timers_free(gn__p *p) {
    for (int32_t i = 0; i < p->ntimers; i++) gn__store(&p->timers[i].t->heap, NULL);
    GN_FREE(p->timers);
    p->timers = NULL;
    p->ntimers = p->ctimers = 0;
}

/* ---- sleeping --------------------------------------------------------------------- */
typedef struct gn__sleep { gn__rtimer t; int64_t when; int rc; } gn__sleep;

GN__PRIVATE void gn__sleep_fire(void *arg, uintptr_t seq) {
    (void)seq;
    gn__ready((gn__g *)arg);
}

/* Runs once the sleeper is off its stack, so the timer cannot fire too early.
 * Once the timer is in the heap the sleeper may wake and return at any moment,
 * so s (on its stack) is written only when the park is called off.             */
GN__PRIVATE int gn__sleep_commit(gn__g *g, void *arg) {
    (void)g;
    gn__sleep *s = (gn__sleep *)arg;
    int rc = gn__timer_start(&s->t, s->when);
    if (rc == 0) return 1;
    s->rc = rc;
    return 0;
}

GONET_API int gn_sleep_until(int64_t deadline) {
    gn__g *g = gn__getg();
    int64_t now = gn_now();
    if (deadline <= now) return 0;
    if (!g) {   /* a plain thread: just sleep it */
        gn__os_usleep(deadline - now);
        return 0;
    }
    gn__sleep s;
    memset(&s, 0, sizeof s);
    s.t.f = gn__sleep_fire;
    s.t.arg = g;
    s.when = deadline;
    gn__park(gn__sleep_commit, &s, "sleep");
    gn__timer_stop(&s.t);
    return s.rc;
}

GONET_API int gn_sleep(int64_t d) {
    if (d <= 0) return 0;
    int64_t now = gn_now();
    return gn_sleep_until(d > INT64_MAX - now ? INT64_MAX : now + d);
}
/* ==== end src/timer.c ==== */

/* ==== begin src/chan.c ==== */
/* chan.c — channels and select (Go's hchan and selectgo), and the wait queues of
 * gn__waiter that sync.c shares.
 *
 * A channel is one gn__lock, a ring buffer of cap elements, and two queues of
 * parked Gs: receivers waiting for a value (recvq) and senders waiting for room
 * or a receiver (sendq). Either the buffer holds values or receivers wait, never
 * both; likewise a full buffer or waiting senders. A value always moves with
 * memcpy, straight from the sender's memory into the receiver's when one of them
 * waits, so an unbuffered hand-off costs one copy. Waiters live on the parked
 * G's stack: the waker finishes every access to a waiter (copy, success, param)
 * before it readies the G, after which the waiter may vanish.
 *
 * Select puts one waiter per case on every channel involved and parks once. The
 * first party to flip g->select_done from 0 to 1 (a channel operation, close,
 * or the deadline timer) owns the wake-up; everybody else skips the stale
 * waiters they meet. After waking, the G removes its remaining waiters itself.
 *
 * >>chan                                                                        */

/* ---- wait queues ---------------------------------------------------------------
 * Doubly linked through the waiters, so a select can unlink a waiter from the
 * middle. A waiter is on a queue iff it has a prev or is the head: popping and
 * removing clear both links, so removing twice is harmless.                     */
GN__PRIVATE void gn__waitq_push(gn__waitq *q, gn__waiter *w) {
    gn__waiter *tail = (gn__waiter *)q->tail;
    w->next = NULL;
    w->prev = tail;
    if (tail) tail->next = w; else q->head = w;
    q->tail = w;
}

GN__PRIVATE void gn__waitq_remove(gn__waitq *q, gn__waiter *w) {
    if (!w->prev && q->head != w) return;
    if (w->prev) w->prev->next = w->next; else q->head = w->next;
    if (w->next) w->next->prev = w->prev; else q->tail = w->prev;
    w->next = w->prev = NULL;
}

GN__PRIVATE gn__waiter *gn__waitq_pop(gn__waitq *q) {
    gn__waiter *w = (gn__waiter *)q->head;
    if (w) gn__waitq_remove(q, w);
    return w;
}

/* The unlock callback for every park that only has one gn__lock to release.     */
GN__PRIVATE int gn__unlockf_lock(gn__g *g, void *lock) {
    (void)g;
    gn__unlock((uint32_t *)lock);
    return 1;
}

/* Parks the running G on q; the caller holds *lock, which is released once the G
 * is off its stack. Returns when a waker has readied it.                         */
GN__PRIVATE void gn__waitq_park(gn__waitq *q, uint32_t *lock, gn__g *g, const char *reason) {
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    gn__waitq_push(q, &w);
    gn__park(gn__unlockf_lock, lock, reason);
}

/* ---- channels ------------------------------------------------------------------ */
#define GN__CHAN_MAX_ELEM 65536

struct gn_chan {
    uint32_t  lock;
    uint32_t  closed;        /* under lock                                         */
    size_t    elem_size;
    size_t    cap;
    size_t    count;         /* under lock; written atomically for gn_chan_len     */
    size_t    sendx, recvx;  /* ring positions                                     */
    gn__waitq recvq, sendq;
    char     *buf;           /* cap * elem_size bytes, allocated with the struct   */
};

GONET_API gn_chan *gn_chan_new(size_t elem_size, size_t cap) {
    if (elem_size > GN__CHAN_MAX_ELEM) return NULL;
    size_t head = (sizeof(gn_chan) + 15) & ~(size_t)15;
    if (elem_size && cap > (SIZE_MAX - head) / elem_size) return NULL;
    gn_chan *c = (gn_chan *)GN_MALLOC(head + elem_size * cap);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->elem_size = elem_size;
    c->cap = cap;
    c->buf = (char *)c + head;
    return c;
}

GONET_API void gn_chan_free(gn_chan *c) {
    if (c) GN_FREE(c);
}

GONET_API size_t gn_chan_len(gn_chan *c) { return c ? gn__load_relaxed(&c->count) : 0; }
GONET_API size_t gn_chan_cap(gn_chan *c) { return c ? c->cap : 0; }

/* Constant-size copies for the common element sizes compile to plain moves.
 * gcc -O3 inlines this where it can see the caller's buffer but not elem_size,
 * and warns about the cases that size never takes there.                        */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Warray-bounds"
#  pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
GN__PRIVATE void gn__chan_copy(gn_chan *c, void *dst, const void *src) {
    if (!dst || !src) return;
    switch (c->elem_size) {
    case 0: break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, c->elem_size); break;
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic pop
#endif
GN__PRIVATE void gn__chan_zero(gn_chan *c, void *dst) {
    if (c->elem_size && dst) memset(dst, 0, c->elem_size);
}

/* The first waiter of q that may still be woken. A select waiter is only ours if
 * we win its G's select_done; a lost one belongs to a select that already has an
 * outcome, and is dropped (its G unlinks nothing that is not linked).            */
GN__PRIVATE gn__waiter *gn__chan_take(gn__waitq *q) {
    for (;;) {
        gn__waiter *w = gn__waitq_pop(q);
        if (!w || !w->is_select) return w;
        uint32_t zero = 0;
        if (gn__cas(&w->g->select_done, &zero, 1)) return w;
    }
}

/* Completes a taken waiter: it must be the last touch of w; the caller readies
 * the returned G after unlocking the channel.                                    */
GN__PRIVATE gn__g *gn__chan_finish(gn__waiter *w, int success) {
    gn__g *g = w->g;
    w->success = success;
    g->param = w;
    return g;
}

/* Tries a send with c locked. Returns 1 when it completed (*rc set to 0 or
 * GN_ECLOSED, *wake to a G to ready after unlocking, or NULL), 0 if it must wait. */
GN__PRIVATE int gn__chan_send_locked(gn_chan *c, const void *elem, int *rc, gn__g **wake) {
    if (c->closed) {
        *rc = GN_ECLOSED;
        return 1;
    }
    gn__waiter *w = gn__chan_take(&c->recvq);
    if (w) {
        /* A receiver waits, so the buffer is empty: hand the value over directly. */
        gn__chan_copy(c, w->elem, elem);
        *wake = gn__chan_finish(w, 1);
        *rc = 0;
        return 1;
    }
    if (c->count < c->cap) {
        gn__chan_copy(c, c->buf + c->sendx * c->elem_size, elem);
        if (++c->sendx == c->cap) c->sendx = 0;
        gn__store_relaxed(&c->count, c->count + 1);
        *rc = 0;
        return 1;
    }
    return 0;
}

/* Tries a receive with c locked; like gn__chan_send_locked.                       */
GN__PRIVATE int gn__chan_recv_locked(gn_chan *c, void *elem, int *rc, gn__g **wake) {
    gn__waiter *w = gn__chan_take(&c->sendq);
    if (w) {
        if (c->cap == 0) {
            gn__chan_copy(c, elem, w->elem);
        } else {
            /* Senders wait only on a full buffer: take its oldest value and put
             * the sender's in the slot that frees, keeping FIFO order.            */
            char *slot = c->buf + c->recvx * c->elem_size;
            gn__chan_copy(c, elem, slot);
            gn__chan_copy(c, slot, w->elem);
            if (++c->recvx == c->cap) c->recvx = 0;
            c->sendx = c->recvx;
        }
        *wake = gn__chan_finish(w, 1);
        *rc = 0;
        return 1;
    }
    if (c->count > 0) {
        gn__chan_copy(c, elem, c->buf + c->recvx * c->elem_size);
        if (++c->recvx == c->cap) c->recvx = 0;
        gn__store_relaxed(&c->count, c->count - 1);
        *rc = 0;
        return 1;
    }
    if (c->closed) {
        gn__chan_zero(c, elem);
        *rc = GN_ECLOSED;
        return 1;
    }
    return 0;
}

GN__PRIVATE int gn__chan_send(gn_chan *c, const void *elem, int block) {
    if (!c || (!elem && c->elem_size)) return GN_EINVAL;
    int rc = 0;
    gn__g *wake = NULL;
    gn__lock(&c->lock);
    if (gn__chan_send_locked(c, elem, &rc, &wake)) {
        gn__unlock(&c->lock);
        if (wake) gn__ready(wake);
        return rc;
    }
    gn__g *g = block ? gn__getg() : NULL;
    if (!g) {
        gn__unlock(&c->lock);
        return block ? GN_ESTATE : GN_EAGAIN;
    }
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.elem = (void *)(uintptr_t)elem;
    w.chan = c;
    g->param = NULL;
    gn__waitq_push(&c->sendq, &w);
    gn__park(gn__unlockf_lock, &c->lock, "chan send");
    return w.success ? 0 : GN_ECLOSED;
}

GN__PRIVATE int gn__chan_recv(gn_chan *c, void *elem, int block) {
    if (!c) return GN_EINVAL;
    int rc = 0;
    gn__g *wake = NULL;
    gn__lock(&c->lock);
    if (gn__chan_recv_locked(c, elem, &rc, &wake)) {
        gn__unlock(&c->lock);
        if (wake) gn__ready(wake);
        return rc;
    }
    gn__g *g = block ? gn__getg() : NULL;
    if (!g) {
        gn__unlock(&c->lock);
        return block ? GN_ESTATE : GN_EAGAIN;
    }
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.elem = elem;
    w.chan = c;
    g->param = NULL;
    gn__waitq_push(&c->recvq, &w);
    gn__park(gn__unlockf_lock, &c->lock, "chan receive");
    return w.success ? 0 : GN_ECLOSED;   /* the closer zeroed elem */
}

GONET_API int gn_chan_send(gn_chan *c, const void *elem) { return gn__chan_send(c, elem, 1); }
GONET_API int gn_chan_recv(gn_chan *c, void *elem) { return gn__chan_recv(c, elem, 1); }
GONET_API int gn_chan_try_send(gn_chan *c, const void *elem) { return gn__chan_send(c, elem, 0); }
GONET_API int gn_chan_try_recv(gn_chan *c, void *elem) { return gn__chan_recv(c, elem, 0); }

GONET_API int gn_chan_close(gn_chan *c) {
    if (!c) return GN_EINVAL;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&c->lock);
    if (c->closed) {
        gn__unlock(&c->lock);
        return GN_ECLOSED;
    }
    c->closed = 1;
    /* A parked G is on no run queue, so its schedlink is free to collect the
     * wake-ups; they are readied after unlocking to keep the lock short.        */
    while ((w = gn__chan_take(&c->recvq)) != NULL) {
        gn__chan_zero(c, w->elem);
        gn__glist_push(&wake, gn__chan_finish(w, 0));
    }
    while ((w = gn__chan_take(&c->sendq)) != NULL)
        gn__glist_push(&wake, gn__chan_finish(w, 0));
    gn__unlock(&c->lock);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

/* ---- select ------------------------------------------------------------------- */
#define GN__SELECT_STACK 8

typedef struct gn__select {
    gn_select_case *cases;
    int             n;
    int            *pollorder;   /* a random permutation: fairness among ready cases */
    int            *lockorder;   /* by channel address: a global lock order          */
    gn__waiter     *waiters;
    int64_t         deadline;    /* 0: none                                          */
    int             timer_err;   /* the deadline timer could not be armed            */
    gn__rtimer      timer;
} gn__select;

GN__PRIVATE uintptr_t gn__select_key(const gn__select *s, int k) {
    return (uintptr_t)s->cases[s->lockorder[k]].chan;
}

/* Sorts lockorder by channel address: insertion sort for the usual handful of
 * cases, a heap sort beyond, so that huge selects stay O(n log n).               */
GN__PRIVATE void gn__select_sort(gn__select *s) {
    int n = s->n, *o = s->lockorder;
    for (int i = 0; i < n; i++) o[i] = i;
    if (n <= 16) {
        for (int i = 1; i < n; i++) {
            int v = o[i], j = i;
            uintptr_t key = (uintptr_t)s->cases[v].chan;
            for (; j > 0 && gn__select_key(s, j - 1) > key; j--) o[j] = o[j - 1];
            o[j] = v;
        }
        return;
    }
    for (int end = n; end > 1; end--) {
        /* (Re)build the max-heap on the first pass, then sift down the new root.  */
        int start = end == n ? n / 2 - 1 : 0;
        for (int root0 = start; root0 >= 0; root0--) {
            int root = root0;
            for (;;) {
                int child = 2 * root + 1;
                if (child >= end) break;
                if (child + 1 < end && gn__select_key(s, child + 1) > gn__select_key(s, child))
                    child++;
                if (gn__select_key(s, root) >= gn__select_key(s, child)) break;
                int t = o[root]; o[root] = o[child]; o[child] = t;
                root = child;
            }
        }
        int t = o[0]; o[0] = o[end - 1]; o[end - 1] = t;
    }
}

GN__PRIVATE void gn__select_lock(gn__select *s) {
    gn_chan *prev = NULL;
    for (int k = 0; k < s->n; k++) {
        gn_chan *c = s->cases[s->lockorder[k]].chan;
        if (c && c != prev) gn__lock(&c->lock);
        prev = c;
    }
}

/* Once the last channel is unlocked the G may be running again on another thread
 * (readied by a case) and its select frame may be gone: s is never read after the
 * final unlock, which is why each unlock is delayed until the next distinct
 * channel has been read.                                                         */
GN__PRIVATE void gn__select_unlock(gn__select *s) {
    int n = s->n;
    gn_select_case *cases = s->cases;
    int *order = s->lockorder;
    gn_chan *held = NULL;
    for (int k = 0; k < n; k++) {
        gn_chan *c = cases[order[k]].chan;
        if (c != held) {
            if (held) gn__unlock(&held->lock);
            held = c;
        }
    }
    if (held) gn__unlock(&held->lock);
}

/* The deadline fired: it wakes the select unless a case won first.               */
GN__PRIVATE void gn__select_timeout(void *arg, uintptr_t seq) {
    (void)seq;
    gn__g *g = (gn__g *)arg;
    uint32_t zero = 0;
    if (gn__cas(&g->select_done, &zero, 1)) {
        g->param = NULL;
        gn__ready(g);
    }
}

/* The timer is armed before the channels are unlocked: afterwards a case could
 * wake the G, which would stop a timer not yet started and return, leaving the
 * timer to fire into a dead stack frame. Armed first, its firing can only ready
 * a G that is already off its stack. If it cannot be armed, no case can have won
 * yet (we hold every lock), so the select claims its own outcome and cancels the
 * park; nobody else will ready the G, which is why s may still be written.     */
GN__PRIVATE int gn__select_unlockf(gn__g *g, void *arg) {
    gn__select *s = (gn__select *)arg;
    int park = 1;
    if (s->deadline) {
        int e = gn__timer_start(&s->timer, s->deadline);
        if (e < 0) {
            uint32_t zero = 0;
            (void)gn__cas(&g->select_done, &zero, 1);
            g->param = NULL;
            s->timer_err = e;
            park = 0;
        }
    }
    gn__select_unlock(s);
    return park;
}

/* try_only: never park. Otherwise park, until deadline if it is not 0.         */
GN__PRIVATE int gn__selectgo(gn_select_case *cases, int n, int try_only, int64_t deadline) {
    if (n < 0 || (n > 0 && !cases)) return GN_EINVAL;
    int live = 0;
    for (int i = 0; i < n; i++) {
        gn_select_case *cs = &cases[i];
        if (cs->op != GN_RECV && cs->op != GN_SEND) return GN_EINVAL;
        if (!cs->chan) continue;
        if (cs->op == GN_SEND && !cs->elem && cs->chan->elem_size) return GN_EINVAL;
        live++;
    }
    int nothing = GN_EAGAIN;            /* what "no case ready" returns without waiting */
    if (!try_only && deadline) {
        if (deadline <= gn_now()) {
            try_only = 1;
            nothing = GN_ETIMEDOUT;
        }
    }
    if (!try_only && !live) {
        /* Nothing can fire: a select {} blocks forever in Go, which we refuse;
         * with a deadline it is a sleep. A sleep without channels also keeps the
         * deadline timer away from the unlock callback, where nothing would hold
         * the G back from returning while the timer is still being armed.     */
        if (!deadline) return GN_EINVAL;
        int e = gn_sleep_until(deadline);
        return e < 0 ? e : GN_ETIMEDOUT;
    }

    gn__select s;
    int order_stack[2 * GN__SELECT_STACK];
    gn__waiter wait_stack[GN__SELECT_STACK];
    void *heap = NULL;
    memset(&s, 0, sizeof s);
    s.cases = cases;
    s.n = n;
    s.deadline = try_only ? 0 : deadline;
    if (n <= GN__SELECT_STACK) {
        s.pollorder = order_stack;
        s.lockorder = order_stack + GN__SELECT_STACK;
        s.waiters = wait_stack;
    } else {
        size_t nn = (size_t)n;
        heap = GN_MALLOC(nn * sizeof(gn__waiter) + 2 * nn * sizeof(int));
        if (!heap) return GN_ENOMEM;
        s.waiters = (gn__waiter *)heap;
        s.pollorder = (int *)(s.waiters + n);
        s.lockorder = s.pollorder + n;
    }
    for (int i = 0; i < n; i++) {
        int j = (int)(gn__rand() % (uint32_t)(i + 1));
        s.pollorder[i] = s.pollorder[j];
        s.pollorder[j] = i;
    }
    gn__select_sort(&s);

    int rc = nothing;
    gn__g *wake = NULL;
    gn__select_lock(&s);
    for (int k = 0; k < n; k++) {
        int i = s.pollorder[k];
        gn_select_case *cs = &cases[i];
        int res = 0, done;
        if (!cs->chan) continue;
        if (cs->op == GN_SEND) done = gn__chan_send_locked(cs->chan, cs->elem, &res, &wake);
        else done = gn__chan_recv_locked(cs->chan, cs->elem, &res, &wake);
        if (done) {
            cs->result = res;
            rc = i;
            break;
        }
    }
    if (rc >= 0 || try_only) {
        gn__select_unlock(&s);
        if (wake) gn__ready(wake);
        if (heap) GN_FREE(heap);
        return rc;
    }

    gn__g *g = gn__getg();
    if (!g) {
        gn__select_unlock(&s);
        if (heap) GN_FREE(heap);
        return GN_ESTATE;
    }
    /* No waker can see this G before its waiters are queued under the locks, and
     * the previous select stopped its timer, so nobody races these resets.    */
    gn__store(&g->select_done, 0);
    g->param = NULL;
    for (int k = 0; k < n; k++) {
        int i = s.lockorder[k];
        gn_select_case *cs = &cases[i];
        gn__waiter *w = &s.waiters[i];
        memset(w, 0, sizeof *w);
        if (!cs->chan) continue;
        w->g = g;
        w->elem = cs->elem;
        w->chan = cs->chan;
        w->is_select = 1;
        w->index = i;
        gn__waitq_push(cs->op == GN_SEND ? &cs->chan->sendq : &cs->chan->recvq, w);
    }
    if (s.deadline) {
        s.timer.f = gn__select_timeout;
        s.timer.arg = g;
        s.timer.period = 0;
    }
    gn__park(gn__select_unlockf, &s, "select");

    /* The winner (or the timer) set select_done, so a late timer callback will
     * not touch g; stop waits for one that is running right now.               */
    if (s.deadline) gn__timer_stop(&s.timer);
    gn__waiter *won = (gn__waiter *)g->param;
    gn__select_lock(&s);
    for (int i = 0; i < n; i++) {
        gn_select_case *cs = &cases[i];
        if (!cs->chan || &s.waiters[i] == won) continue;
        gn__waitq_remove(cs->op == GN_SEND ? &cs->chan->sendq : &cs->chan->recvq, &s.waiters[i]);
    }
    gn__select_unlock(&s);
    if (won) {
        rc = won->index;
        cases[rc].result = won->success ? 0 : GN_ECLOSED;
    } else {
        rc = s.timer_err ? s.timer_err : GN_ETIMEDOUT;
    }
    if (heap) GN_FREE(heap);
    return rc;
}

GONET_API int gn_select(gn_select_case *cases, int n) { return gn__selectgo(cases, n, 0, 0); }
GONET_API int gn_select_try(gn_select_case *cases, int n) { return gn__selectgo(cases, n, 1, 0); }
GONET_API int gn_select_until(gn_select_case *cases, int n, int64_t deadline) {
    return gn__selectgo(cases, n, 0, deadline);
}
/* ==== end src/chan.c ==== */

/* ==== begin src/sync.c ==== */
/* sync.c — Go's sync package: Mutex, RWMutex, WaitGroup, Cond, Once. They park
 * the coroutine, never the thread. Each keeps its parked Gs on a FIFO queue of
 * gn__waiter (chan.c) guarded by an internal gn__lock, held only for a few
 * instructions and handed to gn__park's unlock callback.
 *
 * Outside a coroutine (a thread the runtime does not run) nothing can park, so
 * the blocking calls fall back to yielding the thread and retrying; that works
 * but is unfair, and is meant for set-up and tear-down code, not hot paths.
 *
 * >>sync                                                                        */

/* ---- Mutex -----------------------------------------------------------------------
 * state_: LOCKED, plus WAITERS while the queue is non-empty. WAITERS makes the
 * unlocker's fast CAS (LOCKED -> 0) fail, sending it to the slow path, which
 * hands the mutex straight to the first waiter: the state stays LOCKED and the
 * new owner wakes up owning it. FIFO hand-off trades some throughput (an
 * unlocker cannot barge back in) for no starvation and a simple proof.           */
enum { GN__MUTEX_LOCKED = 1, GN__MUTEX_WAITERS = 2 };

GONET_API int gn_mutex_trylock(gn_mutex *m) {
    if (!m) return 0;
    uint32_t s = gn__load_relaxed(&m->state_);
    while (!(s & GN__MUTEX_LOCKED))
        if (gn__cas(&m->state_, &s, s | GN__MUTEX_LOCKED)) return 1;
    return 0;
}

GN__PRIVATE void gn__mutex_lock_slow(gn_mutex *m) {
    gn__g *g = gn__getg();
    if (!g) {
        while (!gn_mutex_trylock(m)) gn__os_yield_thread();
        return;
    }
    gn__lock(&m->lock_);
    uint32_t s = gn__load(&m->state_);
    for (;;) {
        if (!(s & GN__MUTEX_LOCKED)) {
            if (gn__cas(&m->state_, &s, s | GN__MUTEX_LOCKED)) {
                gn__unlock(&m->lock_);
                return;
            }
        } else if ((s & GN__MUTEX_WAITERS) ||
                   gn__cas(&m->state_, &s, s | GN__MUTEX_WAITERS)) {
            break;
        }
    }
    gn__waitq_park(&m->waiters_, &m->lock_, g, "mutex");
    /* Woken by gn_mutex_unlock, which left the mutex locked for us.              */
}

GONET_API void gn_mutex_lock(gn_mutex *m) {
    if (!m) return;
    uint32_t s = 0;
    if (GN__LIKELY(gn__cas(&m->state_, &s, GN__MUTEX_LOCKED))) return;
    gn__mutex_lock_slow(m);
}

GONET_API int gn_mutex_unlock(gn_mutex *m) {
    if (!m) return GN_EINVAL;
    uint32_t s = GN__MUTEX_LOCKED;
    if (GN__LIKELY(gn__cas(&m->state_, &s, 0))) return 0;
    if (!(s & GN__MUTEX_LOCKED)) return GN_ESTATE;
    gn__lock(&m->lock_);
    gn__waiter *w = gn__waitq_pop(&m->waiters_);
    if (!w) {
        /* Not reached while WAITERS is only set with a waiter queued; kept so a
         * broken invariant degrades to a plain unlock.                          */
        gn__store(&m->state_, 0);
        gn__unlock(&m->lock_);
        return 0;
    }
    if (!m->waiters_.head) gn__store(&m->state_, GN__MUTEX_LOCKED);
    gn__g *g = w->g;   /* w lives on g's stack until g runs again */
    gn__unlock(&m->lock_);
    gn__ready(g);
    return 0;
}

/* ---- RWMutex ---------------------------------------------------------------------
 * All state under lock_. A waiting writer stops new readers; when the last reader
 * leaves, the first waiting writer takes over; when a writer leaves, every reader
 * that queued meanwhile goes first, then the next writer. Readers and writers thus
 * alternate under contention and neither side starves. Ownership is handed over
 * before the wake-up, as for Mutex.                                               */
GN__PRIVATE void gn__rw_yield(gn_rwmutex *m) {
    gn__unlock(&m->lock_);
    gn__os_yield_thread();
    gn__lock(&m->lock_);
}

GONET_API void gn_rwmutex_rlock(gn_rwmutex *m) {
    if (!m) return;
    gn__lock(&m->lock_);
    while (m->writer_ || m->writers_waiting_) {
        gn__g *g = gn__getg();
        if (g) {
            gn__waitq_park(&m->rwait_, &m->lock_, g, "rwmutex rlock");
            return;   /* counted among readers_ by the waker */
        }
        gn__rw_yield(m);
    }
    m->readers_++;
    gn__unlock(&m->lock_);
}

GONET_API int gn_rwmutex_runlock(gn_rwmutex *m) {
    if (!m) return GN_EINVAL;
    gn__g *wake = NULL;
    gn__lock(&m->lock_);
    if (m->readers_ <= 0) {
        gn__unlock(&m->lock_);
        return GN_ESTATE;
    }
    if (--m->readers_ == 0 && m->wwait_.head) {
        gn__waiter *w = gn__waitq_pop(&m->wwait_);
        m->writers_waiting_--;
        m->writer_ = 1;
        wake = w->g;
    }
    gn__unlock(&m->lock_);
    if (wake) gn__ready(wake);
    return 0;
}

GONET_API void gn_rwmutex_lock(gn_rwmutex *m) {
    if (!m) return;
    gn__lock(&m->lock_);
    if (!m->writer_ && m->readers_ == 0) {
        m->writer_ = 1;
        gn__unlock(&m->lock_);
        return;
    }
    gn__g *g = gn__getg();
    if (g) {
        m->writers_waiting_++;
        gn__waitq_park(&m->wwait_, &m->lock_, g, "rwmutex lock");
        return;   /* writer_ set for us by the waker */
    }
    /* A thread cannot queue, but still holds back new readers while it spins.    */
    m->writers_waiting_++;
    while (m->writer_ || m->readers_ > 0) gn__rw_yield(m);
    m->writers_waiting_--;
    m->writer_ = 1;
    gn__unlock(&m->lock_);
}

GONET_API int gn_rwmutex_unlock(gn_rwmutex *m) {
    if (!m) return GN_EINVAL;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&m->lock_);
    if (!m->writer_) {
        gn__unlock(&m->lock_);
        return GN_ESTATE;
    }
    m->writer_ = 0;
    if (m->rwait_.head) {
        while ((w = gn__waitq_pop(&m->rwait_)) != NULL) {
            m->readers_++;
            gn__glist_push(&wake, w->g);
        }
    } else if (m->wwait_.head) {
        w = gn__waitq_pop(&m->wwait_);
        m->writers_waiting_--;
        m->writer_ = 1;
        gn__glist_push(&wake, w->g);
    }
    gn__unlock(&m->lock_);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

/* ---- WaitGroup -------------------------------------------------------------------
 * count_ changes with one CAS, outside the lock: only the change to zero takes
 * lock_, to wake the waiters. A waiter checks count_ under lock_ before it
 * queues, so it either sees the zero or is queued before the waker locks.
 * The waker re-checks zero under the lock: if the group was reused meanwhile
 * (an Add after the zero, which Go calls a misuse), the waiters stay for the
 * next zero rather than leave early.                                            */
GONET_API int gn_waitgroup_add(gn_waitgroup *wg, int64_t delta) {
    if (!wg || delta < INT32_MIN || delta > INT32_MAX) return GN_EINVAL;
    uint64_t st = gn__load(&wg->state_), next;
    int64_t count;
    uint32_t waiters;
    do {
        count = (int64_t)(int32_t)(uint32_t)(st >> 32) + delta;
        waiters = (uint32_t)st;
        if (count < 0 || count > INT32_MAX) return GN_EINVAL;
        /* The last Done with waiters clears them too: they are all queued (a
         * waiter counts itself and queues under the lock), and any later wait
         * sees zero and returns.                                               */
        next = count == 0 && waiters ? 0 : (uint64_t)(uint32_t)count << 32 | waiters;
    } while (!gn__cas(&wg->state_, &st, next));
    if (count != 0 || waiters == 0 || delta == 0) return 0;   /* wg untouched from here */
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&wg->lock_);
    for (uint32_t i = 0; i < waiters && (w = gn__waitq_pop(&wg->waiters_)) != NULL; i++)
        gn__glist_push(&wake, w->g);
    gn__unlock(&wg->lock_);
    gn__g *g;   /* each waits for this to run, so wg lives until here */
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

GONET_API int gn_waitgroup_done(gn_waitgroup *wg) { return gn_waitgroup_add(wg, -1); }

GONET_API void gn_waitgroup_wait(gn_waitgroup *wg) {
    if (!wg) return;
    if ((gn__load(&wg->state_) >> 32) == 0) return;
    gn__g *g = gn__getg();
    if (!g) {
        while ((gn__load(&wg->state_) >> 32) != 0) gn__os_yield_thread();
        return;
    }
    gn__lock(&wg->lock_);
    uint64_t st = gn__load(&wg->state_);
    do {
        if ((st >> 32) == 0) {
            gn__unlock(&wg->lock_);
            return;
        }
    } while (!gn__cas(&wg->state_, &st, st + 1));
    gn__waitq_park(&wg->waiters_, &wg->lock_, g, "waitgroup");
}

/* ---- Cond ------------------------------------------------------------------------
 * The waiter is queued before m is released, so a signal sent after the caller
 * saw its condition false and before it parks is not lost. m is unlocked with
 * the cond's lock held (lock order: cond, then mutex), and the park hands over
 * only the cond's lock, so the signaller finds the G only once it is parked.
 * Outside a coroutine a wait cannot park: it unlocks, yields the thread and
 * relocks, a spurious wake-up (callers re-check their condition in a loop).   */
GONET_API void gn_cond_wait(gn_cond *c, gn_mutex *m) {
    if (!c || !m) return;
    gn__g *g = gn__getg();
    if (!g) {
        gn_mutex_unlock(m);
        gn__os_yield_thread();
        gn_mutex_lock(m);
        return;
    }
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    gn__lock(&c->lock_);
    gn__waitq_push(&c->waiters_, &w);
    gn_mutex_unlock(m);
    gn__park(gn__unlockf_lock, &c->lock_, "cond");
    gn_mutex_lock(m);
}

GONET_API void gn_cond_signal(gn_cond *c) {
    if (!c) return;
    gn__lock(&c->lock_);
    gn__waiter *w = gn__waitq_pop(&c->waiters_);
    gn__g *g = w ? w->g : NULL;
    gn__unlock(&c->lock_);
    if (g) gn__ready(g);
}

GONET_API void gn_cond_broadcast(gn_cond *c) {
    if (!c) return;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&c->lock_);
    while ((w = gn__waitq_pop(&c->waiters_)) != NULL) gn__glist_push(&wake, w->g);
    gn__unlock(&c->lock_);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
}

/* ---- Once ------------------------------------------------------------------------
 * done_ is set (release) only after fn returned, so the fast path's acquire load
 * also publishes what fn wrote. Late callers queue on mu_ while fn runs.         */
GONET_API void gn_once_do(gn_once *o, void (*fn)(void *arg), void *arg) {
    if (!o || !fn) return;
    if (gn__load(&o->done_)) return;
    gn_mutex_lock(&o->mu_);
    if (!gn__load_relaxed(&o->done_)) {
        fn(arg);
        gn__store(&o->done_, 1);
    }
    gn_mutex_unlock(&o->mu_);
}
/* ==== end src/sync.c ==== */

/* ==== begin src/context.c ==== */
/* context.c — Go's context: a tree of cancellation scopes with deadlines and
 * values. Every derived context (value contexts included, unlike Go, so that
 * each one can be cancelled and freed the same way) has its own done channel,
 * closed once when it is cancelled, and a list of children that a cancel
 * reaches. The background context is the root; its children keep parent NULL,
 * since nothing can cancel it.
 *
 * Locks: a context's lock guards its err, its children list and its children's
 * parent pointers and sibling links. Cancellation locks parent before child, top
 * down; nothing locks a parent while holding a child. A deadline timer is only
 * stopped with no context lock held: stopping waits for a running callback, and
 * the callback takes the context's lock.
 *
 * >>context                                                                     */

struct gn_context {
    gn_context *parent;              /* NULL: background; atomic (free detaches)  */
    uint32_t    lock;
    int         err;                 /* atomic; 0 while live                       */
    int64_t     deadline;            /* effective: the earliest in the chain; 0 none */
    gn_chan    *done;                /* closed on cancel; NULL for background      */
    gn_context *children;            /* under lock                                 */
    gn_context *next, *prev;         /* siblings, under the parent's lock          */
    int         has_timer;
    gn__rtimer  timer;
    int         has_value;
    const void *key;
    void       *value;
};

/* now + d for a relative duration, saturating, so that a huge d (a common way
 * to say "practically never") does not wrap into the past. Also used by time.c. */
GN__PRIVATE int64_t gn__deadline_after(int64_t d) {
    int64_t now = gn_now();
    if (d <= 0) return now;
    return d > INT64_MAX - now ? INT64_MAX : now + d;
}

static gn_context gn__ctx_background;

GONET_API gn_context *gn_context_background(void) { return &gn__ctx_background; }

GN__PRIVATE int gn__ctx_is_bg(const gn_context *c) { return !c || c == &gn__ctx_background; }

/* Cancels c and its whole subtree with err, once: the first err sticks.           */
GN__PRIVATE void gn__ctx_cancel(gn_context *c, int err) {
    gn__lock(&c->lock);
    if (gn__load_relaxed(&c->err)) {
        gn__unlock(&c->lock);
        return;
    }
    gn__store(&c->err, err);
    gn_chan_close(c->done);
    /* Children stay on the list, cancelled, until each is freed: free needs the
     * link to detach, and the parent needs it to orphan them if freed first.     */
    for (gn_context *k = c->children; k; k = k->next) gn__ctx_cancel(k, err);
    gn__unlock(&c->lock);
}

/* Never stops its own timer (that would wait for itself); free does.            */
GN__PRIVATE void gn__ctx_timer_fired(void *arg, uintptr_t seq) {
    (void)seq;
    gn__ctx_cancel((gn_context *)arg, GN_ETIMEDOUT);
}

GN__PRIVATE gn_context *gn__ctx_new(gn_context *parent, int64_t deadline) {
    if (gn__ctx_is_bg(parent)) parent = NULL;
    gn_context *c = (gn_context *)GN_MALLOC(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->done = gn_chan_new(0, 0);
    if (!c->done) {
        GN_FREE(c);
        return NULL;
    }
    int64_t inherited = parent ? parent->deadline : 0;
    c->deadline = inherited;
    /* A timer only when ours comes first: otherwise the parent's cancels us.    */
    int own = deadline != 0 && (inherited == 0 || deadline < inherited);
    if (own) c->deadline = deadline;
    int err = 0;
    if (parent) {
        gn__lock(&parent->lock);
        c->parent = parent;
        c->next = parent->children;
        if (c->next) c->next->prev = c;
        parent->children = c;
        err = gn__load_relaxed(&parent->err);
        if (err) gn__ctx_cancel(c, err);
        gn__unlock(&parent->lock);
    }
    if (own && !err) {
        if (deadline <= gn_now()) {
            gn__ctx_cancel(c, GN_ETIMEDOUT);
        } else {
            c->timer.f = gn__ctx_timer_fired;
            c->timer.arg = c;
            c->timer.period = 0;
            if (gn__timer_start(&c->timer, deadline) < 0) {
                /* Out of memory, or no runtime to run the timer: a context that
                 * would never time out is worse than none.                    */
                gn_context_free(c);
                return NULL;
            }
            c->has_timer = 1;
        }
    }
    return c;
}

GONET_API gn_context *gn_context_with_cancel(gn_context *parent) {
    return gn__ctx_new(parent, 0);
}

GONET_API gn_context *gn_context_with_deadline(gn_context *parent, int64_t deadline) {
    return gn__ctx_new(parent, deadline);
}

GONET_API gn_context *gn_context_with_timeout(gn_context *parent, int64_t d) {
    /* A non-positive timeout is a deadline already passed, not "no deadline".   */
    return gn__ctx_new(parent, gn__deadline_after(d));
}

GONET_API gn_context *gn_context_with_value(gn_context *parent, const void *key, void *value) {
    gn_context *c = gn__ctx_new(parent, 0);
    if (c) {
        c->has_value = 1;
        c->key = key;
        c->value = value;
    }
    return c;
}

GONET_API void gn_context_cancel(gn_context *ctx) {
    if (gn__ctx_is_bg(ctx)) return;
    gn__ctx_cancel(ctx, GN_ECANCELED);
}

GONET_API void gn_context_free(gn_context *ctx) {
    if (gn__ctx_is_bg(ctx)) return;
    gn__ctx_cancel(ctx, GN_ECANCELED);
    if (ctx->has_timer) gn__timer_stop(&ctx->timer);
    gn_context *p = gn__load(&ctx->parent);
    if (p) {
        gn__lock(&p->lock);
        if (ctx->prev) ctx->prev->next = ctx->next; else p->children = ctx->next;
        if (ctx->next) ctx->next->prev = ctx->prev;
        gn__unlock(&p->lock);
    }
    /* Children freed after us (against the rule, but cheap to survive) then see
     * no parent instead of a dangling one.                                       */
    gn__lock(&ctx->lock);
    gn_context *k = ctx->children;
    while (k) {
        gn_context *next = k->next;
        gn__store(&k->parent, (gn_context *)NULL);
        k->next = k->prev = NULL;
        k = next;
    }
    ctx->children = NULL;
    gn__unlock(&ctx->lock);
    gn_chan_free(ctx->done);
    GN_FREE(ctx);
}

GONET_API int gn_context_err(gn_context *ctx) {
    return gn__ctx_is_bg(ctx) ? 0 : gn__load(&ctx->err);
}

GONET_API gn_chan *gn_context_done(gn_context *ctx) {
    return gn__ctx_is_bg(ctx) ? NULL : ctx->done;
}

GONET_API int64_t gn_context_deadline(gn_context *ctx) {
    return gn__ctx_is_bg(ctx) ? 0 : ctx->deadline;
}

GONET_API void *gn_context_value(gn_context *ctx, const void *key) {
    for (gn_context *c = ctx; !gn__ctx_is_bg(c); c = gn__load(&c->parent))
        if (c->has_value && c->key == key) return c->value;
    return NULL;
}

/* ---- watching a context --------------------------------------------------------- */
/* gn__ctxwatch lets a context cancel something blocked in the poller, which a
 * done channel alone cannot reach: net.c's dialer (the connect in flight) and
 * the HTTP client (an exchange). A watcher coroutine selects on the context's
 * done channel and a stop channel; if done wins, it runs on_done(arg, err)
 * under the watch's lock unless the owner has finished. on_done runs on the
 * watcher holding a spin lock, so it must be short and must not park (moving
 * a deadline into the past is what it is for). The owner changes arg, or
 * whatever on_done touches, under the same lock, so a cancel is never undone.
 *
 * Lifetimes. The owner's caller may free the context as soon as the owner is
 * done, so stop waits until the watcher has left its select and will not touch
 * ctx again: the watcher's last word is a send on `exited` (buffered), which
 * stop receives. The watch itself is freed by whichever side lets go last
 * (refs): a waker may still be inside the channel code when the woken one
 * runs, so neither side may free what the other could still be touching.
 *
 * >>ctxwatch                                                                    */

typedef struct gn__ctxwatch gn__ctxwatch;
struct gn__ctxwatch {
    gn_context *ctx;
    gn_chan    *stop;               /* closed by stop: the owner is done           */
    gn_chan    *exited;             /* buffered: the watcher's last word           */
    void      (*on_done)(void *arg, int err);
    void       *arg;                /* under lock                                  */
    uint32_t    lock;
    uint32_t    refs;               /* atomic: the watcher's and the owner's       */
    int         err;                /* under lock: nonzero once on_done has run    */
    int         finished;           /* under lock: the owner is done, touch nothing */
};

GN__PRIVATE void gn__ctxwatch_put(gn__ctxwatch *w) {
    if (gn__xadd(&w->refs, (uint32_t)-1) != 1) return;
    gn_chan_free(w->stop);
    gn_chan_free(w->exited);
    GN_FREE(w);
}

GN__PRIVATE void gn__ctxwatcher(void *arg) {
    gn__ctxwatch *w = (gn__ctxwatch *)arg;
    gn_select_case cs[2] = {{gn_context_done(w->ctx), GN_RECV, NULL, 0}, {w->stop, GN_RECV, NULL, 0}};
    if (gn_select(cs, 2) == 0) {
        int err = gn_context_err(w->ctx);
        gn__lock(&w->lock);
        if (!w->finished) {
            w->err = err ? err : GN_ECANCELED;
            w->on_done(w->arg, w->err);
        }
        gn__unlock(&w->lock);
    }
    gn_chan_send(w->exited, NULL);
    gn__ctxwatch_put(w);
}

/* Starts watching ctx: 0 and *out, or GN_ENOMEM. *out is NULL (and the result
 * 0) when there is nothing to watch: no ctx, or one that cannot be cancelled,
 * or no coroutine to wait for the watcher in (stop has to park).               */
GN__PRIVATE int gn__ctxwatch_start(gn__ctxwatch **out, gn_context *ctx,
                                   void (*on_done)(void *arg, int err), void *arg) {
    *out = NULL;
    if (!gn_context_done(ctx) || !gn__getg()) return 0;
    gn__ctxwatch *w = (gn__ctxwatch *)GN_MALLOC(sizeof *w);
    if (!w) return GN_ENOMEM;
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->on_done = on_done;
    w->arg = arg;
    w->refs = 2;
    w->stop = gn_chan_new(0, 0);
    w->exited = gn_chan_new(0, 1);
    if (!w->stop || !w->exited || gn_go(gn__ctxwatcher, w) < 0) {
        gn_chan_free(w->stop);
        gn_chan_free(w->exited);
        GN_FREE(w);
        return GN_ENOMEM;
    }
    *out = w;
    return 0;
}

/* Ends the watch and frees it (NULL: nothing), once the watcher has left its
 * select; 1 if on_done ran (the context won), else 0.                           */
GN__PRIVATE int gn__ctxwatch_stop(gn__ctxwatch *w) {
    if (!w) return 0;
    gn__lock(&w->lock);
    w->finished = 1;
    int fired = w->err != 0;
    gn__unlock(&w->lock);
    gn_chan_close(w->stop);
    gn_chan_recv(w->exited, NULL);
    gn__ctxwatch_put(w);
    return fired;
}

/* Holds off on_done while the owner changes what it touches. lock returns the
 * context's error if on_done has already run, else 0. Both accept NULL.        */
GN__PRIVATE int gn__ctxwatch_lock(gn__ctxwatch *w) {
    if (!w) return 0;
    gn__lock(&w->lock);
    return w->err;
}

GN__PRIVATE void gn__ctxwatch_unlock(gn__ctxwatch *w) {
    if (w) gn__unlock(&w->lock);
}

/* The context's error if on_done has run, else 0 (also for NULL).              */
GN__PRIVATE int gn__ctxwatch_err(gn__ctxwatch *w) {
    int err = gn__ctxwatch_lock(w);
    gn__ctxwatch_unlock(w);
    return err;
}

/* on_done's argument becomes arg; as gn__ctxwatch_err, read at the same time,
 * so a nonzero result means on_done ran with the old one.                      */
GN__PRIVATE int gn__ctxwatch_retarget(gn__ctxwatch *w, void *arg) {
    int err = gn__ctxwatch_lock(w);
    if (w) w->arg = arg;
    gn__ctxwatch_unlock(w);
    return err;
}
/* ==== end src/context.c ==== */

/* ==== begin src/time.c ==== */
/* time.c — the user's timers (Go's time.Timer, time.Ticker, time.AfterFunc) on top
 * of the runtime timers of timer.c.
 *
 * A channel timer's callback offers gn_now() to a channel of capacity 1 and drops
 * it when the channel is full, so a slow reader of a ticker sees ticks merged,
 * never queued. Stop and reset first stop the runtime timer, which returns only
 * once no callback runs, and then drain the channel: after they return no value
 * of an earlier arming can be received (Go 1.23).
 *
 * >>time                                                                        */

struct gn_timer {
    gn__rtimer rt;
    gn_chan   *c;                 /* channel timers; NULL for func timers        */
    void     (*fn)(void *arg);
    void      *arg;
    int        ticker;            /* period is kept positive                     */
    uint32_t   lock;              /* serialises stop/reset/free of one timer    */
};

GN__PRIVATE void gn__time_send(void *arg, uintptr_t seq) {
    (void)seq;
    gn_timer *t = (gn_timer *)arg;
    int64_t now = gn_now();
    (void)gn_chan_try_send(t->c, &now);
}

GN__PRIVATE void gn__time_go(void *arg, uintptr_t seq) {
    (void)seq;
    gn_timer *t = (gn_timer *)arg;
    /* Out of memory here has nobody to tell; Go would crash instead.             */
    (void)gn_go(t->fn, t->arg);
}

GN__PRIVATE gn_timer *gn__time_new(int64_t d, int64_t period, void (*fn)(void *), void *arg) {
    gn_timer *t = (gn_timer *)GN_MALLOC(sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    if (fn) {
        t->fn = fn;
        t->arg = arg;
        t->rt.f = gn__time_go;
    } else {
        t->c = gn_chan_new(sizeof(int64_t), 1);
        if (!t->c) {
            GN_FREE(t);
            return NULL;
        }
        t->rt.f = gn__time_send;
    }
    t->rt.arg = t;
    t->rt.period = period;
    t->ticker = period > 0;
    if (gn__timer_start(&t->rt, gn__deadline_after(d)) < 0) {
        gn_chan_free(t->c);
        GN_FREE(t);
        return NULL;
    }
    return t;
}

GONET_API gn_timer *gn_timer_new(int64_t d) { return gn__time_new(d, 0, NULL, NULL); }

GONET_API gn_timer *gn_ticker_new(int64_t period) {
    return period > 0 ? gn__time_new(period, period, NULL, NULL) : NULL;
}

GONET_API gn_timer *gn_after_func(int64_t d, void (*fn)(void *arg), void *arg) {
    return fn ? gn__time_new(d, 0, fn, arg) : NULL;
}

GONET_API gn_chan *gn_timer_chan(gn_timer *t) { return t ? t->c : NULL; }

/* With t->lock held. Nothing fires once it returns, and the channel is empty.    */
GN__PRIVATE int gn__time_stop(gn_timer *t) {
    int stopped = gn__timer_stop(&t->rt);
    if (t->c) {
        int64_t stale;
        while (gn_chan_try_recv(t->c, &stale) == 0) {}
    }
    return stopped;
}

GONET_API int gn_timer_stop(gn_timer *t) {
    if (!t) return GN_EINVAL;
    gn__lock(&t->lock);
    int r = gn__time_stop(t);
    gn__unlock(&t->lock);
    return r;
}

GONET_API int gn_timer_reset(gn_timer *t, int64_t d) {
    if (!t) return GN_EINVAL;
    /* A ticker's period must stay positive, as Go's Ticker.Reset demands.        */
    if (t->ticker && d <= 0) return GN_EINVAL;
    gn__lock(&t->lock);
    int r = gn__time_stop(t);
    if (t->ticker) t->rt.period = d;
    int e = gn__timer_start(&t->rt, gn__deadline_after(d));
    gn__unlock(&t->lock);
    return e < 0 ? e : r;
}

GONET_API void gn_timer_free(gn_timer *t) {
    if (!t) return;
    gn__lock(&t->lock);
    (void)gn__time_stop(t);
    gn__unlock(&t->lock);
    gn_chan_free(t->c);
    GN_FREE(t);
}
/* ==== end src/time.c ==== */

/* ==== begin src/bufio.c ==== */
/* bufio.c — Go's bufio: gn_bufreader and gn_bufwriter over gn_read_func and
 * gn_write_func. No runtime needed: the source and sink block (or park) as
 * they like, and the buffers here are only indices into caller memory.
 *
 * Reader: buf_[r_, w_) holds unread bytes. gn__bufreader_fill slides them to
 * the front and makes one source call into the free tail. The source's error
 * waits in err_ until a call runs out of buffered bytes, which returns it once
 * (gn__bufreader_take_err), so data always comes before the error that
 * followed it. last_byte_ remembers the last byte handed out, for unread_byte.
 *
 * Writer: buf_[0, n_) waits for the sink. Every sink call goes through
 * gn__bufwriter_sink, which sets the sticky err_ on failure.
 *
 * >>bufio                                                                      */

/* How many 0-byte results in a row a source or sink gets before GN_ENOPROGRESS. */
#define GN__BUFIO_MAX_EMPTY 100

#define GN__BUFIO_CLAMP(n) ((n) > (size_t)INT64_MAX ? (size_t)INT64_MAX : (n))

/* ---- reader --------------------------------------------------------------------- */
GN__PRIVATE int gn__bufreader_ok(const gn_bufreader *r) {
    return r && r->buf_ && r->size_ >= GN_BUFREADER_MIN_SIZE && r->r_ <= r->w_ &&
           r->w_ <= r->size_;
}

GN__PRIVATE int gn__bufreader_take_err(gn_bufreader *r) {
    int e = r->err_;
    r->err_ = 0;
    return e;
}

/* One source call into dst[n] (n > 0), retried while it returns 0 bytes:
 * > 0 bytes or a negative error.                                                  */
GN__PRIVATE int64_t gn__bufreader_call(gn_bufreader *r, void *dst, size_t n) {
    if (!r->rd_) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    for (int i = 0; i < GN__BUFIO_MAX_EMPTY; i++) {
        int64_t m = r->rd_(r->ctx_, dst, n);
        if (m < 0) return m < INT_MIN ? GN_EINVAL : m;
        if ((uint64_t)m > (uint64_t)n) return GN_EINVAL;
        if (m > 0) return m;
    }
    return GN_ENOPROGRESS;
}

/* Slides the unread bytes to the front and reads once into the rest. Called only
 * with no error pending and room in the buffer; an error lands in err_.         */
GN__PRIVATE void gn__bufreader_fill(gn_bufreader *r) {
    if (r->r_ > 0) {
        memmove(r->buf_, r->buf_ + r->r_, r->w_ - r->r_);
        r->w_ -= r->r_;
        r->r_ = 0;
    }
    GN_ASSERT(r->w_ < r->size_);
    int64_t m = gn__bufreader_call(r, r->buf_ + r->w_, r->size_ - r->w_);
    if (m < 0) r->err_ = (int)m;
    else r->w_ += (size_t)m;
}

GONET_API void gn_bufreader_init(gn_bufreader *r, gn_read_func rd, void *ctx,
                                 char *buf, size_t size) {
    if (!r) return;
    memset(r, 0, sizeof *r);
    r->last_byte_ = -1;
    if (!buf || size < GN_BUFREADER_MIN_SIZE) return;   /* invalid: every call EINVAL */
    r->buf_ = buf;
    r->size_ = size;
    r->rd_ = rd;
    r->ctx_ = ctx;
}

GONET_API gn_bufreader *gn_bufreader_new(gn_read_func rd, void *ctx, size_t size) {
    if (size == 0) size = GN_BUFIO_DEFAULT_SIZE;
    if (size < GN_BUFREADER_MIN_SIZE) size = GN_BUFREADER_MIN_SIZE;
    if (size > SIZE_MAX - sizeof(gn_bufreader)) return NULL;
    gn_bufreader *r = (gn_bufreader *)GN_MALLOC(sizeof(gn_bufreader) + size);
    if (!r) return NULL;
    gn_bufreader_init(r, rd, ctx, (char *)(r + 1), size);
    r->owned_ = 1;
    return r;
}

/* Not inlined: a caller passing its own struct would see a (dead) free() of a
 * stack object, which gcc's -Wfree-nonheap-object flags.                      */
GN__NOINLINE GONET_API void gn_bufreader_free(gn_bufreader *r) {
    if (r && r->owned_) GN_FREE(r);
}

GONET_API void gn_bufreader_reset(gn_bufreader *r, gn_read_func rd, void *ctx) {
    if (!r) return;
    r->r_ = r->w_ = 0;
    r->err_ = 0;
    r->last_byte_ = -1;
    r->rd_ = rd;
    r->ctx_ = ctx;
}

GONET_API size_t gn_bufreader_buffered(const gn_bufreader *r) {
    return gn__bufreader_ok(r) ? r->w_ - r->r_ : 0;
}

GONET_API size_t gn_bufreader_size(const gn_bufreader *r) {
    return gn__bufreader_ok(r) ? r->size_ : 0;
}

GONET_API int64_t gn_bufreader_read(gn_bufreader *r, void *buf, size_t n) {
    if (!gn__bufreader_ok(r) || (!buf && n)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    if (n == 0) return r->r_ < r->w_ ? 0 : gn__bufreader_take_err(r);
    if (r->r_ == r->w_) {
        if (r->err_) return gn__bufreader_take_err(r);
        if (n >= r->size_) {
            /* Nothing buffered and a big destination: skip the copy.            */
            int64_t m = gn__bufreader_call(r, buf, n);
            if (m > 0) r->last_byte_ = ((unsigned char *)buf)[m - 1];
            return m;
        }
        r->r_ = r->w_ = 0;
        gn__bufreader_fill(r);
        if (r->r_ == r->w_) return gn__bufreader_take_err(r);
    }
    size_t k = GN__MIN(n, r->w_ - r->r_);
    memcpy(buf, r->buf_ + r->r_, k);
    r->r_ += k;
    r->last_byte_ = (unsigned char)r->buf_[r->r_ - 1];
    return (int64_t)k;
}

GONET_API int gn_bufreader_read_byte(gn_bufreader *r) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    while (r->r_ == r->w_) {
        if (r->err_) return gn__bufreader_take_err(r);
        gn__bufreader_fill(r);
    }
    int c = (unsigned char)r->buf_[r->r_++];
    r->last_byte_ = c;
    return c;
}

GONET_API int gn_bufreader_unread_byte(gn_bufreader *r) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    /* r_ == 0 with bytes buffered would mean a fill moved them after the read;
     * a call that fills then hands out bytes or resets last_byte_: a guard.   */
    if (r->last_byte_ < 0 || (r->r_ == 0 && r->w_ > 0)) return GN_EUNREAD;
    if (r->r_ > 0) r->r_--;
    else r->w_ = 1;            /* empty buffer: the byte becomes its only content */
    r->buf_[r->r_] = (char)r->last_byte_;
    r->last_byte_ = -1;
    return 0;
}

GONET_API int64_t gn_bufreader_peek(gn_bufreader *r, size_t n, const char **out) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    r->last_byte_ = -1;
    while (r->w_ - r->r_ < n && r->w_ - r->r_ < r->size_ && !r->err_)
        gn__bufreader_fill(r);
    if (out) *out = r->buf_ + r->r_;
    if (n > r->size_) return GN_EBUFFULL;
    if (r->w_ - r->r_ < n) return gn__bufreader_take_err(r);
    return (int64_t)n;
}

/* Each pass searches only the bytes the last fill added.                         */
GONET_API int64_t gn_bufreader_read_slice(gn_bufreader *r, int delim, const char **out) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r) || !out) return GN_EINVAL;
    size_t seen = 0;     /* bytes past r_ already searched */
    size_t len;
    for (;;) {
        const char *p = (const char *)memchr(r->buf_ + r->r_ + seen, (unsigned char)delim,
                                             r->w_ - r->r_ - seen);
        if (p) {
            len = (size_t)(p - (r->buf_ + r->r_)) + 1;
            break;
        }
        if (r->err_) {
            if (r->r_ == r->w_) return gn__bufreader_take_err(r);
            len = r->w_ - r->r_;        /* the tail before the error; err_ stays  */
            break;
        }
        if (r->w_ - r->r_ == r->size_) {
            *out = r->buf_ + r->r_;
            r->r_ = r->w_;
            r->last_byte_ = (unsigned char)r->buf_[r->w_ - 1];
            return GN_EBUFFULL;
        }
        seen = r->w_ - r->r_;
        gn__bufreader_fill(r);
    }
    *out = r->buf_ + r->r_;
    r->r_ += len;
    r->last_byte_ = (unsigned char)r->buf_[r->r_ - 1];
    return (int64_t)len;
}

/* read_bytes and read_string: gathers read_slice's pieces into one allocation. */
GN__PRIVATE int64_t gn__bufreader_collect(gn_bufreader *r, int delim, char **out, int nul) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r) || !out) return GN_EINVAL;
    char *res = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        const char *piece;
        int64_t m = gn_bufreader_read_slice(r, delim, &piece);
        if (m == GN_EBUFFULL) m = (int64_t)r->size_;
        else if (m < 0) {
            if (len == 0) return m;
            r->err_ = (int)m;           /* give it back for the next call         */
            break;
        }
        size_t k = (size_t)m;
        if (len + k + 1 > cap) {
            size_t ncap = cap ? cap : 64;
            while (ncap < len + k + 1) {
                if (ncap > SIZE_MAX / 2) { ncap = len + k + 1; break; }
                ncap *= 2;
            }
            char *nres = (char *)GN_REALLOC(res, ncap);
            if (!nres) {
                GN_FREE(res);
                return GN_ENOMEM;
            }
            res = nres;
            cap = ncap;
        }
        memcpy(res + len, piece, k);
        len += k;
        if (piece[k - 1] == (char)(unsigned char)delim || r->err_) break;
    }
    if (nul) res[len] = '\0';
    *out = res;
    return (int64_t)len;
}

GONET_API int64_t gn_bufreader_read_bytes(gn_bufreader *r, int delim, char **out) {
    return gn__bufreader_collect(r, delim, out, 0);
}

GONET_API int64_t gn_bufreader_read_string(gn_bufreader *r, int delim, char **out) {
    return gn__bufreader_collect(r, delim, out, 1);
}

GONET_API int64_t gn_bufreader_read_line(gn_bufreader *r, const char **line, int *is_prefix) {
    if (line) *line = NULL;
    if (is_prefix) *is_prefix = 0;
    if (!gn__bufreader_ok(r) || !line) return GN_EINVAL;
    const char *p;
    int64_t m = gn_bufreader_read_slice(r, '\n', &p);
    if (m == GN_EBUFFULL) {
        size_t len = r->size_;
        if (p[len - 1] == '\r') {
            /* The "\r" may start a "\r\n": hold it back for the next piece.    */
            r->r_--;
            len--;
            r->last_byte_ = (unsigned char)p[len - 1];
        }
        *line = p;
        if (is_prefix) *is_prefix = 1;
        return (int64_t)len;
    }
    if (m < 0) return m;
    size_t len = (size_t)m;
    if (p[len - 1] == '\n') {
        len--;
        if (len > 0 && p[len - 1] == '\r') len--;
    }
    *line = p;
    return (int64_t)len;
}

GONET_API int64_t gn_bufreader_read_full(gn_bufreader *r, void *buf, size_t n) {
    if (!gn__bufreader_ok(r) || (!buf && n)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    size_t got = 0;
    while (got < n) {
        int64_t m = gn_bufreader_read(r, (char *)buf + got, n - got);
        if (m < 0) {
            if (m == GN_EOF && got > 0) return GN_EUNEXPECTEDEOF;
            return m;
        }
        got += (size_t)m;
    }
    return (int64_t)n;
}

GONET_API int64_t gn_bufreader_discard(gn_bufreader *r, size_t n) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    r->last_byte_ = -1;
    size_t left = n;
    for (;;) {
        size_t k = GN__MIN(left, r->w_ - r->r_);
        r->r_ += k;
        left -= k;
        if (left == 0) return (int64_t)n;
        if (r->err_) return left < n ? (int64_t)(n - left) : gn__bufreader_take_err(r);
        gn__bufreader_fill(r);
    }
}

/* ---- writer --------------------------------------------------------------------- */
GN__PRIVATE int gn__bufwriter_ok(const gn_bufwriter *w) {
    return w && w->buf_ && w->size_ > 0 && w->n_ <= w->size_;
}

/* Hands p[n] to the sink, calling again for the rest after a short write.
 * 0, or the error, which becomes sticky.                                          */
GN__PRIVATE int gn__bufwriter_sink(gn_bufwriter *w, const char *p, size_t n) {
    int empty = 0;
    while (n > 0) {
        int64_t m = w->wr_ ? w->wr_(w->ctx_, p, GN__BUFIO_CLAMP(n)) : GN_EINVAL;
        if (m < 0) {
            w->err_ = m < INT_MIN ? GN_EINVAL : (int)m;
            return w->err_;
        }
        if ((uint64_t)m > (uint64_t)n) return w->err_ = GN_EINVAL;
        if (m == 0) {
            if (++empty == GN__BUFIO_MAX_EMPTY) return w->err_ = GN_ENOPROGRESS;
            continue;
        }
        empty = 0;
        p += m;
        n -= (size_t)m;
    }
    return 0;
}

GONET_API void gn_bufwriter_init(gn_bufwriter *w, gn_write_func wr, void *ctx,
                                 char *buf, size_t size) {
    if (!w) return;
    memset(w, 0, sizeof *w);
    if (!buf || size == 0) return;   /* invalid: every call GN_EINVAL */
    w->buf_ = buf;
    w->size_ = size;
    w->wr_ = wr;
    w->ctx_ = ctx;
}

GONET_API gn_bufwriter *gn_bufwriter_new(gn_write_func wr, void *ctx, size_t size) {
    if (size == 0) size = GN_BUFIO_DEFAULT_SIZE;
    if (size > SIZE_MAX - sizeof(gn_bufwriter)) return NULL;
    gn_bufwriter *w = (gn_bufwriter *)GN_MALLOC(sizeof(gn_bufwriter) + size);
    if (!w) return NULL;
    gn_bufwriter_init(w, wr, ctx, (char *)(w + 1), size);
    w->owned_ = 1;
    return w;
}

/* Not inlined: a caller passing its own struct would see a (dead) free() of a
 * stack object, which gcc's -Wfree-nonheap-object flags.                      */
GN__NOINLINE GONET_API void gn_bufwriter_free(gn_bufwriter *w) {
    if (w && w->owned_) GN_FREE(w);
}

GONET_API void gn_bufwriter_reset(gn_bufwriter *w, gn_write_func wr, void *ctx) {
    if (!w) return;
    w->n_ = 0;
    w->err_ = 0;
    w->wr_ = wr;
    w->ctx_ = ctx;
}

GONET_API size_t gn_bufwriter_available(const gn_bufwriter *w) {
    return gn__bufwriter_ok(w) ? w->size_ - w->n_ : 0;
}

GONET_API size_t gn_bufwriter_buffered(const gn_bufwriter *w) {
    return gn__bufwriter_ok(w) ? w->n_ : 0;
}

GONET_API int gn_bufwriter_flush(gn_bufwriter *w) {
    if (!gn__bufwriter_ok(w)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (w->n_ == 0) return 0;
    int e = gn__bufwriter_sink(w, w->buf_, w->n_);
    if (e) return e;
    w->n_ = 0;
    return 0;
}

GONET_API int64_t gn_bufwriter_write(gn_bufwriter *w, const void *p, size_t n) {
    if (!gn__bufwriter_ok(w) || (!p && n)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (n == 0) return 0;
    n = GN__BUFIO_CLAMP(n);
    const char *s = (const char *)p;
    size_t left = n;
    while (left > w->size_ - w->n_) {
        if (w->n_ == 0) {
            /* Empty buffer, more than fits: straight to the sink, no copy.       */
            int e = gn__bufwriter_sink(w, s, left);
            return e ? e : (int64_t)n;
        }
        size_t k = w->size_ - w->n_;
        memcpy(w->buf_ + w->n_, s, k);
        w->n_ += k;
        s += k;
        left -= k;
        int e = gn_bufwriter_flush(w);
        if (e) return e;
    }
    memcpy(w->buf_ + w->n_, s, left);
    w->n_ += left;
    return (int64_t)n;
}

GONET_API int gn_bufwriter_write_byte(gn_bufwriter *w, int c) {
    if (!gn__bufwriter_ok(w)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (w->n_ == w->size_) {
        int e = gn_bufwriter_flush(w);
        if (e) return e;
    }
    w->buf_[w->n_++] = (char)(unsigned char)c;
    return 0;
}

GONET_API int64_t gn_bufwriter_write_string(gn_bufwriter *w, const char *s) {
    if (!s) return GN_EINVAL;
    return gn_bufwriter_write(w, s, strlen(s));
}
/* ==== end src/bufio.c ==== */

/* ==== begin src/net_posix.c ==== */
/* net_posix.c — socket I/O over readiness (epoll, kqueue, poll()): the part of
 * net.c that differs by OS, for POSIX systems. net.c holds the rest (addresses,
 * resolution, the API) and calls what this file defines:
 *   gn__sock, gn__iov, struct gn__fd    the descriptor, a scatter/gather entry
 *   gn__fd_init / gn__fd_destroy        wrap and register / unregister and close
 *   gn__fd_check                        why an operation cannot start, or 0
 *   gn__fd_read / write / writev        one reader, one writer (net.c serialises)
 *   gn__fd_accept / gn__fd_connect      one accepted socket / a connect to its end
 *   gn__fd_recvfrom / gn__fd_sendto     datagrams
 *   gn__fd_park_idle / park_new / watch / unwatch / hung_up
 *                                       a connection without a coroutine
 *   gn__fd_cut                          end both directions now, waking I/O on it
 *   gn__socket, gn__sock_close, gn__sock_error, gn__sock_listen_opts,
 *   gn__sock_keepalive, gn__sock_group, gn__sock_unlink, gn__conn_wrap_os
 *
 * Every descriptor is non-blocking and registered with the poller once. An
 * operation tries the system call first and parks on the pd only when it would
 * block (EAGAIN), so a busy connection costs one read and one write per
 * request. A short read means the socket was drained; the next read then waits
 * for readiness instead of spending a system call on EAGAIN.
 *
 * >>net-posix                                                                    */
#if !GN__POLL_IOCP

#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/uio.h>
#if !GN__OS_LINUX
#  include <ifaddrs.h>
#endif

/* ---- what differs by OS ------------------------------------------------------------
 * Gathered here, so that the functions below read the same on every system.
 *
 * New descriptors. Linux and the BSDs make a socket (socket, accept4)
 * non-blocking and close-on-exec in the same call, and MSG_NOSIGNAL turns a
 * write to a gone peer into EPIPE instead of SIGPIPE. macOS has none of the
 * three: gn__sock_setup sets the flags with fcntl after the call and marks
 * the socket SO_NOSIGPIPE, which does for every write what MSG_NOSIGNAL does
 * for one. Between socket() and fcntl, a fork on another thread hands the
 * descriptor to the child (Go closes that window with a fork lock, which C
 * code at large does not take); a child that then execs keeps it open.      */
#if GN__OS_DARWIN
#  define GN__SOCK_NEWFL   0
#  define GN__MSG_NOSIGNAL 0
#else
#  define GN__SOCK_NEWFL   (SOCK_NONBLOCK | SOCK_CLOEXEC)
#  define GN__MSG_NOSIGNAL MSG_NOSIGNAL
#endif

/* Marks socket fd never to raise SIGPIPE, where writes cannot say so
 * themselves (macOS): ours, and those handed in by gn_conn_from_fd. 0, or -1
 * and errno.                                                                  */
static inline int gn__sock_nosigpipe(int fd) {
#if GN__OS_DARWIN
    int one = 1;
    return gn__sys_setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
    (void)fd;
    return 0;
#endif
}

/* What GN__SOCK_NEWFL could not say, for a socket just made or accepted.    */
static inline int gn__sock_setup(int fd) {
#if GN__OS_DARWIN
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return -1;
#endif
    return gn__sock_nosigpipe(fd);
}

/* One connection from listener fd lfd, set up like gn__socket's: its fd, or -1
 * and errno. A connection that cannot be set up is lost to us as if the peer
 * had aborted it (macOS refuses options on a socket already reset), and is
 * reported so: the accept loop moves on to the next.                          */
static inline int gn__sock_accept(int lfd) {
#if GN__OS_DARWIN
    int fd = gn__sys_accept(lfd);
    if (fd >= 0 && gn__sock_setup(fd) != 0) {
        gn__sys_close(fd);
        errno = ECONNABORTED;
        return -1;
    }
    return fd;
#else
    return gn__sys_accept4(lfd, GN__SOCK_NEWFL);
#endif
}

/* The most buffers one writev or sendmsg takes. IOV_MAX is 1024 on each of
 * these systems, but a strict feature-test setting hides it on some.        */
#if defined(IOV_MAX)
#  define GN__IOV_MAX IOV_MAX
#else
#  define GN__IOV_MAX 1024
#endif

/* Keep-alive timing. macOS spells the idle time TCP_KEEPALIVE; OpenBSD has no
 * per-socket timing at all (only the system-wide sysctls net.inet.tcp.keepidle
 * and keepintvl), so there SO_KEEPALIVE is all gn_set_keepalive sets.        */
#if defined(TCP_KEEPIDLE)
#  define GN__TCP_KEEPIDLE TCP_KEEPIDLE
#elif defined(TCP_KEEPALIVE)
#  define GN__TCP_KEEPIDLE TCP_KEEPALIVE
#endif

/* Several listeners on one port. Linux spreads new connections over them;
 * FreeBSD does so only with SO_REUSEPORT_LB (12.0 on), so that is what we ask
 * for there; DragonFly spreads them or not by a system-wide setting. macOS,
 * OpenBSD and NetBSD let the listeners share the port but hand every
 * connection to one of them: there several listeners do not share the load. */
#if defined(SO_REUSEPORT_LB)
#  define GN__SO_REUSEPORT SO_REUSEPORT_LB
#else
#  define GN__SO_REUSEPORT SO_REUSEPORT
#endif

/* OpenBSD and DragonFly refuse IPV6_V6ONLY=0: an IPv6 socket never carries
 * IPv4. For ":port" over "tcp" or "udp", Go then takes the IPv4 wildcard
 * alone, and net.c does the same (it puts IPv4 first).                       */
#if defined(__OpenBSD__) || defined(__DragonFly__)
#  define GN__NO_V4MAPPED 1
#endif

/* Joins or leaves IPv4 group a4 on interface ifname (index ifindex; NULL, 0:
 * the system's choice). Linux takes the index in an ip_mreqn; macOS and
 * FreeBSD (and any system with RFC 3678's calls) in a group_req; OpenBSD and
 * NetBSD only in the older ip_mreq, by one of the interface's IPv4 addresses,
 * as Go does there. 0 or an error.                                           */
GN__PRIVATE int gn__sock_group4(int fd, struct in_addr a4, const char *ifname, unsigned ifindex, int join) {
    int rc;
#if GN__OS_LINUX
    (void)ifname;
    struct ip_mreqn m;
    memset(&m, 0, sizeof m);
    m.imr_multiaddr = a4;
    m.imr_ifindex = (int)ifindex;
    rc = gn__sys_setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
#elif defined(MCAST_JOIN_GROUP)
    (void)ifname;
    struct group_req g;
    memset(&g, 0, sizeof g);
    g.gr_interface = ifindex;
    struct sockaddr_in *sin = (struct sockaddr_in *)&g.gr_group;
    sin->sin_family = AF_INET;
    sin->sin_len = sizeof *sin;   /* a BSD sockaddr carries its length        */
    sin->sin_addr = a4;
    rc = gn__sys_setsockopt(fd, IPPROTO_IP, join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP, &g, sizeof g);
#else
    (void)ifindex;
    struct ip_mreq m;
    memset(&m, 0, sizeof m);
    m.imr_multiaddr = a4;
    m.imr_interface.s_addr = htonl(INADDR_ANY);
    if (ifname) {
        struct ifaddrs *list, *ifa;
        if (getifaddrs(&list) != 0) return gn__err_from_errno(errno);
        int found = 0;
        for (ifa = list; ifa && !found; ifa = ifa->ifa_next) {
            if (ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_INET && strcmp(ifa->ifa_name, ifname) == 0) {
                m.imr_interface = ((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
                found = 1;
            }
        }
        freeifaddrs(list);
        if (!found) return -EADDRNOTAVAIL;   /* an interface without IPv4 */
    }
    rc = gn__sys_setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
#endif
    return rc == 0 ? 0 : gn__err_from_errno(errno);
}

typedef int gn__sock;
#define GN__SOCK_INVALID (-1)
/* A buffer of a gathered write: struct iovec itself, so writev takes it as is. */
typedef struct iovec gn__iov;
GN__PRIVATE gn__iov *gn__iov_advance(gn__iov *iov, int *n, size_t done);   /* net.c */

typedef struct gn__fd {
    gn__sock  fd;
    int       family, type;         /* AF_*, SOCK_STREAM / SOCK_DGRAM              */
    int       is_socket;
    gn__pd   *pd;                   /* NULL: not pollable (a regular file)         */
    uint32_t  refs;                 /* atomic: the owner's + one per operation     */
    uint32_t  closed;               /* atomic                                       */
    uint32_t  drained;              /* atomic: the last read was short             */
    gn_mutex  rmu, wmu;             /* one reader, one writer at a time             */
    void    (*on_close)(void *);    /* atomic: called by the first close (the HTTP
                                     * server tracks hijacked connections so)      */
    void     *on_close_arg;
    uint32_t  on_close_taken;       /* atomic: whoever sets it to 1 calls on_close */
} gn__fd;

/* The error of the socket call that just failed, as a return code.              */
GN__PRIVATE int gn__sock_error(void) { return gn__err_from_errno(errno); }

GN__PRIVATE void gn__sock_close(gn__sock s) {
    int saved = errno;
    gn__sys_close(s);
    errno = saved;
}

/* ---- the fd core ------------------------------------------------------------------ */
GN__PRIVATE int gn__fd_init(gn__fd *f, gn__sock fd, int family, int type) {
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->family = family;
    f->type = type;
    f->refs = 1;
    int st = 0;
    socklen_t len = sizeof st;
    /* A family means the runtime made the socket; only a descriptor handed in
     * (gn_conn_from_fd) needs asking. Taken for a file, a socket would be
     * written without MSG_NOSIGNAL, and a gone peer would kill the process.   */
    f->is_socket = family != AF_UNSPEC || gn__sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &len) == 0;
    f->pd = gn__pd_alloc();
    if (!f->pd) return GN_ENOMEM;
    f->pd->fd = fd;
    int rc = gn__netpoll_arm(f->pd);
    if (rc == -EPERM) {   /* regular files and the like: always ready, never polled */
        gn__pd_release(f->pd);
        f->pd = NULL;
        rc = 0;
    } else if (rc < 0) {
        gn__pd_release(f->pd);
        f->pd = NULL;
    }
    return rc;
}

GN__PRIVATE void gn__fd_destroy(gn__fd *f) {
    if (f->pd) {
        gn__netpoll_disarm(f->pd);
        gn__pd_retire(f->pd);
        gn__pd_release(f->pd);
    }
    gn__sock_close(f->fd);
}

/* Waits for readiness; without a pd (not pollable) there is nothing to wait for. */
GN__PRIVATE int gn__fd_wait(gn__fd *f, int mode) {
    if (!f->pd) return 0;
    return gn__pd_wait(f->pd, mode);
}

GN__PRIVATE int gn__fd_check(gn__fd *f, int mode) {
    if (gn__load(&f->closed)) return GN_ECLOSED;
    return f->pd ? gn__pd_check(f->pd, mode) : 0;
}

GN__PRIVATE int64_t gn__fd_read(gn__fd *f, void *buf, size_t n) {
    for (;;) {
        int err = gn__fd_check(f, 'r');
        if (err) return err;
        if (n == 0) return 0;   /* as Go: an empty read never blocks */
        /* The last read came back short, so the socket was empty: wait for the
         * edge rather than pay a read that returns EAGAIN. Not after a hang-up:
         * end of stream or an error arrives with the data and no edge follows. */
        if (f->pd && gn__load_relaxed(&f->drained)) {
            gn__store_relaxed(&f->drained, 0u);
            if (!gn__load(&f->pd->hup) && (err = gn__fd_wait(f, 'r')) != 0) return err;
        }
        ssize_t r = gn__sys_read(f->fd, buf, n);
        if (r > 0) {
            if ((size_t)r < n && f->type == SOCK_STREAM) gn__store_relaxed(&f->drained, 1u);
            return r;
        }
        if (r == 0) return f->type == SOCK_STREAM ? GN_EOF : 0;   /* an empty datagram */
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(f, 'r')) != 0) return err;
    }
}

GN__PRIVATE int64_t gn__fd_write(gn__fd *f, const void *buf, size_t n) {
    size_t done = 0;
    int once = f->type != SOCK_STREAM;   /* a datagram goes out even when empty */
    while (done < n || once) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        ssize_t w = f->is_socket ? gn__sys_send(f->fd, (const char *)buf + done, n - done, GN__MSG_NOSIGNAL)
                                 : gn__sys_write(f->fd, (const char *)buf + done, n - done);
        if (w >= 0) {
            done += (size_t)w;
            once = 0;
            continue;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(f, 'w')) != 0) return err;
    }
    return (int64_t)n;
}

/* Writes the iovecs in order, all of them or an error, in as few system calls
 * as the socket allows (a response head and its body go out in one). iov is
 * consumed: its entries are advanced past what was written.                   */
GN__PRIVATE int64_t gn__fd_writev(gn__fd *f, gn__iov *iov, int n) {
    int64_t total = 0;
    while (n > 0 && iov[0].iov_len == 0) { iov++; n--; }
    while (n > 0) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        ssize_t w;
        if (f->is_socket) {   /* sendmsg, for MSG_NOSIGNAL: a gone peer is EPIPE, not a signal */
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = iov;
            mh.msg_iovlen = (size_t)(n > GN__IOV_MAX ? GN__IOV_MAX : n);
            w = gn__sys_sendmsg(f->fd, &mh, GN__MSG_NOSIGNAL);
        } else {
            w = gn__sys_writev(f->fd, iov, n > GN__IOV_MAX ? GN__IOV_MAX : n);
        }
        if (w < 0) {
            int e = errno;
            if (e == EINTR) continue;
            if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
            if ((err = gn__fd_wait(f, 'w')) != 0) return err;
            continue;
        }
        total += w;
        iov = gn__iov_advance(iov, &n, (size_t)w);
    }
    return total;
}

/* ---- sockets --------------------------------------------------------------------- */
/* A non-blocking, close-on-exec socket in *out; 0 or an error.                    */
GN__PRIVATE int gn__socket(int family, int type, int protocol, gn__sock *out) {
    int fd = gn__sys_socket(family, type | GN__SOCK_NEWFL, protocol);
    if (fd < 0) return gn__sock_error();
    if (gn__sock_setup(fd) != 0) {
        int rc = gn__sock_error();
        gn__sock_close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/* Options a listening (stream) or bound (datagram) socket gets before bind:
 * address reuse, so that a restarted server need not wait out TIME_WAIT.      */
GN__PRIVATE int gn__sock_listen_opts(gn__sock fd, int family, int reuse_port) {
    int one = 1;
    if (family != AF_UNIX) gn__sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) gn__sys_setsockopt(fd, SOL_SOCKET, GN__SO_REUSEPORT, &one, sizeof one);
    return 0;
}

GN__PRIVATE void gn__sock_unlink(const char *path) { unlink(path); }

/* Linux's accept hands over errors pending on the new connection, which say
 * nothing of the listener; its manual asks to retry them as EAGAIN. Left to
 * the caller, one client's broken network would stop a server accepting.      */
GN__PRIVATE int gn__accept_retry(int e) {
    switch (e) {
    case EPROTO: case ENOPROTOOPT: case ENETDOWN: case ENETUNREACH: case EHOSTUNREACH:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENONET
    case ENONET:
#endif
        return 1;
    default:
        return 0;
    }
}

/* One connection from listener l in *out (non-blocking, close-on-exec): 0, or
 * an error (out of descriptors included: the caller backs off).                */
GN__PRIVATE int gn__fd_accept(gn__fd *l, gn__sock *out) {
    for (;;) {
        int err = gn__fd_check(l, 'r');
        if (err) return err;
        int fd = gn__sock_accept(l->fd);
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED || gn__accept_retry(e)) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(l, 'r')) != 0) return err;
    }
}

/* Connects f to sa and waits until it is connected, refused, or its write
 * deadline passes. 0 or an error.                                             */
GN__PRIVATE int gn__fd_connect(gn__fd *f, const struct sockaddr *sa, socklen_t salen) {
    int fd = f->fd, rc = 0;
    int r;
    /* Interrupted, the attempt may go on in the kernel or never have begun:
     * asking again tells (EALREADY: under way; EISCONN: done).               */
    while ((r = gn__sys_connect(fd, sa, salen)) != 0 && errno == EINTR) {}
    if (r != 0 && errno == EISCONN) r = 0;
    if (r != 0 && errno != EINPROGRESS && errno != EALREADY) rc = gn__err_from_errno(errno);
    if (r != 0 && rc == 0) {
        for (;;) {
            if ((rc = gn__fd_wait(f, 'w')) != 0) break;
            int err = 0;
            socklen_t len = sizeof err;
            if (gn__sys_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err == EINPROGRESS || err == EALREADY || err == EINTR) continue;
            if (err == 0) {
                /* Writable is not connected: an fd registered before connect
                 * may report an early event. Connected means it has a peer.  */
                struct sockaddr_storage ls, rs;
                socklen_t ll = sizeof ls, rl = sizeof rs;
                if (getpeername(fd, (struct sockaddr *)&rs, &rl) != 0) {
                    if (errno == ENOTCONN) continue;
                    err = errno;
                } else if (f->family != AF_UNIX && getsockname(fd, (struct sockaddr *)&ls, &ll) == 0 &&
                           ll == rl && memcmp(&ls, &rs, ll) == 0) {
                    err = ECONNREFUSED;   /* connected to itself: no listener there */
                } else {
                    break;
                }
            }
            rc = gn__err_from_errno(err);
            break;
        }
    }
    /* The hang-up an unconnected socket reports when it is registered is over. */
    if (rc == 0 && f->pd) gn__store(&f->pd->hup, 0u);
    return rc;
}

/* One datagram into buf, its sender in *ss: the length, or an error.           */
GN__PRIVATE int64_t gn__fd_recvfrom(gn__fd *f, void *buf, size_t n, struct sockaddr_storage *ss, socklen_t *len) {
    for (;;) {
        int64_t rc = gn__fd_check(f, 'r');
        if (rc) return rc;
        *len = sizeof *ss;
        ssize_t r = gn__sys_recvfrom(f->fd, buf, n, 0, (struct sockaddr *)ss, len);
        if (r >= 0) return r;
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((rc = gn__fd_wait(f, 'r')) != 0) return rc;
    }
}

GN__PRIVATE int64_t gn__fd_sendto(gn__fd *f, const void *buf, size_t n, const struct sockaddr *sa, socklen_t len) {
    for (;;) {
        int64_t rc = gn__fd_check(f, 'w');
        if (rc) return rc;
        ssize_t w = gn__sys_sendto(f->fd, buf, n, GN__MSG_NOSIGNAL, sa, len);
        if (w >= 0) return w;
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((rc = gn__fd_wait(f, 'w')) != 0) return rc;
    }
}

/* ---- a connection without a coroutine (see net.c, gn__conn_park_idle) ------------ */
GN__PRIVATE int gn__fd_park_idle(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc == 0) rc = 1;
    if (rc == 1 && f->pd && gn__load_relaxed(&f->drained) && !gn__load(&f->pd->hup)) {
        gn__store_relaxed(&f->drained, 0u);   /* whoever runs next reads first */
        rc = gn__pd_spawn_on_read(f->pd, fn, arg);
        if (rc == 1 && f->is_socket) {
            /* Readiness was recorded, but the last read came back short: it may
             * predate that read (an fd registered with bytes waiting, a read
             * that did not wait). Look before holding a buffer for nothing.   */
            char b;
            ssize_t k = gn__sys_recv(f->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
            if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                rc = gn__pd_spawn_on_read(f->pd, fn, arg);
        }
    }
    return rc;
}

/* A connection nothing has been read from yet (just accepted). Arming an fd
 * that is already readable reports it at once (epoll and kqueue give a first
 * edge, poll() is level-triggered), so the pd alone knows: no read need find
 * EAGAIN first, and no peek is needed, since no read can have taken the bytes
 * behind a recorded READY.                                                    */
GN__PRIVATE int gn__fd_park_new(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc) return rc;
    if (!f->pd || gn__load(&f->pd->hup)) return 1;
    return gn__pd_spawn_on_read(f->pd, fn, arg);
}

GN__PRIVATE int gn__fd_watch(gn__fd *f, void (*fn)(void *), void *arg) {
    if (!f->pd) return GN_ENOSYS;
    gn__store_relaxed(&f->drained, 0u);
    return gn__pd_spawn_on_read(f->pd, fn, arg);
}
GN__PRIVATE int gn__fd_unwatch(gn__fd *f) { return f->pd ? gn__pd_spawn_cancel(f->pd) : 0; }
/* shutdown wakes a blocked reader (end of file) and writer (EPIPE) by itself. */
GN__PRIVATE void gn__fd_cut(gn__fd *f) {
    int saved = errno;
    gn__sys_shutdown(f->fd, SHUT_RDWR);
    errno = saved;
}
/* What the poller saw: no system call.                                          */
GN__PRIVATE int gn__fd_hung_up(gn__fd *f) {
    return gn__load(&f->closed) || (f->pd && (gn__load(&f->pd->hup) || gn__load(&f->pd->closing)));
}

/* ---- options that differ by OS ------------------------------------------------------ */
/* The idle time before the first probe and between probes, where the system
 * lets a socket choose them (see GN__TCP_KEEPIDLE).                           */
GN__PRIVATE int gn__sock_keepalive(gn__sock fd, int secs) {
#if defined(GN__TCP_KEEPIDLE)
    if (gn__sys_setsockopt(fd, IPPROTO_TCP, GN__TCP_KEEPIDLE, &secs, sizeof secs) != 0) return gn__sock_error();
#endif
#if defined(TCP_KEEPINTVL)
    if (gn__sys_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof secs) != 0) return gn__sock_error();
#endif
    (void)fd;
    (void)secs;
    return 0;
}

GN__PRIVATE int gn__sock_group(gn__sock fd, const char *group, const char *ifname, int join) {
    unsigned ifindex = ifname ? if_nametoindex(ifname) : 0;
    if (ifname && !ifindex) return GN_EINVAL;
    struct in_addr a4;
    struct in6_addr a6;
    int rc;
    if (inet_pton(AF_INET, group, &a4) == 1) {
        return gn__sock_group4(fd, a4, ifname, ifindex, join);
    } else if (inet_pton(AF_INET6, group, &a6) == 1) {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = a6;
        m.ipv6mr_interface = ifindex;
        rc = gn__sys_setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &m, sizeof m);
    } else {
        return GN_EINVAL;
    }
    return rc == 0 ? 0 : gn__sock_error();
}

/* gn_conn_from_fd's OS part: any descriptor (a socket, a pipe, a file), made
 * non-blocking; its family and type if it is a socket.                          */
GN__PRIVATE int gn__conn_wrap_os(int fd, gn__sock *s, int *family, int *type) {
    if (fd < 0) return GN_EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return gn__err_from_errno(errno);
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return gn__err_from_errno(errno);
    *family = AF_UNSPEC;
    *type = SOCK_STREAM;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) *family = ss.ss_family;
    int st = 0;
    socklen_t sl = sizeof st;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &sl) == 0) {
        *type = st;
        if (gn__sock_nosigpipe(fd) != 0) return gn__err_from_errno(errno);
    }
    *s = fd;
    return 0;
}

#endif /* !GN__POLL_IOCP */
/* ==== end src/net_posix.c ==== */

/* ==== begin src/net_windows.c ==== */
/* net_windows.c — socket I/O on Windows: the part of net.c that differs by OS,
 * over overlapped Winsock calls completed through the IOCP poller
 * (poll_iocp.c). The same operations as net_posix.c (see its top comment).
 *
 * Every operation is one overlapped call on the socket's read or write op:
 * WSARecv, WSASend, AcceptEx, ConnectEx, WSARecvFrom, WSASendTo. One that
 * succeeds at once (and whose socket skips the port on success) is done;
 * otherwise the coroutine parks until the completion arrives, or until a
 * deadline or a close wakes it, in which case it cancels the op with
 * CancelIoEx and still waits for the completion before the OVERLAPPED and the
 * buffer (often on its stack) are let go. A cancel that loses the race to the
 * completion returns what was done, as Go does.
 *
 * An idle connection (gn__conn_park_idle) and a request's watch for the peer
 * going away (gn__conn_watch) start a zero-byte WSARecv: it completes when
 * bytes or the end of the stream arrive, without taking any, and starts the
 * armed coroutine (pd SPAWN) from the poller. Whoever reads next finds that
 * op done, or waits for it (a watch taken back leaves it in flight); a
 * deadline or a close cancels it.
 * Hang-up (gn__conn_hung_up): completion mode keeps no readiness state to
 * look at, so it asks the socket: readable (select, no wait) with nothing to
 * read (FIONREAD) means the peer's FIN or an error. One or two system calls,
 * but only when the watch fires and when the HTTP client takes an idle
 * connection from its pool; answering "unknown" instead would send a request
 * down a connection the server closed, and cancel no handler's context.
 *
 * gn_conn_fd / gn_conn_from_fd pass the SOCKET as an int: socket handles are
 * 32-bit significant on 64-bit Windows (the rule that lets 32- and 64-bit
 * processes share handles), so (int)s and (SOCKET)(intptr_t)fd round-trip and
 * INVALID_SOCKET is -1. Only sockets can be wrapped (not pipes or files), and
 * they must allow overlapped I/O (socket() and WSA_FLAG_OVERLAPPED ones do).
 *
 * Unix-domain sockets are AF_UNIX from afunix.h (Windows 10 1803 and later);
 * where the system lacks them, "unix" calls return GN_ENOSYS. Stream only:
 * Windows has no unixgram. They connect with a plain connect() (no ConnectEx
 * for them; a local connect does not wait on a network).
 *
 * >>net-windows                                                                  */
#if GN__OS_WINDOWS && !GN__POLL_IOCP
#  error "gonet.h: on Windows the IOCP poller is the only one (do not force GN_POLL_POLL or GN_POLL_KQUEUE)"
#endif
#if GN__POLL_IOCP

#include <afunix.h>
#include <mstcpip.h>

typedef SOCKET gn__sock;
#define GN__SOCK_INVALID INVALID_SOCKET

/* A buffer of a gathered write, laid out as WSABUF (length first, unlike
 * struct iovec) so that an array of them goes to WSASend as it is; the field
 * names are iovec's, so code that fills them is the same on every OS.        */
typedef struct gn__iov {
    ULONG iov_len;
    void *iov_base;
} gn__iov;
GN__PRIVATE gn__iov *gn__iov_advance(gn__iov *iov, int *n, size_t done);   /* net.c */
typedef char gn__iov_is_wsabuf[(sizeof(gn__iov) == sizeof(WSABUF) &&
                                offsetof(gn__iov, iov_len) == offsetof(WSABUF, len) &&
                                offsetof(gn__iov, iov_base) == offsetof(WSABUF, buf)) ? 1 : -1];
#define GN__IOV_MAX 1024

#ifndef SHUT_RD
#  define SHUT_RD   SD_RECEIVE
#  define SHUT_WR   SD_SEND
#  define SHUT_RDWR SD_BOTH
#endif

/* What AcceptEx writes besides the data it is not asked for: both addresses,
 * each with 16 bytes to spare, as its documentation requires.                  */
#define GN__ACCEPT_ADDR (sizeof(struct sockaddr_storage) + 16)

typedef struct gn__fd {
    gn__sock  fd;
    int       family, type;         /* AF_*, SOCK_STREAM / SOCK_DGRAM              */
    gn__pd   *pd;
    uint32_t  refs;                 /* atomic: the owner's + one per operation     */
    uint32_t  closed;               /* atomic                                       */
    int       skip;                 /* a success at once queues no completion      */
    int       nonblock;             /* a listener set non-blocking for accept()     */
    gn__iocp_sock *io;              /* the overlapped ops; may outlive the fd       */
    char     *accept_buf;           /* a listener's AcceptEx address area          */
    gn_mutex  rmu, wmu;             /* one reader, one writer at a time             */
    void    (*on_close)(void *);    /* atomic: called by the first close (the HTTP
                                     * server tracks hijacked connections so)      */
    void     *on_close_arg;
    uint32_t  on_close_taken;       /* atomic: whoever sets it to 1 calls on_close */
} gn__fd;

/* The error of the socket call that just failed, as a return code.              */
GN__PRIVATE int gn__sock_error(void) { return gn__err_from_wsa(WSAGetLastError()); }

GN__PRIVATE void gn__sock_close(gn__sock s) {
    GN__OS_KEEP_BEGIN
    closesocket(s);
    GN__OS_KEEP_END
}

/* AcceptEx and ConnectEx are looked up at run time (mswsock's exports only
 * forward to the base provider's, and cost a lookup per call).                 */
static LPFN_ACCEPTEX  gn__win_acceptex;
static LPFN_CONNECTEX gn__win_connectex;

GN__PRIVATE int gn__win_ext(gn__sock s, GUID id, void *fn, size_t fnsize) {
    DWORD got = 0;
    if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, fn, (DWORD)fnsize, &got, NULL, NULL) != 0)
        return gn__sock_error();
    return 0;
}

/* ---- the fd core ------------------------------------------------------------------ */
GN__PRIVATE int gn__fd_init(gn__fd *f, gn__sock fd, int family, int type) {
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->family = family;
    f->type = type;
    f->refs = 1;
    f->io = gn__iocp_sock_new();
    if (!f->io) return GN_ENOMEM;
    f->pd = gn__pd_alloc();
    if (!f->pd) {
        gn__iocp_sock_put(f->io);
        return GN_ENOMEM;
    }
    f->pd->fd = (int)fd;
    int rc = gn__iocp_arm(fd, family, &f->skip);
    if (rc < 0) {
        gn__pd_release(f->pd);
        gn__iocp_sock_put(f->io);
        f->pd = NULL;
        f->io = NULL;
    }
    return rc;
}

/* The last reference: no operation runs, but an idle read may be in flight;
 * closing the socket aborts it and its completion frees the ops.              */
GN__PRIVATE void gn__fd_destroy(gn__fd *f) {
    gn__pd_retire(f->pd);
    gn__sock_close(f->fd);
    gn__pd_release(f->pd);
    gn__iocp_sock_put(f->io);
    GN_FREE(f->accept_buf);
}

GN__PRIVATE int gn__fd_check(gn__fd *f, int mode) {
    if (gn__load(&f->closed)) return GN_ECLOSED;
    return gn__pd_check(f->pd, mode);
}

/* Cancels op if it is still in flight and waits for its completion.            */
GN__PRIVATE void gn__win_drain(gn__fd *f, gn__iocp_op *op) {
    if (!gn__load(&op->busy)) return;
    CancelIoEx((HANDLE)f->fd, &op->ov);
    gn__iocp_wait_done(op);
}

/* After an overlapped call on op (ok: it returned success): waits for the
 * result as the top of this file says. 0 with *bytes, or an error.            */
GN__PRIVATE int gn__win_await(gn__fd *f, gn__iocp_op *op, int ok, DWORD *bytes) {
    if (!ok) {
        int e = WSAGetLastError();
        if (e != WSA_IO_PENDING) {
            gn__iocp_op_done_now(op);
            return gn__err_from_wsa(e);
        }
    } else if (f->skip) {
        *bytes = op->sync_bytes;
        gn__iocp_op_done_now(op);
        return 0;
    }
    int why = 0;
    while (gn__load(&op->busy)) {
        int err = gn__pd_wait(f->pd, op->mode);
        if (!gn__load(&op->busy)) break;
        if (err) {
            why = err;
            gn__win_drain(f, op);
        }
    }
    if (op->status == 0) {
        *bytes = op->bytes;
        return 0;
    }
    DWORD n = 0, fl = 0;
    if (WSAGetOverlappedResult(f->fd, &op->ov, &n, FALSE, &fl)) {
        *bytes = n;
        return 0;
    }
    int e = WSAGetLastError();
    if (why && e == WSA_OPERATION_ABORTED) return why;
    *bytes = op->bytes;
    return gn__err_from_wsa(e);
}

/* A zero-byte read left in flight (a watch taken back, see gn__fd_unwatch) is
 * waited for rather than cancelled: it ends when bytes arrive, which is what
 * the read that follows waits for anyway, and costs no CancelIoEx. A deadline
 * or a close cancels it. 0 (go on and read), or why not.                    */
GN__PRIVATE int gn__win_await_probe(gn__fd *f, gn__iocp_op *op) {
    while (gn__load(&op->busy)) {
        int err = gn__pd_wait(f->pd, 'r');
        if (!gn__load(&op->busy)) break;
        if (err) {
            gn__win_drain(f, op);
            return err;
        }
    }
    return gn__fd_check(f, 'r');
}

/* A read into a datagram buffer too small for the datagram: what fits, as a
 * POSIX recv gives (Winsock fails it with WSAEMSGSIZE).                      */
#define GN__WIN_TRUNCATED(f, rc) ((rc) == -EMSGSIZE && (f)->type != SOCK_STREAM)

/* A read's error as POSIX names it: after close_read a stream is at its end
 * (Winsock says WSAESHUTDOWN), and so it is after gn__fd_cut cancelled the
 * read (GN_ECANCELED: a deadline or close says its own reason instead); a
 * datagram's "connection reset" is the ICMP port unreachable that POSIX
 * reports as ECONNREFUSED.                                                    */
GN__PRIVATE int gn__win_read_err(gn__fd *f, int err) {
    if (f->type == SOCK_STREAM) return err == -EPIPE || err == GN_ECANCELED ? GN_EOF : err;
    return err == -ECONNRESET ? -ECONNREFUSED : err;
}

GN__PRIVATE ULONG gn__win_len(size_t n) { return n > (1u << 30) ? (1u << 30) : (ULONG)n; }

GN__PRIVATE int64_t gn__fd_read(gn__fd *f, void *buf, size_t n) {
    int err = gn__fd_check(f, 'r');
    if (err) return err;
    if (n == 0) return 0;   /* as Go: an empty read never blocks */
    gn__iocp_op *op = &f->io->r;
    if (gn__load(&op->busy) && (err = gn__win_await_probe(f, op)) != 0) return err;
    WSABUF b;
    b.len = gn__win_len(n);
    b.buf = (char *)buf;
    op->flags = 0;
    gn__iocp_op_start(op, f->pd);
    int ok = WSARecv(f->fd, &b, 1, &op->sync_bytes, &op->flags, &op->ov, NULL) == 0;
    DWORD got = 0;
    err = gn__win_await(f, op, ok, &got);
    if (GN__WIN_TRUNCATED(f, err)) return (int64_t)b.len;
    if (err) return gn__win_read_err(f, err);
    if (got == 0) return f->type == SOCK_STREAM ? GN_EOF : 0;   /* an empty datagram */
    return (int64_t)got;
}

/* Writes the buffers in order, all of them or an error (see net_posix.c).      */
GN__PRIVATE int64_t gn__fd_writev(gn__fd *f, gn__iov *iov, int n) {
    int64_t total = 0;
    int once = f->type != SOCK_STREAM;   /* a datagram goes out even when empty */
    while (n > 0 && iov[0].iov_len == 0 && !once) { iov++; n--; }
    gn__iocp_op *op = &f->io->w;
    while (n > 0 || once) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        gn__iocp_op_start(op, f->pd);
        int ok = WSASend(f->fd, (WSABUF *)(void *)iov, (DWORD)(n > GN__IOV_MAX ? GN__IOV_MAX : n),
                         &op->sync_bytes, 0, &op->ov, NULL) == 0;
        DWORD w = 0;
        if ((err = gn__win_await(f, op, ok, &w)) != 0) return err == GN_ECANCELED ? -EPIPE : err;   /* cut */
        once = 0;
        total += w;
        iov = gn__iov_advance(iov, &n, (size_t)w);
    }
    return total;
}

GN__PRIVATE int64_t gn__fd_write(gn__fd *f, const void *buf, size_t n) {
    size_t done = 0;
    do {
        gn__iov one;
        one.iov_base = (char *)(uintptr_t)buf + done;
        one.iov_len = gn__win_len(n - done);
        int64_t w = gn__fd_writev(f, &one, 1);
        if (w < 0) return w;
        done += (size_t)w;
    } while (done < n);
    return (int64_t)n;
}

/* ---- sockets --------------------------------------------------------------------- */
/* An ICMP "port unreachable" for an earlier send fails the next receive of a
 * UDP socket with WSAECONNRESET, connected or not. POSIX reports it only on a
 * connected socket (as ECONNREFUSED): so off, and on again by connect.        */
GN__PRIVATE void gn__win_udp_connreset(gn__sock s, BOOL on) {
    DWORD got = 0;
    WSAIoctl(s, SIO_UDP_CONNRESET, &on, sizeof on, NULL, 0, &got, NULL, NULL);
}

/* An overlapped, non-inheritable socket in *out; 0 or an error. A family the
 * system lacks (AF_UNIX before Windows 10 1803) is GN_ENOSYS.                 */
GN__PRIVATE int gn__socket(int family, int type, int protocol, gn__sock *out) {
    if (family == AF_UNIX && type != SOCK_STREAM) return GN_ENOSYS;
    gn__sock s = WSASocketW(family, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        int e = WSAGetLastError();
        return family == AF_UNIX && (e == WSAEAFNOSUPPORT || e == WSAEPFNOSUPPORT) ? GN_ENOSYS : gn__err_from_wsa(e);
    }
    if (type == SOCK_DGRAM) gn__win_udp_connreset(s, FALSE);
    *out = s;
    return 0;
}

/* No SO_REUSEADDR: on Windows it lets another socket take over a port in use,
 * while a restarted server binds at once anyway. No SO_REUSEPORT either.     */
GN__PRIVATE int gn__sock_listen_opts(gn__sock fd, int family, int reuse_port) {
    (void)fd;
    (void)family;
    return reuse_port ? GN_ENOSYS : 0;
}

GN__PRIVATE void gn__sock_unlink(const char *path) { DeleteFileA(path); }

/* One connection from listener l in *out: 0, or an error (out of sockets
 * included: the caller backs off). Connections already queued are taken with
 * a non-blocking accept(), as on POSIX: a burst of them costs one call each,
 * with no trip through the port (AcceptEx may pend even then). The socket it
 * makes has the listener's properties, overlapped I/O included. Only when the
 * queue is empty does an AcceptEx wait.                                        */
GN__PRIVATE int gn__fd_accept(gn__fd *l, gn__sock *out) {
    for (;;) {
        int err = gn__fd_check(l, 'r');
        if (err) return err;
        if (!l->nonblock) {
            u_long on = 1;
            l->nonblock = ioctlsocket(l->fd, FIONBIO, &on) == 0 ? 1 : -1;
        }
        if (l->nonblock > 0) {
            gn__sock s = accept(l->fd, NULL, NULL);
            if (s != INVALID_SOCKET) {
                *out = s;
                return 0;
            }
            err = gn__sock_error();
            if (err == -ECONNRESET || err == -ECONNABORTED) continue;   /* gone before accepted */
            if (err != GN_EAGAIN) return err;
        }
        if (!gn__load_relaxed(&gn__win_acceptex)) {
            LPFN_ACCEPTEX fn = NULL;
            GUID id = WSAID_ACCEPTEX;
            if ((err = gn__win_ext(l->fd, id, &fn, sizeof fn)) != 0) return err;
            gn__store_relaxed(&gn__win_acceptex, fn);
        }
        if (!l->accept_buf && !(l->accept_buf = (char *)GN_MALLOC(2 * GN__ACCEPT_ADDR))) return GN_ENOMEM;
        gn__sock s;
        if ((err = gn__socket(l->family, SOCK_STREAM, 0, &s)) != 0) return err;
        gn__iocp_op *op = &l->io->r;
        gn__iocp_op_start(op, l->pd);
        int ok = gn__win_acceptex(l->fd, s, l->accept_buf, 0, (DWORD)GN__ACCEPT_ADDR, (DWORD)GN__ACCEPT_ADDR,
                                  &op->sync_bytes, &op->ov) != FALSE;
        DWORD got = 0;
        err = gn__win_await(l, op, ok, &got);
        if (err == 0 && setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char *)&l->fd, sizeof l->fd) != 0)
            err = gn__sock_error();
        if (err == 0) {
            *out = s;
            return 0;
        }
        gn__sock_close(s);
        if (err != -ECONNRESET && err != -ECONNABORTED) return err;   /* gone before accepted: next */
    }
}

/* Connects f to sa and waits until it is connected, refused, or its write
 * deadline passes. 0 or an error.                                             */
GN__PRIVATE int gn__fd_connect(gn__fd *f, const struct sockaddr *sa, socklen_t salen) {
    if (f->type != SOCK_STREAM || f->family == AF_UNIX) {
        if (f->type == SOCK_DGRAM) gn__win_udp_connreset(f->fd, TRUE);
        return connect(f->fd, sa, salen) == 0 ? 0 : gn__sock_error();
    }
    int err;
    if (!gn__load_relaxed(&gn__win_connectex)) {
        LPFN_CONNECTEX fn = NULL;
        GUID id = WSAID_CONNECTEX;
        if ((err = gn__win_ext(f->fd, id, &fn, sizeof fn)) != 0) return err;
        gn__store_relaxed(&gn__win_connectex, fn);
    }
    /* ConnectEx wants a bound socket: the wildcard address, any port.          */
    struct sockaddr_storage any;
    memset(&any, 0, sizeof any);
    any.ss_family = (ADDRESS_FAMILY)f->family;
    int anylen = f->family == AF_INET6 ? (int)sizeof(struct sockaddr_in6) : (int)sizeof(struct sockaddr_in);
    if (bind(f->fd, (struct sockaddr *)&any, anylen) != 0) return gn__sock_error();
    if ((err = gn__fd_check(f, 'w')) != 0) return err;
    gn__iocp_op *op = &f->io->w;
    gn__iocp_op_start(op, f->pd);
    int ok = gn__win_connectex(f->fd, sa, salen, NULL, 0, &op->sync_bytes, &op->ov) != FALSE;
    DWORD got = 0;
    if ((err = gn__win_await(f, op, ok, &got)) != 0) return err;
    /* Until told, the socket does not know it is connected (getpeername,
     * shutdown and the like fail).                                              */
    if (setsockopt(f->fd, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0) return gn__sock_error();
    return 0;
}

/* One datagram into buf, its sender in *ss: the length, or an error.           */
GN__PRIVATE int64_t gn__fd_recvfrom(gn__fd *f, void *buf, size_t n, struct sockaddr_storage *ss, socklen_t *len) {
    int err = gn__fd_check(f, 'r');
    if (err) return err;
    gn__iocp_op *op = &f->io->r;
    if (gn__load(&op->busy)) {
        gn__win_drain(f, op);
        if ((err = gn__fd_check(f, 'r')) != 0) return err;
    }
    /* Both the address and its length are written when the op completes: they
     * stay on this coroutine's stack, which outlives the op (it is waited for). */
    INT alen = (INT)sizeof *ss;
    char dummy;
    WSABUF b;
    b.len = gn__win_len(n);
    b.buf = n ? (char *)buf : &dummy;
    op->flags = 0;
    gn__iocp_op_start(op, f->pd);
    int ok = WSARecvFrom(f->fd, &b, 1, &op->sync_bytes, &op->flags, (struct sockaddr *)ss, &alen, &op->ov, NULL) == 0;
    DWORD got = 0;
    err = gn__win_await(f, op, ok, &got);
    *len = (socklen_t)alen;
    if (GN__WIN_TRUNCATED(f, err)) return (int64_t)b.len;
    return err ? gn__win_read_err(f, err) : (int64_t)got;
}

GN__PRIVATE int64_t gn__fd_sendto(gn__fd *f, const void *buf, size_t n, const struct sockaddr *sa, socklen_t len) {
    int err = gn__fd_check(f, 'w');
    if (err) return err;
    gn__iocp_op *op = &f->io->w;
    WSABUF b;
    b.len = gn__win_len(n);
    b.buf = (char *)(uintptr_t)buf;
    gn__iocp_op_start(op, f->pd);
    int ok = WSASendTo(f->fd, &b, 1, &op->sync_bytes, 0, sa, len, &op->ov, NULL) == 0;
    DWORD w = 0;
    err = gn__win_await(f, op, ok, &w);
    return err ? err : (int64_t)w;
}

/* ---- a connection without a coroutine (see net.c, gn__conn_park_idle) ------------ */
/* Starts the zero-byte read unless one is in flight. 0: in flight (its
 * completion will come); 1: it finished at once (bytes, the end, or an error
 * are there: read).                                                           */
GN__PRIVATE int gn__win_probe(gn__fd *f) {
    static char none;
    gn__iocp_op *op = &f->io->r;
    if (gn__load(&op->busy)) return 0;
    WSABUF b;
    b.len = 0;
    b.buf = &none;
    op->flags = 0;
    gn__iocp_op_start(op, f->pd);
    int ok = WSARecv(f->fd, &b, 1, &op->sync_bytes, &op->flags, &op->ov, NULL) == 0;
    if (ok ? f->skip : WSAGetLastError() != WSA_IO_PENDING) {
        gn__iocp_op_done_now(op);
        return 1;
    }
    return 0;
}

GN__PRIVATE int gn__fd_park_idle(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc) return rc;
    if (f->type != SOCK_STREAM || gn__win_probe(f)) return 1;
    for (;;) {
        rc = gn__pd_spawn_on_read(f->pd, fn, arg);
        /* 1 with the probe still in flight: an older completion's READY.        */
        if (rc != 1 || !gn__load(&f->io->r.busy)) return rc;
    }
}

/* The probe asks the socket itself, whether or not anything was read before. */
GN__PRIVATE int gn__fd_park_new(gn__fd *f, void (*fn)(void *), void *arg) { return gn__fd_park_idle(f, fn, arg); }

GN__PRIVATE int gn__fd_watch(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc) return rc;
    if (f->type != SOCK_STREAM) return GN_ENOSYS;
    if (gn__win_probe(f)) return 1;
    return gn__pd_spawn_on_read(f->pd, fn, arg);
}

/* The probe stays in flight: the next read waits for it, or the next park reuses it. */
GN__PRIVATE int gn__fd_unwatch(gn__fd *f) { return gn__pd_spawn_cancel(f->pd); }

/* shutdown alone leaves an overlapped read pending (Windows completes it only
 * when the peer ends): cancel what is in flight, and its waiter returns as it
 * would after a POSIX shutdown.                                               */
GN__PRIVATE void gn__fd_cut(gn__fd *f) {
    GN__OS_KEEP_BEGIN
    shutdown(f->fd, SD_BOTH);
    CancelIoEx((HANDLE)f->fd, NULL);
    GN__OS_KEEP_END
}

GN__PRIVATE int gn__fd_hung_up(gn__fd *f) {
    if (gn__load(&f->closed) || gn__load(&f->pd->hup) || gn__load(&f->pd->closing)) return 1;
    if (f->type != SOCK_STREAM) return 0;
    int gone;
    GN__OS_KEEP_BEGIN
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(f->fd, &rs);
    struct timeval tv = {0, 0};
    u_long avail = 0;
    gone = select(0, &rs, NULL, NULL, &tv) > 0 && (ioctlsocket(f->fd, FIONREAD, &avail) != 0 || avail == 0);
    GN__OS_KEEP_END
    if (gone) gn__store(&f->pd->hup, 1u);
    return gone;
}

/* ---- options that differ by OS ------------------------------------------------------ */
GN__PRIVATE int gn__sock_keepalive(gn__sock fd, int secs) {
    struct tcp_keepalive ka;
    ka.onoff = 1;
    ka.keepalivetime = (ULONG)secs * 1000u;
    ka.keepaliveinterval = (ULONG)secs * 1000u;
    DWORD got = 0;
    if (WSAIoctl(fd, SIO_KEEPALIVE_VALS, &ka, sizeof ka, NULL, 0, &got, NULL, NULL) != 0) return gn__sock_error();
    return 0;
}

/* ifname: NULL (any) or an interface index in decimal; names would need
 * if_nametoindex from iphlpapi, a library users would have to link.          */
GN__PRIVATE int gn__sock_group(gn__sock fd, const char *group, const char *ifname, int join) {
    unsigned long ifindex = 0;
    if (ifname) {
        char *end;
        ifindex = strtoul(ifname, &end, 10);
        if (!*ifname || *end || ifindex == 0) return GN_EINVAL;
    }
    struct in_addr a4;
    struct in6_addr a6;
    int rc;
    if (inet_pton(AF_INET, group, &a4) == 1) {
        struct ip_mreq m;
        memset(&m, 0, sizeof m);
        m.imr_multiaddr = a4;
        m.imr_interface.s_addr = htonl(ifindex);   /* 0.0.0.x names interface x */
        rc = setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, (const char *)&m, sizeof m);
    } else if (inet_pton(AF_INET6, group, &a6) == 1) {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = a6;
        m.ipv6mr_interface = (ULONG)ifindex;
        rc = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, (const char *)&m, sizeof m);
    } else {
        return GN_EINVAL;
    }
    return rc == 0 ? 0 : gn__sock_error();
}

/* gn_conn_from_fd's OS part: fd is a SOCKET passed as an int (see the top).    */
GN__PRIVATE int gn__conn_wrap_os(int fd, gn__sock *s, int *family, int *type) {
    if (fd == -1) return GN_EINVAL;
    gn__sock h = (gn__sock)(intptr_t)fd;
    int st = 0;
    socklen_t sl = sizeof st;
    if (getsockopt(h, SOL_SOCKET, SO_TYPE, (char *)&st, &sl) != 0) {
        int e = WSAGetLastError();
        return e == WSAENOTSOCK ? GN_ENOSYS : gn__err_from_wsa(e);
    }
    *type = st;
    *family = AF_UNSPEC;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(h, (struct sockaddr *)&ss, &len) == 0) *family = ss.ss_family;
    else {
        WSAPROTOCOL_INFOW pi;
        socklen_t pl = sizeof pi;
        if (getsockopt(h, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&pi, &pl) == 0) *family = pi.iAddressFamily;
    }
    *s = h;
    return 0;
}

#endif /* GN__POLL_IOCP */
/* ==== end src/net_windows.c ==== */

/* ==== begin src/net.c ==== */
/* net.c — sockets for coroutines: listen, accept, dial, read, write, close,
 * deadlines, options, UDP, and name resolution (Go's net and internal/poll):
 * the portable part. The socket I/O that differs by OS sits in net_posix.c
 * (readiness: try the call, park on the pd when it would block) and
 * net_windows.c (completion: overlapped operations through IOCP); both come
 * before this file and define gn__sock, gn__iov, struct gn__fd and the
 * gn__fd_* / gn__sock_* operations it calls.
 *
 * Lifetime (Go's fdMutex, simplified): each operation holds a reference;
 * gn_close marks the fd closed, wakes its waiters, and drops the owner's
 * reference; the descriptor is closed when the last reference goes, so no
 * operation ever runs on a descriptor number that was reused. One reader and
 * one writer at a time: concurrent readers queue on a gn_mutex.
 *
 * >>net                                                                           */

struct gn_conn     { gn__fd f; };
struct gn_listener { gn__fd f; char *unix_path; };

/* After a gathered write of done bytes: the entries still to send, *n of them,
 * the first one trimmed of what went out. Both backends' writev loops use it. */
GN__PRIVATE gn__iov *gn__iov_advance(gn__iov *iov, int *n, size_t done) {
    while (*n > 0 && done >= iov[0].iov_len) {
        done -= iov[0].iov_len;
        iov++;
        (*n)--;
    }
    if (*n > 0) {
        iov[0].iov_base = (char *)iov[0].iov_base + done;
        iov[0].iov_len -= done;
    }
    return iov;
}

/* ---- the fd lifetime ------------------------------------------------------------- */
/* 1 with a reference taken, or 0 if the fd is closed.                            */
GN__PRIVATE int gn__fd_acquire(gn__fd *f) {
    gn__xadd(&f->refs, 1u);
    if (!gn__load(&f->closed)) return 1;
    gn__xadd(&f->refs, (uint32_t)-1);
    return 0;
}

/* Drops a reference; returns 1 if it was the last (the caller frees).            */
GN__PRIVATE int gn__fd_release(gn__fd *f) {
    if (gn__xadd(&f->refs, (uint32_t)-1) != 1) return 0;
    gn__fd_destroy(f);
    return 1;
}

/* Runs the close hook, if one is set and nobody ran it yet.                     */
GN__PRIVATE void gn__fd_run_on_close(gn__fd *f) {
    void (*fn)(void *) = gn__load(&f->on_close);
    uint32_t z = 0;
    if (fn && gn__cas(&f->on_close_taken, &z, 1u)) fn(f->on_close_arg);
}

GN__PRIVATE int gn__fd_close(gn__fd *f) {
    uint32_t z = 0;
    if (!gn__cas(&f->closed, &z, 1u)) return GN_ECLOSED;
    if (f->pd) gn__pd_evict(f->pd);
    gn__fd_run_on_close(f);
    return 1;
}

/* ---- addresses ------------------------------------------------------------------- */
typedef struct gn__addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family, type, protocol;
} gn__addr;

typedef struct gn__net { int family, type; int is_unix; } gn__net;

/* "tcp4" -> AF_INET, stream, and so on. 0 or GN_EINVAL for an unknown network. */
GN__PRIVATE int gn__parse_network(const char *network, gn__net *out) {
    static const struct { const char *name; int family, type, is_unix; } nets[] = {
        {"tcp", AF_UNSPEC, SOCK_STREAM, 0}, {"tcp4", AF_INET, SOCK_STREAM, 0},
        {"tcp6", AF_INET6, SOCK_STREAM, 0}, {"udp", AF_UNSPEC, SOCK_DGRAM, 0},
        {"udp4", AF_INET, SOCK_DGRAM, 0},   {"udp6", AF_INET6, SOCK_DGRAM, 0},
        {"unix", AF_UNIX, SOCK_STREAM, 1},  {"unixgram", AF_UNIX, SOCK_DGRAM, 1},
    };
    if (!network) return GN_EINVAL;
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        if (strcmp(network, nets[i].name) == 0) {
            out->family = nets[i].family;
            out->type = nets[i].type;
            out->is_unix = nets[i].is_unix;
            return 0;
        }
    }
    return GN_EINVAL;
}

/* Splits "host:port", "[v6]:port" or ":port" into host (maybe "") and port.    */
GN__PRIVATE int gn__split_host_port(const char *address, char *host, size_t hsize, char *port, size_t psize) {
    if (!address) return GN_EINVAL;
    const char *colon = strrchr(address, ':');
    if (!colon) return GN_EINVAL;
    const char *h = address, *he = colon;
    if (*h == '[') {
        if (he == h || he[-1] != ']') return GN_EINVAL;
        h++;
        he--;
    } else if (memchr(address, ':', (size_t)(colon - address))) {
        return GN_EINVAL;   /* a bare IPv6 address needs brackets */
    }
    size_t hl = (size_t)(he - h), pl = strlen(colon + 1);
    if (hl >= hsize || pl >= psize || pl == 0 || pl > 5) return GN_EINVAL;
    /* Ports are numbers, 0 to 65535 (no service names: those need a file).   */
    long pv = 0;
    for (size_t i = 0; i < pl; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9') return GN_EINVAL;
        pv = pv * 10 + (colon[1 + i] - '0');
    }
    if (pv > 65535) return GN_EINVAL;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

typedef struct gn__resolve {
    const char *host, *port;
    struct addrinfo hints, *res;
    int rc;
} gn__resolve;

GN__PRIVATE void gn__resolve_run(void *arg) {
    gn__resolve *r = (gn__resolve *)arg;
    r->rc = getaddrinfo(r->host, r->port, &r->hints, &r->res);
}

GN__PRIVATE int gn__gai_error(int rc) {
    switch (rc) {
    case 0: return 0;
    case EAI_MEMORY: return GN_ENOMEM;
#ifdef EAI_SYSTEM
    case EAI_SYSTEM: return gn__err_from_errno(errno);
#endif
    case EAI_NONAME: return GN_ENOHOST;
#ifdef EAI_NODATA
    case EAI_NODATA: return GN_ENOHOST;
#endif
    case EAI_SERVICE: return GN_EINVAL;
    default: return GN_ENOHOST;
    }
}

/* Resolves address for net into at most max addresses, IPv6 first as the
 * system orders them. Numeric hosts never block; names resolve through
 * gn_blocking so that other coroutines keep running.                        */
GN__PRIVATE int gn__resolve_addrs(const gn__net *net, const char *address, int passive,
                                  gn__addr *out, int max) {
    if (net->is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)&out[0].ss;
        size_t len = address ? strlen(address) : 0;
        if (len == 0 || len >= sizeof un->sun_path) return GN_EINVAL;
        memset(&out[0], 0, sizeof out[0]);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, address, len + 1);
        out[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        out[0].family = AF_UNIX;
        out[0].type = net->type;
        return 1;
    }
    char host[256], port[32];
    int rc = gn__split_host_port(address, host, sizeof host, port, sizeof port);
    if (rc) return rc;
    gn__resolve r;
    memset(&r, 0, sizeof r);
    r.host = host[0] ? host : NULL;
    r.port = port;
    r.hints.ai_family = net->family;
    r.hints.ai_socktype = net->type;
    r.hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) | (host[0] ? 0 : AI_PASSIVE);
    /* A literal address needs no resolver: try that first, without blocking.    */
    r.hints.ai_flags |= AI_NUMERICHOST;
    r.rc = host[0] ? getaddrinfo(r.host, r.port, &r.hints, &r.res) : EAI_NONAME;
    if (r.rc == EAI_NONAME && host[0]) {
        r.hints.ai_flags &= ~AI_NUMERICHOST;
        if (gn__getg()) gn_blocking(gn__resolve_run, &r); else gn__resolve_run(&r);
    } else if (!host[0]) {
        /* ":port": every interface. For "tcp"/"udp", the IPv6 wildcard with
         * V6ONLY off serves both families (as Go does); fall back to IPv4.      */
        memset(&out[0], 0, sizeof out[0]);
        int n = 0;
        if (net->family != AF_INET) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out[n].ss;
            a6->sin6_family = AF_INET6;
            a6->sin6_addr = in6addr_any;
            a6->sin6_port = htons((uint16_t)atoi(port));
            out[n].len = sizeof *a6;
            out[n].family = AF_INET6;
            out[n].type = net->type;
            n++;
        }
        if (net->family != AF_INET6 && n < max) {
            memset(&out[n], 0, sizeof out[n]);
            struct sockaddr_in *a4 = (struct sockaddr_in *)&out[n].ss;
            a4->sin_family = AF_INET;
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
            a4->sin_port = htons((uint16_t)atoi(port));
            out[n].len = sizeof *a4;
            out[n].family = AF_INET;
            out[n].type = net->type;
            n++;
        }
#if GN__NO_V4MAPPED
        /* No dual-stack sockets here (see net_posix.c): IPv4 first, so that a
         * listener on ":port" serves IPv4, as Go's does on these systems.     */
        if (n == 2) {
            gn__addr t = out[0];
            out[0] = out[1];
            out[1] = t;
        }
#endif
        return n;
    }
    if (r.rc != 0) return gn__gai_error(r.rc);
    int n = 0;
    for (struct addrinfo *ai = r.res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss) continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        out[n].family = ai->ai_family;
        out[n].type = net->type;
        out[n].protocol = ai->ai_protocol;
        n++;
    }
    freeaddrinfo(r.res);
    return n > 0 ? n : GN_ENOHOST;
}

/* Writes "ip:port", "[ip6]:port" or a unix path into buf. Length or GN_EINVAL. */
GN__PRIVATE int gn__format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size) {
    if (!buf || size == 0) return GN_EINVAL;
    char ip[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        n = snprintf(buf, size, "%s:%u", ip, ntohs(a->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            /* An IPv4 peer of a dual-stack socket is an IPv4 address, as in Go. */
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
            n = snprintf(buf, size, "%s:%u", ip, ntohs(a->sin6_port));
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            n = snprintf(buf, size, "[%s]:%u", ip, ntohs(a->sin6_port));
        }
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *a = (const struct sockaddr_un *)sa;
        size_t pl = (size_t)len > offsetof(struct sockaddr_un, sun_path)
                        ? strnlen(a->sun_path, (size_t)len - offsetof(struct sockaddr_un, sun_path)) : 0;
        n = snprintf(buf, size, "%.*s", (int)pl, a->sun_path);
    } else {
        return GN_EINVAL;
    }
    return n < 0 || (size_t)n >= size ? GN_EINVAL : n;
}

GN__PRIVATE int gn__sock_addr(gn__sock fd, int peer, char *buf, size_t size) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc != 0) return gn__sock_error();
    return gn__format_addr((struct sockaddr *)&ss, len, buf, size);
}

GN__PRIVATE int gn__new_conn(gn_conn **out, gn__sock fd, int family, int type) {
    gn_conn *c = (gn_conn *)GN_MALLOC(sizeof *c);
    if (!c) {
        gn__sock_close(fd);
        return GN_ENOMEM;
    }
    int rc = gn__fd_init(&c->f, fd, family, type);
    if (rc < 0) {
        gn__sock_close(fd);
        GN_FREE(c);
        return rc;
    }
    if (type == SOCK_STREAM && (family == AF_INET || family == AF_INET6)) {
        int one = 1;
        gn__sys_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
    }
    *out = c;
    return 0;
}

/* ---- listening ------------------------------------------------------------------- */
GONET_API int gn_listen_with(gn_listener **out, const char *network, const char *address,
                             const gn_listen_opts *opts) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0 || net.type != SOCK_STREAM) return GN_EINVAL;
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 1, addrs, 8);
    if (n < 0) return n;
    int rc = GN_EINVAL;
    for (int i = 0; i < n; i++) {
        gn__sock fd = GN__SOCK_INVALID;
        if ((rc = gn__socket(addrs[i].family, SOCK_STREAM, 0, &fd)) < 0) continue;
        int one = 1, zero = 0;
        if ((rc = gn__sock_listen_opts(fd, addrs[i].family, opts && opts->reuse_port)) < 0) {
            gn__sock_close(fd);
            return rc;
        }
        if (addrs[i].family == AF_INET6 && net.family == AF_UNSPEC)
            gn__sys_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&zero, sizeof zero);
        if (addrs[i].family == AF_INET6 && net.family == AF_INET6)
            gn__sys_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&one, sizeof one);
        int backlog = opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN;
        if (gn__sys_bind(fd, (struct sockaddr *)&addrs[i].ss, addrs[i].len) != 0 || gn__sys_listen(fd, backlog) != 0) {
            rc = gn__sock_error();
            gn__sock_close(fd);
            continue;
        }
        gn_listener *l = (gn_listener *)GN_MALLOC(sizeof *l);
        if (!l) { gn__sock_close(fd); return GN_ENOMEM; }
        l->unix_path = NULL;
        if ((rc = gn__fd_init(&l->f, fd, addrs[i].family, SOCK_STREAM)) < 0) {
            gn__sock_close(fd);
            GN_FREE(l);
            return rc;
        }
        if (net.is_unix) {
            l->unix_path = gn__strdup(address);
        }
        *out = l;
        return 0;
    }
    return rc;
}

GONET_API int gn_listen(gn_listener **out, const char *network, const char *address) {
    return gn_listen_with(out, network, address, NULL);
}

GONET_API int gn_accept(gn_listener *l, gn_conn **out) {
    if (!l || !out) return GN_EINVAL;
    *out = NULL;
    if (!gn__fd_acquire(&l->f)) return GN_ECLOSED;
    gn_mutex_lock(&l->f.rmu);
    int64_t backoff = 0;
    int rc;
    for (;;) {
        gn__sock fd = GN__SOCK_INVALID;
        rc = gn__fd_accept(&l->f, &fd);
        if (rc == 0) {
            rc = gn__new_conn(out, fd, l->f.family, SOCK_STREAM);
            if (rc == 0) break;
            continue;   /* out of memory for this one: it is closed, take the next */
        }
        if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == GN_ENOMEM) {
            /* Out of descriptors or memory: wait for some to free up.           */
            backoff = backoff ? GN__MIN(backoff * 2, GN_SECOND) : 5 * GN_MILLISECOND;
            gn_sleep(backoff);
            continue;
        }
        break;
    }
    gn_mutex_unlock(&l->f.rmu);
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return rc;
}

GONET_API int gn_listener_close(gn_listener *l) {
    if (!l) return GN_EINVAL;
    int rc = gn__fd_close(&l->f);
    if (rc < 0) return rc;
    if (l->unix_path) gn__sock_unlink(l->unix_path);
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return 0;
}

GONET_API int gn_listener_addr(gn_listener *l, char *buf, size_t size) {
    if (!l) return GN_EINVAL;
    return gn__sock_addr(l->f.fd, 0, buf, size);
}

GONET_API int gn_listener_port(gn_listener *l) {
    if (!l) return GN_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(l->f.fd, (struct sockaddr *)&ss, &len) != 0) return gn__sock_error();
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return GN_EINVAL;
}

GONET_API int gn_listener_set_deadline(gn_listener *l, int64_t deadline) {
    if (!l) return GN_EINVAL;
    if (!gn__fd_acquire(&l->f)) return GN_ECLOSED;
    int rc = l->f.pd ? gn__pd_set_deadline(l->f.pd, deadline, 'r') : GN_ENOSYS;
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return rc;
}

/* ---- dialing --------------------------------------------------------------------- */
/* gn_dial_context's cancel, run by the context watch (context.c): it fails the
 * attempt in flight, the watch's target (NULL: none), by moving its write
 * deadline into the past.                                                       */
GN__PRIVATE void gn__dial_cancel(void *pd, int err) {
    (void)err;
    if (pd) gn__pd_set_deadline((gn__pd *)pd, 1, 'w');
}

/* Connects one address before deadline (0: none). 0 and *out, or an error.      */
GN__PRIVATE int gn__dial_one(const gn__addr *a, int64_t deadline, gn__ctxwatch *w, gn_conn **out) {
    gn__sock fd = GN__SOCK_INVALID;
    int rc = gn__socket(a->family, a->type, a->protocol, &fd);
    if (rc < 0) return rc;
    gn_conn *c;
    rc = gn__new_conn(&c, fd, a->family, a->type);
    if (rc < 0) return rc;
    /* The deadline first: set after the watch points here, it could overwrite
     * the past deadline of a cancel.                                          */
    if (deadline && c->f.pd) gn__pd_set_deadline(c->f.pd, deadline, 'w');
    if (gn__ctxwatch_retarget(w, c->f.pd)) {   /* the context has already fired */
        gn__ctxwatch_retarget(w, NULL);
        gn_close(c);
        return GN_ECANCELED;
    }
    rc = gn__fd_connect(&c->f, (const struct sockaddr *)&a->ss, a->len);
    if (gn__ctxwatch_retarget(w, NULL) && rc == GN_ETIMEDOUT) rc = GN_ECANCELED;
    if (rc == 0 && deadline && c->f.pd) gn__pd_set_deadline(c->f.pd, 0, 'w');
    if (rc != 0) {
        gn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

GN__PRIVATE int gn__dial(gn_context *ctx, gn_conn **out, const char *network, const char *address,
                         int64_t deadline) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0) return GN_EINVAL;
    if (ctx) {
        if (gn_context_err(ctx)) return gn_context_err(ctx);
        int64_t cd = gn_context_deadline(ctx);
        if (cd && (!deadline || cd < deadline)) deadline = cd;
    }
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 0, addrs, 8);
    if (n < 0) return n;
    /* The caller may free ctx once we return: stop waits for the watcher.      */
    gn__ctxwatch *w;
    int rc = gn__ctxwatch_start(&w, ctx, gn__dial_cancel, NULL);
    if (rc) return rc;
    rc = GN_ENOHOST;
    for (int i = 0; i < n; i++) {
        if (deadline && gn_now() >= deadline) { rc = GN_ETIMEDOUT; break; }
        gn_conn *c = NULL;
        rc = gn__dial_one(&addrs[i], deadline, w, &c);
        if (rc == 0) { *out = c; break; }
        if (rc == GN_ETIMEDOUT || rc == GN_ECANCELED) break;
    }
    if (gn__ctxwatch_stop(w)) {
        if (*out) { gn_close(*out); *out = NULL; }
        rc = GN_ECANCELED;
    }
    /* A context that ended the dial speaks for itself: canceled or deadline.   */
    if ((rc == GN_ETIMEDOUT || rc == GN_ECANCELED) && ctx && gn_context_err(ctx)) rc = gn_context_err(ctx);
    return rc;
}

GONET_API int gn_dial(gn_conn **out, const char *network, const char *address) {
    return gn__dial(NULL, out, network, address, 0);
}
GONET_API int gn_dial_timeout(gn_conn **out, const char *network, const char *address, int64_t timeout) {
    return gn__dial(NULL, out, network, address, timeout > 0 ? gn_now() + timeout : 0);
}
GONET_API int gn_dial_context(gn_context *ctx, gn_conn **out, const char *network, const char *address) {
    return gn__dial(ctx, out, network, address, 0);
}

/* ---- connections --------------------------------------------------------------- */
GN__PRIVATE void gn__conn_put(gn_conn *c) {
    if (gn__fd_release(&c->f)) GN_FREE(c);
}

GONET_API int64_t gn_read(gn_conn *c, void *buf, size_t n) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.rmu);
    int64_t r = gn__fd_read(&c->f, buf, n);
    gn_mutex_unlock(&c->f.rmu);
    gn__conn_put(c);
    return r;
}

GONET_API int64_t gn_write(gn_conn *c, const void *buf, size_t n) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t r = gn__fd_write(&c->f, buf, n);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return r;
}

/* Waits for c to become readable without a coroutine or a buffer: arms the
 * poller to start fn(arg) in a new coroutine when c is readable (or its read
 * deadline passes, or it is closed), and returns 0: the caller's coroutine is
 * free to end. Only after a short read (the socket known empty) does it arm;
 * 1: readable now (or not known empty), read. < 0: the error a read would get. */
GN__PRIVATE int gn__conn_park_idle(gn_conn *c, void (*fn)(void *), void *arg) {
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = gn__fd_park_idle(&c->f, fn, arg);
    gn__conn_put(c);
    return rc;
}

/* gn__conn_park_idle for a connection nothing has been read from yet (just
 * accepted): the poller's state alone says whether it is readable, so it arms
 * without a system call even though no read has come back short.            */
GN__PRIVATE int gn__conn_park_new(gn_conn *c, void (*fn)(void *), void *arg) {
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = gn__fd_park_new(&c->f, fn, arg);
    gn__conn_put(c);
    return rc;
}

/* Watches c for the peer going away while nobody reads it (a handler at work):
 * arms the poller to start fn(arg) on readiness, deadline or close; fn then
 * looks at gn__conn_hung_up. 0: armed. 1: readiness was there already (and is
 * consumed: the next read must not wait for an edge). < 0: closed or timed out.
 * gn__conn_unwatch takes an armed watch back: 1 if it had not fired.           */
GN__PRIVATE int gn__conn_watch(gn_conn *c, void (*fn)(void *), void *arg) { return gn__fd_watch(&c->f, fn, arg); }
GN__PRIVATE int gn__conn_unwatch(gn_conn *c) { return gn__fd_unwatch(&c->f); }
/* Ends both directions now, for a forced close: the peer sees the end, and a
 * read or write blocked on c returns (GN_EOF, -EPIPE).                         */
GN__PRIVATE void gn__conn_cut(gn_conn *c) { gn__fd_cut(&c->f); }
/* Did the peer go away (or c close)? 1 or 0; no wait.                           */
GN__PRIVATE int gn__conn_hung_up(gn_conn *c) { return gn__fd_hung_up(&c->f); }

/* gn_write for several buffers at once.                                         */
GN__PRIVATE int64_t gn__conn_writev(gn_conn *c, gn__iov *iov, int n) {
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t r = gn__fd_writev(&c->f, iov, n);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return r;
}

GONET_API int64_t gn_conn_reader(void *conn, void *buf, size_t n) { return gn_read((gn_conn *)conn, buf, n); }
GONET_API int64_t gn_conn_writer(void *conn, const void *buf, size_t n) {
    return gn_write((gn_conn *)conn, buf, n);
}

GONET_API int gn_close(gn_conn *c) {
    if (!c) return GN_EINVAL;
    int rc = gn__fd_close(&c->f);
    if (rc < 0) return rc;
    gn__conn_put(c);
    return 0;
}

GN__PRIVATE int gn__shutdown(gn_conn *c, int how) {
    if (!c) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = gn__sys_shutdown(c->f.fd, how) == 0 ? 0 : gn__sock_error();
    gn__conn_put(c);
    return rc;
}
GONET_API int gn_close_read(gn_conn *c) { return gn__shutdown(c, SHUT_RD); }
GONET_API int gn_close_write(gn_conn *c) { return gn__shutdown(c, SHUT_WR); }

GN__PRIVATE int gn__conn_deadline(gn_conn *c, int64_t d, int mode) {
    if (!c) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = c->f.pd ? gn__pd_set_deadline(c->f.pd, d, mode) : GN_ENOSYS;
    gn__conn_put(c);
    return rc;
}
GONET_API int gn_set_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'b'); }
GONET_API int gn_set_read_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'r'); }
GONET_API int gn_set_write_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'w'); }

GONET_API int gn_local_addr(gn_conn *c, char *buf, size_t size) {
    return c ? gn__sock_addr(c->f.fd, 0, buf, size) : GN_EINVAL;
}
GONET_API int gn_remote_addr(gn_conn *c, char *buf, size_t size) {
    return c ? gn__sock_addr(c->f.fd, 1, buf, size) : GN_EINVAL;
}
GONET_API int gn_conn_fd(gn_conn *c) { return c ? (int)c->f.fd : GN_EINVAL; }

GN__PRIVATE int gn__setopt(gn_conn *c, int level, int name, const void *v, socklen_t len) {
    if (!c) return GN_EINVAL;
    return gn__sys_setsockopt(c->f.fd, level, name, (const char *)v, len) == 0 ? 0 : gn__sock_error();
}
GONET_API int gn_set_nodelay(gn_conn *c, int on) {
    int v = on != 0;
    return gn__setopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}
GONET_API int gn_set_keepalive(gn_conn *c, int on, int64_t period) {
    int v = on != 0;
    int rc = gn__setopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
    if (rc == 0 && on && period > 0)
        rc = gn__sock_keepalive(c->f.fd, (int)GN__MAX((period + GN_SECOND - 1) / GN_SECOND, (int64_t)1));
    return rc;
}
GONET_API int gn_set_read_buffer(gn_conn *c, int bytes) {
    return bytes < 0 ? GN_EINVAL : gn__setopt(c, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}
GONET_API int gn_set_write_buffer(gn_conn *c, int bytes) {
    return bytes < 0 ? GN_EINVAL : gn__setopt(c, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}
GONET_API int gn_set_linger(gn_conn *c, int seconds) {
    struct linger l;
    l.l_onoff = seconds >= 0;
    l.l_linger = seconds >= 0 ? seconds : 0;
    return gn__setopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

GONET_API int gn_conn_from_fd(gn_conn **out, int fd) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__sock s = GN__SOCK_INVALID;
    int family = AF_UNSPEC, type = SOCK_STREAM;
    int rc = gn__conn_wrap_os(fd, &s, &family, &type);
    if (rc < 0) return rc;
    gn_conn *c = (gn_conn *)GN_MALLOC(sizeof *c);
    if (!c) return GN_ENOMEM;
    rc = gn__fd_init(&c->f, s, family, type);
    if (rc < 0) {
        GN_FREE(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* ---- datagrams ------------------------------------------------------------------- */
GONET_API int gn_listen_packet(gn_conn **out, const char *network, const char *address) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0 || net.type != SOCK_DGRAM) return GN_EINVAL;
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 1, addrs, 8);
    if (n < 0) return n;
    int rc = GN_EINVAL;
    for (int i = 0; i < n; i++) {
        gn__sock fd = GN__SOCK_INVALID;
        if ((rc = gn__socket(addrs[i].family, SOCK_DGRAM, 0, &fd)) < 0) continue;
        int zero = 0;
        if (addrs[i].family == AF_INET6 && net.family == AF_UNSPEC)
            gn__sys_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&zero, sizeof zero);
        gn__sock_listen_opts(fd, addrs[i].family, 0);
        if (gn__sys_bind(fd, (struct sockaddr *)&addrs[i].ss, addrs[i].len) != 0) {
            rc = gn__sock_error();
            gn__sock_close(fd);
            continue;
        }
        return gn__new_conn(out, fd, addrs[i].family, SOCK_DGRAM);
    }
    return rc;
}

GONET_API int64_t gn_read_from(gn_conn *c, void *buf, size_t n, char *from, size_t from_size) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.rmu);
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int64_t rc = gn__fd_recvfrom(&c->f, buf, n, &ss, &len);
    if (rc >= 0 && from && from_size) {
        if (len > 0) gn__format_addr((struct sockaddr *)&ss, len, from, from_size);
        else from[0] = 0;
    }
    gn_mutex_unlock(&c->f.rmu);
    gn__conn_put(c);
    return rc;
}

GONET_API int64_t gn_write_to(gn_conn *c, const void *buf, size_t n, const char *address) {
    if (!c || (!buf && n) || !address) return GN_EINVAL;
    gn__net net = {c->f.family == AF_INET6 ? AF_UNSPEC : c->f.family, SOCK_DGRAM, c->f.family == AF_UNIX};
    gn__addr a[4];
    int na = gn__resolve_addrs(&net, address, 0, a, 4);
    if (na < 0) return na;
    int pick = 0;
    for (int i = 0; i < na; i++)
        if (a[i].family == c->f.family) { pick = i; break; }
    if (c->f.family == AF_INET6 && a[pick].family == AF_INET) {
        /* A dual-stack socket reaches IPv4 peers as IPv4-mapped IPv6 addresses. */
        struct sockaddr_in v4 = *(struct sockaddr_in *)&a[pick].ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a[pick].ss;
        memset(v6, 0, sizeof *v6);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = v4.sin_port;
        v6->sin6_addr.s6_addr[10] = 0xff;
        v6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&v6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
        a[pick].len = sizeof *v6;
    }
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t rc = gn__fd_sendto(&c->f, buf, n, (struct sockaddr *)&a[pick].ss, a[pick].len);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return rc;
}

GONET_API int gn_set_broadcast(gn_conn *c, int on) {
    int v = on != 0;
    return gn__setopt(c, SOL_SOCKET, SO_BROADCAST, &v, sizeof v);
}

GN__PRIVATE int gn__group(gn_conn *c, const char *group, const char *ifname, int join) {
    if (!c || !group) return GN_EINVAL;
    return gn__sock_group(c->f.fd, group, ifname, join);
}
GONET_API int gn_join_group(gn_conn *c, const char *group, const char *ifname) { return gn__group(c, group, ifname, 1); }
GONET_API int gn_leave_group(gn_conn *c, const char *group, const char *ifname) { return gn__group(c, group, ifname, 0); }
/* ==== end src/net.c ==== */

/* ==== begin src/signal_table.c ==== */
/* signal_table.c — what signal.c (POSIX) and signal_windows.c share: which
 * channels watch which signals, under the lock that also guards each system's
 * dispositions, and the delivery of one signal to its watchers.
 *
 * >>signal-table                                                                 */

/* The highest signal number the system has. FreeBSD and DragonFly number
 * their real-time signals up to 126, past NSIG (32 there: the old signals
 * only); _SIG_MAXSIG counts them all. Elsewhere NSIG - 1: 64 on Linux, 63
 * on NetBSD, 32 on OpenBSD, 31 on macOS. Windows: the C library's numbers,
 * of which only SIGINT and SIGTERM can be delivered (signal_windows.c).     */
#if GN__OS_WINDOWS
#  define GN__SIG_MAX 64
#elif defined(_SIG_MAXSIG)
#  define GN__SIG_MAX _SIG_MAXSIG
#elif defined(_NSIG)
#  define GN__SIG_MAX (_NSIG - 1)
#else
#  define GN__SIG_MAX (NSIG - 1)
#endif
/* Sets of signals: 32-bit words, lock-free everywhere, also where 64-bit
 * atomics are not (signal.c's pending set is one).                          */
#define GN__SIG_WORDS ((GN__SIG_MAX + 31) / 32)
#define GN__SIG_WORD(s) ((unsigned)((s) - 1) / 32u)
#define GN__SIG_BIT(s)  (1u << ((unsigned)((s) - 1) % 32u))

enum { GN__SIG_DEFAULT = 0, GN__SIG_CATCH, GN__SIG_IGNORE };

typedef struct gn__sigwatch {
    gn_chan  *c;
    uint32_t  want[GN__SIG_WORDS];
} gn__sigwatch;

static struct {
    uint32_t      lock;   /* the table and each system's dispositions            */
    gn__sigwatch *w;      /* the channels that watch something                  */
    int           nw, cw;
} gn__sigt;

/* The rest under the lock.                                                     */
GN__PRIVATE int gn__sig_find(gn_chan *c) {
    for (int i = 0; i < gn__sigt.nw; i++)
        if (gn__sigt.w[i].c == c) return i;
    return -1;
}

GN__PRIVATE void gn__sig_remove_at(int i) { gn__sigt.w[i] = gn__sigt.w[--gn__sigt.nw]; }

GN__PRIVATE int gn__sig_watched(int s) {
    for (int i = 0; i < gn__sigt.nw; i++)
        if (gn__sigt.w[i].want[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) return 1;
    return 0;
}

/* No channel watches s any more; drops the watchers left with nothing.       */
GN__PRIVATE void gn__sig_unwatch_all(int s) {
    for (int i = gn__sigt.nw - 1; i >= 0; i--) {
        uint32_t *want = gn__sigt.w[i].want;
        want[GN__SIG_WORD(s)] &= ~GN__SIG_BIT(s);
        int empty = 1;
        for (int k = 0; k < GN__SIG_WORDS; k++) empty &= want[k] == 0;
        if (empty) gn__sig_remove_at(i);
    }
}

/* c watches s too. 0 or GN_ENOMEM.                                            */
GN__PRIVATE int gn__sig_watch(gn_chan *c, int s) {
    int i = gn__sig_find(c);
    if (i < 0) {
        if (gn__sigt.nw == gn__sigt.cw) {
            int cap = gn__sigt.cw ? gn__sigt.cw * 2 : 8;
            gn__sigwatch *w = (gn__sigwatch *)GN_REALLOC(gn__sigt.w, (size_t)cap * sizeof *w);
            if (!w) return GN_ENOMEM;
            gn__sigt.w = w;
            gn__sigt.cw = cap;
        }
        i = gn__sigt.nw++;
        memset(&gn__sigt.w[i], 0, sizeof gn__sigt.w[i]);
        gn__sigt.w[i].c = c;
    }
    gn__sigt.w[i].want[GN__SIG_WORD(s)] |= GN__SIG_BIT(s);
    return 0;
}

/* Sends s to every channel that watches it; 1 if there was one. A full or
 * closed channel drops it, as Go's does.                                     */
GN__PRIVATE int gn__sig_send(int s) {
    int sent = 0;
    for (int i = 0; i < gn__sigt.nw; i++) {
        if (gn__sigt.w[i].want[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) {
            gn_chan_try_send(gn__sigt.w[i].c, &s);
            sent = 1;
        }
    }
    return sent;
}

/* At the end of a run: no watchers.                                           */
GN__PRIVATE void gn__sig_forget_all(void) {
    GN_FREE(gn__sigt.w);
    gn__sigt.w = NULL;
    gn__sigt.nw = gn__sigt.cw = 0;
}

/* Holds the runtime open for a caller outside it (see sched.c); 0 if none runs. */
GN__PRIVATE int gn__sig_enter(int *outside) {
    *outside = gn__getm() == NULL;
    return *outside ? gn__outside_enter() : 1;
}
/* ==== end src/signal_table.c ==== */

/* ==== begin src/signal.c ==== */
/* signal.c — signals on channels (Go's os/signal): a handler that only marks
 * the signal pending and pokes a pipe, and a coroutine that delivers.
 *
 * The handler (gn__sig_handler, installed with SA_RESTART | SA_ONSTACK) is
 * async-signal-safe: it sets the signal's bit in an atomic pending mask and,
 * when the bit was clear, writes one byte to a non-blocking pipe; errno is
 * kept. A byte per newly pending bit bounds what the pipe ever holds (well
 * under its size), and repeats of a pending signal coalesce, as in Go.
 *
 * The watcher, a coroutine started by the first gn_signal_notify of a run,
 * reads the pipe through a poll descriptor of its own (the pd layer directly:
 * it needs neither a gn_conn's locks nor its close protocol), then takes the
 * pending mask with one exchange and sends each signal to the channels that
 * watch it with gn_chan_try_send. Draining before the exchange means no
 * signal is lost: a bit set after the exchange wrote a byte the next read
 * sees, at worst causing one wake-up with nothing to do.
 *
 * The table of watchers and the dispositions are under one lock, which the
 * watcher also holds while it sends: so once gn_signal_stop(c) has returned,
 * no send to c is in flight and c may be freed.
 *
 * Rejected: signalfd (the signal must be blocked in every thread of the
 * process, the user's too, or it is delivered the old way); sigwait on a
 * dedicated thread (the same blocking problem, plus a thread); a handler that
 * sends on the channel (not async-signal-safe: channels take locks).
 *
 * Runs end. gn__signal_teardown, called from gn__teardown once every M has
 * stopped, puts back every disposition this file changed and forgets the
 * watchers and the watcher's pd (the pd table and the poller go with the run;
 * the watcher coroutine is discarded like any other). The pipe stays open for
 * the life of the process, as Go's does: closing it could race a handler
 * still running on a thread of the user's, whose write could then land in a
 * descriptor that reused the number. A forked child makes a pipe of its own
 * (sharing the parent's would let one process eat the other's wake-ups) and
 * leaves the inherited ends alone, since it may have reused their numbers.
 * Forking also resets, in the child, what exec would: a signal caught for
 * channels gets its former disposition back (the child has no watcher, and
 * would swallow it), an ignored one stays ignored (pthread_atfork).
 *
 * >>signal                                                                        */
#if GN__OS_POSIX   /* Windows: signal_windows.c */

static struct {   /* under gn__sigt.lock, down to pd (see signal_table.c)          */
    unsigned char    state[GN__SIG_MAX + 1];    /* GN__SIG_*                         */
    struct sigaction saved[GN__SIG_MAX + 1];    /* what we replaced, while state != 0 */
    gn__pd          *pd;           /* the watcher's, while it exists in this run    */
    int              rfd;          /* the pipe, for the life of the process          */
    pid_t            pipe_pid;     /* whose pipe it is (0: none yet)                 */
    int              atfork;       /* the fork handler is registered                 */
    int              wfd;          /* atomic: read by the handler                   */
    uint32_t         pending[GN__SIG_WORDS];   /* atomic: caught, not yet delivered  */
} gn__sig;

/* 1 if signo may be watched or ignored (see api_signal.h for why not).       */
GN__PRIVATE int gn__sig_valid(int s) {
    if (s < 1 || s > GN__SIG_MAX) return 0;
    switch (s) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL:
        return 0;
    default:
        break;
    }
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    if (s > 31 && (s < SIGRTMIN || s > SIGRTMAX)) return 0;   /* the C library's own */
#else
    if (s > 31) return 0;   /* no real-time signals; OpenBSD's 32 is SIGTHR    */
#endif
    return 1;
}

GN__PRIVATE void gn__sig_handler(int sig) {
    int saved = errno;
    uint32_t bit = GN__SIG_BIT(sig);
    uint32_t old = gn__or_seq(&gn__sig.pending[GN__SIG_WORD(sig)], bit);
    if (!(old & bit)) {
        char b = (char)sig;
        if (write(gn__load_relaxed(&gn__sig.wfd), &b, 1) < 0) { /* full: a wake-up is pending */ }
    }
    errno = saved;
}

/* ---- delivering ------------------------------------------------------------------ */
GN__PRIVATE void gn__sig_dispatch(void) {
    uint32_t got[GN__SIG_WORDS], any = 0;
    for (int i = 0; i < GN__SIG_WORDS; i++) any |= got[i] = gn__xchg(&gn__sig.pending[i], 0u);
    if (!any) return;
    gn__lock(&gn__sigt.lock);
    for (int s = 1; s <= GN__SIG_MAX; s++)
        if (got[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) gn__sig_send(s);
    gn__unlock(&gn__sigt.lock);
}

GN__PRIVATE void gn__sig_drain(int fd) {
    char buf[128];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        return;   /* EAGAIN: empty (0, the write end closed, cannot happen)     */
    }
}

GN__PRIVATE void gn__sig_watcher(void *arg) {
    gn__pd *pd = (gn__pd *)arg;
    for (;;) {
        gn__sig_drain(pd->fd);   /* empty the pipe first, then look: see the top */
        gn__sig_dispatch();
        if (gn__pd_wait(pd, 'r') == GN_ECLOSED) return;   /* never evicted, in fact */
    }
}

GN__PRIVATE void gn__sig_restore(int s);

/* In the child of a fork, which has only the forking thread (whose state the
 * lock may be left in): what exec would do. Async-signal-safe.               */
GN__PRIVATE void gn__sig_atfork_child(void) {
    gn__sigt.lock = 0;
    for (int s = 1; s <= GN__SIG_MAX; s++)
        if (gn__sig.state[s] == GN__SIG_CATCH) gn__sig_restore(s);
    gn__sigt.nw = 0;       /* the table's memory is the parent's copy: kept, reused */
    gn__sig.pd = NULL;     /* a run, if any, does not go on in the child            */
}

/* Under the lock: the pipe, then the watcher of this run. 0 or an error.      */
GN__PRIVATE int gn__sig_start(void) {
    if (gn__sig.pd) return 0;
    if (!gn__sig.atfork) {
        int rc = pthread_atfork(NULL, NULL, gn__sig_atfork_child);
        if (rc != 0) return gn__err_from_errno(rc);
        gn__sig.atfork = 1;
    }
    pid_t pid = getpid();
    if (gn__sig.pipe_pid != pid) {
        int p[2];
        if (gn__sys_pipe_nb(p) != 0) return gn__err_from_errno(errno);
        gn__sig.rfd = p[0];
        gn__store(&gn__sig.wfd, p[1]);
        gn__sig.pipe_pid = pid;
    }
    /* Left over from an earlier run: a handler that was still running as it ended. */
    gn__sig_drain(gn__sig.rfd);
    for (int i = 0; i < GN__SIG_WORDS; i++) gn__store(&gn__sig.pending[i], 0u);
    gn__pd *pd = gn__pd_alloc();
    if (!pd) return GN_ENOMEM;
    pd->fd = gn__sig.rfd;
    int rc = gn__netpoll_arm(pd);
    if (rc < 0) {
        gn__pd_release(pd);
        return rc;
    }
    int64_t id = gn_go(gn__sig_watcher, pd);
    if (id < 0) {
        gn__netpoll_disarm(pd);
        gn__pd_retire(pd);
        gn__pd_release(pd);
        return (int)id;
    }
    gn__sig.pd = pd;
    return 0;
}

/* ---- the dispositions (under gn__sigt.lock; the table is signal_table.c's) ---------- */
/* Sets signo's disposition to handler (ours or SIG_IGN), keeping the one it
 * replaces the first time. 0 or -errno.                                      */
GN__PRIVATE int gn__sig_take(int s, void (*handler)(int), int state) {
    if (gn__sig.state[s] == state) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = handler == SIG_IGN ? 0 : SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(s, &sa, gn__sig.state[s] == GN__SIG_DEFAULT ? &gn__sig.saved[s] : NULL) != 0)
        return gn__err_from_errno(errno);
    gn__sig.state[s] = (unsigned char)state;
    return 0;
}

/* Puts back the disposition signo had before we took it.                     */
GN__PRIVATE void gn__sig_restore(int s) {
    if (gn__sig.state[s] == GN__SIG_DEFAULT) return;
    sigaction(s, &gn__sig.saved[s], NULL);
    gn__sig.state[s] = GN__SIG_DEFAULT;
}

/* ---- the API ---------------------------------------------------------------------- */
GONET_API int gn_signal_notify(gn_chan *c, int signo) {
    if (!c || c->elem_size != sizeof(int) || !gn__sig_valid(signo)) return GN_EINVAL;
    int outside;
    if (!gn__sig_enter(&outside)) return GN_ESTATE;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    int rc = gn__sig_start();
    int fresh = rc == 0 && gn__sig_find(c) < 0;
    if (rc == 0) rc = gn__sig_watch(c, signo);
    if (rc == 0 && (rc = gn__sig_take(signo, gn__sig_handler, GN__SIG_CATCH)) < 0) {
        int i = gn__sig_find(c);   /* cannot happen for a valid signal; undo anyway */
        gn__sigt.w[i].want[GN__SIG_WORD(signo)] &= ~GN__SIG_BIT(signo);
        if (fresh) gn__sig_remove_at(i);
    }
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (outside) gn__outside_exit();
    return rc;
}

GONET_API int gn_signal_stop(gn_chan *c) {
    if (!c) return GN_EINVAL;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    int i = gn__sig_find(c);
    if (i >= 0) {
        uint32_t want[GN__SIG_WORDS];
        memcpy(want, gn__sigt.w[i].want, sizeof want);
        gn__sig_remove_at(i);
        for (int s = 1; s <= GN__SIG_MAX; s++)
            if ((want[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) && gn__sig.state[s] == GN__SIG_CATCH &&
                !gn__sig_watched(s))
                gn__sig_restore(s);
    }
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    return 0;
}

GONET_API int gn_signal_ignore(int signo) {
    if (!gn__sig_valid(signo)) return GN_EINVAL;
    int outside;
    if (!gn__sig_enter(&outside)) return GN_ESTATE;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    gn__sig_unwatch_all(signo);
    int rc = gn__sig_take(signo, SIG_IGN, GN__SIG_IGNORE);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (outside) gn__outside_exit();
    return rc;
}

GONET_API int gn_signal_reset(int signo) {
    if (!gn__sig_valid(signo)) return GN_EINVAL;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    gn__sig_unwatch_all(signo);
    gn__sig_restore(signo);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    return 0;
}

/* The run is over (sched.c's gn__teardown, every M stopped, the poller still
 * open): dispositions back, watchers forgotten, the watcher's pd let go.      */
GN__PRIVATE void gn__signal_teardown(void) {
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    for (int s = 1; s <= GN__SIG_MAX; s++) gn__sig_restore(s);
    gn__sig_forget_all();
    if (gn__sig.pd) {
        gn__netpoll_disarm(gn__sig.pd);
        gn__sig.pd = NULL;   /* its memory goes with the pd table               */
    }
    for (int i = 0; i < GN__SIG_WORDS; i++) gn__store(&gn__sig.pending[i], 0u);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
}

#endif /* GN__OS_POSIX */
/* ==== end src/signal.c ==== */

/* ==== begin src/signal_windows.c ==== */
/* signal_windows.c — the gn_signal_* API on Windows (signal.c is the POSIX one):
 * console control events delivered on channels, as Go's os/signal does there.
 *
 * Windows has no asynchronous signals. What a console program gets instead are
 * control events, which the system hands to a handler (SetConsoleCtrlHandler)
 * on a thread it creates for the purpose. Go maps them, and so do we:
 *     CTRL_C_EVENT, CTRL_BREAK_EVENT                          SIGINT
 *     CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT SIGTERM
 * Every other signal number gets GN_ENOSYS (nothing could deliver it), except
 * SIGSEGV, SIGILL and SIGFPE, which get GN_EINVAL as on POSIX.
 *
 * The handler runs on an ordinary thread, so unlike a POSIX signal handler it
 * may take locks: it delivers itself, with gn_chan_try_send under the table's
 * lock, and needs neither a pipe nor a watcher coroutine. Under that lock,
 * once gn_signal_stop(c) has returned no send to c is in flight.
 * Its answer tells the system whether the event was handled: an event nobody
 * watches goes on to the next handler (by default the one that ends the
 * process), an ignored one is swallowed. For a close, log-off or shutdown the
 * system ends the process as soon as the handlers return, so after delivering
 * SIGTERM the handler waits forever (Go's block()): the program has the
 * system's grace period (about 5 s) to clean up and exit.
 *
 * The handler is registered by the first gn_signal_notify or gn_signal_ignore
 * and stays for the life of the process (removing it could race the system's
 * thread running it); with nothing watched or ignored it declines every event.
 * When a run ends everything returns to that state.
 *
 * >>signal-windows                                                               */
#if GN__OS_WINDOWS

static struct {   /* under gn__sigt.lock (see signal_table.c)                      */
    unsigned char state_int, state_term;   /* GN__SIG_*                          */
    int           registered;    /* the console handler is installed            */
} gn__sig;

/* GN_OK for SIGINT and SIGTERM, else the error for signo (see the top).      */
GN__PRIVATE int gn__sig_check(int s) {
    if (s < 1 || s > GN__SIG_MAX) return GN_EINVAL;
    if (s == SIGINT || s == SIGTERM) return GN_OK;
    if (s == SIGSEGV || s == SIGILL || s == SIGFPE) return GN_EINVAL;
    return GN_ENOSYS;
}

GN__PRIVATE unsigned char *gn__sig_state(int s) { return s == SIGINT ? &gn__sig.state_int : &gn__sig.state_term; }

/* The system's thread for a console event. TRUE: handled here.               */
GN__PRIVATE BOOL WINAPI gn__sig_console_handler(DWORD event) {
    int s;
    switch (event) {
    case CTRL_C_EVENT: case CTRL_BREAK_EVENT:
        s = SIGINT;
        break;
    case CTRL_CLOSE_EVENT: case CTRL_LOGOFF_EVENT: case CTRL_SHUTDOWN_EVENT:
        s = SIGTERM;
        break;
    default:
        return FALSE;
    }
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    int state = *gn__sig_state(s), sent = state == GN__SIG_CATCH && gn__sig_send(s);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (sent && s == SIGTERM) Sleep(INFINITE);
    return state != GN__SIG_DEFAULT;
}

/* Under the lock. 0, or GN_ENOSYS when the process cannot have the handler. */
GN__PRIVATE int gn__sig_register(void) {
    if (gn__sig.registered) return 0;
    if (!SetConsoleCtrlHandler(gn__sig_console_handler, TRUE)) return GN_ENOSYS;
    gn__sig.registered = 1;
    return 0;
}

GONET_API int gn_signal_notify(gn_chan *c, int signo) {
    if (!c || c->elem_size != sizeof(int)) return GN_EINVAL;
    int rc = gn__sig_check(signo);
    if (rc != 0) return rc;
    int outside;
    if (!gn__sig_enter(&outside)) return GN_ESTATE;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    rc = gn__sig_register();
    if (rc == 0) rc = gn__sig_watch(c, signo);
    if (rc == 0) *gn__sig_state(signo) = GN__SIG_CATCH;
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (outside) gn__outside_exit();
    return rc;
}

GONET_API int gn_signal_stop(gn_chan *c) {
    if (!c) return GN_EINVAL;
    gn__lock(&gn__sigt.lock);
    int i = gn__sig_find(c);
    if (i >= 0) {
        gn__sig_remove_at(i);
        if (gn__sig.state_int == GN__SIG_CATCH && !gn__sig_watched(SIGINT)) gn__sig.state_int = GN__SIG_DEFAULT;
        if (gn__sig.state_term == GN__SIG_CATCH && !gn__sig_watched(SIGTERM)) gn__sig.state_term = GN__SIG_DEFAULT;
    }
    gn__unlock(&gn__sigt.lock);
    return 0;
}

GONET_API int gn_signal_ignore(int signo) {
    int rc = gn__sig_check(signo);
    if (rc != 0) return rc;
    int outside;
    if (!gn__sig_enter(&outside)) return GN_ESTATE;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    rc = gn__sig_register();
    if (rc == 0) {
        gn__sig_unwatch_all(signo);
        *gn__sig_state(signo) = GN__SIG_IGNORE;
    }
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (outside) gn__outside_exit();
    return rc;
}

GONET_API int gn_signal_reset(int signo) {
    int rc = gn__sig_check(signo);
    if (rc != 0) return rc;
    gn__lock(&gn__sigt.lock);
    gn__sig_unwatch_all(signo);
    *gn__sig_state(signo) = GN__SIG_DEFAULT;
    gn__unlock(&gn__sigt.lock);
    return 0;
}

/* The run is over (sched.c's gn__teardown): watchers forgotten, every event
 * back to its default treatment.                                             */
GN__PRIVATE void gn__signal_teardown(void) {
    gn__lock(&gn__sigt.lock);
    gn__sig_forget_all();
    gn__sig.state_int = gn__sig.state_term = GN__SIG_DEFAULT;
    gn__unlock(&gn__sigt.lock);
}

#endif /* GN__OS_WINDOWS */
/* ==== end src/signal_windows.c ==== */

/* ==== begin src/dump.c ==== */
/* dump.c — the coroutine dump (gn_dump, and SIGQUIT with gn_config.quit_dump):
 * one line per live coroutine with its state, what it waits on and for how long.
 * A stuck server is a set of coroutines all waiting on something; the dump says
 * which, on what, since when.
 *
 * The G list is copied under the stack lock into an array and written after the
 * lock is let go: the writer may block (a connection, a pipe), and coroutines
 * must keep being created and freed meanwhile. The fields read from other
 * threads' Gs are written with relaxed atomics, so a dump taken while they run
 * is a consistent line per coroutine, not a snapshot of the whole runtime.
 *
 * >>dump                                                                        */

typedef struct gn__dump_rec {
    int64_t     id, parent, since;
    uint32_t    status;
    const char *reason;
    const void *obj;
    uintptr_t   fn;
    size_t      used, size;   /* stack bytes in use (parked Gs only) and in all */
} gn__dump_rec;

GN__PRIVATE int gn__dump_cmp(const void *a, const void *b) {
    int64_t x = ((const gn__dump_rec *)a)->id, y = ((const gn__dump_rec *)b)->id;
    return (x > y) - (x < y);
}

/* What a parked G waits on, in words. The park's argument says it: a channel or
 * a lock by address (equal addresses mean the same object), a poller slot by
 * its fd.                                                                        */
GN__PRIVATE void gn__dump_obj(const gn__dump_rec *r, char *buf, size_t size) {
    buf[0] = 0;
    if (!r->reason || !r->obj) return;
    if (strcmp(r->reason, "read") == 0 || strcmp(r->reason, "write") == 0) {
        const char *slot = (const char *)r->obj;
        size_t off = r->reason[0] == 'r' ? offsetof(gn__pd, rg) : offsetof(gn__pd, wg);
        const gn__pd *pd = (const gn__pd *)(const void *)(slot - off);
        snprintf(buf, size, "fd %d, ", gn__load_relaxed(&pd->fd));
    } else if (strcmp(r->reason, "sleep") != 0) {
        snprintf(buf, size, "on %p, ", r->obj);
    }
}

GN__PRIVATE int64_t gn__dump_line(const gn__dump_rec *r, int64_t now, char *buf, size_t size) {
    char state[64], obj[48], stack[64];
    switch (r->status) {
    case GN__G_RUNNING:  snprintf(state, sizeof state, "running"); break;
    case GN__G_RUNNABLE: snprintf(state, sizeof state, "runnable"); break;
    case GN__G_BLOCKING: snprintf(state, sizeof state, "in a blocking call"); break;
    default:
        if (r->since > 0 && now >= r->since)
            snprintf(state, sizeof state, "%s, %lld ms", r->reason ? r->reason : "waiting",
                     (long long)((now - r->since) / GN_MILLISECOND));
        else
            snprintf(state, sizeof state, "%s", r->reason ? r->reason : "waiting");
        break;
    }
    if (r->status == GN__G_WAITING) gn__dump_obj(r, obj, sizeof obj); else obj[0] = 0;
    if (r->used) snprintf(stack, sizeof stack, "stack %zu of %zu bytes", r->used, r->size);
    else snprintf(stack, sizeof stack, "stack %zu bytes", r->size);
    int n = snprintf(buf, size, "coroutine %lld [%s]: %sfn %p, spawned by %lld, %s\n",
                     (long long)r->id, state, obj, (void *)r->fn, (long long)r->parent, stack);
    return n < 0 ? 0 : GN__MIN((int64_t)n, (int64_t)size - 1);
}

/* Copies the live Gs; *n gets their count. NULL with *n == -1: out of memory.  */
GN__PRIVATE gn__dump_rec *gn__dump_collect(int *n) {
    gn__dump_rec *recs = NULL;
    int cap = 0, len = 0;
    for (;;) {
        gn__lock(&gn__stk.lock);
        int live = 0;
        for (gn__g *g = gn__stk.allg; g; g = g->alllink) {
            uint32_t st = gn__load(&g->status);
            if (st == GN__G_IDLE || st == GN__G_DEAD) continue;
            if (live < cap) {
                gn__dump_rec *r = &recs[live];
                r->id = g->id;
                r->parent = g->parent_id;
                r->status = st;
                r->fn = (uintptr_t)g->fn;
                r->reason = gn__load_relaxed(&g->wait_reason);
                r->obj = gn__load_relaxed(&g->wait_obj);
                r->since = gn__load_relaxed(&g->wait_since);
                r->size = g->stack_size;
                r->used = 0;
#if !GN__CTX_UCONTEXT
                /* A parked G's saved stack pointer says how deep it is.           */
                char *sp = (char *)gn__load_relaxed(&g->ctx.sp);
                if (st == GN__G_WAITING && sp > g->stack_lo && sp <= g->stack_lo + g->stack_size)
                    r->used = (size_t)(g->stack_lo + g->stack_size - sp);
#endif
            }
            live++;
        }
        gn__unlock(&gn__stk.lock);
        if (live <= cap) { len = live; break; }
        /* Grown meanwhile: take room for more than we saw, and look again.        */
        GN_FREE(recs);
        cap = live + live / 4 + 16;
        recs = (gn__dump_rec *)GN_MALLOC((size_t)cap * sizeof *recs);
        if (!recs) { *n = -1; return NULL; }
    }
    qsort(recs, (size_t)len, sizeof *recs, gn__dump_cmp);
    *n = len;
    return recs;
}

GN__PRIVATE int gn__dump_flush(gn_write_func w, void *ctx, const char *buf, size_t *used) {
    int64_t wr = *used ? w(ctx, buf, *used) : 0;
    *used = 0;
    return wr < 0 ? (int)wr : 0;
}

GONET_API int gn_dump(gn_write_func w, void *ctx) {
    if (!w) return GN_EINVAL;
    if (!gn__outside_enter()) return GN_ESTATE;
    int n;
    gn__dump_rec *recs = gn__dump_collect(&n);
    int procs = gn__rt.nprocs;
    int threads = gn__load_relaxed(&gn__rt.mcount);
    int clock = gn__rt.sysmon_on;
    int64_t now = gn__load_relaxed(&gn__rt.now_coarse);
    gn__outside_exit();
    if (n < 0) return GN_ENOMEM;

    char buf[4096];
    size_t used = 0;
    int rc = 0;
    int64_t head = snprintf(buf, sizeof buf, "gonet: %d coroutines, %d Ps, %d threads%s\n", n, procs,
                            threads, clock ? "" : " (no monitor thread: no wait times)");
    used = (size_t)GN__MAX(0, GN__MIN(head, (int64_t)sizeof buf - 1));
    for (int i = 0; i < n && rc == 0; i++) {
        char line[320];
        if (!clock) recs[i].since = 0;
        size_t k = (size_t)gn__dump_line(&recs[i], now, line, sizeof line);
        if (used + k > sizeof buf) rc = gn__dump_flush(w, ctx, buf, &used);
        memcpy(buf + used, line, k);
        used += k;
    }
    if (rc == 0) rc = gn__dump_flush(w, ctx, buf, &used);
    GN_FREE(recs);
    return rc < 0 ? rc : n;
}

GN__PRIVATE int64_t gn__dump_write_stderr(void *ctx, const void *buf, size_t n) {
    (void)ctx;
    fwrite(buf, 1, n, stderr);
    fflush(stderr);
    return (int64_t)n;
}

/* SIGQUIT's dump, written by sysmon (see gn__dump_request in sched.c).           */
GN__PRIVATE void gn__dump_to_stderr(void) {
    gn_dump(gn__dump_write_stderr, NULL);
}
/* ==== end src/dump.c ==== */

/* ==== begin src/http.h ==== */
/* http.h — what the HTTP parts share inside the implementation: the parsed
 * message head (http_parse.c fills it), path values (http_mux.c finds them,
 * the request carries them), and the few hooks between the parts.
 *
 * >>http-internal                                                                */

/* A path value the mux matched: name and decoded value, both NUL-terminated and
 * alive while the handler runs.                                                 */
typedef struct gn__pathval {
    const char *name;
    const char *value;
} gn__pathval;

/* The server's: hands the matched pattern's values to the request, for
 * gn_http_path_value. vals stays alive until the handler returns.               */
GN__PRIVATE void gn__http_set_pathvalues(gn_http_request *r, const gn__pathval *vals, int n);
/* The request target's escaped path ("/a%20b"), NUL-terminated.                 */
GN__PRIVATE const char *gn__http_escaped_path(const gn_http_request *r);

/* Percent-decoding (http_mux.c), which the server also uses for the path.       */
#define GN__UNESCAPE_PATH  0   /* '+' is itself; "%xx" decoded                          */
#define GN__UNESCAPE_QUERY 1   /* also '+' is a space (form encoding)                   */
GN__PRIVATE int64_t gn__url_unescape(const char *s, size_t n, char *out, size_t size, int mode);

/* Unix seconds to UTC calendar fields: gmtime_r, which Windows spells
 * _gmtime64_s (with its arguments the other way round).                        */
GN__PRIVATE void gn__gmtime(int64_t t, struct tm *out) {
#if GN__OS_WINDOWS
    __time64_t tt = (__time64_t)t;
    if (_gmtime64_s(out, &tt) != 0) memset(out, 0, sizeof *out);
#else
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, out)) memset(out, 0, sizeof *out);
#endif
}
/* ==== end src/http.h ==== */

/* ==== begin src/http_parse.c ==== */
/* http_parse.c — the HTTP/1.1 wire grammar (RFC 9110, RFC 9112): message heads
 * (request line or status line, then header fields) and the chunked transfer
 * coding. Nothing here reads a socket, allocates, or keeps state between calls
 * beyond what the caller holds; http_server.c and http_client.c feed it bytes
 * from their read buffers and act on what it returns.
 *
 * Zero-copy. A parsed head is pointers into the caller's buffer. On success the
 * parser NUL-terminates them in place (method, target, header names and values,
 * reason) by overwriting delimiters nobody needs once the head is parsed: the
 * space after the method and after the target, each ':', the OWS after a value,
 * a CR or LF. Its strings are then C strings for as long as the head's bytes stay
 * where they are. Bytes past the head (a body, a pipelined request) are never
 * touched.
 *
 * Incremental. A head arrives in pieces, and a parser that starts over on every
 * piece is O(n^2) for a client that trickles bytes. Each call gets the buffer
 * from the start of the message and prev_len, how much of it an earlier call
 * already saw; it judges only the lines completed since, and parses the whole
 * head once, when its blank line arrives. A line is judged only when complete
 * and whole-head rules (framing, Host) only when the head is, so every split of
 * the input gives the same answer, and malformed lines are refused as soon as
 * they end rather than when a timeout fires.
 *
 * Strict, because two parsers that disagree on where a message ends are how
 * requests are smuggled: one framing (Content-Length or chunked, never both,
 * never ambiguous), no obs-fold, no bare CR, no whitespace before a colon,
 * chunk lines ending in CRLF only. Where the RFCs leave a choice, Go's net/http
 * decides; the places where this part is stricter than Go say so.
 *
 * >>http-parse                                                                  */

/* ---- limits ---------------------------------------------------------------------- */
#define GN__HTTP_MAX_HEAD_DEFAULT (64 * 1024) /* max_head_bytes 0 means this            */
#define GN__HTTP_MAX_LEADING_EOL  4           /* empty lines skipped before a request   */
#define GN__CHUNKED_MAX_LINE      4096        /* a chunk-size line with its extensions  */
#define GN__CHUNKED_MAX_TRAILER_DEFAULT (16 * 1024)
/* Framing a chunked body may carry beyond what its data pays for: each chunk
 * earns 16 bytes plus twice its size, and a body that runs this far in debt
 * (tiny chunks with long extensions) is cut off. Go has the same defence.       */
#define GN__CHUNKED_MAX_EXCESS    (16 * 1024)

/* Tests count the bytes the head parser examines, to check that feeding a byte
 * at a time stays linear.                                                        */
#ifndef GN__HTTP_SCANNED
#  define GN__HTTP_SCANNED(n) ((void)0)
#endif

/* ---- the parsed head ------------------------------------------------------------- */
enum {
    GN__HTTP_FORM_ORIGIN,    /* "/path?query"                                          */
    GN__HTTP_FORM_ABSOLUTE,  /* "http://host:port/path?query" (to proxies, and allowed) */
    GN__HTTP_FORM_AUTHORITY, /* "host:port", CONNECT only                              */
    GN__HTTP_FORM_ASTERISK   /* "*", OPTIONS only                                      */
};

/* What gn__http_parse_request or gn__http_parse_response found. Pointers go into
 * the parsed buffer and, where marked [NUL], are NUL-terminated strings there.
 * Undefined after a call that did not return > 0.                               */
typedef struct gn__http_head {
    /* request line */
    const char *method;    size_t method_len;     /* [NUL] a token, case as sent       */
    const char *target;    size_t target_len;     /* [NUL] as sent                     */
    int         form;                             /* GN__HTTP_FORM_*                   */
    const char *authority; size_t authority_len;  /* absolute- and authority-form:
                                                     "host[:port]"; else NULL, 0       */
    const char *path;      size_t path_len;       /* the origin-form part of the target,
                                                     a [NUL] suffix of it: as a string
                                                     "/a%20b?x=1", path_len counting
                                                     "/a%20b". Empty for an absolute
                                                     target with no path (means "/")
                                                     and for authority-form; "*" for
                                                     asterisk-form.                    */
    const char *query;     size_t query_len;      /* [NUL] after the '?'; NULL if none */
    /* status line */
    int         status;                           /* 100..999                          */
    const char *reason;    size_t reason_len;     /* [NUL] may be empty                */
    /* both */
    int         minor;                            /* HTTP/1.minor: 0 or 1              */
    gn_http_header *hdrs;  size_t nhdrs;          /* [NUL] names and values, in order  */
    int64_t     content_length;                   /* -1: none (or chunked)             */
    const char *host;      size_t host_len;       /* the authority of an absolute- or
                                                     authority-form target, else the Host
                                                     value ([NUL]); NULL if neither    */
    uint8_t     chunked;                          /* Transfer-Encoding: chunked        */
    uint8_t     keep_alive;                       /* from the version and Connection   */
    uint8_t     expect_continue;                  /* HTTP/1.1 with Expect: 100-continue */
    uint8_t     upgrade;                          /* Connection lists "upgrade"        */
    size_t      head_len;                         /* through the blank line            */
} gn__http_head;

/* ---- bytes ------------------------------------------------------------------------
 * One table for every character class the grammar needs (RFC 9110 §5.6.2 token,
 * §5.5 field values, RFC 3986 hosts). Written out by a script; the test
 * char_classes checks every entry against the definitions.                      */
#define GN__HC_TCHAR  0x01 /* token: ALPHA DIGIT !#$%&'*+-.^_`|~                      */
#define GN__HC_VCHAR  0x02 /* 0x21..0x7E: request-target bytes                       */
#define GN__HC_VALUE  0x04 /* field value: HTAB SP VCHAR obs-text (0x80..0xFF)       */
#define GN__HC_HOST   0x08 /* reg-name and IP-literal: unreserved sub-delims '%'     */
#define GN__HC_HEX    0x10
#define GN__HC_QDTEXT 0x20 /* quoted-string text: all of VALUE but '"' and '\'        */
#define GN__HC_SCHEME 0x40 /* ALPHA DIGIT + - .                                       */

#define GN__HC_OBS16 0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,
static const unsigned char gn__http_cc[256] = {
    /* 0_ */ 0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x24,0x00,0x00,0x00,0x00,0x00,0x00,
    /* 1_ */ 0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,
    /* 2_ */ 0x24,0x2f,0x06,0x27,0x2f,0x2f,0x2f,0x2f,0x2e,0x2e,0x2f,0x6f,0x2e,0x6f,0x6f,0x26,
    /* 3_ */ 0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x26,0x2e,0x26,0x2e,0x26,0x26,
    /* 4_ */ 0x26,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,
    /* 5_ */ 0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x26,0x06,0x26,0x27,0x2f,
    /* 6_ */ 0x27,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,
    /* 7_ */ 0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x26,0x27,0x26,0x2f,0x00,
    GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16   /* 8_ .. B_ */
    GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16   /* C_ .. F_ */
};
#undef GN__HC_OBS16

#define GN__HC(c, cls) (gn__http_cc[(unsigned char)(c)] & (cls))
#define GN__HC_WS(c) ((c) == ' ' || (c) == '\t')

/* Skips the bytes in [lo, 0x7E] from p, eight at a time while a whole word is
 * in range, and stops at most 7 bytes short of the first one that is not: the
 * byte loops after it finish the job (and judge HTAB and obs-text, which this
 * does not pass). Most of a head is printable ASCII.                           */
GN__PRIVATE const char *gn__http_skip_ascii(const char *p, const char *e, unsigned lo) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    const uint64_t below = ones * lo, del = ones * 0x7f;
    while (e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t y = x ^ del;
        /* nonzero iff some byte is < lo (lo <= 0x80), is 0x7F, or is >= 0x80 */
        if ((((x - below) & ~x) | ((y - ones) & ~y) | x) & highs) break;
        p += 8;
    }
    return p;
}

GN__PRIVATE int gn__http_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* a[0, n) equals w[0, n) ignoring ASCII case. (Not c | 0x20: '^' and '~' are
 * both token bytes.)                                                             */
GN__PRIVATE int gn__http_ieq(const char *a, const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (gn__http_lower((unsigned char)a[i]) != gn__http_lower((unsigned char)w[i]))
            return 0;
    return 1;
}

#define GN__HTTP_IS(p, n, word) ((n) == sizeof(word) - 1 && gn__http_ieq((p), (word), (n)))

/* A comma-separated list (RFC 9110 §5.6.1): elements come out with their OWS
 * trimmed, empty ones included ("a,,b" is a, "", b); the callers decide whether
 * an empty element is harmless (Connection, Expect) or an error (framing).       */
typedef struct gn__http_list {
    const char *p, *e;
    int         done;
} gn__http_list;

GN__PRIVATE void gn__http_list_init(gn__http_list *l, const char *p, size_t n) {
    l->p = p;
    l->e = p + n;
    l->done = 0;
}

GN__PRIVATE int gn__http_list_next(gn__http_list *l, const char **el, size_t *n) {
    if (l->done) return 0;
    const char *s = l->p, *t = (const char *)memchr(s, ',', (size_t)(l->e - s));
    if (t) {
        l->p = t + 1;
    } else {
        t = l->e;
        l->done = 1;
    }
    while (s < t && GN__HC_WS(*s)) s++;
    while (t > s && GN__HC_WS(t[-1])) t--;
    *el = s;
    *n = (size_t)(t - s);
    return 1;
}

/* Host and authority syntax (RFC 3986 §3.2.2-3.2.3): a reg-name or IPv4 address,
 * or a bracketed IP literal, then an optional ":" and decimal port. No userinfo
 * ('@' is not a host byte; RFC 9110 §4.2.4 says to treat it as an error), no
 * spaces, no second colon outside brackets. Stricter than Go, which takes any
 * mix of the allowed bytes. need_host: the host part must not be empty.           */
GN__PRIVATE int gn__http_valid_host(const char *p, size_t n, int need_host) {
    const char *e = p + n, *h = p;
    if (p < e && *p == '[') {
        for (p++;; p++) {
            if (p == e) return 0;
            if (*p == ']') break;
            if (*p != ':' && !GN__HC(*p, GN__HC_HOST)) return 0;
        }
        if (p == h + 1) return 0;  /* "[]" */
        p++;
    } else {
        while (p < e && GN__HC(*p, GN__HC_HOST)) p++;
        if (need_host && p == h) return 0;
    }
    if (p == e) return 1;
    if (*p != ':') return 0;
    for (p++; p < e; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

/* ---- lines ------------------------------------------------------------------------
 * Each takes one line without its line end, [p, e), and returns 0 or minus a
 * status. A CR inside a line is in no character class, so a bare CR anywhere
 * fails here.                                                                    */

/* "HTTP/" DIGIT "." DIGIT, exactly. HTTP/1.0 and HTTP/1.1 are served; any other
 * well-formed version gets 505. (RFC 9110 §6.2 suggests treating HTTP/1.2 as
 * 1.1, and Go does; we answer 505, as nothing sends it.)                          */
GN__PRIVATE int gn__http_version(const char *p, const char *e, int *minor) {
    if (e - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' ||
        p[5] > '9' || p[7] < '0' || p[7] > '9')
        return -400;
    if (p[5] != '1' || p[7] > '1') return -505;
    *minor = p[7] - '0';
    return 0;
}

/* Sorts the target into its form (RFC 9112 §3.2) and splits out authority, path
 * and query. Bytes are already known to be VCHAR.                                */
GN__PRIVATE int gn__http_target(gn__http_head *h) {
    const char *t = h->target, *e = t + h->target_len, *p = t;
    h->authority = NULL;
    h->authority_len = 0;
    h->query = NULL;
    h->query_len = 0;
    if (*t == '/') {
        h->form = GN__HTTP_FORM_ORIGIN;
    } else if (h->method_len == 7 && memcmp(h->method, "CONNECT", 7) == 0) {
        /* uri-host ":" port. CONNECT also takes origin-form above, as Go does
         * (net/rpc sends "CONNECT /_goRPC_").                                    */
        const char *d = e;
        while (d > t && d[-1] >= '0' && d[-1] <= '9') d--;
        if (d == e || d - 1 <= t || d[-1] != ':' || (*t == '[' && d[-2] != ']') ||
            !gn__http_valid_host(t, h->target_len, 1))
            return -400;
        h->form = GN__HTTP_FORM_AUTHORITY;
        h->authority = t;
        h->authority_len = h->target_len;
        h->path = e;
        h->path_len = 0;
        return 0;
    } else if (h->target_len == 1 && *t == '*') {
        if (h->method_len != 7 || memcmp(h->method, "OPTIONS", 7) != 0) return -400;
        h->form = GN__HTTP_FORM_ASTERISK;
        h->path = t;
        h->path_len = 1;
        return 0;
    } else {
        /* scheme "://" authority path-abempty [ "?" query ]. Any scheme, as Go:
         * the handler sees it and decides.                                       */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return -400;
        while (p < e && GN__HC(*p, GN__HC_SCHEME)) p++;
        if (e - p < 3 || memcmp(p, "://", 3) != 0) return -400;
        const char *a = p += 3;
        while (p < e && *p != '/' && *p != '?') p++;
        if (!gn__http_valid_host(a, (size_t)(p - a), 1)) return -400;
        h->form = GN__HTTP_FORM_ABSOLUTE;
        h->authority = a;
        h->authority_len = (size_t)(p - a);
    }
    const char *q = (const char *)memchr(p, '?', (size_t)(e - p));
    h->path = p;
    h->path_len = (size_t)((q ? q : e) - p);
    if (q) {
        h->query = q + 1;
        h->query_len = (size_t)(e - q - 1);
    }
    return 0;
}

/* method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
 * The method is any token: an unknown one is the handler's 405 or 501.          */
GN__PRIVATE int gn__http_request_line(const char *p, const char *e, gn__http_head *h) {
    const char *m = p;
    while (p < e && GN__HC(*p, GN__HC_TCHAR)) p++;
    if (p == m || p == e || *p != ' ') return -400;
    h->method = m;
    h->method_len = (size_t)(p - m);
    const char *t = ++p;
    p = gn__http_skip_ascii(p, e, 0x21);
    while (p < e && GN__HC(*p, GN__HC_VCHAR)) p++;
    if (p == t || p == e || *p != ' ') return -400;
    h->target = t;
    h->target_len = (size_t)(p - t);
    int r = gn__http_version(p + 1, e, &h->minor);
    if (r < 0) return r;
    return gn__http_target(h);
}

/* HTTP-version SP 3DIGIT [ SP reason-phrase ]. The space before an empty reason
 * is optional, as in Go: servers send "HTTP/1.1 200" too.                        */
GN__PRIVATE int gn__http_status_line(const char *p, const char *e, gn__http_head *h) {
    if (e - p < 12 || p[8] != ' ') return -400;
    int r = gn__http_version(p, p + 8, &h->minor);
    if (r < 0) return r;
    if (p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return -400;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    p += 12;
    if (p < e && *p++ != ' ') return -400;
    h->reason = p;
    for (; p < e; p++)
        if (!GN__HC(*p, GN__HC_VALUE)) return -400;
    h->reason_len = (size_t)(e - h->reason);
    return 0;
}

/* field-name ":" OWS field-value OWS (RFC 9110 §5). A line that starts with
 * whitespace (obs-fold, or whitespace before the first field) and whitespace
 * before the colon are refused, as RFC 9112 §5.1-5.2 ask of a server. Values may
 * carry obs-text; no CTL but HTAB.                                               */
GN__PRIVATE int gn__http_field_line(const char *p, const char *e, gn_http_header *f) {
    const char *n = p;
    while (p < e && GN__HC(*p, GN__HC_TCHAR)) p++;
    if (p == n || p == e || *p != ':') return -400;
    f->name = n;
    f->name_len = (size_t)(p - n);
    for (p++; p < e && GN__HC_WS(*p); p++) {}
    const char *v = p;
    for (p = gn__http_skip_ascii(p, e, 0x20); p < e; p++)
        if (!GN__HC(*p, GN__HC_VALUE)) return -400;
    while (p > v && GN__HC_WS(p[-1])) p--;
    f->value = v;
    f->value_len = (size_t)(p - v);
    return 0;
}

GN__PRIVATE int gn__http_start_line(const char *p, const char *e, gn__http_head *h, int response) {
    return response ? gn__http_status_line(p, e, h) : gn__http_request_line(p, e, h);
}

/* The content of the line that ends with the LF at nl and starts at ls: a CR
 * before the LF belongs to the line end (RFC 9112 §2.2 lets a bare LF end a line
 * too, and Go takes it).                                                          */
GN__PRIVATE const char *gn__http_line_end(const char *ls, const char *nl) {
    return nl > ls && nl[-1] == '\r' ? nl - 1 : nl;
}

/* ---- the head ---------------------------------------------------------------------- */

/* Judges the lines completed in buf[seen, lim) since an earlier call: 1 when one
 * of them is the blank line that ends the head, 0 when it is not there yet, or
 * minus a status. Bytes before seen are read only to find where the first new
 * line starts, and only once a new line is there, so each byte is looked at a
 * bounded number of times across calls.                                        */
GN__PRIVATE int gn__http_resume(const char *buf, size_t start, size_t seen, size_t lim,
                                int response) {
    const char *first = buf + start, *end = buf + lim, *ls = buf + seen;
    const char *nl = (const char *)memchr(ls, '\n', (size_t)(end - ls));
    if (!nl) {
        GN__HTTP_SCANNED(end - ls);
        return 0;
    }
    while (ls > first && ls[-1] != '\n') ls--;
    GN__HTTP_SCANNED(nl + 1 - ls);
    for (;;) {
        const char *ce = gn__http_line_end(ls, nl);
        int r;
        if (ls == first) {
            gn__http_head scratch;
            r = gn__http_start_line(ls, ce, &scratch, response);
        } else if (ce == ls) {
            return 1;
        } else {
            gn_http_header scratch;
            r = gn__http_field_line(ls, ce, &scratch);
        }
        if (r < 0) return r;
        ls = nl + 1;
        nl = (const char *)memchr(ls, '\n', (size_t)(end - ls));
        GN__HTTP_SCANNED((nl ? nl + 1 : end) - ls);
        if (!nl) return 0;
    }
}

/* Parses buf[start, lim) from the start line through the blank line, recording
 * into h and hdrs: 1 with h->head_len set, 0 if the blank line is not there, or
 * minus a status. Past max_hdrs the lines are still judged, so that a syntax
 * error wins over 431 whatever the split.                                       */
GN__PRIVATE int gn__http_full(const char *buf, size_t start, size_t lim, gn__http_head *h,
                              gn_http_header *hdrs, size_t max_hdrs, int response) {
    const char *p = buf + start, *end = buf + lim;
    const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p));
    GN__HTTP_SCANNED((nl ? nl + 1 : end) - p);
    if (!nl) return 0;
    int r = gn__http_start_line(p, gn__http_line_end(p, nl), h, response);
    if (r < 0) return r;
    size_t n = 0;
    for (;;) {
        p = nl + 1;
        nl = (const char *)memchr(p, '\n', (size_t)(end - p));
        GN__HTTP_SCANNED((nl ? nl + 1 : end) - p);
        if (!nl) return 0;
        const char *ce = gn__http_line_end(p, nl);
        if (ce == p) break;
        gn_http_header spare;
        r = gn__http_field_line(p, ce, n < max_hdrs ? &hdrs[n] : &spare);
        if (r < 0) return r;
        n++;
    }
    if (n > max_hdrs) return -431;
    h->hdrs = hdrs;
    h->nhdrs = n;
    h->head_len = (size_t)(nl + 1 - buf);
    return 1;
}

/* What the header fields say, gathered in one pass; the request and response
 * rules then judge it.                                                          */
typedef struct gn__http_facts {
    const gn_http_header *host;
    int     hosts;
    int     cl_seen, cl_bad;
    int64_t cl;
    int     te_seen, te_empty, te_codings, te_chunked, te_last_chunked;
    int     conn_close, conn_keep_alive, conn_upgrade;
    int     expect_continue, expect_other;
} gn__http_facts;

/* One Content-Length field: 1*DIGIT, or a list of equal ones ("42, 42", which
 * RFC 9110 §8.6 lets a recipient take as 42). Every value must equal *cl if it is
 * already set (a repeated field): Go accepts identical repeats, so do we.       */
GN__PRIVATE int gn__http_content_length(const gn_http_header *f, int64_t *cl) {
    gn__http_list l;
    const char *el;
    size_t n;
    gn__http_list_init(&l, f->value, f->value_len);
    while (gn__http_list_next(&l, &el, &n)) {
        if (n == 0) return -1;
        int64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            int d = el[i] - '0';
            if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10) return -1;
            v = v * 10 + d;
        }
        if (*cl >= 0 && v != *cl) return -1;
        *cl = v;
    }
    return 0;
}

GN__PRIVATE void gn__http_gather(const gn__http_head *h, gn__http_facts *x) {
    memset(x, 0, sizeof *x);
    x->cl = -1;
    for (size_t i = 0; i < h->nhdrs; i++) {
        const gn_http_header *f = &h->hdrs[i];
        gn__http_list l;
        const char *el;
        size_t n;
        switch (f->name_len) {
        case 4:
            if (gn__http_ieq(f->name, "host", 4)) {
                x->hosts++;
                x->host = f;
            }
            break;
        case 6:
            if (!gn__http_ieq(f->name, "expect", 6)) break;
            gn__http_list_init(&l, f->value, f->value_len);
            while (gn__http_list_next(&l, &el, &n)) {
                if (n == 0) continue;
                if (GN__HTTP_IS(el, n, "100-continue")) x->expect_continue = 1;
                else x->expect_other = 1;
            }
            break;
        case 10:
            if (!gn__http_ieq(f->name, "connection", 10)) break;
            gn__http_list_init(&l, f->value, f->value_len);
            while (gn__http_list_next(&l, &el, &n)) {
                if (GN__HTTP_IS(el, n, "close")) x->conn_close = 1;
                else if (GN__HTTP_IS(el, n, "keep-alive")) x->conn_keep_alive = 1;
                else if (GN__HTTP_IS(el, n, "upgrade")) x->conn_upgrade = 1;
            }
            break;
        case 14:
            if (!gn__http_ieq(f->name, "content-length", 14)) break;
            x->cl_seen = 1;
            if (gn__http_content_length(f, &x->cl) < 0) x->cl_bad = 1;
            break;
        case 17:
            if (!gn__http_ieq(f->name, "transfer-encoding", 17)) break;
            x->te_seen = 1;
            gn__http_list_init(&l, f->value, f->value_len);
            while (gn__http_list_next(&l, &el, &n)) {
                int chunked = GN__HTTP_IS(el, n, "chunked");
                if (n == 0) x->te_empty = 1;
                x->te_codings++;
                x->te_chunked += chunked;
                x->te_last_chunked = chunked;
            }
            break;
        default:
            break;
        }
    }
}

/* Whole-head rules for a request, in this order: Host (RFC 9112 §3.2), then
 * framing (§6), then Expect (RFC 9110 §10.1.1).
 *   Transfer-Encoding on HTTP/1.0: 400 (§6.1: the framing is faulty).
 *   Transfer-Encoding whose final coding is not chunked ("gzip", "identity",
 *   "chunked, identity"), chunked twice, or an empty coding: 400, since §6.3
 *   says the length cannot be known. chunked last after other codings
 *   ("gzip, chunked"): 501, we know the length but not the coding (§6.1).
 *   Go answers 501 to all of these; it is the 400s that §6.3 requires.
 *   Content-Length with Transfer-Encoding, in either order: 400 (§6.1 allows
 *   this; processing by Transfer-Encoding alone is how smuggling starts).
 *   Content-Length: digits, fits int64, repeats identical; otherwise 400.
 *   Host: exactly one on HTTP/1.1, at most one on 1.0, valid syntax; the
 *   authority of an absolute- or authority-form target wins over it (§3.2.2;
 *   Go does the same for CONNECT's authority).
 *   Expect: 100-continue sets expect_continue on HTTP/1.1 and is ignored on 1.0
 *   (RFC 9110 §10.1.1 says MUST); any other expectation: 417. An empty Expect is
 *   ignored, as Go does. Whether to send the 100 (only when the handler reads a
 *   body) is the server's call.                                                 */
GN__PRIVATE int gn__http_request_rules(gn__http_head *h) {
    gn__http_facts x;
    gn__http_gather(h, &x);
    if (x.hosts > 1) return -400;
    if (x.hosts == 0 && h->minor == 1) return -400;
    if (x.host && !gn__http_valid_host(x.host->value, x.host->value_len, 0)) return -400;
    if (x.cl_bad) return -400;
    if (x.te_seen) {
        if (h->minor == 0 || x.te_empty || !x.te_last_chunked || x.te_chunked > 1 || x.cl_seen)
            return -400;
        if (x.te_codings > 1) return -501;
    }
    if (x.expect_other) return -417;
    h->status = 0;
    h->reason = NULL;
    h->reason_len = 0;
    h->content_length = x.cl;
    h->chunked = (uint8_t)x.te_seen;
    h->expect_continue = (uint8_t)(x.expect_continue && h->minor == 1);
    h->keep_alive = (uint8_t)(!x.conn_close && (h->minor == 1 || x.conn_keep_alive));
    h->upgrade = (uint8_t)x.conn_upgrade;
    if (h->authority) {
        h->host = h->authority;
        h->host_len = h->authority_len;
    } else if (x.host) {
        h->host = x.host->value;
        h->host_len = x.host->value_len;
    } else {
        h->host = NULL;
        h->host_len = 0;
    }
    return 0;
}

/* Whole-head rules for a response: the same Content-Length rules; Transfer-
 * Encoding must be exactly "chunked" (Go's client refuses any other coding, and
 * RFC 9112 §6.3's fallback of reading until close would hand the caller bytes in
 * a coding it cannot undo); not on HTTP/1.0; never with Content-Length (§6.3 says
 * to treat that as an error; Go drops the length instead).                       */
GN__PRIVATE int gn__http_response_rules(gn__http_head *h) {
    gn__http_facts x;
    gn__http_gather(h, &x);
    if (x.cl_bad) return -400;
    if (x.te_seen && (h->minor == 0 || x.te_empty || x.te_codings != 1 || !x.te_last_chunked ||
                      x.cl_seen))
        return -400;
    h->content_length = x.cl;
    h->chunked = (uint8_t)x.te_seen;
    h->expect_continue = 0;
    h->keep_alive = (uint8_t)(!x.conn_close && (h->minor == 1 || x.conn_keep_alive));
    h->upgrade = (uint8_t)x.conn_upgrade;
    h->host = NULL;
    h->host_len = 0;
    h->method = h->target = h->authority = h->path = h->query = NULL;
    h->method_len = h->target_len = h->authority_len = h->path_len = h->query_len = 0;
    h->form = 0;
    return 0;
}

/* Writes the NULs that make the head's strings C strings. Each lands on a
 * delimiter inside the head: a space, a ':', OWS, CR or LF.                    */
GN__PRIVATE void gn__http_terminate(char *buf, gn__http_head *h, int response) {
#define GN__HTTP_NUL(ptr, len) (buf[(size_t)((ptr) - buf) + (len)] = '\0')
    if (response) {
        GN__HTTP_NUL(h->reason, h->reason_len);
    } else {
        GN__HTTP_NUL(h->method, h->method_len);
        GN__HTTP_NUL(h->target, h->target_len);
    }
    for (size_t i = 0; i < h->nhdrs; i++) {
        GN__HTTP_NUL(h->hdrs[i].name, h->hdrs[i].name_len);
        GN__HTTP_NUL(h->hdrs[i].value, h->hdrs[i].value_len);
    }
#undef GN__HTTP_NUL
}

GN__PRIVATE int gn__http_parse_head(char *buf, size_t len, size_t prev_len, gn__http_head *h,
                                    gn_http_header *hdrs, size_t max_hdrs,
                                    size_t max_head_bytes, int response) {
    if (!buf || !h || (!hdrs && max_hdrs)) return GN_EINVAL;
    if (max_head_bytes == 0) max_head_bytes = GN__HTTP_MAX_HEAD_DEFAULT;
    if (max_head_bytes > INT_MAX) max_head_bytes = INT_MAX;
    size_t lim = len < max_head_bytes ? len : max_head_bytes;
    int too_big = len >= max_head_bytes;  /* a head not complete by now never fits  */
    /* Empty lines before a request line (RFC 9112 §2.2: "at least one"; Go skips
     * up to 4 CR or LF bytes after a POST). Re-skipped on every call: bounded.   */
    size_t start = 0;
    for (int k = 0; !response; k++) {
        size_t eol = start < lim && buf[start] == '\n' ? 1
                   : start + 1 < lim && buf[start] == '\r' && buf[start + 1] == '\n' ? 2 : 0;
        if (!eol) break;
        if (k == GN__HTTP_MAX_LEADING_EOL) return -400;
        start += eol;
    }
    int r;
    if (prev_len > len) prev_len = len;
    if (prev_len > start) {
        r = gn__http_resume(buf, start, prev_len < lim ? prev_len : lim, lim, response);
        if (r <= 0) return r < 0 ? r : too_big ? -431 : 0;
    }
    r = gn__http_full(buf, start, lim, h, hdrs, max_hdrs, response);
    if (r <= 0) return r < 0 ? r : too_big ? -431 : 0;
    r = response ? gn__http_response_rules(h) : gn__http_request_rules(h);
    if (r < 0) return r;
    gn__http_terminate(buf, h, response);
    return (int)h->head_len;
}

/* ---- entry points ------------------------------------------------------------------ */

/* Parses the request head at the start of buf[0, len).
 *   > 0  the head is complete and valid: its length through the blank line; h is
 *        filled, hdrs[0, h->nhdrs) hold the fields, and the strings marked [NUL]
 *        in gn__http_head are NUL-terminated inside buf. Bytes past the head are
 *        untouched.
 *   0    incomplete: read more, append, and call again with the same buf start
 *        and prev_len = this call's len. buf is unchanged.
 *   < 0  minus the status to answer before closing: -400, -431 (head over
 *        max_head_bytes, complete or not, or more than max_hdrs fields), -501
 *        (a transfer coding we do not implement), -505 (not HTTP/1.0 or 1.1),
 *        -417 (an expectation other than 100-continue). GN_EINVAL for NULL
 *        arguments.
 * prev_len: how much of buf an earlier call for this message saw (it returned 0),
 * or 0. Any value from 0 to that length gives the same result (lines before it
 * were judged then and are not judged again until the head is whole); the exact
 * one keeps a trickled head linear. If the caller moves the bytes, or a call did
 * not return 0, it passes 0.
 * max_head_bytes bounds the head, leading empty lines and request line included;
 * 0 means GN__HTTP_MAX_HEAD_DEFAULT.                                             */
GN__PRIVATE int gn__http_parse_request(char *buf, size_t len, size_t prev_len, gn__http_head *h,
                                       gn_http_header *hdrs, size_t max_hdrs,
                                       size_t max_head_bytes) {
    return gn__http_parse_head(buf, len, prev_len, h, hdrs, max_hdrs, max_head_bytes, 0);
}

/* The response head, for the client: the same contract, but errors are
 * GN_ETOOLARGE (over max_head_bytes or max_hdrs) or GN_EHTTP (anything else
 * malformed, including versions other than 1.0 and 1.1). No leading empty lines.
 * Fills status, reason, minor, hdrs, content_length, chunked, keep_alive and
 * upgrade; whether a body follows depends on the request too: see
 * gn__http_response_body. A 1xx head is followed by another head.              */
GN__PRIVATE int gn__http_parse_response(char *buf, size_t len, size_t prev_len, gn__http_head *h,
                                        gn_http_header *hdrs, size_t max_hdrs,
                                        size_t max_head_bytes) {
    int r = gn__http_parse_head(buf, len, prev_len, h, hdrs, max_hdrs, max_head_bytes, 1);
    if (r >= 0 || r == GN_EINVAL) return r;
    return r == -431 ? GN_ETOOLARGE : GN_EHTTP;
}

/* How a response's body is delimited (RFC 9112 §6.3), given whether the request
 * was HEAD. A 2xx answer to CONNECT is a tunnel: the caller's case, not here.   */
enum {
    GN__HTTP_BODY_NONE,     /* HEAD, 1xx, 204, 304                                   */
    GN__HTTP_BODY_LENGTH,   /* content_length bytes (maybe 0)                        */
    GN__HTTP_BODY_CHUNKED,  /* gn__chunked                                           */
    GN__HTTP_BODY_CLOSE     /* until the server closes: the connection is not reused */
};

GN__PRIVATE int gn__http_response_body(const gn__http_head *h, int head_request) {
    if (head_request || h->status < 200 || h->status == 204 || h->status == 304)
        return GN__HTTP_BODY_NONE;
    if (h->chunked) return GN__HTTP_BODY_CHUNKED;
    if (h->content_length >= 0) return GN__HTTP_BODY_LENGTH;
    return GN__HTTP_BODY_CLOSE;
}

/* The first field after `after` (NULL: from the start) whose name is `name`,
 * ignoring ASCII case, or NULL. Repeated fields come back in arrival order.    */
GN__PRIVATE const gn_http_header *gn__http_find_next(const gn__http_head *h,
                                                     const gn_http_header *after,
                                                     const char *name) {
    size_t n = strlen(name);
    size_t i = after ? (size_t)(after - h->hdrs) + 1 : 0;
    for (; i < h->nhdrs; i++)
        if (h->hdrs[i].name_len == n && gn__http_ieq(h->hdrs[i].name, name, n))
            return &h->hdrs[i];
    return NULL;
}

GN__PRIVATE const gn_http_header *gn__http_find(const gn__http_head *h, const char *name) {
    return gn__http_find_next(h, NULL, name);
}

/* ---- chunked ------------------------------------------------------------------------
 * RFC 9112 §7.1, as a byte-at-a-time state machine over the framing and spans
 * over the data, so that any split decodes alike and data is never copied:
 *     chunk-size [ chunk-ext ] CRLF  chunk-data CRLF  ...  "0" [ chunk-ext ] CRLF
 *     *( field-line CRLF )  CRLF
 * Every line end is CRLF: a bare LF in chunk framing is how the chunk-parsing
 * smuggling variants start, and no client we know sends one (Go takes a bare LF
 * after the size; we do not). Extensions are checked against their grammar
 * (token [= token / quoted-string], BWS around ';' and '=') and dropped.
 *
 * Trailers are checked like header fields (token name, no space before ':', no
 * obs-fold, no CTL) and bounded by max_trailer bytes. If the caller gives a
 * buffer, each field is copied into it as "name\0value\0" (value trimmed of OWS),
 * for gn__chunked_trailers; otherwise they are checked and dropped. Which fields
 * may be trailers (RFC 9110 §6.5.1) is the caller's business.                   */
enum {
    GN__CK_SIZE0,       /* the first hex digit of a size                          */
    GN__CK_SIZE,
    GN__CK_EXT_WS,      /* BWS before ';'                                         */
    GN__CK_EXT_NAME0,   /* after ';': BWS, then a name                            */
    GN__CK_EXT_NAME,
    GN__CK_EXT_NAME_WS, /* BWS before '=' or ';'                                  */
    GN__CK_EXT_VAL0,    /* after '=': BWS, then a token or a quoted string        */
    GN__CK_EXT_TOKEN,
    GN__CK_EXT_QUOTED,
    GN__CK_EXT_QESC,
    GN__CK_EXT_VAL_END, /* after the closing quote                                */
    GN__CK_SIZE_LF,
    GN__CK_DATA,
    GN__CK_DATA_CR,
    GN__CK_DATA_LF,
    GN__CK_T_START,     /* a trailer line, or the final CRLF                      */
    GN__CK_T_NAME,
    GN__CK_T_OWS,
    GN__CK_T_VALUE,
    GN__CK_T_LF,
    GN__CK_END_LF,
    GN__CK_DONE,
    GN__CK_ERR
};

typedef struct gn__chunked {
    uint64_t size;        /* the size being read, then the chunk's data bytes left   */
    int64_t  excess;      /* framing not yet paid for by data                       */
    size_t   line;        /* bytes of the current size line                          */
    size_t   trailer;     /* bytes of the trailer section so far                     */
    size_t   max_trailer;
    char    *tbuf;        /* caller's, or NULL                                       */
    size_t   tcap, tlen;
    size_t   tval_end;    /* tlen after the value's last non-OWS byte               */
    size_t   ntrailers;   /* complete trailer fields                                 */
    int      state;
    int      err;         /* sticky                                                  */
    int      done;        /* the last chunk and the trailer section are through      */
} gn__chunked;

/* Readies c for one chunked body. tbuf[tcap] (may be NULL, 0) receives the
 * trailer fields; max_trailer bounds the trailer section (0: 16 KiB).           */
GN__PRIVATE void gn__chunked_init(gn__chunked *c, char *tbuf, size_t tcap, size_t max_trailer) {
    memset(c, 0, sizeof *c);
    c->tbuf = tbuf;
    c->tcap = tbuf ? tcap : 0;
    c->max_trailer = max_trailer ? max_trailer : GN__CHUNKED_MAX_TRAILER_DEFAULT;
    c->state = GN__CK_SIZE0;
}

GN__PRIVATE int gn__chunked_put(gn__chunked *c, char ch) {
    if (!c->tbuf) return 0;
    if (c->tlen >= c->tcap) return GN_ETOOLARGE;
    c->tbuf[c->tlen++] = ch;
    return 0;
}

/* One byte of a size line: 0, or an error.                                    */
GN__PRIVATE int gn__chunked_size_byte(gn__chunked *c, unsigned char ch) {
    if (++c->line > GN__CHUNKED_MAX_LINE) return GN_EHTTP;
    int ws = GN__HC_WS(ch), tchar = GN__HC(ch, GN__HC_TCHAR) != 0;
    switch (c->state) {
    case GN__CK_SIZE0:
    case GN__CK_SIZE:
        if (GN__HC(ch, GN__HC_HEX)) {
            unsigned d = (unsigned)(ch <= '9' ? ch - '0' : gn__http_lower(ch) - 'a' + 10);
            if (c->size > ((uint64_t)INT64_MAX - d) / 16) return GN_EHTTP;
            c->size = c->size * 16 + d;
            c->state = GN__CK_SIZE;
            return 0;
        }
        if (c->state == GN__CK_SIZE0) return GN_EHTTP;
        if (ws) c->state = GN__CK_EXT_WS;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (ch == '\r') c->state = GN__CK_SIZE_LF;
        else return GN_EHTTP;
        return 0;
    case GN__CK_EXT_WS:
        if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_NAME0:
        if (tchar) c->state = GN__CK_EXT_NAME;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_NAME:
        if (tchar) return 0;
        if (ws) c->state = GN__CK_EXT_NAME_WS;
        else if (ch == '=') c->state = GN__CK_EXT_VAL0;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (ch == '\r') c->state = GN__CK_SIZE_LF;
        else return GN_EHTTP;
        return 0;
    case GN__CK_EXT_NAME_WS:
        if (ch == '=') c->state = GN__CK_EXT_VAL0;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_VAL0:
        if (ch == '"') c->state = GN__CK_EXT_QUOTED;
        else if (tchar) c->state = GN__CK_EXT_TOKEN;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_QUOTED:
        if (ch == '"') c->state = GN__CK_EXT_VAL_END;
        else if (ch == '\\') c->state = GN__CK_EXT_QESC;
        else if (!GN__HC(ch, GN__HC_QDTEXT)) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_QESC:
        if (!GN__HC(ch, GN__HC_VALUE)) return GN_EHTTP;
        c->state = GN__CK_EXT_QUOTED;
        return 0;
    case GN__CK_EXT_TOKEN:
    case GN__CK_EXT_VAL_END:
        if (tchar && c->state == GN__CK_EXT_TOKEN) return 0;
        if (ws) c->state = GN__CK_EXT_WS;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (ch == '\r') c->state = GN__CK_SIZE_LF;
        else return GN_EHTTP;
        return 0;
    case GN__CK_SIZE_LF: {
        if (ch != '\n') return GN_EHTTP;
        /* The line and the CRLF after the data are overhead; the data pays. */
        int64_t pay = 16 + (c->size > ((uint64_t)1 << 40) ? ((int64_t)1 << 41) : 2 * (int64_t)c->size);
        c->excess += (int64_t)c->line + 2 - pay;
        if (c->excess < 0) c->excess = 0;
        if (c->excess > GN__CHUNKED_MAX_EXCESS) return GN_EHTTP;
        c->line = 0;
        c->state = c->size ? GN__CK_DATA : GN__CK_T_START;
        return 0;
    }
    default:
        return GN_EHTTP;
    }
}

/* One byte of the trailer section: 0, or an error.                            */
GN__PRIVATE int gn__chunked_trailer_byte(gn__chunked *c, unsigned char ch) {
    if (++c->trailer > c->max_trailer) return GN_ETOOLARGE;
    switch (c->state) {
    case GN__CK_T_START:
        if (ch == '\r') {
            c->state = GN__CK_END_LF;
            return 0;
        }
        if (!GN__HC(ch, GN__HC_TCHAR)) return GN_EHTTP;  /* obs-fold, empty name */
        c->state = GN__CK_T_NAME;
        return gn__chunked_put(c, (char)ch);
    case GN__CK_T_NAME:
        if (GN__HC(ch, GN__HC_TCHAR)) return gn__chunked_put(c, (char)ch);
        if (ch != ':') return GN_EHTTP;
        c->state = GN__CK_T_OWS;
        c->tval_end = c->tlen + 1;
        return gn__chunked_put(c, '\0');
    case GN__CK_T_OWS:
    case GN__CK_T_VALUE:
        if (ch == '\r') {
            c->state = GN__CK_T_LF;
            return 0;
        }
        if (!GN__HC(ch, GN__HC_VALUE)) return GN_EHTTP;
        if (GN__HC_WS(ch)) {
            if (c->state == GN__CK_T_OWS) return 0;
            return gn__chunked_put(c, (char)ch);
        }
        c->state = GN__CK_T_VALUE;
        if (gn__chunked_put(c, (char)ch) < 0) return GN_ETOOLARGE;
        c->tval_end = c->tlen;
        return 0;
    case GN__CK_T_LF:
        if (ch != '\n') return GN_EHTTP;
        if (c->tbuf) c->tlen = c->tval_end;
        c->state = GN__CK_T_START;
        /* Counted once its NUL is in: gn__chunked_trailers reads the fields
         * with strlen, also after a full tbuf stopped the body.             */
        if (gn__chunked_put(c, '\0') < 0) return GN_ETOOLARGE;
        c->ntrailers++;
        return 0;
    case GN__CK_END_LF:
        if (ch != '\n') return GN_EHTTP;
        c->state = GN__CK_DONE;
        c->done = 1;
        return 0;
    default:
        return GN_EHTTP;
    }
}

/* Decodes from in[0, n). Returns how many bytes of in it consumed (>= 0), or an
 * error: GN_EHTTP (malformed: bad or missing size, size over 2^63-1, a size line
 * over 4 KiB, a bad extension, a missing CRLF after data, a bare CR or LF, a bad
 * trailer field, too much framing for the data), GN_ETOOLARGE (trailers over
 * max_trailer or tbuf). Errors are sticky.
 * Payload: when *dlen > 0, in[*data - in, + *dlen) is chunk data, and it is the
 * last thing consumed: the call stops after each span so the caller can deliver
 * it, then calls again with what follows. max_data caps a span (0: no cap).
 * When c->done, the body ended within the consumed bytes; what follows in `in`
 * is the next message. Otherwise, a call with no span consumed all n bytes:
 * feed more. While not done, every call with n > 0 consumes at least one byte. */
GN__PRIVATE int64_t gn__chunked_feed(gn__chunked *c, const char *in, size_t n, size_t max_data,
                                     const char **data, size_t *dlen) {
    *data = NULL;
    *dlen = 0;
    if (c->err) return c->err;
    if (n > (size_t)INT64_MAX) n = (size_t)INT64_MAX;
    if (max_data == 0) max_data = SIZE_MAX;
    size_t i = 0;
    while (i < n) {
        int st = c->state, r;
        if (st == GN__CK_DATA) {
            size_t k = n - i;
            if (k > max_data) k = max_data;
            if ((uint64_t)k > c->size) k = (size_t)c->size;
            *data = in + i;
            *dlen = k;
            c->size -= k;
            if (c->size == 0) c->state = GN__CK_DATA_CR;
            return (int64_t)(i + k);
        }
        if (st == GN__CK_DONE) break;
        unsigned char ch = (unsigned char)in[i++];
        if (st == GN__CK_DATA_CR) {
            r = ch == '\r' ? (c->state = GN__CK_DATA_LF, 0) : GN_EHTTP;
        } else if (st == GN__CK_DATA_LF) {
            r = ch == '\n' ? (c->state = GN__CK_SIZE0, c->size = 0, 0) : GN_EHTTP;
        } else if (st >= GN__CK_T_START) {
            r = gn__chunked_trailer_byte(c, ch);
        } else {
            r = gn__chunked_size_byte(c, ch);
        }
        if (r < 0) {
            c->err = r;
            c->state = GN__CK_ERR;
            return r;
        }
    }
    return (int64_t)i;
}

/* Chunk data still to come in the current chunk (0 outside chunk data). A
 * caller with an empty buffer may read up to this many bytes straight from the
 * source into its destination, and then tell the decoder with skip_data.        */
GN__PRIVATE uint64_t gn__chunked_data_left(const gn__chunked *c) {
    return c->state == GN__CK_DATA ? c->size : 0;
}

GN__PRIVATE void gn__chunked_skip_data(gn__chunked *c, uint64_t k) {
    GN_ASSERT(c->state == GN__CK_DATA && k <= c->size);
    c->size -= k;
    if (c->size == 0) c->state = GN__CK_DATA_CR;
}

/* The trailer fields copied so far (all of them once c->done), as headers
 * pointing into tbuf, NUL-terminated: fills out[0, max) and returns how many
 * fields there are (0 without a tbuf).                                          */
GN__PRIVATE size_t gn__chunked_trailers(const gn__chunked *c, gn_http_header *out, size_t max) {
    if (!c->tbuf) return 0;
    const char *p = c->tbuf;
    for (size_t i = 0; i < c->ntrailers && i < max; i++) {
        out[i].name = p;
        out[i].name_len = strlen(p);
        p += out[i].name_len + 1;
        out[i].value = p;
        out[i].value_len = strlen(p);
        p += out[i].value_len + 1;
    }
    return c->ntrailers;
}
/* ==== end src/http_parse.c ==== */

/* ==== begin src/http_server.c ==== */
/* http_server.c — the HTTP/1.1 server: one coroutine per connection, requests
 * parsed in place in the connection's buffer, the response writer, keep-alive,
 * pipelining, timeouts, hijacking and graceful shutdown (Go's net/http server).
 *
 * Memory. A connection owns a small struct; while it works on a request it also
 * holds a work block from the server's pool: the read buffer (the head must fit
 * there, max_header_bytes, plus room for body bytes and pipelined requests),
 * the response body buffer, the output buffer where heads (and the responses
 * to pipelined requests) are gathered, and the response headers' strings. A
 * connection that waits for a request gives the block back and parks in the
 * poller, which starts a coroutine when bytes arrive: an idle keep-alive
 * connection costs its struct, no coroutine and no buffer, and so does a new
 * one that has sent nothing yet (a crowd of silent connections is cheap).
 *
 * System calls. A keep-alive request costs one read and one write: the head and
 * a body that fits the buffer go out in one sendmsg; the wait for the next
 * request is a park on the poller, not a read that returns EAGAIN (the last
 * read was short, so the socket is known to be empty). Responses to pipelined
 * requests already in the buffer are gathered and written together. Deadlines
 * are reset only when they moved by more than a slack (1/8 of the timeout, at
 * most 100 ms), so a busy connection does not touch the timer heap per request.
 *
 * Errors. A malformed request gets its 4xx (or 5xx) with "Connection: close",
 * then the connection is half-closed and drained briefly so the response is not
 * lost to a reset. A handler that writes nothing sends an empty 200.
 *
 * >>http-server                                                                  */

#define GN__HTTP_MAX_REQ_HEADERS   100           /* fields per request: 431 beyond     */
#define GN__HTTP_MAX_RESP_HEADERS  64            /* fields a handler may set            */
#define GN__HTTP_BODY_TAIL         4096          /* read buffer room past a full head  */
#define GN__HTTP_OUT_SIZE          4096          /* heads, and gathered responses      */
#define GN__HTTP_ARENA_SIZE        2048          /* response header strings (inline)   */
#define GN__HTTP_DRAIN_MAX         (256 * 1024)  /* unread body drained to keep alive  */
#define GN__HTTP_POOL_MAX          64            /* free work blocks kept per server   */

/* NEW: no request yet. Shutdown waits for it as for an ACTIVE one (Go's
 * StateNew), so a request already on its way is answered; IDLE ones it closes. */
enum { GN__HC_ACTIVE, GN__HC_NEW, GN__HC_IDLE, GN__HC_CLOSING, GN__HC_HIJACKED };
enum { GN__BODY_NONE, GN__BODY_LENGTH, GN__BODY_CHUNKED };
enum { GN__WATCH_OFF, GN__WATCH_ARMED, GN__WATCH_RUNNING, GN__WATCH_DONE };

typedef struct gn__http_conn gn__http_conn;
typedef struct gn__http_detached gn__http_detached;
GN__PRIVATE int gn__det_header(gn__http_detached *d, const char *name, const char *value, int op);
GN__PRIVATE int64_t gn__det_write(gn__http_detached *d, const void *buf, size_t n);
GN__PRIVATE int gn__det_status(gn__http_detached *d, int status);

typedef struct gn__http_hdr {        /* a response field: offsets into the arena   */
    uint32_t name, nlen, value, vlen;
} gn__http_hdr;

struct gn_http_request {
    gn__http_conn     *hc;
    gn__http_head      head;           /* its hdrs array is in the work block       */
    char              *heap;           /* long paths that did not fit the arena      */
    const char        *escaped_path;   /* NUL-terminated copy in the work block     */
    const char        *path;           /* decoded, NUL-terminated                   */
    const char        *host;           /* NUL-terminated, "" if none               */
    const gn__pathval *pathvals;       /* the matched pattern's values, or NULL    */
    int                npathvals;
    int                body_kind;      /* GN__BODY_*                                */
    int64_t            body_left;      /* LENGTH: bytes still to come               */
    int64_t            body_read;      /* bytes delivered, against max_body_bytes   */
    int                body_err;       /* sticky: a read error or the limit          */
    int                sent_continue;
    gn__chunked        chunked;
    gn_context        *ctx;            /* made on first use                         */
    uint32_t           watch;          /* atomic: GN__WATCH_*, the hang-up watch     */
};

struct gn_http_response {
    gn__http_conn *hc;
    int      status;                    /* 0 until write_header                       */
    int      head_sent;                 /* streaming: the head went out               */
    int      chunked;                   /* streaming with the chunked coding          */
    int      no_body;                   /* 1xx, 204, 304: writes are counted only       */
    int      head;                      /* a HEAD request: a body is made, not sent     */
    int      close;                     /* Connection: close after this response      */
    int      has_date, has_type;        /* the handler set them                       */
    int64_t  clen;                      /* a Content-Length the handler set, or -1    */
    int64_t  written;                   /* body bytes the handler wrote               */
    size_t   wlen;                      /* buffered body bytes                        */
    int      err;                       /* sticky write error                         */
    int      nh;
    gn__http_hdr *hdrs;                 /* GN__HTTP_MAX_RESP_HEADERS, in the work block */
    size_t   alen, acap;                /* arena bytes used, and usable               */
    struct gn__http_detached *det;      /* a buffered writer of the timeout middleware */
};

struct gn__http_conn {
    gn_http_server *srv;
    gn_conn        *c;
    gn__http_conn  *prev, *next;        /* the server's list, under srv->lock         */
    uint32_t        state;              /* atomic: GN__HC_*                           */
    char           *block;              /* the work block, or NULL while idle         */
    size_t          rpos, rend;         /* unconsumed bytes: block[rpos, rend)       */
    size_t          body_base;          /* where body bytes may go: after the head   */
    size_t          olen;               /* bytes gathered in the output buffer       */
    int64_t         rd, wd;             /* the deadlines last set                     */
    char            remote[64];         /* filled on first use                        */
    int             woken;              /* started by the poller: read, do not park   */
    int64_t         nreq;               /* requests served                            */
    gn_http_request req;
    gn_http_response resp;
};

struct gn_http_server {
    gn_http_server_opts o;              /* defaults filled in                          */
    size_t          rsize, block_size;  /* read buffer, whole work block               */
    size_t          wsize;              /* write buffer, rounded up                    */
    uint32_t        lock;               /* conns, listeners, pool                      */
    gn__http_conn  *conns;
    int             nconns;
    gn_listener    *ln[8];
    int             nln;
    int             nhijacked;          /* listed, owned by a hijacker               */
    int             free_pending;       /* freed by the user; the last connection goes */
    uint32_t        shutting;           /* atomic                                      */
    gn_chan        *slots;              /* max_conns tokens, or NULL                  */
    char           *pool[GN__HTTP_POOL_MAX];
    int             npool;
};

/* The work block's regions, each a multiple of 16 bytes long.                    */
#define GN__HC_RBUF(hc)  ((hc)->block)
#define GN__HC_WBUF(hc)  ((hc)->block + (hc)->srv->rsize)
#define GN__HC_OBUF(hc)  (GN__HC_WBUF(hc) + (hc)->srv->wsize)
#define GN__HC_ARENA(hc) (GN__HC_OBUF(hc) + GN__HTTP_OUT_SIZE)
#define GN__HC_REQH(hc)  ((gn_http_header *)(void *)(GN__HC_ARENA(hc) + GN__HTTP_ARENA_SIZE))
#define GN__HC_RESPH(hc) ((gn__http_hdr *)(void *)(GN__HC_REQH(hc) + GN__HTTP_MAX_REQ_HEADERS))
#define GN__HTTP_ROUND16(n) (((n) + 15) & ~(size_t)15)

/* ---- small things --------------------------------------------------------------- */
GONET_API const char *gn_http_status_text(int status) {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" for now, formatted once a second per thread.
 * Thread-local is safe here: nothing between the read and the copy switches.    */
GN__PRIVATE size_t gn__http_date(char *out) {
    static GN__THREAD_LOCAL struct { time_t sec; char s[32]; size_t n; } cache;
    time_t now = time(NULL);
    if (now != cache.sec || cache.n == 0) {
        static const char days[] = "SunMonTueWedThuFriSat";
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        struct tm tm;
        gn__gmtime((int64_t)now, &tm);   /* not strftime: the C locale's names are the HTTP ones */
        int n = snprintf(cache.s, sizeof cache.s, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
                         days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cache.n = n > 0 && (size_t)n < sizeof cache.s ? (size_t)n : 0;
        cache.sec = now;
    }
    memcpy(out, cache.s, cache.n);
    return cache.n;
}

/* A Content-Type for a body the handler did not label: Go's DetectContentType
 * for the cases that matter to an API server (HTML, JSON, text, binary).       */
GN__PRIVATE const char *gn__http_sniff(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    static const char *const html[] = {"<!doctype html", "<html", "<head", "<body", "<div",
                                       "<p", "<h1", "<title", "<table", "<!--"};
    for (size_t k = 0; k < sizeof html / sizeof html[0]; k++) {
        size_t l = strlen(html[k]);
        if (n - i >= l && gn__http_ieq(p + i, html[k], l) &&
            (l == 4 || n - i == l || p[i + l] == ' ' || p[i + l] == '>' || l > 5))
            return "text/html; charset=utf-8";
    }
    if (i < n && (p[i] == '{' || p[i] == '[')) return "application/json";
    size_t lim = n < 512 ? n : 512;
    for (size_t k = 0; k < lim; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != 0x0c && c != 0x1b)
            return "application/octet-stream";
    }
    return "text/plain; charset=utf-8";
}

GN__PRIVATE size_t gn__http_u64(char *out, uint64_t v) {
    char t[24];
    size_t n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++) out[i] = t[n - 1 - i];
    return n;
}

/* Sets a deadline unless the one in force is already within the slack of it:
 * a keep-alive connection would otherwise reset its timers on every request.   */
GN__PRIVATE void gn__http_deadline(gn__http_conn *hc, int mode, int64_t timeout) {
    int64_t want = gn_now() + timeout;
    int64_t slack = timeout / 8 < 100 * GN_MILLISECOND ? timeout / 8 : 100 * GN_MILLISECOND;
    int64_t *cur = mode == 'r' ? &hc->rd : &hc->wd;
    if (*cur && *cur <= want && want - *cur <= slack) return;
    *cur = want;
    if (mode == 'r') gn_set_read_deadline(hc->c, want); else gn_set_write_deadline(hc->c, want);
}

/* ---- the work block pool ------------------------------------------------------- */
GN__PRIVATE char *gn__http_block_get(gn_http_server *s) {
    gn__lock(&s->lock);
    char *b = s->npool ? s->pool[--s->npool] : NULL;
    gn__unlock(&s->lock);
    return b ? b : (char *)GN_MALLOC(s->block_size);
}

GN__PRIVATE void gn__http_block_put(gn_http_server *s, char *b) {
    if (!b) return;
    gn__lock(&s->lock);
    if (s->npool < GN__HTTP_POOL_MAX) {
        s->pool[s->npool++] = b;
        b = NULL;
    }
    gn__unlock(&s->lock);
    GN_FREE(b);
}

/* ---- output --------------------------------------------------------------------- */
/* Writes the gathered output and then the iovecs after it, in one call.          */
GN__PRIVATE int gn__http_send(gn__http_conn *hc, gn__iov *more, int nmore) {
    gn__iov iov[8];
    int n = 0;
    if (hc->olen) {
        iov[n].iov_base = GN__HC_OBUF(hc);
        iov[n].iov_len = hc->olen;
        n++;
    }
    for (int i = 0; i < nmore && n < 8; i++) iov[n++] = more[i];
    hc->olen = 0;
    if (n == 0) return 0;
    int64_t r = gn__conn_writev(hc->c, iov, n);
    return r < 0 ? (int)r : 0;
}

GN__PRIVATE int gn__http_flush_out(gn__http_conn *hc) { return gn__http_send(hc, NULL, 0); }

/* Appends to the output buffer, flushing it first if it is full.                */
GN__PRIVATE int gn__http_out(gn__http_conn *hc, const char *p, size_t n) {
    while (n) {
        size_t room = GN__HTTP_OUT_SIZE - hc->olen;
        if (room == 0) {
            int rc = gn__http_flush_out(hc);
            if (rc) return rc;
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(GN__HC_OBUF(hc) + hc->olen, p, k);
        hc->olen += k;
        p += k;
        n -= k;
    }
    return 0;
}
#define GN__HTTP_OUTS(hc, lit) gn__http_out((hc), (lit), sizeof(lit) - 1)

/* A complete response made by the server itself (errors), then close.           */
GN__PRIVATE void gn__http_reply_error(gn__http_conn *hc, int status) {
    gn__http_deadline(hc, 'w', hc->srv->o.write_timeout);
    char line[320];
    const char *text = gn_http_status_text(status);
    int n = snprintf(line, sizeof line,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%d %s",
                     status, text, strlen(text) + 4, status, text);
    if (n > 0) gn__http_out(hc, line, (size_t)n);
    gn__http_flush_out(hc);
}

/* How many bytes at the start of p[0, n) are empty lines (CRLF or a bare LF,
 * as the parser takes them before a request line).                            */
GN__PRIVATE size_t gn__http_eols(const char *p, size_t n) {
    size_t i = 0;
    for (;;) {
        if (i < n && p[i] == '\n') i += 1;
        else if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') i += 2;
        else return i;
    }
}

/* Half-closes and reads what the client still sends, briefly, so that closing
 * with unread bytes does not reset the connection before the response lands. */
GN__PRIVATE void gn__http_linger_close(gn__http_conn *hc) {
    gn_close_write(hc->c);
    gn_set_read_deadline(hc->c, gn_now() + 500 * GN_MILLISECOND);
    char tmp[512];
    for (int i = 0; i < 128 && gn_read(hc->c, tmp, sizeof tmp) > 0; i++) {}
}

/* ---- the response writer -------------------------------------------------------- */
GN__PRIVATE int gn__http_valid_name(const char *s) {
    if (!s || !*s) return 0;
    for (; *s; s++) if (!GN__HC(*s, GN__HC_TCHAR)) return 0;
    return 1;
}
GN__PRIVATE int gn__http_valid_value(const char *s) {
    if (!s) return 0;
    for (; *s; s++) if (!GN__HC(*s, GN__HC_VALUE)) return 0;   /* no CR, LF, NUL: no injection */
    return 1;
}

GN__PRIVATE int gn__http_hdr_is(gn_http_response *w, const gn__http_hdr *h, const char *name) {
    return h->nlen == strlen(name) && gn__http_ieq(GN__HC_ARENA(w->hc) + h->name, name, h->nlen);
}

/* Notes what the server must know about a field the handler sets.               */
GN__PRIVATE int gn__http_hdr_effect(gn_http_response *w, const char *name, const char *value, int on) {
    if (gn__http_ieq(name, "content-length", 15) && strlen(name) == 14) {
        if (!on) { w->clen = -1; return 0; }
        int64_t v = 0;
        const char *p = value;
        if (!*p) return GN_EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10) return GN_EINVAL;
            v = v * 10 + (*p - '0');
        }
        w->clen = v;
    } else if (strlen(name) == 4 && gn__http_ieq(name, "date", 4)) {
        w->has_date = on;
    } else if (strlen(name) == 12 && gn__http_ieq(name, "content-type", 12)) {
        w->has_type = on;
    } else if (strlen(name) == 10 && gn__http_ieq(name, "connection", 10) && on) {
        if (gn__http_ieq(value, "close", 5) && strlen(value) == 5) w->close = 1;
    }
    return 0;
}

GONET_API int gn_http_del_header(gn_http_response *w, const char *name) {
    if (!w || !name) return GN_EINVAL;
    if (w->det) return gn__det_header(w->det, name, NULL, 'd');
    if (w->head_sent || w->status) return GN_ESTATE;
    int j = 0;
    for (int i = 0; i < w->nh; i++)
        if (!gn__http_hdr_is(w, &w->hdrs[i], name)) w->hdrs[j++] = w->hdrs[i];
    w->nh = j;
    return gn__http_hdr_effect(w, name, "", 0);
}

/* Appends a field, checked by the caller, whatever the state (the server's own
 * fields go in after the handler's write_header).                             */
GN__PRIVATE int gn__http_hdr_add(gn_http_response *w, const char *name, const char *value) {
    size_t nl = strlen(name), vl = strlen(value);
    if (w->nh == GN__HTTP_MAX_RESP_HEADERS || w->alen + nl + vl > w->acap) return GN_ETOOLARGE;
    int rc = gn__http_hdr_effect(w, name, value, 1);
    if (rc) return rc;
    char *a = GN__HC_ARENA(w->hc);
    gn__http_hdr *h = &w->hdrs[w->nh++];
    h->name = (uint32_t)w->alen;
    h->nlen = (uint32_t)nl;
    memcpy(a + w->alen, name, nl);
    w->alen += nl;
    h->value = (uint32_t)w->alen;
    h->vlen = (uint32_t)vl;
    memcpy(a + w->alen, value, vl);
    w->alen += vl;
    return 0;
}

GONET_API int gn_http_add_header(gn_http_response *w, const char *name, const char *value) {
    if (!w || !gn__http_valid_name(name) || !gn__http_valid_value(value)) return GN_EINVAL;
    if (w->det) return gn__det_header(w->det, name, value, 'a');
    if (w->head_sent || w->status) return GN_ESTATE;
    return gn__http_hdr_add(w, name, value);
}

GONET_API int gn_http_set_header(gn_http_response *w, const char *name, const char *value) {
    if (!w || !gn__http_valid_name(name) || !gn__http_valid_value(value)) return GN_EINVAL;
    if (w->det) return gn__det_header(w->det, name, value, 's');
    if (w->head_sent || w->status) return GN_ESTATE;
    gn_http_del_header(w, name);
    return gn_http_add_header(w, name, value);
}

GONET_API int gn_http_write_header(gn_http_response *w, int status) {
    if (!w || status < 100 || status > 999) return GN_EINVAL;
    if (w->det) return gn__det_status(w->det, status);
    if (w->status) return GN_ESTATE;   /* Go logs "superfluous WriteHeader"; we say so */
    w->status = status;
    if (status < 200 || status == 204 || status == 304) w->no_body = 1;
    return 0;
}

/* Serialises the head into the output buffer. length: the Content-Length to
 * send, or -1 for none (chunked, close-delimited, or no body).                  */
GN__PRIVATE int gn__http_write_head(gn_http_response *w, int64_t length) {
    gn__http_conn *hc = w->hc;
    char line[64];
    int status = w->status ? w->status : 200;
    const char *text = gn_http_status_text(status);
    size_t n = 0;
    memcpy(line, "HTTP/1.1 ", 9);
    n = 9 + gn__http_u64(line + 9, (uint64_t)status);
    line[n++] = ' ';
    int rc = gn__http_out(hc, line, n);
    if (!rc) rc = gn__http_out(hc, text, strlen(text));
    if (!rc) rc = GN__HTTP_OUTS(hc, "\r\n");
    const char *a = GN__HC_ARENA(hc);
    for (int i = 0; i < w->nh && !rc; i++) {
        const gn__http_hdr *h = &w->hdrs[i];
        if (gn__http_hdr_is(w, h, "content-length") || gn__http_hdr_is(w, h, "transfer-encoding") ||
            (w->close && gn__http_hdr_is(w, h, "connection")))
            continue;   /* framing is the server's */
        rc = gn__http_out(hc, a + h->name, h->nlen);
        if (!rc) rc = GN__HTTP_OUTS(hc, ": ");
        if (!rc) rc = gn__http_out(hc, a + h->value, h->vlen);
        if (!rc) rc = GN__HTTP_OUTS(hc, "\r\n");
    }
    if (!rc && !w->has_date) {
        memcpy(line, "Date: ", 6);
        n = 6 + gn__http_date(line + 6);
        line[n++] = '\r';
        line[n++] = '\n';
        rc = gn__http_out(hc, line, n);
    }
    if (!rc && length >= 0) {
        memcpy(line, "Content-Length: ", 16);
        n = 16 + gn__http_u64(line + 16, (uint64_t)length);
        line[n++] = '\r';
        line[n++] = '\n';
        rc = gn__http_out(hc, line, n);
    }
    if (!rc && w->chunked) rc = GN__HTTP_OUTS(hc, "Transfer-Encoding: chunked\r\n");
    if (!rc && w->close) rc = GN__HTTP_OUTS(hc, "Connection: close\r\n");
    else if (!rc && hc->req.head.minor == 0) rc = GN__HTTP_OUTS(hc, "Connection: keep-alive\r\n");
    if (!rc) rc = GN__HTTP_OUTS(hc, "\r\n");
    return rc;
}

GN__PRIVATE void gn__http_type_default(gn_http_response *w, const char *body, size_t n) {
    if (w->has_type || w->no_body || (n == 0 && w->written == 0)) return;
    gn__http_hdr_add(w, "Content-Type", gn__http_sniff(body, n));
}

/* Starts streaming: the head goes out without a length (chunked, or until close
 * for HTTP/1.0) unless the handler declared one.                                */
GN__PRIVATE int gn__http_start_stream(gn_http_response *w, const void *more, size_t nmore) {
    gn__http_conn *hc = w->hc;
    if (!w->status) gn_http_write_header(w, 200);
    if (w->wlen) gn__http_type_default(w, GN__HC_WBUF(hc), w->wlen);
    else gn__http_type_default(w, (const char *)more, nmore);
    if (!w->no_body && !w->head && w->clen < 0) {
        if (hc->req.head.minor >= 1) w->chunked = 1;
        else w->close = 1;
    }
    int rc = gn__http_write_head(w, w->clen);
    w->head_sent = 1;
    return rc;
}

/* Sends the buffered body bytes and then p[0, n), framed as the response needs. */
GN__PRIVATE int gn__http_send_body(gn_http_response *w, const void *p, size_t n) {
    gn__http_conn *hc = w->hc;
    size_t total = w->wlen + n;
    if (w->no_body || w->head || total == 0) {
        w->wlen = 0;
        return gn__http_flush_out(hc);
    }
    gn__iov iov[4];
    int k = 0;
    char size_line[24];
    if (w->chunked) {
        size_t sn = 0;
        static const char hex[] = "0123456789abcdef";
        char t[20];
        size_t v = total, tn = 0;
        do { t[tn++] = hex[v & 15]; v >>= 4; } while (v);
        while (tn) size_line[sn++] = t[--tn];
        size_line[sn++] = '\r';
        size_line[sn++] = '\n';
        iov[k].iov_base = size_line;
        iov[k++].iov_len = sn;
    }
    if (w->wlen) {
        iov[k].iov_base = GN__HC_WBUF(hc);
        iov[k++].iov_len = w->wlen;
    }
    if (n) {
        iov[k].iov_base = (void *)p;
        iov[k++].iov_len = n;
    }
    if (w->chunked) {
        iov[k].iov_base = (void *)"\r\n";
        iov[k++].iov_len = 2;
    }
    w->wlen = 0;
    return gn__http_send(hc, iov, k);
}

GONET_API int64_t gn_http_write(gn_http_response *w, const void *buf, size_t n) {
    if (!w || (!buf && n)) return GN_EINVAL;
    if (w->det) return gn__det_write(w->det, buf, n);
    if (w->err) return w->err;
    if (!w->status) gn_http_write_header(w, 200);
    if (n == 0) return 0;
    if (w->clen >= 0 && w->written + (int64_t)n > w->clen) return GN_ETOOLARGE;  /* Go's ErrContentLength */
    w->written += (int64_t)n;
    gn__http_conn *hc = w->hc;
    size_t cap = hc->srv->o.write_buffer_size;
    if (w->no_body) {   /* 1xx, 204, 304: counted, never sent */
        if (!w->head_sent && w->wlen + n <= cap) w->wlen += n;
        else if (!w->head_sent && (w->err = gn__http_start_stream(w, NULL, 0)) != 0) return w->err;
        return (int64_t)n;
    }
    if (w->wlen + n <= cap) {
        memcpy(GN__HC_WBUF(hc) + w->wlen, buf, n);
        w->wlen += n;
        return (int64_t)n;
    }
    int rc = 0;
    if (!w->head_sent) rc = gn__http_start_stream(w, buf, n);
    if (!rc) rc = gn__http_send_body(w, buf, n);
    if (rc) w->err = rc;
    return rc ? rc : (int64_t)n;
}

GONET_API int64_t gn_http_write_string(gn_http_response *w, const char *s) {
    if (!s) return GN_EINVAL;
    return gn_http_write(w, s, strlen(s));
}

GONET_API int gn_http_flush(gn_http_response *w) {
    if (!w) return GN_EINVAL;
    if (w->det) return 0;   /* buffered until the middleware decides */
    if (w->err) return w->err;
    int rc = 0;
    if (!w->head_sent) rc = gn__http_start_stream(w, NULL, 0);
    if (!rc) rc = gn__http_send_body(w, NULL, 0);
    if (rc) w->err = rc;
    return rc;
}

/* The handler returned: send what it left, as one response with a length if it
 * never streamed. more: pipelined requests wait, so gather rather than send.  */
GN__PRIVATE int gn__http_finish(gn_http_response *w, int more) {
    gn__http_conn *hc = w->hc;
    if (w->err) return w->err;
    if (!w->head_sent) {
        if (!w->status) gn_http_write_header(w, 200);
        gn__http_type_default(w, GN__HC_WBUF(hc), w->wlen);
        int64_t length = w->clen >= 0 ? w->clen : (int64_t)w->wlen;
        if (w->status < 200 || w->status == 204 || (w->status == 304 && w->clen < 0)) length = -1;
        if (w->no_body && w->clen < 0) length = -1;
        int rc = gn__http_write_head(w, length);
        if (rc) return rc;
        int body = !w->no_body && !w->head && w->wlen;
        if (body && hc->olen + w->wlen <= GN__HTTP_OUT_SIZE && more) {
            rc = gn__http_out(hc, GN__HC_WBUF(hc), w->wlen);
            w->wlen = 0;
            return rc;
        }
        if (!body) {
            w->wlen = 0;
            return more ? 0 : gn__http_flush_out(hc);
        }
        gn__iov iov;   /* fields by name: their order differs by OS */
        iov.iov_base = GN__HC_WBUF(hc);
        iov.iov_len = w->wlen;
        w->wlen = 0;
        rc = gn__http_send(hc, &iov, 1);
        if (!rc && w->clen >= 0 && w->written < w->clen) w->close = 1;   /* short: framing lost */
        return rc;
    }
    int rc = gn__http_send_body(w, NULL, 0);
    if (!rc && w->chunked) {
        rc = GN__HTTP_OUTS(hc, "0\r\n\r\n");
        if (!rc && !more) rc = gn__http_flush_out(hc);
    } else if (!rc && !more) {
        rc = gn__http_flush_out(hc);
    }
    if (!w->chunked && w->clen >= 0 && w->written < w->clen) w->close = 1;
    return rc;
}

GONET_API int gn_http_error(gn_http_response *w, const char *msg, int status) {
    if (!w || !msg) return GN_EINVAL;
    if (w->head_sent || w->status) return GN_ESTATE;
    gn_http_del_header(w, "Content-Length");
    gn_http_set_header(w, "Content-Type", "text/plain; charset=utf-8");
    gn_http_set_header(w, "X-Content-Type-Options", "nosniff");
    int rc = gn_http_write_header(w, status);
    if (rc) return rc;
    gn_http_write_string(w, msg);
    gn_http_write(w, "\n", 1);
    return 0;
}

GONET_API int gn_http_redirect(gn_http_response *w, gn_http_request *r, const char *url, int status) {
    if (!w || !r || !url || !gn__http_valid_value(url)) return GN_EINVAL;
    if (status < 300 || status > 399) return GN_EINVAL;
    int rc = gn_http_set_header(w, "Location", url);
    if (rc) return rc;
    int is_get = strcmp(r->head.method, "GET") == 0 || strcmp(r->head.method, "HEAD") == 0;
    if (is_get && !w->has_type) gn_http_set_header(w, "Content-Type", "text/html; charset=utf-8");
    rc = gn_http_write_header(w, status);
    if (rc) return rc;
    if (strcmp(r->head.method, "GET") == 0) {   /* as Go: a short note for old agents */
        gn_http_write_string(w, "<a href=\"");
        for (const char *p = url; *p; p++) {    /* HTML-escaped */
            const char *e = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;"
                          : *p == '"' ? "&#34;" : *p == '\'' ? "&#39;" : NULL;
            if (e) gn_http_write_string(w, e); else gn_http_write(w, p, 1);
        }
        gn_http_write_string(w, "\">");
        gn_http_write_string(w, gn_http_status_text(status));
        gn_http_write_string(w, "</a>.\n\n");
    }
    return 0;
}

/* ---- the request ----------------------------------------------------------------- */
GN__PRIVATE void gn__http_set_pathvalues(gn_http_request *r, const gn__pathval *vals, int n) {
    r->pathvals = vals;
    r->npathvals = n;
}
GN__PRIVATE const char *gn__http_escaped_path(const gn_http_request *r) { return r->escaped_path; }

GONET_API const char *gn_http_path_value(const gn_http_request *r, const char *name) {
    if (!r || !name) return NULL;
    for (int i = 0; i < r->npathvals; i++)
        if (strcmp(r->pathvals[i].name, name) == 0) return r->pathvals[i].value;
    return NULL;
}
GONET_API const char *gn_http_method(const gn_http_request *r) { return r ? r->head.method : NULL; }
GONET_API const char *gn_http_target(const gn_http_request *r) { return r ? r->head.target : NULL; }
GONET_API const char *gn_http_path(const gn_http_request *r) { return r ? r->path : NULL; }
GONET_API const char *gn_http_raw_query(const gn_http_request *r) {
    return !r ? NULL : r->head.query ? r->head.query : "";
}
GONET_API const char *gn_http_host(const gn_http_request *r) { return r ? r->host : NULL; }
GONET_API int gn_http_proto_minor(const gn_http_request *r) { return r ? r->head.minor : GN_EINVAL; }
GONET_API const char *gn_http_remote_addr(const gn_http_request *r) {
    if (!r) return NULL;
    gn__http_conn *hc = r->hc;
    if (!hc->remote[0] && gn_remote_addr(hc->c, hc->remote, sizeof hc->remote) < 0) hc->remote[0] = 0;
    return hc->remote;
}
GONET_API const char *gn_http_header_get(const gn_http_request *r, const char *name) {
    if (!r || !name) return NULL;
    const gn_http_header *h = gn__http_find(&r->head, name);
    return h ? h->value : NULL;
}
GONET_API size_t gn_http_headers(const gn_http_request *r, const gn_http_header **out) {
    if (!r) return 0;
    if (out) *out = r->head.hdrs;
    return r->head.nhdrs;
}
GONET_API int64_t gn_http_content_length(const gn_http_request *r) {
    return r ? r->head.content_length : GN_EINVAL;
}
/* ---- the request's context --------------------------------------------------------
 * Cancelled when the handler returns or the client goes away. Going away is seen
 * without a coroutine or a read: once the body is consumed, the connection is
 * armed in the poller (as an idle one is), and the coroutine that readiness
 * starts cancels the context if the peer hung up. Bytes of a pipelined request
 * also make it readable; they stay in the socket for the next read.           */
GN__PRIVATE void gn__http_watch_fired(void *arg) {
    gn_http_request *r = &((gn__http_conn *)arg)->req;
    uint32_t armed = GN__WATCH_ARMED;
    if (!gn__cas(&r->watch, &armed, (uint32_t)GN__WATCH_RUNNING)) return;
    if (gn__conn_hung_up(r->hc->c)) gn_context_cancel(r->ctx);
    gn__store(&r->watch, (uint32_t)GN__WATCH_DONE);
}

GN__PRIVATE void gn__http_watch_start(gn_http_request *r) {
    if (!r->ctx || r->watch != GN__WATCH_OFF) return;
    if (r->body_kind == GN__BODY_LENGTH && r->body_left > 0) return;   /* body first */
    if (r->body_kind == GN__BODY_CHUNKED && !r->chunked.done) return;
    gn__store(&r->watch, (uint32_t)GN__WATCH_ARMED);
    int rc = gn__conn_watch(r->hc->c, gn__http_watch_fired, r->hc);
    if (rc != 0) {   /* not armed: look now */
        gn__store(&r->watch, (uint32_t)GN__WATCH_DONE);
        if (gn__conn_hung_up(r->hc->c)) gn_context_cancel(r->ctx);
    }
}

/* After the handler: the watch must be off before the connection reads again
 * and before the context goes.                                                 */
GN__PRIVATE void gn__http_watch_stop(gn_http_request *r) {
    if (r->watch == GN__WATCH_OFF) return;
    if (gn__load(&r->watch) == GN__WATCH_ARMED && gn__conn_unwatch(r->hc->c)) return;
    /* It fired: its coroutine is on its way and touches r; wait for it.       */
    while (gn__load(&r->watch) != GN__WATCH_DONE) gn_yield();
}

GONET_API gn_context *gn_http_request_context(gn_http_request *r) {
    if (!r) return NULL;
    if (!r->ctx) {
        r->ctx = gn_context_with_cancel(NULL);
        if (r->ctx) gn__http_watch_start(r);
    }
    return r->ctx;
}

/* Reads more body bytes into the read buffer after the head, which must stay
 * where it is while the handler runs. > 0, or an error.                        */
GN__PRIVATE int64_t gn__http_fill_tail(gn__http_conn *hc) {
    char *rb = GN__HC_RBUF(hc);
    if (hc->rend == hc->rpos) {
        hc->rpos = hc->rend = hc->body_base;
    } else if (hc->rend == hc->srv->rsize && hc->rpos > hc->body_base) {
        memmove(rb + hc->body_base, rb + hc->rpos, hc->rend - hc->rpos);
        hc->rend -= hc->rpos - hc->body_base;
        hc->rpos = hc->body_base;
    }
    if (hc->rend == hc->srv->rsize) return GN_EBUFFULL;
    int64_t n = gn_read(hc->c, rb + hc->rend, hc->srv->rsize - hc->rend);
    if (n > 0) hc->rend += (size_t)n;
    return n;
}

GN__PRIVATE int gn__http_send_continue(gn__http_conn *hc) {
    gn_http_request *r = &hc->req;
    if (!r->head.expect_continue || r->sent_continue || hc->resp.head_sent) return 0;
    r->sent_continue = 1;
    int rc = GN__HTTP_OUTS(hc, "HTTP/1.1 100 Continue\r\n\r\n");
    return rc ? rc : gn__http_flush_out(hc);
}

GONET_API int64_t gn_http_body_read(gn_http_request *r, void *buf, size_t n) {
    if (!r || (!buf && n)) return GN_EINVAL;
    if (r->body_err) return r->body_err;
    if (r->body_kind == GN__BODY_NONE) return GN_EOF;
    if (n == 0) return 0;
    gn__http_conn *hc = r->hc;
    if (r->ctx && r->watch == GN__WATCH_OFF &&
        ((r->body_kind == GN__BODY_LENGTH && r->body_left == 0) ||
         (r->body_kind == GN__BODY_CHUNKED && r->chunked.done))) {
        gn__http_watch_start(r);
        return GN_EOF;
    }
    int rc = gn__http_send_continue(hc);
    if (rc) return r->body_err = rc;
    int64_t max = hc->srv->o.max_body_bytes;
    int64_t got;
    if (r->body_kind == GN__BODY_LENGTH) {
        if (r->body_left == 0) return GN_EOF;
        size_t want = (uint64_t)r->body_left < n ? (size_t)r->body_left : n;
        size_t have = hc->rend - hc->rpos;
        if (have) {
            got = (int64_t)(have < want ? have : want);
            memcpy(buf, GN__HC_RBUF(hc) + hc->rpos, (size_t)got);
            hc->rpos += (size_t)got;
        } else {
            got = gn_read(hc->c, buf, want);   /* large bodies skip the buffer */
            if (got == GN_EOF) got = GN_EUNEXPECTEDEOF;
            if (got < 0) return r->body_err = (int)got;
        }
        r->body_left -= got;
    } else {
        for (;;) {
            if (r->chunked.done) return GN_EOF;
            size_t have = hc->rend - hc->rpos;
            uint64_t direct = gn__chunked_data_left(&r->chunked);
            if (!have && direct) {   /* chunk data straight into the caller's buffer */
                size_t want = direct < n ? (size_t)direct : n;
                got = gn_read(hc->c, buf, want);
                if (got == GN_EOF) got = GN_EUNEXPECTEDEOF;
                if (got < 0) return r->body_err = (int)got;
                gn__chunked_skip_data(&r->chunked, (uint64_t)got);
                break;
            }
            if (!have) {
                got = gn__http_fill_tail(hc);
                if (got == GN_EOF) got = GN_EUNEXPECTEDEOF;
                if (got < 0) return r->body_err = (int)got;
                continue;
            }
            const char *data;
            size_t dlen;
            int64_t used = gn__chunked_feed(&r->chunked, GN__HC_RBUF(hc) + hc->rpos, have, n, &data, &dlen);
            if (used < 0) return r->body_err = (int)used;
            hc->rpos += (size_t)used;
            if (dlen) {
                memmove(buf, data, dlen);
                got = (int64_t)dlen;
                break;
            }
        }
    }
    r->body_read += got;
    if (max >= 0 && r->body_read > max) return r->body_err = GN_ETOOLARGE;
    return got;
}

GONET_API int64_t gn_http_body_reader(void *request, void *buf, size_t n) {
    return gn_http_body_read((gn_http_request *)request, buf, n);
}

/* After the handler: consume what is left of the body so that the next request
 * can be read, if that is cheap; 0 if the connection can go on.                */
GN__PRIVATE int gn__http_drain_body(gn_http_request *r) {
    if (r->body_kind == GN__BODY_NONE) return 0;
    if (r->body_err) return r->body_err;
    if (r->head.expect_continue && !r->sent_continue) return GN_ESTATE;  /* never sent: close */
    if (r->body_kind == GN__BODY_LENGTH && r->body_left > GN__HTTP_DRAIN_MAX) return GN_ETOOLARGE;
    char tmp[1024];
    int64_t budget = GN__HTTP_DRAIN_MAX, n;
    while ((n = gn_http_body_read(r, tmp, sizeof tmp)) > 0)
        if ((budget -= n) < 0) return GN_ETOOLARGE;
    return n == GN_EOF ? 0 : (int)n;
}

GN__PRIVATE void gn__http_conn_unlink(gn__http_conn *hc);

/* The hijacked connection's owner closed it: the server forgets it.            */
GN__PRIVATE void gn__http_hijack_closed(void *arg) {
    gn__http_conn *hc = (gn__http_conn *)arg;
    gn_http_server *s = hc->srv;
    gn__lock(&s->lock);
    s->nhijacked--;
    gn__unlock(&s->lock);
    if (s->slots) gn_chan_try_recv(s->slots, NULL);
    gn__http_conn_unlink(hc);     /* the last touch of s */
    GN_FREE(hc);
}

GONET_API int gn_http_hijack(gn_http_response *w, gn_conn **out, const char **buffered, size_t *nbuffered) {
    if (!w || !out) return GN_EINVAL;
    if (w->det) return GN_ENOSYS;   /* not under the timeout middleware, as in Go */
    gn__http_conn *hc = w->hc;
    if (w->head_sent || gn__load(&hc->state) == GN__HC_HIJACKED) return GN_ESTATE;
    if (hc->olen && gn__http_flush_out(hc) != 0) return GN_ECLOSED;
    w->err = GN_ESTATE;   /* the writer is dead: its bytes would corrupt the stream */
    gn__lock(&hc->srv->lock);
    hc->srv->nhijacked++;
    gn__unlock(&hc->srv->lock);
    gn__store(&hc->state, (uint32_t)GN__HC_HIJACKED);
    gn_set_deadline(hc->c, 0);
    *out = hc->c;
    if (buffered) *buffered = GN__HC_RBUF(hc) + hc->rpos;
    if (nbuffered) *nbuffered = hc->rend - hc->rpos;
    return 0;
}

/* ---- the timeout middleware (Go's http.TimeoutHandler) ----------------------------
 * The wrapped handler runs in a coroutine of its own with a writer that only
 * buffers (status, fields, body in memory). If it returns in time, what it
 * wrote is replayed on the real writer. If not, the client gets a 503 at once,
 * the handler's context is cancelled and its later writes fail with
 * GN_ETIMEDOUT; the middleware still waits for it to return before the
 * connection moves on, since it holds the request.                           */
struct gn__http_detached {
    gn_http_response w;                 /* what the wrapped handler writes to       */
    gn_mutex mu;                        /* the handler against the middleware       */
    int      status, timed_out;
    int      nh;
    char    *names[GN__HTTP_MAX_RESP_HEADERS], *values[GN__HTTP_MAX_RESP_HEADERS];
    char    *body;
    size_t   len, cap;
    gn_http_timeout *cfg;
    gn_http_request *r;
    gn_chan *done;
    int64_t  ended;                     /* when the wrapped handler returned          */
};

/* op: 's' set, 'a' add, 'd' delete.                                            */
GN__PRIVATE int gn__det_header(gn__http_detached *d, const char *name, const char *value, int op) {
    gn_mutex_lock(&d->mu);
    int rc = d->timed_out ? GN_ETIMEDOUT : d->status ? GN_ESTATE : 0;
    if (!rc && op != 'a') {
        int j = 0;
        for (int i = 0; i < d->nh; i++) {
            if (strlen(d->names[i]) == strlen(name) && gn__http_ieq(d->names[i], name, strlen(name))) {
                GN_FREE(d->names[i]);
                GN_FREE(d->values[i]);
            } else {
                d->names[j] = d->names[i];
                d->values[j++] = d->values[i];
            }
        }
        d->nh = j;
    }
    if (!rc && op != 'd') {
        if (d->nh == GN__HTTP_MAX_RESP_HEADERS) {
            rc = GN_ETOOLARGE;
        } else if (!(d->names[d->nh] = gn__strdup(name)) || !(d->values[d->nh] = gn__strdup(value))) {
            GN_FREE(d->names[d->nh]);
            rc = GN_ENOMEM;
        } else {
            d->nh++;
        }
    }
    gn_mutex_unlock(&d->mu);
    return rc;
}

GN__PRIVATE int gn__det_status(gn__http_detached *d, int status) {
    gn_mutex_lock(&d->mu);
    int rc = d->timed_out ? GN_ETIMEDOUT : d->status ? GN_ESTATE : 0;
    if (!rc) d->status = d->w.status = status;
    gn_mutex_unlock(&d->mu);
    return rc;
}

GN__PRIVATE int64_t gn__det_write(gn__http_detached *d, const void *buf, size_t n) {
    gn_mutex_lock(&d->mu);
    int64_t rc = d->timed_out ? GN_ETIMEDOUT : 0;
    if (!rc && !d->status) d->status = d->w.status = 200;
    if (!rc && d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n) cap *= 2;
        char *b = (char *)GN_REALLOC(d->body, cap);
        if (!b) rc = GN_ENOMEM; else d->body = b, d->cap = cap;
    }
    if (!rc) {
        if (n) memcpy(d->body + d->len, buf, n);
        d->len += n;
        rc = (int64_t)n;
    }
    gn_mutex_unlock(&d->mu);
    return rc;
}

GN__PRIVATE void gn__http_timeout_run(void *arg) {
    gn__http_detached *d = (gn__http_detached *)arg;
    d->cfg->handler(&d->w, d->r, d->cfg->ud);
    d->ended = gn_now();
    gn_chan_send(d->done, NULL);
}

GONET_API void gn_http_timeout_serve(gn_http_response *w, gn_http_request *r, void *timeout) {
    gn_http_timeout *cfg = (gn_http_timeout *)timeout;
    if (!w || !r || !cfg || !cfg->handler) return;
    gn__http_detached *d = (gn__http_detached *)GN_MALLOC(sizeof *d);
    gn_context *outer = gn_http_request_context(r);
    int64_t deadline = gn_now() + cfg->timeout;   /* one instant for the context and us */
    gn_context *inner = outer ? gn_context_with_deadline(outer, deadline) : NULL;
    gn_chan *done = gn_chan_new(0, 1);
    if (!d || !inner || !done) {
        GN_FREE(d);
        gn_context_free(inner);
        gn_chan_free(done);
        gn_http_error(w, "Service Unavailable", 503);
        return;
    }
    memset(d, 0, sizeof *d);
    d->w.det = d;
    d->w.clen = -1;
    d->cfg = cfg;
    d->r = r;
    d->done = done;
    r->ctx = inner;   /* the handler's gn_http_request_context: the deadline too */
    gn_select_case c = {done, GN_RECV, NULL, 0};
    int returned = 0;
    if (gn_go(gn__http_timeout_run, d) < 0) {
        gn_http_error(w, "Service Unavailable", 503);
    } else if ((returned = gn_select_until(&c, 1, deadline) == 0) && d->ended < deadline) {
        /* In time: replay what it wrote.                                       */
        for (int i = 0; i < d->nh; i++) gn_http_add_header(w, d->names[i], d->values[i]);
        gn_http_write_header(w, d->status ? d->status : 200);
        if (d->len) gn_http_write(w, d->body, d->len);
    } else {
        /* Its context ends at the deadline too, so a handler that returned
         * just now may have been answering that: past it, a 503 all the same. */
        gn_mutex_lock(&d->mu);
        d->timed_out = 1;
        gn_mutex_unlock(&d->mu);
        gn_http_set_header(w, "Content-Type", "text/html; charset=utf-8");
        gn_http_write_header(w, 503);
        gn_http_write_string(w, cfg->message ? cfg->message
                                             : "<html><head><title>Timeout</title></head><body>"
                                               "<h1>Timeout</h1></body></html>");
        gn_http_flush(w);                  /* the client hears now ...                  */
        gn_context_cancel(inner);
        if (!returned) gn_chan_recv(done, NULL);   /* ... and the request outlives the handler */
    }
    r->ctx = outer;
    gn_context_free(inner);
    gn_chan_free(done);
    for (int i = 0; i < d->nh; i++) {
        GN_FREE(d->names[i]);
        GN_FREE(d->values[i]);
    }
    GN_FREE(d->body);
    GN_FREE(d);
}

/* ---- one connection --------------------------------------------------------------- */
GN__PRIVATE void gn__http_server_destroy(gn_http_server *s);

/* Takes hc off the server's list. A server freed while connections were still
 * running (a handler stuck past the shutdown deadline) goes with the last one. */
GN__PRIVATE void gn__http_conn_unlink(gn__http_conn *hc) {
    gn_http_server *s = hc->srv;
    gn__lock(&s->lock);
    if (hc->prev) hc->prev->next = hc->next; else s->conns = hc->next;
    if (hc->next) hc->next->prev = hc->prev;
    int last = --s->nconns == 0 && s->free_pending;
    gn__unlock(&s->lock);
    if (last) gn__http_server_destroy(s);
}

/* The request's path and host as C strings: the escaped path, the decoded path
 * and the host, placed at the arena's far end (response headers get the rest),
 * or, for a path too long for that, in an allocation freed after the handler.
 * 0, GN_ENOMEM, or GN_EINVAL for a malformed escape in the path ("%zz", a
 * lone "%"), which Go's server answers with 400 as well.                     */
GN__PRIVATE int gn__http_prepare(gn__http_conn *hc) {
    gn_http_request *r = &hc->req;
    gn__http_head *h = &r->head;
    size_t plen = h->path_len;
    const char *pp = h->path;
    if (plen == 0) pp = "/", plen = 1;   /* absolute-form without a path */
    size_t hlen = h->host ? h->host_len : 0;
    size_t need = plen + 1 + plen + 1 + hlen + 1;
    char *dst;
    if (need <= GN__HTTP_ARENA_SIZE / 2) {
        dst = GN__HC_ARENA(hc) + GN__HTTP_ARENA_SIZE - need;
        hc->resp.acap = GN__HTTP_ARENA_SIZE - need;
    } else {
        if (!(r->heap = dst = (char *)GN_MALLOC(need))) return GN_ENOMEM;
        hc->resp.acap = GN__HTTP_ARENA_SIZE;
    }
    memcpy(dst, pp, plen);
    dst[plen] = 0;
    r->escaped_path = dst;
    dst += plen + 1;
    if (gn__url_unescape(pp, plen, dst, plen + 1, GN__UNESCAPE_PATH) < 0) {
        GN_FREE(r->heap);
        r->heap = NULL;
        return GN_EINVAL;
    }
    r->path = dst;
    dst += plen + 1;
    if (hlen) memcpy(dst, h->host, hlen);
    dst[hlen] = 0;
    r->host = dst;
    return 0;
}

GN__PRIVATE void gn__http_conn_main(void *arg);

/* A connection waiting for a request, parked or in a read, stays NEW or IDLE
 * until the request's first bytes, so that a shutdown can close it as idle
 * (Go's StateIdle to StateActive). 0, or GN_ECLOSED if a shutdown was first. */
GN__PRIVATE int gn__http_conn_activate(gn__http_conn *hc) {
    uint32_t st = gn__load(&hc->state);
    while (st != GN__HC_ACTIVE) {
        if (st != GN__HC_IDLE && st != GN__HC_NEW) return GN_ECLOSED;
        if (gn__cas(&hc->state, &st, (uint32_t)GN__HC_ACTIVE)) break;
    }
    return 0;
}

/* The poller's way back in: bytes (or a deadline, or a close) arrived on an
 * idle connection parked without a coroutine.                                  */
GN__PRIVATE void gn__http_conn_wake(void *arg) {
    ((gn__http_conn *)arg)->woken = 1;
    gn__http_conn_main(arg);
}

/* How long a connection may wait for the first byte of its next request: a new
 * one's first byte is part of its first head (Go's ReadHeaderTimeout); later
 * ones may idle for idle_timeout.                                              */
GN__PRIVATE void gn__http_wait_deadline(gn__http_conn *hc) {
    const gn_http_server_opts *o = &hc->srv->o;
    gn__http_deadline(hc, 'r', hc->nreq ? o->idle_timeout : o->read_header_timeout);
}

/* Waits for the next request in the poller, with no coroutine: 0 when parked
 * (the poller owns hc), 1 when readable now, < 0 when closed or timed out.     */
GN__PRIVATE int gn__http_conn_park(gn__http_conn *hc) {
    gn__http_wait_deadline(hc);
    return hc->nreq ? gn__conn_park_idle(hc->c, gn__http_conn_wake, hc)
                    : gn__conn_park_new(hc->c, gn__http_conn_wake, hc);
}

GN__PRIVATE void gn__http_conn_main(void *arg) {
    gn__http_conn *hc = (gn__http_conn *)arg;
    gn_http_server *s = hc->srv;
    const gn_http_server_opts *o = &s->o;
    gn_http_request *r = &hc->req;
    gn_http_response *w = &hc->resp;
    int keep = 1;
    while (keep) {
        /* Wait for the next request without holding a buffer.                     */
        if (!hc->block) {
            /* Before its first request a connection stays NEW, even while
             * shutting down: the request may be on its way.                   */
            uint32_t st = hc->nreq ? GN__HC_IDLE : GN__HC_NEW;
            if (!hc->woken) gn__store(&hc->state, st);
            if (hc->nreq && gn__load(&s->shutting)) break;
            if (hc->woken) {
                hc->woken = 0;
            } else {
                int rc = gn__http_conn_park(hc);
                if (rc == 0) return;   /* parked in the poller, no coroutine */
                if (rc < 0) break;
            }
            /* Its deadline or a close ended the wait: a read would only fail,
             * so a flood of silent connections timing out takes no buffers.   */
            if (gn__fd_check(&hc->c->f, 'r') != 0) break;
            if (gn__load(&hc->state) != st) break;   /* closed by a shutdown */
            hc->block = gn__http_block_get(s);
            if (!hc->block) break;
            hc->rpos = hc->rend = 0;
        } else {
            gn__store(&hc->state, (uint32_t)GN__HC_ACTIVE);
        }
        /* Read until a head is complete.                                          */
        memset(r, 0, sizeof *r);
        r->hc = hc;
        size_t prev = 0;
        int64_t start = 0;
        int pr;
        for (;;) {
            pr = hc->rend > hc->rpos
                     ? gn__http_parse_request(GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos, prev, &r->head,
                                              GN__HC_REQH(hc), GN__HTTP_MAX_REQ_HEADERS, o->max_header_bytes)
                     : 0;
            if (pr != 0) break;
            prev = hc->rend - hc->rpos;
            if (hc->olen && gn__http_flush_out(hc) != 0) { pr = GN_ECLOSED; break; }
            if (hc->rpos > 0) {   /* move the partial head to the front */
                memmove(GN__HC_RBUF(hc), GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos);
                hc->rend -= hc->rpos;
                hc->rpos = 0;
            }
            /* Empty lines before a request (a CRLF after a POST body) do not
             * start its head: the connection still idles, and a timeout then
             * closes it quietly rather than answer a request nobody sent.   */
            if (hc->rend == 0) {
                gn__http_wait_deadline(hc);
            } else if (!start && gn__http_eols(GN__HC_RBUF(hc), hc->rend) < hc->rend) {
                if (gn__http_conn_activate(hc) != 0) { pr = GN_ECLOSED; break; }
                start = gn_now();
                gn__http_deadline(hc, 'r', o->read_header_timeout);
            }
            if (hc->rend >= o->max_header_bytes) { pr = -431; break; }
            int64_t n = gn_read(hc->c, GN__HC_RBUF(hc) + hc->rend, o->max_header_bytes + 1 - hc->rend);
            if (n <= 0) { pr = n == GN_ETIMEDOUT && start ? -408 : GN_ECLOSED; break; }
            hc->rend += (size_t)n;
        }
        if (pr < 0) {
            if (pr > -600 && pr != GN_ECLOSED) {   /* the client's fault: say so and close */
                gn__http_reply_error(hc, -pr);
                gn__http_linger_close(hc);
            }
            break;
        }
        if (gn__http_conn_activate(hc) != 0) break;
        hc->rpos += (size_t)pr;
        hc->body_base = hc->rpos;
        /* The body.                                                               */
        if (r->head.chunked) {
            r->body_kind = GN__BODY_CHUNKED;
            gn__chunked_init(&r->chunked, NULL, 0, 0);
        } else if (r->head.content_length > 0) {
            r->body_kind = GN__BODY_LENGTH;
            r->body_left = r->head.content_length;
        }
        if (o->max_body_bytes >= 0 && r->head.content_length > o->max_body_bytes) {
            gn__http_reply_error(hc, 413);
            gn__http_linger_close(hc);
            break;
        }
        memset(w, 0, sizeof *w);
        w->hc = hc;
        w->clen = -1;
        w->hdrs = GN__HC_RESPH(hc);
        int prc = gn__http_prepare(hc);
        if (prc != 0) {
            gn__http_reply_error(hc, prc == GN_EINVAL ? 400 : 500);
            if (prc == GN_EINVAL) gn__http_linger_close(hc);
            break;
        }
        if (r->body_kind != GN__BODY_NONE) gn__http_deadline(hc, 'r', o->read_timeout);
        /* Go's WriteTimeout: the whole response, from the end of the head.     */
        gn__http_deadline(hc, 'w', o->write_timeout);
        hc->nreq++;
        /* The handler.                                                            */
        if (!r->head.keep_alive || gn__load(&s->shutting)) w->close = 1;
        if (strcmp(r->head.method, "HEAD") == 0) w->head = 1;
        o->handler(w, r, o->ud);
        GN_FREE(r->heap);
        r->heap = NULL;
        gn__http_watch_stop(r);
        if (r->ctx) {
            gn_context_cancel(r->ctx);
            gn_context_free(r->ctx);
            r->ctx = NULL;
        }
        if (gn__load(&hc->state) == GN__HC_HIJACKED) {
            /* The hijacker owns the connection now. The server still lists it,
             * until its close calls gn__http_hijack_closed; until then hc and
             * the connection live (that call unlinks under the server lock).  */
            gn__http_block_put(s, hc->block);
            hc->block = NULL;
            gn_conn *c = hc->c;
            c->f.on_close_arg = hc;
            gn__store(&c->f.on_close, &gn__http_hijack_closed);
            if (gn__load(&c->f.closed)) gn__fd_run_on_close(&c->f);   /* closed already */
            gn__conn_put(c);   /* the server's reference */
            return;
        }
        if (gn__http_drain_body(r) != 0) w->close = 1;
        /* Only empty lines left (a CRLF after the body): not a request, so
         * drop them and let the connection idle without its work block.   */
        if (hc->rend - hc->rpos <= 2 * GN__HTTP_MAX_LEADING_EOL &&
            gn__http_eols(GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos) == hc->rend - hc->rpos)
            hc->rpos = hc->rend;
        if (gn__load(&s->shutting)) w->close = 1;
        int more = !w->close && hc->rend > hc->rpos;
        if (gn__http_finish(w, more) != 0) break;
        keep = !w->close;
        if (!keep) {
            gn__http_flush_out(hc);
            break;
        }
        if (hc->rend == hc->rpos) {   /* nothing pipelined: give the block back */
            if (hc->olen && gn__http_flush_out(hc) != 0) break;
            gn__http_block_put(s, hc->block);
            hc->block = NULL;
        } else if (hc->rpos > 0) {
            memmove(GN__HC_RBUF(hc), GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos);
            hc->rend -= hc->rpos;
            hc->rpos = 0;
        }
    }
    if (hc->block) gn__http_flush_out(hc);
    gn__http_block_put(s, hc->block);
    hc->block = NULL;
    if (s->slots) gn_chan_try_recv(s->slots, NULL);
    gn__http_conn_unlink(hc);     /* the last touch of s: shutdown may now return */
    gn_close(hc->c);
    gn__conn_put(hc->c);          /* the server's reference */
    GN_FREE(hc);
}

/* ---- the server ------------------------------------------------------------------- */
GONET_API gn_http_server *gn_http_server_new(const gn_http_server_opts *opts) {
    if (!opts || !opts->handler) return NULL;
    gn_http_server *s = (gn_http_server *)GN_MALLOC(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->o = *opts;
    gn_http_server_opts *o = &s->o;
    if (o->read_header_timeout <= 0) o->read_header_timeout = 10 * GN_SECOND;
    if (o->read_timeout <= 0) o->read_timeout = 60 * GN_SECOND;
    if (o->write_timeout <= 0) o->write_timeout = 60 * GN_SECOND;
    if (o->idle_timeout <= 0) o->idle_timeout = 120 * GN_SECOND;
    if (o->max_header_bytes == 0) o->max_header_bytes = 16 * 1024;
    if (o->max_header_bytes < 256) o->max_header_bytes = 256;
    if (o->max_body_bytes == 0) o->max_body_bytes = 64 * 1024 * 1024;
    if (o->write_buffer_size == 0) o->write_buffer_size = 4096;
    s->rsize = GN__HTTP_ROUND16(o->max_header_bytes + GN__HTTP_BODY_TAIL);
    s->wsize = GN__HTTP_ROUND16(o->write_buffer_size);
    s->block_size = s->rsize + s->wsize + GN__HTTP_OUT_SIZE + GN__HTTP_ARENA_SIZE +
                    GN__HTTP_MAX_REQ_HEADERS * sizeof(gn_http_header) +
                    GN__HTTP_MAX_RESP_HEADERS * sizeof(gn__http_hdr);
    if (o->max_conns > 0 && !(s->slots = gn_chan_new(0, (size_t)o->max_conns))) {
        GN_FREE(s);
        return NULL;
    }
    return s;
}

GONET_API int gn_http_serve(gn_http_server *s, gn_listener *l) {
    if (!s || !l) return GN_EINVAL;
    gn__lock(&s->lock);
    int slot = s->nln < 8 ? s->nln++ : -1;
    if (slot >= 0) s->ln[slot] = l;
    int shutting = (int)gn__load(&s->shutting);
    if (shutting && slot >= 0) s->nln--;
    gn__unlock(&s->lock);
    if (slot < 0) return GN_ETOOLARGE;
    if (shutting) {
        gn_listener_close(l);
        return GN_ECLOSED;
    }
    int rc;
    for (;;) {
        if (s->slots && (rc = gn_chan_send(s->slots, NULL)) != 0) break;   /* max_conns */
        gn_conn *c;
        rc = gn_accept(l, &c);
        if (rc < 0) {
            if (s->slots) gn_chan_try_recv(s->slots, NULL);
            break;
        }
        gn__http_conn *hc = (gn__http_conn *)GN_MALLOC(sizeof *hc);
        if (!hc) {
            gn_close(c);
            if (s->slots) gn_chan_try_recv(s->slots, NULL);
            continue;
        }
        memset(hc, 0, offsetof(gn__http_conn, req));
        hc->srv = s;
        hc->c = c;
        hc->state = GN__HC_NEW;
        gn__fd_acquire(&c->f);   /* the server's reference, dropped by the connection */
        gn__lock(&s->lock);
        hc->next = s->conns;
        if (s->conns) s->conns->prev = hc;
        s->conns = hc;
        s->nconns++;
        gn__unlock(&s->lock);
        /* Until its first bytes the connection waits in the poller, as an idle
         * one does, with no coroutine; bytes that came with the accept start
         * one as soon as the poller has seen them (at once if it has).       */
        int parked = gn__http_conn_park(hc);
        if (parked == 0) continue;   /* the poller owns hc now: touch it no more */
        hc->woken = parked == 1;
        if (gn_go(gn__http_conn_main, hc) < 0) {
            gn__http_conn_unlink(hc);
            gn_close(c);
            gn__conn_put(c);
            if (s->slots) gn_chan_try_recv(s->slots, NULL);
            GN_FREE(hc);
        }
    }
    if (gn__load(&s->shutting)) rc = GN_ECLOSED;
    return rc;
}

GONET_API int gn_http_listen_and_serve(gn_http_server *s, const char *addr) {
    if (!s || !addr) return GN_EINVAL;
    gn_listener *l;
    int rc = gn_listen(&l, "tcp", addr);
    if (rc < 0) return rc;
    return gn_http_serve(s, l);
}

GONET_API int gn_http_server_conns(gn_http_server *s) {
    if (!s) return GN_EINVAL;
    gn__lock(&s->lock);
    int n = s->nconns;
    gn__unlock(&s->lock);
    return n;
}

/* Closes the idle connections (not NEW ones: a first request may be on its
 * way); with force, every connection: the socket is shut down at once (the
 * peer sees the close even while a handler still runs) and waiters wake with
 * GN_ECLOSED. Hijacked connections are only shut down: their owner still
 * holds them and closes them. Returns how many are listed.                   */
GN__PRIVATE int gn__http_sweep(gn_http_server *s, int force) {
    gn__lock(&s->lock);
    int left = 0;
    for (gn__http_conn *hc = s->conns; hc; hc = hc->next) {
        left++;
        uint32_t st = gn__load(&hc->state);
        if (st == GN__HC_HIJACKED) {
            if (force) gn__conn_cut(hc->c);
            continue;
        }
        uint32_t idle = GN__HC_IDLE;
        if (force || gn__cas(&hc->state, &idle, (uint32_t)GN__HC_CLOSING)) {
            /* The owner reference goes here; the connection's coroutine keeps the
             * server's and frees everything on its way out.                    */
            if (force) gn__conn_cut(hc->c);
            if (gn__fd_close(&hc->c->f) == 1) gn__conn_put(hc->c);
        }
    }
    gn__unlock(&s->lock);
    return left;
}

GONET_API int gn_http_shutdown(gn_http_server *s, int64_t deadline) {
    if (!s) return GN_EINVAL;
    gn__store(&s->shutting, 1u);
    gn__lock(&s->lock);
    int nln = s->nln;
    gn_listener *ln[8];
    memcpy(ln, s->ln, sizeof ln);
    s->nln = 0;
    gn__unlock(&s->lock);
    for (int i = 0; i < nln; i++) gn_listener_close(ln[i]);
    if (s->slots) gn_chan_close(s->slots);   /* an accept loop waiting for a slot */
    int64_t wait = GN_MILLISECOND;
    for (;;) {
        if (gn__http_sweep(s, 0) == 0) return 0;
        if (deadline && gn_now() >= deadline) break;
        gn_sleep(wait);
        if (wait < 50 * GN_MILLISECOND) wait *= 2;
    }
    gn__http_sweep(s, 1);
    for (int i = 0; i < 200 && gn_http_server_conns(s) > 0; i++) {
        gn_sleep(5 * GN_MILLISECOND);
        gn__http_sweep(s, 0);
    }
    return GN_ETIMEDOUT;
}

GN__PRIVATE void gn__http_server_destroy(gn_http_server *s) {
    for (int i = 0; i < s->npool; i++) GN_FREE(s->pool[i]);
    gn_chan_free(s->slots);
    GN_FREE(s);
}

GONET_API void gn_http_server_free(gn_http_server *s) {
    if (!s) return;
    gn__lock(&s->lock);
    int nln = s->nln;
    s->nln = 0;
    gn__unlock(&s->lock);
    for (int i = 0; i < nln; i++) gn_listener_close(s->ln[i]);
    gn__http_sweep(s, 1);
    gn__lock(&s->lock);
    int later = s->nconns > 0;   /* still running: the last connection frees s */
    if (later) s->free_pending = 1;
    gn__unlock(&s->lock);
    if (!later) gn__http_server_destroy(s);
}
/* ==== end src/http_server.c ==== */

/* ==== begin src/http_mux.c ==== */
/* http_mux.c — Go 1.22's ServeMux (patterns, precedence, conflicts, a routing
 * tree that looks up without allocating), and the URL helpers the HTTP parts
 * share: percent-decoding, path cleaning, the query lookup.
 *
 * Patterns. "[METHOD ][HOST]/PATH" parses into a gn__mux_pat: the method ("" for
 * any), the host (ASCII lower-cased; "" for any) and the path segments, each a
 * literal (stored percent-decoded, as Go does), {name}, {name...}, the anonymous
 * "..." a trailing '/' stands for, or {$} (the end of the path, after a '/').
 *
 * Precedence, as Go's: a pattern with a host beats one without; otherwise, of two
 * patterns that match a request, the one that matches a strict subset of the
 * other's requests wins. Registration compares the new pattern with every
 * registered one that has the same host (methods: equal, one of them any, or GET
 * which includes HEAD; paths: segment by segment) and refuses it when some
 * request matches both with neither more specific (GN_ECONFLICT). That is Go's
 * rule, and it is what lets the tree below pick the winner without comparing.
 *
 * The tree. The root's children are hosts (sorted keys), its wild child the
 * host-less patterns; a host node's children are methods, its wild child the
 * any-method patterns; then one level per path segment: literal children sorted
 * by (length, bytes), one {name} child (wild), and the patterns that end at the
 * node: pat (the path ends here), end ({$}: the path ends in a '/' here) and
 * multi ({name...} or a trailing '/': the rest of the path, from a '/').
 * Lookup tries the host's subtree and then the host-less one; in each, the exact
 * method, GET for HEAD, then any method; along the path, the literal child, then
 * the wildcard, then the multi. A branch that fails backtracks, as in Go ("/a/b/z"
 * and "/a/{x}/c" for "/a/b/c"), so lookup costs O(segments) for ordinary route
 * sets and never scans the pattern list.
 *
 * Lookup reads the escaped path and decodes a segment only to compare it, byte by
 * byte as it goes, so "%2F" stays inside its segment; the values of the winning
 * pattern's wildcards are decoded once, after the match, into the result's
 * scratch area. Nothing is allocated. A pattern has at most GN__MUX_MAX_VALUES
 * named wildcards, so the values always fit the result's array; their bytes, the
 * Allow list and a redirect's Location share GN_HTTP_MUX_SCRATCH bytes, and a
 * request whose values or Location do not fit gets 414 (URI Too Long).
 *
 * The mux is built before it serves: gn_http_mux_handle must not run while
 * another thread looks up in the same mux (lookups alone are read-only and may
 * run on any number of threads). Go takes a lock for this; a read lock on every
 * request costs a shared cache line on many cores, for a case servers rarely need.
 *
 * >>http-mux                                                                     */

/* The bytes of a lookup result that hold path values, the Allow list and the
 * redirect Location (the result lives on the serving coroutine's stack).        */
#ifndef GN_HTTP_MUX_SCRATCH
#  define GN_HTTP_MUX_SCRATCH 2048
#endif
#if GN_HTTP_MUX_SCRATCH < 64
#  error "gonet.h: GN_HTTP_MUX_SCRATCH must be at least 64"
#endif
/* Named wildcards a pattern may have (registration refuses more).               */
#define GN__MUX_MAX_VALUES 16

/* ---- URL helpers (GN__UNESCAPE_PATH and _QUERY are in http.h) --------------------- */

GN__PRIVATE int gn__hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte that starts at s[*i] (i < n), decoded; advances *i past it. -1 for a
 * '%' not followed by two hex digits.                                          */
GN__PRIVATE int gn__unescape_next(const char *s, size_t n, size_t *i, int mode) {
    int c = (unsigned char)s[*i];
    if (c == '%') {
        int hi, lo;
        if (n - *i < 3 || (hi = gn__hexval((unsigned char)s[*i + 1])) < 0 ||
            (lo = gn__hexval((unsigned char)s[*i + 2])) < 0)
            return -1;
        *i += 3;
        return hi << 4 | lo;
    }
    *i += 1;
    return c == '+' && mode == GN__UNESCAPE_QUERY ? ' ' : c;
}

/* Percent-decodes s[0, n) into out[0, size) and NUL-terminates it. mode is
 * GN__UNESCAPE_PATH or GN__UNESCAPE_QUERY. out may be s (decoding in place); with
 * out NULL and size 0 it only measures. Returns the decoded length (which may
 * count "%00" bytes), GN_EINVAL for a malformed escape anywhere in s (checked
 * first), GN_ETOOLARGE when the result and its NUL do not fit (out then holds
 * a prefix).                                                                    */
GN__PRIVATE int64_t gn__url_unescape(const char *s, size_t n, char *out, size_t size,
                                     int mode) {
    if ((!s && n) || (!out && size)) return GN_EINVAL;
    size_t i = 0, w = 0;
    while (i < n) {
        int c = gn__unescape_next(s, n, &i, mode);
        if (c < 0) return GN_EINVAL;
        if (w < size) out[w] = (char)c;
        w++;
    }
    if (!out) return (int64_t)w;
    if (w >= size) return GN_ETOOLARGE;
    out[w] = '\0';
    return (int64_t)w;
}

/* Whether s[0, n), decoded, equals lit[0, litlen): 1 yes, 0 no, -1 for a
 * malformed escape met before any difference.                                  */
GN__PRIVATE int gn__unescape_eq(const char *s, size_t n, int mode, const char *lit,
                                size_t litlen) {
    size_t i = 0, j = 0;
    while (i < n) {
        int c = gn__unescape_next(s, n, &i, mode);
        if (c < 0) return -1;
        if (j >= litlen || (unsigned char)lit[j] != c) return 0;
        j++;
    }
    return j == litlen;
}

/* Decodes s[0, n) into out[0, room) with a NUL, the way the mux decodes path
 * values: percent-escapes decoded, '+' kept; a malformed escape leaves the whole
 * piece as it is (Go's pathUnescape). Returns the length, or -1 if it does not
 * fit (room n + 1 always does).                                                 */
GN__PRIVATE int64_t gn__mux_decode(const char *s, size_t n, char *out, size_t room) {
    size_t i = 0;
    while (i < n && i < room && s[i] != '%') {  /* the usual case: nothing escaped   */
        out[i] = s[i];
        i++;
    }
    if (i == n && i < room) {
        out[i] = '\0';
        return (int64_t)i;
    }
    int64_t k = gn__url_unescape(s, n, out, room, GN__UNESCAPE_PATH);
    if (k != GN_EINVAL) return k >= 0 ? k : -1;
    if (n >= room) return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return (int64_t)n;
}

/* Whether the URL path p[0, n) is already clean: it starts with '/', and has no
 * empty, "." or ".." element (a final '/' is allowed).                         */
GN__PRIVATE int gn__path_is_clean(const char *p, size_t n) {
    if (n == 0 || p[0] != '/') return 0;
    size_t i = 1;
    while (i < n) {                            /* the element p[i, j)              */
        size_t j = i;
        while (j < n && p[j] != '/') j++;      /* segments are short: no memchr     */
        size_t len = j - i;
        if (len == 0) return 0;
        if (p[i] == '.' && (len == 1 || (len == 2 && p[i + 1] == '.'))) return 0;
        i = j + 1;
    }
    return 1;
}

/* Cleans the URL path p[0, n) as Go's mux does (path.Clean, keeping a final '/'):
 * "" becomes "/", a missing leading '/' is added, repeated slashes become one,
 * "." elements go, ".." takes the element before it away (never above the
 * root), and a path that ended in '/' (or "/" after all) still does. Works on
 * the escaped form: "%2e%2e" is a name, not "..". Writes the result and a NUL
 * into out[0, size), which must not overlap p (n + 2 bytes always suffice).
 * Returns its length, GN_ETOOLARGE if it does not fit, GN_EINVAL for bad args.
 * Two passes from the end, where a ".." simply skips the next element kept: the
 * first measures, the second writes backwards; no stack, and only the result
 * needs room.                                                                   */
GN__PRIVATE int64_t gn__path_clean(const char *p, size_t n, char *out, size_t size) {
    if ((!p && n) || !out) return GN_EINVAL;
    size_t total = 0, kept = 0;
    int trailing = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t j = n, skip = 0, w = total;
        if (pass == 1 && trailing) out[--w] = '/';
        while (j > 0) {                          /* the element p[i, j)               */
            size_t i = j;
            while (i > 0 && p[i - 1] != '/') i--;
            size_t len = j - i;
            if (len == 0 || (len == 1 && p[i] == '.')) {
                /* nothing, or the directory itself                                */
            } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
                skip++;
            } else if (skip) {
                skip--;
            } else if (pass == 0) {
                total += len + 1;
                kept++;
            } else {
                w -= len;
                memcpy(out + w, p + i, len);
                out[--w] = '/';
            }
            if (i == 0) break;
            j = i - 1;
        }
        if (pass == 0) {
            trailing = kept > 0 && n > 0 && p[n - 1] == '/';
            total = kept ? total + (size_t)trailing : 1;
            if (total >= size) return GN_ETOOLARGE;
            out[total] = '\0';
            if (!kept) {
                out[0] = '/';
                return 1;
            }
        }
    }
    return (int64_t)total;
}

/* The first value of key in the raw query ("a=1&b=x+y"), decoded, into buf with
 * a NUL. Keys are compared after decoding; as Go's url.ParseQuery, pairs with a
 * malformed escape or a ';' are skipped, and a pair without '=' has the value "".
 * Returns the value's length, or GN_EINVAL if key is absent or buf too small.  */
GN__PRIVATE int gn__query_get(const char *raw_query, const char *key, char *buf, size_t size) {
    if (!raw_query || !key || (!buf && size)) return GN_EINVAL;
    size_t klen = strlen(key);
    const char *p = raw_query;
    for (;;) {
        const char *amp = strchr(p, '&');
        const char *e = amp ? amp : p + strlen(p);
        size_t len = (size_t)(e - p);
        if (len > 0 && !memchr(p, ';', len)) {
            const char *eq = (const char *)memchr(p, '=', len);
            size_t kn = eq ? (size_t)(eq - p) : len;
            if (gn__unescape_eq(p, kn, GN__UNESCAPE_QUERY, key, klen) == 1) {
                const char *v = eq ? eq + 1 : e;
                size_t vn = (size_t)(e - v);
                int64_t dn = gn__url_unescape(v, vn, NULL, 0, GN__UNESCAPE_QUERY);
                if (dn >= 0) {
                    if ((uint64_t)dn >= size || dn > INT_MAX) return GN_EINVAL;
                    return (int)gn__url_unescape(v, vn, buf, size, GN__UNESCAPE_QUERY);
                }
            }
        }
        if (!amp) return GN_EINVAL;
        p = amp + 1;
    }
}

GONET_API int gn_http_query_get(const gn_http_request *r, const char *key, char *buf,
                                size_t size) {
    if (!r) return GN_EINVAL;
    return gn__query_get(gn_http_raw_query(r), key, buf, size);
}

/* ---- a growing string, for messages (registration only) ------------------------- */
typedef struct gn__mux_sb {
    char  *b;
    size_t n, cap;
    int    oom;
} gn__mux_sb;

GN__PRIVATE void gn__sb_putn(gn__mux_sb *sb, const char *s, size_t n) {
    if (sb->oom) return;
    if (sb->cap - sb->n <= n) {
        size_t cap = sb->cap ? sb->cap : 128;
        while (cap - sb->n <= n) cap *= 2;
        char *b = (char *)GN_REALLOC(sb->b, cap);
        if (!b) {
            sb->oom = 1;
            return;
        }
        sb->b = b;
        sb->cap = cap;
    }
    memcpy(sb->b + sb->n, s, n);
    sb->n += n;
    sb->b[sb->n] = '\0';
}

GN__PRIVATE void gn__sb_puts(gn__mux_sb *sb, const char *s) { gn__sb_putn(sb, s, strlen(s)); }

/* s[0, n) in double quotes, with '"', '\\' and control bytes escaped.            */
GN__PRIVATE void gn__sb_quote(gn__mux_sb *sb, const char *s, size_t n) {
    gn__sb_putn(sb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            gn__sb_putn(sb, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[5];
            snprintf(e, sizeof e, "\\x%02x", c);
            gn__sb_putn(sb, e, 4);
        } else {
            gn__sb_putn(sb, s + i, 1);
        }
    }
    gn__sb_putn(sb, "\"", 1);
}

GN__PRIVATE void gn__sb_quotes(gn__mux_sb *sb, const char *s) { gn__sb_quote(sb, s, strlen(s)); }

/* ---- patterns ---------------------------------------------------------------------- */
enum { GN__MUX_LIT, GN__MUX_WILD, GN__MUX_MULTI, GN__MUX_END };

typedef struct gn__mux_seg {
    const char *s;       /* LIT: the decoded literal; WILD, MULTI: the name ("" for a
                            trailing '/'); END ({$}): ""                             */
    size_t      n;
    int         kind;
} gn__mux_seg;

typedef struct gn__mux_pat {
    const char          *str;       /* as registered                                */
    const char          *method;    /* "" for any                                   */
    size_t               mlen;
    const char          *host;      /* lower-cased; "" for any                      */
    size_t               hlen;
    gn__mux_seg         *segs;
    int                  nsegs;
    int                  nvals;     /* named wildcards, in order                    */
    const char          *names[GN__MUX_MAX_VALUES];
    gn_http_handler_func fn;
    void                *ud;
} gn__mux_pat;

GN__PRIVATE const gn__mux_seg *gn__mux_last(const gn__mux_pat *p) { return &p->segs[p->nsegs - 1]; }

GN__PRIVATE int gn__mux_is_tchar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A Go identifier, ASCII only: a letter or '_', then letters, digits, '_'.      */
GN__PRIVATE int gn__mux_is_ident(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok) return 0;
    }
    return 1;
}

/* Writes "parsing "PAT": [at offset N: ]why[ "arg"]" into sb.                    */
GN__PRIVATE void gn__mux_parse_err(gn__mux_sb *sb, const char *pat, long off, const char *why,
                                   const char *arg, size_t argn) {
    gn__sb_puts(sb, "parsing ");
    gn__sb_quotes(sb, pat);
    gn__sb_puts(sb, ": ");
    if (off >= 0) {
        char num[32];
        snprintf(num, sizeof num, "at offset %ld: ", off);
        gn__sb_puts(sb, num);
    }
    gn__sb_puts(sb, why);
    if (arg) {
        gn__sb_puts(sb, " ");
        gn__sb_quote(sb, arg, argn);
    }
}

/* Parses s into a new pattern (one allocation: the struct, the segments and every
 * string). Returns 0, GN_EINVAL (why in sb) or GN_ENOMEM.                        */
GN__PRIVATE int gn__mux_parse(const char *s, gn__mux_pat **out, gn__mux_sb *sb) {
    *out = NULL;
    size_t len = strlen(s);
    if (len == 0) {
        gn__mux_parse_err(sb, s, -1, "empty pattern", NULL, 0);
        return GN_EINVAL;
    }
    size_t maxsegs = 1;
    for (size_t i = 0; i < len; i++) maxsegs += s[i] == '/';
    size_t bytes = sizeof(gn__mux_pat) + maxsegs * sizeof(gn__mux_seg) + 4 * (len + 1) + maxsegs;
    gn__mux_pat *p = (gn__mux_pat *)GN_MALLOC(bytes);
    if (!p) return GN_ENOMEM;
    memset(p, 0, sizeof *p);
    p->segs = (gn__mux_seg *)(p + 1);
    char *t = (char *)(p->segs + maxsegs);     /* the strings, one after another    */
    memcpy(t, s, len + 1);
    p->str = t;
    t += len + 1;

    /* METHOD, up to the first space or tab; then any more of them.               */
    const char *rest = s, *path, *q;   /* no initialiser past a goto: C++ refuses that */
    size_t ws = strcspn(s, " \t");
    p->method = p->host = "";
    if (ws < len) {
        for (size_t i = 0; i < ws; i++) {
            if (!gn__mux_is_tchar((unsigned char)s[i])) {
                gn__mux_parse_err(sb, s, -1, "invalid method", s, ws);
                goto fail;
            }
        }
        memcpy(t, s, ws);
        t[ws] = '\0';
        p->method = t;
        p->mlen = ws;
        t += ws + 1;
        rest = s + ws;
        while (*rest == ' ' || *rest == '\t') rest++;
    }
    /* HOST, up to the path's '/'.                                                 */
    path = strchr(rest, '/');
    if (!path) {
        gn__mux_parse_err(sb, s, -1, "host/path missing /", NULL, 0);
        goto fail;
    }
    p->hlen = (size_t)(path - rest);
    if (memchr(rest, '{', p->hlen) || memchr(rest, '}', p->hlen)) {
        gn__mux_parse_err(sb, s, (long)(rest - s), "host contains a brace (missing initial '/'?)",
                          NULL, 0);
        goto fail;
    }
    for (size_t i = 0; i < p->hlen; i++) {
        char c = rest[i];
        t[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    t[p->hlen] = '\0';
    p->host = t;
    t += p->hlen + 1;
    /* Request paths are cleaned before matching, except CONNECT's.               */
    if (p->mlen && strcmp(p->method, "CONNECT") != 0 && !gn__path_is_clean(path, strlen(path))) {
        gn__mux_parse_err(sb, s, (long)(path - s),
                          "non-CONNECT pattern with unclean path can never match", NULL, 0);
        goto fail;
    }
    /* PATH: segments after each '/'.                                              */
    q = path;
    while (*q) {
        q++;                                     /* past the '/'                      */
        gn__mux_seg *g = &p->segs[p->nsegs++];
        memset(g, 0, sizeof *g);
        long off = (long)(q - s);
        if (*q == '\0') {                        /* a trailing '/': an anonymous ...  */
            g->kind = GN__MUX_MULTI;
            g->s = "";
            break;
        }
        const char *e = strchr(q, '/');
        if (!e) e = q + strlen(q);
        size_t n = (size_t)(e - q);
        const char *ob = (const char *)memchr(q, '{', n);
        if (!ob) {
            if (memchr(q, '}', n)) {
                gn__mux_parse_err(sb, s, off, "unbalanced '}' (write %7D for a literal one)",
                                  NULL, 0);
                goto fail;
            }
            g->kind = GN__MUX_LIT;
            g->n = (size_t)gn__mux_decode(q, n, t, n + 1);
            g->s = t;
            t += g->n + 1;
            q = e;
            continue;
        }
        if (ob != q) {
            gn__mux_parse_err(sb, s, off, "bad wildcard segment (must start with '{')", NULL, 0);
            goto fail;
        }
        if (q[n - 1] != '}') {
            gn__mux_parse_err(sb, s, off, "bad wildcard segment (must end with '}')", NULL, 0);
            goto fail;
        }
        const char *name = q + 1;
        size_t nn = n - 2;
        if (nn == 1 && name[0] == '$') {
            if (*e) {
                gn__mux_parse_err(sb, s, off, "{$} not at end", NULL, 0);
                goto fail;
            }
            g->kind = GN__MUX_END;
            g->s = "";
            break;
        }
        int multi = nn >= 3 && memcmp(name + nn - 3, "...", 3) == 0;
        if (multi) {
            nn -= 3;
            if (*e) {
                gn__mux_parse_err(sb, s, off, "{...} wildcard not at end", NULL, 0);
                goto fail;
            }
        }
        if (nn == 0) {
            gn__mux_parse_err(sb, s, off, "empty wildcard", NULL, 0);
            goto fail;
        }
        if (!gn__mux_is_ident(name, nn)) {
            gn__mux_parse_err(sb, s, off, "bad wildcard name", name, nn);
            goto fail;
        }
        for (int i = 0; i < p->nvals; i++) {
            if (strlen(p->names[i]) == nn && memcmp(p->names[i], name, nn) == 0) {
                gn__mux_parse_err(sb, s, off, "duplicate wildcard name", name, nn);
                goto fail;
            }
        }
        if (p->nvals == GN__MUX_MAX_VALUES) {
            gn__mux_parse_err(sb, s, off,
                              "too many wildcards (at most " GONET__STR(GN__MUX_MAX_VALUES) ")",
                              NULL, 0);
            goto fail;
        }
        memcpy(t, name, nn);
        t[nn] = '\0';
        g->kind = multi ? GN__MUX_MULTI : GN__MUX_WILD;
        g->s = t;
        g->n = nn;
        p->names[p->nvals++] = t;
        t += nn + 1;
        q = e;
    }
    GN_ASSERT(p->nsegs > 0 && (size_t)p->nsegs <= maxsegs && (size_t)(t - (char *)p) <= bytes);
    *out = p;
    return 0;
fail:
    GN_FREE(p);
    return sb->oom ? GN_ENOMEM : GN_EINVAL;
}

/* ---- how two patterns relate -------------------------------------------------------
 * For the requests two patterns match: EQUIV the same; GENERAL the first matches a
 * strict superset; SPECIFIC a strict subset; DISJOINT none in common; OVERLAP some
 * in common and each matches some the other does not.                            */
enum { GN__REL_EQUIV, GN__REL_GENERAL, GN__REL_SPECIFIC, GN__REL_DISJOINT, GN__REL_OVERLAP };

/* The relation of the requests matched by "a and b" parts taken together.        */
GN__PRIVATE int gn__mux_rel_and(int r1, int r2) {
    switch (r1) {
    case GN__REL_EQUIV:    return r2;
    case GN__REL_DISJOINT: return GN__REL_DISJOINT;
    case GN__REL_OVERLAP:  return r2 == GN__REL_DISJOINT ? GN__REL_DISJOINT : GN__REL_OVERLAP;
    default:
        if (r2 == GN__REL_EQUIV) return r1;
        if ((r1 == GN__REL_GENERAL && r2 == GN__REL_SPECIFIC) ||
            (r1 == GN__REL_SPECIFIC && r2 == GN__REL_GENERAL))
            return GN__REL_OVERLAP;
        return r2;
    }
}

GN__PRIVATE int gn__mux_rel_methods(const gn__mux_pat *a, const gn__mux_pat *b) {
    if (a->mlen == b->mlen && memcmp(a->method, b->method, a->mlen) == 0) return GN__REL_EQUIV;
    if (!a->mlen) return GN__REL_GENERAL;
    if (!b->mlen) return GN__REL_SPECIFIC;
    if (strcmp(a->method, "GET") == 0 && strcmp(b->method, "HEAD") == 0) return GN__REL_GENERAL;
    if (strcmp(a->method, "HEAD") == 0 && strcmp(b->method, "GET") == 0) return GN__REL_SPECIFIC;
    return GN__REL_DISJOINT;
}

GN__PRIVATE int gn__mux_rel_seg(const gn__mux_seg *a, const gn__mux_seg *b) {
    int ka = a->kind, kb = b->kind;
    if (ka == GN__MUX_MULTI || kb == GN__MUX_MULTI)
        return ka == kb ? GN__REL_EQUIV : ka == GN__MUX_MULTI ? GN__REL_GENERAL : GN__REL_SPECIFIC;
    if (ka == GN__MUX_END || kb == GN__MUX_END)    /* {$} only meets {$} (or a multi) */
        return ka == kb ? GN__REL_EQUIV : GN__REL_DISJOINT;
    if (ka == GN__MUX_WILD || kb == GN__MUX_WILD)
        return ka == kb ? GN__REL_EQUIV : ka == GN__MUX_WILD ? GN__REL_GENERAL : GN__REL_SPECIFIC;
    return a->n == b->n && memcmp(a->s, b->s, a->n) == 0 ? GN__REL_EQUIV : GN__REL_DISJOINT;
}

GN__PRIVATE int gn__mux_rel_paths(const gn__mux_pat *a, const gn__mux_pat *b) {
    int amulti = gn__mux_last(a)->kind == GN__MUX_MULTI;
    int bmulti = gn__mux_last(b)->kind == GN__MUX_MULTI;
    if (a->nsegs != b->nsegs && !amulti && !bmulti) return GN__REL_DISJOINT;
    int rel = GN__REL_EQUIV, i;
    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        rel = gn__mux_rel_and(rel, gn__mux_rel_seg(&a->segs[i], &b->segs[i]));
        if (rel == GN__REL_DISJOINT) return rel;
    }
    if (a->nsegs == b->nsegs) return rel;
    /* The shorter one's last segment, a multi, took the longer one's rest (a
     * shorter one without a multi cannot reach the longer one's segments).       */
    if (a->nsegs < b->nsegs)
        return amulti ? gn__mux_rel_and(rel, GN__REL_GENERAL) : GN__REL_DISJOINT;
    return bmulti ? gn__mux_rel_and(rel, GN__REL_SPECIFIC) : GN__REL_DISJOINT;
}

/* The relation of a's requests to b's, hosts aside.                              */
GN__PRIVATE int gn__mux_rel(const gn__mux_pat *a, const gn__mux_pat *b) {
    int m = gn__mux_rel_methods(a, b);
    return m == GN__REL_DISJOINT ? m : gn__mux_rel_and(m, gn__mux_rel_paths(a, b));
}

GN__PRIVATE int gn__mux_conflicts(const gn__mux_pat *a, const gn__mux_pat *b) {
    if (a->hlen != b->hlen || memcmp(a->host, b->host, a->hlen) != 0) return 0;
    int r = gn__mux_rel(a, b);
    return r == GN__REL_EQUIV || r == GN__REL_OVERLAP;
}

/* An example segment for the messages: "/" then the literal or the name.        */
GN__PRIVATE void gn__mux_example_seg(gn__mux_sb *sb, const gn__mux_seg *g) {
    gn__sb_putn(sb, "/", 1);
    if (g->kind == GN__MUX_LIT || g->kind == GN__MUX_WILD) gn__sb_putn(sb, g->s, g->n);
}

/* A path both a and b match (they overlap).                                     */
GN__PRIVATE void gn__mux_example_common(gn__mux_sb *sb, const gn__mux_pat *a,
                                        const gn__mux_pat *b) {
    size_t start = sb->n;
    int i;
    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        const gn__mux_seg *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind == GN__MUX_LIT || y->kind == GN__MUX_LIT || x->kind == GN__MUX_END ||
            y->kind == GN__MUX_END)
            gn__mux_example_seg(sb, x->kind == GN__MUX_LIT || x->kind == GN__MUX_END ? x : y);
        else
            gn__mux_example_seg(sb, x->kind == GN__MUX_WILD ? x : y);
    }
    for (; i < a->nsegs; i++) gn__mux_example_seg(sb, &a->segs[i]);
    for (; i < b->nsegs; i++) gn__mux_example_seg(sb, &b->segs[i]);
    if (sb->n == start) gn__sb_putn(sb, "/", 1);
}

/* A path a matches and b does not (a is not a subset of b).                      */
GN__PRIVATE void gn__mux_example_diff(gn__mux_sb *sb, const gn__mux_pat *a, const gn__mux_pat *b) {
    size_t start = sb->n;
    for (int i = 0; i < a->nsegs; i++) {
        const gn__mux_seg *x = &a->segs[i], *y = i < b->nsegs ? &b->segs[i] : NULL;
        if (x->kind == GN__MUX_MULTI) {
            /* A non-empty rest differs from {$}; an empty one from anything longer. */
            gn__sb_putn(sb, "/", 1);
            if (y && y->kind == GN__MUX_END) {
                if (x->n) gn__sb_putn(sb, x->s, x->n);
                else gn__sb_putn(sb, "x", 1);
            }
            break;
        }
        if (x->kind == GN__MUX_WILD && y && y->kind == GN__MUX_LIT && x->n == y->n &&
            memcmp(x->s, y->s, x->n) == 0) {
            gn__mux_example_seg(sb, x);           /* the name is b's literal: alter it */
            gn__sb_putn(sb, "x", 1);
            continue;
        }
        gn__mux_example_seg(sb, x);
        if (x->kind == GN__MUX_END) break;
    }
    if (sb->n == start) gn__sb_putn(sb, "/", 1);
}

/* Why the new pattern a conflicts with the registered b, into sb.                 */
GN__PRIVATE void gn__mux_describe_conflict(gn__mux_sb *sb, const gn__mux_pat *a,
                                           const gn__mux_pat *b) {
    int mrel = gn__mux_rel_methods(a, b), prel = gn__mux_rel_paths(a, b);
    gn__sb_puts(sb, "pattern ");
    gn__sb_quotes(sb, a->str);
    gn__sb_puts(sb, " conflicts with pattern ");
    gn__sb_quotes(sb, b->str);
    gn__sb_puts(sb, ": ");
    if (gn__mux_rel_and(mrel, prel) == GN__REL_EQUIV) {
        gn__sb_puts(sb, "they match the same requests");
    } else if (prel == GN__REL_OVERLAP) {
        gn__sb_puts(sb, "both match some paths, like \"");
        gn__mux_example_common(sb, a, b);
        gn__sb_puts(sb, "\", but neither is more specific: ");
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " matches \"");
        gn__mux_example_diff(sb, a, b);
        gn__sb_puts(sb, "\" and ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " does not; ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " matches \"");
        gn__mux_example_diff(sb, b, a);
        gn__sb_puts(sb, "\" and ");
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " does not");
    } else if (mrel == GN__REL_GENERAL) {
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " matches more methods than ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " but has a more specific path");
    } else {
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " matches fewer methods than ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " but has a more general path");
    }
}

/* ---- the routing tree ------------------------------------------------------------- */
typedef struct gn__mux_node gn__mux_node;

struct gn__mux_node {
    const char        *key;           /* host, method or decoded literal (the parent's) */
    size_t             klen;
    gn__mux_node     **kids;          /* sorted by (klen, bytes)                         */
    unsigned           nkids, capkids;
    gn__mux_node      *wild;          /* any host / any method / a {name} segment        */
    const gn__mux_pat *pat;           /* ends here                                       */
    const gn__mux_pat *end;           /* {$} here: ends with a '/'                       */
    const gn__mux_pat *multi;         /* {name...} or a trailing '/' here                */
};

struct gn_http_mux {
    gn__mux_node  root;
    gn__mux_pat **pats;               /* every registered pattern, in order              */
    size_t        npats, cappats;
    char         *err;                /* the last registration error, or NULL            */
    int           err_oom;
};

/* A lookup key: raw bytes, bytes compared lower-cased (a host), or a path segment
 * compared percent-decoded.                                                     */
enum { GN__MUX_KEY_RAW, GN__MUX_KEY_LOWER, GN__MUX_KEY_ESC };
typedef struct gn__mux_key {
    const char *s;
    size_t      n, dn;                /* bytes in s; bytes as compared                  */
    int         how;
} gn__mux_key;

/* The key's next byte as compared, read from s[*i] on.                          */
GN__PRIVATE int gn__mux_key_byte(const gn__mux_key *k, size_t *i) {
    if (k->how == GN__MUX_KEY_ESC) return gn__unescape_next(k->s, k->n, i, GN__UNESCAPE_PATH);
    int c = (unsigned char)k->s[(*i)++];
    if (k->how == GN__MUX_KEY_LOWER && c >= 'A' && c <= 'Z') c += 'a' - 'A';
    return c;
}

/* k over s[0, n). how ESC: a path segment that holds a '%'; a malformed escape
 * makes it RAW (compared as it is, like Go).                                    */
GN__PRIVATE void gn__mux_key_init(gn__mux_key *k, const char *s, size_t n, int how) {
    k->s = s;
    k->n = k->dn = n;
    k->how = how;
    if (how == GN__MUX_KEY_ESC) {
        for (size_t i = 0; i < n; i++) {
            if (s[i] != '%') continue;
            if (n - i < 3 || gn__hexval((unsigned char)s[i + 1]) < 0 ||
                gn__hexval((unsigned char)s[i + 2]) < 0) {
                k->how = GN__MUX_KEY_RAW;
                k->dn = n;
                break;
            }
            k->dn -= 2;
            i += 2;
        }
    }
}

/* Orders a child's key against k: by length, then bytes. (Tried: a tag of length
 * and first bytes kept in the parent's array, to spare loading sibling nodes;
 * building it per segment cost as much as it saved, with L1 warm or cold.)    */
GN__PRIVATE int gn__mux_cmp(const gn__mux_node *c, const gn__mux_key *k) {
    if (c->klen != k->dn) return c->klen < k->dn ? -1 : 1;
    const unsigned char *a = (const unsigned char *)c->key;
    if (k->how == GN__MUX_KEY_RAW) {
        if (!k->n) return 0;
        if (a[0] != (unsigned char)k->s[0]) return a[0] < (unsigned char)k->s[0] ? -1 : 1;
        return memcmp(a, k->s, k->n);
    }
    size_t i = 0;
    for (size_t j = 0; j < c->klen; j++) {
        int b = gn__mux_key_byte(k, &i);
        if (a[j] != b) return a[j] < b ? -1 : 1;
    }
    return 0;
}

/* The child of n with key k, or NULL; *at gets where it would go.               */
GN__PRIVATE gn__mux_node *gn__mux_find_at(const gn__mux_node *n, const gn__mux_key *k,
                                          unsigned *at) {
    unsigned lo = 0, hi = n->nkids;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int r = gn__mux_cmp(n->kids[mid], k);
        if (r == 0) return n->kids[mid];
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    if (at) *at = lo;
    return NULL;
}

GN__PRIVATE const gn__mux_node *gn__mux_find(const gn__mux_node *n, const char *s, size_t len,
                                             int how) {
    if (!n || !n->nkids) return NULL;
    gn__mux_key k;
    gn__mux_key_init(&k, s, len, how);
    return gn__mux_find_at(n, &k, NULL);
}

GN__PRIVATE gn__mux_node *gn__mux_node_new(const char *key, size_t klen) {
    gn__mux_node *c = (gn__mux_node *)GN_MALLOC(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->key = key;
    c->klen = klen;
    return c;
}

/* The child with the (raw) key, added if missing; NULL when out of memory.      */
GN__PRIVATE gn__mux_node *gn__mux_child(gn__mux_node *n, const char *key, size_t klen) {
    gn__mux_key k;
    unsigned at = 0;
    gn__mux_key_init(&k, key, klen, GN__MUX_KEY_RAW);
    gn__mux_node *c = gn__mux_find_at(n, &k, &at);
    if (c) return c;
    if (n->nkids == n->capkids) {
        unsigned cap = n->capkids ? 2 * n->capkids : 4;
        gn__mux_node **kids = (gn__mux_node **)GN_REALLOC(n->kids, cap * sizeof *kids);
        if (!kids) return NULL;
        n->kids = kids;
        n->capkids = cap;
    }
    if (!(c = gn__mux_node_new(key, klen))) return NULL;
    memmove(n->kids + at + 1, n->kids + at, (n->nkids - at) * sizeof *n->kids);
    n->kids[at] = c;
    n->nkids++;
    return c;
}

GN__PRIVATE gn__mux_node *gn__mux_wild(gn__mux_node *n) {
    if (!n->wild) n->wild = gn__mux_node_new("", 0);
    return n->wild;
}

GN__PRIVATE void gn__mux_node_clear(gn__mux_node *n) {
    for (unsigned i = 0; i < n->nkids; i++) {
        gn__mux_node_clear(n->kids[i]);
        GN_FREE(n->kids[i]);
    }
    GN_FREE(n->kids);
    if (n->wild) {
        gn__mux_node_clear(n->wild);
        GN_FREE(n->wild);
    }
}

/* Adds p's path to the tree. Registration has ruled out an equivalent pattern,
 * so its leaf is free. On GN_ENOMEM some empty nodes may stay: they match nothing. */
GN__PRIVATE int gn__mux_insert(gn_http_mux *m, const gn__mux_pat *p) {
    gn__mux_node *n = p->hlen ? gn__mux_child(&m->root, p->host, p->hlen) : gn__mux_wild(&m->root);
    if (n) n = p->mlen ? gn__mux_child(n, p->method, p->mlen) : gn__mux_wild(n);
    for (int i = 0; n && i < p->nsegs; i++) {
        const gn__mux_seg *g = &p->segs[i];
        switch (g->kind) {
        case GN__MUX_LIT:  n = gn__mux_child(n, g->s, g->n); break;
        case GN__MUX_WILD: n = gn__mux_wild(n); break;
        case GN__MUX_END:
            GN_ASSERT(!n->end);
            n->end = p;
            return 0;
        default:
            GN_ASSERT(!n->multi);
            n->multi = p;
            return 0;
        }
    }
    if (!n) return GN_ENOMEM;
    GN_ASSERT(!n->pat);
    n->pat = p;
    return 0;
}

/* ---- lookup ----------------------------------------------------------------------- */
typedef struct gn__mux_cap {
    const char *s;                    /* escaped bytes of a wildcard's value          */
    size_t      n;
} gn__mux_cap;

typedef struct gn__mux_walk {
    const char  *end;                 /* the path's end                               */
    int          tail;                /* probe: the path as if it ended in one more '/' */
    int          exact;               /* out: no multi wildcard took a non-empty rest */
    int          ncaps;
    gn__mux_cap *caps;                /* NULL: values not recorded                    */
} gn__mux_walk;

GN__PRIVATE void gn__mux_capture(gn__mux_walk *w, const char *s, size_t n) {
    if (w->caps && w->ncaps < GN__MUX_MAX_VALUES) {
        w->caps[w->ncaps].s = s;
        w->caps[w->ncaps].n = n;
        w->ncaps++;
    }
}

/* The pattern under n that matches the path from p (at a '/' or the end).       */
GN__PRIVATE const gn__mux_pat *gn__mux_walk_path(const gn__mux_node *n, const char *p,
                                                 gn__mux_walk *w) {
    if (!n) return NULL;
    if (p == w->end && !w->tail) {
        w->exact = 1;
        return n->pat;
    }
    if (w->tail ? p == w->end : (p + 1 == w->end && *p == '/')) {
        /* Only a '/' is left: {$}, or a multi wildcard with an empty rest.        */
        if (n->end) {
            w->exact = 1;
            return n->end;
        }
        if (n->multi) {
            if (gn__mux_last(n->multi)->n) gn__mux_capture(w, w->end, 0);
            w->exact = 1;
            return n->multi;
        }
        return NULL;
    }
    const char *s = p + 1, *q = s;
    int pct = 0;
    while (q < w->end && *q != '/') pct |= *q++ == '%';    /* short: no memchr      */
    const gn__mux_pat *r;
    if (n->nkids) {
        gn__mux_key k;
        gn__mux_key_init(&k, s, (size_t)(q - s), pct ? GN__MUX_KEY_ESC : GN__MUX_KEY_RAW);
        if ((r = gn__mux_walk_path(gn__mux_find_at(n, &k, NULL), q, w))) return r;
    }
    if (n->wild) {
        int ncaps = w->ncaps;
        gn__mux_capture(w, s, (size_t)(q - s));
        if ((r = gn__mux_walk_path(n->wild, q, w))) return r;
        w->ncaps = ncaps;
    }
    if (n->multi) {
        if (gn__mux_last(n->multi)->n) gn__mux_capture(w, s, (size_t)(w->end - s));
        w->exact = 0;
        return n->multi;
    }
    return NULL;
}

/* Below a host node (or the host-less one): the method, GET for HEAD, any.      */
GN__PRIVATE const gn__mux_pat *gn__mux_walk_method(const gn__mux_node *hn, const char *method,
                                                   size_t mlen, const char *path, gn__mux_walk *w) {
    if (!hn) return NULL;
    const gn__mux_pat *r;
    if (hn->nkids) {
        if ((r = gn__mux_walk_path(gn__mux_find(hn, method, mlen, GN__MUX_KEY_RAW), path, w)))
            return r;
        if (mlen == 4 && memcmp(method, "HEAD", 4) == 0 &&
            (r = gn__mux_walk_path(gn__mux_find(hn, "GET", 3, GN__MUX_KEY_RAW), path, w)))
            return r;
    }
    return gn__mux_walk_path(hn->wild, path, w);
}

GN__PRIVATE const gn__mux_pat *gn__mux_walk_all(const gn_http_mux *m, const char *host, size_t hlen,
                                                const char *method, size_t mlen, const char *path,
                                                gn__mux_walk *w) {
    const gn__mux_pat *r;
    if (hlen && m->root.nkids &&
        (r = gn__mux_walk_method(gn__mux_find(&m->root, host, hlen, GN__MUX_KEY_LOWER), method,
                                 mlen, path, w)))
        return r;
    return gn__mux_walk_method(m->root.wild, method, mlen, path, w);
}

/* Whether a pattern for exactly this method under hn matches the path, or the
 * path with a '/' added (which would redirect).                                 */
GN__PRIVATE int gn__mux_allows(const gn__mux_node *hn, const char *method, size_t mlen,
                               const char *path, size_t plen) {
    const gn__mux_node *c = gn__mux_find(hn, method, mlen, GN__MUX_KEY_RAW);
    if (!c) return 0;
    gn__mux_walk w;
    memset(&w, 0, sizeof w);
    w.end = path + plen;
    if (gn__mux_walk_path(c, path, &w)) return 1;
    if (plen && path[plen - 1] == '/') return 0;
    w.tail = 1;
    return gn__mux_walk_path(c, path, &w) != NULL;
}

GN__PRIVATE int gn__mux_lexcmp(const char *a, size_t an, const char *b, size_t bn) {
    int r = memcmp(a, b, GN__MIN(an, bn));
    return r ? r : an < bn ? -1 : an > bn;
}

/* Host without its port, as Go's mux: "h:80" and "[::1]:80" lose the port; a
 * host that does not split into host and port ("::1", "[::1]") stays whole.     */
GN__PRIVATE size_t gn__mux_strip_port(const char *h, const char **out) {
    size_t n = strlen(h), i = n;
    *out = h;
    while (i > 0 && h[i - 1] != ':') i--;
    if (i-- == 0) return n;                  /* i: the last ':'                       */
    if (h[0] == '[') {
        const char *rb = (const char *)memchr(h, ']', n);
        if (!rb || (size_t)(rb - h) + 1 != i || memchr(h + 1, '[', n - 1) ||
            memchr(rb + 1, ']', n - i))
            return n;
        *out = h + 1;
        return (size_t)(rb - h) - 1;
    }
    if (memchr(h, ':', i) || memchr(h, '[', n) || memchr(h, ']', n)) return n;
    return i;
}

/* What a lookup found. Strings point into the mux (pattern, names) or into
 * scratch (values, allow, location): they live as long as both.                 */
typedef struct gn__mux_result {
    int                  status;    /* 200 match; 301 redirect; 404; 405; 414 (what had
                                       to go in scratch did not fit)                   */
    gn_http_handler_func fn;        /* 200: the handler and its ud; else NULL          */
    void                *ud;
    const char          *pattern;   /* 200: the pattern matched; 301: the one that
                                       matches the Location, if any; else ""           */
    const char          *allow;     /* 405: "GET, HEAD, POST" (sorted; GET brings HEAD);
                                       else ""                                          */
    const char          *location;  /* 301: "/a/b/" or "/a/b/?q=1"; else ""             */
    int                  nvals;     /* 200: path values, in the pattern's order        */
    gn__pathval          vals[GN__MUX_MAX_VALUES];
    char                 scratch[GN_HTTP_MUX_SCRATCH];
} gn__mux_result;

GN__PRIVATE int gn__mux_too_large(gn__mux_result *res) {
    res->status = 414;
    res->fn = NULL;
    res->ud = NULL;
    res->nvals = 0;
    res->pattern = res->allow = res->location = "";
    return 414;
}

/* The redirect: path[0, plen) [+ '/'] [+ '?' query] into scratch.               */
GN__PRIVATE int gn__mux_redirect(gn__mux_result *res, const char *path, size_t plen, int slash,
                                 const char *query, const gn__mux_pat *to) {
    size_t qn = query ? strlen(query) : 0;
    size_t need = plen + (size_t)slash + (qn ? qn + 1 : 0) + 1;
    if (need > sizeof res->scratch) return gn__mux_too_large(res);
    memmove(res->scratch, path, plen);   /* path may already be in scratch        */
    size_t w = plen;
    if (slash) res->scratch[w++] = '/';
    if (qn) {
        res->scratch[w++] = '?';
        memcpy(res->scratch + w, query, qn);
        w += qn;
    }
    res->scratch[w] = '\0';
    res->location = res->scratch;
    res->pattern = to ? to->str : "";
    res->status = 301;
    return 301;
}

/* Matches a request, as Go's ServeMux.Handler. method: as sent ("GET"); host: the
 * Host header or "" (NULL too), with or without a port (stripped here, except for
 * CONNECT); escaped_path: the target's path as sent ("/a%20b", no query);
 * raw_query: without the '?' (NULL or "" for none; only used in a Location).
 * A path that is not clean redirects (301) to its clean form; a path without a
 * final '/' that only matches with one redirects to it (301, after cleaning);
 * CONNECT paths are not cleaned. No match: 405 with the methods that would match
 * (res->allow), or 404. Fills *res and returns res->status, or GN_EINVAL for a
 * NULL argument (with res->status 500 when res is not NULL). Allocates nothing.  */
GN__PRIVATE int gn__mux_lookup(const gn_http_mux *m, const char *method, const char *host,
                               const char *escaped_path, const char *raw_query,
                               gn__mux_result *res) {
    if (!res) return GN_EINVAL;
    res->status = 404;
    res->fn = NULL;
    res->ud = NULL;
    res->pattern = res->allow = res->location = "";
    res->nvals = 0;
    res->scratch[0] = '\0';
    if (!m || !method || !escaped_path) {
        res->status = 500;
        return GN_EINVAL;
    }
    size_t mlen = strlen(method), plen = strlen(escaped_path), hlen = 0;
    int connect = mlen == 7 && memcmp(method, "CONNECT", 7) == 0;
    if (!host) host = "";
    if (connect) hlen = strlen(host);
    else hlen = gn__mux_strip_port(host, &host);

    const char *path = escaped_path;
    int unclean = 0;
    if (connect) {
        if (plen == 0 || path[0] != '/') return 404;
    } else if (!gn__path_is_clean(path, plen)) {
        int64_t k = gn__path_clean(path, plen, res->scratch, sizeof res->scratch);
        if (k < 0) return gn__mux_too_large(res);
        path = res->scratch;
        plen = (size_t)k;
        unclean = 1;
    }

    gn__mux_cap caps[GN__MUX_MAX_VALUES];
    gn__mux_walk w;
    memset(&w, 0, sizeof w);
    w.end = path + plen;
    w.caps = caps;
    const gn__mux_pat *pat = gn__mux_walk_all(m, host, hlen, method, mlen, path, &w);

    /* "/dir" that only matches as "/dir/": redirect there.                         */
    if ((!pat || !w.exact) && path[plen - 1] != '/') {
        gn__mux_walk t;
        memset(&t, 0, sizeof t);
        t.end = path + plen;
        t.tail = 1;
        const gn__mux_pat *to = gn__mux_walk_all(m, host, hlen, method, mlen, path, &t);
        if (to && t.exact) return gn__mux_redirect(res, path, plen, 1, raw_query, to);
    }
    if (unclean) return gn__mux_redirect(res, path, plen, 0, raw_query, pat);

    if (pat) {
        size_t used = 0;
        int n = GN__MIN(w.ncaps, pat->nvals);
        for (int i = 0; i < n; i++) {
            char *v = res->scratch + used;
            int64_t k = gn__mux_decode(caps[i].s, caps[i].n, v, sizeof res->scratch - used);
            if (k < 0) return gn__mux_too_large(res);
            used += (size_t)k + 1;
            res->vals[i].name = pat->names[i];
            res->vals[i].value = v;
        }
        res->nvals = n;
        res->fn = pat->fn;
        res->ud = pat->ud;
        res->pattern = pat->str;
        res->status = 200;
        return 200;
    }

    /* 405 if some other method would match: the Allow list, sorted bytewise,
     * built by picking the next-smallest candidate method each round (there are
     * few, and this is not the hot path).                                        */
    const gn__mux_node *hh = hlen ? gn__mux_find(&m->root, host, hlen, GN__MUX_KEY_LOWER) : NULL;
    const gn__mux_node *ha = m->root.wild;
    const gn__mux_node *levels[2] = {hh, ha};
    const char *last = NULL;
    size_t lastn = 0, used = 0;
    for (;;) {
        const char *best = NULL;
        size_t bestn = 0;
        for (int l = 0; l < 3; l++) {
            const gn__mux_node *hn = l < 2 ? levels[l] : NULL;
            unsigned nk = l < 2 ? (hn ? hn->nkids : 0) : 1;
            for (unsigned i = 0; i < nk; i++) {
                const char *c = l < 2 ? hn->kids[i]->key : "HEAD";
                size_t cn = l < 2 ? hn->kids[i]->klen : 4;
                if ((!last || gn__mux_lexcmp(c, cn, last, lastn) > 0) &&
                    (!best || gn__mux_lexcmp(c, cn, best, bestn) < 0)) {
                    best = c;
                    bestn = cn;
                }
            }
        }
        if (!best) break;
        int ok = gn__mux_allows(hh, best, bestn, path, plen) ||
                 gn__mux_allows(ha, best, bestn, path, plen) ||
                 (bestn == 4 && memcmp(best, "HEAD", 4) == 0 &&
                  (gn__mux_allows(hh, "GET", 3, path, plen) ||
                   gn__mux_allows(ha, "GET", 3, path, plen)));
        /* A list too long for scratch (hundreds of methods) is cut at a method. */
        if (ok && used + bestn + 3 <= sizeof res->scratch) {
            if (used) {
                memcpy(res->scratch + used, ", ", 2);
                used += 2;
            }
            memcpy(res->scratch + used, best, bestn);
            used += bestn;
            res->scratch[used] = '\0';
        }
        last = best;
        lastn = bestn;
    }
    if (used) {
        res->allow = res->scratch;
        res->status = 405;
    }
    return res->status;
}

/* ---- the public mux --------------------------------------------------------------- */
GONET_API gn_http_mux *gn_http_mux_new(void) {
    gn_http_mux *m = (gn_http_mux *)GN_MALLOC(sizeof *m);
    if (m) memset(m, 0, sizeof *m);
    return m;
}

GONET_API void gn_http_mux_free(gn_http_mux *m) {
    if (!m) return;
    gn__mux_node_clear(&m->root);
    for (size_t i = 0; i < m->npats; i++) GN_FREE(m->pats[i]);
    GN_FREE(m->pats);
    GN_FREE(m->err);
    GN_FREE(m);
}

GONET_API const char *gn_http_mux_error(const gn_http_mux *m) {
    if (!m) return "nil mux";
    if (m->err_oom) return "out of memory";
    return m->err ? m->err : "";
}

/* Keeps sb's message (or notes that memory ran out) as the mux's last error.     */
GN__PRIVATE int gn__mux_fail(gn_http_mux *m, gn__mux_sb *sb, int err) {
    GN_FREE(m->err);
    m->err = sb->oom ? NULL : sb->b;
    if (sb->oom) GN_FREE(sb->b);
    m->err_oom = sb->oom || err == GN_ENOMEM;
    return sb->oom ? GN_ENOMEM : err;
}

GONET_API int gn_http_mux_handle(gn_http_mux *m, const char *pattern, gn_http_handler_func fn,
                                 void *ud) {
    if (!m) return GN_EINVAL;
    gn__mux_sb sb;
    memset(&sb, 0, sizeof sb);
    if (!pattern || !fn) {
        gn__sb_puts(&sb, !pattern ? "nil pattern" : "nil handler for pattern ");
        if (pattern) gn__sb_quotes(&sb, pattern);
        return gn__mux_fail(m, &sb, GN_EINVAL);
    }
    gn__mux_pat *p;
    int rc = gn__mux_parse(pattern, &p, &sb);
    if (rc < 0) return gn__mux_fail(m, &sb, rc);
    p->fn = fn;
    p->ud = ud;
    for (size_t i = 0; i < m->npats; i++) {
        if (gn__mux_conflicts(p, m->pats[i])) {
            gn__mux_describe_conflict(&sb, p, m->pats[i]);
            GN_FREE(p);
            return gn__mux_fail(m, &sb, GN_ECONFLICT);
        }
    }
    if (m->npats == m->cappats) {
        size_t cap = m->cappats ? 2 * m->cappats : 16;
        gn__mux_pat **pats = (gn__mux_pat **)GN_REALLOC(m->pats, cap * sizeof *pats);
        if (!pats) {
            GN_FREE(p);
            return gn__mux_fail(m, &sb, GN_ENOMEM);
        }
        m->pats = pats;
        m->cappats = cap;
    }
    if (gn__mux_insert(m, p) < 0) {
        GN_FREE(p);
        return gn__mux_fail(m, &sb, GN_ENOMEM);
    }
    m->pats[m->npats++] = p;
    return 0;
}

GONET_API void gn_http_mux_serve(gn_http_response *w, gn_http_request *r, void *mux) {
    gn__mux_result res;
    gn__mux_lookup((const gn_http_mux *)mux, gn_http_method(r), gn_http_host(r),
                   gn__http_escaped_path(r), gn_http_raw_query(r), &res);
    switch (res.status) {
    case 200:
        gn__http_set_pathvalues(r, res.vals, res.nvals);
        res.fn(w, r, res.ud);
        gn__http_set_pathvalues(r, NULL, 0);    /* res dies here                     */
        break;
    case 301:
        gn_http_redirect(w, r, res.location, 301);
        break;
    case 405:
        gn_http_set_header(w, "Allow", res.allow);
        gn_http_error(w, "Method Not Allowed", 405);
        break;
    case 404:
        gn_http_error(w, "404 page not found", 404);
        break;
    case 414:
        gn_http_error(w, "URI Too Long", 414);
        break;
    default:
        gn_http_error(w, "Internal Server Error", 500);
        break;
    }
}
/* ==== end src/http_mux.c ==== */

/* ==== begin src/http_fs.c ==== */
/* http_fs.c — Go's http.FileServer, ServeFile and ServeContent, for coroutines:
 * files under a root directory, index.html and directory listings, the trailing
 * slash redirects, Content-Type by extension or by sniffing, Last-Modified and
 * the conditional headers, byte ranges (one, or several as multipart/byteranges)
 * and HEAD.
 *
 * Blocking. Every open, stat, directory read, read and close runs inside
 * gn_blocking, in a function that is never inlined into its caller (GN__OPAQUE)
 * and that reads errno itself before the blocking section ends: a coroutine may
 * resume on another thread afterwards, where errno is another thread's. A file
 * goes out in chunks of at most GN__FS_CHUNK bytes, each read and then written
 * with gn_http_write after the Content-Length was set, so a response is length-
 * delimited and a request holds at most one chunk buffer (plus the names of one
 * directory while it lists it, at most GN__FS_MAX_LIST of them).
 *
 * Staying under the root. A request path is percent-decoded by the server; one
 * whose target holds "%00" or whose path has a ".." element (separated by '/'
 * or '\\', as Go's ServeFile checks) gets 400. Otherwise it is cleaned ("//" and
 * "." elements dropped) and opened relative to the root's descriptor with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Symlinks are followed as long
 * as their target, fully resolved, lies under the root's real path: a link that
 * leads out is 404, as if it were not there (Go's http.Dir follows every link;
 * os.Root refuses the ones that leave, which is what this does). openat2 refuses
 * absolute links even when they land inside, and kernels before 5.6 (or seccomp
 * filters) lack it; then root/rel is resolved with realpath and must lie under
 * the root before it is opened (so a link that leads out is never opened), and
 * the file opened must be the inode resolved (a swap in between is refused).
 * On Windows (fs_windows.c) each element is opened in turn from the root with
 * CreateFileW, a reparse point (symbolic link, junction) anywhere is refused
 * (404), and the handle's final path (GetFinalPathNameByHandleW) must lie
 * under the root's.
 *
 * The file-system calls themselves are the OS's: fs_posix.c and fs_windows.c,
 * after this file, define what is declared under "the OS's part" below.
 *
 * Differences from Go. Methods other than GET and HEAD get 405 with
 * "Allow: GET, HEAD" (Go's FileServer serves any method). No ETag is made (Go's
 * ServeContent only honours one the handler set; there is no way to set one
 * here and have it checked): If-None-Match other than "*" never matches, If-Match
 * other than "*" fails (412), and an If-Range with an entity tag drops the range.
 * Files other than regular files and directories (FIFOs, devices, sockets) are
 * 403. A Range "bytes=-0" is unsatisfiable (416, as RFC 9110 says). More than
 * GN__FS_MAX_RANGES ranges, or ranges adding up to more than the file, are
 * ignored (200 with the whole file). With a strip prefix, the bare prefix
 * ("/static") redirects to "static/" rather than serving the root's listing under
 * a URL its relative links do not work from.
 *
 * >>http-fs                                                                      */

#define GN__FS_CHUNK      (64 * 1024)   /* bytes read and written at a time           */
#define GN__FS_SNIFF      512           /* bytes Content-Type sniffing looks at       */
#define GN__FS_MAX_RANGES 64            /* more ranges: the whole file               */
#define GN__FS_MAX_LIST   50000         /* directory entries listed (sorted) at most  */

/* ---- the OS's part (fs_posix.c, fs_windows.c) --------------------------------------
 * Errors are errno values (ENOENT, EACCES, EXDEV for "leads out of the root"),
 * whatever the OS's own are.                                                    */
typedef intptr_t gn__fs_fd;             /* an open file or directory: fd or HANDLE */
#define GN__FS_NOFD ((gn__fs_fd)-1)     /* (INVALID_HANDLE_VALUE is -1 too)         */
enum { GN__FS_REG = 1, GN__FS_DIR, GN__FS_OTHER };
typedef struct gn__fs_stat {
    int     kind;                       /* GN__FS_*                                 */
    int64_t size;
    int64_t mtime;                      /* Unix seconds                             */
} gn__fs_stat;

typedef struct gn__fs_root {
    gn__fs_fd fd;        /* the root directory, opened once                         */
    char     *path;      /* its real path, no trailing separator (except a bare root) */
    size_t    len;
} gn__fs_root;

struct gn_http_fs {
    gn__fs_root root;
    char  *prefix;       /* stripped from request paths, no trailing '/'; or NULL   */
    size_t prefixlen;
};

/* Each runs inside gn_blocking and reports errno in its struct.                   */
typedef struct gn__fs_open {
    const gn__fs_root *root; /* beneath it; NULL: path as given                    */
    const char *path;       /* relative to the root ("" is the root), or any path   */
    char       *sniff;      /* if set, the first GN__FS_SNIFF bytes of a file go here */
    size_t      nsniff;
    gn__fs_fd   fd;         /* the open file, or GN__FS_NOFD                        */
    int         err;        /* its errno when fd is GN__FS_NOFD                      */
    gn__fs_stat st;
} gn__fs_open;
GN__PRIVATE void gn__fs_open_run(void *arg);

typedef struct gn__fs_read {
    gn__fs_fd fd;
    char   *buf;
    size_t  n;
    int64_t off;
    int64_t got;       /* bytes read: n, or fewer at the end of the file           */
    int     err;
} gn__fs_read;
GN__PRIVATE void gn__fs_close_run(void *arg);   /* arg: a gn__fs_fd *               */

/* The OS's positioned read (fs_posix.c, fs_windows.c): > 0 bytes read, 0 at the
 * end of the file, -1 with *err set. An interrupted call is retried.          */
GN__PRIVATE int64_t gn__fs_pread(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err);

/* n bytes at off, or fewer at the end of the file or on an error (*err).     */
GN__PRIVATE int64_t gn__fs_pread_full(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err) {
    size_t got = 0;
    while (got < n) {
        int64_t k = gn__fs_pread(fd, buf + got, n - got, off + (int64_t)got, err);
        if (k <= 0) break;
        got += (size_t)k;
    }
    return (int64_t)got;
}

GN__PRIVATE GN__OPAQUE void gn__fs_read_run(void *arg) {
    gn__fs_read *o = (gn__fs_read *)arg;
    o->err = 0;
    o->got = gn__fs_pread_full(o->fd, o->buf, o->n, o->off, &o->err);
}

/* A directory's entries, read and sorted by name in one blocking section: the
 * OS's gn__fs_list_run reads them through gn__fs_list_add, then calls
 * gn__fs_list_sort.                                                            */
typedef struct gn__fs_list {
    gn__fs_fd fd;        /* taken over (closed)                                    */
    char   *names;       /* per entry: a byte 1 if a directory, the name, NUL       */
    size_t  len, cap;
    char  **ents;        /* n pointers to the names, sorted                        */
    size_t  n;
    size_t *offs, ocap;  /* while reading: where each name starts                  */
    int     truncated;   /* more than GN__FS_MAX_LIST entries                       */
    int     err;
} gn__fs_list;
GN__PRIVATE void gn__fs_list_run(void *arg);

/* Opens the root directory (any path) and sets its real path. 0 or an errno.   */
GN__PRIVATE int gn__fs_root_open(gn__fs_root *root, const char *path);

/* ---- the portable helpers of the blocking parts ----------------------------------- */
GN__PRIVATE void gn__fs_close(gn__fs_fd fd) {
    if (fd != GN__FS_NOFD) gn_blocking(gn__fs_close_run, &fd);
}

/* Adds one entry; 0, or 1 to stop (the list is full or memory ran out).        */
GN__PRIVATE int gn__fs_list_add(gn__fs_list *o, const char *nm, int isdir) {
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) return 0;
    if (o->n == GN__FS_MAX_LIST) {
        o->truncated = 1;
        return 1;
    }
    size_t nl = strlen(nm);
    if (o->len + nl + 2 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + nl + 2) cap *= 2;
        char *p = (char *)GN_REALLOC(o->names, cap);
        if (!p) { o->err = ENOMEM; return 1; }
        o->names = p;
        o->cap = cap;
    }
    if (o->n == o->ocap) {
        size_t cap = o->ocap ? o->ocap * 2 : 64;
        size_t *p = (size_t *)GN_REALLOC(o->offs, cap * sizeof *p);
        if (!p) { o->err = ENOMEM; return 1; }
        o->offs = p;
        o->ocap = cap;
    }
    o->names[o->len] = (char)isdir;
    o->offs[o->n++] = o->len + 1;
    memcpy(o->names + o->len + 1, nm, nl + 1);
    o->len += nl + 2;
    return 0;
}

GN__PRIVATE int gn__fs_namecmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GN__PRIVATE void gn__fs_list_sort(gn__fs_list *o) {
    if (!o->err && o->n) {
        o->ents = (char **)GN_MALLOC(o->n * sizeof *o->ents);
        if (!o->ents) {
            o->err = ENOMEM;
        } else {
            for (size_t i = 0; i < o->n; i++) o->ents[i] = o->names + o->offs[i];
            qsort(o->ents, o->n, sizeof *o->ents, gn__fs_namecmp);
        }
    }
    GN_FREE(o->offs);
    o->offs = NULL;
}

/* ---- dates ------------------------------------------------------------------------ */
static const char gn__fs_days[] = "SunMonTueWedThuFriSat";
static const char gn__fs_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate); out has 30 bytes at least.      */
GN__PRIVATE void gn__fs_fmt_date(int64_t t, char *out, size_t size) {
    struct tm tm;
    gn__gmtime(t, &tm);
    snprintf(out, size, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", gn__fs_days + 3 * tm.tm_wday,
             tm.tm_mday, gn__fs_months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

GN__PRIVATE int gn__fs_num(const char *s, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

GN__PRIVATE int gn__fs_month(const char *s) {
    for (int i = 0; i < 12; i++)
        if (memcmp(s, gn__fs_months + 3 * i, 3) == 0) return i + 1;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
GN__PRIVATE int64_t gn__fs_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

GN__PRIVATE int gn__fs_hms(const char *s, int *h, int *m, int *sec) {
    return gn__fs_num(s, 2, h) && s[2] == ':' && gn__fs_num(s + 3, 2, m) && s[5] == ':' &&
           gn__fs_num(s + 6, 2, sec);
}

/* An HTTP date in any of the three forms (RFC 9110 §5.6.7), as Go's ParseTime:
 * "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT" and
 * "Sun Nov  6 08:49:37 1994". 1 and *out in Unix seconds, or 0.                 */
GN__PRIVATE int gn__fs_parse_date(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec;
    const char *comma = strchr(s, ',');
    if (comma) {
        const char *p = comma + 1;
        size_t n = strlen(p);
        if (comma - s < 3 || *p++ != ' ') return 0;
        if (n == 25 && p[2] == ' ') {             /* "06 Nov 1994 08:49:37 GMT"     */
            if (!gn__fs_num(p, 2, &d) || !(mo = gn__fs_month(p + 3)) || p[6] != ' ' ||
                !gn__fs_num(p + 7, 4, &y) || p[11] != ' ' || !gn__fs_hms(p + 12, &h, &mi, &sec) ||
                strcmp(p + 20, " GMT") != 0)
                return 0;
        } else if (n == 23 && p[2] == '-') {      /* "06-Nov-94 08:49:37 GMT"       */
            if (!gn__fs_num(p, 2, &d) || !(mo = gn__fs_month(p + 3)) || p[6] != '-' ||
                !gn__fs_num(p + 7, 2, &y) || p[9] != ' ' || !gn__fs_hms(p + 10, &h, &mi, &sec) ||
                strcmp(p + 18, " GMT") != 0)
                return 0;
            y += y < 69 ? 2000 : 1900;            /* Go's two-digit years          */
        } else {
            return 0;
        }
    } else {                                      /* "Sun Nov  6 08:49:37 1994"     */
        if (strlen(s) != 24 || s[3] != ' ' || !(mo = gn__fs_month(s + 4)) || s[7] != ' ') return 0;
        if (s[8] == ' ' ? !gn__fs_num(s + 9, 1, &d) : !gn__fs_num(s + 8, 2, &d)) return 0;
        if (s[10] != ' ' || !gn__fs_hms(s + 11, &h, &mi, &sec) || s[19] != ' ' ||
            !gn__fs_num(s + 20, 4, &y))
            return 0;
    }
    if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return 0;
    *out = gn__fs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 1;
}

/* ---- Content-Type ------------------------------------------------------------------ */
GN__PRIVATE const char *gn__fs_type_by_ext(const char *name) {
    static const char *const table[][2] = {
        {"html", "text/html; charset=utf-8"},  {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},    {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"map", "application/json"},           {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
        {"xml", "text/xml; charset=utf-8"},    {"svg", "image/svg+xml"},
        {"png", "image/png"},                  {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},                {"gif", "image/gif"},
        {"webp", "image/webp"},                {"avif", "image/avif"},
        {"ico", "image/x-icon"},               {"bmp", "image/bmp"},
        {"wasm", "application/wasm"},          {"pdf", "application/pdf"},
        {"zip", "application/zip"},            {"gz", "application/gzip"},
        {"tar", "application/x-tar"},          {"woff", "font/woff"},
        {"woff2", "font/woff2"},               {"ttf", "font/ttf"},
        {"otf", "font/otf"},                   {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},                  {"wav", "audio/wav"},
        {"mp4", "video/mp4"},                  {"webm", "video/webm"},
    };
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot || !dot[1] || strlen(dot + 1) > 5) return NULL;
    char ext[8];
    size_t n = 0;
    for (const char *p = dot + 1; *p; p++) ext[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    ext[n] = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(ext, table[i][0]) == 0) return table[i][1];
    return NULL;
}

/* Go's DetectContentType, for the signatures that matter to a file server.    */
GN__PRIVATE const char *gn__fs_sniff(const char *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    static const struct { const char *sig; size_t len; const char *type; } exact[] = {
        {"%PDF-", 5, "application/pdf"},
        {"%!PS-Adobe-", 11, "application/postscript"},
        {"\xFE\xFF", 2, "text/plain; charset=utf-16be"},
        {"\xFF\xFE", 2, "text/plain; charset=utf-16le"},
        {"\xEF\xBB\xBF", 3, "text/plain; charset=utf-8"},
        {"GIF87a", 6, "image/gif"},
        {"GIF89a", 6, "image/gif"},
        {"\x89PNG\r\n\x1A\n", 8, "image/png"},
        {"\xFF\xD8\xFF", 3, "image/jpeg"},
        {"BM", 2, "image/bmp"},
        {"\0\0\1\0", 4, "image/x-icon"},
        {"OggS\0", 5, "application/ogg"},
        {"ID3", 3, "audio/mpeg"},
        {"\x1A\x45\xDF\xA3", 4, "video/webm"},
        {"PK\x03\x04", 4, "application/zip"},
        {"\x1F\x8B\x08", 3, "application/x-gzip"},
        {"\0asm", 4, "application/wasm"},
        {"wOFF", 4, "font/woff"},
        {"wOF2", 4, "font/woff2"},
    };
    static const char *const html[] = {"<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME",
                                       "<H1", "<DIV", "<FONT", "<TABLE", "<A", "<STYLE",
                                       "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"};
    if (n > GN__FS_SNIFF) n = GN__FS_SNIFF;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == '\f')) i++;
    for (size_t k = 0; k < sizeof html / sizeof html[0]; k++) {
        size_t l = strlen(html[k]), j;
        if (n - i <= l) continue;   /* the tag must be followed by ' ' or '>'        */
        for (j = 0; j < l; j++) {
            unsigned char c = p[i + j];
            if ((c >= 'a' && c <= 'z' ? c - 32 : c) != (unsigned char)html[k][j]) break;
        }
        if (j == l && (p[i + l] == ' ' || p[i + l] == '>')) return "text/html; charset=utf-8";
    }
    if (n - i >= 5 && memcmp(p + i, "<?xml", 5) == 0) return "text/xml; charset=utf-8";
    for (size_t k = 0; k < sizeof exact / sizeof exact[0]; k++)
        if (n >= exact[k].len && memcmp(p, exact[k].sig, exact[k].len) == 0) return exact[k].type;
    if (n >= 14 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBPVP", 6) == 0) return "image/webp";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0) return "audio/wave";
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) return "video/mp4";
    for (size_t k = 0; k < n; k++) {
        unsigned char c = p[k];
        if (c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1A) || (c >= 0x1C && c <= 0x1F))
            return "application/octet-stream";
    }
    return "text/plain; charset=utf-8";
}

/* ---- ranges ------------------------------------------------------------------------ */
typedef struct gn__fs_range { int64_t start, len; } gn__fs_range;

#define GN__FS_RANGE_INVALID  (-1)   /* 416 "invalid range"                      */
#define GN__FS_RANGE_NOOVERLAP (-2)  /* 416 with Content-Range: bytes STAR/size   */
#define GN__FS_RANGE_MANY     (-3)   /* too many to bother: serve the whole file  */

GN__PRIVATE int gn__fs_i64(const char *s, size_t n, int64_t *v) {
    if (n == 0 || n > 18) return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* Go's parseRange: "bytes=a-b, c-, -n". The count of ranges, or GN__FS_RANGE_*. */
GN__PRIVATE int gn__fs_parse_range(const char *s, int64_t size, gn__fs_range *out, int max) {
    if (strncmp(s, "bytes=", 6) != 0) return GN__FS_RANGE_INVALID;
    s += 6;
    int n = 0, nooverlap = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        if (!e) e = s + strlen(s);
        const char *a = s, *b = e;
        s = *e ? e + 1 : e;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (a == b) continue;
        const char *dash = (const char *)memchr(a, '-', (size_t)(b - a));
        if (!dash) return GN__FS_RANGE_INVALID;
        const char *sa = a, *sb = dash, *ea = dash + 1, *eb = b;
        while (sb > sa && (sb[-1] == ' ' || sb[-1] == '\t')) sb--;
        while (ea < eb && (*ea == ' ' || *ea == '\t')) ea++;
        int64_t start, end;
        gn__fs_range r;
        if (sa == sb) {                               /* "-n": the last n bytes     */
            if (!gn__fs_i64(ea, (size_t)(eb - ea), &end)) return GN__FS_RANGE_INVALID;
            if (end == 0 || size == 0) { nooverlap = 1; continue; }
            if (end > size) end = size;
            r.start = size - end;
            r.len = end;
        } else {
            if (!gn__fs_i64(sa, (size_t)(sb - sa), &start)) return GN__FS_RANGE_INVALID;
            if (ea == eb) {
                end = -1;
            } else if (!gn__fs_i64(ea, (size_t)(eb - ea), &end) || end < start) {
                return GN__FS_RANGE_INVALID;
            }
            if (start >= size) { nooverlap = 1; continue; }
            if (end < 0 || end >= size) end = size - 1;
            r.start = start;
            r.len = end - start + 1;
        }
        if (n == max) return GN__FS_RANGE_MANY;
        out[n++] = r;
    }
    if (n == 0 && nooverlap) return GN__FS_RANGE_NOOVERLAP;
    return n;
}

/* ---- conditional requests (Go's checkPreconditions, without an ETag) ------------ */
/* Does the comma-separated list of entity tags hold "*"?                        */
GN__PRIVATE int gn__fs_has_star(const char *s) {
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',') s++;
        if (!*s) return 0;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if (t - s == 1 && *s == '*') return 1;
        s = e;
    }
}

/* If-Modified-Since names mtime or later (Go's checkIfModifiedSince false).     */
GN__PRIVATE int gn__fs_not_modified(gn_http_request *r, int64_t mtime) {
    const char *v = gn_http_header_get(r, "If-Modified-Since");
    int64_t t;
    return v && mtime > 0 && gn__fs_parse_date(v, &t) && mtime <= t;
}

/* 0 to go on, or the status that answers the request (304, 412).               */
GN__PRIVATE int gn__fs_preconditions(gn_http_request *r, int64_t mtime) {
    const char *v = gn_http_header_get(r, "If-Match");
    int64_t t;
    if (v) {
        if (!gn__fs_has_star(v)) return 412;
    } else if ((v = gn_http_header_get(r, "If-Unmodified-Since")) && mtime > 0 &&
               gn__fs_parse_date(v, &t) && mtime > t) {
        return 412;
    }
    if ((v = gn_http_header_get(r, "If-None-Match"))) return gn__fs_has_star(v) ? 304 : 0;
    return gn__fs_not_modified(r, mtime) ? 304 : 0;
}

/* Whether the Range header applies: no If-Range, or one that names mtime.       */
GN__PRIVATE int gn__fs_if_range(gn_http_request *r, int64_t mtime) {
    const char *v = gn_http_header_get(r, "If-Range");
    int64_t t;
    if (!v) return 1;
    if (v[0] == '"' || (v[0] == 'W' && v[1] == '/')) return 0;   /* an ETag: none here */
    return mtime > 0 && gn__fs_parse_date(v, &t) && t == mtime;
}

/* ---- writing ------------------------------------------------------------------------ */
GN__PRIVATE int gn__fs_error(gn_http_response *w, int status) {
    const char *msg = status == 400 ? "400 Bad Request"
                    : status == 403 ? "403 Forbidden"
                    : status == 404 ? "404 page not found"
                    : status == 405 ? "405 method not allowed"
                    : "500 Internal Server Error";
    gn_http_error(w, msg, status);
    return status;
}

GN__PRIVATE int gn__fs_errno_status(int err) {
    switch (err) {
    case ENOENT: case ENOTDIR: case ELOOP: case EXDEV: case ENAMETOOLONG: return 404;
    case EACCES: case EPERM: return 403;
    default: return 500;
    }
}

/* Characters a path segment keeps as they are in a URL; the rest is %XX. ':' is
 * escaped too, so a relative reference never reads as a scheme.                */
GN__PRIVATE int gn__fs_url_safe(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-escapes s[0, n) into out (room for 3n bytes); returns the length.    */
GN__PRIVATE size_t gn__fs_url_escape(const char *s, size_t n, char *out) {
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (gn__fs_url_safe(c)) {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    return j;
}

/* Go's localRedirect: 301 to pre + escaped seg + (slash ? "/" : "") + "?query". */
GN__PRIVATE int gn__fs_redirect(gn_http_response *w, gn_http_request *r, const char *pre,
                                const char *seg, size_t seglen, int slash) {
    const char *q = gn_http_raw_query(r);
    size_t ql = q ? strlen(q) : 0;
    char *loc = (char *)GN_MALLOC(strlen(pre) + 3 * seglen + ql + 4);
    if (!loc) return gn__fs_error(w, 500);
    size_t n = strlen(pre);
    memcpy(loc, pre, n);
    n += gn__fs_url_escape(seg, seglen, loc + n);
    if (slash) loc[n++] = '/';
    if (ql) {
        loc[n++] = '?';
        memcpy(loc + n, q, ql);
        n += ql;
    }
    loc[n] = 0;
    int rc = gn_http_set_header(w, "Location", loc);
    GN_FREE(loc);
    if (rc) return gn__fs_error(w, 500);
    gn_http_write_header(w, 301);
    return 301;
}

/* The last element of a path, trailing slashes ignored (Go's path.Base); "." for
 * a path of slashes only.                                                        */
GN__PRIVATE void gn__fs_base(const char *p, const char **b, size_t *n) {
    size_t e = strlen(p);
    while (e > 0 && p[e - 1] == '/') e--;
    size_t s = e;
    while (s > 0 && p[s - 1] != '/') s--;
    if (s == e) {
        *b = ".";
        *n = 1;
    } else {
        *b = p + s;
        *n = e - s;
    }
}

/* Buffered output for generated bodies (listings, multipart part heads).       */
typedef struct gn__fs_out {
    gn_http_response *w;
    char   *buf;
    size_t  len, cap;
    int     err;
} gn__fs_out;

GN__PRIVATE void gn__fs_out_flush(gn__fs_out *o) {
    if (o->len && !o->err) {
        int64_t rc = gn_http_write(o->w, o->buf, o->len);
        if (rc < 0) o->err = (int)rc;
    }
    o->len = 0;
}

GN__PRIVATE void gn__fs_put(gn__fs_out *o, const char *p, size_t n) {
    while (n && !o->err) {
        if (o->len == o->cap) gn__fs_out_flush(o);
        size_t k = GN__MIN(n, o->cap - o->len);
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
}
#define GN__FS_PUTS(o, s) gn__fs_put((o), (s), strlen(s))

/* Go's htmlReplacer.                                                            */
GN__PRIVATE void gn__fs_put_html(gn__fs_out *o, const char *s) {
    for (const char *p = s; *p; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                      : *p == '"' ? "&#34;" : *p == '\'' ? "&#39;" : NULL;
        if (e) GN__FS_PUTS(o, e); else gn__fs_put(o, p, 1);
    }
}

/* Go's dirList: a <pre> of links, sorted by name, directories with a '/'.      */
GN__PRIVATE int gn__fs_list_dir(gn_http_response *w, gn_http_request *r, gn__fs_fd fd, const gn__fs_stat *st) {
    int64_t mtime = st->mtime;
    char date[40];
    if (mtime > 0) {
        gn__fs_fmt_date(mtime, date, sizeof date);
        gn_http_set_header(w, "Last-Modified", date);
    }
    if (gn__fs_not_modified(r, mtime)) {   /* Go checks only this for a directory */
        gn__fs_close(fd);
        gn_http_write_header(w, 304);
        return 304;
    }
    gn__fs_list l;
    memset(&l, 0, sizeof l);
    l.fd = fd;
    gn_blocking(gn__fs_list_run, &l);
    int status = 200;
    char *buf = NULL;
    gn__fs_out o = {w, NULL, 0, 4096, 0};   /* before the gotos: C++ refuses a jump past it */
    if (l.err) {
        status = gn__fs_error(w, l.err == ENOMEM ? 500 : gn__fs_errno_status(l.err));
        goto out;
    }
    if (!(buf = (char *)GN_MALLOC(4096))) {
        status = gn__fs_error(w, 500);
        goto out;
    }
    gn_http_set_header(w, "Content-Type", "text/html; charset=utf-8");
    o.buf = buf;
    GN__FS_PUTS(&o, "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n");
    for (size_t i = 0; i < l.n && !o.err; i++) {
        const char *nm = l.ents[i];
        int isdir = nm[-1] == 1;
        size_t nl = strlen(nm);
        char esc[3 * 256 + 2];
        GN__FS_PUTS(&o, "<a href=\"");
        for (size_t k = 0; k < nl; k += 256) {
            size_t e = gn__fs_url_escape(nm + k, GN__MIN((size_t)256, nl - k), esc);
            gn__fs_put(&o, esc, e);
        }
        if (isdir) gn__fs_put(&o, "/", 1);
        GN__FS_PUTS(&o, "\">");
        gn__fs_put_html(&o, nm);
        if (isdir) gn__fs_put(&o, "/", 1);
        GN__FS_PUTS(&o, "</a>\n");
    }
    GN__FS_PUTS(&o, "</pre>\n");
    if (l.truncated) GN__FS_PUTS(&o, "<p>(listing truncated)</p>\n");
    gn__fs_out_flush(&o);
    if (o.err) status = o.err;
out:
    GN_FREE(buf);
    GN_FREE(l.ents);
    GN_FREE(l.names);
    return status;
}

/* Sends bytes [start, start + len) of fd through buf. 0, or an error.           */
GN__PRIVATE int gn__fs_copy(gn_http_response *w, gn__fs_fd fd, char *buf, size_t cap, int64_t start, int64_t len) {
    while (len > 0) {
        gn__fs_read rd;
        rd.fd = fd;
        rd.buf = buf;
        rd.n = (size_t)GN__MIN((int64_t)cap, len);
        rd.off = start;
        gn_blocking(gn__fs_read_run, &rd);
        if (rd.got <= 0) return rd.err ? -rd.err : GN_EUNEXPECTEDEOF;   /* it shrank */
        int64_t rc = gn_http_write(w, buf, (size_t)rd.got);
        if (rc < 0) return (int)rc;
        start += rd.got;
        len -= rd.got;
    }
    return 0;
}

/* A multipart/byteranges part head (Go's multipart.Writer, headers sorted).     */
GN__PRIVATE size_t gn__fs_part_head(char *out, size_t size, int first, const char *boundary,
                                    const gn__fs_range *rg, int64_t total, const char *ctype) {
    int n = snprintf(out, size, "%s--%s\r\nContent-Range: bytes %lld-%lld/%lld\r\nContent-Type: %s\r\n\r\n",
                     first ? "" : "\r\n", boundary, (long long)rg->start,
                     (long long)(rg->start + rg->len - 1), (long long)total, ctype);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Go's serveContent for an open regular file. Takes fd over.                    */
GN__PRIVATE int gn__fs_content(gn_http_response *w, gn_http_request *r, gn__fs_fd fd, const gn__fs_stat *st,
                               const char *name, const char *sniff, size_t nsniff) {
    int64_t size = st->size, mtime = st->mtime;
    char tmp[200];
    char *buf = NULL;
    int status, nr = 0, rc = 0;
    const char *ctype, *range;   /* no initialiser past a goto: C++ refuses that */
    int64_t clen, data;
    size_t cap;
    if (mtime > 0) {
        gn__fs_fmt_date(mtime, tmp, sizeof tmp);
        gn_http_set_header(w, "Last-Modified", tmp);
    }
    if ((status = gn__fs_preconditions(r, mtime)) != 0) {
        gn_http_write_header(w, status);
        goto out;
    }
    ctype = gn__fs_type_by_ext(name);
    if (!ctype) ctype = gn__fs_sniff(sniff, nsniff);
    gn__fs_range rs[GN__FS_MAX_RANGES];
    range = gn_http_header_get(r, "Range");
    if (range && gn__fs_if_range(r, mtime)) {
        nr = gn__fs_parse_range(range, size, rs, GN__FS_MAX_RANGES);
        if (nr == GN__FS_RANGE_NOOVERLAP && size == 0) nr = 0;   /* Go: empty file, 200 */
        if (nr == GN__FS_RANGE_NOOVERLAP) {
            snprintf(tmp, sizeof tmp, "bytes */%lld", (long long)size);
            gn_http_set_header(w, "Content-Range", tmp);
            gn_http_error(w, "invalid range: failed to overlap", 416);
            status = 416;
            goto out;
        }
        if (nr == GN__FS_RANGE_INVALID) {
            gn_http_error(w, "invalid range", 416);
            status = 416;
            goto out;
        }
        int64_t sum = 0;
        for (int i = 0; i < nr; i++) sum += rs[i].len;
        if (nr < 0 || sum > size) nr = 0;   /* too many, or more than the file: all */
    }
    char boundary[33];
    clen = data = size;
    if (nr == 1) {
        snprintf(tmp, sizeof tmp, "bytes %lld-%lld/%lld", (long long)rs[0].start,
                 (long long)(rs[0].start + rs[0].len - 1), (long long)size);
        gn_http_set_header(w, "Content-Range", tmp);
        clen = data = rs[0].len;
    } else if (nr > 1) {
        static uint64_t seq;
        uint64_t x = (uint64_t)gn_now() ^ ((uint64_t)(uintptr_t)w << 16) ^
                     gn__xadd(&seq, 0x9E3779B97F4A7C15ull);
        for (int i = 0; i < 32; i += 16) {   /* splitmix64: 32 hex digits         */
            uint64_t z = (x += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            for (int k = 0; k < 16; k++) boundary[i + k] = "0123456789abcdef"[(z >> (4 * k)) & 15];
        }
        boundary[32] = 0;
        clen = data = 0;
        for (int i = 0; i < nr; i++) {
            clen += (int64_t)gn__fs_part_head(tmp, sizeof tmp, i == 0, boundary, &rs[i], size, ctype) + rs[i].len;
            data += rs[i].len;
        }
        clen += 8 + 32;   /* "\r\n--" boundary "--\r\n" */
    }
    if (nr > 1) {
        snprintf(tmp, sizeof tmp, "multipart/byteranges; boundary=%s", boundary);
        gn_http_set_header(w, "Content-Type", tmp);
    } else {
        gn_http_set_header(w, "Content-Type", ctype);
    }
    gn_http_set_header(w, "Accept-Ranges", "bytes");
    snprintf(tmp, sizeof tmp, "%lld", (long long)clen);
    gn_http_set_header(w, "Content-Length", tmp);
    status = nr ? 206 : 200;
    gn_http_write_header(w, status);
    if (strcmp(gn_http_method(r), "HEAD") == 0 || data == 0) goto out;
    cap = (size_t)GN__MIN((int64_t)GN__FS_CHUNK, data);
    if (!(buf = (char *)GN_MALLOC(cap))) {
        status = GN_ENOMEM;   /* the head says more is coming: the server closes */
        goto out;
    }
    if (nr <= 1) {
        rc = gn__fs_copy(w, fd, buf, cap, nr ? rs[0].start : 0, data);
    } else {
        for (int i = 0; i < nr && !rc; i++) {
            size_t hn = gn__fs_part_head(tmp, sizeof tmp, i == 0, boundary, &rs[i], size, ctype);
            int64_t wr = gn_http_write(w, tmp, hn);
            if (wr < 0) rc = (int)wr;
            if (!rc) rc = gn__fs_copy(w, fd, buf, cap, rs[i].start, rs[i].len);
        }
        if (!rc) {
            snprintf(tmp, sizeof tmp, "\r\n--%s--\r\n", boundary);
            int64_t wr = gn_http_write(w, tmp, strlen(tmp));
            if (wr < 0) rc = (int)wr;
        }
    }
    if (rc) status = rc;
out:
    GN_FREE(buf);
    gn__fs_close(fd);
    return status;
}

/* ---- serving a path ------------------------------------------------------------------ */
/* Go's serveFile. fs set: path is relative to its root, already clean; else any
 * path. url: the request path the redirects refer to. redirect: Go's redirect
 * flag (FileServer yes, ServeFile no). The status sent, or a negative error. */
GN__PRIVATE int gn__fs_serve_path(gn_http_response *w, gn_http_request *r, const gn_http_fs *fs,
                                  const char *path, const char *url, int redirect) {
    char sniff[GN__FS_SNIFF];
    gn__fs_open o;
    memset(&o, 0, sizeof o);
    o.root = fs ? &fs->root : NULL;
    o.path = path;
    o.sniff = gn__fs_type_by_ext(path) ? NULL : sniff;
    gn_blocking(gn__fs_open_run, &o);
    if (o.fd == GN__FS_NOFD) return gn__fs_error(w, gn__fs_errno_status(o.err));
    size_t ul = strlen(url);
    int slash = ul > 0 && url[ul - 1] == '/';
    int isdir = o.st.kind == GN__FS_DIR;
    const char *base;
    size_t bl;
    gn__fs_base(url, &base, &bl);
    if ((redirect || isdir) && isdir != slash) {
        gn__fs_close(o.fd);
        return isdir ? gn__fs_redirect(w, r, "", base, bl, 1) : gn__fs_redirect(w, r, "../", base, bl, 0);
    }
    if (isdir) {
        size_t pl = strlen(path);
        char *index = (char *)GN_MALLOC(pl + 12);
        if (!index) {
            gn__fs_close(o.fd);
            return gn__fs_error(w, 500);
        }
        memcpy(index, path, pl);
        const char *ix_name = pl && path[pl - 1] != '/' ? "/index.html" : "index.html";
        memcpy(index + pl, ix_name, strlen(ix_name) + 1);
        gn__fs_open ix;
        memset(&ix, 0, sizeof ix);
        ix.root = fs ? &fs->root : NULL;
        ix.path = index;
        gn_blocking(gn__fs_open_run, &ix);
        GN_FREE(index);
        if (ix.fd != GN__FS_NOFD && ix.st.kind == GN__FS_REG) {
            gn__fs_close(o.fd);
            return gn__fs_content(w, r, ix.fd, &ix.st, "index.html", NULL, 0);
        }
        gn__fs_close(ix.fd);
        return gn__fs_list_dir(w, r, o.fd, &o.st);
    }
    if (o.st.kind != GN__FS_REG) {
        gn__fs_close(o.fd);
        return gn__fs_error(w, 403);
    }
    return gn__fs_content(w, r, o.fd, &o.st, path, sniff, o.nsniff);
}

/* GET and HEAD only; else 405 with Allow. 1 if the method is served.            */
GN__PRIVATE int gn__fs_method_ok(gn_http_response *w, gn_http_request *r) {
    const char *m = gn_http_method(r);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) return 1;
    gn_http_set_header(w, "Allow", "GET, HEAD");
    gn__fs_error(w, 405);
    return 0;
}

/* Go's containsDotDot: a ".." element between '/' or '\\' separators.         */
GN__PRIVATE int gn__fs_dotdot(const char *p) {
    for (const char *s = p; *s;) {
        while (*s == '/' || *s == '\\') s++;
        const char *e = s;
        while (*e && *e != '/' && *e != '\\') e++;
        if (e - s == 2 && s[0] == '.' && s[1] == '.') return 1;
        s = e;
    }
    return 0;
}

/* "%00" in the target's path: the decoded path would end at the NUL.           */
GN__PRIVATE int gn__fs_nul(gn_http_request *r) {
    const char *t = gn_http_target(r);
    for (; t && *t && *t != '?'; t++)
        if (t[0] == '%' && t[1] == '0' && t[2] == '0') return 1;
    return 0;
}

GONET_API gn_http_fs *gn_http_fs_new(const char *root) {
    if (!root || !*root) return NULL;
    gn_http_fs *fs = (gn_http_fs *)GN_MALLOC(sizeof *fs);
    if (!fs) return NULL;
    memset(fs, 0, sizeof *fs);
    fs->root.fd = GN__FS_NOFD;
    if (gn__fs_root_open(&fs->root, root) != 0) {
        gn_http_fs_free(fs);
        return NULL;
    }
    return fs;
}

GONET_API void gn_http_fs_free(gn_http_fs *fs) {
    if (!fs) return;
    gn__fs_close(fs->root.fd);
    GN_FREE(fs->root.path);
    GN_FREE(fs->prefix);
    GN_FREE(fs);
}

GONET_API int gn_http_fs_strip_prefix(gn_http_fs *fs, const char *prefix) {
    if (!fs || !prefix || (prefix[0] && prefix[0] != '/')) return GN_EINVAL;
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/') n--;
    char *p = NULL;
    if (n) {
        if (!(p = (char *)GN_MALLOC(n + 1))) return GN_ENOMEM;
        memcpy(p, prefix, n);
        p[n] = 0;
    }
    GN_FREE(fs->prefix);
    fs->prefix = p;
    fs->prefixlen = n;
    return 0;
}

GONET_API void gn_http_fs_serve(gn_http_response *w, gn_http_request *r, void *ud) {
    gn_http_fs *fs = (gn_http_fs *)ud;
    if (!w || !r) return;
    if (!fs) {
        gn__fs_error(w, 500);
        return;
    }
    if (!gn__fs_method_ok(w, r)) return;
    if (gn__fs_nul(r)) {
        gn__fs_error(w, 400);
        return;
    }
    const char *url = gn_http_path(r);
    if (fs->prefix) {
        if (strncmp(url, fs->prefix, fs->prefixlen) != 0 ||
            (url[fs->prefixlen] && url[fs->prefixlen] != '/')) {
            gn__fs_error(w, 404);
            return;
        }
        url += fs->prefixlen;
        if (!*url) {   /* "/static": to "static/", where the listing's links work */
            const char *base;
            size_t bl;
            gn__fs_base(fs->prefix, &base, &bl);
            gn__fs_redirect(w, r, "", base, bl, 1);
            return;
        }
    }
    if (gn__fs_dotdot(url)) {
        gn__fs_error(w, 400);
        return;
    }
    size_t ul = strlen(url);
    if (ul >= 11 && strcmp(url + ul - 11, "/index.html") == 0) {   /* as Go: to "./" */
        gn__fs_redirect(w, r, "./", "", 0, 0);
        return;
    }
    /* Clean: drop empty and "." elements; ".." was refused above.                */
    char *rel = (char *)GN_MALLOC(ul + 1);
    if (!rel) {
        gn__fs_error(w, 500);
        return;
    }
    size_t n = 0;
    for (const char *s = url; *s;) {
        while (*s == '/') s++;
        const char *e = s;
        while (*e && *e != '/') e++;
        if (e > s && !(e - s == 1 && *s == '.')) {
            if (n) rel[n++] = '/';
            memcpy(rel + n, s, (size_t)(e - s));
            n += (size_t)(e - s);
        }
        s = e;
    }
    rel[n] = 0;
    gn__fs_serve_path(w, r, fs, rel, url, 1);
    GN_FREE(rel);
}

GONET_API int gn_http_serve_file(gn_http_response *w, gn_http_request *r, const char *path) {
    if (!w || !r || !path || !*path) return GN_EINVAL;
    if (!gn__fs_method_ok(w, r)) return 405;
    if (gn__fs_nul(r) || gn__fs_dotdot(gn_http_path(r))) return gn__fs_error(w, 400);
    return gn__fs_serve_path(w, r, NULL, path, gn_http_path(r), 0);
}
/* ==== end src/http_fs.c ==== */

/* ==== begin src/fs_posix.c ==== */
/* fs_posix.c — the static file server's file-system calls on POSIX systems
 * (the OS's part declared in http_fs.c): opening beneath the root with
 * openat2(RESOLVE_BENEATH) on Linux or openat(O_RESOLVE_BENEATH) on FreeBSD,
 * else (macOS, OpenBSD, NetBSD, DragonFly, older kernels) realpath and an
 * inode check; fstat, pread, readdir. Each *_run function runs inside
 * gn_blocking, is never inlined into its caller (GN__OPAQUE), and reads errno
 * itself.
 *
 * >>fs-posix                                                                     */
#if GN__OS_POSIX

#include <dirent.h>
#include <sys/stat.h>
#if GN__OS_DARWIN
#  include <sys/param.h>   /* MAXPATHLEN, F_GETPATH's buffer size */
#endif
#if GN__OS_LINUX
#  include <sys/syscall.h>
#endif


/* Set once openat2 has said ENOSYS; tests set it to exercise the other way.      */
static int gn__fs_no_openat2;

GN__PRIVATE void gn__fs_stat_from(const struct stat *st, gn__fs_stat *out) {
    out->kind = S_ISREG(st->st_mode) ? GN__FS_REG : S_ISDIR(st->st_mode) ? GN__FS_DIR : GN__FS_OTHER;
    out->size = (int64_t)st->st_size;
    out->mtime = (int64_t)st->st_mtime;
}

/* Is real (an absolute, resolved path) root or under it?                         */
GN__PRIVATE int gn__fs_under(const gn__fs_root *root, const char *real) {
    if (root->len == 1) return real[0] == '/';
    return strncmp(real, root->path, root->len) == 0 &&
           (real[root->len] == 0 || real[root->len] == '/');
}

/* The check behind openat: root/rel, resolved, must lie under the root. 0 and
 * the resolved file's stat, or an errno (EXDEV: it leads out).                   */
GN__PRIVATE int gn__fs_resolve(const gn__fs_root *root, const char *rel, struct stat *st) {
    size_t rl = strlen(rel);
    char *full = (char *)GN_MALLOC(root->len + rl + 2);
    if (!full) return ENOMEM;
    memcpy(full, root->path, root->len);
    full[root->len] = '/';
    memcpy(full + root->len + 1, rel, rl + 1);
    char *real = realpath(full, NULL);   /* libc's malloc: freed with free()       */
    int err = real ? 0 : errno;
    GN_FREE(full);
    if (!real) return err;
    if (!gn__fs_under(root, real)) err = EXDEV;
    else if (stat(real, st) != 0) err = errno;
    free(real);
    return err;
}

GN__PRIVATE int gn__fs_open_beneath(const gn__fs_root *root, const char *rel, int flags, int *err) {
    int rootfd = (int)root->fd;
    if (!*rel) rel = ".";
#if defined(SYS_openat2)
    if (!gn__load_relaxed(&gn__fs_no_openat2)) {
        struct { uint64_t flags, mode, resolve; } how;
        how.flags = (uint64_t)flags;
        how.mode = 0;
        how.resolve = 0x08 | 0x02;   /* RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS      */
        for (int i = 0; i < 8; i++) {
            long fd = gn__sys_openat2(rootfd, rel, &how, sizeof how);
            if (fd >= 0) return (int)fd;
            int e = errno;
            if (e == EAGAIN || e == EINTR) continue;   /* a rename raced the lookup   */
            if (e == ENOSYS) gn__store_relaxed(&gn__fs_no_openat2, 1);
            if (e == ENOSYS || e == EPERM || e == EXDEV) break;   /* check the long way */
            *err = e;
            return -1;
        }
    }
#endif
#if defined(O_RESOLVE_BENEATH)
    /* FreeBSD 13 on: the kernel refuses a path that leads out, as openat2
     * does (and, like it, an absolute link: the long way below judges those). */
    for (;;) {
        int fd = gn__sys_openat(rootfd, rel, flags | O_RESOLVE_BENEATH);
        if (fd >= 0) return fd;
        int e = errno;
        if (e == EINTR) continue;
#  if defined(ENOTCAPABLE)
        if (e == ENOTCAPABLE) break;
#  endif
        if (e == EXDEV || e == EPERM) break;
        *err = e;
        return -1;
    }
#endif
    /* Resolve first, so that a link leading out is never even opened; then open
     * and make sure it is the inode checked (a swap in between shows).          */
    struct stat want, got;
    int e = gn__fs_resolve(root, rel, &want);
    if (e) {
        *err = e;
        return -1;
    }
    int fd;
    do fd = gn__sys_openat(rootfd, rel, flags); while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (gn__sys_fstat(fd, &got) != 0) {   /* a failed check is that failure, not "outside" */
        *err = errno;
        gn__sys_close(fd);
        return -1;
    }
    if (got.st_dev == want.st_dev && got.st_ino == want.st_ino) return fd;
    gn__sys_close(fd);
    *err = EXDEV;
    return -1;
}

GN__PRIVATE GN__OPAQUE void gn__fs_open_run(void *arg) {
    gn__fs_open *o = (gn__fs_open *)arg;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused later). */
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    int fd;
    o->fd = GN__FS_NOFD;
    o->err = 0;
    o->nsniff = 0;
    if (o->root) {
        fd = gn__fs_open_beneath(o->root, o->path, flags, &o->err);
    } else {
        do fd = gn__sys_open(o->path, flags); while (fd < 0 && errno == EINTR);
        if (fd < 0) o->err = errno;
    }
    if (fd < 0) return;
    struct stat st;
    if (gn__sys_fstat(fd, &st) != 0) {
        o->err = errno;
        gn__sys_close(fd);
        return;
    }
    gn__fs_stat_from(&st, &o->st);
    if (o->sniff && S_ISREG(st.st_mode)) {
        int e = 0;
        o->nsniff = (size_t)gn__fs_pread_full(fd, o->sniff, GN__FS_SNIFF, 0, &e);
    }
    o->fd = fd;
}

GN__PRIVATE int64_t gn__fs_pread(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err) {
    ssize_t k;
    do k = gn__sys_pread((int)fd, buf, n, (off_t)off); while (k < 0 && errno == EINTR);
    if (k < 0) *err = errno;
    return (int64_t)k;
}

GN__PRIVATE GN__OPAQUE void gn__fs_close_run(void *arg) {
    gn__sys_close((int)*(gn__fs_fd *)arg);
}

GN__PRIVATE GN__OPAQUE void gn__fs_list_run(void *arg) {
    gn__fs_list *o = (gn__fs_list *)arg;
    DIR *d = fdopendir((int)o->fd);
    if (!d) {
        o->err = errno;
        gn__sys_close((int)o->fd);
        return;
    }
    struct dirent *de;
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno) o->err = errno;
            break;
        }
        const char *nm = de->d_name;
        int isdir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {   /* some file systems do not say           */
            struct stat st;
            isdir = fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (gn__fs_list_add(o, nm, isdir)) break;
    }
    closedir(d);
    gn__fs_list_sort(o);
}

/* The resolved path of what fd refers to, in memory from libc's malloc (the
 * caller frees it with free()), or NULL where the system cannot say: Linux
 * through /proc (when mounted), macOS through F_GETPATH; the BSDs have no
 * such call that every release shares.                                      */
GN__PRIVATE char *gn__fs_fd_realpath(int fd) {
#if GN__OS_LINUX
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    return realpath(link, NULL);
#elif defined(F_GETPATH)
    char buf[MAXPATHLEN];
    return fcntl(fd, F_GETPATH, buf) == 0 ? realpath(buf, NULL) : NULL;
#else
    (void)fd;
    return NULL;
#endif
}

GN__PRIVATE int gn__fs_root_open(gn__fs_root *root, const char *path) {
    gn__fs_open o;
    memset(&o, 0, sizeof o);
    o.path = path;
    gn_blocking(gn__fs_open_run, &o);
    root->fd = o.fd;
    if (o.fd == GN__FS_NOFD) return o.err ? o.err : ENOENT;
    if (o.st.kind != GN__FS_DIR) return ENOTDIR;
    /* The real path of the directory opened (not of the name, which could be
     * swapped meanwhile) where the system tells it, else the name's.         */
    char *real = gn__fs_fd_realpath((int)o.fd);
    if (!real || real[0] != '/') {
        free(real);
        real = realpath(path, NULL);
    }
    if (!real) return ENOENT;
    root->path = gn__strdup(real);
    free(real);
    if (!root->path) return ENOMEM;
    root->len = strlen(root->path);
    return 0;
}

#endif /* GN__OS_POSIX */
/* ==== end src/fs_posix.c ==== */

/* ==== begin src/fs_windows.c ==== */
/* fs_windows.c — the static file server's file-system calls on Windows (the
 * OS's part declared in http_fs.c): CreateFileW, GetFileInformationByHandle,
 * ReadFile at an offset, the directory read through its handle.
 *
 * Staying under the root. A request path (UTF-8, already free of ".." and
 * NUL) is refused if it holds '\\' or ':' (an alternate data stream, a drive),
 * then appended to the root's final path, which is in the "\\?\" form: no
 * device names (CON, NUL), no trailing-dot trimming, no length limit. It is
 * opened with FILE_FLAG_OPEN_REPARSE_POINT, and refused if it is one (a
 * symbolic link, a junction: 404, as a link out is on POSIX; unlike POSIX,
 * one that stays inside is refused too, since telling them apart would need
 * following it). A reparse point on the way to it is followed by the system,
 * so the handle's final path (GetFinalPathNameByHandleW) must still lie under
 * the root's final path. The check is on the handle opened, so there is no
 * window between the check and the use.
 *
 * >>fs-windows                                                                   */
#if GN__OS_WINDOWS

/* Win32 errors as the errno values http_fs.c speaks.                           */
GN__PRIVATE int gn__fs_errno_from_win32(DWORD e) {
    switch (e) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME: case ERROR_DIRECTORY: case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH: case ERROR_BAD_NET_NAME: return ENOENT;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD: return EACCES;
    case ERROR_FILENAME_EXCED_RANGE: return ENAMETOOLONG;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return ENOMEM;
    case ERROR_CANT_RESOLVE_FILENAME: return ELOOP;
    default: return EIO;
    }
}

/* UTF-8 to a GN_MALLOC'd UTF-16 string, with room for extra more wide chars;
 * NULL (errno value in *err) on failure.                                      */
GN__PRIVATE wchar_t *gn__fs_wide(const char *s, size_t extra, int *err) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        *err = ENOENT;   /* not UTF-8: no such name */
        return NULL;
    }
    wchar_t *w = (wchar_t *)GN_MALLOC(((size_t)n + extra) * sizeof *w);
    if (!w) {
        *err = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

/* UTF-16 to a GN_MALLOC'd UTF-8 string, or NULL.                                */
GN__PRIVATE char *gn__fs_utf8(const wchar_t *w, int wn) {
    int n = WideCharToMultiByte(CP_UTF8, 0, w, wn, NULL, 0, NULL, NULL);
    if (n <= 0 && wn != 0) return NULL;
    char *s = (char *)GN_MALLOC((size_t)n + 1);
    if (!s) return NULL;
    if (n > 0) WideCharToMultiByte(CP_UTF8, 0, w, wn, s, n, NULL, NULL);
    s[n] = 0;
    return s;
}

/* The handle's final path ("\\?\C:\dir\file"), GN_MALLOC'd, or NULL.            */
GN__PRIVATE wchar_t *gn__fs_final_path(HANDLE h, DWORD *len) {
    DWORD cap = 512;
    for (;;) {
        wchar_t *w = (wchar_t *)GN_MALLOC(cap * sizeof *w);
        if (!w) return NULL;
        DWORD n = GetFinalPathNameByHandleW(h, w, cap, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
        if (n == 0) {
            GN_FREE(w);
            return NULL;
        }
        if (n < cap) {
            *len = n;
            return w;
        }
        GN_FREE(w);
        cap = n + 1;
    }
}

/* 100 ns ticks since 1601 to Unix seconds.                                     */
GN__PRIVATE int64_t gn__fs_unix_time(FILETIME ft) {
    int64_t t = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);
    return (t - INT64_C(116444736000000000)) / 10000000;
}

GN__PRIVATE HANDLE gn__fs_create(const wchar_t *path, DWORD flags) {
    return CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | flags, NULL);
}

/* Opens rel under root as the top of this file says. The handle, or
 * INVALID_HANDLE_VALUE with an errno value in *err (EXDEV: it leads out).      */
GN__PRIVATE HANDLE gn__fs_open_beneath(const gn__fs_root *root, const char *rel, int *err) {
    for (const char *p = rel; *p; p++) {
        if (*p == '\\' || *p == ':') {
            *err = ENOENT;
            return INVALID_HANDLE_VALUE;
        }
    }
    size_t rl = strlen(rel);
    char *full = (char *)GN_MALLOC(root->len + rl + 2);
    if (!full) {
        *err = ENOMEM;
        return INVALID_HANDLE_VALUE;
    }
    memcpy(full, root->path, root->len);
    size_t n = root->len;
    if (rl) {
        full[n++] = '\\';
        for (size_t i = 0; i < rl; i++) full[n++] = rel[i] == '/' ? '\\' : rel[i];
        while (n > root->len + 1 && full[n - 1] == '\\') n--;   /* "dir/" names dir */
    } else if (n && full[n - 1] == ':') {
        full[n++] = '\\';   /* "\\?\C:" is the volume; "\\?\C:\" its root directory */
    }
    full[n] = 0;
    wchar_t *w = gn__fs_wide(full, 0, err);
    GN_FREE(full);
    if (!w) return INVALID_HANDLE_VALUE;
    HANDLE h = gn__fs_create(w, FILE_FLAG_OPEN_REPARSE_POINT);
    GN_FREE(w);
    if (h == INVALID_HANDLE_VALUE) {
        *err = gn__fs_errno_from_win32(GetLastError());
        return h;
    }
    BY_HANDLE_FILE_INFORMATION bi;
    DWORD fl = 0;
    wchar_t *fin = NULL;
    int bad = !GetFileInformationByHandle(h, &bi) || (bi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT);
    if (!bad) {
        fin = gn__fs_final_path(h, &fl);
        char *real = fin ? gn__fs_utf8(fin, (int)fl) : NULL;
        bad = !real || strncmp(real, root->path, root->len) != 0 ||
              (real[root->len] != 0 && real[root->len] != '\\');
        GN_FREE(real);
        GN_FREE(fin);
    }
    if (bad) {
        CloseHandle(h);
        *err = EXDEV;
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

GN__PRIVATE int gn__fs_stat_of(HANDLE h, gn__fs_stat *st) {
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle(h, &bi)) return gn__fs_errno_from_win32(GetLastError());
    if (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) st->kind = GN__FS_DIR;
    else st->kind = GetFileType(h) == FILE_TYPE_DISK ? GN__FS_REG : GN__FS_OTHER;
    st->size = (int64_t)(((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow);
    st->mtime = gn__fs_unix_time(bi.ftLastWriteTime);
    return 0;
}

/* Reads up to n bytes at off; the count (0 at the end), or -1 with *err.       */
GN__PRIVATE int64_t gn__fs_pread(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err) {
    HANDLE h = (HANDLE)fd;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)(uint64_t)off;
    ov.OffsetHigh = (DWORD)((uint64_t)off >> 32);
    DWORD got = 0;
    if (ReadFile(h, buf, n > (1u << 30) ? (1u << 30) : (DWORD)n, &got, &ov)) return got;
    DWORD e = GetLastError();
    if (e == ERROR_HANDLE_EOF) return 0;
    *err = gn__fs_errno_from_win32(e);
    return -1;
}

GN__PRIVATE GN__OPAQUE void gn__fs_open_run(void *arg) {
    gn__fs_open *o = (gn__fs_open *)arg;
    o->fd = GN__FS_NOFD;
    o->err = 0;
    o->nsniff = 0;
    HANDLE h;
    if (o->root) {
        h = gn__fs_open_beneath(o->root, o->path, &o->err);
    } else {
        wchar_t *w = gn__fs_wide(o->path, 0, &o->err);
        h = w ? gn__fs_create(w, 0) : INVALID_HANDLE_VALUE;
        if (w && h == INVALID_HANDLE_VALUE) o->err = gn__fs_errno_from_win32(GetLastError());
        GN_FREE(w);
    }
    if (h == INVALID_HANDLE_VALUE) return;
    if ((o->err = gn__fs_stat_of(h, &o->st)) != 0) {
        CloseHandle(h);
        return;
    }
    if (o->sniff && o->st.kind == GN__FS_REG) {
        int e = 0;
        o->nsniff = (size_t)gn__fs_pread_full((gn__fs_fd)h, o->sniff, GN__FS_SNIFF, 0, &e);
    }
    o->fd = (gn__fs_fd)h;
}

GN__PRIVATE GN__OPAQUE void gn__fs_close_run(void *arg) {
    CloseHandle((HANDLE)*(gn__fs_fd *)arg);
}

/* Reads the directory through its handle (no second lookup of its name).       */
GN__PRIVATE GN__OPAQUE void gn__fs_list_run(void *arg) {
    gn__fs_list *o = (gn__fs_list *)arg;
    HANDLE h = (HANDLE)o->fd;
    size_t cap = 64 * 1024;
    char *buf = (char *)GN_MALLOC(cap);
    if (!buf) {
        o->err = ENOMEM;
        CloseHandle(h);
        return;
    }
    FILE_INFO_BY_HANDLE_CLASS cls = FileFullDirectoryRestartInfo;
    int stop = 0;
    while (!stop) {
        if (!GetFileInformationByHandleEx(h, cls, buf, (DWORD)cap)) {
            DWORD e = GetLastError();
            if (e != ERROR_NO_MORE_FILES) o->err = gn__fs_errno_from_win32(e);
            break;
        }
        cls = FileFullDirectoryInfo;
        for (char *p = buf; !stop;) {
            FILE_FULL_DIR_INFO *fi = (FILE_FULL_DIR_INFO *)(void *)p;
            char *nm = gn__fs_utf8(fi->FileName, (int)(fi->FileNameLength / sizeof(WCHAR)));
            if (!nm) {
                o->err = ENOMEM;
                stop = 1;
                break;
            }
            stop = gn__fs_list_add(o, nm, (fi->FileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0);
            GN_FREE(nm);
            if (!fi->NextEntryOffset) break;
            p += fi->NextEntryOffset;
        }
    }
    GN_FREE(buf);
    CloseHandle(h);
    gn__fs_list_sort(o);
}

GN__PRIVATE int gn__fs_root_open(gn__fs_root *root, const char *path) {
    gn__fs_open o;
    memset(&o, 0, sizeof o);
    o.path = path;
    gn_blocking(gn__fs_open_run, &o);
    root->fd = o.fd;
    if (o.fd == GN__FS_NOFD) return o.err ? o.err : ENOENT;
    if (o.st.kind != GN__FS_DIR) return ENOTDIR;
    DWORD n = 0;
    wchar_t *fin = gn__fs_final_path((HANDLE)o.fd, &n);
    if (!fin) return ENOENT;
    while (n > 0 && fin[n - 1] == L'\\') n--;   /* "\\?\C:\" names the drive's root */
    root->path = gn__fs_utf8(fin, (int)n);
    GN_FREE(fin);
    if (!root->path) return ENOMEM;
    root->len = strlen(root->path);
    return 0;
}

#endif /* GN__OS_WINDOWS */
/* ==== end src/fs_windows.c ==== */

/* ==== begin src/http_client.c ==== */
/* http_client.c — the HTTP/1.1 client: gn_http_do, the response it hands back,
 * and per-host pools of keep-alive connections (Go's http.Client and Transport,
 * simplified: no proxies, no TLS, no HTTP/2, no transparent gzip, no cookies).
 *
 * One allocation per connection, none per request. A pooled connection (a
 * gn__cl_conn) owns its read buffer, write buffer, header array and the
 * gn_http_resp itself: the response a caller gets IS its connection's, parsed
 * in place (http_parse.c's zero-copy head), so a keep-alive request costs no
 * malloc, and gn_http_resp_free is what gives the connection back. That is
 * also why a response holds its connection until it is freed, even after its
 * body has ended.
 *
 * Pools. Idle connections are kept per "host:port", newest first (LIFO): the
 * most recently used one is the least likely to have hit the server's idle
 * timeout, and the older ones age out. Every idle connection is also on one
 * client-wide list in the order it went idle, so expiry (idle_conn_timeout)
 * sweeps the oldest end of that list whenever any pool is touched, and the
 * client frees what is left. No timer: an idle client then costs nothing and
 * nothing fires against memory the caller is freeing; the price is that a
 * connection to a host nobody asks for again stays open until the client is
 * used or freed (the server's own idle timeout usually closes its end first).
 *
 * Slots. With max_conns_per_host, each open connection (idle, busy or being
 * dialled) holds a slot of its host. A request that finds no idle connection
 * and no free slot queues FIFO; a connection that goes idle, or a slot that
 * frees, is handed to the first waiter directly rather than to whoever takes
 * the lock next, so a waiter cannot starve behind newcomers. The hand-off
 * sends on the waiter's one-slot channel while holding the client's mutex, so a
 * waiter that gives up (timeout, cancel) and frees its channel after taking
 * the mutex never races a sender. The mutex is a gn_mutex (it parks, never
 * spins) held only for list work: connections are closed after it is dropped.
 *
 * Cancellation. Deadlines do the work: opts.timeout and the context's deadline
 * become the connection's deadlines, response_header_timeout its read deadline
 * while the head is awaited. A context cancel needs a watcher: a coroutine per
 * exchange (only when the context can be cancelled) that moves the
 * connection's deadlines into the past: context.c's gn__ctxwatch, as the dialer
 * uses. Every deadline change goes through the watch's lock, so a later
 * deadline cannot undo a cancel; the exchange stops the watch, which waits
 * until the watcher has left its select (the caller may free the context
 * next), before the connection is closed or pooled.
 *
 * Stale connections. A server closes keep-alive connections on its own idle
 * timer. One it closed while ours sat in the pool is dropped when taken out:
 * the poller has recorded the hang-up (EPOLLRDHUP), so this costs no system
 * call, and a POST is not sent into a dead connection (Go gets the same from a
 * read loop per connection). That leaves the race where the server closes as
 * the request arrives, seen only when the request is written or the head read.
 * Retries (Go's rule, widened to PUT and DELETE as RFC 9110 §9.2.2 allows): if
 * that fails on a reused connection with EOF, a reset or a broken pipe before
 * any byte of a response arrived, a request that is idempotent (GET HEAD
 * OPTIONS TRACE PUT DELETE, or one with an Idempotency-Key) and replayable (no
 * body, or a buffer) is sent once more, on a fresh connection dialled into the
 * same slot. A streamed body is never sent twice: the caller sees the error.
 *
 * Lifetime. Each connection holds a reference on the client; gn_http_client_free
 * closes the idle ones and the client goes when the last response is freed.
 * Free responses and the client while the runtime runs, from coroutines.
 *
 * >>http-client                                                                  */

#define GN__CL_DIAL_TIMEOUT   (10 * GN_SECOND)
#define GN__CL_HEADER_TIMEOUT (30 * GN_SECOND)
#define GN__CL_IDLE_TIMEOUT   (90 * GN_SECOND)
#define GN__CL_MAX_IDLE       8
#define GN__CL_MAX_HEAD       (64 * 1024)
#define GN__CL_RBUF           4096        /* a connection's first read buffer         */
#define GN__CL_ROOM           1024        /* at least this much buffer after a head,
                                             for the body; else it grows by RBUF   */
#define GN__CL_DIRECT         2048        /* a body read this large, with nothing
                                             buffered, goes straight to the caller   */
#define GN__CL_CHUNK          (32 * 1024) /* read from a body_reader at a time        */
#define GN__CL_NHDRS          32          /* header slots to start with; grows        */
#define GN__CL_MAX_1XX        5           /* interim responses skipped, as Go         */
#define GN__CL_DRAIN          (4 * 1024)  /* a redirect's body read so its connection
                                             can be reused (Go: 2 KiB)               */
#define GN__CL_BUCKETS        64
#define GN__CL_HOST_MAX       255

typedef struct gn__cl_conn   gn__cl_conn;
typedef struct gn__cl_host   gn__cl_host;
typedef struct gn__cl_waiter gn__cl_waiter;

struct gn_http_resp {
    gn__cl_conn  *pc;           /* the connection this response lives in            */
    gn__http_head h;            /* strings point into pc->buf                      */
    gn__chunked   ck;
    int64_t       left;         /* GN__HTTP_BODY_LENGTH: body bytes still to come   */
    size_t        rpos, rend;   /* body bytes buffered: pc->buf[rpos, rend)         */
    int           kind;         /* GN__HTTP_BODY_*                                  */
    int           head_req;     /* answers a HEAD                                   */
    int           done;         /* the body has ended                               */
    int           err;          /* sticky body error                                */
    int           reusable;     /* the head allows the connection to be reused     */
};

struct gn__cl_conn {
    gn_http_resp    resp;
    gn_http_client *cl;
    gn__cl_host    *host;
    gn_conn        *conn;       /* NULL: a slot whose connection is still to dial  */
    gn__cl_conn    *hnext, *hprev;   /* the host's idle list, newest first         */
    gn__cl_conn    *lnext, *lprev;   /* the client's idle list: lnext is older     */
    gn__ctxwatch   *watch;      /* the context watch of the exchange, or NULL      */
    int64_t         idle_at;
    int64_t         rdl, wdl;   /* the deadlines set on conn                       */
    int             uses;       /* responses this connection has carried           */
    char           *buf, *wbuf;
    size_t          cap, wcap;
    gn_http_header *hdrs;
    size_t          hcap;
};

/* A request parked for a slot; lives on its stack. pc is set by the hand-off.  */
struct gn__cl_waiter {
    gn__cl_waiter *next, *prev;
    gn_chan       *ch;          /* capacity 1: the wake-up                          */
    gn__cl_conn   *pc;
};

struct gn__cl_host {
    gn__cl_host   *next;        /* hash chain                                       */
    gn__cl_conn   *idle;
    gn__cl_waiter *wfirst, *wlast;
    int            nidle, nconns;
    char           key[];       /* "host:port", host in lower case                  */
};

struct gn_http_client {
    gn_http_client_opts o;      /* defaults filled in                               */
    gn_mutex     mu;
    gn__cl_host *hosts[GN__CL_BUCKETS];
    gn__cl_conn *lru_new, *lru_old;
    int          npc;           /* gn__cl_conns alive, each a reference             */
    int          freed;
};

/* ---- URLs ---------------------------------------------------------------------- */
typedef struct gn__cl_url {
    const char *auth;   size_t auth_len;     /* "host[:port]" as written: Host      */
    const char *host;   size_t host_len;     /* brackets kept for IPv6              */
    const char *target; size_t target_len;   /* path and query, no fragment; may be
                                                empty or start with '?' ("/" added) */
    char addr[GN__CL_HOST_MAX + 8];          /* "host:port" to dial: the pool key   */
} gn__cl_url;

/* The length of a scheme followed by ':' at the start of s, or 0.               */
GN__PRIVATE size_t gn__cl_scheme_len(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    size_t i = 1;
    while (GN__HC(s[i], GN__HC_SCHEME)) i++;
    return s[i] == ':' ? i : 0;
}

/* "http://host[:port][/path][?query][#fragment]". https is GN_ENOSYS: there is
 * no TLS in this library (put a TLS-terminating proxy in front, or use another
 * client); any other scheme, userinfo, a bad host or port, or a control byte
 * is GN_EINVAL. The fragment is not sent, as in Go.                             */
GN__PRIVATE int gn__cl_parse_url(const char *url, gn__cl_url *u) {
    if (!url) return GN_EINVAL;
    size_t sl = gn__cl_scheme_len(url);
    if (!sl || strncmp(url + sl, "://", 3) != 0) return GN_EINVAL;
    if (sl == 5 && gn__http_ieq(url, "https", 5)) return GN_ENOSYS;
    if (sl != 4 || !gn__http_ieq(url, "http", 4)) return GN_EINVAL;
    const char *a = url + sl + 3, *p = a;
    while (*p && *p != '/' && *p != '?' && *p != '#') p++;
    size_t al = (size_t)(p - a);
    /* '@' is no host byte, so userinfo fails here too.                          */
    if (al == 0 || !gn__http_valid_host(a, al, 1)) return GN_EINVAL;
    const char *he = a;
    if (*a == '[') he = (const char *)memchr(a, ']', al) + 1;
    else
        while (he < p && *he != ':') he++;
    size_t hl = (size_t)(he - a);
    if (hl > GN__CL_HOST_MAX) return GN_EINVAL;
    unsigned port = 80;
    if (he < p && he + 1 < p) {   /* "host:" alone means the default port, as Go  */
        port = 0;
        for (const char *d = he + 1; d < p; d++) {
            port = port * 10 + (unsigned)(*d - '0');
            if (port > 65535) return GN_EINVAL;
        }
        if (port == 0) return GN_EINVAL;
    }
    const char *te = p;
    for (; *te && *te != '#'; te++) {
        unsigned char ch = (unsigned char)*te;
        if (ch < 0x20 || ch == 0x7f) return GN_EINVAL;
    }
    u->auth = a;
    u->auth_len = al;
    u->host = a;
    u->host_len = hl;
    u->target = p;
    u->target_len = (size_t)(te - p);
    for (size_t i = 0; i < hl; i++) u->addr[i] = (char)gn__http_lower((unsigned char)a[i]);
    snprintf(u->addr + hl, sizeof u->addr - hl, ":%u", port);
    return 0;
}

/* RFC 3986 §5.2.4: removes "." and ".." segments of in[0, n) into out (n bytes
 * suffice: the result is never longer). in is scribbled on. Returns the length. */
GN__PRIVATE size_t gn__cl_dots(char *in, size_t n, char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        size_t rem = n - i;
        const char *s = in + i;
        if (rem >= 3 && memcmp(s, "../", 3) == 0) { i += 3; continue; }
        if (rem >= 2 && memcmp(s, "./", 2) == 0) { i += 2; continue; }
        if (rem >= 3 && memcmp(s, "/./", 3) == 0) { i += 2; continue; }
        if (rem == 2 && memcmp(s, "/.", 2) == 0) { in[++i] = '/'; continue; }
        int up = rem >= 4 && memcmp(s, "/../", 4) == 0;
        if (up || (rem == 3 && memcmp(s, "/..", 3) == 0)) {
            /* "/../x" goes on as "/x", a final "/.." as "/"; drop a segment.      */
            i += up ? 3 : 2;
            in[i] = '/';
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
            continue;
        }
        if ((rem == 1 && s[0] == '.') || (rem == 2 && s[0] == '.' && s[1] == '.')) break;
        size_t j = i + (in[i] == '/');
        while (j < n && in[j] != '/') j++;
        memcpy(out + o, in + i, j - i);
        o += j - i;
        i = j;
    }
    return o;
}

/* Resolves a Location against the request's URL (RFC 3986 §5.2) into a fresh
 * GN_MALLOC'd absolute URL. *rel: the reference named no host.                 */
GN__PRIVATE int gn__cl_resolve(const gn__cl_url *b, const char *loc, char **out, int *rel) {
    size_t ll = strcspn(loc, "#");
    size_t sl = gn__cl_scheme_len(loc);
    int net = ll >= 2 && loc[0] == '/' && loc[1] == '/';
    *rel = !(sl && sl < ll) && !net;
    size_t size = 8 + b->auth_len + b->target_len + ll + 2;
    char *r = (char *)GN_MALLOC(size);
    if (!r) return GN_ENOMEM;
    size_t o = 0;
    if (!*rel) {
        if (net) {
            memcpy(r, "http:", 5);
            o = 5;
        }
        memcpy(r + o, loc, ll);
        r[o + ll] = 0;
        *out = r;
        return 0;
    }
    memcpy(r, "http://", 7);
    memcpy(r + 7, b->auth, b->auth_len);
    o = 7 + b->auth_len;
    size_t bpl = strcspn(b->target, "?");   /* the base path                       */
    if (bpl > b->target_len) bpl = b->target_len;
    if (ll == 0 || loc[0] == '?') {
        if (bpl == 0) r[o++] = '/';
        memcpy(r + o, b->target, bpl);
        o += bpl;
        if (ll) memcpy(r + o, loc, ll);
        else memcpy(r + o, b->target + bpl, b->target_len - bpl);
        o += ll ? ll : b->target_len - bpl;
        r[o] = 0;
        *out = r;
        return 0;
    }
    size_t lpl = strcspn(loc, "?");
    if (lpl > ll) lpl = ll;
    char *merged = (char *)GN_MALLOC(bpl + lpl + 2);
    if (!merged) {
        GN_FREE(r);
        return GN_ENOMEM;
    }
    size_t m = 0;
    if (loc[0] != '/') {   /* relative path: the base's directory, then loc      */
        size_t dir = bpl;
        while (dir > 0 && b->target[dir - 1] != '/') dir--;
        if (dir == 0) merged[m++] = '/';
        memcpy(merged + m, b->target, dir);
        m += dir;
    }
    memcpy(merged + m, loc, lpl);
    m += lpl;
    o += gn__cl_dots(merged, m, r + o);
    GN_FREE(merged);
    memcpy(r + o, loc + lpl, ll - lpl);
    o += ll - lpl;
    r[o] = 0;
    *out = r;
    return 0;
}

/* ---- the request, checked ------------------------------------------------------- */
typedef struct gn__cl_req {
    const char *method;  size_t method_len;
    gn__cl_url u;
    const gn_http_header *hdrs;
    size_t nhdrs;
    size_t hbytes;                /* the caller's header lines, for sizing           */
    const char *host_hdr;         /* the caller's Host value, or NULL                */
    size_t host_hdr_len;
    const void *body;
    size_t body_len;
    gn_read_func reader;
    void *rctx;
    int64_t clen;                 /* with reader: >= 0 a length, -1 chunked         */
    int head, connect, close, idem_key;
    int use_host;                 /* send host_hdr instead of the URL's authority    */
    int strip;                    /* a redirect to another host: drop credentials    */
} gn__cl_req;

GN__PRIVATE size_t gn__cl_nlen(const gn_http_header *f) {
    return f->name_len ? f->name_len : strlen(f->name);
}
GN__PRIVATE size_t gn__cl_vlen(const gn_http_header *f) {
    return f->value_len ? f->value_len : f->value ? strlen(f->value) : 0;
}

#define GN__CL_IS(p, n, word) GN__HTTP_IS((p), (n), word)

/* Headers the caller may not frame the message with; we do.                   */
GN__PRIVATE int gn__cl_framing(const char *n, size_t l) {
    return GN__CL_IS(n, l, "content-length") || GN__CL_IS(n, l, "transfer-encoding");
}
/* Credentials that Go does not forward to another host on a redirect.        */
GN__PRIVATE int gn__cl_sensitive(const char *n, size_t l) {
    return GN__CL_IS(n, l, "authorization") || GN__CL_IS(n, l, "www-authenticate") ||
           GN__CL_IS(n, l, "cookie") || GN__CL_IS(n, l, "cookie2") ||
           GN__CL_IS(n, l, "proxy-authorization");
}

GN__PRIVATE int gn__cl_is_token(const char *p, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!GN__HC(p[i], GN__HC_TCHAR)) return 0;
    return 1;
}

/* Checks the caller's request and fills rq. Field names must be tokens and
 * values free of CR, LF and NUL (no header injection); a zero name_len or
 * value_len means strlen.                                                       */
GN__PRIVATE int gn__cl_prepare(gn__cl_req *rq, const gn_http_client_request *req) {
    memset(rq, 0, sizeof *rq);
    rq->method = req->method ? req->method : "GET";
    rq->method_len = strlen(rq->method);
    if (!gn__cl_is_token(rq->method, rq->method_len)) return GN_EINVAL;
    int rc = gn__cl_parse_url(req->url, &rq->u);
    if (rc) return rc;
    if (req->nheaders && !req->headers) return GN_EINVAL;
    rq->hdrs = req->headers;
    rq->nhdrs = req->nheaders;
    for (size_t i = 0; i < rq->nhdrs; i++) {
        const gn_http_header *f = &rq->hdrs[i];
        if (!f->name || (!f->value && f->value_len)) return GN_EINVAL;
        size_t nl = gn__cl_nlen(f), vl = gn__cl_vlen(f);
        if (!gn__cl_is_token(f->name, nl)) return GN_EINVAL;
        for (size_t k = 0; k < vl; k++)
            if (!GN__HC(f->value[k], GN__HC_VALUE)) return GN_EINVAL;
        rq->hbytes += nl + vl + 4;
        if (GN__CL_IS(f->name, nl, "host")) {
            if (!gn__http_valid_host(f->value, vl, 1)) return GN_EINVAL;
            rq->host_hdr = f->value;
            rq->host_hdr_len = vl;
        } else if (GN__CL_IS(f->name, nl, "connection")) {
            gn__http_list l;
            const char *el;
            size_t en;
            gn__http_list_init(&l, f->value ? f->value : "", vl);
            while (gn__http_list_next(&l, &el, &en))
                if (GN__CL_IS(el, en, "close")) rq->close = 1;
        } else if (GN__CL_IS(f->name, nl, "idempotency-key") ||
                   GN__CL_IS(f->name, nl, "x-idempotency-key")) {
            rq->idem_key = 1;
        }
    }
    rq->use_host = rq->host_hdr != NULL;
    if (req->body_reader) {
        if (req->body || req->body_len || req->content_length < -1) return GN_EINVAL;
        rq->reader = req->body_reader;
        rq->rctx = req->body_ctx;
        rq->clen = req->content_length;
    } else {
        if (req->body_len && !req->body) return GN_EINVAL;
        rq->body = req->body;
        rq->body_len = req->body_len;
    }
    rq->head = strcmp(rq->method, "HEAD") == 0;
    rq->connect = strcmp(rq->method, "CONNECT") == 0;
    return 0;
}

/* May go out twice: no streamed body, and idempotent.                           */
GN__PRIVATE int gn__cl_retryable(const gn__cl_req *rq) {
    if (rq->reader) return 0;
    static const char *const idem[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++)
        if (strcmp(rq->method, idem[i]) == 0) return 1;
    return rq->idem_key;
}

/* ---- the pool ------------------------------------------------------------------- */
GN__PRIVATE gn__cl_host **gn__cl_slot(gn_http_client *c, const char *key) {
    uint32_t x = 2166136261u;
    for (const char *p = key; *p; p++) x = (x ^ (unsigned char)*p) * 16777619u;
    gn__cl_host **s = &c->hosts[x & (GN__CL_BUCKETS - 1)];
    while (*s && strcmp((*s)->key, key) != 0) s = &(*s)->next;
    return s;
}

/* Under mu: a host with nothing open and nobody waiting goes.                  */
GN__PRIVATE void gn__cl_host_gc(gn_http_client *c, gn__cl_host *h) {
    if (h->nconns || h->wfirst) return;
    gn__cl_host **s = gn__cl_slot(c, h->key);
    if (*s == h) {
        *s = h->next;
        GN_FREE(h);
    }
}

GN__PRIVATE void gn__cl_idle_push(gn_http_client *c, gn__cl_conn *pc) {
    gn__cl_host *h = pc->host;
    pc->hprev = NULL;
    pc->hnext = h->idle;
    if (h->idle) h->idle->hprev = pc;
    h->idle = pc;
    h->nidle++;
    pc->lprev = NULL;
    pc->lnext = c->lru_new;
    if (c->lru_new) c->lru_new->lprev = pc;
    else c->lru_old = pc;
    c->lru_new = pc;
}

GN__PRIVATE void gn__cl_idle_unlink(gn_http_client *c, gn__cl_conn *pc) {
    gn__cl_host *h = pc->host;
    if (pc->hprev) pc->hprev->hnext = pc->hnext;
    else h->idle = pc->hnext;
    if (pc->hnext) pc->hnext->hprev = pc->hprev;
    h->nidle--;
    if (pc->lprev) pc->lprev->lnext = pc->lnext;
    else c->lru_new = pc->lnext;
    if (pc->lnext) pc->lnext->lprev = pc->lprev;
    else c->lru_old = pc->lprev;
    pc->hnext = pc->hprev = pc->lnext = pc->lprev = NULL;
}

/* Under mu: takes the idle connections that expired off the lists, oldest
 * first, and returns them chained on hnext, to be released outside mu.          */
GN__PRIVATE gn__cl_conn *gn__cl_prune(gn_http_client *c, int64_t now) {
    gn__cl_conn *dead = NULL;
    if (c->o.idle_conn_timeout <= 0) return NULL;
    while (c->lru_old && now - c->lru_old->idle_at >= c->o.idle_conn_timeout) {
        gn__cl_conn *pc = c->lru_old;
        gn__cl_idle_unlink(c, pc);
        pc->hnext = dead;
        dead = pc;
    }
    return dead;
}

GN__PRIVATE gn__cl_conn *gn__cl_conn_new(gn_http_client *c, gn__cl_host *h) {
    gn__cl_conn *pc = (gn__cl_conn *)GN_MALLOC(sizeof *pc);
    if (!pc) return NULL;
    memset(pc, 0, sizeof *pc);
    pc->hdrs = (gn_http_header *)GN_MALLOC(GN__CL_NHDRS * sizeof *pc->hdrs);
    if (!pc->hdrs) {
        GN_FREE(pc);
        return NULL;
    }
    pc->hcap = GN__CL_NHDRS;
    pc->cl = c;
    pc->host = h;
    pc->resp.pc = pc;
    return pc;
}

GN__PRIVATE void gn__cl_conn_free(gn__cl_conn *pc) {
    GN_FREE(pc->buf);
    GN_FREE(pc->wbuf);
    GN_FREE(pc->hdrs);
    GN_FREE(pc);
}

GN__PRIVATE void gn__cl_client_destroy(gn_http_client *c) {
    for (int i = 0; i < GN__CL_BUCKETS; i++) {
        while (c->hosts[i]) {
            gn__cl_host *h = c->hosts[i];
            c->hosts[i] = h->next;
            GN_FREE(h);
        }
    }
    GN_FREE(c);
}

GN__PRIVATE void gn__cl_release(gn__cl_conn *pc, int keep);

GN__PRIVATE void gn__cl_release_all(gn__cl_conn *dead) {
    while (dead) {
        gn__cl_conn *next = dead->hnext;
        dead->hnext = NULL;
        gn__cl_release(dead, 0);
        dead = next;
    }
}

/* Gives pc back. keep: its connection is idle and may be reused; it goes to the
 * first waiter, else to the idle list (room permitting). Otherwise the
 * connection is closed and its slot (with pc and its buffers) goes to the first
 * waiter, else pc is freed.                                                     */
GN__PRIVATE void gn__cl_release(gn__cl_conn *pc, int keep) {
    gn_http_client *c = pc->cl;
    gn__cl_host *h = pc->host;
    if (!keep && pc->conn) {
        gn_close(pc->conn);
        pc->conn = NULL;
    }
    gn_mutex_lock(&c->mu);
    if (keep && !h->wfirst && (c->freed || h->nidle >= c->o.max_idle_per_host)) {
        gn_mutex_unlock(&c->mu);
        gn_close(pc->conn);
        pc->conn = NULL;
        keep = 0;
        gn_mutex_lock(&c->mu);
    }
    gn__cl_waiter *w = h->wfirst;
    if (w) {
        h->wfirst = w->next;
        if (h->wfirst) h->wfirst->prev = NULL;
        else h->wlast = NULL;
        if (!pc->conn) {
            pc->uses = 0;
            pc->rdl = pc->wdl = 0;
        }
        w->pc = pc;
        gn_chan_try_send(w->ch, NULL);   /* under mu: see the top comment */
        gn_mutex_unlock(&c->mu);
        return;
    }
    if (keep) {
        pc->idle_at = gn_now();
        gn__cl_idle_push(c, pc);
        gn__cl_conn *dead = gn__cl_prune(c, pc->idle_at);
        gn_mutex_unlock(&c->mu);
        gn__cl_release_all(dead);
        return;
    }
    h->nconns--;
    c->npc--;
    gn__cl_host_gc(c, h);
    int last = c->freed && c->npc == 0;
    gn_mutex_unlock(&c->mu);
    gn__cl_conn_free(pc);
    if (last) gn__cl_client_destroy(c);
}

/* A connection for key: an idle one (newest first), else a new slot (conn NULL:
 * dial it), else waits for one until deadline or the context ends.           */
GN__PRIVATE int gn__cl_acquire(gn_http_client *c, const char *key, int64_t deadline,
                               gn_context *ctx, gn__cl_conn **out) {
    *out = NULL;
    int rc = 0;
    gn_mutex_lock(&c->mu);
    gn__cl_conn *dead = gn__cl_prune(c, gn_now());
    gn__cl_host **s = gn__cl_slot(c, key), *h = *s;
    if (!h) {
        size_t kl = strlen(key);
        h = (gn__cl_host *)GN_MALLOC(sizeof *h + kl + 1);
        if (!h) {
            gn_mutex_unlock(&c->mu);
            gn__cl_release_all(dead);
            return GN_ENOMEM;
        }
        memset(h, 0, sizeof *h);
        memcpy(h->key, key, kl + 1);
        *s = h;
    }
    /* Idle connections the server has hung up on meanwhile are dropped here;
     * the first one's slot (and buffers) serve for a new dial.                 */
    gn__cl_conn *pc = NULL, *hung = NULL;
    while (h->idle) {
        pc = h->idle;
        gn__cl_idle_unlink(c, pc);
        if (!gn__conn_hung_up(pc->conn)) break;   /* what the poller saw: no system call */
        if (hung) {
            pc->hnext = dead;
            dead = pc;
        } else {
            hung = pc;
        }
        pc = NULL;
    }
    if (pc && hung) {
        hung->hnext = dead;
        dead = hung;
        hung = NULL;
    }
    if (pc || hung) {
        if (!pc) pc = hung;
    } else if (c->o.max_conns_per_host <= 0 || h->nconns < c->o.max_conns_per_host) {
        pc = gn__cl_conn_new(c, h);
        if (pc) {
            h->nconns++;
            c->npc++;
        } else {
            gn__cl_host_gc(c, h);
            rc = GN_ENOMEM;
        }
    } else {
        gn__cl_waiter w;
        memset(&w, 0, sizeof w);
        w.ch = gn_chan_new(0, 1);
        if (!w.ch) {
            gn_mutex_unlock(&c->mu);
            gn__cl_release_all(dead);
            return GN_ENOMEM;
        }
        w.prev = h->wlast;
        if (h->wlast) h->wlast->next = &w;
        else h->wfirst = &w;
        h->wlast = &w;
        gn_mutex_unlock(&c->mu);
        gn__cl_release_all(dead);
        dead = NULL;
        gn_select_case cs[2] = {{w.ch, GN_RECV, NULL, 0},
                                {ctx ? gn_context_done(ctx) : NULL, GN_RECV, NULL, 0}};
        int k = gn_select_until(cs, 2, deadline);
        gn_mutex_lock(&c->mu);
        pc = w.pc;
        if (!pc) {
            if (w.prev) w.prev->next = w.next;
            else h->wfirst = w.next;
            if (w.next) w.next->prev = w.prev;
            else h->wlast = w.prev;
            gn__cl_host_gc(c, h);
            rc = k == 1 && gn_context_err(ctx) ? gn_context_err(ctx) : GN_ETIMEDOUT;
        }
        gn_mutex_unlock(&c->mu);
        gn_chan_free(w.ch);
        *out = pc;
        return rc;
    }
    gn_mutex_unlock(&c->mu);
    gn__cl_release_all(dead);
    if (pc && pc == hung) {
        gn_close(pc->conn);
        pc->conn = NULL;
    }
    *out = pc;
    return rc;
}

/* ---- the context watch ------------------------------------------------------------ */
/* A context cancel, run by the exchange's watch (context.c) on its connection.  */
GN__PRIVATE void gn__cl_cancel(void *conn, int err) {
    (void)err;
    gn_set_deadline((gn_conn *)conn, 1);
}

/* Sets the connection's deadlines (0: none), unless a cancel already moved them:
 * then its error.                                                                */
GN__PRIVATE int gn__cl_deadlines(gn__cl_conn *pc, int64_t rd, int64_t wd) {
    int rc = gn__ctxwatch_lock(pc->watch);
    if (!rc) {
        if (rd != pc->rdl) gn_set_read_deadline(pc->conn, rd);
        if (wd != pc->wdl) gn_set_write_deadline(pc->conn, wd);
        pc->rdl = rd;
        pc->wdl = wd;
    }
    gn__ctxwatch_unlock(pc->watch);
    return rc;
}

GN__PRIVATE int64_t gn__cl_min_dl(int64_t a, int64_t b) {
    if (!a) return b;
    if (!b) return a;
    return a < b ? a : b;
}

/* ---- writing the request ----------------------------------------------------------- */
GN__PRIVATE int gn__cl_reserve(char **buf, size_t *cap, size_t need) {
    if (*cap >= need) return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    char *b = (char *)GN_REALLOC(*buf, n);
    if (!b) return GN_ENOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

GN__PRIVATE char *gn__cl_put(char *o, const char *s, size_t n) {
    memcpy(o, s, n);
    return o + n;
}
#define GN__CL_PUTS(o, lit) gn__cl_put((o), (lit), sizeof(lit) - 1)

GN__PRIVATE char *gn__cl_dec(char *o, uint64_t v) {
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *o++ = t[--n];
    return o;
}

/* The head, and a buffer body with it, in one system call (writev).            */
GN__PRIVATE int gn__cl_write_head(gn__cl_conn *pc, const gn__cl_req *rq) {
    static const char ua[] = "User-Agent: gonet/" GONET_VERSION_STRING "\r\n";
    static const char hexd[] = "0123456789ABCDEF";
    size_t host_len = rq->use_host ? rq->host_hdr_len : rq->u.auth_len;
    size_t need = rq->method_len + rq->u.target_len * 3 + host_len + rq->hbytes + sizeof ua + 128;
    if (gn__cl_reserve(&pc->wbuf, &pc->wcap, need)) return GN_ENOMEM;
    char *o = pc->wbuf;
    o = gn__cl_put(o, rq->method, rq->method_len);
    *o++ = ' ';
    const unsigned char *t = (const unsigned char *)rq->u.target;
    if (rq->u.target_len == 0 || t[0] == '?') *o++ = '/';
    for (size_t i = 0; i < rq->u.target_len; i++) {
        if (t[i] <= 0x20 || t[i] >= 0x7f) {   /* space and non-ASCII, escaped as Go does */
            *o++ = '%';
            *o++ = hexd[t[i] >> 4];
            *o++ = hexd[t[i] & 15];
        } else {
            *o++ = (char)t[i];
        }
    }
    o = GN__CL_PUTS(o, " HTTP/1.1\r\nHost: ");
    o = gn__cl_put(o, rq->use_host ? rq->host_hdr : rq->u.auth, host_len);
    o = GN__CL_PUTS(o, "\r\n");
    int ua_seen = 0;
    for (size_t i = 0; i < rq->nhdrs; i++) {
        const gn_http_header *f = &rq->hdrs[i];
        size_t nl = gn__cl_nlen(f), vl = gn__cl_vlen(f);
        const char *v = f->value;
        for (; vl && GN__HC_WS(v[0]); vl--) v++;   /* OWS is not the value's; Go trims it */
        while (vl && GN__HC_WS(v[vl - 1])) vl--;
        if (gn__cl_framing(f->name, nl) || GN__CL_IS(f->name, nl, "host")) continue;
        if (rq->strip && gn__cl_sensitive(f->name, nl)) continue;
        if (GN__CL_IS(f->name, nl, "user-agent")) {
            ua_seen = 1;
            if (vl == 0) continue;   /* an empty User-Agent sends none, as in Go */
        }
        o = gn__cl_put(o, f->name, nl);
        o = GN__CL_PUTS(o, ": ");
        if (vl) o = gn__cl_put(o, v, vl);
        o = GN__CL_PUTS(o, "\r\n");
    }
    if (!ua_seen) o = gn__cl_put(o, ua, sizeof ua - 1);
    if (rq->reader && rq->clen < 0) {
        o = GN__CL_PUTS(o, "Transfer-Encoding: chunked\r\n");
    } else {
        uint64_t n = rq->reader ? (uint64_t)rq->clen : rq->body_len;
        int body_method = strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0 ||
                          strcmp(rq->method, "PATCH") == 0;
        if (n || rq->reader || body_method) {
            o = GN__CL_PUTS(o, "Content-Length: ");
            o = gn__cl_dec(o, n);
            o = GN__CL_PUTS(o, "\r\n");
        }
    }
    o = GN__CL_PUTS(o, "\r\n");
    gn__iov iov[2];
    iov[0].iov_base = pc->wbuf;
    iov[0].iov_len = (size_t)(o - pc->wbuf);
    iov[1].iov_base = (void *)(uintptr_t)rq->body;   /* only read */
    iov[1].iov_len = rq->reader ? 0 : rq->body_len;
    int64_t w = gn__conn_writev(pc->conn, iov, iov[1].iov_len ? 2 : 1);
    return w < 0 ? (int)w : 0;
}

/* A streamed body after the head: in chunks, or up to its length. An error of
 * the body_reader goes to *rerr (and is returned).                             */
GN__PRIVATE int gn__cl_write_body(gn__cl_conn *pc, const gn__cl_req *rq, int *rerr) {
    *rerr = 0;
    if (!rq->reader) return 0;
    enum { PRE = 18 };   /* room for "<hex>\r\n" before the data */
    if (gn__cl_reserve(&pc->wbuf, &pc->wcap, PRE + GN__CL_CHUNK + 8)) return GN_ENOMEM;
    int chunked = rq->clen < 0;
    uint64_t left = chunked ? UINT64_MAX : (uint64_t)rq->clen;
    int zeros = 0;
    char *d = pc->wbuf + PRE;
    while (left > 0) {
        size_t want = GN__CL_CHUNK;
        if (left < want) want = (size_t)left;
        int64_t m = rq->reader(rq->rctx, d, want);
        if (m == GN_EOF) {
            if (chunked) break;
            return *rerr = GN_EUNEXPECTEDEOF;   /* shorter than its content_length */
        }
        if (m < 0) return *rerr = (int)m;
        if (m == 0) {
            if (++zeros >= 100) return *rerr = GN_ENOPROGRESS;
            continue;
        }
        if ((uint64_t)m > want) return *rerr = GN_EINVAL;   /* a reader that overran */
        zeros = 0;
        int64_t w;
        if (chunked) {
            char *s = d - 2;
            s[0] = '\r';
            s[1] = '\n';
            uint64_t v = (uint64_t)m;
            do {
                *--s = "0123456789abcdef"[v & 15];
                v >>= 4;
            } while (v);
            d[m] = '\r';
            d[m + 1] = '\n';
            w = gn_write(pc->conn, s, (size_t)(d + m + 2 - s));
        } else {
            w = gn_write(pc->conn, d, (size_t)m);
            left -= (uint64_t)m;
        }
        if (w < 0) return (int)w;
    }
    if (chunked) {
        int64_t w = gn_write(pc->conn, "0\r\n\r\n", 5);
        if (w < 0) return (int)w;
    }
    return 0;
}

/* ---- reading the response head ---------------------------------------------------- */

/* The parser refused for too many fields (not bytes): grows the header array to
 * the number of lines there are. 1 grown, 0 not that case, or GN_ENOMEM.       */
GN__PRIVATE int gn__cl_more_hdrs(gn__cl_conn *pc, size_t len, size_t maxh) {
    size_t lim = len < maxh ? len : maxh, lines = 0;
    for (const char *p = pc->buf, *e = pc->buf + lim; (p = (const char *)memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        lines++;
    if (lines <= pc->hcap) return 0;
    gn_http_header *h = (gn_http_header *)GN_REALLOC(pc->hdrs, lines * sizeof *h);
    if (!h) return GN_ENOMEM;
    pc->hdrs = h;
    pc->hcap = lines;
    return 1;
}

/* Grows the read buffer under a parsed head, moving the head's strings along. */
GN__PRIVATE int gn__cl_regrow(gn__cl_conn *pc, gn__http_head *h, size_t cap) {
    size_t roff = (size_t)(h->reason - pc->buf);
    for (size_t i = 0; i < h->nhdrs; i++) {   /* offsets, before the old block goes */
        h->hdrs[i].name = (const char *)(uintptr_t)(h->hdrs[i].name - pc->buf);
        h->hdrs[i].value = (const char *)(uintptr_t)(h->hdrs[i].value - pc->buf);
    }
    char *b = (char *)GN_REALLOC(pc->buf, cap);
    if (b) {
        pc->buf = b;
        pc->cap = cap;
    }
    h->reason = pc->buf + roff;
    for (size_t i = 0; i < h->nhdrs; i++) {
        h->hdrs[i].name = pc->buf + (uintptr_t)h->hdrs[i].name;
        h->hdrs[i].value = pc->buf + (uintptr_t)h->hdrs[i].value;
    }
    return b ? 0 : GN_ENOMEM;
}

/* Reads and parses the response head into pc->resp, skipping 1xx interim
 * responses but 101. *got: some byte of a response arrived.                   */
GN__PRIVATE int gn__cl_read_head(gn__cl_conn *pc, const gn__cl_req *rq, int *got) {
    size_t maxh = pc->cl->o.max_header_bytes, full = maxh + GN__CL_ROOM;
    if (!pc->buf) {
        pc->cap = GN__CL_RBUF < full ? GN__CL_RBUF : full;
        pc->buf = (char *)GN_MALLOC(pc->cap);
        if (!pc->buf) {
            pc->cap = 0;
            return GN_ENOMEM;
        }
    }
    size_t len = 0, prev = 0;
    int n1xx = 0, r = 0;
    gn__http_head h;
    for (;;) {
        if (len > 0) {
            r = gn__http_parse_response(pc->buf, len, prev, &h, pc->hdrs, pc->hcap, maxh);
            if (r == GN_ETOOLARGE) {
                int g = gn__cl_more_hdrs(pc, len, maxh);
                if (g < 0) return g;
                if (g > 0) {
                    prev = 0;
                    continue;
                }
            }
            if (r < 0) return r;
            if (r > 0) {
                if (h.status >= 200 || h.status == 101) break;
                if (++n1xx > GN__CL_MAX_1XX) return GN_EHTTP;
                memmove(pc->buf, pc->buf + r, len - (size_t)r);
                len -= (size_t)r;
                prev = 0;
                continue;
            }
            prev = len;
        }
        if (len == pc->cap) {
            if (pc->cap >= full) return GN_ETOOLARGE;   /* not reached: the parser says so first */
            size_t ncap = pc->cap * 2 < full ? pc->cap * 2 : full;
            /* prev stays right: it counts bytes from the start, wherever they are. */
            char *b = (char *)GN_REALLOC(pc->buf, ncap);
            if (!b) return GN_ENOMEM;
            pc->buf = b;
            pc->cap = ncap;
        }
        int64_t m = gn_read(pc->conn, pc->buf + len, pc->cap - len);
        if (m == GN_EOF) return len == 0 && n1xx == 0 ? GN_EOF : GN_EUNEXPECTEDEOF;
        if (m < 0) return (int)m;
        len += (size_t)m;
        *got = 1;
    }
    size_t hl = (size_t)r;
    if (pc->cap - hl < GN__CL_ROOM && gn__cl_regrow(pc, &h, hl + GN__CL_RBUF) < 0) return GN_ENOMEM;
    gn_http_resp *resp = &pc->resp;
    resp->pc = pc;
    resp->h = h;
    resp->head_req = rq->head;
    resp->kind = gn__http_response_body(&h, rq->head);
    resp->rpos = hl;
    resp->rend = len;
    resp->left = 0;
    resp->err = 0;
    resp->done = 0;
    resp->reusable = h.keep_alive && !rq->close;
    if (h.status == 101 || (rq->connect && h.status / 100 == 2)) {
        /* Another protocol follows, which this client does not speak.         */
        resp->kind = GN__HTTP_BODY_NONE;
        resp->reusable = 0;
    }
    switch (resp->kind) {
    case GN__HTTP_BODY_NONE: resp->done = 1; break;
    case GN__HTTP_BODY_LENGTH:
        resp->left = h.content_length;
        resp->done = resp->left == 0;
        break;
    case GN__HTTP_BODY_CHUNKED: gn__chunked_init(&resp->ck, NULL, 0, 0); break;
    default: resp->reusable = 0; break;   /* until close */
    }
    return 0;
}

/* One request and its response head on pc's connection. *got: some byte of a
 * response arrived (the request can no longer be retried).                     */
GN__PRIVATE int gn__cl_exchange(gn__cl_conn *pc, const gn__cl_req *rq, int64_t rht, int64_t deadline,
                                int *got) {
    *got = 0;
    int rc = gn__cl_deadlines(pc, deadline, deadline);
    if (rc) return rc;
    int rerr = 0;
    rc = gn__cl_write_head(pc, rq);
    if (rc == 0) rc = gn__cl_write_body(pc, rq, &rerr);
    if (rerr) return rerr;
    if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET) return rc;
    /* The server may have answered and closed before taking the whole body (a
     * 413, say): its response then says more than the broken pipe does.      */
    int wrc = rc;
    /* Whatever the write left unsaid, the request cannot go on: the end of it
     * tells a server still waiting for the rest to answer or close, now.     */
    if (wrc) gn_close_write(pc->conn);
    rc = gn__cl_deadlines(pc, gn__cl_min_dl(rht > 0 ? gn__deadline_after(rht) : 0, deadline), deadline);
    if (rc == 0) rc = gn__cl_read_head(pc, rq, got);
    if (rc == 0 && wrc) pc->resp.reusable = 0;
    if (rc < 0) return wrc ? wrc : rc;
    return gn__cl_deadlines(pc, deadline, deadline);
}

/* Errors a stale pooled connection gives.                                       */
GN__PRIVATE int gn__cl_stale(int rc) {
    return rc == GN_EOF || rc == -ECONNRESET || rc == -EPIPE || rc == -ECONNABORTED;
}

GN__PRIVATE int gn__cl_ctx_err(int rc, gn_context *ctx) {
    if ((rc == GN_ETIMEDOUT || rc == GN_ECANCELED) && ctx && gn_context_err(ctx))
        return gn_context_err(ctx);
    return rc;
}

/* One request, without redirects: 0 and *out, or an error.                      */
GN__PRIVATE int gn__cl_roundtrip(gn_http_client *c, const gn__cl_req *rq, gn_context *ctx,
                                 int64_t deadline, gn_http_resp **out) {
    gn__cl_conn *pc;
    int rc = gn__cl_acquire(c, rq->u.addr, deadline, ctx, &pc);
    if (rc) return gn__cl_ctx_err(rc, ctx);
    for (int attempt = 0;; attempt++) {
        if (!pc->conn) {
            int64_t dd = c->o.dial_timeout > 0 ? gn__deadline_after(c->o.dial_timeout) : 0;
            rc = gn__dial(ctx, &pc->conn, "tcp", rq->u.addr, gn__cl_min_dl(dd, deadline));
            if (rc) {
                pc->conn = NULL;
                gn__cl_release(pc, 0);
                return gn__cl_ctx_err(rc, ctx);
            }
            pc->uses = 0;
            pc->rdl = pc->wdl = 0;
        }
        int reused = pc->uses > 0, got = 0;
        if ((rc = gn__ctxwatch_start(&pc->watch, ctx, gn__cl_cancel, pc->conn)) != 0) {
            gn__cl_release(pc, 0);
            return rc;
        }
        rc = gn__cl_exchange(pc, rq, c->o.response_header_timeout, deadline, &got);
        if (rc == 0) {
            pc->uses++;
            *out = &pc->resp;
            return 0;
        }
        int fired = gn__ctxwatch_stop(pc->watch);
        pc->watch = NULL;
        if (attempt == 0 && reused && !got && !fired && gn__cl_stale(rc) && gn__cl_retryable(rq)) {
            gn_close(pc->conn);   /* dial again into the same slot */
            pc->conn = NULL;
            continue;
        }
        gn__cl_release(pc, 0);
        return gn__cl_ctx_err(rc, ctx);
    }
}

/* ---- the client --------------------------------------------------------------------- */
GONET_API gn_http_client *gn_http_client_new(const gn_http_client_opts *opts) {
    gn_http_client *c = (gn_http_client *)GN_MALLOC(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    if (opts) c->o = *opts;
    gn_http_client_opts *o = &c->o;
    /* Zero: the default. A negative duration: none. max_idle_per_host < 0:
     * nothing is kept. max_redirects < 0: as 0.                               */
    if (o->dial_timeout == 0) o->dial_timeout = GN__CL_DIAL_TIMEOUT;
    if (o->response_header_timeout == 0) o->response_header_timeout = GN__CL_HEADER_TIMEOUT;
    if (o->idle_conn_timeout == 0) o->idle_conn_timeout = GN__CL_IDLE_TIMEOUT;
    if (o->timeout < 0) o->timeout = 0;
    if (o->max_idle_per_host == 0) o->max_idle_per_host = GN__CL_MAX_IDLE;
    if (o->max_conns_per_host < 0) o->max_conns_per_host = 0;
    if (o->max_redirects < 0) o->max_redirects = 0;
    if (o->max_header_bytes == 0) o->max_header_bytes = GN__CL_MAX_HEAD;
    if (o->max_header_bytes > (size_t)INT_MAX / 2) o->max_header_bytes = (size_t)INT_MAX / 2;
    return c;
}

GONET_API void gn_http_client_free(gn_http_client *c) {
    if (!c) return;
    gn_mutex_lock(&c->mu);
    c->freed = 1;
    gn__cl_conn *dead = NULL;
    while (c->lru_old) {
        gn__cl_conn *pc = c->lru_old;
        gn__cl_idle_unlink(c, pc);
        pc->hnext = dead;
        dead = pc;
    }
    int last = c->npc == 0;
    gn_mutex_unlock(&c->mu);
    gn__cl_release_all(dead);   /* the last one frees c */
    if (last) gn__cl_client_destroy(c);
}

/* Reads what is left of a redirect's body, up to a bound, so that its
 * connection can be reused.                                                     */
GN__PRIVATE void gn__cl_drain(gn_http_resp *r) {
    char tmp[512];
    size_t total = 0;
    while (total < GN__CL_DRAIN) {
        int64_t n = gn_http_resp_read(r, tmp, sizeof tmp);
        if (n <= 0) break;
        total += (size_t)n;
    }
}

/* The lower-case host name of u (no port, no brackets) into buf[256].           */
GN__PRIVATE void gn__cl_hostname(const gn__cl_url *u, char *buf) {
    const char *h = u->host;
    size_t n = u->host_len;
    if (n >= 2 && h[0] == '[') {
        h++;
        n -= 2;
    }
    for (size_t i = 0; i < n; i++) buf[i] = (char)gn__http_lower((unsigned char)h[i]);
    buf[n] = 0;
}

/* Go's rule for credentials on a redirect: kept for the same host or one of
 * its subdomains.                                                               */
GN__PRIVATE int gn__cl_same_domain(const char *dst, const char *src) {
    size_t dl = strlen(dst), sl = strlen(src);
    if (dl == sl) return strcmp(dst, src) == 0;
    return dl > sl && dst[dl - sl - 1] == '.' && strcmp(dst + dl - sl, src) == 0;
}

/* Redirects (opts.max_redirects > 0): 301, 302, 303, 307 and 308 with a Location
 * are followed, up to max_redirects; the next one is returned as it is (Go's
 * ErrUseLastResponse), as is one without a Location. 301/302/303 turn any method
 * but GET and HEAD into a GET without a body (as Go, and browsers, do); 307/308
 * repeat the method and the body, unless the body is a stream: that redirect is
 * returned. A relative Location resolves against the request's URL; a caller's
 * Host header survives a relative one only; credentials (Authorization, Cookie,
 * ...) go only to the first request's host and its subdomains. An unparsable
 * Location is GN_EHTTP; an https one GN_ENOSYS. The overall timeout and the
 * context span all the hops.
 * req->ctx governs the body reads too, so it must outlive the response: free
 * the context after gn_http_resp_free (its watcher waits on the context).
 * Outside a coroutine: GN_ESTATE (after the request is checked).              */
GONET_API int gn_http_do(gn_http_client *c, const gn_http_client_request *req, gn_http_resp **out) {
    if (out) *out = NULL;
    if (!c || !req || !out) return GN_EINVAL;
    gn__cl_req rq;
    int rc = gn__cl_prepare(&rq, req);
    if (rc) return rc;
    if (!gn__getg()) return GN_ESTATE;
    gn_context *ctx = req->ctx;
    if (ctx && (rc = gn_context_err(ctx)) != 0) return rc;
    int64_t deadline = gn__cl_min_dl(c->o.timeout > 0 ? gn__deadline_after(c->o.timeout) : 0,
                                     ctx ? gn_context_deadline(ctx) : 0);
    char first[GN__CL_HOST_MAX + 1], here[GN__CL_HOST_MAX + 1];
    gn__cl_hostname(&rq.u, first);
    int user_host = rq.use_host;
    char *owned = NULL;   /* the URL of the current hop, after a redirect */
    for (int hops = 0;; hops++) {
        gn_http_resp *r = NULL;
        rc = gn__cl_roundtrip(c, &rq, ctx, deadline, &r);
        if (rc < 0) break;
        int st = r->h.status;
        const char *loc = NULL;
        if (hops < c->o.max_redirects && (st == 301 || st == 302 || st == 303 || st == 307 || st == 308))
            loc = gn_http_resp_header(r, "Location");
        if (!loc || ((st == 307 || st == 308) && rq.reader)) {
            *out = r;
            break;
        }
        char *next = NULL;
        int rel = 0;
        rc = gn__cl_resolve(&rq.u, loc, &next, &rel);
        gn__cl_drain(r);
        gn_http_resp_free(r);
        if (rc < 0) break;
        rc = gn__cl_parse_url(next, &rq.u);
        if (rc < 0) {
            GN_FREE(next);
            if (rc == GN_EINVAL) rc = GN_EHTTP;
            break;
        }
        GN_FREE(owned);
        owned = next;
        if (st != 307 && st != 308 && !rq.head && strcmp(rq.method, "GET") != 0) {
            rq.method = "GET";
            rq.method_len = 3;
            rq.body = NULL;
            rq.body_len = 0;
            rq.reader = NULL;
            rq.connect = 0;
        }
        rq.use_host = user_host && rel;
        gn__cl_hostname(&rq.u, here);
        rq.strip = !gn__cl_same_domain(here, first);
    }
    GN_FREE(owned);
    return rc < 0 ? rc : 0;
}

GONET_API int gn_http_get(gn_http_client *c, const char *url, gn_http_resp **out) {
    gn_http_client_request req;
    memset(&req, 0, sizeof req);
    req.url = url;
    return gn_http_do(c, &req, out);
}

/* ---- the response --------------------------------------------------------------------- */
GONET_API int gn_http_resp_status(const gn_http_resp *r) { return r ? r->h.status : GN_EINVAL; }

GONET_API const char *gn_http_resp_header(const gn_http_resp *r, const char *name) {
    if (!r || !name) return NULL;
    const gn_http_header *f = gn__http_find(&r->h, name);
    return f ? f->value : NULL;
}

GONET_API size_t gn_http_resp_headers(const gn_http_resp *r, const gn_http_header **out) {
    if (!r) {
        if (out) *out = NULL;
        return 0;
    }
    if (out) *out = r->h.hdrs;
    return r->h.nhdrs;
}

/* A HEAD's answer reports its Content-Length (as Go does); no body means 0.    */
GONET_API int64_t gn_http_resp_content_length(const gn_http_resp *r) {
    if (!r) return GN_EINVAL;
    if (r->head_req) return r->h.content_length;
    if (r->kind == GN__HTTP_BODY_NONE) return 0;
    if (r->kind == GN__HTTP_BODY_LENGTH) return r->h.content_length;
    return -1;
}

/* Refills the buffer after the head with at most max bytes (0: as many as fit). */
GN__PRIVATE int64_t gn__cl_fill(gn_http_resp *r, uint64_t max) {
    gn__cl_conn *pc = r->pc;
    size_t base = r->h.head_len, room = pc->cap - base;
    if (max && max < room) room = (size_t)max;
    int64_t m = gn_read(pc->conn, pc->buf + base, room);
    if (m > 0) {
        r->rpos = base;
        r->rend = base + (size_t)m;
    }
    return m;
}

GN__PRIVATE int64_t gn__cl_body(gn_http_resp *r, char *dst, size_t n) {
    gn__cl_conn *pc = r->pc;
    int64_t m;
    switch (r->kind) {
    case GN__HTTP_BODY_LENGTH:
        if (r->rpos == r->rend) {
            uint64_t want = (uint64_t)r->left < n ? (uint64_t)r->left : n;
            if (want >= GN__CL_DIRECT) {
                m = gn_read(pc->conn, dst, (size_t)want);
                if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
                if (m < 0) return m;
                r->left -= m;
                r->done = r->left == 0;
                return m;
            }
            m = gn__cl_fill(r, (uint64_t)r->left);
            if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
            if (m < 0) return m;
        }
        m = (int64_t)(r->rend - r->rpos);
        if (m > r->left) m = r->left;
        if ((uint64_t)m > n) m = (int64_t)n;
        memcpy(dst, pc->buf + r->rpos, (size_t)m);
        r->rpos += (size_t)m;
        r->left -= m;
        r->done = r->left == 0;
        return m;
    case GN__HTTP_BODY_CHUNKED:
        for (;;) {
            if (r->rpos < r->rend) {
                const char *d;
                size_t dl;
                int64_t used = gn__chunked_feed(&r->ck, pc->buf + r->rpos, r->rend - r->rpos, n, &d, &dl);
                if (used < 0) return used;
                r->rpos += (size_t)used;
                if (dl) {
                    memcpy(dst, d, dl);
                    return (int64_t)dl;
                }
                if (r->ck.done) return GN_EOF;
                continue;
            }
            uint64_t dleft = gn__chunked_data_left(&r->ck);
            if (dleft && n >= GN__CL_DIRECT) {
                m = gn_read(pc->conn, dst, dleft < n ? (size_t)dleft : n);
                if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
                if (m > 0) gn__chunked_skip_data(&r->ck, (uint64_t)m);
                return m;
            }
            m = gn__cl_fill(r, 0);
            if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
            if (m < 0) return m;
        }
    case GN__HTTP_BODY_CLOSE:
        if (r->rpos == r->rend) {
            if (n >= GN__CL_DIRECT) return gn_read(pc->conn, dst, n);
            m = gn__cl_fill(r, 0);
            if (m < 0) return m;
        }
        m = (int64_t)(r->rend - r->rpos);
        if ((uint64_t)m > n) m = (int64_t)n;
        memcpy(dst, pc->buf + r->rpos, (size_t)m);
        r->rpos += (size_t)m;
        return m;
    default:
        return GN_EOF;
    }
}

GONET_API int64_t gn_http_resp_read(gn_http_resp *r, void *buf, size_t n) {
    if (!r || (!buf && n)) return GN_EINVAL;
    if (r->err) return r->err;
    if (r->done) return GN_EOF;
    if (n == 0) return 0;
    int64_t m = gn__cl_body(r, (char *)buf, n);
    if (m == GN_EOF) {
        r->done = 1;
    } else if (m < 0) {
        int werr = m == GN_ETIMEDOUT ? gn__ctxwatch_err(r->pc->watch) : 0;
        r->err = werr ? werr : (int)m;
        return r->err;
    }
    return m;
}

GONET_API int64_t gn_http_resp_body_reader(void *response, void *buf, size_t n) {
    return gn_http_resp_read((gn_http_resp *)response, buf, n);
}

/* max is taken literally: 0 accepts only an empty body.                       */
GONET_API int64_t gn_http_resp_read_all(gn_http_resp *r, size_t max, char **out) {
    if (out) *out = NULL;
    if (!r || !out) return GN_EINVAL;
    if (max > SIZE_MAX - 2) max = SIZE_MAX - 2;
    if (r->kind == GN__HTTP_BODY_LENGTH && (uint64_t)r->left > max) return GN_ETOOLARGE;
    /* Room for max + 1 bytes tells "exactly max" from "more than max".         */
    size_t cap = r->kind == GN__HTTP_BODY_LENGTH ? (size_t)r->left : 4096, len = 0;
    if (cap > max + 1) cap = max + 1;
    char *b = (char *)GN_MALLOC(cap + 1);
    if (!b) return GN_ENOMEM;
    for (;;) {
        if (len == cap) {
            if (r->done && !r->err) break;
            if (cap > max) {
                GN_FREE(b);
                return GN_ETOOLARGE;
            }
            size_t ncap = cap < 2048 ? 4096 : cap > (max + 1) / 2 ? max + 1 : cap * 2;
            if (ncap > max + 1) ncap = max + 1;
            char *nb = (char *)GN_REALLOC(b, ncap + 1);
            if (!nb) {
                GN_FREE(b);
                return GN_ENOMEM;
            }
            b = nb;
            cap = ncap;
        }
        int64_t m = gn_http_resp_read(r, b + len, cap - len);
        if (m == GN_EOF) break;
        if (m < 0) {
            GN_FREE(b);
            return m;
        }
        len += (size_t)m;
    }
    if (len > max) {
        GN_FREE(b);
        return GN_ETOOLARGE;
    }
    b[len] = 0;
    *out = b;
    return (int64_t)len;
}

/* The connection goes back to the pool only if the body ended, the head allowed
 * keep-alive, and nothing came after the body (the server sent more than it
 * framed: nothing to trust on that connection). A chunked body whose last
 * chunk is already buffered counts as read.                                     */
GONET_API void gn_http_resp_free(gn_http_resp *r) {
    if (!r) return;
    gn__cl_conn *pc = r->pc;
    if (!r->done && !r->err && r->kind == GN__HTTP_BODY_CHUNKED) {
        while (r->rpos < r->rend) {
            const char *d;
            size_t dl;
            int64_t used = gn__chunked_feed(&r->ck, pc->buf + r->rpos, r->rend - r->rpos, 0, &d, &dl);
            if (used < 0 || dl) break;
            r->rpos += (size_t)used;
            if (r->ck.done) {
                r->done = 1;
                break;
            }
        }
    }
    int keep = r->reusable && r->done && !r->err && r->rpos == r->rend;
    if (gn__ctxwatch_stop(pc->watch)) keep = 0;
    pc->watch = NULL;
    gn__cl_release(pc, keep);
}
/* ==== end src/http_client.c ==== */

#endif /* GONET_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 The gonet.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
*/
