/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-netns packet counters: per-CPU, written by the data path without
 * locks, summed when userspace asks.
 */
#ifndef _SVRCERT_STATS_H
#define _SVRCERT_STATS_H

#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>
#include <linux/svrcert.h>

/* Which way a packet goes: from a peer (received) or to one (sent). */
enum svrcert_dir {
	SVRCERT_DIR_RX,
	SVRCERT_DIR_TX,
	SVRCERT_DIR_COUNT
};

enum svrcert_first_seen {
	SVRCERT_SEEN_REVOKED,
	SVRCERT_SEEN_EXPIRED,		/* expired or not yet valid */
	SVRCERT_SEEN_INVALID,
	SVRCERT_SEEN_FAIL_HARD_DROP,
	SVRCERT_SEEN_COUNT
};

struct svrcert_pcpu_stats {
	u64_stats_t accepted[SVRCERT_DIR_COUNT][SVRCERT_REASON_MAX + 1];
	u64_stats_t dropped[SVRCERT_DIR_COUNT][SVRCERT_REASON_MAX + 1];
	u64_stats_t not_peer[SVRCERT_DIR_COUNT];
	u64_stats_t first_seen[SVRCERT_SEEN_COUNT];
	struct u64_stats_sync syncp;
};

/* A consistent sum over all CPUs; mirrors the per-CPU block. */
struct svrcert_stats_sum {
	u64 accepted[SVRCERT_DIR_COUNT][SVRCERT_REASON_MAX + 1];
	u64 dropped[SVRCERT_DIR_COUNT][SVRCERT_REASON_MAX + 1];
	u64 not_peer[SVRCERT_DIR_COUNT];
	u64 first_seen[SVRCERT_SEEN_COUNT];
};

/*
 * The per-CPU counters are only ever written by the CPU they belong to.
 * A reset does not touch them (that would race with the data path); it
 * records the current sums as a baseline that later reads subtract.
 */
struct svrcert_stats {
	struct svrcert_pcpu_stats __percpu *pcpu;
	struct svrcert_stats_sum base;		/* under the config mutex */
};

/*
 * Per-CPU counter blocks, for the netns counters and each peer's: a
 * struct of u64_stats_t counters and nothing else, then a member syncp.
 * svrcert_pcpu_sum() adds every CPU's block into @sum, one u64 per counter
 * in the order of the struct.
 */
#define SVRCERT_PCPU_COUNTERS_MAX	48
void __percpu *__svrcert_pcpu_alloc(size_t size, size_t align,
				    size_t syncp_off);
void __svrcert_pcpu_sum(const void __percpu *pcpu, size_t syncp_off, u64 *sum);
#define svrcert_pcpu_alloc(type)					\
	((type __percpu *)__svrcert_pcpu_alloc(sizeof(type),		\
					       __alignof__(type),	\
					       offsetof(type, syncp)))
#define svrcert_pcpu_sum(pcpu, type, sum) do {				\
	BUILD_BUG_ON(offsetof(type, syncp) >				\
		     SVRCERT_PCPU_COUNTERS_MAX * sizeof(u64_stats_t));	\
	__svrcert_pcpu_sum(pcpu, offsetof(type, syncp), sum);		\
} while (0)

int svrcert_stats_init(struct svrcert_stats *stats);
void svrcert_stats_exit(struct svrcert_stats *stats);
void svrcert_stats_read(struct svrcert_stats *stats,
			struct svrcert_stats_sum *sum);
void svrcert_stats_reset(struct svrcert_stats *stats);

/*
 * Around the data path's work in process context, where a locally sent
 * packet reaches the outbound hooks (preemptible under preemptible RCU).
 * On 64-bit a counter is a local64_t: its increment is one instruction,
 * which an interrupt or a softirq on this CPU cannot split, so staying on
 * this CPU is all the counters need and preemption off does it, for a
 * fraction of what local_bh_disable() and local_bh_enable() cost. On
 * 32-bit an update is a seqcount write section, which a softirq's update
 * must not nest into: BHs off.
 */
static inline void svrcert_count_begin(void)
{
#if BITS_PER_LONG == 64
	preempt_disable();
#else
	local_bh_disable();
#endif
}

static inline void svrcert_count_end(void)
{
#if BITS_PER_LONG == 64
	preempt_enable();
#else
	local_bh_enable();
#endif
}

/*
 * Data path only: softirq, or process context between
 * svrcert_count_begin() and _end() (the outbound hooks, for locally sent
 * packets), or with BHs off (the KUnit suites). Either way the task cannot
 * migrate, so this_cpu_ptr() without a preempt_disable() of its own
 * (CONFIG_DEBUG_PREEMPT checks it).
 */
static inline void svrcert_stats_packet(struct svrcert_pcpu_stats __percpu *stats,
					enum svrcert_dir dir, bool dropped,
					enum svrcert_reason reason)
{
	struct svrcert_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(dropped ? &s->dropped[dir][reason] :
				&s->accepted[dir][reason]);
	u64_stats_update_end(&s->syncp);
}

static inline void svrcert_stats_not_peer(struct svrcert_pcpu_stats __percpu *stats,
					  enum svrcert_dir dir)
{
	struct svrcert_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->not_peer[dir]);
	u64_stats_update_end(&s->syncp);
}

static inline void svrcert_stats_first_seen(struct svrcert_pcpu_stats __percpu *stats,
					    enum svrcert_first_seen what)
{
	struct svrcert_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->first_seen[what]);
	u64_stats_update_end(&s->syncp);
}

#endif /* _SVRCERT_STATS_H */
