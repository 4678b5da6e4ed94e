// SPDX-License-Identifier: GPL-2.0
/*
 * Internals the KUnit suites in svrcert_kunit.ko call. Built only for a
 * kernel with CONFIG_KUNIT (the debug test kernel): a production build of
 * svrcert.ko exports nothing but svrcert_check_peer().
 */
#include <linux/export.h>

#include "events.h"
#include "main.h"
#include "netlink.h"
#include "policy.h"
#include "revset.h"
#include "stats.h"
#include "verdict.h"
#include "x509.h"

EXPORT_SYMBOL_GPL(svrcert_wq);
EXPORT_SYMBOL_GPL(svrcert_attr_policy);
EXPORT_SYMBOL_GPL(svrcert_policy_defaults);
EXPORT_SYMBOL_GPL(svrcert_revset_module_init);
EXPORT_SYMBOL_GPL(svrcert_revset_module_exit);
EXPORT_SYMBOL_GPL(svrcert_revset_create);
EXPORT_SYMBOL_GPL(svrcert_revset_destroy);
EXPORT_SYMBOL_GPL(svrcert_revset_destroy_rcu);
EXPORT_SYMBOL_GPL(svrcert_revset_add);
EXPORT_SYMBOL_GPL(svrcert_revset_del);
EXPORT_SYMBOL_GPL(svrcert_revset_contains);
EXPORT_SYMBOL_GPL(svrcert_revset_count);
EXPORT_SYMBOL_GPL(svrcert_revset_dump);
EXPORT_SYMBOL_GPL(svrcert_revset_mem);
EXPORT_SYMBOL_GPL(svrcert_revset_settle);
EXPORT_SYMBOL_GPL(svrcert_revset_trim);
EXPORT_SYMBOL_GPL(svrcert_verdict);
EXPORT_SYMBOL_GPL(svrcert_stats_init);
EXPORT_SYMBOL_GPL(svrcert_stats_exit);
EXPORT_SYMBOL_GPL(svrcert_stats_read);
EXPORT_SYMBOL_GPL(svrcert_events_init);
EXPORT_SYMBOL_GPL(svrcert_events_exit);
EXPORT_SYMBOL_GPL(__svrcert_events_note);
EXPORT_SYMBOL_GPL(svrcert_events_pop);
EXPORT_SYMBOL_GPL(svrcert_x509_parse);
