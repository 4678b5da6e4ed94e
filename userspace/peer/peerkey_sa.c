// SPDX-License-Identifier: GPL-2.0
/*
 * A peering's ESP in the kernel (peerkey.h): its policies, and the SAs of
 * each key index. Order is the caller's (make-before-break): inbound SA,
 * the peer's READY, outbound SA, the old SAs removed after a grace period.
 */
#include <errno.h>
#include <string.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "peerkey.h"

#define MAX_POLICIES 6

/* Every policy of PATH: two that require ESP, up to four exemptions. */
static size_t policies(const struct peerkey_path *p, struct svrcert_xfrm_policy *out)
{
	const struct {
		int dir;
		bool local_port, sport;
	} ex[] = {
		/* our listener: calls in, answers out */
		{ XFRM_POLICY_IN, true, false }, { XFRM_POLICY_OUT, true, true },
		/* the peer's listener: our calls out, its answers in */
		{ XFRM_POLICY_OUT, false, false }, { XFRM_POLICY_IN, false, true },
	};
	size_t i, n = 0;

	for (i = 0; i < 2; i++) {
		struct svrcert_xfrm_policy *q = &out[n++];
		bool in = i == 0;

		memset(q, 0, sizeof(*q));
		q->src = in ? p->remote : p->local;
		q->dst = in ? p->local : p->remote;
		q->dir = in ? XFRM_POLICY_IN : XFRM_POLICY_OUT;
		q->proto = p->proto;
		q->reqid = p->reqid;
		q->priority = SVRCERT_XFRM_PRIO_PROTECT;
	}
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		uint16_t port = ex[i].local_port ? p->local_auth_port : p->remote_auth_port;
		struct svrcert_xfrm_policy *q = &out[n];
		bool in = ex[i].dir == XFRM_POLICY_IN;

		if (!port)
			continue;
		memset(q, 0, sizeof(*q));
		q->src = in ? p->remote : p->local;
		q->dst = in ? p->local : p->remote;
		q->dir = ex[i].dir;
		q->proto = IPPROTO_TCP;
		q->exempt = true;
		q->priority = SVRCERT_XFRM_PRIO_EXEMPT;
		if (ex[i].sport)
			q->sport = port;
		else
			q->dport = port;
		n++;
	}
	return n;
}

int peerkey_policies_install(struct svrcert_xfrm *x, const struct peerkey_path *p)
{
	struct svrcert_xfrm_policy pol[MAX_POLICIES];
	size_t i, n = policies(p, pol);
	int err = 0;

	/* exemptions first: the authentication channel never meets "ESP required" alone */
	for (i = n; i-- > 0 && !err;)
		err = svrcert_xfrm_policy_add(x, &pol[i], true);
	return err;
}

int peerkey_policies_remove(struct svrcert_xfrm *x, const struct peerkey_path *p)
{
	struct svrcert_xfrm_policy pol[MAX_POLICIES];
	size_t i, n = policies(p, pol);
	int err = 0, e;

	for (i = 0; i < n; i++) {
		e = svrcert_xfrm_policy_del(x, &pol[i]);
		if (e && e != -ENOENT && !err)
			err = e;
	}
	return err;
}

void peerkey_lifetimes(uint32_t rekey_s, uint32_t timeout_s, uint32_t rnd,
		       uint32_t *soft_s, uint32_t *hard_s)
{
	uint64_t r = rekey_s, t = timeout_s, j, soft, hard;

	if (!rekey_s) {
		*soft_s = *hard_s = 0;
		return;
	}
	j = (r + t / 2) / 25;
	if (j > t / 4)
		j = t / 4;
	/* the low 16 bits place soft in [-j, +j], the high 16 hard in [0, j] */
	soft = r + t / 2 - j + (((rnd & 0xffffu) * (2 * j + 1)) >> 16);
	hard = r + t + PEERKEY_HARD_MARGIN_S + (((rnd >> 16) * (j + 1)) >> 16);
	if (hard > UINT32_MAX)
		hard = UINT32_MAX;
	if (soft >= hard)
		soft = hard - 1;
	*soft_s = (uint32_t)soft;
	*hard_s = (uint32_t)hard;
}

static int sa_install(struct svrcert_xfrm *x, const struct peerkey_path *p, bool in,
		      const struct peerkey_keys *k, uint32_t rekey_s, uint32_t timeout_s,
		      bool update)
{
	struct svrcert_xfrm_sa sa = {
		.src = in ? p->remote : p->local,
		.dst = in ? p->local : p->remote,
		.spi = in ? k->spi_in : k->spi_out,
		.reqid = p->reqid,
	};
	uint32_t rnd = 0;
	int err;

	/* each SA its own jitter; no randomness: none, the limits stay safe */
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1) {
		rnd = 0;
		ERR_clear_error();
	}
	peerkey_lifetimes(rekey_s, timeout_s, rnd, &sa.soft_secs, &sa.hard_secs);
	memcpy(sa.key, in ? k->in : k->out, sizeof(sa.key));
	err = svrcert_xfrm_sa_add(x, &sa, update);
	OPENSSL_cleanse(sa.key, sizeof(sa.key));
	return err;
}

int peerkey_sa_install_in(struct svrcert_xfrm *x, const struct peerkey_path *p,
			  const struct peerkey_keys *k, uint32_t rekey_s, uint32_t timeout_s)
{
	int err = sa_install(x, p, true, k, rekey_s, timeout_s, true);

	/*
	 * The SPI is agreed with the peer: if its reservation lapsed (the
	 * larval SA lives net.core.xfrm_acq_expires seconds, and the peer may
	 * be slow), claim it outright; -EEXIST if someone else took it.
	 */
	if (err == -ENOENT)
		err = sa_install(x, p, true, k, rekey_s, timeout_s, false);
	return err;
}

int peerkey_sa_install_out(struct svrcert_xfrm *x, const struct peerkey_path *p,
			   const struct peerkey_keys *k, uint32_t rekey_s, uint32_t timeout_s)
{
	return sa_install(x, p, false, k, rekey_s, timeout_s, false);
}

int peerkey_sa_remove(struct svrcert_xfrm *x, const struct peerkey_path *p,
		      uint32_t spi_in, uint32_t spi_out)
{
	int err = 0, e;

	if (spi_out) {
		e = svrcert_xfrm_sa_del(x, &p->remote, spi_out);
		if (e && e != -ENOENT)
			err = e;
	}
	if (spi_in) {
		e = svrcert_xfrm_sa_del(x, &p->local, spi_in);
		if (e && e != -ENOENT && !err)
			err = e;
	}
	return err;
}
