// SPDX-License-Identifier: GPL-2.0
/* svrcertd's conductor role: daemon_conductor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include <openssl/evp.h>

#include "conductor/conductor.h"
#include "crl/crl_master.h"
#include "lib/util.h"
#include "daemon.h"
#include "daemon_conductor.h"

#define RETRY_MS	1000

/* What the running conductor was started with (a digest of it): a reload
 * that changes none of it keeps the routers' connections. */
static void settings(const struct daemon *d, uint8_t out[32])
{
	const struct svrcert_config *c = &d->env.cfg;
	char *text = NULL;
	int n;

	n = asprintf(&text, "%d %s %u %u %u %s %s %d %u %s",
		     d->env.have_cfg && c->conductor,
		     c->conductor_listen.host ?: "", c->conductor_listen.port,
		     c->conductor_conns, c->conductor_wait_s, d->env.st.dir,
		     c->router_name ?: "", (int)d->env.key_storage,
		     d->env.tpm_handle, d->env.tcti ?: "");
	memset(out, 0, 32);
	if (n > 0)
		EVP_Digest(text, (size_t)n, out, NULL, EVP_sha256(), NULL);
	free(text);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A file's identity: rewritten by rename, so inode, time and size. */
static uint64_t stamp_of(const char *path, bool *exists)
{
	struct stat sb;

	*exists = !stat(path, &sb);
	return *exists ? (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
			 (uint64_t)sb.st_mtim.tv_nsec + sb.st_ino +
			 (uint64_t)sb.st_size : 0;
}

/* The own certificate's: a new one (import) is a new TLS identity. */
static uint64_t cert_stamp(const struct daemon *d)
{
	char path[4200];
	bool exists;

	store_path(&d->env.st, STORE_CERT, path, sizeof(path));
	return stamp_of(path, &exists);
}

void daemon_conductor_start(struct daemon *d)
{
	struct daemon_conductor *dc = &d->conductor;
	struct conductor_params p = {
		.cfg = &d->env.cfg, .st = &d->env.st, .audit = &d->env.audit,
		.storage = d->env.key_storage, .tpm_handle = d->env.tpm_handle,
		.tcti = d->env.tcti, .held = &d->held,
	};
	struct conductor_stats s;
	char err[512];

	settings(d, dc->settings);
	dc->cert_stamp = cert_stamp(d);
	dc->have_master = false;
	if (!d->env.have_cfg || !d->env.cfg.conductor || dc->c)
		return;
	if (conductor_start(&dc->c, &p, err, sizeof(err))) {
		syslog(LOG_ERR, "conductor not started: %s", err);
		snprintf(dc->error, sizeof(dc->error), "%s", err);
		return;
	}
	dc->error[0] = '\0';
	dc->started = time(NULL);
	conductor_stats(dc->c, &s);
	syslog(LOG_INFO, "conductor: listening on %s port %u, at most %u "
	       "routers, long-polls held up to %u s",
	       d->env.cfg.conductor_listen.host, s.port, s.max_conns,
	       d->env.cfg.conductor_wait_s);
	dc->retry_ms = 0;
}

void daemon_conductor_stop(struct daemon *d)
{
	conductor_stop(d->conductor.c);
	d->conductor.c = NULL;
}

void daemon_conductor_reload(struct daemon *d)
{
	uint8_t now[sizeof(d->conductor.settings)];

	settings(d, now);
	if (d->conductor.c && !memcmp(now, d->conductor.settings, sizeof(now)))
		return;
	daemon_conductor_stop(d);
	daemon_conductor_start(d);
}

size_t daemon_conductor_pollfds(struct daemon *d, struct pollfd *fds,
				size_t max)
{
	if (!d->conductor.c || !max)
		return 0;
	fds[0] = (struct pollfd){ .fd = conductor_fd(d->conductor.c),
				  .events = POLLIN };
	return 1;
}

int daemon_conductor_timeout_ms(struct daemon *d)
{
	struct daemon_conductor *dc = &d->conductor;
	int t;

	if (!dc->c)
		return -1;
	t = conductor_timeout_ms(dc->c);
	/* master.bin and cert.pem are looked at every turn, and at least
	 * once a second when nothing else wakes the loop. */
	return t < 0 || t > RETRY_MS ? RETRY_MS : t;
}

/* The published master list, when it changed since the last one handed
 * over (or that one could not be taken). */
static void follow_master(struct daemon *d)
{
	struct daemon_conductor *dc = &d->conductor;
	struct svrcert_master m = { 0 };
	char path[4200], err[512];
	bool exists, side;
	uint64_t st;
	int ret;

	/* the list is master.bin and master.delta (crl_master.h) */
	store_path(&d->env.st, SVRCERT_MASTER_DELTA, path, sizeof(path));
	st = stamp_of(path, &side) * 3;
	store_path(&d->env.st, SVRCERT_MASTER_FILE, path, sizeof(path));
	st += stamp_of(path, &exists);
	if (!exists || (dc->have_master && st == dc->master_stamp) ||
	    (dc->retry_ms && mono_ms() < dc->retry_ms))
		return;
	ret = svrcert_master_load(path, &m, err, sizeof(err));
	if (!ret) {
		ret = conductor_master(dc->c, m.keys, m.n, err, sizeof(err));
		svrcert_master_release(&m);
	}
	if (ret < 0) {	/* the journal could not be written: again soon */
		syslog(LOG_ERR, "conductor: master list not taken (retrying): "
		       "%s", err);
		dc->retry_ms = mono_ms() + RETRY_MS;
		return;
	}
	dc->retry_ms = 0;
	dc->master_stamp = st;
	dc->have_master = true;
}

void daemon_conductor_process(struct daemon *d, const struct pollfd *fds,
			      size_t n)
{
	struct daemon_conductor *dc = &d->conductor;

	/* Not started for want of a certificate: an import starts it. */
	if (!dc->c && d->env.have_cfg && d->env.cfg.conductor &&
	    cert_stamp(d) != dc->cert_stamp)
		daemon_conductor_start(d);
	if (!dc->c)
		return;
	if (cert_stamp(d) != dc->cert_stamp) {
		syslog(LOG_NOTICE, "conductor: own certificate replaced: "
		       "serving with the new one");
		daemon_conductor_stop(d);
		daemon_conductor_start(d);
		if (!dc->c)
			return;
	}
	conductor_process(dc->c);
	follow_master(d);
}

static json_t *iso_time(time_t t)
{
	char buf[40];

	svrcert_time_iso8601(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *stats_json(const struct conductor_stats *s)
{
	char epoch[33];

	svrcert_hex(s->epoch, sizeof(s->epoch), epoch);
	return json_pack("{s:I, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I}, "
			 "s:{s:I, s:I, s:I, s:I, s:I}}",
			 "port", (json_int_t)s->port, "epoch", epoch,
			 "generation", (json_int_t)s->generation,
			 "generation_time", iso_time((time_t)s->gen_time),
			 "keys", (json_int_t)s->keys,
			 "max_connections", (json_int_t)s->max_conns,
			 "connections", (json_int_t)s->connections,
			 "waiting", (json_int_t)s->waiting,
			 "accepted", (json_int_t)s->accepted,
			 "signatures", (json_int_t)s->signatures,
			 "answers", "full", (json_int_t)s->full,
			 "delta", (json_int_t)s->deltas,
			 "not_modified", (json_int_t)s->not_modified,
			 "held", (json_int_t)s->held,
			 "files", (json_int_t)s->files,
			 "errors", (json_int_t)s->errors,
			 "bytes", "sent", (json_int_t)s->bytes_sent,
			 "received", (json_int_t)s->bytes_received,
			 "refused", "revoked", (json_int_t)s->refused_revoked,
			 "expired", (json_int_t)s->refused_expired,
			 "not_yet_valid", (json_int_t)s->refused_not_yet_valid,
			 "untrusted", (json_int_t)s->refused_untrusted,
			 "over_limit", (json_int_t)s->rejected);
}

json_t *daemon_conductor_json(struct daemon *d)
{
	const struct daemon_conductor *dc = &d->conductor;
	const struct svrcert_config *c = &d->env.cfg;
	struct conductor_stats s;
	json_t *o, *st;

	if (!d->env.have_cfg || !c->conductor)
		return json_null();
	o = json_pack("{s:s, s:s, s:b}", "listen", c->conductor_listen.host ?
		      c->conductor_listen.host : "", "name", c->router_name ?
		      c->router_name : "", "running", dc->c != NULL);
	if (!dc->c) {
		json_object_set_new(o, "error", json_string(dc->error[0] ?
				    dc->error : "not started"));
		return o;
	}
	conductor_stats(dc->c, &s);
	json_object_set_new(o, "since", iso_time(dc->started));
	st = stats_json(&s);
	json_object_update(o, st);
	json_decref(st);
	return o;
}
