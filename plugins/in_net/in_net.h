/* in_net.h — the net input: per-interface traffic from /proc/net/dev, as
 * the CloudWatch agent publishes it (telegraf's net plugin), plus rates.
 *
 * Each collect reads /proc/net/dev once and emits, per interface
 * (dimension `interface`), what happened since the previous collect:
 *   net_bytes_sent, net_bytes_recv (Bytes),
 *   net_packets_sent, net_packets_recv, net_err_in, net_err_out,
 *   net_drop_in, net_drop_out (Count)
 * and the same divided by the seconds between the two collects:
 *   net_bytes_sent_per_sec ... (Bytes/Second), net_packets_sent_per_sec ...
 *   (Count/Second).
 * The first collect, and an interface's first appearance, only prime. A
 * counter that went down (a 32-bit kernel's wrap, an interface re-created
 * under the same name) gives no sample for that interval, never a huge or
 * negative one; rates need now_ms to have advanced.
 *
 * Which interfaces: with options.interfaces, exactly those matching one of
 * the globs (fnmatch, loopback and virtual ones included when named);
 * without, all except loopback (unless include_loopback, as telegraf) and
 * except virtual ones when exclude_virtual. An interface is loopback when
 * <sys_root>/class/net/NAME/flags has IFF_LOOPBACK (or, without sysfs, is
 * named "lo"); virtual when <sys_root>/class/net/NAME lives under
 * devices/virtual/ or has no `device` entry (bridges, veth, tun, docker0).
 * An interface absent from sysfs (another network namespace's sysfs is
 * mounted) counts as physical. Classification happens once per interface
 * appearance.
 *
 * Ownership: tw_in_net_open allocates, tw_in_net_close frees; options are
 * copied. Thread: one thread at a time per tw_in_net; no libuv calls; no
 * allocation per collect unless interfaces appear.
 */
#ifndef TW_IN_NET_H
#define TW_IN_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "metric.h"

typedef struct tw_in_net tw_in_net;

/* Zero-initialised = the defaults (every interface but loopback). */
typedef struct tw_in_net_options {
    bool include_loopback;          /* also lo (telegraf leaves it out) */
    bool exclude_virtual;           /* config include_virtual = no */
    const char *const *interfaces;  /* NULL-terminated globs; NULL = all */
} tw_in_net_options;

/* proc_root: "/proc" (NULL means that) or a directory laid out like it
 * (net/dev); sys_root: "/sys" or a directory laid out like it (class/net),
 * NULL for no sysfs (loopback by name, nothing virtual). options may be
 * NULL. Returns 0, or -errno with err naming the file. */
int tw_in_net_open(const char *proc_root, const char *sys_root, const tw_in_net_options *options,
                   tw_in_net **out, tw_err *err);

/* Reads /proc/net/dev once and emits the interval's samples (time_ms =
 * now_ms). Returns 0, or a negative errno with err naming the file and the
 * first bad line; the other interfaces are still reported. */
int tw_in_net_collect(tw_in_net *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err);

void tw_in_net_close(tw_in_net *in);

#endif
