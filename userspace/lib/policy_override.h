/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "svrcertctl set": a runtime override of svrcert.conf's policy
 * (peer-validation, failure-mode, svr-ports), not an edit of the file.
 *
 * svrcertctl applies it to svrcert.ko and, while a svrcertd serves this
 * state directory, records it in STATE_DIR/policy-override.json so that
 * the daemon's next reload keeps it -- and says so in its log -- instead
 * of silently pushing svrcert.conf's values over it. It lasts until
 * "svrcertctl set SETTING config" (back to svrcert.conf) or a restart
 * of svrcertd, which starts from svrcert.conf and removes the record.
 * "show policy" marks each overridden setting with svrcert.conf's value.
 */
#ifndef SVRCERT_POLICY_OVERRIDE_H
#define SVRCERT_POLICY_OVERRIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

#define STORE_POLICY_OVERRIDE	"policy-override.json"

struct policy_override {
	bool has_pv, pv;		/* peer-validation */
	bool has_fm;			/* failure-mode */
	enum svrcert_failure_mode fm;
	bool has_ports;			/* svr-ports */
	int port_min, port_max;
};

/* The recorded override (all has_* false when there is none). A file that
 * does not parse is -EBADMSG. */
int policy_override_load(const struct svrcert_store *st,
			 struct policy_override *o);
/* Record O atomically (mode 0644), or remove the record when O overrides
 * nothing. The caller holds the state lock. */
int policy_override_save(const struct svrcert_store *st,
			 const struct policy_override *o);
bool policy_override_any(const struct policy_override *o);
/* What is in force: CFG's values with O's on top. */
void policy_override_apply(const struct policy_override *o,
			   const struct svrcert_config *cfg, bool *pv,
			   enum svrcert_failure_mode *fm, int *port_min,
			   int *port_max);
/* "peer-validation true (svrcert.conf: false), failure-mode ..." for a
 * log line ("" when O overrides nothing). */
void policy_override_describe(const struct policy_override *o,
			      const struct svrcert_config *cfg, char *buf,
			      size_t len);

#endif
