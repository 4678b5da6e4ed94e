/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcert's metrics, the one list for svrcertd's textfile ([daemon]
 * metrics-file) and GET /api/v1/metrics: the seed's counters, the own
 * certificate's, the trusted CAs' and the peers' expiry, each held CRL's
 * nextUpdate, the alarms, and svrcert.ko's counters per reason and per
 * peer. Documentation/metrics.md lists every name.
 *
 * Labels are bounded by configuration and code: counter results and
 * reasons, alarm ids, CA bundle names and subjects, CRL issuers, peer
 * names; never a serial number or fingerprint.
 */
#ifndef SVRCERT_METRICS_COLLECT_H
#define SVRCERT_METRICS_COLLECT_H

#include <stddef.h>

#include "import.h"
#include "store_env.h"

/*
 * The exposition text of ENV's router (caller frees TEXT). OWN is the own
 * certificate's status when the caller has it fresh (svrcertd's last
 * check), NULL to evaluate it now. Parts that cannot be read (svrcert.ko
 * not loaded, a missing file) are left out, and say so in a gauge
 * (svrcert_kernel_module_loaded); only a writer error fails (-errno).
 */
int svrcert_metrics_collect(const struct svrcert_env *env,
			    const struct own_cert_status *own,
			    char **text, size_t *len);

#endif
