/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd's REST API (rest.h): started after the loop's signalfd and
 * control socket exist (the server thread inherits the blocked signal
 * mask; its requests notify the loop through the control socket), stopped
 * first at teardown.
 */
#ifndef SVRCERTD_DAEMON_REST_H
#define SVRCERTD_DAEMON_REST_H

struct daemon;

/* 0 when serving or when no [rest] listen is configured; -errno (logged)
 * when it is configured but cannot be served: svrcertd then refuses to
 * start rather than run without the interface the operator asked for. */
int daemon_rest_start(struct daemon *d);
void daemon_rest_stop(struct daemon *d);

#endif
