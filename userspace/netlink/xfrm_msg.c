// SPDX-License-Identifier: GPL-2.0
/* xfrm message encoding and decoding, no socket (see xfrm_msg.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <netlink/attr.h>

#include "xfrm_msg.h"

bool svrcert_xfrm_reqid_owned(uint32_t reqid)
{
	return (reqid & SVRCERT_XFRM_REQID_MASK) == SVRCERT_XFRM_REQID_BASE;
}

bool svrcert_xfrm_prio_owned(uint32_t priority)
{
	return priority >= SVRCERT_XFRM_PRIO_BASE && priority <= SVRCERT_XFRM_PRIO_BASE + 15;
}

int xfrm_addr_to_kernel(const struct svrcert_nl_addr *a, xfrm_address_t *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET)
		memcpy(&out->a4, &a->v4, sizeof(a->v4));
	else if (a->family == AF_INET6)
		memcpy(&out->in6, &a->v6, sizeof(a->v6));
	else
		return -EINVAL;
	return 0;
}

int xfrm_addr_from_kernel(const xfrm_address_t *a, int family, struct svrcert_nl_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == AF_INET)
		memcpy(&out->v4, &a->a4, sizeof(out->v4));
	else if (family == AF_INET6)
		memcpy(&out->v6, &a->in6, sizeof(out->v6));
	else
		return -EAFNOSUPPORT;
	return 0;
}

/* Both ends of one family, or -EINVAL: the kernel has no mixed-family SA. */
static int addr_pair(const struct svrcert_nl_addr *src, const struct svrcert_nl_addr *dst,
		     xfrm_address_t *ksrc, xfrm_address_t *kdst)
{
	if (src->family != dst->family)
		return -EINVAL;
	if (xfrm_addr_to_kernel(src, ksrc) || xfrm_addr_to_kernel(dst, kdst))
		return -EINVAL;
	return 0;
}

static uint8_t host_prefix(int family)
{
	return family == AF_INET ? 32 : 128;
}

static struct nl_msg *msg_new(int type, int flags, const void *hdr, size_t len,
			      size_t extra)
{
	struct nl_msg *msg = nlmsg_alloc_size(NLMSG_HDRLEN + NLMSG_ALIGN(len) + extra + 64);

	if (!msg)
		return NULL;
	if (!nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, flags) ||
	    (len && nlmsg_append(msg, (void *)hdr, len, NLMSG_ALIGNTO) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

void xfrm_msg_free_wiped(struct nl_msg *msg)
{
	if (!msg)
		return;
	explicit_bzero(nlmsg_hdr(msg), nlmsg_get_max_size(msg));
	nlmsg_free(msg);
}

static void lifetime_infinite(struct xfrm_lifetime_cfg *lft)
{
	lft->soft_byte_limit = XFRM_INF;
	lft->hard_byte_limit = XFRM_INF;
	lft->soft_packet_limit = XFRM_INF;
	lft->hard_packet_limit = XFRM_INF;
}

static int sa_info(const struct svrcert_xfrm_sa *sa, struct xfrm_usersa_info *info)
{
	int fam = sa->dst.family;

	memset(info, 0, sizeof(*info));
	if (addr_pair(&sa->src, &sa->dst, &info->saddr, &info->id.daddr))
		return -EINVAL;
	if (!sa->spi || (sa->hard_secs && sa->soft_secs >= sa->hard_secs))
		return -EINVAL;
	info->sel.saddr = info->saddr;
	info->sel.daddr = info->id.daddr;
	info->sel.family = fam;
	info->sel.prefixlen_s = host_prefix(fam);
	info->sel.prefixlen_d = host_prefix(fam);
	info->id.spi = htonl(sa->spi);
	info->id.proto = IPPROTO_ESP;
	info->family = fam;
	info->mode = XFRM_MODE_TRANSPORT;
	info->reqid = sa->reqid;
	info->flags = XFRM_STATE_ESN;
	lifetime_infinite(&info->lft);
	info->lft.soft_add_expires_seconds = sa->soft_secs;
	info->lft.hard_add_expires_seconds = sa->hard_secs;
	return 0;
}

static int put_aead(struct nl_msg *msg, const uint8_t key[SVRCERT_XFRM_KEY_LEN])
{
	struct nlattr *a = nla_reserve(msg, XFRMA_ALG_AEAD,
				       sizeof(struct xfrm_algo_aead) + SVRCERT_XFRM_KEY_LEN);
	struct xfrm_algo_aead *alg;

	if (!a)
		return -ENOMEM;
	alg = nla_data(a);
	memset(alg, 0, sizeof(*alg));
	strcpy(alg->alg_name, SVRCERT_XFRM_AEAD);
	alg->alg_key_len = SVRCERT_XFRM_KEY_LEN * 8;
	alg->alg_icv_len = SVRCERT_XFRM_ICV_BITS;
	memcpy(alg->alg_key, key, SVRCERT_XFRM_KEY_LEN);
	return 0;
}

/* ESN: a 32-bit sequence number would wrap within hours at line rate. */
static int put_replay_esn(struct nl_msg *msg)
{
	size_t bmp = SVRCERT_XFRM_REPLAY / 32;
	struct nlattr *a = nla_reserve(msg, XFRMA_REPLAY_ESN_VAL,
				       sizeof(struct xfrm_replay_state_esn) + bmp * 4);
	struct xfrm_replay_state_esn *esn;

	if (!a)
		return -ENOMEM;
	esn = nla_data(a);
	memset(esn, 0, sizeof(*esn) + bmp * 4);
	esn->bmp_len = bmp;
	esn->replay_window = SVRCERT_XFRM_REPLAY;
	return 0;
}

int xfrm_msg_sa(const struct svrcert_xfrm_sa *sa, int type, struct nl_msg **out)
{
	struct xfrm_usersa_info info;
	struct nl_msg *msg;
	int err;

	if (type != XFRM_MSG_NEWSA && type != XFRM_MSG_UPDSA)
		return -EINVAL;
	err = sa_info(sa, &info);
	if (err)
		return err;
	msg = msg_new(type, 0, &info, sizeof(info), 256);
	if (!msg)
		return -ENOMEM;
	err = put_aead(msg, sa->key);
	if (!err)
		err = put_replay_esn(msg);
	if (err) {
		xfrm_msg_free_wiped(msg);
		return err;
	}
	*out = msg;
	return 0;
}

int xfrm_msg_allocspi(const struct svrcert_nl_addr *src, const struct svrcert_nl_addr *dst,
		      uint32_t reqid, uint32_t min, uint32_t max, struct nl_msg **out)
{
	struct xfrm_userspi_info req;

	memset(&req, 0, sizeof(req));
	if (addr_pair(src, dst, &req.info.saddr, &req.info.id.daddr))
		return -EINVAL;
	if (!min && !max) {
		min = 0x100;	/* SPIs 1..255 are reserved (RFC 4303 2.1) */
		max = 0xffffffff;
	}
	if (min < 0x100 || min > max)
		return -EINVAL;
	req.info.id.proto = IPPROTO_ESP;
	req.info.family = dst->family;
	req.info.mode = XFRM_MODE_TRANSPORT;
	req.info.reqid = reqid;
	req.min = min;
	req.max = max;
	*out = msg_new(XFRM_MSG_ALLOCSPI, 0, &req, sizeof(req), 0);
	return *out ? 0 : -ENOMEM;
}

int xfrm_msg_sa_id(int type, const struct svrcert_nl_addr *dst, uint32_t spi,
		   struct nl_msg **out)
{
	struct xfrm_usersa_id id;

	memset(&id, 0, sizeof(id));
	if ((type != XFRM_MSG_DELSA && type != XFRM_MSG_GETSA) || !spi ||
	    xfrm_addr_to_kernel(dst, &id.daddr))
		return -EINVAL;
	id.spi = htonl(spi);
	id.family = dst->family;
	id.proto = IPPROTO_ESP;
	*out = msg_new(type, 0, &id, sizeof(id), 0);
	return *out ? 0 : -ENOMEM;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_UDPLITE;
}

static int policy_sel(const struct svrcert_xfrm_policy *p, struct xfrm_selector *sel)
{
	memset(sel, 0, sizeof(*sel));
	if (addr_pair(&p->src, &p->dst, &sel->saddr, &sel->daddr))
		return -EINVAL;
	if (p->dir != XFRM_POLICY_IN && p->dir != XFRM_POLICY_OUT &&
	    p->dir != XFRM_POLICY_FWD)
		return -EINVAL;
	if ((p->sport || p->dport) && !has_ports(p->proto))
		return -EINVAL;
	sel->family = p->dst.family;
	sel->prefixlen_s = host_prefix(sel->family);
	sel->prefixlen_d = host_prefix(sel->family);
	sel->proto = p->proto;
	sel->sport = htons(p->sport);
	sel->sport_mask = p->sport ? 0xffff : 0;
	sel->dport = htons(p->dport);
	sel->dport_mask = p->dport ? 0xffff : 0;
	return 0;
}

/*
 * Template addresses stay zero: in transport mode the kernel takes the
 * flow's own addresses, and an inbound match checks proto, reqid, mode.
 */
static int put_tmpl(struct nl_msg *msg, const struct svrcert_xfrm_policy *p)
{
	struct xfrm_user_tmpl t;

	memset(&t, 0, sizeof(t));
	t.id.proto = IPPROTO_ESP;
	t.family = p->dst.family;
	t.reqid = p->reqid;
	t.mode = XFRM_MODE_TRANSPORT;
	t.aalgos = ~0u;
	t.ealgos = ~0u;
	t.calgos = ~0u;
	return nla_put(msg, XFRMA_TMPL, sizeof(t), &t) < 0 ? -ENOMEM : 0;
}

int xfrm_msg_policy(const struct svrcert_xfrm_policy *p, int type, struct nl_msg **out)
{
	struct xfrm_userpolicy_info info;
	struct nl_msg *msg;

	memset(&info, 0, sizeof(info));
	if ((type != XFRM_MSG_NEWPOLICY && type != XFRM_MSG_UPDPOLICY) ||
	    policy_sel(p, &info.sel))
		return -EINVAL;
	lifetime_infinite(&info.lft);
	info.priority = p->priority;
	info.dir = p->dir;
	info.action = XFRM_POLICY_ALLOW;
	info.share = XFRM_SHARE_ANY;
	msg = msg_new(type, 0, &info, sizeof(info), 64);
	if (!msg)
		return -ENOMEM;
	if (!p->exempt && put_tmpl(msg, p)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	*out = msg;
	return 0;
}

int xfrm_msg_policy_del(const struct svrcert_xfrm_policy *p, struct nl_msg **out)
{
	struct xfrm_userpolicy_id id;

	memset(&id, 0, sizeof(id));
	if (policy_sel(p, &id.sel))
		return -EINVAL;
	id.dir = p->dir;
	*out = msg_new(XFRM_MSG_DELPOLICY, 0, &id, sizeof(id), 0);
	return *out ? 0 : -ENOMEM;
}

int xfrm_msg_dump(int type, struct nl_msg **out)
{
	if (type != XFRM_MSG_GETSA && type != XFRM_MSG_GETPOLICY)
		return -EINVAL;
	*out = msg_new(type, NLM_F_DUMP, NULL, 0, 0);
	return *out ? 0 : -ENOMEM;
}

/* ---- replies ---------------------------------------------------------- */

/* The algorithm's name, then its key bytes wiped in the reply buffer. */
static int take_alg(struct nlattr *a, size_t hdr, char *name, size_t size)
{
	size_t len;

	if (!a)
		return 0;
	len = (size_t)nla_len(a);
	if (len < hdr)
		return -EPROTO;
	/* every xfrm_algo* starts with char alg_name[64] */
	if (name && !name[0])
		snprintf(name, size, "%.*s", 63, (const char *)nla_data(a));
	explicit_bzero((char *)nla_data(a) + 64, len - 64);
	return 0;
}

static int take_algs(struct nlattr **tb, struct svrcert_xfrm_sa_info *out)
{
	int err;

	err = take_alg(tb[XFRMA_ALG_AEAD], sizeof(struct xfrm_algo_aead), out->alg,
		       sizeof(out->alg));
	if (!err)
		err = take_alg(tb[XFRMA_ALG_CRYPT], sizeof(struct xfrm_algo), out->alg,
			       sizeof(out->alg));
	if (!err)
		err = take_alg(tb[XFRMA_ALG_AUTH], sizeof(struct xfrm_algo), NULL, 0);
	if (!err)
		err = take_alg(tb[XFRMA_ALG_AUTH_TRUNC], sizeof(struct xfrm_algo_auth),
			       NULL, 0);
	return err;
}

int xfrm_parse_sa(struct nlmsghdr *nlh, struct svrcert_xfrm_sa_info *out)
{
	struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_usersa_info *info;
	int err;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*info)) ||
	    nlmsg_parse(nlh, sizeof(*info), tb, XFRMA_MAX, NULL) < 0)
		return -EPROTO;
	info = nlmsg_data(nlh);
	if (take_algs(tb, out))
		return -EPROTO;
	err = xfrm_addr_from_kernel(&info->saddr, info->family, &out->src);
	if (!err)
		err = xfrm_addr_from_kernel(&info->id.daddr, info->family, &out->dst);
	if (err)
		return err;
	out->spi = ntohl(info->id.spi);
	out->reqid = info->reqid;
	out->proto = info->id.proto;
	out->bytes = info->curlft.bytes;
	out->packets = info->curlft.packets;
	out->add_time = info->curlft.add_time;
	out->soft_secs = info->lft.soft_add_expires_seconds;
	out->hard_secs = info->lft.hard_add_expires_seconds;
	out->replay_drops = info->stats.replay;
	out->integrity_failed = info->stats.integrity_failed;
	return 0;
}

int xfrm_parse_policy(struct nlmsghdr *nlh, struct svrcert_xfrm_policy *out)
{
	struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_userpolicy_info *info;
	struct xfrm_user_tmpl *t;
	int fam, err;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*info)) ||
	    nlmsg_parse(nlh, sizeof(*info), tb, XFRMA_MAX, NULL) < 0)
		return -EPROTO;
	info = nlmsg_data(nlh);
	fam = info->sel.family;
	err = xfrm_addr_from_kernel(&info->sel.saddr, fam, &out->src);
	if (!err)
		err = xfrm_addr_from_kernel(&info->sel.daddr, fam, &out->dst);
	if (err)
		return err;
	out->dir = info->dir;
	out->proto = info->sel.proto;
	out->sport = ntohs(info->sel.sport);
	out->dport = ntohs(info->sel.dport);
	out->priority = info->priority;
	out->exempt = !tb[XFRMA_TMPL];
	if (tb[XFRMA_TMPL]) {
		if (nla_len(tb[XFRMA_TMPL]) < (int)sizeof(*t) ||
		    nla_len(tb[XFRMA_TMPL]) % sizeof(*t))
			return -EPROTO;
		t = nla_data(tb[XFRMA_TMPL]);
		out->reqid = t->reqid;
	}
	return 0;
}
