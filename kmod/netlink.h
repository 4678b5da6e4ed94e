/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SVRCERT_NETLINK_H
#define _SVRCERT_NETLINK_H

#include <net/genetlink.h>
#include <linux/svrcert.h>

/* Index of SVRCERT_MCGRP_EVENTS in the family's group table. */
#define SVRCERT_MCGRP_EVENTS_ID	0

extern struct genl_family svrcert_genl_family;

/* The real policies, one per attribute set (KUnit parses with them). */
extern const struct nla_policy svrcert_attr_policy[SVRCERT_A_MAX + 1];
extern const struct nla_policy svrcert_peer_policy[SVRCERT_PEER_A_MAX + 1];
extern const struct nla_policy svrcert_addr_policy[SVRCERT_ADDR_A_MAX + 1];

int svrcert_genl_register(void);
int svrcert_nl_reply(struct genl_info *info, u8 cmd,
		     int (*fill)(struct sk_buff *skb, void *arg), void *arg);
void svrcert_genl_unregister(void);

/*
 * Point extack at @attr with @msg, a message of static lifetime chosen at
 * run time (x509.c's reason). NL_SET_ERR_MSG() takes literals only, and
 * 6.1 has no NL_SET_ERR_MSG_FMT(); where the kernel has it, use it.
 */
static inline void svrcert_nl_err(struct netlink_ext_ack *extack,
				  const struct nlattr *attr, const char *msg)
{
	NL_SET_BAD_ATTR(extack, attr);
#ifdef NL_SET_ERR_MSG_FMT
	NL_SET_ERR_MSG_FMT(extack, "%s", msg);
#else
	if (extack)
		extack->_msg = msg;
#endif
}

/* netlink_keys.c */
int svrcert_nl_add_keys(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_del_keys(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_flush_keys(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_get_keys_start(struct netlink_callback *cb);
int svrcert_nl_get_keys(struct sk_buff *skb, struct netlink_callback *cb);
int svrcert_nl_get_keys_done(struct netlink_callback *cb);
int svrcert_nl_load_begin(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_load_chunk(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_load_commit(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_load_abort(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_apply_keys_delta(struct sk_buff *skb, struct genl_info *info);
void svrcert_nl_keys_release(struct net *net, u32 portid);

/* netlink_peers.c */
struct svrcert_peer;
/* Fill @peer from a parsed SVRCERT_A_PEER nest; @old when replacing. */
int svrcert_parse_peer(struct svrcert_peer *peer, struct svrcert_peer *old,
		       struct nlattr **tb, struct netlink_ext_ack *extack);
int svrcert_nl_add_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_replace_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_del_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_get_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_get_peers(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* _SVRCERT_NETLINK_H */
