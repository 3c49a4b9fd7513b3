/* msvc.c — make check-msvc: the implementation on its MSVC path (GN_CC_MSVC=1),
 * syntax-checked by clang in MSVC mode (x86_64-pc-windows-msvc, as C11 and as
 * C++) over MinGW-w64's headers, since cl and the Windows SDK are not at hand.
 * The GNU extensions cl lacks are poisoned after the system headers, so one
 * left on the path is an error here rather than a report from a cl user.      */

/* MinGW's headers, seeing no __GNUC__, define __attribute__ away (which breaks
 * clang's own intrinsic headers) and write __declspec after a declarator,
 * where clang refuses it.                                                     */
#include <_mingw.h>
#undef __attribute__
#undef __MINGW_ATTRIB_NORETURN
#define __MINGW_ATTRIB_NORETURN
#undef __MINGW_ATTRIB_DEPRECATED
#define __MINGW_ATTRIB_DEPRECATED
#undef __MINGW_NOTHROW
#define __MINGW_NOTHROW

/* Every system header gonet.h includes on Windows, so that the poison below
 * falls on gonet.h's own text only.                                           */
#define WIN32_LEAN_AND_MEAN 1
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <afunix.h>
#include <mstcpip.h>
#include <intrin.h>
#include <process.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* Declared by MSVC's <intrin.h>; MinGW's leaves them out without __GNUC__.    */
void _ReadWriteBarrier(void);
long long _InterlockedExchange64(long long volatile *, long long);
long long _InterlockedExchangeAdd64(long long volatile *, long long);
long long _InterlockedOr64(long long volatile *, long long);

#pragma GCC poison __attribute__ __attribute __asm__ __asm asm __volatile__ __extension__
#pragma GCC poison __typeof__ __typeof typeof __auto_type __label__ __thread _Thread_local __int128
#pragma GCC poison __builtin_expect __builtin_ia32_pause __builtin_unreachable __builtin_trap
#pragma GCC poison __builtin_ctz __builtin_ctzll __builtin_clz __builtin_clzll __builtin_popcount
#pragma GCC poison __builtin_add_overflow __builtin_mul_overflow __builtin_sub_overflow
#pragma GCC poison __builtin_frame_address __builtin_return_address __builtin_memcpy
#pragma GCC poison __atomic_load_n __atomic_store_n __atomic_exchange_n __atomic_compare_exchange_n
#pragma GCC poison __atomic_fetch_add __atomic_fetch_sub __atomic_fetch_or __atomic_fetch_and
#pragma GCC poison __atomic_add_fetch __atomic_sub_fetch __atomic_thread_fence __atomic_signal_fence
#pragma GCC poison __sync_synchronize __sync_fetch_and_add __sync_bool_compare_and_swap
/* MinGW's POSIX extras, which the Microsoft C runtime does not have.          */
#undef strcasecmp
#undef strncasecmp
#pragma GCC poison ssize_t strcasecmp strncasecmp strtok_r gmtime_r localtime_r usleep nanosleep
#pragma GCC poison gettimeofday clock_gettime pthread_create pthread_self sched_yield

#define GONET_IMPLEMENTATION
#include "../../gonet.h"
