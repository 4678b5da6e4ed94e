// SPDX-License-Identifier: GPL-2.0
/* The "events" multicast group: data-path events as the kernel sends them. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>

#include "nl_priv.h"

/* Room for a burst: events are rate-limited in the kernel, but bursty. */
#define MONITOR_RCVBUF (1 << 20)

struct monitor {
	svrcert_event_cb cb;
	void *arg;
	int ret;	/* first non-zero return of CB, or a parse error */
};

static int parse_event(const struct nlattr *nest, struct svrcert_event *ev)
{
	struct nlattr *tb[SVRCERT_EVENT_A_MAX + 1];
	int err;

	memset(ev, 0, sizeof(*ev));
	ev->reason = -1;
	if (nla_parse_nested(tb, SVRCERT_EVENT_A_MAX, (struct nlattr *)nest, NULL) < 0)
		return -EPROTO;
	err = nl_get_u8(tb[SVRCERT_EVENT_A_TYPE], &ev->type);
	if (!err && tb[SVRCERT_EVENT_A_PEER_NAME])
		err = nl_get_name(tb[SVRCERT_EVENT_A_PEER_NAME], ev->peer_name,
				  sizeof(ev->peer_name));
	if (!err && tb[SVRCERT_EVENT_A_REASON])
		err = nl_get_u8(tb[SVRCERT_EVENT_A_REASON], &ev->reason);
	if (!err && tb[SVRCERT_EVENT_A_FINGERPRINT]) {
		err = nl_get_bin(tb[SVRCERT_EVENT_A_FINGERPRINT], ev->fingerprint,
				 SVRCERT_KEY_LEN);
		ev->has_fingerprint = !err;
	}
	if (!err && tb[SVRCERT_EVENT_A_TIME])
		err = nl_get_s64(tb[SVRCERT_EVENT_A_TIME], &ev->time);
	return err;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[SVRCERT_A_MAX + 1];
	struct monitor *m = arg;
	struct svrcert_event ev;
	struct genlmsghdr *gh;

	if (!genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	gh = nlmsg_data(nlh);
	if (gh->cmd != SVRCERT_CMD_EVENT)
		return NL_SKIP;
	if (nl_parse_top(nlh, tb) || !tb[SVRCERT_A_EVENT] ||
	    parse_event(tb[SVRCERT_A_EVENT], &ev)) {
		m->ret = -EPROTO;
		return NL_STOP;
	}
	m->ret = m->cb(&ev, m->arg);
	return m->ret ? NL_STOP : NL_OK;
}

/* Multicast carries no sequence numbers worth checking. */
static int no_seq_check(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int join_events(struct svrcert_nl *nl)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, SVRCERT_GENL_NAME, SVRCERT_MCGRP_EVENTS);
	int err;

	if (grp < 0) {
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "multicast group '" SVRCERT_MCGRP_EVENTS "' not found");
		return grp == -NLE_OBJ_NOTFOUND ? -ENOENT : nl_nle_to_errno(grp);
	}
	err = nl_socket_add_membership(nl->sk, grp);
	if (err < 0)
		return nl_nle_to_errno(err);
	(void)nl_socket_set_buffer_size(nl->sk, MONITOR_RCVBUF, 0);
	err = nl_socket_set_nonblocking(nl->sk);
	return err < 0 ? nl_nle_to_errno(err) : 0;
}

/* The receive queue overflowed: tell the caller, then carry on. */
static int report_lost(struct monitor *m)
{
	struct svrcert_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.lost = true;
	ev.reason = -1;
	m->ret = m->cb(&ev, m->arg);
	return m->ret;
}

static int monitor_loop(struct svrcert_nl *nl, struct nl_cb *cb, struct monitor *m)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };

	for (;;) {
		int r = poll(&pfd, 1, -1);

		if (r < 0)
			return -errno;	/* -EINTR: a signal asked us to stop */
		r = nl_recvmsgs(nl->sk, cb);
		if (m->ret)
			return m->ret;
		/* libnl reports the socket's ENOBUFS as NLE_NOMEM. */
		if (r == -NLE_NOMEM) {
			if (report_lost(m))
				return m->ret;
		} else if (r < 0 && r != -NLE_AGAIN) {
			return nl_nle_to_errno(r);
		}
	}
}

int svrcert_nl_monitor(struct svrcert_nl *nl, svrcert_event_cb cb, void *arg)
{
	struct monitor m = { .cb = cb, .arg = arg };
	struct nl_cb *ncb;
	int err;

	nl->errmsg[0] = '\0';
	err = join_events(nl);
	if (err)
		return err;
	ncb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!ncb)
		return -ENOMEM;
	nl_cb_set(ncb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(ncb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &m);
	err = monitor_loop(nl, ncb, &m);
	nl_cb_put(ncb);
	return err;
}
