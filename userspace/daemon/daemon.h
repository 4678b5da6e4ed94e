/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd internals: one event loop (poll over a signalfd, a timerfd for
 * the periodic own-certificate check, and the control socket).
 *
 * The daemon's whole state is one struct daemon, owned by main() and
 * handed to every function that needs it: no file keeps state of its own
 * or shares any with another file. The parts (CRL manager, peer
 * authentication, REST server) each have their member, which only their
 * own file looks into.
 */
#ifndef SVRCERTD_DAEMON_H
#define SVRCERTD_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "pki/import.h"
#include "pki/store_env.h"

#define SVRCERTD_CHECK_INTERVAL_S	3600

struct crl_mgr;
struct peerauth;
struct rest_server;

/* daemon_peers.c's part. */
struct daemon_peers {
	struct peerauth *pa;		/* NULL: not running */
	/* The configuration peer authentication runs with when its listen
	 * address could not be bound: the one in force without the listen
	 * address (it shares its strings, replaced at the next reload). */
	struct svrcert_config no_listen;
};

/* daemon_rest.c's part: servers replaced by a reload, finishing their
 * requests (rest.h), at most this many at once. */
#define DAEMON_REST_RETIRED_MAX	8
struct daemon_rest {
	struct rest_server *srv;	/* serving; NULL: REST off */
	struct rest_server *retired[DAEMON_REST_RETIRED_MAX];
};

struct daemon {
	struct svrcert_env_args args;
	struct svrcert_env env;		/* the configuration in force */
	unsigned int check_interval_s;
	int sig_fd, timer_fd, ctl_fd;
	char ctl_path[108];		/* where ctl_fd listens (until exit) */
	bool have_group;
	gid_t group;
	bool stop;
	/* Result of the last own-certificate check. */
	struct own_cert_status status;
	time_t last_check;
	bool check_pending;		/* the state lock was busy */
	char kernel_msg[256];
	/* The parts, each driven by its own file. */
	struct crl_mgr *crl;		/* daemon_crl*.c; NULL: not started */
	struct daemon_peers peers;	/* daemon_peers.c */
	struct daemon_rest rest;	/* daemon_rest.c */
};

/* daemon_loop.c */
int daemon_setup(struct daemon *d);
int daemon_run(struct daemon *d);
void daemon_teardown(struct daemon *d);
/* Judge the own certificate, sync alarms, tell the kernel. */
void daemon_check(struct daemon *d);
/* Peer validation, failure mode, ports and own state into the kernel. */
void daemon_push_policy(struct daemon *d);
/* Reload the configuration; a bad one keeps the previous (ERR says why). */
int daemon_reload(struct daemon *d, char *err, size_t errlen);

/* daemon_ctl.c: one control connection, accepted on d->ctl_fd. */
void daemon_ctl_accept(struct daemon *d);

#endif
