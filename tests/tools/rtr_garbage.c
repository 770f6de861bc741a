/*
 * rtr_garbage — a fake RTR cache that accepts connections and answers with garbage, for the
 * hostile-cache integration test: prefixd must mark it down, keep working with the other
 * caches, and never crash.
 *
 *   rtr_garbage PORT        listens on 127.0.0.1:PORT (loopback only), prints "ready",
 *                           serves connections one at a time until killed
 *
 * Each connection gets the next of several payloads in turn: random bytes; a PDU header
 * with an absurd length; a Cache Response followed by a truncated IPv4 Prefix PDU; an End of
 * Data with a length too short for its type. After writing it waits (at most 3 s) for the
 * client to close.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t
payload(unsigned kind, uint8_t *b, size_t cap)
{
	static const uint8_t absurd[] = {1, 3, 0, 1, 0xff, 0xff, 0xff, 0xf0};
	static const uint8_t trunc[] = {1, 3, 0, 1, 0, 0, 0, 8,
	    1, 4, 0, 0, 0, 0, 0, 20, 1, 24, 24, 0, 198, 51};
	static const uint8_t short_eod[] = {1, 7, 0, 1, 0, 0, 0, 9, 0};

	switch (kind % 4) {
	case 0:
		for (size_t i = 0; i < cap; i++)
			b[i] = (uint8_t)rand();
		return cap;
	case 1:
		memcpy(b, absurd, sizeof(absurd));
		return sizeof(absurd);
	case 2:
		memcpy(b, trunc, sizeof(trunc));
		return sizeof(trunc);
	default:
		memcpy(b, short_eod, sizeof(short_eod));
		return sizeof(short_eod);
	}
}

static void
serve(int fd, unsigned kind)
{
	uint8_t buf[512];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t n = payload(kind, buf, sizeof(buf));

	/* Let the client send its query first, then answer with garbage. */
	if (poll(&p, 1, 1000) > 0 && read(fd, buf + n, sizeof(buf) - n) < 0)
		return;
	if (write(fd, buf, n) < 0)
		return;
	while (poll(&p, 1, 3000) > 0 && read(fd, buf, sizeof(buf)) > 0)
		;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1, lfd;

	if (argc != 2) {
		fprintf(stderr, "usage: rtr_garbage PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(lfd, 8) == -1) {
		perror("rtr_garbage: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (unsigned kind = 0;; kind++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd == -1)
			continue;
		serve(fd, kind);
		close(fd);
	}
}
