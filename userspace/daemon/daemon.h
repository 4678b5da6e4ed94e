/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd internals: one event loop (poll over a signalfd, a timerfd for
 * the periodic own-certificate check, and the control socket).
 */
#ifndef SVRCERTD_DAEMON_H
#define SVRCERTD_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "pki/import.h"
#include "pki/store_env.h"

#define SVRCERTD_CHECK_INTERVAL_S	3600

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
