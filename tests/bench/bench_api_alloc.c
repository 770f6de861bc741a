/*
 * bench_api_alloc — durable allocations per second over the unix socket, with latency.
 *
 *   bench_api_alloc SOCKET[,SOCKET...] POOL CLIENTS REQUESTS_PER_CLIENT [NETMASK]
 *
 * With several sockets (several prefixd instances on one PostgreSQL store), client i talks to
 * socket i mod n; the figures are over all clients together.
 * Each client is a thread with one keep-alive HTTP/1.1 connection that sends
 * POST /v1/pools/POOL/allocations {"netmask":N} and waits for the answer before the next
 * (a closed loop, like a runbook or a provisioning system). Every 201 answer is an allocation
 * already COMMITted to SQLite with synchronous=FULL. Prints one line:
 *   clients=C requests=N ok=N seconds=S alloc_per_s=R p50_ms=X p99_ms=Y max_ms=Z
 * and exits non-zero if any request failed. Run by tests/bench/bench_api.sh.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct bench_client {
	pthread_t th;
	const char *sock, *pool;
	int n, netmask, ok;
	double *lat;                    /* seconds per request */
};

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

/* Reads one HTTP response (headers + Content-Length body); returns the status or -1. */
static int
bench_read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end, *cl;
	long body;
	ssize_t r;

	for (;;) {
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			body = cl != NULL ? strtol(cl + 17, NULL, 10) : 0;
			if (have >= (size_t)(end + 4 - buf) + (size_t)body)
				return atoi(buf + 9);
		}
		if (have + 1 >= cap)
			return -1;
		r = read(fd, buf + have, cap - have - 1);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
}

static void *
bench_run(void *arg)
{
	struct bench_client *c = arg;
	char req[512], body[64], buf[8192];
	int fd = bench_connect(c->sock), n, blen;

	blen = snprintf(body, sizeof(body), "{\"netmask\":%d}", c->netmask);
	n = snprintf(req, sizeof(req), "POST /v1/pools/%s/allocations HTTP/1.1\r\nHost: prefixd\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", c->pool, blen, body);
	for (int i = 0; i < c->n; i++) {
		double t0 = bench_now();
		if (write(fd, req, (size_t)n) != n)
			break;
		if (bench_read_response(fd, buf, sizeof(buf)) == 201)
			c->ok++;
		else if (c->ok == i)
			fprintf(stderr, "bench_api_alloc: request %d failed: %.200s\n", i, buf);
		c->lat[i] = bench_now() - t0;
	}
	close(fd);
	return NULL;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct bench_client *cl;
	double *all, t0, secs;
	int clients, per, netmask, ok = 0, total, nsock = 0;
	const char *sock[16];

	if (argc < 5) {
		fprintf(stderr, "usage: bench_api_alloc SOCKET POOL CLIENTS REQUESTS_PER_CLIENT [NETMASK]\n");
		return 2;
	}
	clients = atoi(argv[3]);
	per = atoi(argv[4]);
	netmask = argc > 5 ? atoi(argv[5]) : 32;
	if (clients < 1 || per < 1)
		return 2;
	total = clients * per;
	for (char *p = argv[1]; p != NULL && nsock < 16; p = strchr(p, ',')) {
		if (*p == ',')
			*p++ = '\0';
		sock[nsock++] = p;
	}
	cl = calloc((size_t)clients, sizeof(*cl));
	all = calloc((size_t)total, sizeof(*all));
	if (cl == NULL || all == NULL)
		return 1;
	t0 = bench_now();
	for (int i = 0; i < clients; i++) {
		cl[i] = (struct bench_client){ .sock = sock[i % nsock], .pool = argv[2], .n = per,
		    .netmask = netmask, .lat = all + (size_t)i * (size_t)per };
		pthread_create(&cl[i].th, NULL, bench_run, &cl[i]);
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(cl[i].th, NULL);
		ok += cl[i].ok;
	}
	secs = bench_now() - t0;
	qsort(all, (size_t)total, sizeof(*all), bench_cmp);
	printf("clients=%d requests=%d ok=%d seconds=%.3f alloc_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	    clients, total, ok, secs, ok / secs, all[total / 2] * 1e3,
	    all[(size_t)((double)total * 0.99)] * 1e3, all[total - 1] * 1e3);
	free(cl);
	free(all);
	return ok == total ? 0 : 1;
}
