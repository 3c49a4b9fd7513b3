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
