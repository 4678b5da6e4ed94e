/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Audit events: one JSON object per line appended to the audit log (by
 * default STORE_AUDIT_LOG in the state directory, or [daemon] audit-log),
 * and the same line sent to syslog (LOG_AUTHPRIV | LOG_NOTICE).
 *
 * A line:
 *   {"timestamp":"2025-03-19T20:50:35.173Z","type":"system.generate_csr",
 *    "node":"test-1","description":"Generated CSR for: NAME",
 *    "detail":{...the seed's "Json Event Detail"...},"permitted":true}
 */
#ifndef SVRCERT_AUDIT_H
#define SVRCERT_AUDIT_H

#include <stdbool.h>

#include <jansson.h>

#include "store.h"

#define AUDIT_GENERATE_CSR	"system.generate_csr"
#define AUDIT_INGEST_CERT	"system.ingest_certificate"

/* Where to append: PATH (absolute) or, when NULL, the state directory. */
struct audit_sink {
	const struct svrcert_store *st;
	const char *path;
};

/* Record one event; DETAIL is consumed (json_decref'd). */
int audit_event(const struct audit_sink *sink, const char *type,
		const char *description, json_t *detail, bool permitted);

/*
 * The title line the seed shows above an event of TYPE ("Generated
 * certificate signing request."), or NULL for a type it has none for.
 */
const char *audit_type_title(const char *type);

/* The event object as written (exposed for tests); DETAIL is consumed. */
json_t *audit_event_json(const char *type, const char *description,
			 json_t *detail, bool permitted);

#endif
