/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SVRCERT_MAIN_H
#define _SVRCERT_MAIN_H

#include <linux/workqueue.h>

/* Module-wide bounds (module parameters, read-only once loaded). */
extern unsigned int svrcert_max_keys;
extern unsigned int svrcert_max_peers;

/*
 * Deferred work of the module (set destruction after a grace period,
 * event delivery). Our own queue so that unload can drain it.
 */
extern struct workqueue_struct *svrcert_wq;

#endif /* _SVRCERT_MAIN_H */
