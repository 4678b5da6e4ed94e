// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for svrcert.conf: the line reader (section headers are
 * rewritten before inih sees them), inih, the key table and the checks
 * after parsing. Beyond "no crash, no leak, no UB" it asserts what the API
 * promises: *out untouched on error, a message naming the file on error,
 * and on success a configuration that satisfies every documented rule.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const struct svrcert_config *c)
{
	if (!c->router_name || !c->state_dir || !c->uuid_file || !c->control_socket ||
	    !c->audit_log || c->crl_polling_s == 0 || c->crl_backoff_s == 0 ||
	    c->crl_polling_s > 365u * 86400u)
		abort();
	if (c->key_storage != SVRCERT_KEY_TPM && !c->key_file)
		abort();
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct svrcert_peer *p = &c->peers[i];

		if (!p->n_addrs || p->n_addrs > SVRCERT_PEER_ADDRS_MAX ||
		    strlen(p->name) > SVRCERT_CONF_NAME_MAX ||
		    svrcert_config_peer(c, p->name) != p)
			abort();
	}
	for (size_t i = 0; i < c->n_cas; i++)
		if (!c->cas[i].file || c->cas[i].file[0] != '/' ||
		    svrcert_config_trusted_ca(c, c->cas[i].name) != &c->cas[i])
			abort();
	for (size_t i = 0; i < c->n_crl_urls; i++)
		if (strncasecmp(c->crl_urls[i], "http", 4))
			abort();
}

static void fuzz_values(const char *s)
{
	struct svrcert_addr a;
	uint32_t secs;
	uint64_t bytes;
	bool b;

	if (!svrcert_parse_duration(s, 3600, &secs) && (secs == 0 || secs > 365u * 86400u))
		abort();
	if (!svrcert_parse_size(s, &bytes) && (bytes == 0 || bytes > (16ull << 30)))
		abort();
	svrcert_parse_bool(s, &b);
	svrcert_parse_addr(s, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svrcert_config cfg;
	char err[600];
	char *text;
	int ret;

	if (size > 1 << 16)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&cfg, 0xa5, sizeof(cfg));
	ret = svrcert_config_load_string(text, "fuzz.conf", &cfg, err, sizeof(err));
	if (ret == 0) {
		check_ok(&cfg);
		svrcert_config_free(&cfg);
	} else {
		const unsigned char *p = (const unsigned char *)&cfg;

		if (strncmp(err, "fuzz.conf", 9))
			abort();
		for (size_t i = 0; i < sizeof(cfg); i++)
			if (p[i] != 0xa5)
				abort();
	}
	if (size < 64)
		fuzz_values(text);
	free(text);
	return 0;
}
