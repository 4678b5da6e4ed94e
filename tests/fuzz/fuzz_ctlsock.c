// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the control-socket line protocol (lib/ctlsock.h) as
 * svrcertd reads a client: the input is what the client sends, written
 * into a UNIX stream socketpair and closed; ctlsock_read_line() reads one
 * line, which is parsed as a request the way the daemon's dispatcher does
 * (json_loads, a JSON object).
 *
 * Beyond "no crash, no leak, no UB" it asserts the protocol's promises:
 *   - a line is returned only when the input holds '\n' within
 *     CTLSOCK_LINE_MAX bytes, and it is the input's first line (up to a
 *     NUL, where C strings end); no newline: -ECONNRESET at the end of the
 *     input, -EMSGSIZE beyond CTLSOCK_LINE_MAX;
 *   - whatever parses is written back with ctlsock_write_json() as one line
 *     that reads and parses to an equal value (the response path).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/ctlsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sockpair(int sv[2])
{
	int big = 4 << 20;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	/* The whole input fits: the reader never has to run concurrently. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

static void send_all(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = send(fd, data, size, MSG_NOSIGNAL);

		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
}

static void check_line(const uint8_t *data, size_t size, int ret,
		       const char *line)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) : size;

	if (!ret) {
		size_t len = strlen(line);

		if (!nl || first >= CTLSOCK_LINE_MAX || len > first ||
		    memcmp(line, data, len) || (len < first && data[len] != 0))
			abort();
	} else if (ret == -ECONNRESET) {
		if (nl && first < CTLSOCK_LINE_MAX)
			abort();
	} else if (ret == -EMSGSIZE) {
		if (size < CTLSOCK_LINE_MAX || (nl && first < CTLSOCK_LINE_MAX))
			abort();
	} else {
		abort();
	}
}

/* The response path: OBJ written as a line reads back equal. */
static void round_trip(json_t *obj)
{
	char *line = NULL;
	json_t *back;
	int sv[2];

	sockpair(sv);
	if (ctlsock_write_json(sv[0], obj))
		abort();
	close(sv[0]);
	if (ctlsock_read_line(sv[1], 1000, &line))
		abort();
	back = json_loads(line, 0, NULL);
	if (!back || !json_equal(back, obj))
		abort();
	json_decref(back);
	free(line);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = NULL;
	json_t *req;
	int sv[2], ret;

	sockpair(sv);
	send_all(sv[0], data, size);
	close(sv[0]);
	ret = ctlsock_read_line(sv[1], 1000, &line);
	close(sv[1]);
	check_line(data, size, ret, line);
	if (ret)
		return 0;
	/* As the daemon's dispatcher takes a request: any JSON object (a
	 * missing or unknown "command" is answered, not dropped). */
	req = json_loads(line, 0, NULL);
	free(line);
	if (json_is_object(req))
		round_trip(req);
	json_decref(req);
	return 0;
}
