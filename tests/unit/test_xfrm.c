// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the xfrm client (userspace/netlink/xfrm*.c).
 *
 * Encoding: every field of NEWSA/UPDSA, ALLOCSPI, NEWPOLICY, DELPOLICY as
 * the kernel reads it, and every argument refused before a message is
 * sent. Decoding: replies round-trip, short or malformed replies are
 * -EPROTO, other families are skipped, and the key in a reply buffer is
 * wiped once read.
 *
 * Kernel: in a network namespace of its own (unshare, needs root and
 * xfrm_user), ALLOCSPI, policies with their -EEXIST/-ENOENT paths, SA
 * get/delete errors and the flush that removes svrcert's state and only
 * it. ESP SAs themselves are installed in the guest test (85-esp.sh):
 * the host kernel may lack esp4/gcm, so add is checked for either success
 * or the kernel's own refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>

#include "netlink/nl_util.h"
#include "netlink/xfrm_msg.h"

static struct svrcert_nl_addr A, B, A6;
static bool have_netns;

static void sa_fill(struct svrcert_xfrm_sa *sa)
{
	size_t i;

	memset(sa, 0, sizeof(*sa));
	sa->src = A;
	sa->dst = B;
	sa->spi = 0xc0ffee01;
	sa->reqid = SVRCERT_XFRM_REQID(3);
	for (i = 0; i < sizeof(sa->key); i++)
		sa->key[i] = (uint8_t)(0xa0 + i);
	sa->soft_secs = 100;
	sa->hard_secs = 130;
}

static void pol_fill(struct svrcert_xfrm_policy *p, int dir)
{
	memset(p, 0, sizeof(*p));
	p->src = A;
	p->dst = B;
	p->dir = dir;
	p->reqid = SVRCERT_XFRM_REQID(3);
	p->priority = SVRCERT_XFRM_PRIO_PROTECT;
}

static void test_sa_encoding(void **state)
{
	struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_usersa_info *info;
	struct xfrm_algo_aead *alg;
	struct xfrm_replay_state_esn *esn;
	struct svrcert_xfrm_sa sa;
	struct nl_msg *msg;
	struct nlmsghdr *nlh;

	sa_fill(&sa);
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_UPDSA, &msg), 0);
	nlh = nlmsg_hdr(msg);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_UPDSA);
	assert_int_equal(nlmsg_parse(nlh, sizeof(*info), tb, XFRMA_MAX, NULL), 0);
	info = nlmsg_data(nlh);
	assert_int_equal(info->id.spi, htonl(0xc0ffee01));
	assert_int_equal(info->id.proto, IPPROTO_ESP);
	assert_memory_equal(&info->id.daddr.a4, &B.v4, 4);
	assert_memory_equal(&info->saddr.a4, &A.v4, 4);
	assert_int_equal(info->family, AF_INET);
	assert_int_equal(info->mode, XFRM_MODE_TRANSPORT);
	assert_int_equal(info->reqid, SVRCERT_XFRM_REQID(3));
	assert_int_equal(info->flags, XFRM_STATE_ESN);
	assert_int_equal(info->sel.prefixlen_s, 32);
	assert_int_equal(info->sel.prefixlen_d, 32);
	assert_int_equal(info->sel.proto, 0);
	assert_true(info->lft.soft_add_expires_seconds == 100);
	assert_true(info->lft.hard_add_expires_seconds == 130);
	assert_true(info->lft.hard_byte_limit == XFRM_INF);

	assert_non_null(tb[XFRMA_ALG_AEAD]);
	assert_int_equal(nla_len(tb[XFRMA_ALG_AEAD]), sizeof(*alg) + 36);
	alg = nla_data(tb[XFRMA_ALG_AEAD]);
	assert_string_equal(alg->alg_name, "rfc4106(gcm(aes))");
	assert_int_equal(alg->alg_key_len, 288);	/* 256-bit key + 32-bit salt */
	assert_int_equal(alg->alg_icv_len, 128);
	assert_memory_equal(alg->alg_key, sa.key, 36);

	assert_non_null(tb[XFRMA_REPLAY_ESN_VAL]);
	esn = nla_data(tb[XFRMA_REPLAY_ESN_VAL]);
	assert_int_equal(nla_len(tb[XFRMA_REPLAY_ESN_VAL]), sizeof(*esn) + 16);
	assert_int_equal(esn->bmp_len, 4);
	assert_int_equal(esn->replay_window, 128);
	xfrm_msg_free_wiped(msg);

	/* IPv6 and no lifetime */
	sa.src = A6;
	sa.dst = A6;
	sa.soft_secs = sa.hard_secs = 0;
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), 0);
	info = nlmsg_data(nlmsg_hdr(msg));
	assert_int_equal(info->family, AF_INET6);
	assert_int_equal(info->sel.prefixlen_d, 128);
	assert_memory_equal(&info->id.daddr.in6, &A6.v6, 16);
	xfrm_msg_free_wiped(msg);
}

static void test_sa_refused(void **state)
{
	struct svrcert_xfrm_sa sa;
	struct nl_msg *msg = NULL;

	sa_fill(&sa);
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_DELSA, &msg), -EINVAL);
	sa.dst = A6;		/* mixed families */
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), -EINVAL);
	sa_fill(&sa);
	sa.src.family = sa.dst.family = AF_UNSPEC;
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), -EINVAL);
	sa_fill(&sa);
	sa.spi = 0;
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), -EINVAL);
	sa_fill(&sa);
	sa.soft_secs = sa.hard_secs;	/* soft must come before hard */
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), -EINVAL);
	sa.soft_secs = 0;	/* hard only is fine */
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), 0);
	xfrm_msg_free_wiped(msg);
	assert_int_equal(xfrm_msg_sa_id(XFRM_MSG_DELSA, &B, 0, &msg), -EINVAL);
	assert_int_equal(xfrm_msg_sa_id(XFRM_MSG_NEWSA, &B, 5, &msg), -EINVAL);
}

static void test_allocspi_encoding(void **state)
{
	struct xfrm_userspi_info *req;
	struct nl_msg *msg;

	assert_int_equal(xfrm_msg_allocspi(&A, &B, 77, 0, 0, &msg), 0);
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_type, XFRM_MSG_ALLOCSPI);
	req = nlmsg_data(nlmsg_hdr(msg));
	assert_int_equal(req->min, 0x100);	/* 1..255 reserved */
	assert_int_equal(req->max, 0xffffffff);
	assert_int_equal(req->info.reqid, 77);
	assert_int_equal(req->info.id.proto, IPPROTO_ESP);
	assert_memory_equal(&req->info.id.daddr.a4, &B.v4, 4);
	nlmsg_free(msg);
	assert_int_equal(xfrm_msg_allocspi(&A, &B, 77, 0x10, 0x2000, &msg), -EINVAL);
	assert_int_equal(xfrm_msg_allocspi(&A, &B, 77, 0x3000, 0x2000, &msg), -EINVAL);
	assert_int_equal(xfrm_msg_allocspi(&A, &A6, 77, 0, 0, &msg), -EINVAL);
}

static void test_policy_encoding(void **state)
{
	struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_userpolicy_info *info;
	struct xfrm_userpolicy_id *id;
	struct xfrm_user_tmpl *t;
	struct svrcert_xfrm_policy p;
	struct nl_msg *msg;

	pol_fill(&p, XFRM_POLICY_IN);
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWPOLICY, &msg), 0);
	assert_int_equal(nlmsg_parse(nlmsg_hdr(msg), sizeof(*info), tb, XFRMA_MAX, NULL), 0);
	info = nlmsg_data(nlmsg_hdr(msg));
	assert_int_equal(info->dir, XFRM_POLICY_IN);
	assert_int_equal(info->action, XFRM_POLICY_ALLOW);
	assert_int_equal(info->priority, SVRCERT_XFRM_PRIO_PROTECT);
	assert_int_equal(info->sel.proto, 0);
	assert_int_equal(info->sel.dport_mask, 0);
	assert_non_null(tb[XFRMA_TMPL]);
	assert_int_equal(nla_len(tb[XFRMA_TMPL]), sizeof(*t));
	t = nla_data(tb[XFRMA_TMPL]);
	assert_int_equal(t->id.proto, IPPROTO_ESP);
	assert_int_equal(t->mode, XFRM_MODE_TRANSPORT);
	assert_int_equal(t->reqid, SVRCERT_XFRM_REQID(3));
	assert_int_equal(t->optional, 0);	/* ESP required */
	nlmsg_free(msg);

	/* the authentication channel's exemption: no template, ports in network order */
	p.exempt = true;
	p.proto = IPPROTO_TCP;
	p.dport = 4433;
	p.priority = SVRCERT_XFRM_PRIO_EXEMPT;
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_UPDPOLICY, &msg), 0);
	assert_int_equal(nlmsg_parse(nlmsg_hdr(msg), sizeof(*info), tb, XFRMA_MAX, NULL), 0);
	info = nlmsg_data(nlmsg_hdr(msg));
	assert_null(tb[XFRMA_TMPL]);
	assert_int_equal(info->sel.dport, htons(4433));
	assert_int_equal(info->sel.dport_mask, 0xffff);
	assert_int_equal(info->sel.sport_mask, 0);
	assert_int_equal(info->sel.proto, IPPROTO_TCP);
	nlmsg_free(msg);

	assert_int_equal(xfrm_msg_policy_del(&p, &msg), 0);
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_type, XFRM_MSG_DELPOLICY);
	id = nlmsg_data(nlmsg_hdr(msg));
	assert_int_equal(id->dir, XFRM_POLICY_IN);
	assert_int_equal(id->sel.dport, htons(4433));
	nlmsg_free(msg);
}

static void test_policy_refused(void **state)
{
	struct svrcert_xfrm_policy p;
	struct nl_msg *msg;

	pol_fill(&p, XFRM_POLICY_OUT);
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWSA, &msg), -EINVAL);
	p.dport = 22;		/* a port without a protocol that has ports */
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWPOLICY, &msg), -EINVAL);
	p.proto = IPPROTO_ICMP;
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWPOLICY, &msg), -EINVAL);
	pol_fill(&p, 7);
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWPOLICY, &msg), -EINVAL);
	assert_int_equal(xfrm_msg_policy_del(&p, &msg), -EINVAL);
	pol_fill(&p, XFRM_POLICY_OUT);
	p.dst = A6;
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWPOLICY, &msg), -EINVAL);
	assert_int_equal(xfrm_msg_dump(XFRM_MSG_NEWSA, &msg), -EINVAL);
}

/* A reply as the kernel sends it: our NEWSA with its type set to NEWSA. */
static struct nl_msg *reply_sa(void)
{
	struct svrcert_xfrm_sa sa;
	struct nl_msg *msg;

	sa_fill(&sa);
	assert_int_equal(xfrm_msg_sa(&sa, XFRM_MSG_NEWSA, &msg), 0);
	return msg;
}

static void test_sa_decoding(void **state)
{
	struct svrcert_xfrm_sa_info info;
	struct xfrm_usersa_info *k;
	struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_algo_aead *alg;
	struct nl_msg *msg = reply_sa();
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	static const uint8_t zero[36];

	k = nlmsg_data(nlh);
	k->curlft.bytes = 1234;
	k->curlft.packets = 5;
	k->curlft.add_time = 1700000000;
	k->stats.integrity_failed = 2;
	assert_int_equal(xfrm_parse_sa(nlh, &info), 0);
	assert_int_equal(info.spi, 0xc0ffee01);
	assert_int_equal(info.reqid, SVRCERT_XFRM_REQID(3));
	assert_true(svrcert_xfrm_reqid_owned(info.reqid));
	assert_int_equal(info.proto, IPPROTO_ESP);
	assert_int_equal(info.dst.family, AF_INET);
	assert_memory_equal(&info.dst.v4, &B.v4, 4);
	assert_memory_equal(&info.src.v4, &A.v4, 4);
	assert_true(info.bytes == 1234 && info.packets == 5);
	assert_true(info.add_time == 1700000000);
	assert_true(info.soft_secs == 100 && info.hard_secs == 130);	/* sa_fill's */
	assert_int_equal(info.integrity_failed, 2);
	assert_string_equal(info.alg, "rfc4106(gcm(aes))");
	/* the key in the reply buffer is gone, the name is kept */
	assert_int_equal(nlmsg_parse(nlh, sizeof(*k), tb, XFRMA_MAX, NULL), 0);
	alg = nla_data(tb[XFRMA_ALG_AEAD]);
	assert_memory_equal(alg->alg_key, zero, 36);
	assert_int_equal(alg->alg_key_len, 0);
	assert_string_equal(alg->alg_name, "rfc4106(gcm(aes))");

	/* another family: not an error, "not ours" */
	k->family = AF_PACKET;
	assert_int_equal(xfrm_parse_sa(nlh, &info), -EAFNOSUPPORT);
	k->family = AF_INET;
	nlh->nlmsg_type = XFRM_MSG_DELSA;
	assert_int_equal(xfrm_parse_sa(nlh, &info), -EPROTO);
	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	/* an AEAD attribute shorter than its header */
	nla_data(tb[XFRMA_ALG_AEAD]);
	tb[XFRMA_ALG_AEAD]->nla_len = NLA_HDRLEN + 8;
	assert_int_equal(xfrm_parse_sa(nlh, &info), -EPROTO);
	/* shorter than the fixed header */
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*k) - 1);
	assert_int_equal(xfrm_parse_sa(nlh, &info), -EPROTO);
	xfrm_msg_free_wiped(msg);
}

static void test_policy_decoding(void **state)
{
	struct nlattr *tb[XFRMA_MAX + 1];
	struct svrcert_xfrm_policy p, q;
	struct xfrm_userpolicy_info *k;
	struct nl_msg *msg;
	struct nlmsghdr *nlh;

	pol_fill(&p, XFRM_POLICY_OUT);
	p.proto = IPPROTO_UDP;
	p.sport = 500;
	assert_int_equal(xfrm_msg_policy(&p, XFRM_MSG_NEWPOLICY, &msg), 0);
	nlh = nlmsg_hdr(msg);
	assert_int_equal(xfrm_parse_policy(nlh, &q), 0);
	assert_int_equal(q.dir, XFRM_POLICY_OUT);
	assert_int_equal(q.proto, IPPROTO_UDP);
	assert_int_equal(q.sport, 500);
	assert_int_equal(q.dport, 0);
	assert_false(q.exempt);
	assert_int_equal(q.reqid, p.reqid);
	assert_true(svrcert_xfrm_prio_owned(q.priority));
	assert_memory_equal(&q.dst.v4, &B.v4, 4);

	k = nlmsg_data(nlh);
	k->sel.family = 0;
	assert_int_equal(xfrm_parse_policy(nlh, &q), -EAFNOSUPPORT);
	k->sel.family = AF_INET;
	assert_int_equal(nlmsg_parse(nlh, sizeof(*k), tb, XFRMA_MAX, NULL), 0);
	tb[XFRMA_TMPL]->nla_len = NLA_HDRLEN + sizeof(struct xfrm_user_tmpl) - 4;
	assert_int_equal(xfrm_parse_policy(nlh, &q), -EPROTO);
	nlh->nlmsg_len = NLMSG_LENGTH(8);
	assert_int_equal(xfrm_parse_policy(nlh, &q), -EPROTO);
	nlmsg_free(msg);

	assert_false(svrcert_xfrm_prio_owned(SVRCERT_XFRM_PRIO_BASE - 1));
	assert_false(svrcert_xfrm_prio_owned(SVRCERT_XFRM_PRIO_BASE + 16));
	assert_false(svrcert_xfrm_reqid_owned(3));
}

/* ---- against the kernel, in a namespace of our own ---------------------- */

#define NEED_NETNS() do { if (!have_netns) skip(); } while (0)

static struct svrcert_xfrm *xopen(void)
{
	struct svrcert_xfrm *x = NULL;

	assert_int_equal(svrcert_xfrm_open(&x), 0);
	return x;
}

static void test_kernel_allocspi(void **state)
{
	struct svrcert_xfrm_sa_info info;
	struct svrcert_xfrm *x;
	uint32_t s1 = 0, s2 = 0;

	NEED_NETNS();
	x = xopen();
	assert_int_equal(svrcert_xfrm_allocspi(x, &A, &B, SVRCERT_XFRM_REQID(1), 0x1000,
					       0x1fff, &s1), 0);
	assert_int_equal(svrcert_xfrm_allocspi(x, &A, &B, SVRCERT_XFRM_REQID(1), 0x1000,
					       0x1fff, &s2), 0);
	assert_true(s1 >= 0x1000 && s1 <= 0x1fff && s2 >= 0x1000 && s2 <= 0x1fff);
	assert_int_not_equal(s1, s2);
	/* the larval SA is there, ours, and has no algorithm yet */
	assert_int_equal(svrcert_xfrm_sa_get(x, &B, s1, &info), 0);
	assert_int_equal(info.spi, s1);
	assert_int_equal(info.reqid, SVRCERT_XFRM_REQID(1));
	assert_string_equal(info.alg, "");
	assert_int_equal(svrcert_xfrm_sa_del(x, &B, s1), 0);
	assert_int_equal(svrcert_xfrm_sa_del(x, &B, s1), -ENOENT);
	assert_int_equal(svrcert_xfrm_sa_get(x, &B, s1, &info), -ENOENT);
	/* a one-SPI range already taken */
	assert_int_equal(svrcert_xfrm_allocspi(x, &A, &B, SVRCERT_XFRM_REQID(1), s2, s2,
					       &s1), -ENOENT);
	assert_int_equal(svrcert_xfrm_sa_del(x, &B, s2), 0);
	svrcert_xfrm_close(x);
}

static void test_kernel_sa_add(void **state)
{
	struct svrcert_xfrm_sa_info info;
	struct svrcert_xfrm_sa sa;
	struct svrcert_xfrm *x;
	int err;

	NEED_NETNS();
	x = xopen();
	sa_fill(&sa);
	assert_int_equal(svrcert_xfrm_allocspi(x, &A, &B, sa.reqid, 0, 0, &sa.spi), 0);
	err = svrcert_xfrm_sa_add(x, &sa, true);
	if (err) {
		/* no esp4 or gcm in this kernel: its refusal reaches the caller */
		print_message("# host kernel refused the SA: %s (%s)\n", strerror(-err),
			      svrcert_xfrm_errmsg(x));
		assert_true(err == -EPROTONOSUPPORT || err == -ENOSYS || err == -ENOENT);
		assert_int_equal(svrcert_xfrm_sa_del(x, &B, sa.spi), 0);
		svrcert_xfrm_close(x);
		return;
	}
	assert_int_equal(svrcert_xfrm_sa_get(x, &B, sa.spi, &info), 0);
	assert_string_equal(info.alg, SVRCERT_XFRM_AEAD);
	assert_int_equal(svrcert_xfrm_sa_add(x, &sa, false), -EEXIST);
	assert_int_equal(svrcert_xfrm_sa_del(x, &B, sa.spi), 0);
	svrcert_xfrm_close(x);
}

static void test_kernel_policy(void **state)
{
	struct svrcert_xfrm_policy p;
	struct svrcert_xfrm *x;

	NEED_NETNS();
	x = xopen();
	pol_fill(&p, XFRM_POLICY_IN);
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, false), 0);
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, false), -EEXIST);
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, true), 0);
	assert_int_equal(svrcert_xfrm_policy_del(x, &p), 0);
	assert_int_equal(svrcert_xfrm_policy_del(x, &p), -ENOENT);
	p.exempt = true;
	p.proto = IPPROTO_TCP;
	p.sport = 4433;
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, false), 0);
	assert_int_equal(svrcert_xfrm_policy_del(x, &p), 0);
	svrcert_xfrm_close(x);
}

struct count {
	unsigned int owned, foreign;
};

static int count_sa(const struct svrcert_xfrm_sa_info *sa, void *arg)
{
	struct count *c = arg;

	if (!sa->spi)
		return 0;	/* test_kernel_allocspi's failed allocation */
	svrcert_xfrm_reqid_owned(sa->reqid) ? c->owned++ : c->foreign++;
	return 0;
}

static int count_pol(const struct svrcert_xfrm_policy *p, void *arg)
{
	struct count *c = arg;

	svrcert_xfrm_prio_owned(p->priority) ? c->owned++ : c->foreign++;
	return 0;
}

static void test_kernel_flush_owned(void **state)
{
	struct svrcert_xfrm_policy p;
	struct svrcert_xfrm *x;
	struct count c = { 0 };
	unsigned int nsa = 9, npol = 9;
	uint32_t spi, foreign_spi;

	NEED_NETNS();
	x = xopen();
	assert_int_equal(svrcert_xfrm_allocspi(x, &A, &B, SVRCERT_XFRM_REQID(9), 0, 0, &spi), 0);
	assert_int_equal(svrcert_xfrm_allocspi(x, &B, &A, SVRCERT_XFRM_REQID(9), 0, 0, &spi), 0);
	assert_int_equal(svrcert_xfrm_allocspi(x, &A, &B, 42, 0, 0, &foreign_spi), 0);
	pol_fill(&p, XFRM_POLICY_OUT);
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, false), 0);
	p.dir = XFRM_POLICY_IN;
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, false), 0);
	p.priority = 100;	/* another daemon's */
	p.proto = IPPROTO_UDP;
	assert_int_equal(svrcert_xfrm_policy_add(x, &p, false), 0);

	assert_int_equal(svrcert_xfrm_flush_owned(x, &nsa, &npol), 0);
	assert_int_equal(nsa, 2);
	assert_int_equal(npol, 2);
	assert_int_equal(svrcert_xfrm_sa_dump(x, count_sa, &c), 0);
	assert_int_equal(svrcert_xfrm_policy_dump(x, count_pol, &c), 0);
	assert_int_equal(c.owned, 0);
	assert_int_equal(c.foreign, 2);
	/* nothing left of ours: a second flush is a no-op */
	assert_int_equal(svrcert_xfrm_flush_owned(x, &nsa, &npol), 0);
	assert_int_equal(nsa + npol, 0);
	assert_int_equal(svrcert_xfrm_sa_del(x, &B, foreign_spi), 0);
	assert_int_equal(svrcert_xfrm_policy_del(x, &p), 0);
	svrcert_xfrm_close(x);
}

static int group_setup(void **state)
{
	assert_int_equal(svrcert_nl_addr_parse("192.0.2.1", &A), 0);
	assert_int_equal(svrcert_nl_addr_parse("192.0.2.2", &B), 0);
	assert_int_equal(svrcert_nl_addr_parse("2001:db8::1", &A6), 0);
	have_netns = unshare(CLONE_NEWNET) == 0;
	if (!have_netns)
		print_message("# no network namespace (%s): kernel tests skipped\n",
			      strerror(errno));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sa_encoding),
		cmocka_unit_test(test_sa_refused),
		cmocka_unit_test(test_allocspi_encoding),
		cmocka_unit_test(test_policy_encoding),
		cmocka_unit_test(test_policy_refused),
		cmocka_unit_test(test_sa_decoding),
		cmocka_unit_test(test_policy_decoding),
		cmocka_unit_test(test_kernel_allocspi),
		cmocka_unit_test(test_kernel_sa_add),
		cmocka_unit_test(test_kernel_policy),
		cmocka_unit_test(test_kernel_flush_owned),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
