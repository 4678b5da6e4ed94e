/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to config*.c: the parse context and the key table. */
#ifndef SVRCERT_CONFIG_KEYS_H
#define SVRCERT_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum conf_kind { S_ROUTER, S_KEY, S_TRUSTED_CA, S_CRL, S_PEER, S_DAEMON, S_REST,
		S_CONDUCTOR, S__N };

struct conf_section {
	int kind;
	int line;
	size_t index;		/* into cfg.cas / cfg.peers */
	uint64_t seen;		/* bit per key of the table: duplicates */
};

struct conf_ctx {
	struct svrcert_config cfg;	/* being built; handed out on success */
	const char *fname;
	const char *pos, *end;		/* reader position */
	int lineno;			/* line inih is working on */
	struct conf_section *sects;
	size_t n_sects;
	int key_line;			/* line of [key] key-file / tpm-handle */
	bool failed;
	char err[512];
};

void conf_error(struct conf_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool conf_name_ok(const char *s, size_t len);
const char *conf_kind_name(int kind);
const char *conf_section_name(const struct conf_ctx *c,
			      const struct conf_section *s);
int conf_section_open(struct conf_ctx *c, struct conf_section *s, int kind,
		      const char *name, size_t nlen);
int conf_set_key(struct conf_ctx *c, struct conf_section *s, const char *key,
		 const char *value);
int conf_defaults(struct conf_ctx *c, const char *fname);
void conf_finish(struct conf_ctx *c);
/* The bit of KEY in a section's seen mask (config_keys.c's table). */
uint64_t conf_key_bit(int kind, const char *key);
void conf_ctx_release(struct conf_ctx *c);

#endif
