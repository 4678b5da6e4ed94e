// SPDX-License-Identifier: GPL-2.0
/* svrcertd's peer authentication: see daemon_peers.h. Its state is
 * d->peers. */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>

#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_peers.h"

static const struct svrcert_config *config_of(struct daemon *d)
{
	static const struct svrcert_config none;	/* no peers, no listen */

	return d->env.have_cfg ? &d->env.cfg : &none;
}

int daemon_peers_start(struct daemon *d)
{
	struct peerauth_params p = { .cfg = config_of(d), .st = &d->env.st,
				     .audit = &d->env.audit, .held = &d->held };
	struct daemon_peers *dp = &d->peers;
	char err[512];
	int ret;

	ret = peerauth_new(&p, &dp->pa, err, sizeof(err));
	if (ret && p.cfg->listen.host) {
		/* Calling the peers still works without listening; the next
		 * reload tries the listen address again. The copy shares the
		 * configuration's strings and is replaced at that reload. */
		syslog(LOG_ERR, "peer authentication: %s; not listening", err);
		dp->no_listen = *p.cfg;
		dp->no_listen.listen.host = NULL;
		p.cfg = &dp->no_listen;
		ret = peerauth_new(&p, &dp->pa, err, sizeof(err));
	}
	if (ret) {
		syslog(LOG_ERR, "peer authentication not started: %s", err);
		dp->pa = NULL;
		return ret;
	}
	if (peerauth_listen_port(dp->pa))
		syslog(LOG_INFO, "peer authentication: %zu peer(s), listening "
		       "on port %u", p.cfg->n_peers, peerauth_listen_port(dp->pa));
	else
		syslog(LOG_INFO, "peer authentication: %zu peer(s), not "
		       "listening", p.cfg->n_peers);
	return 0;
}

void daemon_peers_stop(struct daemon *d)
{
	/* The kernel keeps the bindings: the data path does not depend on
	 * the daemon running. */
	peerauth_free(d->peers.pa);
	d->peers.pa = NULL;
}

size_t daemon_peers_pollfds(struct daemon *d, struct pollfd *fds, size_t max)
{
	return d->peers.pa ? peerauth_pollfds(d->peers.pa, fds, max) : 0;
}

int daemon_peers_timeout_ms(struct daemon *d)
{
	return d->peers.pa ? peerauth_timeout_ms(d->peers.pa) : -1;
}

void daemon_peers_process(struct daemon *d, const struct pollfd *fds,
			  size_t n)
{
	if (d->peers.pa)
		peerauth_process(d->peers.pa, fds, n);
	/* Learn the keys judged revoked/expired. */
	daemon_crl_peers_judged(d, d->peers.pa);
}

void daemon_peers_reload(struct daemon *d)
{
	char err[512];

	if (!d->peers.pa) {
		daemon_peers_start(d);
		return;
	}
	if (peerauth_reconfigure(d->peers.pa, config_of(d), err, sizeof(err)))
		syslog(LOG_ERR, "peer authentication: %s", err);
	/* Keys agreed under peer-keys = yes do not outlive it. */
	if (!config_of(d)->peer_keys)
		peerauth_keys_cut_all(d->peers.pa, "peer-keys turned off");
}

void daemon_peers_check(struct daemon *d)
{
	if (d->peers.pa)
		peerauth_check_own_cert(d->peers.pa);
}

void daemon_peers_kernel_reloaded(struct daemon *d)
{
	int n;

	if (!d->peers.pa)
		return;
	n = peerauth_rebind_all(d->peers.pa);
	syslog(LOG_NOTICE, "svrcert.ko (re)loaded: %d peer(s) bound again", n);
}

void daemon_peers_crl_updated(struct daemon *d)
{
	int changed;

	if (!d->peers.pa)
		return;
	changed = peerauth_crl_updated(d->peers.pa);
	if (changed)
		syslog(LOG_NOTICE, "CRL update changed %d peer(s)", changed);
}

json_t *daemon_peers_json(struct daemon *d)
{
	if (!d->peers.pa)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "peer authentication is not running");
	return peerauth_status_json(d->peers.pa);
}

json_t *daemon_peers_alarms_json(struct daemon *d)
{
	return d->peers.pa ? peerauth_alarms_json(d->peers.pa) : json_array();
}

json_t *daemon_peers_rekey_json(struct daemon *d, const char *peer)
{
	int n;

	if (!d->peers.pa)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "peer authentication is not running");
	n = peerauth_rekey(d->peers.pa, peer);
	if (n == -EOPNOTSUPP)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "peer keys are off ([daemon] peer-keys)");
	if (n < 0)
		return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
				 "no such peer", "peer", peer);
	syslog(LOG_NOTICE, "peer keys: rekey of %s requested", peer ? peer : "every peer");
	return json_pack("{s:b, s:i}", "ok", 1, "peers", n);
}

void daemon_peers_own_state(struct daemon *d)
{
	const struct own_cert_status *s = &d->status;
	char why[160];

	/* fail-hard as the kernel has it: svrcertctl set's override too */
	if (!d->peers.pa || !d->env.have_cfg || !s->present ||
	    s->state == SVRCERT_STATE_VALID ||
	    !peerauth_fail_hard(d->peers.pa))
		return;
	snprintf(why, sizeof(why), "this router's own certificate is %s (fail-hard)",
		 cert_state_name(s->state));
	peerauth_keys_cut_all(d->peers.pa, why);
}
