// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl -b FILE [--force]: run FILE's lines ("-": standard input) as
 * commands in one process, as ip -batch and nft -f do, so that a script of
 * many changes pays for one program start and one netlink handle.
 *
 * A line is a command as it would follow "svrcertctl": words split at
 * blanks, '...' taken literally, "..." with \" and \\, a backslash quoting
 * the next character; a word starting with '#' begins a comment; empty
 * lines are skipped. The first line that fails stops the run with its
 * exit status, and "svrcertctl: FILE:LINE: ... failed" follows the
 * command's own error; --force runs every line and fails at the end if
 * any did. The netlink handle is opened by the first line that needs it
 * and kept for the next (dropped after a failed line); the configuration
 * and the state directory are read again by each line, so a line sees
 * what the lines before it did.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"

struct batch {
	const char *name;	/* FILE, or "<stdin>" */
	unsigned long lineno;
	char **words;
	size_t n_words, cap;
};

static int push_word(struct batch *b, char *w)
{
	char **nw;

	/* one spare slot: argv is NULL-terminated */
	if (b->n_words + 2 > b->cap) {
		nw = realloc(b->words, (b->cap ? b->cap * 2 : 16) * sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		b->words = nw;
		b->cap = b->cap ? b->cap * 2 : 16;
	}
	b->words[b->n_words++] = w;
	b->words[b->n_words] = NULL;
	return 0;
}

/* One word starting at *P, unquoted in place; *P moves past it. */
static int take_word(char **p, char **word)
{
	char *in = *p, *out = *p, quote = 0;

	*word = out;
	for (; *in && (quote || !strchr(" \t\r\n", *in)); in++) {
		if (quote == '\'' && *in == '\'') {
			quote = 0;
		} else if (quote == '\'') {
			*out++ = *in;
		} else if (*in == '\\' && in[1] && (!quote || strchr("\"\\", in[1]))) {
			*out++ = *++in;
		} else if (*in == '"' || (!quote && *in == '\'')) {
			quote = quote ? 0 : *in;
		} else {
			*out++ = *in;
		}
	}
	if (quote)
		return -EINVAL;
	*p = *in ? in + 1 : in;
	*out = '\0';
	return 0;
}

/* LINE into b->words; -EINVAL for an unclosed quote. */
static int split_line(struct batch *b, char *line)
{
	char *p = line, *w;
	int ret;

	b->n_words = 0;
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (!*p || *p == '#')
			return 0;
		ret = take_word(&p, &w);
		if (!ret)
			ret = push_word(b, w);
		if (ret)
			return ret;
	}
}

/* One line; returns its exit status, the error printed. */
static int run_line(struct batch *b, char *line, bool json)
{
	size_t len = strlen(line);
	char *text;
	int ret;

	while (len && strchr("\r\n", line[len - 1]))
		line[--len] = '\0';
	text = strdup(line);	/* split_line() cuts LINE up */
	if (!text) {
		fprintf(stderr, "svrcertctl: %s:%lu: out of memory\n", b->name,
			b->lineno);
		return CTL_FAIL;
	}
	ret = split_line(b, line);
	if (ret) {
		fprintf(stderr, "svrcertctl: %s:%lu: %s: %s\n", b->name,
			b->lineno, ret == -EINVAL ? "unclosed quote" :
			strerror(-ret), text);
		ret = ret == -EINVAL ? CTL_USAGE : CTL_FAIL;
	} else if (b->n_words) {
		ret = ctl_run((int)b->n_words, b->words, json);
		/* the command's output, then where it failed */
		fflush(stdout);
		if (ret)
			fprintf(stderr, "svrcertctl: %s:%lu: failed (exit %d): "
				"%s\n", b->name, b->lineno, ret, text);
	}
	free(text);
	return ret;
}

/* Every line of F; the first failure's exit status, or CTL_OK. */
static int run_lines(struct batch *b, FILE *f, bool force, bool json)
{
	unsigned long failed = 0, ran = 0;
	size_t cap = 0;
	char *line = NULL;
	int ret, first = CTL_OK;

	while (getline(&line, &cap, f) != -1) {
		b->lineno++;
		ret = run_line(b, line, json);
		ran += b->n_words > 0;
		if (!ret)
			continue;
		ctl_nl_share_drop();
		failed++;
		if (first == CTL_OK)
			first = ret;
		if (!force)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "svrcertctl: %s: read error after line %lu: %s\n",
			b->name, b->lineno, strerror(errno));
		first = first == CTL_OK ? CTL_FAIL : first;
	} else if (force && failed) {
		fprintf(stderr, "svrcertctl: %s: %lu of %lu commands failed\n",
			b->name, failed, ran);
	}
	free(line);
	return first;
}

int ctl_batch(const char *path, bool force, bool json)
{
	struct batch b = { .name = path };
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	int ret;

	if (!f) {
		fprintf(stderr, "svrcertctl: -b %s: %s\n", path, strerror(errno));
		return CTL_FAIL;
	}
	if (is_stdin)
		b.name = "<stdin>";
	ctl_nl_share(true);
	ret = run_lines(&b, f, force, json);
	ctl_nl_share(false);
	if (!is_stdin)
		fclose(f);
	free(b.words);
	return ret;
}
