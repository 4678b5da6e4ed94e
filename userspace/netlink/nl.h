/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libsvrcert netlink client: the userspace half of the generic netlink
 * family "svrcert" (include/uapi/linux/svrcert.h), built on libnl-genl-3.
 *
 * Used by svrcertctl, by svrcertd (to set this router's self-state and to
 * bind authenticated peers) and by the CRL manager (bulk key loads).
 *
 * Conventions:
 *   - every function returns 0 (or a count where said) or -errno;
 *   - a kernel error is returned as the kernel's -errno, and its extended
 *     ack message (if any) is kept for svrcert_nl_errmsg();
 *   - a handle is not thread-safe; use one per thread;
 *   - every operation needs CAP_NET_ADMIN (-EPERM otherwise).
 */
#ifndef SVRCERT_NL_H
#define SVRCERT_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <linux/svrcert.h>

struct svrcert_nl;

/*
 * Connect and resolve the family. -ENOENT: the family is absent (svrcert.ko
 * not loaded); svrcert_nl_open_errmsg() explains any failure.
 */
int svrcert_nl_open(struct svrcert_nl **out);
void svrcert_nl_close(struct svrcert_nl *nl);
/* Why the last svrcert_nl_open() in this thread failed (never NULL). */
const char *svrcert_nl_open_errmsg(void);

/*
 * The kernel's extended-ack message for the last failed operation on NL,
 * or "" when the kernel gave none (or the last operation succeeded).
 */
const char *svrcert_nl_errmsg(const struct svrcert_nl *nl);

/* ---- policy -------------------------------------------------------- */

#define SVRCERT_POLICY_KEEP (-1)	/* set_policy: leave unchanged */

struct svrcert_policy {
	int peer_validation;	/* 0 off, 1 on */
	int failure_mode;	/* enum svrcert_failure_mode */
	int self_state;		/* enum svrcert_cert_state */
	int port_min;		/* 0..65535 */
	int port_max;		/* 0..65535 */
	uint32_t version;	/* get only: the module's UAPI version */
};

/* Every field SVRCERT_POLICY_KEEP: start here before a set. */
void svrcert_policy_init_keep(struct svrcert_policy *p);
int svrcert_nl_get_policy(struct svrcert_nl *nl, struct svrcert_policy *out);
/* Sends only the fields that are not SVRCERT_POLICY_KEEP (-EINVAL if none). */
int svrcert_nl_set_policy(struct svrcert_nl *nl, const struct svrcert_policy *p);

/* ---- revocation set ------------------------------------------------ */

typedef uint8_t svrcert_key_t[SVRCERT_KEY_LEN];

/*
 * Add to / delete from the live set, SVRCERT_KEYS_PER_ATTR_MAX keys per
 * message. Not atomic across messages: on failure the batches before the
 * failing one stay applied. For an all-or-nothing replacement use
 * svrcert_nl_keys_load().
 */
int svrcert_nl_keys_add(struct svrcert_nl *nl, const svrcert_key_t *keys, size_t n);
int svrcert_nl_keys_del(struct svrcert_nl *nl, const svrcert_key_t *keys, size_t n);
int svrcert_nl_keys_flush(struct svrcert_nl *nl);

/*
 * Replace the live set with exactly KEYS[0..N) atomically: LOAD_BEGIN (size
 * hint N), chunks pipelined, LOAD_COMMIT; LOAD_ABORT on any error, so the
 * live set is either the old one or the new one. N == 0 loads an empty set.
 * *LIVE (optional) gets the key count the kernel reports after the swap.
 * -EBUSY: another load is in progress.
 */
int svrcert_nl_keys_load(struct svrcert_nl *nl, const svrcert_key_t *keys,
			 size_t n, uint32_t *live);

/*
 * Add ADD[0..NA) and remove DEL[0..ND) as one atomic change of the live set
 * (SVRCERT_CMD_APPLY_KEYS_DELTA): one message, so NA and ND are each at
 * most SVRCERT_KEYS_PER_ATTR_MAX (-E2BIG beyond; use svrcert_nl_keys_load).
 * On error the live set is unchanged. *LIVE (optional): keys after.
 */
int svrcert_nl_keys_delta(struct svrcert_nl *nl, const svrcert_key_t *add,
			  size_t na, const svrcert_key_t *del, size_t nd,
			  uint32_t *live);

/*
 * How to move the kernel from the list it was last fed to a new one that
 * differs by NA added and ND removed keys. KNOWN: the kernel is known to
 * hold that list (fed, same module instance, no failed change since).
 *
 * The threshold: a delta whenever it fits one APPLY_KEYS_DELTA message
 * (NA and ND each <= SVRCERT_KEYS_PER_ATTR_MAX = 2040), because only one
 * message is one atomic step; its kernel cost is O(NA + ND) lookups and
 * inserts plus two RCU grace periods under the netns mutex (milliseconds),
 * while a bulk load rebuilds the whole set (about 2 s per 10^6 keys in a
 * TCG guest, and twice the set's memory until the swap). Anything larger,
 * or an unknown kernel, gets the bulk load and swap.
 */
enum svrcert_feed {
	SVRCERT_FEED_NONE,	/* nothing to do */
	SVRCERT_FEED_DELTA,	/* svrcert_nl_keys_delta() */
	SVRCERT_FEED_LOAD,	/* svrcert_nl_keys_load() */
};
enum svrcert_feed svrcert_nl_feed_plan(bool known, size_t na, size_t nd);

/*
 * Dump the live set. CB gets the keys message by message; a non-zero
 * return from CB stops the dump and is returned. -EAGAIN: the set changed
 * during the dump (the keys delivered may mix old and new); retry.
 */
typedef int (*svrcert_keys_cb)(const svrcert_key_t *keys, size_t n, void *arg);
int svrcert_nl_keys_dump(struct svrcert_nl *nl, svrcert_keys_cb cb, void *arg);

/* ---- peers --------------------------------------------------------- */

/*
 * Same layout as config.h's struct svrcert_addr, but its own name so that
 * a file may include both headers.
 */
struct svrcert_nl_addr {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

struct svrcert_peer_info {
	char name[SVRCERT_PEER_NAME_MAX + 1];
	int state;			/* enum svrcert_cert_state */
	size_t n_addrs;
	struct svrcert_nl_addr addrs[SVRCERT_PEER_ADDRS_MAX];

	/* set (peer_add) only */
	const uint8_t *cert_der;
	size_t cert_der_len;
	/* set with cert_der (svrcert_revkey_from_cert: the kernel does not
	 * compute it), and reported by the kernel */
	uint8_t revkey[SVRCERT_KEY_LEN];

	/* get only: reported by the kernel */
	uint8_t fingerprint[SVRCERT_KEY_LEN];	/* SHA-256(cert DER) */
	int64_t not_before;		/* seconds since the epoch */
	int64_t not_after;
	int verdict;			/* enum svrcert_verdict, now */
	int reason;			/* enum svrcert_reason, now */
	uint64_t rx_accepted;		/* packets from it */
	uint64_t rx_dropped;
	uint64_t tx_accepted;		/* packets to it */
	uint64_t tx_dropped;

	/* ESP (SVRCERT_PEER_A_ESP_*): sent only with esp_set (otherwise a
	 * replace keeps the kernel's), reported always */
	bool esp_set;
	bool esp_required;		/* keys installed: plain is unprotected */
	int esp_proto;			/* IP protocol protected, 0 all */
	int auth_port;			/* TCP to it exempt (ours), 0 none */
	int peer_auth_port;		/* TCP from it exempt (the peer's) */
	size_t n_esp_addrs;		/* where ESP runs from; 0: all addrs */
	struct svrcert_nl_addr esp_addrs[SVRCERT_PEER_ADDRS_MAX];
};

/*
 * Bind a peer's certificate (DER) and addresses. REPLACE false: -EEXIST if
 * the name exists; true: create or replace. When replacing an existing
 * peer, cert_der NULL and/or n_addrs 0 keep the peer's certificate and/or
 * addresses, so only the state changes (state is always sent).
 * -EADDRINUSE: an address belongs to another peer; -ENOSPC: max_peers.
 */
int svrcert_nl_peer_add(struct svrcert_nl *nl, const struct svrcert_peer_info *info,
			bool replace);
int svrcert_nl_peer_del(struct svrcert_nl *nl, const char *name);
/* -ENOENT if no such peer. */
int svrcert_nl_peer_get(struct svrcert_nl *nl, const char *name,
			struct svrcert_peer_info *out);
/*
 * Dump every peer. A non-zero return from CB stops and is returned.
 * -EAGAIN: the table changed during the dump; retry.
 */
typedef int (*svrcert_peer_cb)(const struct svrcert_peer_info *peer, void *arg);
int svrcert_nl_peers_dump(struct svrcert_nl *nl, svrcert_peer_cb cb, void *arg);

/* ---- stats --------------------------------------------------------- */

struct svrcert_kstats {
	uint64_t accepted[SVRCERT_REASON_MAX + 1];	/* packets received */
	uint64_t dropped[SVRCERT_REASON_MAX + 1];	/* (by reason) */
	uint64_t not_peer;
	uint64_t tx_accepted[SVRCERT_REASON_MAX + 1];	/* packets sent */
	uint64_t tx_dropped[SVRCERT_REASON_MAX + 1];
	uint64_t tx_not_peer;
	uint64_t peer_cert_expired;
	uint64_t peer_cert_invalid;
	uint64_t peer_cert_revoked;
	uint32_t keys;
	uint32_t keys_max;
	uint64_t keys_mem;		/* bytes */
	uint32_t peers;
	uint32_t peers_max;
	uint64_t events_sent;
	uint64_t events_suppressed;
	uint64_t keys_deltas;		/* APPLY_KEYS_DELTAs applied */
	uint64_t keys_loads;		/* bulk loads committed */
};

int svrcert_nl_stats_get(struct svrcert_nl *nl, struct svrcert_kstats *out);
int svrcert_nl_stats_reset(struct svrcert_nl *nl);

/* ---- events -------------------------------------------------------- */

struct svrcert_event {
	int type;			/* enum svrcert_event_type; UNSPEC if lost */
	bool lost;			/* events were lost (receive overrun) */
	char peer_name[SVRCERT_PEER_NAME_MAX + 1];
	int reason;			/* enum svrcert_reason, or -1 if absent */
	bool has_fingerprint;
	uint8_t fingerprint[SVRCERT_KEY_LEN];
	int64_t time;			/* seconds since the epoch, 0 if absent */
};

/*
 * Join the "events" group and call CB for each event until CB returns
 * non-zero (returned) or an error. A signal that interrupts the wait
 * returns -EINTR (install the handler without SA_RESTART). Use a handle
 * dedicated to monitoring.
 */
typedef int (*svrcert_event_cb)(const struct svrcert_event *ev, void *arg);
int svrcert_nl_monitor(struct svrcert_nl *nl, svrcert_event_cb cb, void *arg);

#endif
