/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events: the data path notes the first packet of a peer in a bad state
 * (a bit per peer) and queues a copy of what the event reports -- peer
 * name, fingerprint, reason, time -- in a fixed per-netns ring, then kicks
 * its work on the module's event thread (svrcert_events_worker). The
 * worker builds SVRCERT_CMD_EVENT messages from the copies and multicasts
 * them to the "events" group, at most SVRCERT_EVENTS_PER_SEC per second
 * per netns. Because an event carries its own snapshot, deleting or
 * replacing the peer before the worker runs loses nothing.
 */
#ifndef _SVRCERT_EVENTS_H
#define _SVRCERT_EVENTS_H

#include <linux/kthread.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/svrcert.h>

#define SVRCERT_EVENTS_PER_SEC	20
/*
 * Events queued between two runs of the worker. The worker drains the
 * ring every run and sends at most SVRCERT_EVENTS_PER_SEC of them, so a
 * fuller ring would only hold events the rate limit suppresses anyway;
 * an event that finds the ring full is counted as suppressed.
 */
#define SVRCERT_EVENTS_QUEUE	64

struct svrcert_net;
struct svrcert_peer;

/* One event as the data path saw it; owes nothing to the peer record. */
struct svrcert_event_rec {
	time64_t time;
	u8 type;			/* enum svrcert_event_type */
	u8 reason;			/* enum svrcert_reason */
	u8 fingerprint[SVRCERT_KEY_LEN];
	char peer_name[SVRCERT_PEER_NAME_MAX + 1];
};

struct svrcert_events {
	struct kthread_work work;	/* on svrcert_events_worker */
	/* Data path (any CPU, softirq) vs worker: the ring and overflow. */
	spinlock_t queue_lock;
	struct svrcert_event_rec *queue;
	u32 head;
	u32 len;
	u32 overflow;			/* events that found the ring full */
	/* Below: under the config mutex (worker, stats commands). */
	unsigned long window_start;	/* jiffies */
	u32 in_window;
	u64 sent;
	u64 suppressed;
};

int svrcert_events_init(struct svrcert_net *sn);
void svrcert_events_exit(struct svrcert_net *sn);
void svrcert_events_free(struct svrcert_net *sn);
void __svrcert_events_note(struct svrcert_net *sn, struct svrcert_peer *peer,
			   enum svrcert_reason reason, bool dropped,
			   time64_t now);

/*
 * Data path, under RCU (context: see svrcert_stats_packet()): note the
 * verdict of one packet from @peer. Inline so that the common packet
 * (accepted, ok or validation off) costs one compare, not a call.
 */
static inline void svrcert_events_note(struct svrcert_net *sn,
				       struct svrcert_peer *peer,
				       enum svrcert_reason reason,
				       bool dropped, time64_t now)
{
	if (dropped || (reason != SVRCERT_REASON_OK &&
			reason != SVRCERT_REASON_DISABLED))
		__svrcert_events_note(sn, peer, reason, dropped, now);
}

/* Take the oldest queued event; caller holds the config mutex. */
bool svrcert_events_pop(struct svrcert_events *ev,
			struct svrcert_event_rec *rec);

#endif /* _SVRCERT_EVENTS_H */
