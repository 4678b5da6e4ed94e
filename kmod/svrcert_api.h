/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel API of svrcert.ko for an SVR dataplane in the kernel.
 *
 * svrcert_check_peer() - judge one packet from @saddr in @net
 * @net:    network namespace the packet arrived in (the caller holds a
 *          reference or runs in its data path)
 * @family: AF_INET (@saddr is a __be32, 4 bytes) or AF_INET6 (@saddr is a
 *          struct in6_addr); any other family is accepted untouched
 * @saddr:  source address, network byte order, any alignment
 * @reason: out: why (SVRCERT_REASON_UNSPEC when the source is not a peer)
 *
 * Returns SVRCERT_VERDICT_DROP when the packet must be dropped, else
 * SVRCERT_VERDICT_ACCEPT. It is exactly the verdict the netfilter hooks
 * give, without the destination-port window (the caller knows the packet
 * is SVR), and it counts the packet like the hooks do (per-reason, per-peer
 * and not-peer counters, first-seen events): do not call it for packets the
 * hooks also judge, or they are counted twice.
 *
 * Context: process or softirq context; not hard IRQ, not with IRQs off.
 * Never sleeps, never allocates.
 */
#ifndef _SVRCERT_API_H
#define _SVRCERT_API_H

#include <linux/svrcert.h>

struct net;

enum svrcert_verdict svrcert_check_peer(struct net *net, int family,
					const void *saddr,
					enum svrcert_reason *reason);

#endif /* _SVRCERT_API_H */
