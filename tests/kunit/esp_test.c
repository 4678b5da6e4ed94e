// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: "unprotected from a peer" on real packets through svrcert_judge().
 *
 * One peer at 192.0.2.1 and 2001:db8::1 with a valid certificate. Each
 * case builds an skb as PRE_ROUTING sees it (data at the network header),
 * optionally with a sec_path holding one xfrm state of a given protocol
 * and source (what xfrm_input() leaves on a decrypted packet), and checks
 * the reason, the verdict under both failure modes and that the counter
 * of that reason moved. A peer without ESP required sees every case as
 * before: ok.
 */
#include <kunit/test.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/timekeeping.h>
#include <net/ipv6.h>
#include <net/xfrm.h>

#include "env.h"
#include "hooks.h"
#include "netns.h"
#include "peer.h"
#include "policy.h"
#include "revset.h"

#define PEER4	htonl(0xc0000201)	/* 192.0.2.1 */
#define OTHER4	htonl(0xc0000202)	/* 192.0.2.2: another peer's SA */
#define AUTH	4430			/* our listener */
#define PAUTH	4431			/* the peer's listener */

struct esp_env {
	struct svrcert_net *sn;
	struct svrcert_peer *peer;
	struct in6_addr peer6;
	struct svrcert_stats_sum *before, *after;
};

static int esp_test_init(struct kunit *test)
{
	struct esp_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	struct svrcert_peer *peer;
	time64_t now = ktime_get_real_seconds();

	KUNIT_ASSERT_NOT_NULL(test, env);
	env->sn = kunit_kzalloc(test, sizeof(*env->sn), GFP_KERNEL);
	env->before = kunit_kzalloc(test, 2 * sizeof(*env->before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->sn);
	KUNIT_ASSERT_NOT_NULL(test, env->before);
	env->after = env->before + 1;
	RCU_INIT_POINTER(env->sn->revset, svrcert_revset_create(4, 16));
	KUNIT_ASSERT_NOT_NULL(test, rcu_access_pointer(env->sn->revset));
	KUNIT_ASSERT_EQ(test, svrcert_peers_init(&env->sn->peers), 0);
	KUNIT_ASSERT_EQ(test, svrcert_stats_init(&env->sn->stats), 0);
	peer = svrcert_peer_alloc();
	KUNIT_ASSERT_NOT_NULL(test, peer);
	strscpy(peer->name, "p", sizeof(peer->name));
	ipv6_addr_set_v4mapped(PEER4, &peer->addrs[0]);
	env->peer6 = (struct in6_addr){ { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } } };
	peer->addrs[1] = env->peer6;
	peer->naddrs = 2;
	peer->cert.state = SVRCERT_STATE_VALID;
	peer->cert.not_before = now - 3600;
	peer->cert.not_after = now + 3600;
	peer->auth_port = AUTH;
	peer->peer_auth_port = PAUTH;
	KUNIT_ASSERT_EQ(test, svrcert_peer_publish(&env->sn->peers, peer, NULL,
						   1, NULL), 0);
	env->peer = svrcert_peer_find(&env->sn->peers, "p");
	KUNIT_ASSERT_NOT_NULL(test, env->peer);
	env->peer->seen = ~0UL;		/* no events: no ring here */
	test->priv = env;
	return 0;
}

static void esp_test_exit(struct kunit *test)
{
	struct esp_env *env = test->priv;

	svrcert_peers_exit(&env->sn->peers);
	rcu_barrier();
	svrcert_stats_exit(&env->sn->stats);
	svrcert_revset_destroy(rcu_access_pointer(env->sn->revset));
}

struct pkt {
	bool v6;
	u8 proto;
	u16 sport, dport;
	bool later_frag;	/* a non-first fragment */
	u8 sa_proto;		/* 0: no sec_path */
	bool sa_other;		/* the SA's source is not the peer's */
};

/*
 * The sec_path xfrm_input() leaves: a state it holds a reference on. This
 * one is never inserted, so it is born dead (its last put frees it).
 */
static void add_sa(struct kunit *test, struct sk_buff *skb,
		   const struct pkt *p, const struct esp_env *env)
{
	struct sec_path *sp = secpath_set(skb);
	struct xfrm_state *x = xfrm_state_alloc(&init_net);

	KUNIT_ASSERT_NOT_NULL(test, sp);
	KUNIT_ASSERT_NOT_NULL(test, x);
	x->km.state = XFRM_STATE_DEAD;
	x->id.proto = p->sa_proto;
	x->props.family = p->v6 ? AF_INET6 : AF_INET;
	if (p->v6)
		x->props.saddr.in6 = env->peer6;
	else
		x->props.saddr.a4 = PEER4;
	if (p->sa_other && p->v6)
		x->props.saddr.in6.s6_addr[15] = 2;
	else if (p->sa_other)
		x->props.saddr.a4 = OTHER4;
	sp->xvec[sp->len++] = x;
}

static struct sk_buff *make_skb(struct kunit *test, const struct pkt *p,
				const struct esp_env *env)
{
	struct sk_buff *skb = alloc_skb(128, GFP_KERNEL);
	__be16 *ports;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reset_network_header(skb);
	if (p->v6) {
		struct ipv6hdr *h = skb_put_zero(skb, sizeof(*h));
		struct frag_hdr *f;

		h->version = 6;
		h->saddr = env->peer6;
		h->nexthdr = p->later_frag ? NEXTHDR_FRAGMENT : p->proto;
		if (p->later_frag) {
			f = skb_put_zero(skb, sizeof(*f));
			f->nexthdr = p->proto;
			f->frag_off = htons(64);
		}
	} else {
		struct iphdr *h = skb_put_zero(skb, sizeof(*h));

		h->version = 4;
		h->ihl = 5;
		h->protocol = p->proto;
		h->saddr = PEER4;
		h->frag_off = htons(p->later_frag ? 8 : 0);
	}
	ports = skb_put_zero(skb, 8);
	ports[0] = htons(p->sport);
	ports[1] = htons(p->dport);
	if (p->sa_proto)
		add_sa(test, skb, p, env);
	return skb;
}

/* Judge @p as received; check reason, verdict and the counter moved. */
static void expect_rx(struct kunit *test, const struct pkt *p,
		      enum svrcert_reason want, const char *what)
{
	struct esp_env *env = test->priv;
	struct sk_buff *skb = make_skb(test, p, env);
	enum svrcert_reason reason;
	enum svrcert_verdict verdict;
	struct svrcert_policy pol;
	struct in6_addr addr;
	unsigned int mode;
	bool drop;

	if (p->v6)
		addr = env->peer6;
	else
		ipv6_addr_set_v4mapped(PEER4, &addr);
	for (mode = 0; mode <= SVRCERT_FAIL_MAX; mode++) {
		svrcert_policy_defaults(&pol);
		pol.peer_validation = true;
		pol.self_state = SVRCERT_STATE_VALID;
		pol.failure_mode = mode;
		svrcert_stats_read(&env->sn->stats, env->before);
		local_bh_disable();
		rcu_read_lock();
		verdict = svrcert_judge(env->sn, &pol, skb, &addr,
					SVRCERT_DIR_RX, &reason);
		rcu_read_unlock();
		local_bh_enable();
		svrcert_stats_read(&env->sn->stats, env->after);
		drop = want != SVRCERT_REASON_OK && mode == SVRCERT_FAIL_HARD;
		KUNIT_EXPECT_EQ_MSG(test, reason, want, "%s mode=%u", what, mode);
		KUNIT_EXPECT_EQ_MSG(test, verdict == SVRCERT_VERDICT_DROP, drop,
				    "%s mode=%u", what, mode);
		if (drop)
			KUNIT_EXPECT_EQ_MSG(test, env->after->dropped[0][want],
					    env->before->dropped[0][want] + 1,
					    "%s mode=%u", what, mode);
		else
			KUNIT_EXPECT_EQ_MSG(test, env->after->accepted[0][want],
					    env->before->accepted[0][want] + 1,
					    "%s mode=%u", what, mode);
	}
	kfree_skb(skb);
}

static const struct {
	struct pkt p;
	bool unprotected;	/* with ESP required; always ok without */
	const char *what;
} cases[] = {
	{ { .proto = IPPROTO_UDP, .dport = 9 }, true, "plain udp" },
	{ { .v6 = true, .proto = IPPROTO_UDP, .dport = 9 }, true, "plain udp6" },
	{ { .proto = IPPROTO_ICMP }, true, "plain icmp" },
	{ { .proto = IPPROTO_ESP }, false, "esp carrier" },
	{ { .v6 = true, .proto = IPPROTO_ESP }, false, "esp6 carrier" },
	{ { .proto = IPPROTO_ESP, .later_frag = true }, false, "esp fragment" },
	{ { .v6 = true, .proto = IPPROTO_ESP, .later_frag = true }, false,
	  "esp6 fragment" },
	{ { .proto = IPPROTO_UDP, .later_frag = true }, true, "udp fragment" },
	{ { .proto = IPPROTO_UDP, .dport = 9, .sa_proto = IPPROTO_ESP }, false,
	  "decrypted by the peer's SA" },
	{ { .v6 = true, .proto = IPPROTO_UDP, .dport = 9,
	    .sa_proto = IPPROTO_ESP }, false, "decrypted6 by the peer's SA" },
	{ { .proto = IPPROTO_UDP, .dport = 9, .sa_proto = IPPROTO_ESP,
	    .sa_other = true }, true, "decrypted by another's SA" },
	{ { .v6 = true, .proto = IPPROTO_UDP, .dport = 9,
	    .sa_proto = IPPROTO_ESP, .sa_other = true }, true,
	  "decrypted6 by another's SA" },
	{ { .proto = IPPROTO_UDP, .dport = 9, .sa_proto = IPPROTO_AH }, true,
	  "AH, not ESP" },
	{ { .proto = IPPROTO_TCP, .sport = 40000, .dport = AUTH }, false,
	  "tcp to our listener" },
	{ { .proto = IPPROTO_TCP, .sport = PAUTH, .dport = 40000 }, false,
	  "tcp from its listener" },
	{ { .v6 = true, .proto = IPPROTO_TCP, .sport = 40000, .dport = AUTH },
	  false, "tcp6 to our listener" },
	{ { .proto = IPPROTO_TCP, .sport = AUTH, .dport = 40000 }, true,
	  "tcp from our port" },
	{ { .proto = IPPROTO_TCP, .sport = 40000, .dport = PAUTH }, true,
	  "tcp to its port" },
	{ { .proto = IPPROTO_UDP, .sport = 40000, .dport = AUTH }, true,
	  "udp to our listener" },
	{ { .proto = IPPROTO_TCP, .dport = AUTH, .later_frag = true }, true,
	  "tcp fragment, no ports" },
};

static void esp_required_unprotected(struct kunit *test)
{
	struct esp_env *env = test->priv;
	unsigned int i;

	env->peer->esp_required = true;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_rx(test, &cases[i].p, cases[i].unprotected ?
			  SVRCERT_REASON_UNPROTECTED : SVRCERT_REASON_OK,
			  cases[i].what);
}

static void esp_not_required_unchanged(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_rx(test, &cases[i].p, SVRCERT_REASON_OK, cases[i].what);
}

/* protect = udp: only UDP must come in ESP. */
static void esp_proto_narrows(struct kunit *test)
{
	struct esp_env *env = test->priv;
	struct pkt p = { .proto = IPPROTO_UDP, .dport = 9 };

	env->peer->esp_required = true;
	env->peer->esp_proto = IPPROTO_UDP;
	expect_rx(test, &p, SVRCERT_REASON_UNPROTECTED, "udp, protect=udp");
	p.proto = IPPROTO_TCP;
	expect_rx(test, &p, SVRCERT_REASON_OK, "tcp, protect=udp");
	p.proto = IPPROTO_ICMP;
	expect_rx(test, &p, SVRCERT_REASON_OK, "icmp, protect=udp");
}

/*
 * ESP runs from the IPv4 address only (svrcertd keys one path): the IPv6
 * one sends plain, legitimately; the IPv4 one must not.
 */
static void esp_addrs_narrow(struct kunit *test)
{
	struct esp_env *env = test->priv;
	struct pkt p = { .proto = IPPROTO_UDP, .dport = 9 };

	env->peer->esp_required = true;
	ipv6_addr_set_v4mapped(PEER4, &env->peer->esp_addrs[0]);
	env->peer->n_esp_addrs = 1;
	expect_rx(test, &p, SVRCERT_REASON_UNPROTECTED, "udp from the ESP address");
	p.v6 = true;
	expect_rx(test, &p, SVRCERT_REASON_OK, "udp6 from another address");
	env->peer->esp_addrs[0] = env->peer6;
	expect_rx(test, &p, SVRCERT_REASON_UNPROTECTED, "udp6, ESP from there");
}

/* Ports 0: no exemption at all. */
static void esp_no_auth_ports(struct kunit *test)
{
	struct esp_env *env = test->priv;
	struct pkt p = { .proto = IPPROTO_TCP, .sport = 0, .dport = 0 };

	env->peer->esp_required = true;
	env->peer->auth_port = 0;
	env->peer->peer_auth_port = 0;
	expect_rx(test, &p, SVRCERT_REASON_UNPROTECTED, "tcp port 0");
}

/*
 * A bad certificate is the reason whatever the packet; sent packets and
 * peer-validation off are not judged for protection.
 */
static void esp_other_reasons_first(struct kunit *test)
{
	struct esp_env *env = test->priv;
	struct sk_buff *skb;
	struct pkt p = { .proto = IPPROTO_UDP, .dport = 9 };
	enum svrcert_reason reason;
	struct svrcert_policy pol;
	struct in6_addr addr;

	env->peer->esp_required = true;
	skb = make_skb(test, &p, env);
	ipv6_addr_set_v4mapped(PEER4, &addr);
	svrcert_policy_defaults(&pol);
	pol.self_state = SVRCERT_STATE_VALID;
	local_bh_disable();
	rcu_read_lock();
	svrcert_judge(env->sn, &pol, skb, &addr, SVRCERT_DIR_RX, &reason);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_DISABLED);
	pol.peer_validation = true;
	svrcert_judge(env->sn, &pol, skb, &addr, SVRCERT_DIR_TX, &reason);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_OK);
	env->peer->cert.state = SVRCERT_STATE_REVOKED;
	svrcert_judge(env->sn, &pol, skb, &addr, SVRCERT_DIR_RX, &reason);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_REVOKED);
	rcu_read_unlock();
	local_bh_enable();
	kfree_skb(skb);
}

static struct kunit_case esp_test_cases[] = {
	KUNIT_CASE(esp_required_unprotected),
	KUNIT_CASE(esp_not_required_unchanged),
	KUNIT_CASE(esp_proto_narrows),
	KUNIT_CASE(esp_addrs_narrow),
	KUNIT_CASE(esp_no_auth_ports),
	KUNIT_CASE(esp_other_reasons_first),
	{}
};

static struct kunit_suite esp_test_suite = {
	.suite_init = svrcert_kunit_env_init,
	.suite_exit = svrcert_kunit_env_exit,
	.name = "svrcert_esp",
	.init = esp_test_init,
	.exit = esp_test_exit,
	.test_cases = esp_test_cases,
};

kunit_test_suite(esp_test_suite);
