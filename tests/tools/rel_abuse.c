/*
 * rel_abuse — abusive TCP clients and a latency probe for tests/integration/test_rel_abuse.sh.
 *
 *   rel_abuse idle HOST PORT N SECONDS       N connections that send nothing, held SECONDS
 *   rel_abuse slowloris HOST PORT N SECONDS  N connections sending request headers at 1 byte/s
 *   rel_abuse bigbody HOST PORT N MB TOKEN   N concurrent POSTs with an MB-megabyte body each
 *   rel_abuse probe SOCKET SECONDS STOPFILE  GET /v1/status over the unix socket every 20 ms
 *
 * Each mode prints one line of key=value figures. idle and slowloris report how many
 * connections were established and how many prefixd closed (and, for slowloris, after how
 * many seconds the last one was cut); bigbody the HTTP statuses it got (0 = connection cut
 * before an answer) and the seconds it took. probe runs until SECONDS pass or STOPFILE
 * exists, measures every round trip (connect, request, full answer) and exits 1 if any took
 * 100 ms or more or failed; each slow one is reported on stderr with its time since the start. Loopback only: HOST must be 127.0.0.1 or ::1.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *rel_host, *rel_port;

static double
rel_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to HOST:PORT, non-blocking and still connecting; -1 on error. */
static int
rel_tcp(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int fd;

	if (getaddrinfo(rel_host, rel_port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* 1 if the peer closed (or reset) fd, 0 if it is still open. Drains what arrived. */
static int
rel_peer_closed(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * idle and slowloris: open n connections, then for secs seconds send one header byte per
 * second on each (slowloris) or nothing (idle), watching for the server closing them.
 */
static int
rel_hold(int n, int secs, int slow)
{
	static const char hdr[] = "GET /v1/status HTTP/1.1\r\nHost: prefixd\r\nX-Slow: ";
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int *sent = calloc((size_t)n, sizeof(*sent));
	int i, opened = 0, established = 0, closed = 0;
	double t0 = rel_now(), next = t0, last_close = 0;

	if (p == NULL || sent == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		p[i].fd = rel_tcp();
		p[i].events = POLLOUT;
		opened += p[i].fd >= 0;
	}
	while (rel_now() - t0 < secs) {
		poll(p, (nfds_t)n, 100);
		for (i = 0; i < n; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			if ((p[i].revents & POLLOUT) && p[i].events == POLLOUT) {
				established++;
				p[i].events = POLLIN;
			}
			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && rel_peer_closed(p[i].fd)) {
				closed++;
				last_close = rel_now() - t0;
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
		if (slow && rel_now() >= next) {
			next += 1.0;
			for (i = 0; i < n; i++)
				if (p[i].fd >= 0 && p[i].events == POLLIN) {
					char c = sent[i] < (int)sizeof(hdr) - 1 ? hdr[sent[i]] : 'a';
					if (send(p[i].fd, &c, 1, MSG_NOSIGNAL) == 1)
						sent[i]++;
				}
		}
	}
	printf("opened=%d established=%d closed_by_prefixd=%d last_close_s=%.1f\n", opened,
	    established, closed, last_close);
	for (i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	free(p);
	free(sent);
	return 0;
}

struct rel_big {
	pthread_t th;
	size_t mb;
	const char *token;
	int status;
};

/* One POST with an mb-megabyte body; status 0 when cut before an answer. */
static void *
rel_big_main(void *arg)
{
	struct rel_big *b = arg;
	static char chunk[65536];
	char hdr[512], resp[1024];
	size_t total = b->mb << 20, off = 0;
	struct pollfd p;
	ssize_t n;
	int fd = rel_tcp(), len;

	b->status = 0;
	if (fd < 0)
		return NULL;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	poll(&p, 1, 5000);
	fcntl(fd, F_SETFL, 0);
	memset(chunk, '{', sizeof(chunk));
	len = snprintf(hdr, sizeof(hdr), "POST /v1/pools HTTP/1.1\r\nHost: prefixd\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", b->token, total);
	if (send(fd, hdr, (size_t)len, MSG_NOSIGNAL) == len)
		while (off < total && (n = send(fd, chunk, sizeof(chunk) < total - off ?
		    sizeof(chunk) : total - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)n;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 10000) == 1 && (n = recv(fd, resp, sizeof(resp) - 1, 0)) > 12) {
		resp[n] = '\0';
		b->status = atoi(resp + 9);
	}
	close(fd);
	return NULL;
}

static int
rel_bigbody(int n, size_t mb, const char *token)
{
	struct rel_big *b = calloc((size_t)n, sizeof(*b));
	int i, counts[600] = { 0 };
	double t0 = rel_now();

	if (b == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		b[i].mb = mb;
		b[i].token = token;
		if (pthread_create(&b[i].th, NULL, rel_big_main, &b[i]) != 0)
			return 2;
	}
	for (i = 0; i < n; i++) {
		pthread_join(b[i].th, NULL);
		counts[b[i].status >= 0 && b[i].status < 600 ? b[i].status : 0]++;
	}
	printf("requests=%d seconds=%.2f", n, rel_now() - t0);
	for (i = 0; i < 600; i++)
		if (counts[i] > 0)
			printf(" status_%d=%d", i, counts[i]);
	printf("\n");
	free(b);
	return 0;
}

/* One GET /v1/status over the unix socket; seconds taken, or -1 on failure. */
static double
rel_probe_once(const char *path)
{
	static const char req[] = "GET /v1/status HTTP/1.1\r\nHost: prefixd\r\nConnection: close\r\n\r\n";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 2, 0 };
	double t0 = rel_now();
	char buf[8192];
	size_t have = 0;
	ssize_t n;
	int fd, ok;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while (have < sizeof(buf) - 1 && (n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	close(fd);
	ok = have > 12 && strncmp(buf + 9, "200", 3) == 0;
	return ok ? rel_now() - t0 : -1;
}

static int
rel_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
rel_probe(const char *path, int secs, const char *stop)
{
	size_t n = 0, cap = 4096, failed = 0, slow = 0;
	double *lat = malloc(cap * sizeof(*lat)), t0 = rel_now(), d;
	struct timespec pause = { 0, 20 * 1000000L };
	struct stat st;

	if (lat == NULL)
		return 2;
	while (rel_now() - t0 < secs && stat(stop, &st) != 0) {
		if ((d = rel_probe_once(path)) < 0)
			failed++;
		else {
			if (n == cap && (lat = realloc(lat, (cap *= 2) * sizeof(*lat))) == NULL)
				return 2;
			lat[n++] = d;
			if (d >= 0.100) {
				slow++;
				fprintf(stderr, "rel_abuse: probe at %.1f s took %.0f ms\n",
				    rel_now() - t0, d * 1e3);
			}
		}
		nanosleep(&pause, NULL);
	}
	qsort(lat, n, sizeof(*lat), rel_cmp);
	printf("probes=%zu failed=%zu over_100ms=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n,
	    failed, slow, n ? lat[n / 2] * 1e3 : 0, n ? lat[n * 99 / 100] * 1e3 : 0,
	    n ? lat[n - 1] * 1e3 : 0);
	free(lat);
	return failed > 0 || slow > 0 || n == 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "probe") == 0)
		return rel_probe(argv[2], atoi(argv[3]), argv[4]);
	if (argc >= 6 && argc <= 7) {
		rel_host = argv[2];
		rel_port = argv[3];
		if (strcmp(rel_host, "127.0.0.1") != 0 && strcmp(rel_host, "::1") != 0) {
			fprintf(stderr, "rel_abuse: loopback only\n");
			return 2;
		}
		if (argc == 6 && strcmp(argv[1], "idle") == 0)
			return rel_hold(atoi(argv[4]), atoi(argv[5]), 0);
		if (argc == 6 && strcmp(argv[1], "slowloris") == 0)
			return rel_hold(atoi(argv[4]), atoi(argv[5]), 1);
		if (argc == 7 && strcmp(argv[1], "bigbody") == 0)
			return rel_bigbody(atoi(argv[4]), (size_t)atoi(argv[5]), argv[6]);
	}
	fprintf(stderr, "usage: rel_abuse idle|slowloris HOST PORT N SECONDS\n"
	    "       rel_abuse bigbody HOST PORT N MB TOKEN\n"
	    "       rel_abuse probe SOCKET SECONDS STOPFILE\n");
	return 2;
}
