/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Importing this router's certificate, the seed's fourth provisioning
 * step, and judging the installed one.
 *
 * The checks run in the seed's order (validate.h does the rules):
 *   1. the file holds no private key of any kind;
 *   2. it parses, and the leaf passes every rule: dates, algorithms, key,
 *      not a CA, EKU, identity, public key == this router's TPM key, chain
 *      to a trusted CA with critical CA:TRUE;
 *   3. it is not revoked by any CRL this router holds.
 * The first failing step stops the import; every problem of that step is
 * reported, counted (certificate-import.failure and
 * certificate-import.failure.<problem>) and audited with permitted=false.
 * Nothing installed changes on failure.
 *
 * On success the certificate (leaf, then any intermediates given, PEM per
 * RFC 7468) replaces STORE_CERT atomically, system.ingest_certificate is
 * audited, certificate-import.success counted, and the kernel told that
 * the own certificate is valid (when svrcert.ko is loaded).
 */
#ifndef SVRCERT_IMPORT_H
#define SVRCERT_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <linux/svrcert.h>

#include "lib/audit.h"
#include "lib/config.h"
#include "pki.h"
#include "lib/store.h"
#include "validate.h"

struct import_env;
struct svrcert_held;

struct import_params {
	struct svrcert_store *st;
	const struct audit_sink *audit;	/* NULL: the state directory's log */
	const struct svrcert_config *cfg; /* NULL: state-dir trust only */
	const char *expected_name;	/* NULL: cfg's peering-common-name,
					 * else the router UUID */
	time_t now;			/* 0: time(NULL) */
	bool tell_kernel;		/* push the own-certificate state */
	const struct import_env *env;	/* NULL: read for every call */
	/* svrcertd: the revocations its CRL manager lends (held_revs.h),
	 * shared with its other judges; NULL: every held file read. */
	struct svrcert_held *held;
};

/*
 * What the rules check against: the trusted CAs, the held CRLs, the
 * router's public key and the expected identity, read from IP's state
 * directory and configuration. Every call reads it afresh when IP->env is
 * NULL, so that a change there counts at once (what svrcertd and
 * svrcertctl do). A caller that imports many inputs against a state it
 * knows to be unchanged may read it once and set IP->env (the fuzz
 * target: reading it costs several OpenSSL key decodes per import).
 */
int import_env_open(const struct import_params *ip, struct import_env **out,
		    char *err, size_t errlen);
void import_env_close(struct import_env *env);

struct import_result {
	int step;			/* seed step that failed (1..3), 0 ok */
	enum svrcert_problem problem;	/* first error */
	uint64_t problems;		/* bit (1 << code) of every error */
	char message[2048];		/* every problem, one per line */
	char common_name[128];
	char sha1[SVRCERT_SHA1_COLON_LEN];
	char sha256[SVRCERT_SHA256_COLON_LEN];
	char kernel[256];		/* what the kernel was told, or why not */
	/* Accepted with a warning ("" when none): step 3 with no CRL held
	 * (STATE_DIR/crl empty) checked the certificate against no CRL. */
	char warning[300];
};

/* Returns 0 or the step's -errno (-EPERM, -EBADMSG, -EKEYREJECTED,
 * -EKEYREVOKED) or another -errno (no trusted CA, no key, I/O). */
int import_certificate(const struct import_params *ip, const uint8_t *buf,
		       size_t len, struct import_result *res);

/* The installed certificate judged now, with every runtime rule. */
struct own_cert_status {
	bool present;
	enum svrcert_cert_state state;	/* UNKNOWN when not present */
	enum svrcert_problem problem;
	char message[1024];
	time_t not_before, not_after;
	long days_left;			/* whole days until notAfter */
};
int own_cert_evaluate(const struct import_params *ip,
		      struct own_cert_status *out);

/* Tell svrcert.ko this router's own certificate state. Returns 0, or
 * -ENOENT when the module is not loaded (MSG says so), or -errno. */
int kernel_push_self_state(enum svrcert_cert_state state, char *msg,
			   size_t msglen);

/* Apply the configured policy and the own-certificate state to svrcert.ko
 * in one message. Ports are sent only when PORT_MAX is not 0. */
int kernel_push_policy(bool peer_validation, int failure_mode, int port_min,
		       int port_max, enum svrcert_cert_state self_state,
		       char *msg, size_t msglen);

/* kernel_peer_cert_counters() */
#include "import_kernel.h"

const char *cert_state_name(enum svrcert_cert_state state);

#endif
