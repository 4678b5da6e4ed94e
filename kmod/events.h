/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events: the data path notes the first packet of a peer in a bad state
 * (a bit per peer, no allocation) and kicks a work item; the worker builds
 * SVRCERT_CMD_EVENT messages and multicasts them to the "events" group,
 * at most SVRCERT_EVENTS_PER_SEC per second per netns.
 */
#ifndef _SVRCERT_EVENTS_H
#define _SVRCERT_EVENTS_H

#include <linux/time64.h>
#include <linux/workqueue.h>
#include <linux/svrcert.h>

#define SVRCERT_EVENTS_PER_SEC	20

struct svrcert_net;
struct svrcert_peer;

struct svrcert_events {
	struct work_struct work;
	/* Below: only the worker (under the config mutex) touches these. */
	unsigned long window_start;	/* jiffies */
	u32 in_window;
	u64 sent;
	u64 suppressed;
};

void svrcert_events_init(struct svrcert_net *sn);
void svrcert_events_exit(struct svrcert_net *sn);
/* Data path, under RCU: note the verdict of one packet from @peer. */
void svrcert_events_note(struct svrcert_net *sn, struct svrcert_peer *peer,
			 enum svrcert_reason reason, bool dropped,
			 time64_t now);

#endif /* _SVRCERT_EVENTS_H */
