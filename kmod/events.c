// SPDX-License-Identifier: GPL-2.0
#include <net/genetlink.h>

#include "events.h"
#include "main.h"
#include "netlink.h"
#include "netns.h"

static const u8 svrcert_event_type[SVRCERT_SEEN_COUNT] = {
	[SVRCERT_SEEN_REVOKED] = SVRCERT_EVENT_PEER_REVOKED,
	[SVRCERT_SEEN_EXPIRED] = SVRCERT_EVENT_PEER_EXPIRED,
	[SVRCERT_SEEN_INVALID] = SVRCERT_EVENT_PEER_INVALID,
	[SVRCERT_SEEN_FAIL_HARD_DROP] = SVRCERT_EVENT_FAIL_HARD_DROP,
};

static void svrcert_events_mark(struct svrcert_net *sn,
				struct svrcert_peer *peer,
				enum svrcert_first_seen what,
				enum svrcert_reason reason, time64_t now)
{
	/* Cheap test first: after the first packet this is all we do. */
	if (test_bit(what, &peer->seen) || test_and_set_bit(what, &peer->seen))
		return;
	peer->event_reason[what] = reason;
	peer->event_time[what] = now;
	if (what != SVRCERT_SEEN_FAIL_HARD_DROP)
		svrcert_stats_first_seen(sn->stats.pcpu, what);
	/* The worker reads reason and time after it sees the bit. */
	smp_mb__before_atomic();
	set_bit(what, &peer->pending);
	queue_work(svrcert_wq, &sn->events.work);
}

void svrcert_events_note(struct svrcert_net *sn, struct svrcert_peer *peer,
			 enum svrcert_reason reason, bool dropped,
			 time64_t now)
{
	switch (reason) {
	case SVRCERT_REASON_REVOKED:
		svrcert_events_mark(sn, peer, SVRCERT_SEEN_REVOKED, reason, now);
		break;
	case SVRCERT_REASON_EXPIRED:
	case SVRCERT_REASON_NOT_YET_VALID:
		svrcert_events_mark(sn, peer, SVRCERT_SEEN_EXPIRED, reason, now);
		break;
	case SVRCERT_REASON_INVALID:
		svrcert_events_mark(sn, peer, SVRCERT_SEEN_INVALID, reason, now);
		break;
	default:
		break;
	}
	if (dropped)
		svrcert_events_mark(sn, peer, SVRCERT_SEEN_FAIL_HARD_DROP,
				    reason, now);
}

static int svrcert_event_fill(struct sk_buff *skb,
			      const struct svrcert_peer *peer,
			      enum svrcert_first_seen what)
{
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(skb, 0, 0, &svrcert_genl_family, 0,
			  SVRCERT_CMD_EVENT);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, SVRCERT_A_EVENT);
	if (!nest ||
	    nla_put_u8(skb, SVRCERT_EVENT_A_TYPE, svrcert_event_type[what]) ||
	    nla_put_string(skb, SVRCERT_EVENT_A_PEER_NAME, peer->name) ||
	    nla_put_u8(skb, SVRCERT_EVENT_A_REASON, peer->event_reason[what]) ||
	    nla_put(skb, SVRCERT_EVENT_A_FINGERPRINT, SVRCERT_KEY_LEN,
		    peer->cert.fingerprint) ||
	    nla_put_s64(skb, SVRCERT_EVENT_A_TIME, peer->event_time[what],
			SVRCERT_EVENT_A_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/* Fixed one-second window: simple, and the worker is the only user. */
static bool svrcert_events_allow(struct svrcert_events *ev)
{
	if (time_after(jiffies, ev->window_start + HZ)) {
		ev->window_start = jiffies;
		ev->in_window = 0;
	}
	if (ev->in_window >= SVRCERT_EVENTS_PER_SEC) {
		ev->suppressed++;
		return false;
	}
	ev->in_window++;
	return true;
}

static void svrcert_events_send(struct svrcert_net *sn,
				const struct svrcert_peer *peer,
				enum svrcert_first_seen what)
{
	struct sk_buff *skb;

	if (!svrcert_events_allow(&sn->events))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb || svrcert_event_fill(skb, peer, what)) {
		nlmsg_free(skb);
		sn->events.suppressed++;
		return;
	}
	/* -ESRCH (nobody listening) still counts: the event was emitted. */
	genlmsg_multicast_netns(&svrcert_genl_family, sn->net, skb, 0,
				SVRCERT_MCGRP_EVENTS_ID, GFP_KERNEL);
	sn->events.sent++;
}

static void svrcert_events_work(struct work_struct *work)
{
	struct svrcert_net *sn = container_of(work, struct svrcert_net,
					      events.work);
	struct svrcert_peer *peer;
	unsigned int what;

	mutex_lock(&sn->lock);
	list_for_each_entry(peer, &sn->peers.list, list)
		for (what = 0; what < SVRCERT_SEEN_COUNT; what++)
			if (test_and_clear_bit(what, &peer->pending))
				svrcert_events_send(sn, peer, what);
	mutex_unlock(&sn->lock);
}

void svrcert_events_init(struct svrcert_net *sn)
{
	INIT_WORK(&sn->events.work, svrcert_events_work);
	sn->events.window_start = jiffies;
	sn->events.in_window = 0;
	sn->events.sent = 0;
	sn->events.suppressed = 0;
}

/* Data path hooks must be gone: nothing can queue the work again. */
void svrcert_events_exit(struct svrcert_net *sn)
{
	cancel_work_sync(&sn->events.work);
}
