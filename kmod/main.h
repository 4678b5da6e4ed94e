/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SVRCERT_MAIN_H
#define _SVRCERT_MAIN_H

#include <linux/kthread.h>
#include <linux/workqueue.h>

/* Module-wide bounds (module parameters, read-only once loaded). */
extern unsigned int svrcert_max_keys;
extern unsigned int svrcert_max_peers;

/*
 * Deferred work of the module (set destruction after a grace period).
 * Our own queue so that unload can drain it.
 */
extern struct workqueue_struct *svrcert_wq;

/*
 * Event delivery for every namespace (events.c) runs in one thread of its
 * own, "svrcert_events", not in shared kworkers: its cost shows as one
 * task that an administrator can see, prioritise and pin away from the
 * CPUs that forward packets, and a task filter (failslab's, tracing's)
 * can single out event delivery.
 */
extern struct kthread_worker *svrcert_events_worker;

#endif /* _SVRCERT_MAIN_H */
