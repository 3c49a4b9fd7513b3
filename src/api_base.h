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
