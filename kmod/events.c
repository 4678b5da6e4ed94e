// SPDX-License-Identifier: GPL-2.0
#include <linux/slab.h>
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

/*
 * Copy the event into the ring. Only the first packet of a peer in each
 * state gets here (the seen bit), so the lock is never taken per packet.
 * irqsave: the hooks run in softirq or, for a locally sent packet, in
 * process context, the KUnit suites with BHs off, and none should have to
 * know about the others.
 */
static void svrcert_events_queue(struct svrcert_events *ev,
				 const struct svrcert_peer *peer,
				 enum svrcert_first_seen what,
				 enum svrcert_reason reason, time64_t now)
{
	struct svrcert_event_rec *rec;
	unsigned long flags;

	spin_lock_irqsave(&ev->queue_lock, flags);
	if (ev->len == SVRCERT_EVENTS_QUEUE) {
		ev->overflow++;
	} else {
		rec = &ev->queue[(ev->head + ev->len) % SVRCERT_EVENTS_QUEUE];
		ev->len++;
		rec->time = now;
		rec->type = svrcert_event_type[what];
		rec->reason = reason;
		memcpy(rec->fingerprint, peer->cert.fingerprint, SVRCERT_KEY_LEN);
		memcpy(rec->peer_name, peer->name, sizeof(rec->peer_name));
	}
	spin_unlock_irqrestore(&ev->queue_lock, flags);
}

static void svrcert_events_mark(struct svrcert_net *sn,
				struct svrcert_peer *peer,
				enum svrcert_first_seen what,
				enum svrcert_reason reason, time64_t now)
{
	/* Cheap test first: after the first packet this is all we do. */
	if (test_bit(what, &peer->seen) || test_and_set_bit(what, &peer->seen))
		return;
	if (what != SVRCERT_SEEN_FAIL_HARD_DROP)
		svrcert_stats_first_seen(sn->stats.pcpu, what);
	svrcert_events_queue(&sn->events, peer, what, reason, now);
	kthread_queue_work(svrcert_events_worker, &sn->events.work);
}

void __svrcert_events_note(struct svrcert_net *sn, struct svrcert_peer *peer,
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
	/*
	 * Not for an unprotected packet: anyone can forge one with the
	 * peer's address, and it would use up the once-per-peer event that
	 * a real certificate failure must raise.
	 */
	if (dropped && reason != SVRCERT_REASON_UNPROTECTED)
		svrcert_events_mark(sn, peer, SVRCERT_SEEN_FAIL_HARD_DROP,
				    reason, now);
}

/* Also folds the ring's overflow count into the suppressed events. */
bool svrcert_events_pop(struct svrcert_events *ev,
			struct svrcert_event_rec *rec)
{
	bool got;

	spin_lock_irq(&ev->queue_lock);
	ev->suppressed += ev->overflow;
	ev->overflow = 0;
	got = ev->len > 0;
	if (got) {
		*rec = ev->queue[ev->head];
		ev->head = (ev->head + 1) % SVRCERT_EVENTS_QUEUE;
		ev->len--;
	}
	spin_unlock_irq(&ev->queue_lock);
	return got;
}

static int svrcert_event_fill(struct sk_buff *skb,
			      const struct svrcert_event_rec *rec)
{
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(skb, 0, 0, &svrcert_genl_family, 0,
			  SVRCERT_CMD_EVENT);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, SVRCERT_A_EVENT);
	if (!nest ||
	    nla_put_u8(skb, SVRCERT_EVENT_A_TYPE, rec->type) ||
	    nla_put_string(skb, SVRCERT_EVENT_A_PEER_NAME, rec->peer_name) ||
	    nla_put_u8(skb, SVRCERT_EVENT_A_REASON, rec->reason) ||
	    nla_put(skb, SVRCERT_EVENT_A_FINGERPRINT, SVRCERT_KEY_LEN,
		    rec->fingerprint) ||
	    nla_put_s64(skb, SVRCERT_EVENT_A_TIME, rec->time,
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
				const struct svrcert_event_rec *rec)
{
	struct sk_buff *skb;

	if (!svrcert_events_allow(&sn->events))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb || svrcert_event_fill(skb, rec)) {
		nlmsg_free(skb);
		sn->events.suppressed++;
		return;
	}
	/* -ESRCH (nobody listening) still counts: the event was emitted. */
	genlmsg_multicast_netns(&svrcert_genl_family, sn->net, skb, 0,
				SVRCERT_MCGRP_EVENTS_ID, GFP_KERNEL);
	sn->events.sent++;
}

static void svrcert_events_work(struct kthread_work *work)
{
	struct svrcert_net *sn = container_of(work, struct svrcert_net,
					      events.work);
	struct svrcert_event_rec rec;

	mutex_lock(&sn->lock);
	while (svrcert_events_pop(&sn->events, &rec))
		svrcert_events_send(sn, &rec);
	mutex_unlock(&sn->lock);
}

int svrcert_events_init(struct svrcert_net *sn)
{
	struct svrcert_events *ev = &sn->events;

	kthread_init_work(&ev->work, svrcert_events_work);
	spin_lock_init(&ev->queue_lock);
	ev->head = 0;
	ev->len = 0;
	ev->overflow = 0;
	ev->window_start = jiffies;
	ev->in_window = 0;
	ev->sent = 0;
	ev->suppressed = 0;
	ev->queue = kcalloc(SVRCERT_EVENTS_QUEUE, sizeof(*ev->queue),
			    GFP_KERNEL_ACCOUNT);
	return ev->queue ? 0 : -ENOMEM;
}

/*
 * Data path hooks must be gone: nothing can queue the work again. Events
 * still queued die with the namespace.
 */
void svrcert_events_exit(struct svrcert_net *sn)
{
	kthread_cancel_work_sync(&sn->events.work);
	svrcert_events_free(sn);
}

/* Only the ring: for events whose work was never queued (no hooks yet). */
void svrcert_events_free(struct svrcert_net *sn)
{
	kfree(sn->events.queue);
	sn->events.queue = NULL;
}
