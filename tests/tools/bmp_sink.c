/*
 * bmp_sink — a tiny BMP collector for tests/tools/bmp_capture.sh: listens on ADDRESS PORT,
 * prints "ready" once listening, accepts one connection and appends every byte it receives to
 * FILE (unbuffered, so a poller sees them at once) until the router closes the connection.
 * It reads nothing into the bytes: the capture is what the router sent, byte for byte.
 *
 *   bmp_sink ADDRESS PORT FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST |
	    AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *res;
	char buf[65536];
	int lfd, cfd, out, one = 1;
	ssize_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: bmp_sink ADDRESS PORT FILE\n");
		return 2;
	}
	if (getaddrinfo(argv[1], argv[2], &hints, &res) != 0) {
		fprintf(stderr, "bmp_sink: bad address %s port %s\n", argv[1], argv[2]);
		return 2;
	}
	lfd = socket(res->ai_family, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, res->ai_addr, res->ai_addrlen) < 0 || listen(lfd, 1) < 0) {
		perror("bmp_sink: listen");
		return 1;
	}
	freeaddrinfo(res);
	if ((out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0) {
		perror(argv[3]);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if ((cfd = accept(lfd, NULL, NULL)) < 0) {
		perror("bmp_sink: accept");
		return 1;
	}
	close(lfd);
	while ((n = read(cfd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) < 0) {
			perror("bmp_sink");
			return 1;
		}
	}
	close(cfd);
	return close(out) < 0;
}
