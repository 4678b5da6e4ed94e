// SPDX-License-Identifier: GPL-2.0
/*
 * Peer commands. The kernel derives fingerprint and validity from the
 * certificate DER itself (x509.c); userspace supplies name, certificate,
 * the certificate's revocation key (its issuer name canonicalised, which
 * the kernel leaves to userspace: see the UAPI's Keys), addresses and its
 * authentication result (state).
 */
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <linux/timekeeping.h>

#include "main.h"
#include "netlink.h"
#include "netns.h"
#include "x509.h"

/* A nest of enum svrcert_addr_attr into @addrs (v4-mapped), *@n of them. */
static int svrcert_parse_addrs(struct in6_addr *addrs, u32 *n,
			       struct nlattr *nest,
			       struct netlink_ext_ack *extack)
{
	struct in6_addr addr;
	struct nlattr *attr;
	int rem;
	u32 i;

	*n = 0;
	nla_for_each_nested(attr, nest, rem) {
		if (nla_type(attr) == SVRCERT_ADDR_A_IPV4)
			ipv6_addr_set_v4mapped(nla_get_in_addr(attr), &addr);
		else
			addr = nla_get_in6_addr(attr);
		for (i = 0; i < *n; i++) {
			if (ipv6_addr_equal(&addrs[i], &addr)) {
				NL_SET_ERR_MSG_ATTR(extack, attr,
						    "duplicate peer address");
				return -EINVAL;
			}
		}
		if (*n == SVRCERT_PEER_ADDRS_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "more than SVRCERT_PEER_ADDRS_MAX addresses");
			return -EINVAL;
		}
		addrs[(*n)++] = addr;
	}
	if (!*n) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "at least one address is needed");
		return -EINVAL;
	}
	return 0;
}

/*
 * CERT and REVKEY come together: a certificate without the key would leave
 * the peer unrevocable, and no default key is made up here (one definition,
 * userspace's; see the UAPI's Keys).
 */
static int svrcert_parse_cert(struct svrcert_peer *peer, struct nlattr **tb,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *attr = tb[SVRCERT_PEER_A_CERT];
	struct svrcert_cert_facts facts;
	const char *why = "malformed certificate";
	int err;

	if (!tb[SVRCERT_PEER_A_REVKEY]) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "SVRCERT_PEER_A_CERT without SVRCERT_PEER_A_REVKEY");
		return -EINVAL;
	}
	err = svrcert_x509_parse(nla_data(attr), nla_len(attr), &facts, &why);
	if (err) {
		svrcert_nl_err(extack, attr, why);
		return err;
	}
	memcpy(peer->cert.fingerprint, facts.fingerprint, SVRCERT_KEY_LEN);
	nla_memcpy(peer->cert.revkey, tb[SVRCERT_PEER_A_REVKEY], SVRCERT_KEY_LEN);
	peer->cert.not_before = facts.not_before;
	peer->cert.not_after = facts.not_after;
	return 0;
}

/* ESP's five attributes: each one left out is @old's (or 0 for a new peer). */
static int svrcert_parse_esp(struct svrcert_peer *peer, struct svrcert_peer *old,
			     struct nlattr **tb, struct netlink_ext_ack *extack)
{
	struct nlattr *a;

	if (old) {
		peer->esp_required = old->esp_required;
		peer->esp_proto = old->esp_proto;
		peer->auth_port = old->auth_port;
		peer->peer_auth_port = old->peer_auth_port;
		peer->n_esp_addrs = old->n_esp_addrs;
		memcpy(peer->esp_addrs, old->esp_addrs, sizeof(peer->esp_addrs));
	}
	if (tb[SVRCERT_PEER_A_ESP_ADDRS]) {
		int err = svrcert_parse_addrs(peer->esp_addrs, &peer->n_esp_addrs,
					      tb[SVRCERT_PEER_A_ESP_ADDRS],
					      extack);

		if (err)
			return err;
	}
	if (tb[SVRCERT_PEER_A_ESP_REQUIRED])
		peer->esp_required = nla_get_u8(tb[SVRCERT_PEER_A_ESP_REQUIRED]);
	a = tb[SVRCERT_PEER_A_ESP_PROTO];
	if (a && nla_get_u8(a) == IPPROTO_ESP) {
		/* ESP is the carrier: it cannot itself arrive inside ESP. */
		NL_SET_ERR_MSG_ATTR(extack, a, "ESP cannot protect ESP (50)");
		return -EINVAL;
	}
	if (a)
		peer->esp_proto = nla_get_u8(a);
	if (tb[SVRCERT_PEER_A_AUTH_PORT])
		peer->auth_port = nla_get_u16(tb[SVRCERT_PEER_A_AUTH_PORT]);
	if (tb[SVRCERT_PEER_A_PEER_AUTH_PORT])
		peer->peer_auth_port =
			nla_get_u16(tb[SVRCERT_PEER_A_PEER_AUTH_PORT]);
	return 0;
}

/*
 * Fill @peer from the SVRCERT_A_PEER nest. When replacing (@old set),
 * certificate, addresses, state and the ESP attributes may be left out
 * and are kept.
 */
int svrcert_parse_peer(struct svrcert_peer *peer, struct svrcert_peer *old,
		       struct nlattr **tb, struct netlink_ext_ack *extack)
{
	int err;

	nla_strscpy(peer->name, tb[SVRCERT_PEER_A_NAME], sizeof(peer->name));
	err = svrcert_parse_esp(peer, old, tb, extack);
	if (err)
		return err;
	if (tb[SVRCERT_PEER_A_CERT]) {
		err = svrcert_parse_cert(peer, tb, extack);
		if (err)
			return err;
	} else if (tb[SVRCERT_PEER_A_REVKEY]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[SVRCERT_PEER_A_REVKEY],
				    "SVRCERT_PEER_A_REVKEY without SVRCERT_PEER_A_CERT");
		return -EINVAL;
	} else if (old) {
		peer->cert = old->cert;
	} else {
		NL_SET_ERR_MSG(extack, "missing SVRCERT_PEER_A_CERT");
		return -EINVAL;
	}
	if (tb[SVRCERT_PEER_A_STATE])
		peer->cert.state = nla_get_u8(tb[SVRCERT_PEER_A_STATE]);
	else
		peer->cert.state = old ? old->cert.state : SVRCERT_STATE_UNKNOWN;
	if (tb[SVRCERT_PEER_A_ADDRS])
		return svrcert_parse_addrs(peer->addrs, &peer->naddrs,
					   tb[SVRCERT_PEER_A_ADDRS], extack);
	if (!old) {
		NL_SET_ERR_MSG(extack, "missing SVRCERT_PEER_A_ADDRS");
		return -EINVAL;
	}
	peer->naddrs = old->naddrs;
	memcpy(peer->addrs, old->addrs, sizeof(peer->addrs));
	return 0;
}

static int svrcert_peer_attrs(struct genl_info *info, struct nlattr **tb)
{
	int err;

	if (!info->attrs[SVRCERT_A_PEER]) {
		NL_SET_ERR_MSG(info->extack, "missing SVRCERT_A_PEER");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, SVRCERT_A_PEER);
		return -EINVAL;
	}
	err = nla_parse_nested(tb, SVRCERT_PEER_A_MAX, info->attrs[SVRCERT_A_PEER],
			       svrcert_peer_policy, info->extack);
	if (err)
		return err;
	if (!tb[SVRCERT_PEER_A_NAME]) {
		NL_SET_ERR_MSG(info->extack, "missing SVRCERT_PEER_A_NAME");
		NL_SET_ERR_ATTR_MISS(info->extack, info->attrs[SVRCERT_A_PEER],
				     SVRCERT_PEER_A_NAME);
		return -EINVAL;
	}
	return 0;
}

static int svrcert_nl_set_peer(struct genl_info *info, bool replace)
{
	struct svrcert_net *sn = svrcert_pernet(genl_info_net(info));
	struct nlattr *tb[SVRCERT_PEER_A_MAX + 1];
	struct svrcert_peer *peer, *old;
	int err;

	err = svrcert_peer_attrs(info, tb);
	if (err)
		return err;
	peer = svrcert_peer_alloc();
	if (!peer)
		return -ENOMEM;
	mutex_lock(&sn->lock);
	old = svrcert_peer_find(&sn->peers, nla_data(tb[SVRCERT_PEER_A_NAME]));
	if (old && !replace) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[SVRCERT_PEER_A_NAME],
				    "a peer of that name exists");
		err = -EEXIST;
		goto out;
	}
	err = svrcert_parse_peer(peer, old, tb, info->extack) ?:
	      svrcert_netns_activate(sn);
	if (!err) {
		/* Consumes @peer, even on error. */
		err = svrcert_peer_publish(&sn->peers, peer, old,
					   svrcert_max_peers, info->extack);
		peer = NULL;
	}
out:
	mutex_unlock(&sn->lock);
	svrcert_peer_free(peer);
	return err;
}

int svrcert_nl_add_peer(struct sk_buff *skb, struct genl_info *info)
{
	return svrcert_nl_set_peer(info, false);
}

int svrcert_nl_replace_peer(struct sk_buff *skb, struct genl_info *info)
{
	return svrcert_nl_set_peer(info, true);
}

int svrcert_nl_del_peer(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_pernet(genl_info_net(info));
	struct nlattr *tb[SVRCERT_PEER_A_MAX + 1];
	struct svrcert_peer *peer;
	int err;

	err = svrcert_peer_attrs(info, tb);
	if (err)
		return err;
	mutex_lock(&sn->lock);
	peer = svrcert_peer_find(&sn->peers, nla_data(tb[SVRCERT_PEER_A_NAME]));
	if (peer) {
		svrcert_peer_remove(&sn->peers, peer);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[SVRCERT_PEER_A_NAME],
				    "no peer of that name");
		err = -ENOENT;
	}
	mutex_unlock(&sn->lock);
	return err;
}

static int svrcert_fill_addrs(struct sk_buff *skb, int type,
			      const struct in6_addr *addrs, u32 n)
{
	struct nlattr *nest;
	const struct in6_addr *a;
	u32 i;
	int err;

	if (!n)
		return 0;	/* ESP_ADDRS never set (ADDRS has at least one) */
	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		a = &addrs[i];
		if (ipv6_addr_v4mapped(a))
			err = nla_put_in_addr(skb, SVRCERT_ADDR_A_IPV4,
					      a->s6_addr32[3]);
		else
			err = nla_put_in6_addr(skb, SVRCERT_ADDR_A_IPV6, a);
		if (err)
			return err;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int svrcert_fill_counters(struct sk_buff *skb,
				 const struct svrcert_peer_sums *n)
{
	static const u16 pad = SVRCERT_PEER_A_PAD;

	return nla_put_u64_64bit(skb, SVRCERT_PEER_A_RX_ACCEPTED,
				 n->accepted[SVRCERT_DIR_RX], pad) ||
	       nla_put_u64_64bit(skb, SVRCERT_PEER_A_RX_DROPPED,
				 n->dropped[SVRCERT_DIR_RX], pad) ||
	       nla_put_u64_64bit(skb, SVRCERT_PEER_A_TX_ACCEPTED,
				 n->accepted[SVRCERT_DIR_TX], pad) ||
	       nla_put_u64_64bit(skb, SVRCERT_PEER_A_TX_DROPPED,
				 n->dropped[SVRCERT_DIR_TX], pad);
}

/* Caller holds sn->lock. */
static int svrcert_fill_peer(struct sk_buff *skb, struct svrcert_net *sn,
			     struct svrcert_peer *peer)
{
	struct svrcert_peer_cert *c = &peer->cert;
	enum svrcert_reason reason;
	enum svrcert_verdict verdict;
	struct nlattr *nest;
	struct svrcert_peer_sums n;

	rcu_read_lock();
	/* The verdict of a packet that is protected, or needs not be. */
	verdict = svrcert_verdict(c, rcu_dereference(sn->revset),
				  ktime_get_real_seconds(),
				  rcu_dereference(sn->policy), false, &reason);
	rcu_read_unlock();
	svrcert_peer_counters_read(peer, &n);
	nest = nla_nest_start(skb, SVRCERT_A_PEER);
	if (!nest ||
	    nla_put_string(skb, SVRCERT_PEER_A_NAME, peer->name) ||
	    nla_put_u8(skb, SVRCERT_PEER_A_STATE, c->state) ||
	    svrcert_fill_addrs(skb, SVRCERT_PEER_A_ADDRS, peer->addrs,
			       peer->naddrs) ||
	    nla_put(skb, SVRCERT_PEER_A_FINGERPRINT, SVRCERT_KEY_LEN, c->fingerprint) ||
	    nla_put(skb, SVRCERT_PEER_A_REVKEY, SVRCERT_KEY_LEN, c->revkey) ||
	    nla_put_s64(skb, SVRCERT_PEER_A_NOT_BEFORE, c->not_before, SVRCERT_PEER_A_PAD) ||
	    nla_put_s64(skb, SVRCERT_PEER_A_NOT_AFTER, c->not_after, SVRCERT_PEER_A_PAD) ||
	    nla_put_u8(skb, SVRCERT_PEER_A_VERDICT, verdict) ||
	    nla_put_u8(skb, SVRCERT_PEER_A_REASON, reason) ||
	    nla_put_u8(skb, SVRCERT_PEER_A_ESP_REQUIRED, peer->esp_required) ||
	    nla_put_u8(skb, SVRCERT_PEER_A_ESP_PROTO, peer->esp_proto) ||
	    nla_put_u16(skb, SVRCERT_PEER_A_AUTH_PORT, peer->auth_port) ||
	    nla_put_u16(skb, SVRCERT_PEER_A_PEER_AUTH_PORT, peer->peer_auth_port) ||
	    svrcert_fill_addrs(skb, SVRCERT_PEER_A_ESP_ADDRS, peer->esp_addrs,
			       peer->n_esp_addrs) ||
	    svrcert_fill_counters(skb, &n))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

struct svrcert_get_peer {
	struct svrcert_net *sn;
	const struct nlattr *name;
	struct netlink_ext_ack *extack;
};

static int svrcert_get_peer_fill(struct sk_buff *skb, void *arg)
{
	struct svrcert_get_peer *req = arg;
	struct svrcert_net *sn = req->sn;
	struct svrcert_peer *peer;
	int err;

	mutex_lock(&sn->lock);
	peer = svrcert_peer_find(&sn->peers, nla_data(req->name));
	if (peer) {
		err = svrcert_fill_peer(skb, sn, peer);
	} else {
		NL_SET_ERR_MSG_ATTR(req->extack, req->name, "no peer of that name");
		err = -ENOENT;
	}
	mutex_unlock(&sn->lock);
	return err;
}

int svrcert_nl_get_peer(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[SVRCERT_PEER_A_MAX + 1];
	struct svrcert_get_peer req = {
		.sn = svrcert_pernet(genl_info_net(info)),
		.extack = info->extack,
	};
	int err;

	err = svrcert_peer_attrs(info, tb);
	if (err)
		return err;
	req.name = tb[SVRCERT_PEER_A_NAME];
	return svrcert_nl_reply(info, SVRCERT_CMD_GET_PEERS,
				svrcert_get_peer_fill, &req);
}

/*
 * Cursor in cb->args[0]: the id to go on from (svrcert_peer_next()), so a
 * dump resumed after peers came and went neither repeats nor skips one
 * that stayed; NLM_F_DUMP_INTR still says the table changed meanwhile.
 */
int svrcert_nl_get_peers(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct svrcert_net *sn = svrcert_pernet(sock_net(skb->sk));
	unsigned long cursor = cb->args[0], next;
	struct svrcert_peer *peer;
	void *hdr;

	mutex_lock(&sn->lock);
	cb->seq = sn->peers.gen;
	for (next = cursor; (peer = svrcert_peer_next(&sn->peers, &next));
	     cursor = next) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &svrcert_genl_family,
				  NLM_F_MULTI, SVRCERT_CMD_GET_PEERS);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (svrcert_fill_peer(skb, sn, peer)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&sn->lock);
	cb->args[0] = cursor;
	return skb->len;
}
