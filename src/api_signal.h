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
