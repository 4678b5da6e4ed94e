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
void svrcert_genl_unregister(void);

/* Point extack at @attr with a message of static lifetime. */
static inline void svrcert_nl_err(struct netlink_ext_ack *extack,
				  const struct nlattr *attr, const char *msg)
{
	if (extack) {
		extack->_msg = msg;
		extack->bad_attr = attr;
	}
}

/* netlink_keys.c */
int svrcert_nl_add_keys(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_del_keys(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_flush_keys(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_get_keys(struct sk_buff *skb, struct netlink_callback *cb);
int svrcert_nl_load_begin(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_load_chunk(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_load_commit(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_load_abort(struct sk_buff *skb, struct genl_info *info);
void svrcert_nl_keys_release(struct net *net, u32 portid);

/* netlink_peers.c */
int svrcert_nl_add_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_replace_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_del_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_get_peer(struct sk_buff *skb, struct genl_info *info);
int svrcert_nl_get_peers(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* _SVRCERT_NETLINK_H */
