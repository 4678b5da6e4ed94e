/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd's REST API (rest.h): started after the loop's signalfd and
 * control socket exist (the server's threads inherit the blocked signal
 * mask, also those started on reload; its requests notify the loop
 * through the control socket), stopped first at teardown.
 */
#ifndef SVRCERTD_DAEMON_REST_H
#define SVRCERTD_DAEMON_REST_H

struct daemon;
struct svrcert_env;

/* 0 when serving or when no [rest] listen is configured; -errno (logged)
 * when it is configured but cannot be served: svrcertd then refuses to
 * start rather than run without the interface the operator asked for. */
int daemon_rest_start(struct daemon *d);
/*
 * Put NEXT's [rest] in force, before the reload commits to NEXT: a changed
 * listener (address, port, certificate or key -- also renewed in place --,
 * limits, router name, state directory) is replaced by a new server, which
 * takes over the listening socket when the address stays; unchanged
 * settings leave the server and its connections alone. On failure (-errno,
 * ERR naming the problem: port in use, a certificate that does not load or
 * match its key) the running server stays untouched and the reload must
 * fail, so that the previous configuration stays in force as a whole.
 */
int daemon_rest_reload(struct daemon *d, const struct svrcert_env *next,
		       char *err, size_t errlen);
void daemon_rest_stop(struct daemon *d);

#endif
