// SPDX-License-Identifier: GPL-2.0
/* svrcertd's peer authentication: see daemon_peers.h. */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>

#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_peers.h"

static struct peerauth *pa;

static const struct svrcert_config *config_of(struct daemon *d)
{
	static struct svrcert_config none;	/* no peers, no listen */

	return d->env.have_cfg ? &d->env.cfg : &none;
}

int daemon_peers_start(struct daemon *d)
{
	struct peerauth_params p = { .cfg = config_of(d), .st = &d->env.st,
				     .audit = &d->env.audit };
	char err[512];
	int ret;

	ret = peerauth_new(&p, &pa, err, sizeof(err));
	if (ret && p.cfg->listen.host) {
		/* Calling the peers still works without listening; the next
		 * reload tries the listen address again. The copy shares the
		 * configuration's strings and is replaced at that reload. */
		static struct svrcert_config no_listen;

		syslog(LOG_ERR, "peer authentication: %s; not listening", err);
		no_listen = *p.cfg;
		no_listen.listen.host = NULL;
		p.cfg = &no_listen;
		ret = peerauth_new(&p, &pa, err, sizeof(err));
	}
	if (ret) {
		syslog(LOG_ERR, "peer authentication not started: %s", err);
		pa = NULL;
		return ret;
	}
	if (peerauth_listen_port(pa))
		syslog(LOG_INFO, "peer authentication: %zu peer(s), listening "
		       "on port %u", p.cfg->n_peers, peerauth_listen_port(pa));
	else
		syslog(LOG_INFO, "peer authentication: %zu peer(s), not "
		       "listening", p.cfg->n_peers);
	return 0;
}

void daemon_peers_stop(void)
{
	/* The kernel keeps the bindings: the data path does not depend on
	 * the daemon running. */
	peerauth_free(pa);
	pa = NULL;
}

size_t daemon_peers_pollfds(struct pollfd *fds, size_t max)
{
	return pa ? peerauth_pollfds(pa, fds, max) : 0;
}

int daemon_peers_timeout_ms(void)
{
	return pa ? peerauth_timeout_ms(pa) : -1;
}

void daemon_peers_process(const struct pollfd *fds, size_t n)
{
	if (pa)
		peerauth_process(pa, fds, n);
	daemon_crl_peers_judged(pa);	/* learn keys judged revoked/expired */
}

void daemon_peers_reload(struct daemon *d)
{
	char err[512];

	if (!pa) {
		daemon_peers_start(d);
		return;
	}
	if (peerauth_reconfigure(pa, config_of(d), err, sizeof(err)))
		syslog(LOG_ERR, "peer authentication: %s", err);
}

void daemon_peers_check(void)
{
	if (pa)
		peerauth_check_own_cert(pa);
}

void daemon_peers_kernel_reloaded(void)
{
	int n;

	if (!pa)
		return;
	n = peerauth_rebind_all(pa);
	syslog(LOG_NOTICE, "svrcert.ko (re)loaded: %d peer(s) bound again", n);
}

void daemon_peers_crl_updated(void)
{
	int changed;

	if (!pa)
		return;
	changed = peerauth_crl_updated(pa);
	if (changed)
		syslog(LOG_NOTICE, "CRL update changed %d peer(s)", changed);
}

json_t *daemon_peers_json(void)
{
	if (!pa)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "peer authentication is not running");
	return peerauth_status_json(pa);
}

json_t *daemon_peers_alarms_json(void)
{
	return pa ? peerauth_alarms_json(pa) : json_array();
}
