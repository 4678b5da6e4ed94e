// SPDX-License-Identifier: GPL-2.0
/*
 * svrcert.conf parser. inih does the INI syntax; this file decides what is
 * allowed. Section headers are read by our own line reader before inih sees
 * them: inih truncates section names at 49 bytes without a word and cannot
 * tell two [peer] sections apart, so the reader validates each header,
 * records it in a table and hands inih "[N]" (the table index) instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "fileperm.h"
#include "util.h"

#define CONF_LINE_MAX	4096		/* bytes per line, newline included */
#define CONF_FILE_MAX	(1u << 20)

static const char *const section_kinds[] = {
	[S_ROUTER] = "router", [S_KEY] = "key", [S_TRUSTED_CA] = "trusted-ca",
	[S_CRL] = "crl", [S_PEER] = "peer", [S_DAEMON] = "daemon",
	[S_REST] = "rest", [S_CONDUCTOR] = "conductor",
};

void conf_error(struct conf_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	size_t pos;

	if (c->failed)
		return;
	c->failed = true;
	if (line > 0)
		snprintf(c->err, sizeof(c->err), "%s:%d: ", c->fname, line);
	else
		snprintf(c->err, sizeof(c->err), "%s: ", c->fname);
	pos = strlen(c->err);
	va_start(ap, fmt);
	vsnprintf(c->err + pos, sizeof(c->err) - pos, fmt, ap);
	va_end(ap);
}

bool conf_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > SVRCERT_CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '-' && ch != '_' && ch != '.')
			return false;
	}
	return true;
}

/* "kind", `kind "name"` or "kind:name" -> kind index and name span. */
static int split_header(const char *s, size_t len, const char **name,
			size_t *nlen)
{
	size_t klen = 0;

	while (klen < len && s[klen] != ' ' && s[klen] != '\t' && s[klen] != ':' &&
	       s[klen] != '"')
		klen++;
	*name = NULL;
	*nlen = 0;
	if (klen < len) {
		const char *r = s + klen;
		size_t rlen = len - klen;

		if (*r == ':') {
			*name = r + 1;
			*nlen = rlen - 1;
		} else {
			while (rlen && (*r == ' ' || *r == '\t')) {
				r++;
				rlen--;
			}
			if (rlen < 2 || r[0] != '"' || r[rlen - 1] != '"')
				return -EINVAL;
			*name = r + 1;
			*nlen = rlen - 2;
		}
	}
	for (int k = 0; k < S__N; k++)
		if (strlen(section_kinds[k]) == klen && !memcmp(section_kinds[k], s, klen))
			return k;
	return -ENOENT;
}

static struct conf_section *new_section(struct conf_ctx *c)
{
	struct conf_section *n = reallocarray(c->sects, c->n_sects + 1, sizeof(*n));

	if (!n)
		return NULL;
	c->sects = n;
	memset(&n[c->n_sects], 0, sizeof(n[0]));
	n[c->n_sects].line = c->lineno;
	return &n[c->n_sects++];
}

static int check_header(struct conf_ctx *c, int kind, const char *name, size_t nlen)
{
	bool named = kind == S_TRUSTED_CA || kind == S_PEER;

	if (named && !name) {
		conf_error(c, c->lineno, "[%s] needs a name: [%s \"NAME\"]",
			   section_kinds[kind], section_kinds[kind]);
		return -EINVAL;
	}
	if (!named && name) {
		conf_error(c, c->lineno, "[%s] takes no name", section_kinds[kind]);
		return -EINVAL;
	}
	if (named && !conf_name_ok(name, nlen)) {
		conf_error(c, c->lineno, "[%s \"%.*s\"]: name must be 1-%d characters of A-Z a-z 0-9 . _ -",
			   section_kinds[kind], (int)(nlen > 80 ? 80 : nlen), name,
			   SVRCERT_CONF_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_sects; i++) {
		const struct conf_section *o = &c->sects[i];

		if (o->kind == kind && (!named ||
					(strlen(conf_section_name(c, o)) == nlen &&
					 !memcmp(conf_section_name(c, o), name, nlen)))) {
			conf_error(c, c->lineno, "duplicate section [%s%s%.*s%s] (first at line %d)",
				   section_kinds[kind], named ? " \"" : "", (int)nlen,
				   named ? name : "", named ? "\"" : "", o->line);
			return -EINVAL;
		}
	}
	return 0;
}

/* A section header line: validate, record, rewrite to "[index]". */
static int handle_header(struct conf_ctx *c, const char *line, size_t len,
			 char *out, int outlen)
{
	const char *close = memchr(line, ']', len), *name, *rest;
	struct conf_section *sec;
	size_t nlen;
	int kind;

	if (!close) {
		conf_error(c, c->lineno, "section header without ']'");
		return -EINVAL;
	}
	for (rest = close + 1; rest < line + len; rest++) {
		if (*rest == ';' && (rest[-1] == ' ' || rest[-1] == '\t'))
			break;
		if (*rest != ' ' && *rest != '\t' && *rest != '\r' && *rest != '\n') {
			conf_error(c, c->lineno, "text after section header");
			return -EINVAL;
		}
	}
	kind = split_header(line + 1, (size_t)(close - line - 1), &name, &nlen);
	if (kind == -EINVAL) {
		conf_error(c, c->lineno, "bad section header: expected [kind \"NAME\"] or [kind:NAME]");
		return -EINVAL;
	}
	if (kind < 0) {
		conf_error(c, c->lineno, "unknown section [%.*s]",
			   (int)(close - line - 1 > 80 ? 80 : close - line - 1), line + 1);
		return -EINVAL;
	}
	if (check_header(c, kind, name, nlen))
		return -EINVAL;
	sec = new_section(c);
	if (!sec || conf_section_open(c, sec, kind, name, nlen)) {
		conf_error(c, c->lineno, "out of memory");
		return -ENOMEM;
	}
	snprintf(out, (size_t)outlen, "[%zu]\n", c->n_sects - 1);
	return 0;
}

/* inih's fgets-like reader over the in-memory file. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_ctx *c = stream;
	const char *nl, *line = c->pos, *p;
	size_t len;

	if (c->failed || c->pos >= c->end)
		return NULL;
	nl = memchr(c->pos, '\n', (size_t)(c->end - c->pos));
	len = nl ? (size_t)(nl - c->pos) + 1 : (size_t)(c->end - c->pos);
	c->pos += len;
	c->lineno++;
	/* A UTF-8 BOM: drop it here, or a first-line header would be missed. */
	if (c->lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		len -= 3;
	}
	if (memchr(line, '\0', len)) {
		conf_error(c, c->lineno, "NUL byte in line");
		return NULL;
	}
	if (len >= (size_t)num || len > CONF_LINE_MAX) {
		conf_error(c, c->lineno, "line longer than %d bytes", CONF_LINE_MAX);
		return NULL;
	}
	for (p = line; p < line + len && (*p == ' ' || *p == '\t'); p++)
		;
	if (p < line + len && *p == '[') {
		if (handle_header(c, p, len - (size_t)(p - line), str, num))
			return NULL;
		return str;
	}
	memcpy(str, line, len);
	str[len] = '\0';
	return str;
}

static int conf_handler(void *user, const char *section, const char *name,
			const char *value)
{
	struct conf_ctx *c = user;
	char *end;
	unsigned long idx;

	if (c->failed)
		return 0;
	idx = strtoul(section, &end, 10);
	if (!*section || *end || idx >= c->n_sects) {
		conf_error(c, c->lineno, "%s: key outside any section", name);
		return 0;
	}
	return conf_set_key(c, &c->sects[idx], name, value) == 0;
}

static void set_inih_options(void)
{
	ini_allow_multiline = false;	/* indented lines are errors */
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = CONF_LINE_MAX + 2;
	ini_initial_alloc = CONF_LINE_MAX + 2;
}

static int conf_parse(const char *text, size_t len, const char *fname,
		      struct svrcert_config *out, char *err, size_t errlen)
{
	struct conf_ctx *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", fname);
		return -ENOMEM;
	}
	c->fname = fname;
	c->pos = text;
	c->end = text + len;
	ret = conf_defaults(c, fname);
	if (!ret) {
		set_inih_options();
		ret = ini_parse_stream(conf_reader, c, conf_handler, c);
		if (ret > 0 && !c->failed)
			conf_error(c, ret, "syntax error: expected \"key = value\", [section] or a comment");
		else if (ret < 0 && !c->failed)
			conf_error(c, 0, "parser out of memory");
		if (!c->failed)
			conf_finish(c);
		ret = c->failed ? -EINVAL : 0;
	} else {
		conf_error(c, 0, "out of memory");
	}
	if (ret) {
		snprintf(err, errlen, "%s", c->err);
		svrcert_config_free(&c->cfg);
	} else {
		*out = c->cfg;
		if (errlen)
			err[0] = '\0';
	}
	conf_ctx_release(c);
	free(c);
	return ret;
}

int svrcert_config_load_string(const char *text, const char *name,
			       struct svrcert_config *out, char *err, size_t errlen)
{
	return conf_parse(text, strlen(text), name ? name : "<string>", out, err, errlen);
}

int svrcert_config_load(const char *path, struct svrcert_config *out,
			char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int ret;

	/* Whoever may write it chooses the trusted CAs and the key file. A
	 * missing file is left to the read, which says so. */
	ret = svrcert_config_perm_check(path, err, errlen);
	if (ret && ret != -ENOENT)
		return ret;
	ret = svrcert_read_file(path, CONF_FILE_MAX, &buf, &len);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path,
			 ret == -EFBIG ? "file larger than 1 MiB" :
			 ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return ret;
	}
	ret = conf_parse((const char *)buf, len, path, out, err, errlen);
	free(buf);
	return ret;
}

const struct svrcert_peer *svrcert_config_peer(const struct svrcert_config *cfg,
					       const char *name)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!strcmp(cfg->peers[i].name, name))
			return &cfg->peers[i];
	return NULL;
}

const struct svrcert_trusted_ca *
svrcert_config_trusted_ca(const struct svrcert_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_cas; i++)
		if (!strcmp(cfg->cas[i].name, name))
			return &cfg->cas[i];
	return NULL;
}

const char *conf_kind_name(int kind)
{
	return section_kinds[kind];
}

void svrcert_config_free(struct svrcert_config *cfg)
{
	free(cfg->path);
	free(cfg->router_name);
	free(cfg->uuid_file);
	free(cfg->peering_common_name);
	free(cfg->key_file);
	free(cfg->tpm_tcti);
	for (size_t i = 0; i < cfg->n_cas; i++) {
		free(cfg->cas[i].name);
		free(cfg->cas[i].file);
	}
	free(cfg->cas);
	for (size_t i = 0; i < cfg->n_crl_urls; i++)
		free(cfg->crl_urls[i]);
	free(cfg->crl_urls);
	free(cfg->crl_conductor);
	free(cfg->crl_conductor_name);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		free(cfg->peers[i].name);
		free(cfg->peers[i].addrs);
		free(cfg->peers[i].authenticate.host);
	}
	free(cfg->peers);
	free(cfg->state_dir);
	free(cfg->control_socket);
	free(cfg->control_group);
	free(cfg->audit_log);
	free(cfg->metrics_file);
	free(cfg->listen.host);
	free(cfg->rest_listen.host);
	free(cfg->rest_certificate);
	free(cfg->rest_key);
	free(cfg->conductor_listen.host);
	memset(cfg, 0, sizeof(*cfg));
}
