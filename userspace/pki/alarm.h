/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Alarms about this router's own certificate (the seed's "Expiring
 * Certificate" and "no valid certificate" alarms). An alarm is raised once,
 * stays raised (persisted in STORE_ALARMS across restarts) until what
 * caused it is resolved, and every raise and clear is logged.
 *
 *   certificate-expiring  minor   valid, notAfter within 30 days
 *                         major   valid, notAfter within 7 days
 *   certificate-invalid   critical expired, not yet valid, invalid, revoked
 *   no-valid-certificate  critical peer security (peer-validation) is on
 *                                  and there is no valid certificate
 *   trusted-ca-refused    major    a [trusted-ca] of svrcert.conf with
 *                                  validation-mode strict fails the
 *                                  bundle check and is not used
 *                                  (trust_config.h)
 */
#ifndef SVRCERT_ALARM_H
#define SVRCERT_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "import.h"
#include "lib/store.h"

#define ALARM_EXPIRING		"certificate-expiring"
#define ALARM_INVALID		"certificate-invalid"
#define ALARM_NO_CERT		"no-valid-certificate"

#define ALARM_MINOR_DAYS	30
#define ALARM_MAJOR_DAYS	7
#define ALARM_SET_MAX		8

enum alarm_severity {
	ALARM_SEV_MINOR,
	ALARM_SEV_MAJOR,
	ALARM_SEV_CRITICAL,
};

struct alarm {
	char id[32];
	enum alarm_severity severity;
	enum svrcert_cert_state state;	/* the certificate state it is about */
	char message[1100];
	time_t raised;			/* when first raised at this severity */
};

struct alarm_set {
	struct alarm v[ALARM_SET_MAX];
	size_t n;
};

const char *alarm_severity_name(enum alarm_severity sev);

/* The alarms the own certificate's status calls for (pure function). */
void alarm_desired_own(const struct own_cert_status *s, bool peer_security,
		       time_t now, struct alarm_set *out);

/* Persisted alarms (empty set when none). */
int alarm_load(const struct svrcert_store *st, struct alarm_set *out);
json_t *alarm_set_json(const struct alarm_set *set);

/*
 * Make the persisted set equal WANT: raise (log) the new ones, clear (log)
 * the gone ones, keep the raise time of unchanged ones; a new severity or
 * state is a new raise. Writes STORE_ALARMS atomically when anything
 * changed. NEWLY (may be NULL) receives the alarms raised by this call.
 */
int alarm_sync(struct svrcert_store *st, const struct alarm_set *want,
	       struct alarm_set *newly);

/*
 * The periodic own-certificate check of svrcertd (and "svrcertctl show
 * alarms --check"): judge the installed certificate, sync the alarms,
 * count certificate expired/invalid/revoked when such an alarm is newly
 * raised, and tell the kernel the state (KMSG says what happened there).
 */
int alarm_check_own(const struct import_params *ip, bool peer_security,
		    struct own_cert_status *status, char *kmsg, size_t kmsglen);

#endif
