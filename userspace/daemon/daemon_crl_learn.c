// SPDX-License-Identifier: GPL-2.0
/*
 * The CRL manager's learned source: revocation keys of peer certificates
 * found revoked or expired at runtime (crl_learned.h for what is kept and
 * why only keys learned revoked join the master list).
 *
 * Where they come from: every judged peer is bound in svrcert.ko with its
 * certificate, and the kernel reports each peer's revocation key, the state
 * userspace gave it and its verdict reason now. So the two findings --
 * peer authentication judging a certificate revoked or expired, and the
 * data path seeing a peer's first revoked or expired packet (an event on
 * the "events" group) -- both end in one look at the kernel's peer table,
 * and one code path learns from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "lib/audit.h"
#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_crl_int.h"
#include "daemon_peers.h"
#include "netlink/nl.h"
#include "lib/util.h"

#define VIA_PEERAUTH	"peer-authentication"
#define VIA_KERNEL	"kernel"

static void learned_path(const struct crl_mgr *crl, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", crl->d->env.st.dir, SVRCERT_LEARNED_FILE);
}

static void save(struct crl_mgr *crl)
{
	char path[4200], err[512];

	learned_path(crl, path, sizeof(path));
	crl->learn.save_pending = svrcert_learned_save(path, &crl->learn.l, err,
						      sizeof(err)) != 0;
	if (crl->learn.save_pending)
		syslog(LOG_ERR, "CRL: learned keys not saved (retrying): %s",
		       err);
}

/* system.crl_update for the learned source, with the seed's fields. */
static void audit_learned(struct crl_mgr *crl, const char *via,
			  const char *peers, size_t added, size_t removed)
{
	char when[40], url[48], desc[300];
	json_t *detail;

	svrcert_crl_time_text(time(NULL), when, sizeof(when));
	snprintf(url, sizeof(url), "learned:%s", via);
	detail = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:s}",
			   "forced", 0, "last_updated", when, "next_update", "",
			   "crl_url", url, "size", (json_int_t)0,
			   "total_entries", (json_int_t)svrcert_learned_count(
				&crl->learn.l, SVRCERT_LEARNED_REVOKED),
			   "added_entries", (json_int_t)added,
			   "removed_entries", (json_int_t)removed,
			   "success", 1, "certificate_authority", "");
	snprintf(desc, sizeof(desc), "Learned revoked certificate(s) of %.200s",
		 peers);
	if (detail)
		audit_event(&crl->d->env.audit, SVRCERT_AUDIT_CRL_UPDATE, desc,
			    detail, true);
}

/* Persist first, then (when a revoked key came in) the master list. */
static void learned_changed(struct crl_mgr *crl, bool master,
			    const char *via, const char *peers)
{
	size_t added = 0, removed = 0;

	save(crl);
	if (!master) {
		crl->publish_pending = true;	/* index.json's counts */
		return;
	}
	crl_commit(crl, &added, &removed);
	syslog(LOG_NOTICE, "CRL: learned revoked (%s, via %s): master list +%zu "
	       "-%zu keys, %s", peers, via, added, removed, crl->kernel.msg);
	audit_learned(crl, via, peers, added, removed);
	daemon_peers_crl_updated(crl->d);
}

static int learn_one(struct crl_mgr *crl, const uint8_t key[32],
		     enum svrcert_learned_reason why, const char *peer,
		     const char *via)
{
	char hex[2 * SVRCERT_REVKEY_LEN + 1];
	int ret = svrcert_learned_add(&crl->learn.l, key, why, peer, via,
				      time(NULL));

	if (ret <= 0)
		return ret;
	svrcert_hex(key, SVRCERT_REVKEY_LEN, hex);
	snprintf(crl->learn.last, sizeof(crl->learn.last), "%s %s (peer %.63s, "
		 "via %.23s)", svrcert_learned_reason_name(why), hex,
		 peer && *peer ? peer : "-", via ? via : "-");
	syslog(LOG_NOTICE, "CRL: learned %s", crl->learn.last);
	return 1;
}

int daemon_crl_learn(struct daemon *d, const uint8_t key[32],
		     enum svrcert_learned_reason why, const char *peer,
		     const char *via, char *err, size_t errlen)
{
	struct crl_mgr *crl = crl_of(d);
	int ret;

	if (!crl) {
		snprintf(err, errlen, "the CRL manager is not running");
		return -ESRCH;
	}
	ret = learn_one(crl, key, why, peer, via);
	if (ret < 0) {
		snprintf(err, errlen, "cannot learn a key: %s", strerror(-ret));
		return ret;
	}
	if (ret)
		learned_changed(crl, why == SVRCERT_LEARNED_REVOKED,
				via ? via : "-", peer && *peer ? peer : "-");
	return ret;
}

/* ---- the kernel's peer table ------------------------------------------ */

struct found {
	char name[SVRCERT_PEER_NAME_MAX + 1];
	uint8_t key[SVRCERT_KEY_LEN];
	enum svrcert_learned_reason why;
};

struct found_list {
	struct found v[256];	/* per scan; the rest at the next one */
	size_t n;
};

static int found_cb(const struct svrcert_peer_info *p, void *arg)
{
	static const uint8_t zero[SVRCERT_KEY_LEN];
	struct found_list *fl = arg;
	enum svrcert_learned_reason why;

	if (p->state == SVRCERT_STATE_REVOKED ||
	    p->reason == SVRCERT_REASON_REVOKED)
		why = SVRCERT_LEARNED_REVOKED;
	else if (p->state == SVRCERT_STATE_EXPIRED ||
		 p->reason == SVRCERT_REASON_EXPIRED)
		why = SVRCERT_LEARNED_EXPIRED;
	else
		return 0;
	if (!memcmp(p->revkey, zero, sizeof(zero)) ||	/* no certificate */
	    fl->n == SVRCERT_ARRAY_SIZE(fl->v))
		return 0;
	snprintf(fl->v[fl->n].name, sizeof(fl->v[0].name), "%s", p->name);
	memcpy(fl->v[fl->n].key, p->revkey, SVRCERT_KEY_LEN);
	fl->v[fl->n++].why = why;
	return 0;
}

static int dump_peers(struct found_list *fl)
{
	struct svrcert_nl *nl;
	int ret = svrcert_nl_open(&nl), tries;

	if (ret)
		return ret;
	for (tries = 0; tries < 3; tries++) {
		fl->n = 0;
		ret = svrcert_nl_peers_dump(nl, found_cb, fl);
		if (ret != -EAGAIN)	/* table changed during the dump */
			break;
	}
	svrcert_nl_close(nl);
	return ret;
}

static void scan_kernel(struct crl_mgr *crl)
{
	struct found_list *fl = calloc(1, sizeof(*fl));
	char peers[200] = "";
	bool any = false, master = false;
	int ret;

	crl->learn.scan_pending = false;
	if (!fl)
		return;
	ret = dump_peers(fl);
	crl->learn.scans++;
	if (ret && ret != -ENOENT)
		syslog(LOG_WARNING, "CRL: cannot read the kernel's peers: %s",
		       strerror(-ret));
	for (size_t i = 0; !ret && i < fl->n; i++) {
		if (learn_one(crl, fl->v[i].key, fl->v[i].why, fl->v[i].name,
			      crl->learn.scan_via) <= 0)
			continue;
		any = true;
		master |= fl->v[i].why == SVRCERT_LEARNED_REVOKED;
		snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers),
			 "%s%s", *peers ? ", " : "", fl->v[i].name);
	}
	if (any)
		learned_changed(crl, master, crl->learn.scan_via, peers);
	crl->learn.scan_via = VIA_KERNEL;
	free(fl);
}

void daemon_crl_peers_judged(struct daemon *d, const struct peerauth *pa)
{
	struct crl_mgr *crl = crl_of(d);
	uint64_t n;

	if (!crl || !pa)
		return;
	n = peerauth_counter(pa, PA_CNT_REVOKED) +
	    peerauth_counter(pa, PA_CNT_EXPIRED);
	if (n == crl->learn.judged)
		return;
	crl->learn.judged = n;
	crl->learn.scan_pending = true;
	crl->learn.scan_via = VIA_PEERAUTH;
}

/* ---- start, loop, status ---------------------------------------------- */

void crl_learn_start(struct crl_mgr *crl)
{
	char path[4200], aside[4300], err[512];
	int ret;

	crl->learn.events_fd = -1;
	crl->learn.scan_via = VIA_KERNEL;
	learned_path(crl, path, sizeof(path));
	ret = svrcert_learned_load(path, &crl->learn.l, err, sizeof(err));
	if (!ret) {
		syslog(LOG_INFO, "CRL: %zu learned key(s) (%zu revoked)",
		       crl->learn.l.n, svrcert_learned_count(&crl->learn.l,
						SVRCERT_LEARNED_REVOKED));
	} else if (ret != -ENOENT) {
		/* Keep the evidence; the peers are learned again when seen. */
		snprintf(aside, sizeof(aside), "%s.damaged", path);
		rename(path, aside);
		syslog(LOG_ERR, "CRL: learned keys unusable, moved to %s: %s",
		       aside, err);
	}
	ret = crl_kernel_family();
	crl_learn_kernel_changed(crl, ret > 0 ? ret : 0);
}

void crl_learn_stop(struct crl_mgr *crl)
{
	crl_events_close(&crl->learn);
	svrcert_learned_release(&crl->learn.l);
}

void crl_learn_kernel_changed(struct crl_mgr *crl, int family)
{
	crl_events_close(&crl->learn);
	if (family <= 0)
		return;
	if (crl_events_open(&crl->learn, family))
		syslog(LOG_WARNING, "CRL: cannot join svrcert's events group; "
		       "learning from peer authentication only");
	crl->learn.scan_pending = true;	/* peers bound before we listened */
}

void crl_learn_process(struct crl_mgr *crl)
{
	if (crl->learn.scan_pending)
		scan_kernel(crl);
	if (crl->learn.save_pending)
		save(crl);
}

json_t *crl_learn_json(const struct crl_mgr *crl)
{
	const struct svrcert_learned *l = &crl->learn.l;
	json_t *keys = json_array();
	char hex[2 * SVRCERT_REVKEY_LEN + 1];

	for (size_t i = 0; i < l->n; i++) {
		svrcert_hex(l->v[i].key, SVRCERT_REVKEY_LEN, hex);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:o}",
			"key", hex, "reason",
			svrcert_learned_reason_name(l->v[i].reason),
			"peer", l->v[i].peer, "via", l->v[i].via,
			"learned", svrcert_json_time(l->v[i].learned)));
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:b, s:I, s:s, s:o}",
			 "file", SVRCERT_LEARNED_FILE,
			 "revoked", (json_int_t)svrcert_learned_count(l,
						SVRCERT_LEARNED_REVOKED),
			 "expired", (json_int_t)svrcert_learned_count(l,
						SVRCERT_LEARNED_EXPIRED),
			 "in_master", (json_int_t)svrcert_learned_count(l,
						SVRCERT_LEARNED_REVOKED),
			 "events", crl->learn.events_fd >= 0,
			 "scans", (json_int_t)crl->learn.scans,
			 "last", crl->learn.last, "keys", keys);
}
