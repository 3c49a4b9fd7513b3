#!/bin/sh
# amalgamate.sh — writes gonet.h, the single file users copy, from the parts in src/.
# The parts are concatenated in the order listed below (the API first, then the
# implementation, utilities before their users), each between banners naming it,
# so that a line of gonet.h leads back to its part.
# Usage: src/amalgamate.sh [output]     (default: gonet.h next to src/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../gonet.h"}

api="api_base.h api_io.h api_runtime.h api_chan.h api_sync.h api_bufio.h api_net.h api_signal.h api_http.h"
impl="impl_base.c os_posix.c sys_posix.c os_linux.c os_darwin.c os_bsd.c os_windows.c lock.c runtime.h
      ctx_x64_sysv.c ctx_x64_win.c ctx_arm64.c ctx_ucontext.c
      stack.c netpoll.c poll_epoll.c poll_poll.c poll_kqueue.c poll_iocp.c sched.c timer.c chan.c sync.c context.c time.c bufio.c
      net_posix.c net_windows.c net.c signal_table.c signal.c signal_windows.c dump.c http.h http_parse.c http_server.c http_mux.c http_fs.c fs_posix.c fs_windows.c http_client.c"

part() {
    printf '\n/* ==== begin src/%s ==== */\n' "$1"
    cat "$here/$1"
    printf '/* ==== end src/%s ==== */\n' "$1"
}

tmp="$out.tmp.$$"
{
    cat "$here/manual.h"
    printf '\n#ifndef GONET_H\n#define GONET_H\n'
    # The implementation needs POSIX and GNU declarations; they must be asked
    # for before the first system header, which the API part includes.
    printf '#if defined(GONET_IMPLEMENTATION) && defined(__linux__) && !defined(_GNU_SOURCE)\n'
    printf '#  define _GNU_SOURCE 1\n#endif\n'
    # macOS declares the ucontext calls only under _XOPEN_SOURCE, which in turn
    # hides its own extensions unless _DARWIN_C_SOURCE brings them back.
    printf '#if defined(GONET_IMPLEMENTATION) && defined(__APPLE__) && defined(GN_CTX_UCONTEXT)\n'
    printf '#  if !defined(_XOPEN_SOURCE)\n#    define _XOPEN_SOURCE 700\n#  endif\n'
    printf '#  if !defined(_DARWIN_C_SOURCE)\n#    define _DARWIN_C_SOURCE 1\n#  endif\n#endif\n'
    for f in $api; do part "$f"; done
    printf '\n#endif /* GONET_H */\n'
    printf '\n#if defined(GONET_IMPLEMENTATION) && !defined(GONET_IMPLEMENTATION_INCLUDED)\n'
    printf '#define GONET_IMPLEMENTATION_INCLUDED\n'
    for f in $impl; do part "$f"; done
    printf '\n#endif /* GONET_IMPLEMENTATION */\n\n'
    cat "$here/license.h"
} > "$tmp"
mv "$tmp" "$out"
