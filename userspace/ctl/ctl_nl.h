/* SPDX-License-Identifier: GPL-2.0 */
/* svrcertctl helpers for the kernel subcommands: errors, JSON, time. */
#ifndef SVRCERTCTL_CTL_NL_H
#define SVRCERTCTL_CTL_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "netlink/nl.h"

/*
 * Open the netlink handle; on failure print why (for WHAT) and return NULL.
 * While ctl_nl_share(true) holds (svrcertctl -b), every command gets the
 * same handle, opened when the first needs it; give it back with
 * ctl_nl_close(), which closes only a handle that is not shared.
 */
struct svrcert_nl *ctl_nl_open(const char *what);
void ctl_nl_close(struct svrcert_nl *nl);
/* A handle of the caller's own, never shared (monitor joins a group). */
struct svrcert_nl *ctl_nl_open_own(const char *what);
/*
 * ON: share one handle from now on. OFF: close the shared handle; the next
 * ctl_nl_open() opens a new one (shared again if sharing is still on).
 * The batch drops it after a failed line: a failed exchange may have left
 * replies in the socket.
 */
void ctl_nl_share(bool on);
void ctl_nl_share_drop(void);

/*
 * Print `svrcertctl: WHAT: <problem>[: kernel says: <extack>]` for ERR
 * (a -errno from the library) and return CTL_FAIL.
 */
int ctl_nl_fail(struct svrcert_nl *nl, const char *what, int err);

/* Print `svrcertctl: WHAT: FMT...` and return CTL_USAGE. */
int ctl_usage_error(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "2026-01-01T00:00:00Z" (UTC) into BUF (>= 32 bytes); returns BUF. */
const char *ctl_time_format(int64_t t, char *buf, size_t len);

/* Print V (consumed) to stdout, indented, with a newline; CTL_OK/CTL_FAIL. */
int ctl_json_print(json_t *v);

/* A uint64 as a JSON integer (json_int_t is signed 64-bit). */
json_t *ctl_json_u64(uint64_t v);

#endif
