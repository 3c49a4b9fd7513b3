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
