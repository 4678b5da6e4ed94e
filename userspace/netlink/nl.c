// SPDX-License-Identifier: GPL-2.0
/*
 * libsvrcert netlink client core: connection, request/ack exchange with
 * extended acks, policy and stats. Keys, peers and events have their own
 * files (nl_keys.c, nl_peers.c, nl_events.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>

#include "nl_priv.h"

#define SOCK_BUF (1 << 20)

static __thread char open_errmsg[256];

const char *svrcert_nl_open_errmsg(void)
{
	return open_errmsg;
}

const char *svrcert_nl_errmsg(const struct svrcert_nl *nl)
{
	return nl ? nl->errmsg : "";
}

int nl_nle_to_errno(int nle)
{
	static const int map[] = {
		[NLE_INTR] = EINTR, [NLE_BAD_SOCK] = EBADF, [NLE_AGAIN] = EAGAIN,
		[NLE_NOMEM] = ENOMEM, [NLE_EXIST] = EEXIST, [NLE_INVAL] = EINVAL,
		[NLE_RANGE] = ERANGE, [NLE_MSGSIZE] = EMSGSIZE,
		[NLE_OPNOTSUPP] = EOPNOTSUPP, [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
		[NLE_OBJ_NOTFOUND] = ENOENT, [NLE_BUSY] = EBUSY,
		[NLE_NOACCESS] = EACCES, [NLE_PERM] = EPERM, [NLE_NODEV] = ENODEV,
		[NLE_DUMP_INTR] = EAGAIN,
	};
	int e = nle < 0 ? -nle : nle;

	if (e > 0 && (size_t)e < sizeof(map) / sizeof(map[0]) && map[e])
		return -map[e];
	return -EPROTO;
}

/* Ask for extended acks, and don't have failed 64 KiB requests echoed back. */
void nl_enable_ext_ack(struct nl_sock *sk)
{
	int one = 1, fd = nl_socket_get_fd(sk);

	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
}

int svrcert_nl_open(struct svrcert_nl **out)
{
	struct svrcert_nl *nl;
	int err;

	open_errmsg[0] = '\0';
	nl = calloc(1, sizeof(*nl));
	if (!nl || !(nl->sk = nl_socket_alloc())) {
		free(nl);
		snprintf(open_errmsg, sizeof(open_errmsg), "out of memory");
		return -ENOMEM;
	}
	err = genl_connect(nl->sk);
	if (err < 0) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "cannot open a generic netlink socket: %s", nl_geterror(err));
		goto fail;
	}
	nl_enable_ext_ack(nl->sk);
	/*
	 * libnl's 32 KiB default barely fits one full key chunk and not a
	 * window of acks; the kernel caps this at wmem_max/rmem_max anyway.
	 */
	(void)nl_socket_set_buffer_size(nl->sk, SOCK_BUF, SOCK_BUF);
	err = genl_ctrl_resolve(nl->sk, SVRCERT_GENL_NAME);
	if (err < 0) {
		snprintf(open_errmsg, sizeof(open_errmsg), err == -NLE_OBJ_NOTFOUND ?
			 "generic netlink family '" SVRCERT_GENL_NAME
			 "' not found: is the svrcert module loaded?" :
			 "cannot resolve generic netlink family '" SVRCERT_GENL_NAME "': %s",
			 nl_geterror(err));
		goto fail;
	}
	nl->family = err;
	*out = nl;
	return 0;
fail:
	nl_socket_free(nl->sk);
	free(nl);
	return nl_nle_to_errno(err);
}

void svrcert_nl_close(struct svrcert_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

struct nl_msg *nl_request(struct svrcert_nl *nl, uint8_t cmd, int flags, size_t extra)
{
	struct nl_msg *msg = nlmsg_alloc_size(NLMSG_HDRLEN + GENL_HDRLEN + 256 + extra);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, SVRCERT_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- the exchange ---------------------------------------------------- */

/* TLVs after the (capped) echoed request carry the kernel's explanation. */
static void take_extack(struct svrcert_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	struct nlattr *msg;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	off = NLMSG_ALIGN(off);
	if (nlh->nlmsg_len <= off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), NULL) < 0)
		return;
	msg = tb[NLMSGERR_ATTR_MSG];
	if (msg && nla_len(msg) > 0 && memchr(nla_data(msg), '\0', (size_t)nla_len(msg)))
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", (const char *)nla_data(msg));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nl_transact *t = arg;

	if (!t->error) {
		t->error = e->error < 0 ? e->error : -EPROTO;
		take_extack(t->nl, e);
	}
	t->pending--;
	return t->pending > 0 ? NL_SKIP : NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_transact *t = arg;

	t->pending--;
	return t->pending > 0 ? NL_OK : NL_STOP;
}

/* A dump ends with NLMSG_DONE, whose int payload is the dump's result. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nl_transact *t = arg;
	int result = 0;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
		memcpy(&result, nlmsg_data(nlh), sizeof(int));
	if (result < 0 && !t->error)
		t->error = result;
	t->pending--;
	return NL_STOP;
}

static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct nl_transact *t = arg;

	t->dump_intr = true;
	return NL_OK;
}

/* Keep draining after a parse failure so the socket stays in step. */
static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nl_transact *t = arg;

	if (t->reply && !t->reply_ret)
		t->reply_ret = t->reply(nlmsg_hdr(msg), t->reply_arg);
	return NL_OK;
}

void nl_transact_init(struct nl_transact *t, struct svrcert_nl *nl)
{
	memset(t, 0, sizeof(*t));
	t->nl = nl;
	nl->errmsg[0] = '\0';
}

int nl_send_pipelined(struct nl_transact *t, struct nl_msg *msg)
{
	int err = nl_send_auto(t->nl->sk, msg);

	nlmsg_free(msg);
	if (err < 0)
		return nl_nle_to_errno(err);
	t->pending++;
	return 0;
}

int nl_wait_pending(struct nl_transact *t, int max_pending)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err = 0;

	if (!cb)
		return -ENOMEM;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, t);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, t);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, t);
	while (t->pending > max_pending) {
		int r = nl_recvmsgs(t->nl->sk, cb);

		/* on_error's NL_STOP also surfaces here; only a socket error counts. */
		if (r < 0 && t->pending > max_pending) {
			err = nl_nle_to_errno(r);
			break;
		}
	}
	nl_cb_put(cb);
	return err;
}

int nl_transact(struct svrcert_nl *nl, struct nl_msg *msg, nl_reply_fn reply, void *arg)
{
	struct nl_transact t;
	int err;

	nl_transact_init(&t, nl);
	t.reply = reply;
	t.reply_arg = arg;
	err = nl_send_pipelined(&t, msg);
	if (!err)
		err = nl_wait_pending(&t, 0);
	if (!err)
		err = t.error;
	if (!err)
		err = t.reply_ret;
	if (!err && t.dump_intr)
		err = -EAGAIN;
	return err;
}

/* ---- attribute readers ---------------------------------------------- */

static struct nla_policy top_policy[SVRCERT_A_MAX + 1] = {
	[SVRCERT_A_VERSION] = { .type = NLA_U32 },
	[SVRCERT_A_PEER_VALIDATION] = { .type = NLA_U8 },
	[SVRCERT_A_FAILURE_MODE] = { .type = NLA_U8 },
	[SVRCERT_A_SELF_STATE] = { .type = NLA_U8 },
	[SVRCERT_A_PORT_MIN] = { .type = NLA_U16 },
	[SVRCERT_A_PORT_MAX] = { .type = NLA_U16 },
	[SVRCERT_A_KEYS] = { .type = NLA_UNSPEC },
	[SVRCERT_A_KEY_COUNT] = { .type = NLA_U32 },
	[SVRCERT_A_PEER] = { .type = NLA_NESTED },
	[SVRCERT_A_STATS] = { .type = NLA_NESTED },
	[SVRCERT_A_EVENT] = { .type = NLA_NESTED },
};

int nl_parse_top(struct nlmsghdr *nlh, struct nlattr **tb)
{
	return genlmsg_parse(nlh, 0, tb, SVRCERT_A_MAX, top_policy) < 0 ? -EPROTO : 0;
}

#define NL_GET_FIXED(fn, type, ctype, getter)			\
int fn(const struct nlattr *a, ctype *out)			\
{								\
	if (!a || nla_len(a) != (int)sizeof(type))		\
		return -EPROTO;					\
	*out = (ctype)getter((struct nlattr *)a);		\
	return 0;						\
}

NL_GET_FIXED(nl_get_u8, uint8_t, int, nla_get_u8)
NL_GET_FIXED(nl_get_u16, uint16_t, int, nla_get_u16)
NL_GET_FIXED(nl_get_u32, uint32_t, uint32_t, nla_get_u32)
NL_GET_FIXED(nl_get_u64, uint64_t, uint64_t, nla_get_u64)
NL_GET_FIXED(nl_get_s64, int64_t, int64_t, nla_get_s64)

int nl_get_bin(const struct nlattr *a, void *out, int len)
{
	if (!a || nla_len(a) != len)
		return -EPROTO;
	memcpy(out, nla_data(a), (size_t)len);
	return 0;
}

int nl_get_name(const struct nlattr *a, char *out, size_t size)
{
	size_t len;

	if (!a || nla_len(a) < 2 || (size_t)nla_len(a) > size)
		return -EPROTO;
	len = strnlen(nla_data(a), (size_t)nla_len(a));
	if (len != (size_t)nla_len(a) - 1)
		return -EPROTO;	/* no NUL, or one inside the name */
	memcpy(out, nla_data(a), len + 1);
	return 0;
}

/* ---- policy ----------------------------------------------------------- */

void svrcert_policy_init_keep(struct svrcert_policy *p)
{
	p->peer_validation = SVRCERT_POLICY_KEEP;
	p->failure_mode = SVRCERT_POLICY_KEEP;
	p->self_state = SVRCERT_POLICY_KEEP;
	p->port_min = SVRCERT_POLICY_KEEP;
	p->port_max = SVRCERT_POLICY_KEEP;
	p->version = 0;
}

static int parse_policy(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[SVRCERT_A_MAX + 1];
	struct svrcert_policy *p = arg;
	int err = nl_parse_top(nlh, tb);

	if (!err)
		err = nl_get_u8(tb[SVRCERT_A_PEER_VALIDATION], &p->peer_validation);
	if (!err)
		err = nl_get_u8(tb[SVRCERT_A_FAILURE_MODE], &p->failure_mode);
	if (!err)
		err = nl_get_u8(tb[SVRCERT_A_SELF_STATE], &p->self_state);
	if (!err)
		err = nl_get_u16(tb[SVRCERT_A_PORT_MIN], &p->port_min);
	if (!err)
		err = nl_get_u16(tb[SVRCERT_A_PORT_MAX], &p->port_max);
	if (!err && tb[SVRCERT_A_VERSION])
		err = nl_get_u32(tb[SVRCERT_A_VERSION], &p->version);
	return err;
}

int svrcert_nl_get_policy(struct svrcert_nl *nl, struct svrcert_policy *out)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_GET_POLICY, 0, 0);
	struct svrcert_policy p;
	int err;

	if (!msg)
		return -ENOMEM;
	svrcert_policy_init_keep(&p);
	err = nl_transact(nl, msg, parse_policy, &p);
	if (!err && p.peer_validation == SVRCERT_POLICY_KEEP)
		err = -EPROTO;	/* the kernel sent no reply */
	if (!err)
		*out = p;
	return err;
}

static int put_policy(struct nl_msg *msg, const struct svrcert_policy *p)
{
	int err = 0, n = 0;

#define PUT(field, attr, putter) do {						\
	if (!err && p->field != SVRCERT_POLICY_KEEP) {				\
		err = putter(msg, attr, p->field);				\
		n++;								\
	}									\
} while (0)
	PUT(peer_validation, SVRCERT_A_PEER_VALIDATION, nla_put_u8);
	PUT(failure_mode, SVRCERT_A_FAILURE_MODE, nla_put_u8);
	PUT(self_state, SVRCERT_A_SELF_STATE, nla_put_u8);
	PUT(port_min, SVRCERT_A_PORT_MIN, nla_put_u16);
	PUT(port_max, SVRCERT_A_PORT_MAX, nla_put_u16);
#undef PUT
	if (err)
		return -EMSGSIZE;
	return n ? 0 : -EINVAL;
}

int svrcert_nl_set_policy(struct svrcert_nl *nl, const struct svrcert_policy *p)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_SET_POLICY, 0, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	err = put_policy(msg, p);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return nl_transact(nl, msg, NULL, NULL);
}

/* ---- stats ------------------------------------------------------------ */

/* A nest whose attribute types are enum svrcert_reason, each a u64. */
static int parse_by_reason(const struct nlattr *nest, uint64_t *out)
{
	struct nlattr *a;
	int rem;

	if (!nest)
		return 0;
	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		int type = nla_type(a);

		if (nla_len(a) == 0 || type > SVRCERT_REASON_MAX)
			continue;	/* padding, or a reason newer than us */
		if (nl_get_u64(a, &out[type]))
			return -EPROTO;
	}
	return 0;
}

static int parse_stats(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *top[SVRCERT_A_MAX + 1], *tb[SVRCERT_STATS_A_MAX + 1];
	struct svrcert_kstats *s = arg;
	int err = nl_parse_top(nlh, top);

	if (err || !top[SVRCERT_A_STATS] ||
	    nla_parse_nested(tb, SVRCERT_STATS_A_MAX, top[SVRCERT_A_STATS], NULL) < 0)
		return -EPROTO;
	err = parse_by_reason(tb[SVRCERT_STATS_A_ACCEPTED], s->accepted);
	if (!err)
		err = parse_by_reason(tb[SVRCERT_STATS_A_DROPPED], s->dropped);
	if (!err)
		err = parse_by_reason(tb[SVRCERT_STATS_A_TX_ACCEPTED], s->tx_accepted);
	if (!err)
		err = parse_by_reason(tb[SVRCERT_STATS_A_TX_DROPPED], s->tx_dropped);
#define U64(field, attr) \
	if (!err && tb[attr]) err = nl_get_u64(tb[attr], &s->field)
#define U32(field, attr) \
	if (!err && tb[attr]) err = nl_get_u32(tb[attr], &s->field)
	U64(not_peer, SVRCERT_STATS_A_NOT_PEER);
	U64(tx_not_peer, SVRCERT_STATS_A_TX_NOT_PEER);
	U64(peer_cert_expired, SVRCERT_STATS_A_PEER_CERT_EXPIRED);
	U64(peer_cert_invalid, SVRCERT_STATS_A_PEER_CERT_INVALID);
	U64(peer_cert_revoked, SVRCERT_STATS_A_PEER_CERT_REVOKED);
	U32(keys, SVRCERT_STATS_A_KEYS);
	U32(keys_max, SVRCERT_STATS_A_KEYS_MAX);
	U64(keys_mem, SVRCERT_STATS_A_KEYS_MEM);
	U32(peers, SVRCERT_STATS_A_PEERS);
	U32(peers_max, SVRCERT_STATS_A_PEERS_MAX);
	U64(events_sent, SVRCERT_STATS_A_EVENTS_SENT);
	U64(events_suppressed, SVRCERT_STATS_A_EVENTS_SUPPRESSED);
	U64(keys_deltas, SVRCERT_STATS_A_KEYS_DELTAS);
	U64(keys_loads, SVRCERT_STATS_A_KEYS_LOADS);
#undef U64
#undef U32
	return err;
}

int svrcert_nl_stats_get(struct svrcert_nl *nl, struct svrcert_kstats *out)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_GET_STATS, 0, 0);

	if (!msg)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	return nl_transact(nl, msg, parse_stats, out);
}

int svrcert_nl_stats_reset(struct svrcert_nl *nl)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_RESET_STATS, 0, 0);

	if (!msg)
		return -ENOMEM;
	return nl_transact(nl, msg, NULL, NULL);
}
