// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the real netlink policies against crafted messages. Each case
 * builds a generic netlink message in an skb and parses it exactly as the
 * genetlink core does for our ops (nlmsg_parse: strict validation), then
 * checks the error code and that the extended ack names the problem.
 * Then the peer handler's own rules on a real certificate: a certificate
 * comes with the revocation key userspace computed, never without.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "netlink.h"
#include "peer.h"
#include "x509_test_certs.h"

struct nl_case {
	const char *name;
	void (*build)(struct sk_buff *skb);
	int err;
	const char *msg;	/* substring of the extack message, or NULL */
};

static void put_keys(struct sk_buff *skb, int len)
{
	struct nlattr *nla = nla_reserve(skb, SVRCERT_A_KEYS, len);

	if (nla)
		memset(nla_data(nla), 0x42, len);
}

static void b_keys_32(struct sk_buff *skb) { put_keys(skb, 32); }
static void b_keys_64(struct sk_buff *skb) { put_keys(skb, 64); }
static void b_keys_31(struct sk_buff *skb) { put_keys(skb, 31); }
static void b_keys_33(struct sk_buff *skb) { put_keys(skb, 33); }
static void b_keys_0(struct sk_buff *skb) { put_keys(skb, 0); }
static void b_keys_max(struct sk_buff *skb)
{
	put_keys(skb, SVRCERT_KEYS_PER_ATTR_MAX * SVRCERT_KEY_LEN);
}
static void b_keys_over(struct sk_buff *skb)
{
	put_keys(skb, (SVRCERT_KEYS_PER_ATTR_MAX + 1) * SVRCERT_KEY_LEN);
}
static void b_unknown(struct sk_buff *skb) { nla_put_u32(skb, SVRCERT_A_MAX + 1, 1); }
static void b_mode_2(struct sk_buff *skb) { nla_put_u8(skb, SVRCERT_A_FAILURE_MODE, 2); }
static void b_mode_u32(struct sk_buff *skb) { nla_put_u32(skb, SVRCERT_A_FAILURE_MODE, 1); }
static void b_valid_2(struct sk_buff *skb) { nla_put_u8(skb, SVRCERT_A_PEER_VALIDATION, 2); }
static void b_self_6(struct sk_buff *skb) { nla_put_u8(skb, SVRCERT_A_SELF_STATE, 6); }
static void b_version(struct sk_buff *skb) { nla_put_u32(skb, SVRCERT_A_VERSION, 1); }
static void b_stats(struct sk_buff *skb)
{
	nla_nest_end(skb, nla_nest_start(skb, SVRCERT_A_STATS));
}
static void b_policy_ok(struct sk_buff *skb)
{
	nla_put_u8(skb, SVRCERT_A_PEER_VALIDATION, 1);
	nla_put_u8(skb, SVRCERT_A_FAILURE_MODE, SVRCERT_FAIL_HARD);
	nla_put_u8(skb, SVRCERT_A_SELF_STATE, SVRCERT_STATE_VALID);
	nla_put_u16(skb, SVRCERT_A_PORT_MIN, 1000);
	nla_put_u16(skb, SVRCERT_A_PORT_MAX, 2000);
}

/* A peer nest; @what says which part to spoil. */
enum peer_spoil {
	PEER_OK, NAME_64, NAME_EMPTY, NAME_SPACE, NAME_NO_NUL, STATE_6,
	SEND_FINGERPRINT, ADDR_V4_5, ADDR_UNKNOWN, NO_NESTED_FLAG, CERT_EMPTY,
	CERT_HUGE, REVKEY_31, REVKEY_33,
};

static void put_peer(struct sk_buff *skb, enum peer_spoil what)
{
	static const u8 v6[16] = { 0xfd, [15] = 1 };
	char name[80];
	struct nlattr *peer, *addrs, *cert;

	peer = what == NO_NESTED_FLAG ? nla_nest_start_noflag(skb, SVRCERT_A_PEER) :
					nla_nest_start(skb, SVRCERT_A_PEER);
	memset(name, 'a', sizeof(name));
	if (what == NAME_64)
		name[64] = 0;
	else if (what == NAME_EMPTY)
		name[0] = 0;
	else
		name[10] = 0;
	if (what == NAME_SPACE)
		name[3] = ' ';
	if (what == NAME_NO_NUL)
		nla_put(skb, SVRCERT_PEER_A_NAME, 10, name);
	else
		nla_put_string(skb, SVRCERT_PEER_A_NAME, name);
	cert = nla_reserve(skb, SVRCERT_PEER_A_CERT, what == CERT_EMPTY ? 0 :
			   what == CERT_HUGE ? SVRCERT_CERT_DER_MAX + 1 : 100);
	if (cert)
		memset(nla_data(cert), 0x30, nla_len(cert));
	nla_put_u8(skb, SVRCERT_PEER_A_STATE, what == STATE_6 ? 6 : SVRCERT_STATE_VALID);
	/* The revocation key comes with the certificate (userspace's). */
	nla_put(skb, SVRCERT_PEER_A_REVKEY, what == REVKEY_31 ? 31 :
		what == REVKEY_33 ? 33 : SVRCERT_KEY_LEN, name);
	if (what == SEND_FINGERPRINT)
		nla_put(skb, SVRCERT_PEER_A_FINGERPRINT, 32, name);
	addrs = nla_nest_start(skb, SVRCERT_PEER_A_ADDRS);
	nla_put(skb, SVRCERT_ADDR_A_IPV4, what == ADDR_V4_5 ? 5 : 4, "\x0a\0\0\x01\x02");
	nla_put(skb, what == ADDR_UNKNOWN ? SVRCERT_ADDR_A_MAX + 1 : SVRCERT_ADDR_A_IPV6,
		16, v6);
	nla_nest_end(skb, addrs);
	nla_nest_end(skb, peer);
}

#define PEER_BUILDER(w) static void b_peer_##w(struct sk_buff *skb) { put_peer(skb, w); }
PEER_BUILDER(PEER_OK)
PEER_BUILDER(NAME_64)
PEER_BUILDER(NAME_EMPTY)
PEER_BUILDER(NAME_SPACE)
PEER_BUILDER(NAME_NO_NUL)
PEER_BUILDER(STATE_6)
PEER_BUILDER(SEND_FINGERPRINT)
PEER_BUILDER(ADDR_V4_5)
PEER_BUILDER(ADDR_UNKNOWN)
PEER_BUILDER(NO_NESTED_FLAG)
PEER_BUILDER(CERT_EMPTY)
PEER_BUILDER(CERT_HUGE)
PEER_BUILDER(REVKEY_31)
PEER_BUILDER(REVKEY_33)

static const struct nl_case nl_cases[] = {
	{ "one key", b_keys_32, 0, NULL },
	{ "two keys", b_keys_64, 0, NULL },
	{ "2040 keys", b_keys_max, 0, NULL },
	{ "short key", b_keys_31, -EINVAL, "multiple of 32" },
	{ "long key", b_keys_33, -EINVAL, "multiple of 32" },
	{ "empty key list", b_keys_0, -EINVAL, "empty" },
	{ "2041 keys", b_keys_over, -EINVAL, "SVRCERT_KEYS_PER_ATTR_MAX" },
	{ "unknown attribute", b_unknown, -EINVAL, "Unknown attribute" },
	{ "failure mode 2", b_mode_2, -ERANGE, "out of range" },
	{ "failure mode as u32", b_mode_u32, -EINVAL, "length" },
	{ "peer-validation 2", b_valid_2, -ERANGE, "out of range" },
	{ "self state 6", b_self_6, -ERANGE, "out of range" },
	{ "version sent", b_version, -EINVAL, NULL },
	{ "stats sent", b_stats, -EINVAL, NULL },
	{ "whole policy", b_policy_ok, 0, NULL },
	{ "good peer", b_peer_PEER_OK, 0, NULL },
	{ "name of 64", b_peer_NAME_64, -EINVAL, "longer than 63" },
	{ "empty name", b_peer_NAME_EMPTY, -EINVAL, "1..63" },
	{ "name with space", b_peer_NAME_SPACE, -EINVAL, "space" },
	{ "name without NUL", b_peer_NAME_NO_NUL, -EINVAL, NULL },
	{ "peer state 6", b_peer_STATE_6, -ERANGE, "out of range" },
	{ "fingerprint sent", b_peer_SEND_FINGERPRINT, -EINVAL, NULL },
	{ "5-byte IPv4", b_peer_ADDR_V4_5, -ERANGE, "size out of range" },
	{ "unknown address type", b_peer_ADDR_UNKNOWN, -EINVAL, "Unknown attribute" },
	{ "nest without NLA_F_NESTED", b_peer_NO_NESTED_FLAG, -EINVAL, "NLA_F_NESTED" },
	{ "empty certificate", b_peer_CERT_EMPTY, -ERANGE, "size out of range" },
	{ "certificate over 16 KiB", b_peer_CERT_HUGE, -ERANGE, "size out of range" },
	{ "31-byte revocation key", b_peer_REVKEY_31, -ERANGE, "size out of range" },
	{ "33-byte revocation key", b_peer_REVKEY_33, -ERANGE, "size out of range" },
};

static void nl_policy_case(struct kunit *test, const struct nl_case *c)
{
	struct nlattr *tb[SVRCERT_A_MAX + 1];
	struct netlink_ext_ack extack = {};
	struct genlmsghdr *gh;
	struct nlmsghdr *nlh;
	struct sk_buff *skb;
	int err;

	skb = alloc_skb(2 * 65536, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	nlh = nlmsg_put(skb, 0, 1, GENL_ID_CTRL + 1, GENL_HDRLEN, NLM_F_REQUEST);
	KUNIT_ASSERT_NOT_NULL(test, nlh);
	gh = nlmsg_data(nlh);
	gh->cmd = SVRCERT_CMD_SET_POLICY;
	gh->version = SVRCERT_GENL_VERSION;
	c->build(skb);
	nlmsg_end(skb, nlh);

	err = nlmsg_parse(nlh, GENL_HDRLEN, tb, SVRCERT_A_MAX,
			  svrcert_attr_policy, &extack);
	KUNIT_EXPECT_EQ_MSG(test, err, c->err, "%s: %s", c->name,
			    extack._msg ?: "(no message)");
	if (c->err)
		KUNIT_EXPECT_TRUE_MSG(test, extack._msg || extack.bad_attr,
				      "%s: error without extack", c->name);
	if (c->msg)
		KUNIT_EXPECT_TRUE_MSG(test, extack._msg && strstr(extack._msg, c->msg),
				      "%s: message '%s' lacks '%s'", c->name,
				      extack._msg ?: "", c->msg);
	kfree_skb(skb);
}

static void nl_policy_rejections(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nl_cases); i++)
		nl_policy_case(test, &nl_cases[i]);
}

enum revkey_case { WITH_CERT, CERT_ONLY, REVKEY_ONLY };

/* Parse a peer nest (real certificate "ca", @how) as the handler does. */
static int parse_peer(struct kunit *test, enum revkey_case how,
		      struct svrcert_peer *old, struct svrcert_peer *peer,
		      struct netlink_ext_ack *extack)
{
	static const u8 v4[4] = { 10, 0, 0, 1 };
	struct nlattr *tb[SVRCERT_PEER_A_MAX + 1], *nest, *addrs;
	struct sk_buff *skb = alloc_skb(8192, GFP_KERNEL);
	u8 key[SVRCERT_KEY_LEN];
	int err;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	memset(key, 0xc3, sizeof(key));
	nest = nla_nest_start(skb, SVRCERT_A_PEER);
	nla_put_string(skb, SVRCERT_PEER_A_NAME, "r1");
	if (how != REVKEY_ONLY)
		nla_put(skb, SVRCERT_PEER_A_CERT, sizeof(cert_ca_der), cert_ca_der);
	if (how != CERT_ONLY)
		nla_put(skb, SVRCERT_PEER_A_REVKEY, sizeof(key), key);
	addrs = nla_nest_start(skb, SVRCERT_PEER_A_ADDRS);
	nla_put(skb, SVRCERT_ADDR_A_IPV4, sizeof(v4), v4);
	nla_nest_end(skb, addrs);
	nla_nest_end(skb, nest);
	err = nla_parse_nested(tb, SVRCERT_PEER_A_MAX, nest, svrcert_peer_policy,
			       extack);
	KUNIT_ASSERT_EQ(test, err, 0);
	err = svrcert_parse_peer(peer, old, tb, extack);
	if (!err)
		KUNIT_EXPECT_EQ(test, memcmp(peer->cert.revkey, key, sizeof(key)), 0);
	if (err && how == CERT_ONLY)
		KUNIT_EXPECT_PTR_EQ(test, extack->bad_attr,
				    (const struct nlattr *)tb[SVRCERT_PEER_A_CERT]);
	kfree_skb(skb);
	return err;
}

static void expect_msg(struct kunit *test, struct netlink_ext_ack *extack,
		       const char *want)
{
	KUNIT_EXPECT_TRUE_MSG(test, extack->_msg && strstr(extack->_msg, want),
			      "message '%s' lacks '%s'", extack->_msg ?: "", want);
}

/*
 * The kernel keeps the key it is given (userspace canonicalises issuer
 * names; the UAPI's Keys) and refuses a certificate without one, and a key
 * without a certificate, adding or replacing, naming the attribute.
 */
static void nl_peer_revkey_with_cert(struct kunit *test)
{
	struct svrcert_peer *peer = svrcert_peer_alloc(), *old = svrcert_peer_alloc();
	struct netlink_ext_ack extack = {};

	KUNIT_ASSERT_TRUE(test, peer && old);
	KUNIT_EXPECT_EQ(test, parse_peer(test, WITH_CERT, NULL, old, &extack), 0);
	KUNIT_EXPECT_EQ(test, memcmp(old->cert.fingerprint, cert_ca_fp, 32), 0);

	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, parse_peer(test, CERT_ONLY, NULL, peer, &extack), -EINVAL);
	expect_msg(test, &extack, "SVRCERT_PEER_A_CERT without SVRCERT_PEER_A_REVKEY");
	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, parse_peer(test, CERT_ONLY, old, peer, &extack), -EINVAL);
	expect_msg(test, &extack, "without SVRCERT_PEER_A_REVKEY");

	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, parse_peer(test, REVKEY_ONLY, old, peer, &extack), -EINVAL);
	expect_msg(test, &extack, "SVRCERT_PEER_A_REVKEY without SVRCERT_PEER_A_CERT");
	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, parse_peer(test, REVKEY_ONLY, NULL, peer, &extack), -EINVAL);
	expect_msg(test, &extack, "without SVRCERT_PEER_A_CERT");
	kfree(peer);
	kfree(old);
}

static struct kunit_case netlink_test_cases[] = {
	KUNIT_CASE(nl_policy_rejections),
	KUNIT_CASE(nl_peer_revkey_with_cert),
	{}
};

static struct kunit_suite netlink_test_suite = {
	.name = "svrcert_netlink",
	.test_cases = netlink_test_cases,
};

kunit_test_suite(netlink_test_suite);
