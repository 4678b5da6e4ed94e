// SPDX-License-Identifier: GPL-2.0
/*
 * The data path. Runs under rcu_read_lock (netfilter holds it): one hash
 * lookup for the source address of a packet received, or the destination
 * address of one sent, and for a peer the verdict plus per-CPU counters.
 * No allocation, no sleeping, no logging.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/timekeeping.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include <net/xfrm.h>

#include "hooks.h"
#include "netns.h"
#include "verdict.h"

/*
 * Did xfrm decrypt @skb with an ESP SA whose source is an address of
 * @peer? Only xfrm_input() fills the sec_path, after the SA (found by our
 * destination address and the SPI) authenticated the packet, and it
 * holds a reference on each state for the skb's life: reading them needs
 * no lock. The SA's source is compared, not only "some sec_path", because
 * xfrm finds an inbound SA without looking at the source address: the
 * holder of another peer's key could otherwise wrap a packet with this
 * peer's address in its own ESP.
 */
static bool svrcert_esp_from(const struct svrcert_peer *peer,
			     const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_XFRM)
	const struct sec_path *sp = skb_sec_path(skb);
	const struct xfrm_state *x;
	struct in6_addr src;
	u32 j;
	int i;

	for (i = 0; sp && i < sp->len; i++) {
		x = sp->xvec[i];
		if (x->id.proto != IPPROTO_ESP)
			continue;
		if (x->props.family == AF_INET)
			ipv6_addr_set_v4mapped(x->props.saddr.a4, &src);
		else if (x->props.family == AF_INET6)
			src = x->props.saddr.in6;
		else
			continue;
		for (j = 0; j < peer->naddrs; j++)
			if (ipv6_addr_equal(&src, &peer->addrs[j]))
				return true;
	}
#endif
	return false;
}

/*
 * A packet received from @peer, which requires ESP: @proto its transport
 * protocol, @thoff where that header is (-1: a non-first fragment).
 * Unprotected unless it is
 *  - ESP itself: the carrier, not yet decrypted (this hook is at
 *    PRE_ROUTING, before xfrm_input()). Its content, once decrypted,
 *    comes back through PRE_ROUTING (xfrm4/6_transport_finish(), or
 *    ip_rcv() after GRO decapsulation) with the sec_path, and is judged
 *    then; a forged ESP packet fails xfrm's authentication and goes
 *    nowhere;
 *  - of a protocol the peer's ESP does not cover (protect = ...);
 *  - decrypted by an ESP SA of this peer (svrcert_esp_from());
 *  - TCP to our or from the peer's authentication port, exempt as in
 *    svrcertd's xfrm policies (it must work before keys exist).
 * A fragment whose ports are not in it is not the authentication channel
 * (TCP, DF set), so a plain one is unprotected.
 */
static bool svrcert_unprotected(const struct svrcert_peer *peer,
				const struct sk_buff *skb, u8 proto, int thoff)
{
	__be16 _ports[2];
	const __be16 *ports;

	if (proto == IPPROTO_ESP ||
	    (peer->esp_proto && proto != peer->esp_proto) ||
	    svrcert_esp_from(peer, skb))
		return false;
	if (proto != IPPROTO_TCP || thoff < 0)
		return true;
	ports = skb_header_pointer(skb, thoff, sizeof(_ports), _ports);
	if (!ports)
		return true;
	return !((peer->auth_port && ntohs(ports[1]) == peer->auth_port) ||
		 (peer->peer_auth_port &&
		  ntohs(ports[0]) == peer->peer_auth_port));
}

/*
 * Does @peer's ESP run from @src? svrcertd keys one path per peer: its
 * other addresses send plain, legitimately.
 */
static bool svrcert_esp_covers(const struct svrcert_peer *peer,
			       const struct in6_addr *src)
{
	u32 i;

	if (!peer->n_esp_addrs)
		return true;
	for (i = 0; i < peer->n_esp_addrs; i++)
		if (ipv6_addr_equal(src, &peer->esp_addrs[i]))
			return true;
	return false;
}

/*
 * svrcert_unprotected() for a packet received from @peer, its network
 * header at hand; its source is the address the hook judged. Out of line:
 * only the packets of peers that require ESP come here, and inline its
 * locals would cost every packet a stack canary.
 */
static noinline bool svrcert_skb_unprotected(const struct svrcert_peer *peer,
					     const struct sk_buff *skb)
{
	struct in6_addr src4;
	__be16 frag_off = 0;
	u8 nexthdr, _nh;
	const u8 *nh;
	int thoff;

	if (ip_hdr(skb)->version == 4) {
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, &src4);
		if (!svrcert_esp_covers(peer, &src4))
			return false;
		thoff = ntohs(ip_hdr(skb)->frag_off) & IP_OFFSET ? -1 :
			ip_hdrlen(skb);
		return svrcert_unprotected(peer, skb, ip_hdr(skb)->protocol,
					   thoff);
	}
	if (!svrcert_esp_covers(peer, &ipv6_hdr(skb)->saddr))
		return false;
	nexthdr = ipv6_hdr(skb)->nexthdr;
	thoff = ipv6_skip_exthdr(skb, sizeof(struct ipv6hdr), &nexthdr,
				 &frag_off);
	if (thoff >= 0 && (frag_off & htons(IP6_OFFSET))) {
		/*
		 * Without nf_defrag_ipv6, IPv6 reassembles after this hook;
		 * on a later fragment ipv6_skip_exthdr() stops at the
		 * fragment header, whose first byte says what is fragmented
		 * (ESP, for a large ESP packet).
		 */
		nh = skb_header_pointer(skb, thoff, sizeof(_nh), &_nh);
		nexthdr = nh ? *nh : NEXTHDR_FRAGMENT;
		thoff = -1;
	}
	return svrcert_unprotected(peer, skb, nexthdr, thoff);
}

/*
 * svrcert_judge(), inline into each hook (@dir a constant there) with the
 * peer lookup and the verdict: as calls, with their register saves and
 * stack canaries, they were a good part of the hook's cost.
 */
static __always_inline enum svrcert_verdict
svrcert_judge_inline(struct svrcert_net *sn, const struct svrcert_policy *pol,
		     const struct sk_buff *skb, const struct in6_addr *addr,
		     enum svrcert_dir dir, enum svrcert_reason *reason)
{
	struct svrcert_peer *peer;
	enum svrcert_verdict verdict;
	bool dropped, unprotected;
	time64_t now;

	peer = svrcert_peer_lookup(&sn->peers, addr);
	if (!peer) {
		svrcert_stats_not_peer(sn->stats.pcpu, dir);
		*reason = SVRCERT_REASON_UNSPEC;
		return SVRCERT_VERDICT_ACCEPT;
	}
	/* Every packet: a certificate that expires mid-flow is caught. */
	now = ktime_get_real_seconds();
	/* Only received packets: xfrm protects sent ones after this hook. */
	unprotected = dir == SVRCERT_DIR_RX && peer->esp_required &&
		      svrcert_skb_unprotected(peer, skb);
	verdict = svrcert_verdict_inline(&peer->cert,
					 rcu_dereference(sn->revset), now, pol,
					 unprotected, reason);
	dropped = verdict == SVRCERT_VERDICT_DROP;
	svrcert_stats_packet(sn->stats.pcpu, dir, dropped, *reason);
	svrcert_peer_count(peer, dir, dropped);
	svrcert_events_note(sn, peer, *reason, dropped, now);
	return verdict;
}

enum svrcert_verdict svrcert_judge(struct svrcert_net *sn,
				   const struct svrcert_policy *pol,
				   const struct sk_buff *skb,
				   const struct in6_addr *addr,
				   enum svrcert_dir dir,
				   enum svrcert_reason *reason)
{
	return svrcert_judge_inline(sn, pol, skb, addr, dir, reason);
}

/* Out of line: its locals would cost every packet a stack canary. */
static noinline bool
svrcert_port_in_window(const struct svrcert_policy *pol,
		       const struct sk_buff *skb, u8 proto, int thoff)
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

/*
 * The port window, the address and the verdict for one packet; @dir says
 * whose address: the source of one received, the destination of one
 * sent. The window is on the destination port either way (the port the
 * packet is for). Inline into each hook, so @dir is a constant there.
 */
static inline unsigned int
svrcert_hook4(struct svrcert_net *sn, struct sk_buff *skb, enum svrcert_dir dir)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct svrcert_policy *pol;
	enum svrcert_reason reason;
	struct in6_addr addr;

	pol = rcu_dereference(sn->policy);
	if (!svrcert_policy_all_ports(pol) &&
	    !(ntohs(iph->frag_off) & IP_OFFSET) &&
	    !svrcert_port_in_window(pol, skb, iph->protocol, ip_hdrlen(skb)))
		return NF_ACCEPT;
	ipv6_addr_set_v4mapped(dir == SVRCERT_DIR_RX ? iph->saddr : iph->daddr,
			       &addr);
	if (svrcert_judge_inline(sn, pol, skb, &addr, dir, &reason) ==
	    SVRCERT_VERDICT_DROP)
		return NF_DROP;
	return NF_ACCEPT;
}

/* Out of line, as svrcert_port_in_window(). */
static noinline bool svrcert_ipv6_outside_window(const struct svrcert_policy *pol,
						 const struct sk_buff *skb)
{
	u8 nexthdr = ipv6_hdr(skb)->nexthdr;
	__be16 frag_off = 0;
	int thoff;

	thoff = ipv6_skip_exthdr(skb, sizeof(struct ipv6hdr), &nexthdr,
				 &frag_off);
	if (thoff < 0 || (frag_off & htons(IP6_OFFSET)))
		return false;
	return !svrcert_port_in_window(pol, skb, nexthdr, thoff);
}

static inline unsigned int
svrcert_hook6(struct svrcert_net *sn, struct sk_buff *skb, enum svrcert_dir dir)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	const struct svrcert_policy *pol;
	enum svrcert_reason reason;

	pol = rcu_dereference(sn->policy);
	if (!svrcert_policy_all_ports(pol) &&
	    svrcert_ipv6_outside_window(pol, skb))
		return NF_ACCEPT;
	if (svrcert_judge_inline(sn, pol, skb,
				 dir == SVRCERT_DIR_RX ? &ip6h->saddr :
							 &ip6h->daddr,
				 dir, &reason) == SVRCERT_VERDICT_DROP)
		return NF_DROP;
	return NF_ACCEPT;
}

/*
 * The four hooks are flattened: every inline function under them is
 * expanded in place, the peer table's rhashtable lookup with its hash and
 * compare included (left to itself the compiler makes that one call per
 * packet, with the v4-mapped key on the stack and a stack canary).
 *
 * Received: PRE_ROUTING always runs in softirq, BHs are off.
 */
static __flatten unsigned int
svrcert_hook_ipv4_in(void *priv, struct sk_buff *skb,
		     const struct nf_hook_state *state)
{
	return svrcert_hook4(priv, skb, SVRCERT_DIR_RX);
}

static __flatten unsigned int
svrcert_hook_ipv6_in(void *priv, struct sk_buff *skb,
		     const struct nf_hook_state *state)
{
	return svrcert_hook6(priv, skb, SVRCERT_DIR_RX);
}

/*
 * Sent: a forwarded packet comes in softirq, but a locally sent one in
 * process context, preemptible under preemptible RCU: the per-CPU
 * counters need the task kept on its CPU (svrcert_count_begin()).
 */
static __flatten unsigned int
svrcert_hook_ipv4_out(void *priv, struct sk_buff *skb,
		      const struct nf_hook_state *state)
{
	unsigned int verdict;

	svrcert_count_begin();
	verdict = svrcert_hook4(priv, skb, SVRCERT_DIR_TX);
	svrcert_count_end();
	return verdict;
}

static __flatten unsigned int
svrcert_hook_ipv6_out(void *priv, struct sk_buff *skb,
		      const struct nf_hook_state *state)
{
	unsigned int verdict;

	svrcert_count_begin();
	verdict = svrcert_hook6(priv, skb, SVRCERT_DIR_TX);
	svrcert_count_end();
	return verdict;
}

static const struct {
	nf_hookfn *hook;
	u8 pf;
	u8 hooknum;
	int priority;
} svrcert_hooks[SVRCERT_HOOKS] = {
	{ svrcert_hook_ipv4_in, NFPROTO_IPV4, NF_INET_PRE_ROUTING,
	  SVRCERT_HOOK_PRIORITY_IPV4 },
	{ svrcert_hook_ipv6_in, NFPROTO_IPV6, NF_INET_PRE_ROUTING,
	  SVRCERT_HOOK_PRIORITY_IPV6 },
	{ svrcert_hook_ipv4_out, NFPROTO_IPV4, NF_INET_POST_ROUTING,
	  SVRCERT_HOOK_PRIORITY_IPV4_OUT },
	{ svrcert_hook_ipv6_out, NFPROTO_IPV6, NF_INET_POST_ROUTING,
	  SVRCERT_HOOK_PRIORITY_IPV6_OUT },
};

int svrcert_hooks_register(struct svrcert_net *sn)
{
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(sn->hook_ops) != SVRCERT_HOOKS);
	for (i = 0; i < SVRCERT_HOOKS; i++)
		sn->hook_ops[i] = (struct nf_hook_ops) {
			.hook = svrcert_hooks[i].hook,
			.priv = sn,
			.pf = svrcert_hooks[i].pf,
			.hooknum = svrcert_hooks[i].hooknum,
			.priority = svrcert_hooks[i].priority,
		};
	return nf_register_net_hooks(sn->net, sn->hook_ops,
				     ARRAY_SIZE(sn->hook_ops));
}

void svrcert_hooks_unregister(struct svrcert_net *sn)
{
	nf_unregister_net_hooks(sn->net, sn->hook_ops,
				ARRAY_SIZE(sn->hook_ops));
}
