// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "svrcert": policies, the family, the policy and
 * stats commands, and the release notifier that aborts a bulk load whose
 * socket went away. Keys and peers commands live in netlink_keys.c and
 * netlink_peers.c.
 *
 * Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM) and works on the
 * netns of the requesting socket. All commands are strictly validated
 * (resv_start_op 0): unknown attributes, bad lengths, out-of-range enums
 * and a non-zero reserved header field are rejected.
 */
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>

#include "main.h"
#include "netlink.h"
#include "netns.h"

static int svrcert_validate_keys(const struct nlattr *attr,
				 struct netlink_ext_ack *extack)
{
	int len = nla_len(attr);

	if (len == 0) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "key list is empty");
		return -EINVAL;
	}
	if (len % SVRCERT_KEY_LEN) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "key list length is not a multiple of 32 bytes");
		return -EINVAL;
	}
	if (len > SVRCERT_KEYS_PER_ATTR_MAX * SVRCERT_KEY_LEN) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "more than SVRCERT_KEYS_PER_ATTR_MAX keys in one attribute");
		return -EINVAL;
	}
	return 0;
}

static int svrcert_validate_name(const struct nlattr *attr,
				 struct netlink_ext_ack *extack)
{
	const char *name = nla_data(attr);
	int len = nla_len(attr), i;

	if (len < 2 || name[len - 1] != '\0' || strnlen(name, len) != len - 1) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "peer name must be one NUL-terminated string of 1..63 characters");
		return -EINVAL;
	}
	if (len - 1 > SVRCERT_PEER_NAME_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "peer name longer than 63 characters");
		return -EINVAL;
	}
	for (i = 0; i < len - 1; i++) {
		if (name[i] < 0x21 || name[i] > 0x7e) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "peer name holds a space or non-printable character");
			return -EINVAL;
		}
	}
	return 0;
}

const struct nla_policy svrcert_addr_policy[SVRCERT_ADDR_A_MAX + 1] = {
	[SVRCERT_ADDR_A_IPV4] = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[SVRCERT_ADDR_A_IPV6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

/* Attributes the kernel only reports are rejected when sent. */
const struct nla_policy svrcert_peer_policy[SVRCERT_PEER_A_MAX + 1] = {
	[SVRCERT_PEER_A_NAME] = NLA_POLICY_VALIDATE_FN(NLA_NUL_STRING,
						       svrcert_validate_name),
	[SVRCERT_PEER_A_CERT] = NLA_POLICY_RANGE(NLA_BINARY, 1,
						 SVRCERT_CERT_DER_MAX),
	[SVRCERT_PEER_A_STATE] = NLA_POLICY_MAX(NLA_U8, SVRCERT_STATE_MAX),
	[SVRCERT_PEER_A_ADDRS] = NLA_POLICY_NESTED(svrcert_addr_policy),
	[SVRCERT_PEER_A_FINGERPRINT] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_REVKEY] = NLA_POLICY_EXACT_LEN(SVRCERT_KEY_LEN),
	[SVRCERT_PEER_A_NOT_BEFORE] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_NOT_AFTER] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_VERDICT] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_REASON] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_RX_ACCEPTED] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_RX_DROPPED] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_PAD] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_TX_ACCEPTED] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_TX_DROPPED] = { .type = NLA_REJECT },
	[SVRCERT_PEER_A_ESP_REQUIRED] = NLA_POLICY_MAX(NLA_U8, 1),
	[SVRCERT_PEER_A_ESP_PROTO] = { .type = NLA_U8 },
	[SVRCERT_PEER_A_AUTH_PORT] = { .type = NLA_U16 },
	[SVRCERT_PEER_A_PEER_AUTH_PORT] = { .type = NLA_U16 },
	[SVRCERT_PEER_A_ESP_ADDRS] = NLA_POLICY_NESTED(svrcert_addr_policy),
};

const struct nla_policy svrcert_attr_policy[SVRCERT_A_MAX + 1] = {
	[SVRCERT_A_VERSION] = { .type = NLA_REJECT },
	[SVRCERT_A_PEER_VALIDATION] = NLA_POLICY_MAX(NLA_U8, 1),
	[SVRCERT_A_FAILURE_MODE] = NLA_POLICY_MAX(NLA_U8, SVRCERT_FAIL_MAX),
	[SVRCERT_A_SELF_STATE] = NLA_POLICY_MAX(NLA_U8, SVRCERT_STATE_MAX),
	[SVRCERT_A_PORT_MIN] = { .type = NLA_U16 },
	[SVRCERT_A_PORT_MAX] = { .type = NLA_U16 },
	[SVRCERT_A_KEYS] = NLA_POLICY_VALIDATE_FN(NLA_BINARY,
						  svrcert_validate_keys),
	[SVRCERT_A_KEY_COUNT] = { .type = NLA_U32 },
	[SVRCERT_A_PEER] = NLA_POLICY_NESTED(svrcert_peer_policy),
	[SVRCERT_A_STATS] = { .type = NLA_REJECT },
	[SVRCERT_A_EVENT] = { .type = NLA_REJECT },
	[SVRCERT_A_PAD] = { .type = NLA_REJECT },
	[SVRCERT_A_KEYS_DEL] = NLA_POLICY_VALIDATE_FN(NLA_BINARY,
						      svrcert_validate_keys),
};

/*
 * Every reply goes through here: a message with @cmd's header, the
 * attributes @fill puts in (it takes the locks it needs), sent to the
 * requester. A fill error drops the message and is the command's result.
 */
int svrcert_nl_reply(struct genl_info *info, u8 cmd,
		     int (*fill)(struct sk_buff *skb, void *arg), void *arg)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &svrcert_genl_family, 0, cmd);
	err = hdr ? fill(msg, arg) : -EMSGSIZE;
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int svrcert_policy_fill(struct sk_buff *skb, void *arg)
{
	struct svrcert_net *sn = arg;
	const struct svrcert_policy *pol;
	int err = 0;

	mutex_lock(&sn->lock);
	pol = rcu_dereference_protected(sn->policy, lockdep_is_held(&sn->lock));
	if (nla_put_u32(skb, SVRCERT_A_VERSION, SVRCERT_GENL_VERSION) ||
	    nla_put_u8(skb, SVRCERT_A_PEER_VALIDATION, pol->peer_validation) ||
	    nla_put_u8(skb, SVRCERT_A_FAILURE_MODE, pol->failure_mode) ||
	    nla_put_u8(skb, SVRCERT_A_SELF_STATE, pol->self_state) ||
	    nla_put_u16(skb, SVRCERT_A_PORT_MIN, pol->port_min) ||
	    nla_put_u16(skb, SVRCERT_A_PORT_MAX, pol->port_max))
		err = -EMSGSIZE;
	mutex_unlock(&sn->lock);
	return err;
}

static int svrcert_nl_get_policy(struct sk_buff *skb, struct genl_info *info)
{
	return svrcert_nl_reply(info, SVRCERT_CMD_GET_POLICY, svrcert_policy_fill,
				svrcert_pernet(genl_info_net(info)));
}

static int svrcert_nl_set_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_pernet(genl_info_net(info));
	struct nlattr **attrs = info->attrs;
	struct svrcert_policy pol;
	int err;

	mutex_lock(&sn->lock);
	pol = *rcu_dereference_protected(sn->policy, lockdep_is_held(&sn->lock));
	if (attrs[SVRCERT_A_PEER_VALIDATION])
		pol.peer_validation = nla_get_u8(attrs[SVRCERT_A_PEER_VALIDATION]);
	if (attrs[SVRCERT_A_FAILURE_MODE])
		pol.failure_mode = nla_get_u8(attrs[SVRCERT_A_FAILURE_MODE]);
	if (attrs[SVRCERT_A_SELF_STATE])
		pol.self_state = nla_get_u8(attrs[SVRCERT_A_SELF_STATE]);
	if (attrs[SVRCERT_A_PORT_MIN])
		pol.port_min = nla_get_u16(attrs[SVRCERT_A_PORT_MIN]);
	if (attrs[SVRCERT_A_PORT_MAX])
		pol.port_max = nla_get_u16(attrs[SVRCERT_A_PORT_MAX]);
	if (pol.port_min > pol.port_max) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[SVRCERT_A_PORT_MIN] ?:
				    attrs[SVRCERT_A_PORT_MAX],
				    "port window is empty: port_min > port_max");
		err = -EINVAL;
	} else {
		err = svrcert_netns_activate(sn) ?: svrcert_policy_replace(sn, &pol);
	}
	mutex_unlock(&sn->lock);
	return err;
}

static int svrcert_stats_fill_reasons(struct sk_buff *skb, int type,
				      const u64 *counts)
{
	struct nlattr *nest = nla_nest_start(skb, type);
	int reason;

	if (!nest)
		return -EMSGSIZE;
	/* Padding, where needed, uses type 0 (SVRCERT_REASON_UNSPEC). */
	for (reason = SVRCERT_REASON_OK; reason <= SVRCERT_REASON_MAX; reason++)
		if (nla_put_u64_64bit(skb, reason, counts[reason],
				      SVRCERT_REASON_UNSPEC))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Received (ACCEPTED, DROPPED, NOT_PEER) or sent (TX_*): the same shape. */
static int svrcert_stats_fill_dir(struct sk_buff *skb,
				  const struct svrcert_stats_sum *sum,
				  enum svrcert_dir dir)
{
	bool tx = dir == SVRCERT_DIR_TX;

	return svrcert_stats_fill_reasons(skb, tx ? SVRCERT_STATS_A_TX_ACCEPTED :
						    SVRCERT_STATS_A_ACCEPTED,
					  sum->accepted[dir]) ||
	       svrcert_stats_fill_reasons(skb, tx ? SVRCERT_STATS_A_TX_DROPPED :
						    SVRCERT_STATS_A_DROPPED,
					  sum->dropped[dir]) ||
	       nla_put_u64_64bit(skb, tx ? SVRCERT_STATS_A_TX_NOT_PEER :
					   SVRCERT_STATS_A_NOT_PEER,
				 sum->not_peer[dir], SVRCERT_STATS_A_PAD);
}

static int svrcert_stats_fill_locked(struct sk_buff *skb, struct svrcert_net *sn)
{
	struct svrcert_revset *set = rcu_dereference_protected(sn->revset,
					lockdep_is_held(&sn->lock));
	struct svrcert_stats_sum sum;
	struct nlattr *nest;

	svrcert_stats_read(&sn->stats, &sum);
	nest = nla_nest_start(skb, SVRCERT_A_STATS);
	if (!nest ||
	    svrcert_stats_fill_dir(skb, &sum, SVRCERT_DIR_RX) ||
	    svrcert_stats_fill_dir(skb, &sum, SVRCERT_DIR_TX) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_PEER_CERT_EXPIRED,
			      sum.first_seen[SVRCERT_SEEN_EXPIRED], SVRCERT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_PEER_CERT_INVALID,
			      sum.first_seen[SVRCERT_SEEN_INVALID], SVRCERT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_PEER_CERT_REVOKED,
			      sum.first_seen[SVRCERT_SEEN_REVOKED], SVRCERT_STATS_A_PAD) ||
	    nla_put_u32(skb, SVRCERT_STATS_A_KEYS, svrcert_revset_count(set)) ||
	    nla_put_u32(skb, SVRCERT_STATS_A_KEYS_MAX, set->max_keys) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_KEYS_MEM, svrcert_revset_mem(set),
			      SVRCERT_STATS_A_PAD) ||
	    nla_put_u32(skb, SVRCERT_STATS_A_PEERS, sn->peers.count) ||
	    nla_put_u32(skb, SVRCERT_STATS_A_PEERS_MAX, svrcert_max_peers) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_EVENTS_SENT, sn->events.sent,
			      SVRCERT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_EVENTS_SUPPRESSED,
			      sn->events.suppressed, SVRCERT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_KEYS_DELTAS, sn->keys_deltas,
			      SVRCERT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, SVRCERT_STATS_A_KEYS_LOADS, sn->keys_loads,
			      SVRCERT_STATS_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int svrcert_stats_fill(struct sk_buff *skb, void *arg)
{
	struct svrcert_net *sn = arg;
	int err;

	mutex_lock(&sn->lock);
	err = svrcert_stats_fill_locked(skb, sn);
	mutex_unlock(&sn->lock);
	return err;
}

static int svrcert_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	return svrcert_nl_reply(info, SVRCERT_CMD_GET_STATS, svrcert_stats_fill,
				svrcert_pernet(genl_info_net(info)));
}

static int svrcert_nl_reset_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_pernet(genl_info_net(info));

	mutex_lock(&sn->lock);
	svrcert_stats_reset(&sn->stats);
	svrcert_peers_reset_counters(&sn->peers);
	sn->events.sent = 0;
	sn->events.suppressed = 0;
	mutex_unlock(&sn->lock);
	return 0;
}

#define SVRCERT_DO(c, fn) \
	{ .cmd = (c), .doit = (fn), .flags = GENL_ADMIN_PERM }

static const struct genl_ops svrcert_genl_ops[] = {
	SVRCERT_DO(SVRCERT_CMD_GET_POLICY, svrcert_nl_get_policy),
	SVRCERT_DO(SVRCERT_CMD_SET_POLICY, svrcert_nl_set_policy),
	SVRCERT_DO(SVRCERT_CMD_ADD_KEYS, svrcert_nl_add_keys),
	SVRCERT_DO(SVRCERT_CMD_DEL_KEYS, svrcert_nl_del_keys),
	SVRCERT_DO(SVRCERT_CMD_FLUSH_KEYS, svrcert_nl_flush_keys),
	{
		.cmd = SVRCERT_CMD_GET_KEYS,
		.start = svrcert_nl_get_keys_start,
		.dumpit = svrcert_nl_get_keys,
		.done = svrcert_nl_get_keys_done,
		.flags = GENL_ADMIN_PERM,
	},
	SVRCERT_DO(SVRCERT_CMD_LOAD_BEGIN, svrcert_nl_load_begin),
	SVRCERT_DO(SVRCERT_CMD_LOAD_CHUNK, svrcert_nl_load_chunk),
	SVRCERT_DO(SVRCERT_CMD_LOAD_COMMIT, svrcert_nl_load_commit),
	SVRCERT_DO(SVRCERT_CMD_LOAD_ABORT, svrcert_nl_load_abort),
	SVRCERT_DO(SVRCERT_CMD_ADD_PEER, svrcert_nl_add_peer),
	SVRCERT_DO(SVRCERT_CMD_REPLACE_PEER, svrcert_nl_replace_peer),
	SVRCERT_DO(SVRCERT_CMD_DEL_PEER, svrcert_nl_del_peer),
	{
		.cmd = SVRCERT_CMD_GET_PEERS,
		.doit = svrcert_nl_get_peer,
		.dumpit = svrcert_nl_get_peers,
		.flags = GENL_ADMIN_PERM,
	},
	SVRCERT_DO(SVRCERT_CMD_GET_STATS, svrcert_nl_get_stats),
	SVRCERT_DO(SVRCERT_CMD_RESET_STATS, svrcert_nl_reset_stats),
	SVRCERT_DO(SVRCERT_CMD_APPLY_KEYS_DELTA, svrcert_nl_apply_keys_delta),
};

static const struct genl_multicast_group svrcert_genl_mcgrps[] = {
	[SVRCERT_MCGRP_EVENTS_ID] = {
		.name = SVRCERT_MCGRP_EVENTS,
#ifdef GENL_MCAST_CAP_NET_ADMIN
		/* CAP_NET_ADMIN over the netns, checked when joining. */
		.flags = GENL_MCAST_CAP_NET_ADMIN,
#endif
		/*
		 * Older 6.1 point releases have no per-group permission: any
		 * socket in the netns may join (Documentation/uapi.md).
		 */
	},
};

struct genl_family svrcert_genl_family __ro_after_init = {
	.name = SVRCERT_GENL_NAME,
	.version = SVRCERT_GENL_VERSION,
	.maxattr = SVRCERT_A_MAX,
	.policy = svrcert_attr_policy,
	.netnsok = true,
	/*
	 * Not under genl_mutex: every command and dump takes the per-netns
	 * config mutex, which serialises svrcert, and long work (a grace
	 * period, presizing a table) must not stall other families.
	 */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = svrcert_genl_ops,
	.n_ops = ARRAY_SIZE(svrcert_genl_ops),
	.mcgrps = svrcert_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(svrcert_genl_mcgrps),
};

/* A bulk load belongs to its socket: when the socket goes, so does it. */
static int svrcert_nl_release(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC)
		svrcert_nl_keys_release(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block svrcert_nl_notifier = {
	.notifier_call = svrcert_nl_release,
};

int svrcert_genl_register(void)
{
	int err;

	err = netlink_register_notifier(&svrcert_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&svrcert_genl_family);
	if (err)
		netlink_unregister_notifier(&svrcert_nl_notifier);
	return err;
}

void svrcert_genl_unregister(void)
{
	genl_unregister_family(&svrcert_genl_family);
	netlink_unregister_notifier(&svrcert_nl_notifier);
}
