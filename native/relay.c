/*
 * A raw TAP-to-TAP relay in C threads, the same-run ceiling of the e2e bench (docs/tap.md
 * "Measured", docs/design.md): what any user-space TAP path, and our three-thread shape (VM A,
 * host, VM B) in particular, can reach on this machine with no protocol and no JavaScript.
 *
 * Both fds are TAPs made by this addon's open() (IFF_VNET_HDR, non-blocking); frames go across with
 * their vnet header untouched, so a GSO super-frame read from one TAP is written to the other as one.
 *
 *   relayStart(fdA, fdB, threads: 1 | 3, poll: boolean) -> handle
 *   relayStop(handle) -> counters (the second call returns them again)
 *
 * threads = 1: one thread, epoll on both fds, up to RELAY_BATCH frames from a ready fd per wake,
 * each written to the other fd at once.
 * threads = 3: thread A owns TAP A (reads it into ring A->H, writes what ring H->A brings back),
 * thread H moves each record from A->H to H->B and from B->H to H->A (one copy, as our host copies
 * into the receiver's sections), thread B owns TAP B. Rings are single-producer single-consumer byte
 * rings of length-prefixed records. A thread with nothing to do spins SPIN_NS (our EventLoop's
 * default spinUs), then says it sleeps, re-checks, and poll()s its eventfd (and its TAP while it has
 * ring room) for at most 50 ms; a peer rings the eventfd only when that flag is set.
 * poll = true: nobody sleeps; an empty pass calls sched_yield() (our busy-poll mode).
 *
 * No allocation after relayStart: rings and frame buffers are made there and freed by relayStop.
 * The threads use the relay's own dup()s of the two fds; a TAP is in one running relay at a time
 * (EBUSY); a TAP whose read fails for good (deleted) is read no more.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/kcmp.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Bytes one read() may take: vnet header + a 64 KiB GSO super-frame with its headers; a frame that
 * fills all of it may have been cut by tun and is dropped (counted `truncated`). */
#define FRAME_MAX 65600u
#define RELAY_BATCH 64
#define RING_BYTES (4u << 20)
#define SPIN_NS 20000
#define SLEEP_MS 50
/* Record header: u32 length (payload bytes) then 4 spare bytes, so payloads stay 8-byte aligned. */
#define REC_HDR 8u
#define REC_WRAP 0xffffffffu

typedef struct {
  uint64_t frames_a_to_b, frames_b_to_a, bytes_a_to_b, bytes_b_to_a;
  uint64_t read_errors, write_errors, truncated, ring_full, sleeps, bells;
  /* Every frame read whole is written (frames), failed to write (write_errors) or was still in a
   * ring when the relay stopped (discarded): frames_read = frames + write_errors + discarded. */
  uint64_t frames_read, discarded;
} relay_counters;

/* Single-producer single-consumer byte ring; head and tail count bytes and never wrap (64 bits). */
typedef struct {
  _Alignas(64) _Atomic uint64_t head;
  _Alignas(64) _Atomic uint64_t tail;
  /* The producer found no room and waits for the consumer to free some (it rings the producer). */
  _Alignas(64) _Atomic int producer_waits;
  _Alignas(64) uint8_t *data;
} byte_ring;

/* A thread's doorbell: an eventfd, rung only while the thread has said it sleeps. */
typedef struct {
  _Alignas(64) _Atomic int sleeping;
  int efd;
} bell;

typedef struct relay relay;

typedef struct {
  relay *r;
  int side; /* 0 = A, 1 = B, 2 = H */
  int fd;   /* the TAP this thread owns, -1 for H */
  bell *me;
  relay_counters c;
  /* VM threads: the producer position in the outgoing ring, and whether it was full at the last pass. */
  uint64_t out_head;
  bool out_full;
  bool dead; /* VM threads: its TAP failed a read (READ_DEAD); no longer read or polled */
  pthread_t tid;
  bool started;
} worker;

struct relay {
  /* Our own copies (F_DUPFD_CLOEXEC) of the caller's TAP fds, closed after the join: a caller that
   * closes its fd early cannot make a thread read or write whatever file reuses the number. */
  int fd_a, fd_b, threads, hdr_len;
  int user_fd[2]; /* the numbers the caller passed */
  relay *next;    /* in `running` while listed */
  bool listed;
  bool poll;
  _Atomic bool stop;
  bool stopped;
  byte_ring ah, hb, bh, ha; /* A->H, H->B, B->H, H->A */
  bell bells[3];            /* A, B, H */
  worker w[3];
  uint8_t *frame; /* threads = 1: the one frame buffer */
  int epfd;
  relay_counters total;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t rec_size(uint32_t len) { return (REC_HDR + len + 7u) & ~7u; }

/* Rings b when its thread sleeps (clearing the flag, so one ring per sleep). */
static void ring_bell(bell *b, relay_counters *c) {
  atomic_thread_fence(memory_order_seq_cst); /* our ring update before reading their flag */
  if (atomic_load_explicit(&b->sleeping, memory_order_relaxed) && atomic_exchange(&b->sleeping, 0)) {
    uint64_t one = 1;
    ssize_t n = write(b->efd, &one, sizeof one);
    (void)n; /* an eventfd counter cannot overflow at one write per sleep */
    c->bells++;
  }
}

/* Whether a record of `len` payload bytes fits at producer position h (a wrap to the start included). */
static bool ring_fits(uint64_t h, uint64_t tail, uint32_t len) {
  uint32_t need = rec_size(len);
  uint32_t to_end = RING_BYTES - (uint32_t)(h & (RING_BYTES - 1));
  uint64_t total = to_end < need ? (uint64_t)to_end + need : need;
  return h + total - tail <= RING_BYTES;
}

/*
 * Producer: room for a record of up to `len` payload bytes at local head *h, contiguous; wraps to
 * the start (leaving a REC_WRAP marker) when the end is too close. NULL when there is no room.
 */
static uint8_t *ring_reserve(byte_ring *r, uint64_t *h, uint32_t len) {
  if (!ring_fits(*h, atomic_load_explicit(&r->tail, memory_order_acquire), len)) return NULL;
  uint32_t off = (uint32_t)(*h & (RING_BYTES - 1));
  uint32_t to_end = RING_BYTES - off;
  if (to_end < rec_size(len)) {
    *(uint32_t *)(r->data + off) = REC_WRAP; /* published with the next record */
    *h += to_end;
    off = 0;
  }
  return r->data + off;
}

static void ring_commit(byte_ring *r, uint64_t *h, uint8_t *rec, uint32_t len) {
  *(uint32_t *)rec = len;
  *h += rec_size(len);
  atomic_store_explicit(&r->head, *h, memory_order_release);
}

/* Consumer: the next record at local tail *t (skipping a wrap marker), NULL when the ring is empty. */
static uint8_t *ring_peek(byte_ring *r, uint64_t *t, uint32_t *len) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  if (*t == head) return NULL;
  uint32_t off = (uint32_t)(*t & (RING_BYTES - 1));
  uint32_t l = *(uint32_t *)(r->data + off);
  if (l == REC_WRAP) {
    *t += RING_BYTES - off;
    if (*t == head) return NULL;
    off = 0;
    l = *(uint32_t *)r->data;
  }
  *len = l;
  return r->data + off;
}

static void ring_release(byte_ring *r, uint64_t *t, uint32_t len) {
  *t += rec_size(len);
  atomic_store_explicit(&r->tail, *t, memory_order_release);
}

/* The producer of r waits for room: ring it (its bell) once we freed some. */
static void wake_producer(byte_ring *r, bell *producer, relay_counters *c) {
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&r->producer_waits, memory_order_relaxed) && atomic_exchange(&r->producer_waits, 0)) ring_bell(producer, c);
}

/* Says the producer waits for room in r; true when room appeared meanwhile (no wait needed). */
static bool wait_for_room(byte_ring *r, uint64_t h, uint32_t len) {
  atomic_store(&r->producer_waits, 1);
  atomic_thread_fence(memory_order_seq_cst);
  if (ring_fits(h, atomic_load_explicit(&r->tail, memory_order_acquire), len)) {
    atomic_store(&r->producer_waits, 0);
    return true;
  }
  return false;
}

static bool ring_empty(byte_ring *r, uint64_t t) { return atomic_load_explicit(&r->head, memory_order_acquire) == t; }

static void count_write(relay *r, relay_counters *c, int to_side, ssize_t n) {
  if (n < 0) {
    c->write_errors++;
    return;
  }
  uint64_t bytes = n > r->hdr_len ? (uint64_t)(n - r->hdr_len) : 0;
  if (to_side == 1) {
    c->frames_a_to_b++;
    c->bytes_a_to_b += bytes;
  } else {
    c->frames_b_to_a++;
    c->bytes_b_to_a += bytes;
  }
}

#define READ_DONE (-1)  /* the fd is empty */
#define READ_AGAIN (-2) /* EINTR, or a frame dropped as truncated (counted): read the next */
/* Any other read error (counted once): the TAP is gone (EBADFD once its device is deleted) and its
 * fd stays readable for ever, so the thread stops reading it instead of spinning on the error. */
#define READ_DEAD (-3)

/* One frame from a non-blocking TAP into p (FRAME_MAX bytes): its length, READ_DONE, READ_AGAIN or READ_DEAD. */
static ssize_t read_frame(relay_counters *c, int fd, uint8_t *p) {
  ssize_t n = read(fd, p, FRAME_MAX);
  if (n < 0) {
    if (errno == EINTR) return READ_AGAIN;
    if (errno == EAGAIN) return READ_DONE;
    c->read_errors++;
    return READ_DEAD;
  }
  if ((size_t)n >= FRAME_MAX) {
    c->truncated++;
    return READ_AGAIN;
  }
  c->frames_read++;
  return n;
}

static ssize_t write_frame(int fd, const uint8_t *p, uint32_t len) {
  ssize_t n;
  do n = write(fd, p, len);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Sleeps on the bell (and `fd` when >= 0) unless `has_work` says otherwise after the flag is set. */
static void sleep_on(worker *w, int fd, bool (*has_work)(worker *)) {
  bell *b = w->me;
  atomic_store(&b->sleeping, 1);
  atomic_thread_fence(memory_order_seq_cst);
  if (has_work(w) || atomic_load(&w->r->stop)) {
    atomic_store(&b->sleeping, 0);
    return;
  }
  struct pollfd p[2] = {{.fd = b->efd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
  w->c.sleeps++;
  int k;
  do k = poll(p, fd >= 0 ? 2 : 1, SLEEP_MS);
  while (k < 0 && errno == EINTR);
  atomic_store(&b->sleeping, 0);
  uint64_t v;
  ssize_t n = read(b->efd, &v, sizeof v); /* non-blocking: EAGAIN when nobody rang */
  (void)n;
}

/* After a pass of `work` items: true when the thread should sleep now (idle for SPIN_NS, not polling). */
static bool time_to_sleep(worker *w, int work, uint64_t *idle_since) {
  if (work > 0) {
    *idle_since = 0;
    return false;
  }
  if (w->r->poll) {
    sched_yield();
    return false;
  }
  uint64_t now = now_ns();
  if (*idle_since == 0) *idle_since = now;
  return now - *idle_since >= SPIN_NS;
}

/* ---- threads = 1 ---- */

static void *run_single(void *arg) {
  worker *w = arg;
  relay *r = w->r;
  struct epoll_event evs[3];
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    int k = epoll_wait(r->epfd, evs, 3, r->poll ? 0 : -1);
    if (k <= 0) {
      if (r->poll) sched_yield();
      continue;
    }
    for (int i = 0; i < k; i++) {
      int from = evs[i].data.fd;
      if (from != r->fd_a && from != r->fd_b) continue; /* the stop eventfd */
      int to = from == r->fd_a ? r->fd_b : r->fd_a;
      for (int j = 0; j < RELAY_BATCH; j++) {
        ssize_t n = read_frame(&w->c, from, r->frame);
        if (n == READ_DEAD) epoll_ctl(r->epfd, EPOLL_CTL_DEL, from, NULL);
        if (n == READ_DONE || n == READ_DEAD) break;
        if (n == READ_AGAIN) continue;
        count_write(r, &w->c, to == r->fd_b ? 1 : 0, write_frame(to, r->frame, (uint32_t)n));
      }
    }
  }
  return NULL;
}

/* ---- threads = 3 ---- */

static byte_ring *vm_out(worker *w) { return w->side == 0 ? &w->r->ah : &w->r->bh; }
static byte_ring *vm_in(worker *w) { return w->side == 0 ? &w->r->ha : &w->r->hb; }

/* Frames to write, or room again in a ring that was full (then the TAP is not in the poll set). */
static bool vm_has_work(worker *w) {
  if (!ring_empty(vm_in(w), atomic_load_explicit(&vm_in(w)->tail, memory_order_relaxed))) return true;
  return w->out_full && ring_fits(w->out_head, atomic_load_explicit(&vm_out(w)->tail, memory_order_acquire), FRAME_MAX);
}

static bool host_can_move(byte_ring *src, byte_ring *dst) {
  uint64_t t = atomic_load_explicit(&src->tail, memory_order_relaxed);
  uint32_t len;
  if (ring_peek(src, &t, &len) == NULL) return false;
  return ring_fits(atomic_load_explicit(&dst->head, memory_order_relaxed), atomic_load_explicit(&dst->tail, memory_order_acquire), len);
}

static bool host_has_work(worker *w) { return host_can_move(&w->r->ah, &w->r->hb) || host_can_move(&w->r->bh, &w->r->ha); }

static void *run_vm(void *arg) {
  worker *w = arg;
  relay *r = w->r;
  byte_ring *out = vm_out(w), *in = vm_in(w);
  bell *host = &r->bells[2];
  uint64_t h = 0, t = 0, idle_since = 0;
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    int work = 0;
    bool room = true;
    /* TAP -> ring: each frame read straight into its record. */
    for (int j = 0; j < RELAY_BATCH && !w->dead; j++) {
      uint8_t *rec = ring_reserve(out, &h, FRAME_MAX);
      if (rec == NULL) {
        w->c.ring_full++;
        room = wait_for_room(out, h, FRAME_MAX);
        if (!room) break;
        continue;
      }
      ssize_t n = read_frame(&w->c, w->fd, rec + REC_HDR);
      if (n == READ_DEAD) w->dead = true;
      if (n == READ_DONE || n == READ_DEAD) break;
      if (n == READ_AGAIN) continue;
      ring_commit(out, &h, rec, (uint32_t)n);
      work++;
    }
    if (work > 0) ring_bell(host, &w->c);
    /* ring -> TAP */
    int sent = 0;
    uint32_t len;
    uint8_t *rec;
    while (sent < 4 * RELAY_BATCH && (rec = ring_peek(in, &t, &len)) != NULL) {
      count_write(r, &w->c, w->side, write_frame(w->fd, rec + REC_HDR, len));
      ring_release(in, &t, len);
      sent++;
    }
    if (sent > 0) wake_producer(in, host, &w->c);
    if (!time_to_sleep(w, work + sent, &idle_since)) continue;
    w->out_head = h;
    w->out_full = !room;
    sleep_on(w, room && !w->dead ? w->fd : -1, vm_has_work);
    idle_since = 0;
  }
  return NULL;
}

/* Moves up to a batch of records src -> dst (one copy each); the count moved. */
static int host_move(worker *w, byte_ring *src, uint64_t *t, byte_ring *dst, uint64_t *h, bell *src_producer, bell *dst_consumer) {
  int moved = 0;
  uint32_t len;
  uint8_t *rec;
  while (moved < 4 * RELAY_BATCH && (rec = ring_peek(src, t, &len)) != NULL) {
    uint8_t *to = ring_reserve(dst, h, len);
    if (to == NULL) {
      w->c.ring_full++;
      if (wait_for_room(dst, *h, len)) continue;
      break;
    }
    memcpy(to + REC_HDR, rec + REC_HDR, len);
    ring_commit(dst, h, to, len);
    ring_release(src, t, len);
    moved++;
  }
  if (moved > 0) {
    ring_bell(dst_consumer, &w->c);
    wake_producer(src, src_producer, &w->c);
  }
  return moved;
}

static void *run_host(void *arg) {
  worker *w = arg;
  relay *r = w->r;
  uint64_t t_ah = 0, h_hb = 0, t_bh = 0, h_ha = 0, idle_since = 0;
  bell *a = &r->bells[0], *b = &r->bells[1];
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    int work = host_move(w, &r->ah, &t_ah, &r->hb, &h_hb, a, b) + host_move(w, &r->bh, &t_bh, &r->ha, &h_ha, b, a);
    if (!time_to_sleep(w, work, &idle_since)) continue;
    sleep_on(w, -1, host_has_work);
    idle_since = 0;
  }
  return NULL;
}

/* ---- lifecycle ---- */

/* Relays whose threads may run (listed before they start, unlisted after the join): a TAP is
 * never relayed by two at once (their threads would split and reorder its frames). Process-wide,
 * as the addon may be loaded by several worker threads. */
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static relay *running;

/* Whether our copies a and b are the same open file (dup()s of one TAP); when kcmp(2) is
 * unavailable, whether the caller passed the same numbers for them. */
static bool same_file(int a, int a_user, int b, int b_user) {
  pid_t p = getpid();
  long k = syscall(SYS_kcmp, p, p, KCMP_FILE, a, b);
  if (k == 0) return true;
  return k < 0 && (errno == ENOSYS || errno == EPERM) && a_user == b_user;
}

/* Lists r unless a listed relay uses one of its TAPs; false when one does. */
static bool relay_list(relay *r) {
  pthread_mutex_lock(&running_lock);
  bool busy = false;
  int mine[] = {r->fd_a, r->fd_b}, theirs[2];
  for (relay *o = running; o != NULL && !busy; o = o->next) {
    theirs[0] = o->fd_a;
    theirs[1] = o->fd_b;
    for (int i = 0; i < 4 && !busy; i++) busy = same_file(mine[i / 2], r->user_fd[i / 2], theirs[i % 2], o->user_fd[i % 2]);
  }
  if (!busy) {
    r->next = running;
    running = r;
    r->listed = true;
  }
  pthread_mutex_unlock(&running_lock);
  return !busy;
}

static void relay_unlist(relay *r) {
  if (!r->listed) return;
  pthread_mutex_lock(&running_lock);
  for (relay **p = &running; *p != NULL; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  pthread_mutex_unlock(&running_lock);
  r->listed = false;
}

static void relay_free_resources(relay *r) {
  byte_ring *rings[] = {&r->ah, &r->hb, &r->bh, &r->ha};
  for (int i = 0; i < 4; i++) {
    free(rings[i]->data);
    rings[i]->data = NULL;
  }
  for (int i = 0; i < 3; i++) {
    if (r->bells[i].efd >= 0) close(r->bells[i].efd);
    r->bells[i].efd = -1;
  }
  if (r->epfd >= 0) close(r->epfd);
  r->epfd = -1;
  if (r->fd_a >= 0) close(r->fd_a);
  if (r->fd_b >= 0) close(r->fd_b);
  r->fd_a = r->fd_b = -1;
  free(r->frame);
  r->frame = NULL;
}

/* Records left between the consumer's tail and the producer's head (threads joined). */
static uint64_t ring_count(byte_ring *r) {
  uint64_t t = atomic_load(&r->tail), n = 0;
  uint32_t len;
  while (ring_peek(r, &t, &len) != NULL) {
    t += rec_size(len);
    n++;
  }
  return n;
}

/* Stops and joins every thread, sums the counters (frames left in the rings: discarded), frees
 * rings, eventfds and our copies of the TAP fds. */
static void relay_halt(relay *r) {
  if (r->stopped) return;
  r->stopped = true;
  atomic_store(&r->stop, true);
  for (int i = 0; i < 3; i++) {
    if (r->bells[i].efd < 0) continue;
    uint64_t one = 1;
    ssize_t n = write(r->bells[i].efd, &one, sizeof one);
    (void)n;
  }
  memset(&r->total, 0, sizeof r->total);
  for (int i = 0; i < 3; i++) {
    worker *w = &r->w[i];
    if (!w->started) continue;
    pthread_join(w->tid, NULL);
    w->started = false;
    uint64_t *dst = (uint64_t *)&r->total, *src = (uint64_t *)&w->c;
    for (size_t k = 0; k < sizeof r->total / sizeof(uint64_t); k++) dst[k] += src[k];
  }
  byte_ring *rings[] = {&r->ah, &r->hb, &r->bh, &r->ha};
  for (int i = 0; i < 4; i++)
    if (rings[i]->data != NULL) r->total.discarded += ring_count(rings[i]);
  relay_free_resources(r);
  relay_unlist(r);
}

static void on_relay_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay *r = data;
  relay_halt(r); /* a handle dropped (or a thread torn down) without relayStop */
  free(r);
}

/* Tags our handles: relayStop() must not take another external (a watch() handle) for a relay. */
static const napi_type_tag RELAY_TAG = {0x6e657476736372ull, 0x72656c6179000001ull};

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EINVAL", msg);
  return NULL;
}

/* The fd's vnet header length when it is a TAP with IFF_VNET_HDR, else -1. */
static int tap_vnet_hdr_len(int fd) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(fd, TUNGETIFF, &ifr) < 0) return -1;
  if ((ifr.ifr_flags & (IFF_TAP | IFF_VNET_HDR)) != (IFF_TAP | IFF_VNET_HDR)) return -1;
  int sz = 0;
  if (ioctl(fd, TUNGETVNETHDRSZ, &sz) < 0) return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || !(fl & O_NONBLOCK)) return -1;
  return sz;
}

/* tap.c: v as an exact integer in [lo, hi] (no truncation, no wrap). */
bool tap_get_int(napi_env env, napi_value v, double lo, double hi, int32_t *out);

static const char START_USAGE[] = "relayStart(fdA: number, fdB: number, threads: 1 | 3, poll: boolean): two different non-blocking TAP fds with a vnet header";

napi_value relay_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd_a = -1, fd_b = -1, threads = 0;
  bool poll_mode = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 4 || !tap_get_int(env, argv[0], 0, INT32_MAX, &fd_a) || !tap_get_int(env, argv[1], 0, INT32_MAX, &fd_b) || !tap_get_int(env, argv[2], 1, 3, &threads) ||
      napi_get_value_bool(env, argv[3], &poll_mode) != napi_ok || fd_a == fd_b || threads == 2)
    return type_error(env, START_USAGE);
  int hdr_a = tap_vnet_hdr_len(fd_a), hdr_b = tap_vnet_hdr_len(fd_b);
  if (hdr_a < 0 || hdr_b < 0 || hdr_a != hdr_b) return type_error(env, START_USAGE);

  /* 64-byte aligned like its members (each ring index on its own cache line). */
  relay *r = aligned_alloc(64, (sizeof *r + 63) & ~(size_t)63);
  if (r == NULL) {
    napi_throw_error(env, "ENOMEM", "relayStart: out of memory");
    return NULL;
  }
  memset(r, 0, sizeof *r);
  r->user_fd[0] = fd_a;
  r->user_fd[1] = fd_b;
  r->threads = threads;
  r->poll = poll_mode;
  r->hdr_len = hdr_a;
  r->epfd = -1;
  atomic_init(&r->stop, false);
  for (int i = 0; i < 3; i++) r->bells[i].efd = -1;
  r->fd_b = -1;
  bool ok = (r->fd_a = fcntl(fd_a, F_DUPFD_CLOEXEC, 0)) >= 0 && (r->fd_b = fcntl(fd_b, F_DUPFD_CLOEXEC, 0)) >= 0;
  if (ok && same_file(r->fd_a, fd_a, r->fd_b, fd_b)) { /* one TAP at both ends (fd_a != fd_b) */
    relay_halt(r);
    free(r);
    return type_error(env, START_USAGE);
  }
  if (ok && !relay_list(r)) {
    relay_halt(r);
    free(r);
    napi_throw_error(env, "EBUSY", "relayStart: a running relay uses one of these TAPs (relayStop() it first)");
    return NULL;
  }
  for (int i = 0; i < 3 && ok; i++) ok = (r->bells[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) >= 0;
  if (ok && threads == 3) {
    byte_ring *rings[] = {&r->ah, &r->hb, &r->bh, &r->ha};
    for (int i = 0; i < 4 && ok; i++) ok = (rings[i]->data = aligned_alloc(64, RING_BYTES)) != NULL;
  }
  if (ok && threads == 1) {
    ok = (r->frame = malloc(FRAME_MAX)) != NULL && (r->epfd = epoll_create1(EPOLL_CLOEXEC)) >= 0;
    int fds[] = {r->fd_a, r->fd_b, r->bells[0].efd};
    for (int i = 0; i < 3 && ok; i++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
      ok = epoll_ctl(r->epfd, EPOLL_CTL_ADD, fds[i], &ev) == 0;
    }
  }
  int err = ok ? 0 : errno;
  if (ok) {
    int n = threads == 1 ? 1 : 3;
    for (int i = 0; i < n && ok; i++) {
      worker *w = &r->w[i];
      w->r = r;
      w->side = threads == 1 ? 0 : i;
      w->fd = i == 0 ? r->fd_a : i == 1 ? r->fd_b : -1;
      w->me = &r->bells[i];
      int e = pthread_create(&w->tid, NULL, threads == 1 ? run_single : i == 2 ? run_host : run_vm, w);
      if (e != 0) {
        ok = false;
        err = e;
      } else {
        w->started = true;
      }
    }
  }
  if (!ok) {
    relay_halt(r);
    free(r);
    char msg[120];
    snprintf(msg, sizeof msg, "relayStart: %s", strerror(err));
    const char *code = strerrorname_np(err);
    napi_throw_error(env, code ? code : "EIO", msg);
    return NULL;
  }
  napi_value ext;
  bool made = napi_create_external(env, r, on_relay_collected, NULL, &ext) == napi_ok;
  if (!made || napi_type_tag_object(env, ext, &RELAY_TAG) != napi_ok) {
    relay_halt(r);
    if (!made) free(r); /* else the handle's finalizer frees it */
    napi_throw_error(env, "EIO", "relayStart: cannot make the handle");
    return NULL;
  }
  return ext;
}

static void set_num(napi_env env, napi_value obj, const char *name, uint64_t v) {
  napi_value n;
  napi_create_double(env, (double)v, &n);
  napi_set_named_property(env, obj, name, n);
}

napi_value relay_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype t;
  void *p = NULL;
  bool ours = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_check_object_type_tag(env, argv[0], &RELAY_TAG, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, argv[0], &p) != napi_ok)
    return type_error(env, "relayStop(handle from relayStart())");
  relay *r = p;
  relay_halt(r);
  const relay_counters *c = &r->total;
  napi_value out;
  napi_create_object(env, &out);
  set_num(env, out, "frames", c->frames_a_to_b + c->frames_b_to_a);
  set_num(env, out, "bytes", c->bytes_a_to_b + c->bytes_b_to_a);
  set_num(env, out, "framesAtoB", c->frames_a_to_b);
  set_num(env, out, "framesBtoA", c->frames_b_to_a);
  set_num(env, out, "bytesAtoB", c->bytes_a_to_b);
  set_num(env, out, "bytesBtoA", c->bytes_b_to_a);
  set_num(env, out, "readErrors", c->read_errors);
  set_num(env, out, "writeErrors", c->write_errors);
  set_num(env, out, "truncated", c->truncated);
  set_num(env, out, "framesRead", c->frames_read);
  set_num(env, out, "discarded", c->discarded);
  set_num(env, out, "ringFull", c->ring_full);
  set_num(env, out, "sleeps", c->sleeps);
  set_num(env, out, "bells", c->bells);
  return out;
}
