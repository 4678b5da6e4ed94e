/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SVRCERT_HOOKS_H
#define _SVRCERT_HOOKS_H

#include <linux/in6.h>
#include <linux/svrcert.h>

#include "stats.h"

struct svrcert_net;
struct svrcert_policy;
struct sk_buff;

/*
 * Received: netfilter PRE_ROUTING, after defrag and the raw table, before
 * conntrack: reassembled packets (ports visible), the operator's raw rules
 * applied first, and a dropped packet never creates a conntrack entry.
 */
#define SVRCERT_HOOK_PRIORITY_IPV4	(NF_IP_PRI_RAW + 10)
#define SVRCERT_HOOK_PRIORITY_IPV6	(NF_IP6_PRI_RAW + 10)
/*
 * Sent: POST_ROUTING (local and forwarded packets, the destination final
 * after DNAT), after the operator's filter and mangle rules, before
 * source NAT and conntrack confirmation: a dropped packet never gets a
 * NAT binding or a confirmed conntrack entry.
 */
#define SVRCERT_HOOK_PRIORITY_IPV4_OUT	(NF_IP_PRI_NAT_SRC - 10)
#define SVRCERT_HOOK_PRIORITY_IPV6_OUT	(NF_IP6_PRI_NAT_SRC - 10)
/* IPv4 and IPv6, received and sent. */
#define SVRCERT_HOOKS			4

int svrcert_hooks_register(struct svrcert_net *sn);
void svrcert_hooks_unregister(struct svrcert_net *sn);

/*
 * Judge one packet @skb from (@dir RX) or to (TX) @addr (v4-mapped for
 * IPv4) and count it. @skb is looked at only when received from a peer
 * that requires ESP. RCU; BHs off or see svrcert_count_begin().
 */
enum svrcert_verdict svrcert_judge(struct svrcert_net *sn,
				   const struct svrcert_policy *pol,
				   const struct sk_buff *skb,
				   const struct in6_addr *addr,
				   enum svrcert_dir dir,
				   enum svrcert_reason *reason);

#endif /* _SVRCERT_HOOKS_H */
