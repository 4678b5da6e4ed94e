/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd as conductor ([conductor] enable = yes; conductor/conductor.h,
 * Documentation/conductor.md): the conductor serves the state the CRL
 * manager publishes. Every change of the published master list
 * (STATE_DIR/master.bin, written atomically after each change of the
 * master list) is handed to it once: a new generation, its documents
 * signed once, waiting routers answered. The published CRLs and
 * index.json it serves are the same publication, so what a router fetches
 * is always one consistent state.
 *
 *	n = daemon_conductor_pollfds(d, fds, DAEMON_CONDUCTOR_MAX_FDS);
 *	poll(..., daemon_conductor_timeout_ms(d));
 *	daemon_conductor_process(d, fds, n);	// every turn
 */
#ifndef SVRCERTD_DAEMON_CONDUCTOR_H
#define SVRCERTD_DAEMON_CONDUCTOR_H

#include <poll.h>
#include <stddef.h>

#include <jansson.h>

struct daemon;

#define DAEMON_CONDUCTOR_MAX_FDS	1	/* its epoll set */

/* Not fatal: a conductor that cannot start is logged and retried at the
 * next reload. */
void daemon_conductor_start(struct daemon *d);
void daemon_conductor_stop(struct daemon *d);
/* After a reload: restarted when its settings changed. */
void daemon_conductor_reload(struct daemon *d);
size_t daemon_conductor_pollfds(struct daemon *d, struct pollfd *fds,
				size_t max);
int daemon_conductor_timeout_ms(struct daemon *d);
void daemon_conductor_process(struct daemon *d, const struct pollfd *fds,
			      size_t n);

/* show conductor: the conductor role's state and counters since it
 * started (conductor_stats); JSON null when [conductor] is not enabled. */
json_t *daemon_conductor_json(struct daemon *d);

#endif
