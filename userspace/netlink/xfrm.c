// SPDX-License-Identifier: GPL-2.0
/*
 * The xfrm client (xfrm.h): one NETLINK_XFRM socket, each request sent and
 * its ack awaited through the exchange of nl.c; messages built and read by
 * xfrm_msg.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/errno.h>

#include "nl_priv.h"
#include "xfrm_msg.h"

struct svrcert_xfrm {
	struct svrcert_nl nl;	/* sk and errmsg; family unused */
};

int svrcert_xfrm_open(struct svrcert_xfrm **out)
{
	struct svrcert_xfrm *x = calloc(1, sizeof(*x));
	int err;

	if (!x || !(x->nl.sk = nl_socket_alloc())) {
		free(x);
		return -ENOMEM;
	}
	err = nl_connect(x->nl.sk, NETLINK_XFRM);
	if (err < 0) {
		nl_socket_free(x->nl.sk);
		free(x);
		/* socket(2) says EPROTONOSUPPORT when xfrm_user is absent */
		return err == -NLE_PROTO_MISMATCH ? -EPROTONOSUPPORT : nl_nle_to_errno(err);
	}
	nl_enable_ext_ack(x->nl.sk);
	*out = x;
	return 0;
}

void svrcert_xfrm_close(struct svrcert_xfrm *x)
{
	if (!x)
		return;
	nl_socket_free(x->nl.sk);
	free(x);
}

const char *svrcert_xfrm_errmsg(const struct svrcert_xfrm *x)
{
	return x ? x->nl.errmsg : "";
}

/* Send MSG (wiped and freed: it may hold a key) and wait for its ack or dump end. */
static int exchange(struct svrcert_xfrm *x, struct nl_msg *msg, nl_reply_fn reply, void *arg)
{
	struct nl_transact t;
	int err;

	nl_transact_init(&t, &x->nl);
	t.reply = reply;
	t.reply_arg = arg;
	err = nl_send_auto(x->nl.sk, msg);
	xfrm_msg_free_wiped(msg);
	if (err < 0)
		return nl_nle_to_errno(err);
	t.pending = 1;
	err = nl_wait_pending(&t, 0);
	if (!err)
		err = t.error;
	if (!err)
		err = t.reply_ret;
	if (!err && t.dump_intr)
		err = -EAGAIN;
	return err;
}

/* xfrm says ESRCH for "no such SA"; callers of this API see ENOENT. */
static int no_sa(int err)
{
	return err == -ESRCH ? -ENOENT : err;
}

static int take_spi(struct nlmsghdr *nlh, void *arg)
{
	struct svrcert_xfrm_sa_info info;
	int err = xfrm_parse_sa(nlh, &info);

	if (!err)
		*(uint32_t *)arg = info.spi;
	return err;
}

int svrcert_xfrm_allocspi(struct svrcert_xfrm *x, const struct svrcert_nl_addr *src,
			  const struct svrcert_nl_addr *dst, uint32_t reqid,
			  uint32_t min, uint32_t max, uint32_t *spi)
{
	struct nl_msg *msg;
	uint32_t got = 0;
	int err = xfrm_msg_allocspi(src, dst, reqid, min, max, &msg);

	if (!err)
		err = exchange(x, msg, take_spi, &got);
	if (!err && !got)
		err = -EPROTO;	/* an ack without the SA it allocated */
	if (!err)
		*spi = got;
	return err;
}

int svrcert_xfrm_sa_add(struct svrcert_xfrm *x, const struct svrcert_xfrm_sa *sa,
			bool update)
{
	struct nl_msg *msg;
	int err = xfrm_msg_sa(sa, update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, &msg);

	if (!err)
		err = exchange(x, msg, NULL, NULL);
	return update ? no_sa(err) : err;
}

int svrcert_xfrm_sa_del(struct svrcert_xfrm *x, const struct svrcert_nl_addr *dst,
			uint32_t spi)
{
	struct nl_msg *msg;
	int err = xfrm_msg_sa_id(XFRM_MSG_DELSA, dst, spi, &msg);

	if (!err)
		err = exchange(x, msg, NULL, NULL);
	return no_sa(err);
}

static int take_sa(struct nlmsghdr *nlh, void *arg)
{
	return xfrm_parse_sa(nlh, arg);
}

int svrcert_xfrm_sa_get(struct svrcert_xfrm *x, const struct svrcert_nl_addr *dst,
			uint32_t spi, struct svrcert_xfrm_sa_info *out)
{
	struct nl_msg *msg;
	int err = xfrm_msg_sa_id(XFRM_MSG_GETSA, dst, spi, &msg);

	memset(out, 0, sizeof(*out));
	if (!err)
		err = exchange(x, msg, take_sa, out);
	if (!err && !out->spi)
		err = -EPROTO;
	return no_sa(err);
}

struct sa_dump {
	svrcert_xfrm_sa_cb cb;
	void *arg;
};

static int each_sa(struct nlmsghdr *nlh, void *arg)
{
	struct sa_dump *d = arg;
	struct svrcert_xfrm_sa_info info;
	int err = xfrm_parse_sa(nlh, &info);

	if (err == -EAFNOSUPPORT || (!err && info.proto != IPPROTO_ESP))
		return 0;
	return err ? err : d->cb(&info, d->arg);
}

int svrcert_xfrm_sa_dump(struct svrcert_xfrm *x, svrcert_xfrm_sa_cb cb, void *arg)
{
	struct sa_dump d = { .cb = cb, .arg = arg };
	struct nl_msg *msg;
	int err = xfrm_msg_dump(XFRM_MSG_GETSA, &msg);

	if (!err)
		err = exchange(x, msg, each_sa, &d);
	return err;
}

int svrcert_xfrm_policy_add(struct svrcert_xfrm *x, const struct svrcert_xfrm_policy *p,
			    bool update)
{
	struct nl_msg *msg;
	int err = xfrm_msg_policy(p, update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY, &msg);

	if (!err)
		err = exchange(x, msg, NULL, NULL);
	return err;
}

int svrcert_xfrm_policy_del(struct svrcert_xfrm *x, const struct svrcert_xfrm_policy *p)
{
	struct nl_msg *msg;
	int err = xfrm_msg_policy_del(p, &msg);

	if (!err)
		err = exchange(x, msg, NULL, NULL);
	return err;
}

struct pol_dump {
	svrcert_xfrm_policy_cb cb;
	void *arg;
};

static int each_policy(struct nlmsghdr *nlh, void *arg)
{
	struct pol_dump *d = arg;
	struct svrcert_xfrm_policy p;
	int err = xfrm_parse_policy(nlh, &p);

	if (err == -EAFNOSUPPORT)
		return 0;
	return err ? err : d->cb(&p, d->arg);
}

int svrcert_xfrm_policy_dump(struct svrcert_xfrm *x, svrcert_xfrm_policy_cb cb, void *arg)
{
	struct pol_dump d = { .cb = cb, .arg = arg };
	struct nl_msg *msg;
	int err = xfrm_msg_dump(XFRM_MSG_GETPOLICY, &msg);

	if (!err)
		err = exchange(x, msg, each_policy, &d);
	return err;
}

/* ---- flush of our own state ------------------------------------------- */

/* What the dumps found; deleted after them, as deleting mid-dump may skip entries. */
struct owned {
	struct svrcert_xfrm_sa_info *sa;
	struct svrcert_xfrm_policy *pol;
	size_t n_sa, n_pol, cap_sa, cap_pol;
};

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*arr, *cap ? *cap * 2 : 16, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

static int collect_sa(const struct svrcert_xfrm_sa_info *sa, void *arg)
{
	struct owned *o = arg;

	/*
	 * SPI 0: the larval entry a failed ALLOCSPI leaves behind. It has no
	 * key, DELSA cannot name it, and it expires after xfrm_acq_expires.
	 */
	if (!svrcert_xfrm_reqid_owned(sa->reqid) || !sa->spi)
		return 0;
	if (grow((void **)&o->sa, &o->cap_sa, o->n_sa, sizeof(*o->sa)))
		return -ENOMEM;
	o->sa[o->n_sa++] = *sa;
	return 0;
}

static int collect_policy(const struct svrcert_xfrm_policy *p, void *arg)
{
	struct owned *o = arg;

	if (!svrcert_xfrm_prio_owned(p->priority))
		return 0;
	if (grow((void **)&o->pol, &o->cap_pol, o->n_pol, sizeof(*o->pol)))
		return -ENOMEM;
	o->pol[o->n_pol++] = *p;
	return 0;
}

/* Policies first, so no packet meets a policy whose SAs are already gone. */
static int delete_owned(struct svrcert_xfrm *x, struct owned *o, unsigned int *n_sa,
			unsigned int *n_pol)
{
	size_t i;
	int err = 0, e;

	for (i = 0; i < o->n_pol; i++) {
		e = svrcert_xfrm_policy_del(x, &o->pol[i]);
		if (!e)
			(*n_pol)++;
		else if (e != -ENOENT && !err)
			err = e;
	}
	for (i = 0; i < o->n_sa; i++) {
		e = svrcert_xfrm_sa_del(x, &o->sa[i].dst, o->sa[i].spi);
		if (!e)
			(*n_sa)++;
		else if (e != -ENOENT && !err)
			err = e;
	}
	return err;
}

int svrcert_xfrm_flush_owned(struct svrcert_xfrm *x, unsigned int *n_sa,
			     unsigned int *n_pol)
{
	struct owned o = { 0 };
	unsigned int dsa = 0, dpol = 0;
	int err = svrcert_xfrm_policy_dump(x, collect_policy, &o);

	if (!err)
		err = svrcert_xfrm_sa_dump(x, collect_sa, &o);
	if (!err)
		err = delete_owned(x, &o, &dsa, &dpol);
	free(o.sa);
	free(o.pol);
	if (n_sa)
		*n_sa = dsa;
	if (n_pol)
		*n_pol = dpol;
	return err;
}
