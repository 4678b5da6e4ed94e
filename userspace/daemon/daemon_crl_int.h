/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CRL manager's internals, shared by daemon_crl*.c. Its state is one
 * struct crl_mgr (d->crl), handed to each function that needs it.
 */
#ifndef SVRCERTD_DAEMON_CRL_INT_H
#define SVRCERTD_DAEMON_CRL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "lib/counters.h"
#include "crl/crl_discover.h"
#include "crl/crl_fetch.h"
#include "crl/crl_gendoc.h"
#include "crl/crl_learned.h"
#include "crl/crl_master.h"
#include "crl/crl_source.h"
#include "daemon.h"

enum crl_alarm_kind { CRL_ALARM_UNREACHABLE, CRL_ALARM_STALE,
		      CRL_ALARM_INVALID, CRL_ALARM_ISSUER, CRL_ALARM__MAX };

/* What the kernel holds, as far as the daemon knows. */
struct crl_kernel {
	bool fed;		/* the family below holds our master list */
	int family;		/* genetlink family id we fed, 0 = none */
	uint32_t live;		/* key count the kernel reported */
	char msg[256];		/* last outcome, for status and logs */
	int watch_fd;		/* nlctrl "notify" group, -1 if unavailable */
	void *watch_sk;		/* struct nl_sock * */
	bool watch_hit;		/* family svrcert came or went (watch_read) */
};

/* The learned source (daemon_crl_learn.c). */
struct crl_learn {
	struct svrcert_learned l;
	bool save_pending;	/* learned.json could not be written yet */
	bool scan_pending;	/* look at the kernel's peers */
	uint64_t judged;	/* peer authentication's revoked + expired
				 * judgements when last looked at */
	unsigned int scans;	/* kernel peer table scans so far */
	char last[200];		/* last key learned, for status */
	int events_fd;		/* svrcert "events" group, -1 if not joined */
	void *events_sk;	/* struct nl_sock * */
	int events_family;	/* family id the group belongs to */
	bool events_hit;	/* crl_events_read(): a peer revoked/expired */
	const char *scan_via;	/* who asked for the next scan */
};

/* One configured URL and its schedule. */
struct crl_src {
	struct svrcert_crl_source s;
	bool discovered;	/* from a certificate's CRL distribution point */
	time_t due;		/* CLOCK_MONOTONIC s: next fetch starts */
	bool in_flight;
	bool forced;		/* this transfer: operator's --force */
	bool invalid;		/* the last body received was rejected */
	bool unreachable;	/* the last transfer failed */
	unsigned int attempts;	/* transfers finished since start */
	time_t last_fetch;	/* wall clock of the last result */
	char result[400];	/* last result, one line */
	bool alarm[CRL_ALARM__MAX];
	time_t alarm_raised[CRL_ALARM__MAX];
	/* The delta CRL at the held CRL's freshestCRL (daemon_crl_delta.c);
	 * res->user of its transfers is &delta_tag. */
	char delta_tag;
	bool delta_in_flight;
	bool delta_invalid;	/* the last delta received was rejected */
	bool delta_unreachable;	/* the last delta transfer failed */
	time_t delta_due;	/* CLOCK_MONOTONIC s */
	char delta_result[400];
};

/* The [crl] conductor source (daemon_crl_conductor.c). */
#define CRL_CONDUCTOR_HELD_FILE	"conductor-held.bin"
#define CRL_CONDUCTOR_WAIT_S	60	/* the long-poll's wait= */
#define CRL_CONDUCTOR_FALLBACK_AFTER 3	/* failures in a row: the CRL
					 * sources are fetched again */
struct crl_conductor {
	char url[2100];		/* https://host:port; "" = not configured */
	char name[SVRCERT_GENDOC_NAME_MAX + 1]; /* identity it must have */
	struct svrcert_gen_held held;	/* also in CRL_CONDUCTOR_HELD_FILE */
	bool save_pending;	/* the held file could not be written yet */
	bool in_flight;
	bool resync;		/* a delta did not apply: ask for the full set */
	bool unreachable;	/* the last transfer failed */
	bool refused;		/* the last answer was 403 */
	bool invalid;		/* the last document was rejected */
	int64_t due_ms;		/* CLOCK_MONOTONIC ms: next request */
	int64_t started_ms;	/* the request in flight or last made */
	unsigned int failures;	/* consecutive, for the backoff */
	unsigned int attempts;
	time_t last_fetch;
	char result[700];
	/* For show conductor: since start, what the answers were. */
	time_t last_ok, last_failure;
	char failure[700];	/* the last failure's result */
	unsigned long fulls, deltas, not_modified, resyncs, rejected;
	uint64_t bytes;		/* documents received (bodies) */
	char etag[256];		/* of the held generation, for If-None-Match */
	char tls_why[400];	/* why TLS setup or the server check failed */
	bool alarm[CRL_ALARM__MAX];
	time_t alarm_raised[CRL_ALARM__MAX];
	char tag;		/* res->user of its transfers */
};

struct crl_mgr {
	bool started;
	struct daemon *d;
	struct svrcert_fetcher *f;
	struct crl_src *src;
	size_t n;
	struct svrcert_master master;	/* in force: kernel + published */
	bool have_master;
	/* What master.bin on disk holds, and the master's change since:
	 * small changes are published as master.delta (crl_keydelta.h). */
	struct svrcert_keylog publog;
	struct crl_kernel kernel;
	time_t next_kernel_check;	/* CLOCK_MONOTONIC s */
	size_t nfds_curl;
	bool publish_pending, reload_pending, alarms_dirty;
	/* The master list changed: judge the own certificate again once it
	 * is published (the check reads the published state). */
	bool own_check_pending;
	unsigned int pending[CNT__MAX];	/* counts not yet persisted */
	struct crl_learn learn;
	struct crl_conductor cond;
	bool fallback;		/* the conductor failed: sources fetched */
	/* CRL discovery (daemon_crl_discover.c): the URLs followed, who
	 * refers to each; what was last said about those not followed. */
	struct svrcert_discover *disc;
	size_t disc_over;
	uint64_t disc_judged;	/* peer judgements when last looked */
	time_t disc_next;	/* CLOCK_MONOTONIC s: look at own cert, CAs */
	char disc_ignored_logged[512], disc_over_logged[512];
};

/* D's CRL manager, NULL when not running. */
static inline struct crl_mgr *crl_of(struct daemon *d)
{
	return d->crl && d->crl->started ? d->crl : NULL;
}

time_t crl_mono(void);

/* daemon_crl_status.c: raise/clear the CRL alarms (syslog, and
 * STATE_DIR/crl-alarms.json atomically) from the sources' states. */
#define CRL_ALARMS_FILE	"crl-alarms.json"
void crl_alarms_sync(struct crl_mgr *crl);
const char *crl_src_state(const struct crl_src *c, time_t now);

/* Replace the kernel's revocation set with M (atomic swap). */
int crl_kernel_load(struct crl_kernel *k, const struct svrcert_master *m);

/* Move the kernel from OLD to NEW: one atomic APPLY_KEYS_DELTA when the
 * difference fits one message and the kernel is known to hold OLD, else a
 * bulk load and swap (svrcert_nl_feed_plan()). */
int crl_kernel_apply(struct crl_kernel *k, const struct svrcert_master *old,
		     const struct svrcert_master *nw);
/* The same, the change ADDED / REMOVED (sorted) known: NW is the list it
 * leads to (swapped in whole when a delta will not do). */
int crl_kernel_apply_change(struct crl_kernel *k,
			    const svrcert_revkey_t *added, size_t na,
			    const svrcert_revkey_t *removed, size_t nr,
			    bool old_known, const struct svrcert_master *nw);

/* The current id of family "svrcert", 0 when absent, -errno on error. */
int crl_kernel_family(void);

/* Subscribe to the genetlink controller's notifications. -errno. */
int crl_kernel_watch_open(struct crl_kernel *k);
void crl_kernel_watch_close(struct crl_kernel *k);
/* Drain the notifications; true when family "svrcert" (re)appeared or
 * went away. */
bool crl_kernel_watch_read(struct crl_kernel *k);

/* daemon_crl_commit.c: rebuild the master list (sources + learned keys +
 * the conductor's), feed the kernel, publish; or, when only the
 * conductor's held set changed by a delta (ADDED / REMOVED, applied
 * already), move the master list in place by what that changes, in
 * proportion to the change. */
int crl_commit(struct crl_mgr *crl, size_t *added, size_t *removed);
int crl_commit_held_change(struct crl_mgr *crl, const svrcert_revkey_t *added,
			   size_t nadded, const svrcert_revkey_t *removed,
			   size_t nremoved, size_t *madded, size_t *mremoved);
int crl_publish(struct crl_mgr *crl, const struct svrcert_master *m);
unsigned int crl_polling_s(const struct crl_mgr *crl);
unsigned int crl_backoff_s(const struct crl_mgr *crl);
/* daemon_crl_common.c: count C (persisted by crl_flush_counters, on a
 * later turn if the state lock is busy); the installed trusted CAs, read
 * now (an empty stack when none). */
void crl_count(struct crl_mgr *crl, enum svrcert_counter c);
void crl_flush_counters(struct crl_mgr *crl);
STACK_OF(X509) *crl_trusted_certs(const struct crl_mgr *crl);
void crl_audit_update(struct crl_mgr *crl, struct crl_src *c,
		      bool success, size_t size, size_t added,
		      size_t removed, const char *why);

/* daemon_crl_common.c: the master list in force lent to the judges
 * (d->held, pki/held_revs.h), at every change of it; after a publish, the
 * files written vouched for. */
void crl_held_lend(struct crl_mgr *crl);
void crl_held_vouch(struct crl_mgr *crl);

/* daemon_crl_delta.c: delta CRLs (RFC 5280 5.2.4, 5.2.6). */
bool crl_delta_wanted(const struct crl_src *c);	/* has a freshestCRL */
void crl_delta_process(struct crl_mgr *crl);	/* start due fetches */
/* RES of a delta transfer is handled (true), or not one (false). */
bool crl_delta_done(struct crl_mgr *crl, struct svrcert_fetch_result *res);
json_t *crl_delta_json(const struct crl_src *c);

/* daemon_crl_discover.c: the discovered URLs (crl->disc). update/process
 * return true when they changed (the sources are to be set again). */
void crl_discover_start(struct crl_mgr *crl);	/* + crl-discovered.json */
void crl_discover_stop(struct crl_mgr *crl);
bool crl_discover_update(struct crl_mgr *crl);
bool crl_discover_process(struct crl_mgr *crl);
json_t *crl_discover_refs_json(const struct crl_mgr *crl, const char *url);
json_t *crl_discover_json(const struct crl_mgr *crl);

/* daemon_crl_conductor.c: the [crl] conductor source. */
void crl_cond_start(struct crl_mgr *crl);	/* + its held file */
void crl_cond_stop(struct crl_mgr *crl);
/* The configuration changed: true when the conductor did (its held state
 * is dropped; the caller commits). */
bool crl_cond_reload(struct crl_mgr *crl);
/* A conductor is configured and answers (fewer than
 * CRL_CONDUCTOR_FALLBACK_AFTER failures in a row): the CRL sources stand
 * by (no fetches of their own). */
bool crl_cond_standby(const struct crl_mgr *crl);
void crl_cond_process(struct crl_mgr *crl);	/* start the request */
/* Sources due at once when the conductor has just failed enough. */
void crl_cond_fallback(struct crl_mgr *crl);
/* *KEYS / *N (malloc'd, sorted) plus the held keys. 0 or -ENOMEM. */
int crl_cond_add_keys(const struct crl_mgr *crl, svrcert_revkey_t **keys,
		      size_t *n);
int crl_cond_timeout_ms(const struct crl_mgr *crl);
/* RES of the conductor's transfer is handled (true), or not one. */
bool crl_cond_done(struct crl_mgr *crl, struct svrcert_fetch_result *res);
bool crl_cond_alarm_wanted(const struct crl_conductor *c,
			   enum crl_alarm_kind k);
void crl_cond_alarm_message(const struct crl_conductor *c,
			    enum crl_alarm_kind k, char *buf, size_t len);
json_t *crl_cond_json(const struct crl_mgr *crl);

/* daemon_crl_learn.c */
void crl_learn_start(struct crl_mgr *crl);	/* load learned.json */
void crl_learn_stop(struct crl_mgr *crl);
void crl_learn_process(struct crl_mgr *crl);	/* events, scans, saving */
/* svrcert.ko's family is FAMILY now (0: gone): (re)join the events group. */
void crl_learn_kernel_changed(struct crl_mgr *crl, int family);
json_t *crl_learn_json(const struct crl_mgr *crl);

/* daemon_crl_events.c: the kernel's data-path events. */
int crl_events_open(struct crl_learn *lr, int family);
void crl_events_close(struct crl_learn *lr);
/* Drain; true when a peer was first seen revoked or expired, or events
 * were lost. */
bool crl_events_read(struct crl_learn *lr);

#endif
