// SPDX-License-Identifier: GPL-2.0
/*
 * Internals the KUnit suites in svrcert_kunit.ko call. Built only for a
 * kernel with CONFIG_KUNIT (the debug test kernel): a production build of
 * svrcert.ko exports nothing.
 */
#include <linux/export.h>

#include "events.h"
#include "hooks.h"
#include "main.h"
#include "netlink.h"
#include "peer.h"
#include "policy.h"
#include "revset.h"
#include "stats.h"
#include "verdict.h"
#include "x509.h"

EXPORT_SYMBOL_GPL(svrcert_wq);
EXPORT_SYMBOL_GPL(svrcert_events_worker);
EXPORT_SYMBOL_GPL(svrcert_attr_policy);
EXPORT_SYMBOL_GPL(svrcert_policy_defaults);
EXPORT_SYMBOL_GPL(svrcert_revset_module_init);
EXPORT_SYMBOL_GPL(svrcert_revset_module_exit);
EXPORT_SYMBOL_GPL(svrcert_revset_shape);
EXPORT_SYMBOL_GPL(svrcert_revset_create);
EXPORT_SYMBOL_GPL(svrcert_revset_destroy);
EXPORT_SYMBOL_GPL(svrcert_revset_destroy_rcu);
EXPORT_SYMBOL_GPL(svrcert_revset_add);
EXPORT_SYMBOL_GPL(svrcert_revset_del);
EXPORT_SYMBOL_GPL(svrcert_revset_contains);
EXPORT_SYMBOL_GPL(svrcert_revset_count);
EXPORT_SYMBOL_GPL(svrcert_revset_walk_begin);
EXPORT_SYMBOL_GPL(svrcert_revset_walk_next);
EXPORT_SYMBOL_GPL(svrcert_revset_walk_end);
EXPORT_SYMBOL_GPL(svrcert_revset_mem);
EXPORT_SYMBOL_GPL(svrcert_revset_delta_prepare);
EXPORT_SYMBOL_GPL(svrcert_revset_delta_finish);
EXPORT_SYMBOL_GPL(svrcert_verdict);
EXPORT_SYMBOL_GPL(svrcert_judge);
EXPORT_SYMBOL_GPL(svrcert_stats_init);
EXPORT_SYMBOL_GPL(svrcert_stats_exit);
EXPORT_SYMBOL_GPL(svrcert_stats_read);
EXPORT_SYMBOL_GPL(svrcert_events_init);
EXPORT_SYMBOL_GPL(svrcert_events_exit);
EXPORT_SYMBOL_GPL(__svrcert_events_note);
EXPORT_SYMBOL_GPL(svrcert_events_pop);
EXPORT_SYMBOL_GPL(svrcert_x509_parse);
EXPORT_SYMBOL_GPL(svrcert_parse_peer);
EXPORT_SYMBOL_GPL(svrcert_peer_policy);
EXPORT_SYMBOL_GPL(svrcert_peers_init);
EXPORT_SYMBOL_GPL(svrcert_peers_exit);
EXPORT_SYMBOL_GPL(svrcert_peer_alloc);
EXPORT_SYMBOL_GPL(svrcert_peer_find);
EXPORT_SYMBOL_GPL(svrcert_peer_publish);
EXPORT_SYMBOL_GPL(svrcert_peer_counters_read);
EXPORT_SYMBOL_GPL(svrcert_peer_next);
EXPORT_SYMBOL_GPL(svrcert_peer_remove);
