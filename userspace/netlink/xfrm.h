/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xfrm (IPsec) client svrcertd uses to install the ESP keys it agrees
 * with authenticated peers: raw NETLINK_XFRM messages built with libnl-3,
 * after strongSwan's kernel_netlink_ipsec.c (SPIs from XFRM_MSG_ALLOCSPI,
 * the inbound SA then filled in place with XFRM_MSG_UPDSA, lifetimes
 * counted from install, soft before hard).
 *
 * Only one transform: rfc4106(gcm(aes)) with a 256-bit key, a 4-byte salt
 * and a 128-bit ICV, transport mode, extended sequence numbers.
 *
 * What is svrcert's: an SA whose reqid is in SVRCERT_XFRM_REQID_BASE's
 * band, a policy whose priority is in SVRCERT_XFRM_PRIO_BASE's band.
 * svrcert_xfrm_flush_owned() removes exactly those (a restarted daemon's
 * stale state) and nothing another IKE daemon installed.
 *
 * Conventions as nl.h: 0 or -errno, the kernel's extended-ack message kept
 * for svrcert_xfrm_errmsg(), a handle per thread, CAP_NET_ADMIN needed.
 * Key bytes are wiped from every message buffer this client builds or
 * reads, so they live only in the caller's struct and in the kernel.
 */
#ifndef SVRCERT_XFRM_H
#define SVRCERT_XFRM_H

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

#define SVRCERT_XFRM_AEAD	"rfc4106(gcm(aes))"
#define SVRCERT_XFRM_AES_LEN	32	/* AES-256 */
#define SVRCERT_XFRM_SALT_LEN	4	/* RFC 4106 section 8.1 */
#define SVRCERT_XFRM_KEY_LEN	(SVRCERT_XFRM_AES_LEN + SVRCERT_XFRM_SALT_LEN)
#define SVRCERT_XFRM_ICV_BITS	128
#define SVRCERT_XFRM_REPLAY	128	/* anti-replay window, packets */

/* reqid = BASE | peer slot: the band marks an SA as svrcert's. */
#define SVRCERT_XFRM_REQID_BASE	0x53430000u	/* "SC" */
#define SVRCERT_XFRM_REQID_MASK	0xffff0000u
#define SVRCERT_XFRM_REQID(slot) (SVRCERT_XFRM_REQID_BASE | ((slot) & 0xffffu))
bool svrcert_xfrm_reqid_owned(uint32_t reqid);

/*
 * Policy priorities (lower wins): the exemption for the peering's own
 * authentication channel must beat the "ESP required" policy between the
 * same two addresses. Any priority in [BASE, BASE + 15] is svrcert's.
 */
#define SVRCERT_XFRM_PRIO_BASE		0x5343000u
#define SVRCERT_XFRM_PRIO_EXEMPT	(SVRCERT_XFRM_PRIO_BASE + 1)
#define SVRCERT_XFRM_PRIO_PROTECT	(SVRCERT_XFRM_PRIO_BASE + 8)
bool svrcert_xfrm_prio_owned(uint32_t priority);

struct svrcert_xfrm;

/* A NETLINK_XFRM socket. Needs no module of ours; -EPROTONOSUPPORT without xfrm_user. */
int svrcert_xfrm_open(struct svrcert_xfrm **out);
void svrcert_xfrm_close(struct svrcert_xfrm *x);
/* The kernel's extended-ack message for the last failure, or "". */
const char *svrcert_xfrm_errmsg(const struct svrcert_xfrm *x);

struct svrcert_xfrm_sa {
	struct svrcert_nl_addr src;	/* same family as dst */
	struct svrcert_nl_addr dst;
	uint32_t spi;			/* host order, never 0 */
	uint32_t reqid;
	uint8_t key[SVRCERT_XFRM_KEY_LEN];	/* AES key then salt */
	uint32_t soft_secs;		/* lifetime from install; 0: none */
	uint32_t hard_secs;		/* 0: none; else > soft_secs */
};

/*
 * Reserve an inbound SPI for SRC -> DST (DST is this router) in
 * [min, max] (0, 0: the kernel's default range 256..2^32-1). The kernel
 * holds a larval SA for net.core.xfrm_acq_expires seconds (30), which
 * svrcert_xfrm_sa_add(.., update = true) turns into the real one.
 * -ENOENT: no free SPI in the range; the kernel then keeps a keyless
 * larval entry with SPI 0 until it expires (flush_owned skips it).
 */
int svrcert_xfrm_allocspi(struct svrcert_xfrm *x, const struct svrcert_nl_addr *src,
			  const struct svrcert_nl_addr *dst, uint32_t reqid,
			  uint32_t min, uint32_t max, uint32_t *spi);
/* NEWSA (-EEXIST if present), or UPDSA (the allocated inbound SPI). */
int svrcert_xfrm_sa_add(struct svrcert_xfrm *x, const struct svrcert_xfrm_sa *sa,
			bool update);
/* -ENOENT (-ESRCH on some kernels) when no such SA. */
int svrcert_xfrm_sa_del(struct svrcert_xfrm *x, const struct svrcert_nl_addr *dst,
			uint32_t spi);

struct svrcert_xfrm_sa_info {
	struct svrcert_nl_addr src, dst;
	uint32_t spi;
	uint32_t reqid;
	uint8_t proto;			/* IPPROTO_ESP for ours */
	uint64_t bytes, packets;	/* counted since install */
	uint64_t add_time;		/* epoch seconds, 0 if larval */
	uint64_t soft_secs, hard_secs;	/* lifetimes from add; 0: none */
	uint32_t replay_drops, integrity_failed;
	char alg[64];			/* "" if none (larval) */
};

int svrcert_xfrm_sa_get(struct svrcert_xfrm *x, const struct svrcert_nl_addr *dst,
			uint32_t spi, struct svrcert_xfrm_sa_info *out);
/* Every ESP SA (ours or not); a non-zero return of CB stops and is returned. */
typedef int (*svrcert_xfrm_sa_cb)(const struct svrcert_xfrm_sa_info *sa, void *arg);
int svrcert_xfrm_sa_dump(struct svrcert_xfrm *x, svrcert_xfrm_sa_cb cb, void *arg);

struct svrcert_xfrm_policy {
	struct svrcert_nl_addr src;	/* host addresses: /32 or /128 */
	struct svrcert_nl_addr dst;
	int dir;			/* XFRM_POLICY_IN, _OUT or _FWD */
	uint8_t proto;			/* 0: all IP traffic */
	uint16_t sport, dport;		/* host order; 0: any (TCP/UDP only) */
	bool exempt;			/* allow in clear: no ESP template */
	uint32_t reqid;			/* template's (not exempt) */
	uint32_t priority;		/* in svrcert's band */
};

/* NEWPOLICY (-EEXIST if the same selector and direction exist) or UPDPOLICY. */
int svrcert_xfrm_policy_add(struct svrcert_xfrm *x, const struct svrcert_xfrm_policy *p,
			    bool update);
/* By selector and direction; -ENOENT when absent. */
int svrcert_xfrm_policy_del(struct svrcert_xfrm *x, const struct svrcert_xfrm_policy *p);
typedef int (*svrcert_xfrm_policy_cb)(const struct svrcert_xfrm_policy *p, void *arg);
int svrcert_xfrm_policy_dump(struct svrcert_xfrm *x, svrcert_xfrm_policy_cb cb, void *arg);

/*
 * Delete every SA and policy that is svrcert's (reqid / priority bands),
 * policies first; *N_SA and *N_POL (optional) count what went. Others'
 * state is untouched; so are keyless SPI-0 larval entries (see allocspi).
 */
int svrcert_xfrm_flush_owned(struct svrcert_xfrm *x, unsigned int *n_sa,
			     unsigned int *n_pol);

#endif
