// SPDX-License-Identifier: GPL-2.0
/*
 * The data path. Runs in softirq under rcu_read_lock (netfilter holds it):
 * one hash lookup for the source address, and for a peer the verdict plus
 * per-CPU counters. No allocation, no sleeping, no logging.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/timekeeping.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "hooks.h"
#include "netns.h"
#include "verdict.h"

enum svrcert_verdict svrcert_judge(struct svrcert_net *sn,
				   const struct svrcert_policy *pol,
				   const struct in6_addr *saddr,
				   enum svrcert_reason *reason)
{
	struct svrcert_peer *peer;
	enum svrcert_verdict verdict;
	bool dropped;
	time64_t now;

	peer = svrcert_peer_lookup(&sn->peers, saddr);
	if (!peer) {
		svrcert_stats_not_peer(sn->stats.pcpu);
		*reason = SVRCERT_REASON_UNSPEC;
		return SVRCERT_VERDICT_ACCEPT;
	}
	/* Every packet: a certificate that expires mid-flow is caught. */
	now = ktime_get_real_seconds();
	verdict = svrcert_verdict(&peer->cert, rcu_dereference(sn->revset),
				  now, pol, reason);
	dropped = verdict == SVRCERT_VERDICT_DROP;
	svrcert_stats_packet(sn->stats.pcpu, dropped, *reason);
	svrcert_peer_count(peer, dropped);
	svrcert_events_note(sn, peer, *reason, dropped, now);
	return verdict;
}

static bool svrcert_port_in_window(const struct svrcert_policy *pol,
				   const struct sk_buff *skb, u8 proto,
				   int thoff)
{
	__be16 _ports[2];
	const __be16 *ports;
	u16 dport;

	/* Anything whose port we cannot see from a peer is judged. */
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return true;
	ports = skb_header_pointer(skb, thoff, sizeof(_ports), _ports);
	if (!ports)
		return true;
	dport = ntohs(ports[1]);
	return dport >= pol->port_min && dport <= pol->port_max;
}

static unsigned int svrcert_hook_ipv4(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct svrcert_net *sn = priv;
	const struct svrcert_policy *pol;
	enum svrcert_reason reason;
	struct in6_addr saddr;

	pol = rcu_dereference(sn->policy);
	if (!svrcert_policy_all_ports(pol) &&
	    !(ntohs(iph->frag_off) & IP_OFFSET) &&
	    !svrcert_port_in_window(pol, skb, iph->protocol, ip_hdrlen(skb)))
		return NF_ACCEPT;
	ipv6_addr_set_v4mapped(iph->saddr, &saddr);
	if (svrcert_judge(sn, pol, &saddr, &reason) == SVRCERT_VERDICT_DROP)
		return NF_DROP;
	return NF_ACCEPT;
}

static bool svrcert_ipv6_outside_window(const struct svrcert_policy *pol,
					const struct sk_buff *skb)
{
	u8 nexthdr = ipv6_hdr(skb)->nexthdr;
	__be16 frag_off = 0;
	int thoff;

	if (svrcert_policy_all_ports(pol))
		return false;
	thoff = ipv6_skip_exthdr(skb, sizeof(struct ipv6hdr), &nexthdr,
				 &frag_off);
	if (thoff < 0 || (frag_off & htons(IP6_OFFSET)))
		return false;
	return !svrcert_port_in_window(pol, skb, nexthdr, thoff);
}

static unsigned int svrcert_hook_ipv6(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	struct svrcert_net *sn = priv;
	const struct svrcert_policy *pol;
	enum svrcert_reason reason;

	pol = rcu_dereference(sn->policy);
	if (svrcert_ipv6_outside_window(pol, skb))
		return NF_ACCEPT;
	if (svrcert_judge(sn, pol, &ipv6_hdr(skb)->saddr, &reason) ==
	    SVRCERT_VERDICT_DROP)
		return NF_DROP;
	return NF_ACCEPT;
}

int svrcert_hooks_register(struct svrcert_net *sn)
{
	sn->hook_ops[0] = (struct nf_hook_ops) {
		.hook = svrcert_hook_ipv4,
		.priv = sn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = SVRCERT_HOOK_PRIORITY_IPV4,
	};
	sn->hook_ops[1] = (struct nf_hook_ops) {
		.hook = svrcert_hook_ipv6,
		.priv = sn,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = SVRCERT_HOOK_PRIORITY_IPV6,
	};
	return nf_register_net_hooks(sn->net, sn->hook_ops,
				     ARRAY_SIZE(sn->hook_ops));
}

void svrcert_hooks_unregister(struct svrcert_net *sn)
{
	nf_unregister_net_hooks(sn->net, sn->hook_ops,
				ARRAY_SIZE(sn->hook_ops));
}
