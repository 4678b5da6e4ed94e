// SPDX-License-Identifier: GPL-2.0
/* svrcertd's event loop, periodic check and configuration reload. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "pki/alarm.h"
#include "pki/trust_config.h"
#include "crl/crl_master.h"
#include "lib/ctlsock.h"
#include "lib/policy_override.h"
#include "daemon.h"
#include "daemon_conductor.h"
#include "daemon_crl.h"
#include "daemon_peers.h"
#include "daemon_rest.h"
#include "tpm/tpm.h"

static int open_signalfd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Next check in FIRST_S seconds, then every INTERVAL_S. */
static int arm_timer(int fd, unsigned int first_s, unsigned int interval_s)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = first_s },
		.it_interval = { .tv_sec = interval_s },
	};

	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

static int open_timerfd(unsigned int interval_s)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (arm_timer(fd, interval_s, interval_s)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Wall-clock minus monotonic time, ms: what a step of the wall clock moves. */
static long long wall_offset_ms(void)
{
	struct timespec wall, mono;

	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((long long)wall.tv_sec - mono.tv_sec) * 1000 +
	       (wall.tv_nsec - mono.tv_nsec) / 1000000;
}

/*
 * A CLOCK_REALTIME timer that never expires (its time is the largest
 * there is) but is cancelled when the wall clock is set (clock_settime,
 * settimeofday, an NTP step; TFD_TIMER_CANCEL_ON_SET): its fd turns
 * readable and the loop wakes. poll() sleeps on the monotonic clock, while
 * a peer's keys expire on the wall clock (rekey interval +
 * peer-key-timeout, peerauth_keys_timers.c): a deadline computed before a
 * step forward would otherwise be acted on only when something else woke
 * the loop. Every turn computes every deadline anew from the clocks, so
 * waking is all a step needs.
 */
static int open_clock_watch(void)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = sizeof(time_t) > 4 ? (time_t)INT64_MAX :
					(time_t)INT32_MAX },
	};
	int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
			    &its, NULL)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* The clock watch is readable: a read fails with ECANCELED after a step
 * (and re-arms the watch for the next one). */
static void clock_stepped(struct daemon *d)
{
	uint64_t n;
	long long off, step;

	if (read(d->clock_fd, &n, sizeof(n)) >= 0 || errno != ECANCELED)
		return;
	off = wall_offset_ms();
	step = off - d->clock_offset_ms;
	syslog(LOG_NOTICE, "wall clock stepped by %+lld s: timers follow the "
	       "new time", (step + (step < 0 ? -500 : 500)) / 1000);
	d->clock_offset_ms = off;
}

static int control_group(struct daemon *d)
{
	const char *name = d->env.have_cfg ? d->env.cfg.control_group : NULL;

	d->have_group = false;
	if (!name)
		return 0;
	if (ctlsock_group_gid(name, &d->group)) {
		syslog(LOG_ERR, "control-group %s: no such group", name);
		return -ENOENT;
	}
	d->have_group = true;
	return 0;
}

/* Peer validation, failure mode and ports from the configuration, with
 * svrcertctl set's runtime override on top: a reload keeps it, and says
 * so (lib/policy_override.h). */
void daemon_push_policy(struct daemon *d)
{
	const struct svrcert_config *c = &d->env.cfg;
	enum svrcert_failure_mode fm;
	struct policy_override o;
	int pmin, pmax;
	char msg[512];
	bool pv;

	if (!d->env.have_cfg)
		return;
	if (policy_override_load(&d->env.st, &o))
		syslog(LOG_WARNING, "%s/%s: damaged, ignored: svrcert.conf's "
		       "policy applies", d->env.st.dir, STORE_POLICY_OVERRIDE);
	policy_override_apply(&o, c, &pv, &fm, &pmin, &pmax);
	policy_override_describe(&o, c, msg, sizeof(msg));
	if (*msg)
		syslog(LOG_NOTICE, "svrcertctl set's runtime override stays in "
		       "force: %s ('svrcertctl set SETTING config' ends it)", msg);
	if (kernel_push_policy(pv, fm, pmin, pmax, d->status.present ?
			       d->status.state : SVRCERT_STATE_UNKNOWN, msg,
			       sizeof(msg)))
		syslog(LOG_WARNING, "%s", msg);
	else
		syslog(LOG_INFO, "kernel policy applied: peer-validation %s, "
		       "%s", pv ? "true" : "false", svrcert_failure_mode_name(fm));
}

/* A restart starts from svrcert.conf: an override recorded for the
 * daemon before ends here (policy_override.h). */
static void drop_policy_override(struct daemon *d)
{
	struct policy_override o;
	char what[512];

	if (policy_override_load(&d->env.st, &o) || !policy_override_any(&o))
		what[0] = '\0';
	else
		policy_override_describe(&o, &d->env.cfg, what, sizeof(what));
	if (!store_remove(&d->env.st, STORE_POLICY_OVERRIDE))
		syslog(LOG_NOTICE, "svrcertctl set's runtime override ended by "
		       "the restart, svrcert.conf's policy applies%s%s",
		       *what ? ": was " : "", what);
}

/* Before anything is written or fed to the kernel: this state directory
 * and this control socket are ours alone. */
static int claim(struct daemon *d)
{
	const char *sock = svrcert_env_control_socket(&d->env);
	char err[512];
	int removed;

	d->lock_fd = daemon_lock_state(d->env.st.dir, err, sizeof(err));
	if (d->lock_fd < 0) {
		syslog(LOG_ERR, "refusing to start: %s", err);
		return d->lock_fd;
	}
	if (ctlsock_in_use(sock)) {
		syslog(LOG_ERR, "refusing to start: control socket %s: another "
		       "daemon listens on it", sock);
		return -EADDRINUSE;
	}
	/* Ours alone now: what a killed publish left behind goes before
	 * anything reads the directory (readers skip temp names anyway). */
	removed = svrcert_master_cleanup(d->env.st.dir);
	if (removed > 0)
		syslog(LOG_NOTICE, "removed %d temp file(s) an interrupted "
		       "publish left in %s", removed, d->env.st.dir);
	else if (removed < 0)
		syslog(LOG_WARNING, "cannot clean temp files in %s: %s",
		       d->env.st.dir, strerror(-removed));
	return 0;
}

/* The [trusted-ca] bundles of svrcert.conf judged as trusted-ca add judges
 * them: a refused one is also alarmed by the own-certificate check, but a
 * warning would otherwise be said nowhere. */
static void log_trusted_cas(struct daemon *d)
{
	struct trust_ca_check *v = NULL;
	size_t i;

	if (!d->env.have_cfg || trust_config_check(&d->env.cfg, 0, &v))
		return;
	for (i = 0; v && i < d->env.cfg.n_cas; i++)
		if (v[i].verdict != TRUST_CA_OK)
			syslog(v[i].verdict == TRUST_CA_REFUSED ? LOG_ERR :
			       LOG_WARNING, "%s", v[i].message);
	free(v);
}

int daemon_setup(struct daemon *d)
{
	char err[512];
	int ret;

	d->sig_fd = d->timer_fd = d->clock_fd = d->lock_fd = d->ctl.fd = -1;
	svrcert_held_init(&d->held);
	ret = svrcert_env_open(&d->env, &d->args, err, sizeof(err));
	if (ret) {
		syslog(LOG_ERR, "refusing to start: %s", err);
		return ret;
	}
	d->env.ip.held = &d->held;
	ret = claim(d);
	if (ret)
		return ret;
	log_trusted_cas(d);
	/* Set the TPM's TCTI in the environment now, while this is the only
	 * thread: tpm_ctx_open() then never changes it under the REST
	 * server's threads (setenv may move environ under a getenv). */
	if (tpm_tcti_set(d->env.tcti))
		syslog(LOG_WARNING, "cannot set TPM2OPENSSL_TCTI: %m");
	/* First of all: the published revocation list into the kernel, so
	 * a restart opens no window (failures are logged, not fatal). */
	daemon_crl_start(d);
	ret = control_group(d);
	if (ret)
		return ret;
	drop_policy_override(d);
	d->check_option = d->check_interval_s != 0;	/* --check-interval */
	if (!d->check_option)
		d->check_interval_s = d->env.have_cfg ? d->env.cfg.check_interval_s :
				      SVRCERTD_CHECK_INTERVAL_S;
	d->sig_fd = open_signalfd();
	d->timer_fd = open_timerfd(d->check_interval_s);
	if (d->sig_fd < 0 || d->timer_fd < 0) {
		syslog(LOG_ERR, "cannot set up: %s", strerror(-(d->sig_fd < 0 ?
		       d->sig_fd : d->timer_fd)));
		return -EIO;
	}
	d->clock_offset_ms = wall_offset_ms();
	d->clock_fd = open_clock_watch();
	if (d->clock_fd < 0)	/* the loop still wakes for its own timers */
		syslog(LOG_WARNING, "cannot watch the wall clock for steps: %s",
		       strerror(-d->clock_fd));
	if (daemon_ctl_start(d))	/* logged */
		return -EIO;
	syslog(LOG_INFO, "started: state %s, config %s, control socket %s, "
	       "check every %u s", d->env.st.dir,
	       d->env.have_cfg ? d->env.cfg.path : "(none, defaults)",
	       svrcert_env_control_socket(&d->env), d->check_interval_s);
	daemon_check(d);
	daemon_push_policy(d);
	daemon_peers_start(d);	/* a bad listen address is logged, not fatal */
	daemon_conductor_start(d);	/* likewise */
	/* Last: its thread inherits the blocked signals, and its requests
	 * notify us through the control socket, which must exist. */
	return daemon_rest_start(d);
}

void daemon_teardown(struct daemon *d)
{
	daemon_rest_stop(d);
	daemon_conductor_stop(d);
	daemon_crl_stop(d);
	daemon_peers_stop(d);
	daemon_ctl_stop(d);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->clock_fd >= 0)
		close(d->clock_fd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	svrcert_env_close(&d->env);
	svrcert_held_free(&d->held);
	if (d->lock_fd >= 0)
		close(d->lock_fd);	/* the state directory is free */
	d->lock_fd = -1;
}

void daemon_check(struct daemon *d)
{
	char kmsg[256];
	bool security = d->env.have_cfg && d->env.cfg.peer_validation;
	int ret;

	/* svrcertctl may hold the state lock across a TPM operation: rather
	 * than block the loop (and signals), try again in a second. */
	ret = store_trylock(&d->env.st);
	if (ret == -EWOULDBLOCK) {
		d->check_pending = true;
		arm_timer(d->timer_fd, 1, d->check_interval_s);
		return;
	}
	d->check_pending = false;
	d->env.ip.now = 0;
	d->env.ip.tell_kernel = true;
	ret = ret ? ret : alarm_check_own(&d->env.ip, security, &d->status, kmsg,
			      sizeof(kmsg));
	store_unlock(&d->env.st);
	d->last_check = time(NULL);
	daemon_peers_check(d);	/* own certificate replaced: re-authenticate */
	if (!ret)
		daemon_peers_own_state(d);	/* fail-hard: keys cut */
	if (ret) {
		syslog(LOG_ERR, "own-certificate check failed: %s",
		       strerror(-ret));
		return;
	}
	/* Log what the kernel was told only when it changes. */
	if (strcmp(kmsg, d->kernel_msg))
		syslog(LOG_INFO, "%s", kmsg);
	snprintf(d->kernel_msg, sizeof(d->kernel_msg), "%s", kmsg);
	daemon_metrics_changed(d);
}

int daemon_reload(struct daemon *d, char *err, size_t errlen)
{
	struct svrcert_env next;
	int ret, lock = -1;

	ret = svrcert_env_open(&next, &d->args, err, errlen);
	if (ret)
		goto out;
	/* A new state directory must be ours alone too, before it is used. */
	if (!daemon_lock_is_of(d->lock_fd, next.st.dir)) {
		lock = daemon_lock_state(next.st.dir, err, errlen);
		ret = lock < 0 ? lock : 0;
	}
	/* [rest] next: the one part that can still fail (port in use, bad
	 * certificate), and when it does nothing has changed yet. */
	if (!ret)
		ret = daemon_rest_reload(d, &next, err, errlen);
	if (ret) {
		if (lock >= 0)
			close(lock);
		svrcert_env_close(&next);
	}
out:
	if (ret) {
		syslog(LOG_ERR, "reload failed, keeping the previous "
		       "configuration: %s", err);
		return ret;
	}
	if (lock >= 0) {	/* moved to another state directory */
		close(d->lock_fd);
		d->lock_fd = lock;
	}
	/* The control socket stays where it is until a restart. */
	svrcert_env_close(&d->env);
	d->env = next;
	d->env.audit.st = &d->env.st;
	d->env.ip.st = &d->env.st;
	d->env.ip.audit = &d->env.audit;
	d->env.ip.cfg = d->env.have_cfg ? &d->env.cfg : NULL;
	d->env.ip.held = &d->held;
	control_group(d);
	/* Changes the environment only when [tpm] tcti itself changed. */
	if (tpm_tcti_set(d->env.tcti))
		syslog(LOG_WARNING, "cannot set TPM2OPENSSL_TCTI: %m");
	if (!d->check_option && d->env.have_cfg &&
	    d->env.cfg.check_interval_s != d->check_interval_s) {
		d->check_interval_s = d->env.cfg.check_interval_s;
		arm_timer(d->timer_fd, d->check_interval_s, d->check_interval_s);
	}
	log_trusted_cas(d);
	daemon_peers_reload(d);	/* the old configuration is gone */
	daemon_crl_reload(d);
	daemon_conductor_reload(d);
	syslog(LOG_INFO, "configuration reloaded from %s",
	       d->env.have_cfg ? d->env.cfg.path : "(none, defaults)");
	daemon_check(d);
	daemon_push_policy(d);
	return 0;
}

static void handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char err[512];

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			daemon_reload(d, err, sizeof(err));
			continue;
		}
		syslog(LOG_INFO, "signal %u: stopping", si.ssi_signo);
		d->stop = true;
	}
}

/* The earliest of poll timeouts A and B (-1: none). */
static int earliest(int a, int b)
{
	return a < 0 ? b : b < 0 || a < b ? a : b;
}

int daemon_run(struct daemon *d)
{
	enum { N_OWN = 3 };	/* signalfd, check timer, clock watch */
	uint64_t expirations;

	while (!d->stop) {
		struct pollfd fds[N_OWN + DAEMON_CTL_MAX_FDS +
				  DAEMON_PEERS_MAX_FDS + DAEMON_CRL_MAX_FDS +
				  DAEMON_CONDUCTOR_MAX_FDS] = {
			{ .fd = d->sig_fd, .events = POLLIN },
			{ .fd = d->timer_fd, .events = POLLIN },
			{ .fd = d->clock_fd, .events = POLLIN },	/* -1: ignored */
		};
		struct pollfd *ctl = fds + N_OWN, *peers, *crl, *cond;
		size_t n_ctl, n_peers, n_crl, n_cond;

		n_ctl = daemon_ctl_pollfds(d, ctl, DAEMON_CTL_MAX_FDS);
		peers = ctl + n_ctl;
		n_peers = daemon_peers_pollfds(d, peers, DAEMON_PEERS_MAX_FDS);
		crl = peers + n_peers;
		n_crl = daemon_crl_pollfds(d, crl, DAEMON_CRL_MAX_FDS);
		cond = crl + n_crl;
		n_cond = daemon_conductor_pollfds(d, cond,
						  DAEMON_CONDUCTOR_MAX_FDS);
		if (poll(fds, N_OWN + n_ctl + n_peers + n_crl + n_cond,
			 earliest(daemon_ctl_timeout_ms(d),
				  earliest(daemon_peers_timeout_ms(d),
				  earliest(daemon_crl_timeout_ms(d),
				  earliest(daemon_conductor_timeout_ms(d),
					   daemon_metrics_timeout_ms(d)))))) < 0) {
			if (errno == EINTR)
				continue;
			syslog(LOG_ERR, "poll: %m");
			return -errno;
		}
		if (fds[0].revents & POLLIN)
			handle_signal(d);
		if ((fds[1].revents & POLLIN) &&
		    read(d->timer_fd, &expirations, sizeof(expirations)) > 0)
			daemon_check(d);
		if (fds[2].revents & POLLIN)
			clock_stepped(d);
		/* Every turn, also on timeout: clients' deadlines, handshakes
		 * and their timers, fetches. */
		daemon_ctl_process(d, ctl, n_ctl);
		daemon_peers_process(d, peers, n_peers);
		daemon_crl_process(d, crl, n_crl);
		daemon_conductor_process(d, cond, n_cond);	/* after the CRL
						 * manager's publish */
		daemon_crl_own_check(d);	/* after the conductor served */
		daemon_metrics_process(d);
	}
	return 0;
}
