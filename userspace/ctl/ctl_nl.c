// SPDX-License-Identifier: GPL-2.0
/* svrcertctl helpers for the kernel subcommands: errors, JSON, time. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/util.h"

/*
 * The handle svrcertctl -b shares between its lines. Only this file sees
 * it; the commands ask through ctl_nl_open() and ctl_nl_close().
 */
static struct {
	bool on;
	struct svrcert_nl *nl;
} shared;

struct svrcert_nl *ctl_nl_open(const char *what)
{
	if (shared.on && !shared.nl)
		shared.nl = ctl_nl_open_own(what);
	return shared.on ? shared.nl : ctl_nl_open_own(what);
}

void ctl_nl_close(struct svrcert_nl *nl)
{
	if (nl != shared.nl)
		svrcert_nl_close(nl);
}

void ctl_nl_share_drop(void)
{
	svrcert_nl_close(shared.nl);
	shared.nl = NULL;
}

void ctl_nl_share(bool on)
{
	shared.on = on;
	if (!on)
		ctl_nl_share_drop();
}

struct svrcert_nl *ctl_nl_open_own(const char *what)
{
	struct svrcert_nl *nl = NULL;
	int err = svrcert_nl_open(&nl);

	if (err) {
		fprintf(stderr, "svrcertctl: %s: %s\n", what,
			err == -EPERM || err == -EACCES ?
			"permission denied (needs CAP_NET_ADMIN)" :
			svrcert_nl_open_errmsg());
		return NULL;
	}
	return nl;
}

/* The kernel's errors, said the way an operator can act on them. */
static const char *errno_text(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return "permission denied (needs CAP_NET_ADMIN)";
	case -EBUSY:
		return "another revocation-set load is in progress";
	case -ENOSPC:
		return "table full (module parameter max_keys or max_peers reached)";
	case -EEXIST:
		return "already exists";
	case -ENOENT:
		return "not found";
	case -EADDRINUSE:
		return "address already belongs to another peer";
	case -EINVAL:
		return "invalid argument";
	case -ERANGE:
		return "value out of range";
	case -EAGAIN:
		return "the kernel's table kept changing during the dump; try again";
	case -EMSGSIZE:
	case -E2BIG:
	case -EFBIG:
		return "too large for the kernel";
	case -ENOMEM:
		return "out of memory";
	case -EPROTO:
		return "malformed reply from the kernel (module and svrcertctl versions differ?)";
	case -EOPNOTSUPP:
		return "not supported by this svrcert module (module and svrcertctl versions differ?)";
	default:
		return strerror(-err);
	}
}

int ctl_nl_fail(struct svrcert_nl *nl, const char *what, int err)
{
	const char *ext = svrcert_nl_errmsg(nl);

	if (*ext)
		fprintf(stderr, "svrcertctl: %s: %s: kernel says: %s\n", what,
			errno_text(err), ext);
	else
		fprintf(stderr, "svrcertctl: %s: %s\n", what, errno_text(err));
	return CTL_FAIL;
}

int ctl_usage_error(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "svrcertctl: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_USAGE;
}

const char *ctl_time_format(int64_t t, char *buf, size_t len)
{
	svrcert_time_iso8601((time_t)t, buf, len);
	return buf;
}

int ctl_json_print(json_t *v)
{
	int err;

	if (!v) {
		fprintf(stderr, "svrcertctl: out of memory building JSON\n");
		return CTL_FAIL;
	}
	err = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(v);
	if (err || fputc('\n', stdout) == EOF || fflush(stdout))
		return CTL_FAIL;
	return CTL_OK;
}

json_t *ctl_json_u64(uint64_t v)
{
	/* Counters never reach 2^63 in practice; clamp rather than wrap. */
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}
