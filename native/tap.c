/*
 * netvsc TAP addon: opens a Linux TAP device and hands its file descriptor to JavaScript.
 *
 * Everything else (reads, writes, the virtio-net header, namespaces) happens in TypeScript:
 * this file only does what Node cannot do itself: the ioctls, a read() that reports EAGAIN as a
 * number instead of a thrown Error, readiness of the fd on the calling thread's libuv loop, and
 * sched_yield. The fd is blocking for a dedicated reader worker (one blocking read() per frame,
 * platform.md §4) or non-blocking for a thread that reads it in its own loop (docs/tap.md).
 *
 * JavaScript API (see src/io/tap/addon.ts):
 *   open(name: string, vnetHdrLen: number, offloads: number, nonBlocking?: boolean) -> { fd, name }
 *   close(fd: number) -> undefined
 *   readFrames(fd, buf: Uint8Array, spans: Int32Array, maxFrames, frameMax, start?, end?) -> count | -errno
 *   writeFrame(fd, hdr: Uint8Array, hdrLen, buf: Uint8Array, off, len) -> bytes | -errno
 *   writeFrags(fd, hdr: Uint8Array, hdrLen, buf: Uint8Array, offs: Int32Array, lens: Int32Array, n) -> bytes | -errno
 *   watch(fd, onReadable: (status) => void) -> handle;  unwatch(handle) -> undefined
 *   schedYield() -> undefined
 *   relayStart(fdA, fdB, threads, poll) -> handle;  relayStop(handle) -> counters  (relay.c)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

/* Throws a JS Error whose code is the errno name (EBUSY, EPERM, ...) and whose message says which step failed. */
static napi_value throw_errno(napi_env env, const char *step, const char *name, int err) {
  char msg[160];
  const char *code = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s %s: %s", step, name, strerror(err));
  napi_throw_error(env, code ? code : "EIO", msg);
  return NULL;
}

/* v as an integer in [lo, hi]: false for a non-number, a fraction, NaN or out of range (napi's int32
 * getter would truncate 1.5 to 1 and wrap 2^32 + fd to fd). relay.c takes its arguments with it too. */
bool tap_get_int(napi_env env, napi_value v, double lo, double hi, int32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= lo && d <= hi) || d != (double)(int64_t)d) return false;
  *out = (int32_t)d;
  return true;
}

static bool get_int(napi_env env, napi_value v, int32_t *out) { return tap_get_int(env, v, INT32_MIN, INT32_MAX, out); }

static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char name[IFNAMSIZ + 1];
  size_t name_len = 0;
  int32_t hdr_len = 0;
  int32_t offloads = 0;
  bool non_blocking = false;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok ||
      !get_int(env, argv[1], &hdr_len) || !get_int(env, argv[2], &offloads) ||
      (argc > 3 && napi_get_value_bool(env, argv[3], &non_blocking) != napi_ok)) {
    napi_throw_type_error(env, "EINVAL", "open(name: string, vnetHdrLen: number, offloads: number, nonBlocking?: boolean)");
    return NULL;
  }
  /* IFNAMSIZ counts the terminating NUL: a longer name would be silently truncated by the kernel. */
  if (name_len == 0 || name_len >= IFNAMSIZ) {
    napi_throw_range_error(env, "EINVAL", "interface name must be 1..15 bytes");
    return NULL;
  }
  if (hdr_len != 10 && hdr_len != 12) {
    napi_throw_range_error(env, "EINVAL", "vnetHdrLen must be 10 or 12");
    return NULL;
  }

  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (non_blocking ? O_NONBLOCK : 0));
  if (fd < 0) return throw_errno(env, "open /dev/net/tun for", name, errno);

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  /* IFF_NO_PI: no 4-byte packet-info prefix; IFF_VNET_HDR: every frame carries a virtio-net header. */
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  memcpy(ifr.ifr_name, name, name_len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETIFF", name, err);
  }
  int sz = hdr_len;
  if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETVNETHDRSZ", name, err);
  }
  /* Little-endian header fields whatever the CPU, so the TypeScript codec has one byte order. */
  int le = 1;
  if (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETVNETLE", name, err);
  }
  /* Which offloaded frames we accept from the kernel; 0 means it checksums and segments first. */
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(uint32_t)offloads) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETOFFLOAD", name, err);
  }

  napi_value result, js_fd, js_name;
  napi_create_object(env, &result);
  napi_create_int32(env, fd, &js_fd);
  napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &js_name);
  napi_set_named_property(env, result, "fd", js_fd);
  napi_set_named_property(env, result, "name", js_name);
  return result;
}

static napi_value tap_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || !get_int(env, argv[0], &fd) || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "close(fd: number)");
    return NULL;
  }
  if (close(fd) < 0) return throw_errno(env, "close", "tap fd", errno);
  return NULL;
}

/* A writable view of a typed array argument; false when it is not one of the wanted type. */
static bool typed_view(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &off) != napi_ok) return false;
  return type == want;
}

/*
 * Reads frames from a non-blocking TAP fd into buf[start, end) (default: all of buf) until the fd
 * is empty (EAGAIN), `maxFrames` were read or fewer than `frameMax` bytes are left: frame i starts
 * at spans[2i] (an offset in buf, start + a multiple of 8) and is spans[2i+1] bytes long (vnet
 * header included), or -1 when it took all frameMax bytes and so may be truncated (frameMax must
 * exceed the largest frame wanted). Returns the count, or -errno when the first read failed with
 * anything but EAGAIN (a later failure ends the batch and shows on the next call).
 */
static napi_value tap_read_frames(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  int32_t fd = -1, max_frames = 0, frame_max = 0, start = 0, end = -1;
  uint8_t *buf = NULL;
  int32_t *spans = NULL;
  size_t buf_len = 0, spans_len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if ((argc != 5 && argc != 7) || !get_int(env, argv[0], &fd) || !typed_view(env, argv[1], napi_uint8_array, (void **)&buf, &buf_len) ||
      !typed_view(env, argv[2], napi_int32_array, (void **)&spans, &spans_len) || !get_int(env, argv[3], &max_frames) ||
      !get_int(env, argv[4], &frame_max) || (argc == 7 && (!get_int(env, argv[5], &start) || !get_int(env, argv[6], &end))) ||
      fd < 0 || max_frames < 0 || frame_max <= 0 || (size_t)max_frames * 2 > spans_len || start < 0 ||
      (argc == 7 && (end < start || (size_t)end > buf_len))) {
    napi_throw_type_error(env, "EINVAL", "readFrames(fd, buf: Uint8Array, spans: Int32Array(2 * maxFrames), maxFrames, frameMax, start?, end?)");
    return NULL;
  }
  /* From here buf_len is the window's end: reads never pass it. */
  if (argc == 7) buf_len = (size_t)end;
  int32_t n = 0;
  size_t pos = (size_t)start;
  int err = 0;
  /* pos may pass buf_len by the 8-byte rounding: test it first, the size_t difference would wrap. */
  while (n < max_frames && pos <= buf_len && buf_len - pos >= (size_t)frame_max) {
    ssize_t r = read(fd, buf + pos, (size_t)frame_max);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && n == 0) err = errno;
      break;
    }
    /* A frame that filled all frameMax bytes may have been cut short (tun copies what fits and
     * says nothing): length -1, the caller drops it. A length past frameMax is treated the same,
     * so the next frame never starts past buf. */
    if (r >= frame_max) r = -1;
    spans[2 * n] = (int32_t)pos;
    spans[2 * n + 1] = (int32_t)r;
    n++;
    pos += ((size_t)(r < 0 ? frame_max : r) + 7) & ~(size_t)7;
  }
  napi_value out;
  napi_create_int32(env, err ? -err : n, &out);
  return out;
}

/*
 * One frame to the TAP with its vnet header in one writev(): header from `hdr`, then
 * buf[off, off + len), so the caller never stages a copy. Returns the bytes written or -errno.
 */
static napi_value tap_write_frame(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t fd = -1, hdr_len = 0, off = 0, len = 0;
  uint8_t *hdr = NULL, *buf = NULL;
  size_t hdr_cap = 0, buf_cap = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 6 || !get_int(env, argv[0], &fd) || !typed_view(env, argv[1], napi_uint8_array, (void **)&hdr, &hdr_cap) ||
      !get_int(env, argv[2], &hdr_len) || !typed_view(env, argv[3], napi_uint8_array, (void **)&buf, &buf_cap) ||
      !get_int(env, argv[4], &off) || !get_int(env, argv[5], &len) || fd < 0 || hdr_len < 0 || (size_t)hdr_len > hdr_cap ||
      off < 0 || len < 0 || (size_t)off + (size_t)len > buf_cap) {
    napi_throw_type_error(env, "EINVAL", "writeFrame(fd, hdr: Uint8Array, hdrLen, buf: Uint8Array, off, len)");
    return NULL;
  }
  struct iovec iov[2] = {{.iov_base = hdr, .iov_len = (size_t)hdr_len}, {.iov_base = buf + off, .iov_len = (size_t)len}};
  ssize_t r;
  do r = writev(fd, iov, 2);
  while (r < 0 && errno == EINTR);
  napi_value out;
  napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &out);
  return out;
}

/*
 * One frame made of several ranges of one buffer, with its vnet header, in one writev(): header
 * from `hdr`, then buf[offs[i], offs[i] + lens[i]) for i < n (a received RSC packet's fragment
 * list), so the caller never gathers it into one run first. Returns the bytes written or -errno
 * (EMSGSIZE when n is more than the kernel takes in one writev).
 */
#define WRITE_FRAGS_MAX 1023 /* + the header = IOV_MAX (1024) on Linux */
static napi_value tap_write_frags(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  int32_t fd = -1, hdr_len = 0, n = 0;
  uint8_t *hdr = NULL, *buf = NULL;
  int32_t *offs = NULL, *lens = NULL;
  size_t hdr_cap = 0, buf_cap = 0, offs_cap = 0, lens_cap = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7 || !get_int(env, argv[0], &fd) || !typed_view(env, argv[1], napi_uint8_array, (void **)&hdr, &hdr_cap) ||
      !get_int(env, argv[2], &hdr_len) || !typed_view(env, argv[3], napi_uint8_array, (void **)&buf, &buf_cap) ||
      !typed_view(env, argv[4], napi_int32_array, (void **)&offs, &offs_cap) ||
      !typed_view(env, argv[5], napi_int32_array, (void **)&lens, &lens_cap) || !get_int(env, argv[6], &n) || fd < 0 ||
      hdr_len < 0 || (size_t)hdr_len > hdr_cap || n < 0 || (size_t)n > offs_cap || (size_t)n > lens_cap) {
    napi_throw_type_error(env, "EINVAL", "writeFrags(fd, hdr: Uint8Array, hdrLen, buf: Uint8Array, offs: Int32Array, lens: Int32Array, n)");
    return NULL;
  }
  napi_value out;
  if (n > WRITE_FRAGS_MAX) {
    napi_create_int32(env, -EMSGSIZE, &out);
    return out;
  }
  struct iovec iov[WRITE_FRAGS_MAX + 1];
  iov[0].iov_base = hdr;
  iov[0].iov_len = (size_t)hdr_len;
  for (int32_t i = 0; i < n; i++) {
    int32_t o = offs[i], l = lens[i];
    if (o < 0 || l < 0 || (size_t)o + (size_t)l > buf_cap) {
      napi_throw_range_error(env, "EINVAL", "writeFrags: a range lies outside buf");
      return NULL;
    }
    iov[i + 1].iov_base = buf + o;
    iov[i + 1].iov_len = (size_t)l;
  }
  ssize_t r;
  do r = writev(fd, iov, n + 1);
  while (r < 0 && errno == EINTR);
  napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &out);
  return out;
}

/* A readiness watch of a TAP fd on the libuv loop of the thread that made it. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  napi_async_cleanup_hook_handle cleanup;
  bool closed;
  /* Owners: the libuv handle until on_closed, and the JS handle (external) until it is collected.
   * The memory goes with the last, so unwatch() on a closed watch reads live memory. */
  int refs;
} tap_watch;

static void release_watch(tap_watch *w) {
  if (--w->refs == 0) free(w);
}

static void on_handle_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release_watch((tap_watch *)data);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  tap_watch *w = (tap_watch *)h->data;
  napi_handle_scope scope;
  napi_value cb, recv, arg;
  if (napi_open_handle_scope(w->env, &scope) != napi_ok) return;
  if (napi_get_reference_value(w->env, w->cb, &cb) == napi_ok && cb != NULL) {
    napi_get_global(w->env, &recv); /* make_callback needs an object receiver */
    napi_create_int32(w->env, status, &arg);
    /* make_callback: microtasks run after it, and a throw reaches the worker's error handling. */
    napi_make_callback(w->env, w->ctx, recv, cb, 1, &arg, NULL);
  }
  napi_close_handle_scope(w->env, scope);
}

static void on_closed(uv_handle_t *h) {
  tap_watch *w = (tap_watch *)h->data;
  if (w->cleanup != NULL) napi_remove_async_cleanup_hook(w->cleanup);
  w->cleanup = NULL;
  release_watch(w);
}

/* Stops and closes the watch (from unwatch() or the thread's teardown); on_closed frees it. */
static void stop_watch(napi_env env, tap_watch *w) {
  if (w->closed) return;
  w->closed = true;
  if (!uv_is_closing((uv_handle_t *)&w->poll)) uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  w->cb = NULL;
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

/* The thread is ending with the watch still on: close it; on_closed removes this hook, which the teardown waits for. */
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  tap_watch *w = (tap_watch *)arg;
  stop_watch(w->env, w); /* a no-op when unwatch() already closed it: its on_closed is still to come */
}

/* Marks watch() handles, so unwatch() refuses any other external (a relay handle, say). */
static const napi_type_tag WATCH_TAG = {0x6e657476736372ull, 0x7761746368000001ull};

static napi_value tap_watch_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  napi_valuetype t;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 2 || !get_int(env, argv[0], &fd) || fd < 0 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "EINVAL", "watch(fd: number, onReadable: (status: number) => void)");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "EIO", "watch: no libuv loop on this thread");
    return NULL;
  }
  tap_watch *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, "watch", "tap fd", ENOMEM);
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", "tap fd", -r);
  }
  w->poll.data = w;
  w->env = env;
  w->refs = 1; /* the libuv handle's; the JS handle takes the second below */
  napi_value res_name;
  napi_create_string_utf8(env, "netvsc.tapWatch", NAPI_AUTO_LENGTH, &res_name);
  napi_async_init(env, NULL, res_name, &w->ctx);
  napi_create_reference(env, argv[1], 1, &w->cb);
  r = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (r < 0) {
    stop_watch(env, w);
    return throw_errno(env, "uv_poll_start", "tap fd", -r);
  }
  uv_unref((uv_handle_t *)&w->poll); /* a watch never keeps a thread alive by itself */
  napi_add_async_cleanup_hook(env, on_env_teardown, w, &w->cleanup);
  napi_value ext;
  if (napi_create_external(env, w, on_handle_collected, NULL, &ext) != napi_ok) {
    stop_watch(env, w);
    napi_throw_error(env, "EIO", "watch: cannot make the handle");
    return NULL;
  }
  w->refs++; /* the external's, released when it is collected */
  if (napi_type_tag_object(env, ext, &WATCH_TAG) != napi_ok) {
    stop_watch(env, w);
    napi_throw_error(env, "EIO", "watch: cannot tag the handle");
    return NULL;
  }
  return ext;
}

static napi_value tap_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  napi_valuetype t;
  bool ours = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_check_object_type_tag(env, argv[0], &WATCH_TAG, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, argv[0], &p) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "unwatch(handle from watch())");
    return NULL;
  }
  stop_watch(env, (tap_watch *)p); /* the handle keeps the memory: a second unwatch() is a no-op */
  return NULL;
}

static napi_value tap_sched_yield(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  sched_yield();
  return NULL;
}

/* relay.c: the C TAP-to-TAP relay, the e2e bench's same-run ceiling. */
napi_value relay_start(napi_env env, napi_callback_info info);
napi_value relay_stop(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"open", tap_open}, {"close", tap_close}, {"readFrames", tap_read_frames}, {"writeFrame", tap_write_frame}, {"writeFrags", tap_write_frags}, {"watch", tap_watch_fd}, {"unwatch", tap_unwatch}, {"schedYield", tap_sched_yield}, {"relayStart", relay_start}, {"relayStop", relay_stop}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
  return exports;
}
