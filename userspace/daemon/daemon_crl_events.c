// SPDX-License-Identifier: GPL-2.0
/*
 * svrcert.ko's "events" multicast group, read from the daemon's poll loop
 * (svrcert_nl_monitor() in nl.h blocks; this socket is non-blocking). Only
 * whether a peer was first seen revoked or expired matters here: the CRL
 * manager then reads the peer table, which carries each peer's revocation
 * key (the event only has the certificate's fingerprint).
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "daemon_crl_int.h"
#include "netlink/nl.h"

static struct nla_policy event_policy[SVRCERT_EVENT_A_MAX + 1] = {
	[SVRCERT_EVENT_A_TYPE] = { .type = NLA_U8 },
};

static struct nla_policy top_policy[SVRCERT_A_MAX + 1] = {
	[SVRCERT_A_EVENT] = { .type = NLA_NESTED },
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[SVRCERT_A_MAX + 1], *ev[SVRCERT_EVENT_A_MAX + 1];
	struct crl_learn *lr = arg;
	int type;

	if (!genlmsg_valid_hdr(nlh, 0) ||
	    ((struct genlmsghdr *)nlmsg_data(nlh))->cmd != SVRCERT_CMD_EVENT)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, SVRCERT_A_MAX, top_policy) < 0 ||
	    !tb[SVRCERT_A_EVENT] ||
	    nla_parse_nested(ev, SVRCERT_EVENT_A_MAX, tb[SVRCERT_A_EVENT],
			     event_policy) < 0 || !ev[SVRCERT_EVENT_A_TYPE])
		return NL_SKIP;
	type = nla_get_u8(ev[SVRCERT_EVENT_A_TYPE]);
	if (type == SVRCERT_EVENT_PEER_REVOKED ||
	    type == SVRCERT_EVENT_PEER_EXPIRED)
		lr->events_hit = true;
	return NL_OK;
}

int crl_events_open(struct crl_learn *lr, int family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int grp, ret;

	lr->events_fd = -1;
	lr->events_sk = NULL;
	if (!sk)
		return -ENOMEM;
	ret = genl_connect(sk);
	grp = ret ? ret : genl_ctrl_resolve_grp(sk, SVRCERT_GENL_NAME,
						SVRCERT_MCGRP_EVENTS);
	if (grp < 0)
		goto fail;
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, lr);
	if (nl_socket_add_membership(sk, grp) < 0 ||
	    nl_socket_set_nonblocking(sk) < 0)
		goto fail;
	lr->events_sk = sk;
	lr->events_fd = nl_socket_get_fd(sk);
	lr->events_family = family;
	return 0;
fail:
	nl_socket_free(sk);
	return -EIO;
}

void crl_events_close(struct crl_learn *lr)
{
	if (lr->events_sk)
		nl_socket_free(lr->events_sk);
	lr->events_sk = NULL;
	lr->events_fd = -1;
	lr->events_family = 0;
}

bool crl_events_read(struct crl_learn *lr)
{
	int i, ret = 0;

	lr->events_hit = false;
	/* One recvmsg per call; a receive overrun (-NLE_NOMEM) lost events,
	 * which a scan of the peer table makes up for. */
	for (i = 0; i < 64; i++) {
		ret = nl_recvmsgs_default(lr->events_sk);
		if (ret <= 0)
			break;
	}
	return lr->events_hit || (ret < 0 && ret != -NLE_AGAIN);
}
