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

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pki/held_revs.h"
#include "pki/import.h"
#include "pki/store_env.h"

#define SVRCERTD_CHECK_INTERVAL_S	3600

struct conductor;
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

/* daemon_ctl.c's part: the control socket and its clients, each served
 * by the loop without blocking it (a request line in, a response line
 * out, within a deadline). */
#define DAEMON_CTL_CLIENTS_MAX	32
struct daemon_ctl_conn {
	int fd;			/* -1: a free slot */
	uid_t uid;
	long deadline_ms;	/* CLOCK_MONOTONIC: closed when past */
	bool writing;		/* buf holds the response */
	char *buf;		/* the request as read, or the response */
	size_t cap, len, off;	/* allocated, filled, sent */
};
struct daemon_ctl {
	int fd;			/* listening; -1 when not */
	char path[108];		/* where fd listens */
	dev_t dev;		/* the socket file bound at path, */
	ino_t ino;		/* unlinked at exit only if still there */
	struct daemon_ctl_conn conn[DAEMON_CTL_CLIENTS_MAX];
	/* This turn's pollfds after the listening one: their slots. */
	int polled[DAEMON_CTL_CLIENTS_MAX];
	size_t n_polled;
};

/* daemon_rest.c's part: servers replaced by a reload, finishing their
 * requests (rest.h), at most this many at once. */
#define DAEMON_REST_RETIRED_MAX	8
struct daemon_rest {
	struct rest_server *srv;	/* serving; NULL: REST off */
	struct rest_server *retired[DAEMON_REST_RETIRED_MAX];
};

/* daemon_metrics.c's part: the [daemon] metrics-file. */
struct daemon_metrics {
	long due_ms;		/* CLOCK_MONOTONIC; 0: at the next turn */
	bool failing;		/* the last write failed (logged once) */
};

/* daemon_conductor.c's part ([conductor]). */
struct daemon_conductor {
	struct conductor *c;		/* NULL: not serving */
	uint8_t settings[32];		/* what it was started with (SHA-256) */
	uint64_t cert_stamp;		/* cert.pem it serves with */
	uint64_t master_stamp;		/* master.bin last handed over */
	bool have_master;
	int64_t retry_ms;		/* CLOCK_MONOTONIC; 0: none */
	time_t started;			/* for show conductor */
	char error[512];		/* why it did not start, or "" */
};

struct daemon {
	struct svrcert_env_args args;
	struct svrcert_env env;		/* the configuration in force */
	unsigned int check_interval_s;
	bool check_option;		/* --check-interval: not the config's */
	int sig_fd, timer_fd;
	int clock_fd;			/* readable when the wall clock is set */
	long long clock_offset_ms;	/* wall - monotonic, for the log */
	int lock_fd;			/* holds STATE_DIR/svrcertd.lock */
	bool have_group;
	gid_t group;
	bool stop;
	/* Result of the last own-certificate check. */
	struct own_cert_status status;
	time_t last_check;
	bool check_pending;		/* the state lock was busy */
	char kernel_msg[256];
	/* The parts, each driven by its own file. */
	struct daemon_ctl ctl;		/* daemon_ctl.c */
	struct crl_mgr *crl;		/* daemon_crl*.c; NULL: not started */
	struct daemon_peers peers;	/* daemon_peers.c */
	struct daemon_rest rest;	/* daemon_rest.c */
	struct daemon_metrics metrics;	/* daemon_metrics.c */
	struct daemon_conductor conductor;	/* daemon_conductor.c */
	/* The revocations the judges check (own certificate, peers,
	 * conductor): the CRL manager lends its master list and vouches for
	 * the files it wrote; what else is held is read once per version. */
	struct svrcert_held held;
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

/* daemon_ctl.c: the control socket. start: listen on the configured
 * path (-errno, logged: in use by another daemon, cannot bind); stop:
 * hang up on every client, unlink the socket if it is still the one bound. */
#define DAEMON_CTL_MAX_FDS	(1 + DAEMON_CTL_CLIENTS_MAX)
int daemon_ctl_start(struct daemon *d);
void daemon_ctl_stop(struct daemon *d);
size_t daemon_ctl_pollfds(struct daemon *d, struct pollfd *fds, size_t max);
/* Poll timeout in ms until the next client deadline (-1: none). */
int daemon_ctl_timeout_ms(struct daemon *d);
/* Every turn, also on timeout: accept, read, answer, close the late. */
void daemon_ctl_process(struct daemon *d, const struct pollfd *fds, size_t n);

/* daemon_metrics.c: write the metrics file when due (every
 * metrics-interval) or, after daemon_metrics_changed(), at the next turn;
 * the poll timeout until then (-1: no metrics-file). */
void daemon_metrics_changed(struct daemon *d);
int daemon_metrics_timeout_ms(struct daemon *d);
void daemon_metrics_process(struct daemon *d);

/* daemon_lock.c: one svrcertd per state directory. Take DIR's lock
 * (DIR/svrcertd.lock, flock, holding our pid): the fd, or -EBUSY with ERR
 * naming DIR and the holder's pid, or -errno. */
#define DAEMON_LOCK_FILE	"svrcertd.lock"
int daemon_lock_state(const char *dir, char *err, size_t errlen);
/* Does LOCK_FD (a lock taken by daemon_lock_state) belong to DIR? */
bool daemon_lock_is_of(int lock_fd, const char *dir);

#endif
