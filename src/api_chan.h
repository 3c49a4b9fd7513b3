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
