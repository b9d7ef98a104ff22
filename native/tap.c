/*
 * netvsc TAP addon: opens a Linux TAP device and hands its file descriptor to JavaScript.
 *
 * Everything else (reads, writes, the virtio-net header, namespaces) happens in TypeScript:
 * this file only does the three ioctls Node cannot issue itself. The fd is opened blocking on
 * purpose: a dedicated worker thread does one blocking read() per frame (platform.md §4).
 *
 * JavaScript API (see src/io/tap/addon.ts):
 *   open(name: string, vnetHdrLen: number, offloads: number) -> { fd: number, name: string }
 *   close(fd: number) -> undefined
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Throws a JS Error whose code is the errno name (EBUSY, EPERM, ...) and whose message says which step failed. */
static napi_value throw_errno(napi_env env, const char *step, const char *name, int err) {
  char msg[160];
  const char *code = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s %s: %s", step, name, strerror(err));
  napi_throw_error(env, code ? code : "EIO", msg);
  return NULL;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char name[IFNAMSIZ + 1];
  size_t name_len = 0;
  int32_t hdr_len = 0;
  int32_t offloads = 0;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 3 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok ||
      !get_int(env, argv[1], &hdr_len) || !get_int(env, argv[2], &offloads)) {
    napi_throw_type_error(env, "EINVAL", "open(name: string, vnetHdrLen: number, offloads: number)");
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

  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
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

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, tap_open, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, tap_close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}
