/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by nl.c, nl_keys.c, nl_peers.c, nl_events.c and xfrm.c. */
#ifndef SVRCERT_NL_PRIV_H
#define SVRCERT_NL_PRIV_H

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "nl.h"

struct svrcert_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];	/* extack message of the last failure */
};

/* Parses one reply message; non-zero stops delivery and is returned. */
typedef int (*nl_reply_fn)(struct nlmsghdr *nlh, void *arg);

/*
 * One exchange in progress: PENDING requests still owe their ack (or, for
 * a dump, its NLMSG_DONE). ERROR is the first kernel -errno seen.
 */
struct nl_transact {
	struct svrcert_nl *nl;
	int pending;
	int error;
	int reply_ret;		/* first non-zero return of REPLY */
	bool dump_intr;		/* NLM_F_DUMP_INTR seen */
	nl_reply_fn reply;
	void *reply_arg;
};

/* A request for CMD with FLAGS, room for EXTRA payload bytes; NULL on ENOMEM. */
struct nl_msg *nl_request(struct svrcert_nl *nl, uint8_t cmd, int flags, size_t extra);
/* Send MSG (always freed) and wait for its ack or dump end. */
int nl_transact(struct svrcert_nl *nl, struct nl_msg *msg, nl_reply_fn reply, void *arg);
/* Pipelining: send MSG (freed) without waiting; T->pending counts it. */
int nl_send_pipelined(struct nl_transact *t, struct nl_msg *msg);
/* Receive acks until at most MAX_PENDING remain. */
int nl_wait_pending(struct nl_transact *t, int max_pending);
void nl_transact_init(struct nl_transact *t, struct svrcert_nl *nl);

/* Extended acks on SK, and failed requests not echoed back in full. */
void nl_enable_ext_ack(struct nl_sock *sk);
/* libnl's NLE_* to -errno. */
int nl_nle_to_errno(int nle);
/* Top-level attributes of a family message, validated by policy; -EPROTO. */
int nl_parse_top(struct nlmsghdr *nlh, struct nlattr **tb);

/* Exact-length attribute readers: 0, or -EPROTO when the length is wrong. */
int nl_get_u8(const struct nlattr *a, int *out);
int nl_get_u16(const struct nlattr *a, int *out);
int nl_get_u32(const struct nlattr *a, uint32_t *out);
int nl_get_u64(const struct nlattr *a, uint64_t *out);
int nl_get_s64(const struct nlattr *a, int64_t *out);
int nl_get_bin(const struct nlattr *a, void *out, int len);
/* A NUL-terminated string of 1..SIZE-1 characters. */
int nl_get_name(const struct nlattr *a, char *out, size_t size);

#endif
