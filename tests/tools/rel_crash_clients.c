/*
 * rel_crash_clients — the clients of the crash-injection test (tests/integration/test_rel_crash.sh).
 *
 *   rel_crash_clients SOCKET[,SOCKET...] POOL CLIENTS LOGDIR STOPFILE [mixed]
 *
 * (also tests/integration/test_store_pg_race.sh: several instances on one PostgreSQL store.)
 * Starts CLIENTS threads. Each one, until STOPFILE exists, allocates from POOL over the unix
 * socket with a fresh client token ("cNN-SEQ", netmask /24../30 derived from SEQ so a retry
 * repeats the same parameters) and releases a random one of the allocations it holds after a
 * third of them, and always once it holds REL_HELD (so the store stays small). prefixd is being
 * SIGKILLed and restarted meanwhile, so any request may die with its connection: the client
 * then reconnects and repeats the same request (same token; the same release) until it gets a
 * definite answer. Only definite answers are written down, one line each, to
 * LOGDIR/client-NN.log with a single write(2):
 *
 *   A TOKEN ID CIDR     allocation acknowledged (201, or 200 replayed after a lost answer)
 *   r ID                about to release ID (its outcome is unknown until the R line)
 *   R ID                release acknowledged (2xx, or 404 after a lost answer: already gone)
 *   E TEXT              an answer the contract does not allow (the test fails on any)
 *
 * With several SOCKETs (instances sharing one store), client i starts on socket i mod n and
 * moves to the next one whenever its connection fails or it is answered 503, so a retry
 * (the same token) often reaches another instance than the first attempt.
 *
 * "mixed": one allocation in four is explicit (a random /28 of 10.0.0.0/8, with a token; 409
 * overlap is a definite refusal, logged "O CIDR") and one in four is by size without a token
 * (never retried: a lost answer leaves its outcome unknown, nothing is logged; an
 * acknowledged one is "A - ID CIDR"); the rest as above.
 *
 * 503 answers (store-failed, storage-full) are retried like a lost connection. On stop, prints
 * "allocs=N releases=N retries=N errors=N" and exits 1 if there were errors. The test checks
 * the logs against the store; this program only keeps honest records.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REL_BUF 65536
#define REL_HELD 64             /* allocations a client holds at most: bounds the store */

#define REL_MAX_SOCKS 8

struct rel_client {
	pthread_t th;
	int idx, fd, log;
	unsigned sock;              /* index into rel_socks */
	unsigned seq, nheld;
	long held[REL_HELD];
	unsigned long long rng;
	char buf[REL_BUF];
};

static const char *rel_socks[REL_MAX_SOCKS], *rel_pool, *rel_stop;
static unsigned rel_nsocks;
static int rel_mixed;
static atomic_long rel_allocs, rel_releases, rel_retries, rel_errors;

static int
rel_stopped(void)
{
	struct stat st;

	return stat(rel_stop, &st) == 0;
}

static void
rel_pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static unsigned
rel_rand(struct rel_client *c)
{
	c->rng = c->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(c->rng >> 33);
}

/* One connection per client, kept alive; -1 when prefixd is not there (yet). */
static int
rel_connect(struct rel_client *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };

	if (c->fd >= 0)
		return 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", rel_socks[c->sock]);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void
rel_disconnect(struct rel_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* The connection failed or the instance could not write: try the next instance. */
static void
rel_failover(struct rel_client *c)
{
	rel_disconnect(c);
	c->sock = (c->sock + 1) % rel_nsocks;
}

/*
 * Sends one request and reads the whole answer into c->buf (NUL-terminated body at *body).
 * Returns the HTTP status, or -1 when the connection failed at any point (outcome unknown).
 */
static int
rel_roundtrip(struct rel_client *c, const char *req, size_t reqlen, char **body)
{
	size_t have = 0, off = 0;
	char *hend, *cl;
	long blen;
	ssize_t n;

	while (off < reqlen) {
		if ((n = send(c->fd, req + off, reqlen - off, MSG_NOSIGNAL)) <= 0)
			return -1;
		off += (size_t)n;
	}
	for (;;) {
		if (have == REL_BUF - 1)
			return -1;
		if ((n = recv(c->fd, c->buf + have, REL_BUF - 1 - have, 0)) <= 0)
			return -1;
		have += (size_t)n;
		c->buf[have] = '\0';
		if ((hend = strstr(c->buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(c->buf, "\r\ncontent-length:");
		blen = cl != NULL && cl < hend ? strtol(cl + 17, NULL, 10) : 0;
		if ((size_t)(hend + 4 - c->buf) + (size_t)blen > have)
			continue;
		*body = hend + 4;
		(*body)[blen] = '\0';
		return (int)strtol(c->buf + 9, NULL, 10);
	}
}

/* Repeats one request until a definite answer (not -1, not 503) or the stop file; once
 * only (the outcome may stay unknown: -1) when once is set. */
static int
rel_request(struct rel_client *c, const char *req, char **body, int once)
{
	int status;

	for (;;) {
		if (rel_stopped())
			return -1;
		if (rel_connect(c) != 0) {
			rel_failover(c);
			rel_pause_ms(5);
			continue;
		}
		status = rel_roundtrip(c, req, strlen(req), body);
		if (status > 0 && strstr(c->buf, "\r\nConnection: close") != NULL)
			rel_disconnect(c);
		if (status > 0 && status != 503)
			return status;
		atomic_fetch_add(&rel_retries, 1);
		rel_failover(c);
		if (once)
			return -1;
		rel_pause_ms(status == 503 ? 20 : 2);
	}
}

static void rel_log(struct rel_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line, one write(2): a line in the log is whole or absent. */
static void
rel_log(struct rel_client *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	if (n > 0 && write(c->log, line, (size_t)n) != n)
		perror("rel_crash_clients: log");
}

/* Copies the string value of "key" in a flat JSON object into out (no escapes expected). */
static int
rel_json_str(const char *body, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(body, pat)) == NULL)
		return -1;
	p += strlen(pat);
	p += strspn(p, " ");
	if (*p++ != '"' || (q = strchr(p, '"')) == NULL || (size_t)(q - p) >= cap)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

/* The API writes ids as JSON strings ("id":"42"). */
static long
rel_json_id(const char *body)
{
	char id[32];

	return rel_json_str(body, "id", id, sizeof(id)) == 0 ? strtol(id, NULL, 10) : -1;
}

/* What one allocation asks for (see "mixed" above); a retry repeats the same. */
static void
rel_alloc_body(struct rel_client *c, unsigned seq, char *token, size_t tcap, char *body,
    size_t bcap)
{
	unsigned mode = rel_mixed ? seq % 4 : 0, r;

	snprintf(token, tcap, "c%02d-%u", c->idx, seq);
	if (mode == 2) {
		r = rel_rand(c) & 0xfffff0u;
		snprintf(body, bcap, "{\"cidr\":\"10.%u.%u.%u/28\",\"token\":\"%s\"}",
		    r >> 16, (r >> 8) & 0xff, r & 0xff, token);
	} else if (mode == 3) {
		token[0] = '\0';
		snprintf(body, bcap, "{\"netmask\":%u}", 24 + seq % 7);
	} else {
		snprintf(body, bcap, "{\"netmask\":%u,\"token\":\"%s\"}", 24 + seq % 7, token);
	}
}

/* Allocates until acknowledged (a request without a token: once); returns the id, or -1 on
 * stop, refusal, unknown outcome or error. */
static long
rel_allocate(struct rel_client *c)
{
	char token[32], json[128], req[512], cidr[64], *body;
	unsigned seq = c->seq++;
	int status;
	long id;

	rel_alloc_body(c, seq, token, sizeof(token), json, sizeof(json));
	snprintf(req, sizeof(req), "POST /v1/pools/%s/allocations HTTP/1.1\r\nHost: prefixd\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", rel_pool,
	    strlen(json), json);
	if ((status = rel_request(c, req, &body, token[0] == '\0')) < 0)
		return -1;
	if (status == 409 && strstr(json, "\"cidr\"") != NULL && strstr(body, "overlap")) {
		rel_log(c, "O %s\n", json);
		return -1;
	}
	if ((status != 201 && status != 200) || (id = rel_json_id(body)) < 0 ||
	    rel_json_str(body, "cidr", cidr, sizeof(cidr)) != 0) {
		rel_log(c, "E allocate %s %d %s\n", json, status, body);
		atomic_fetch_add(&rel_errors, 1);
		return -1;
	}
	rel_log(c, "A %s %ld %s\n", token[0] ? token : "-", id, cidr);
	atomic_fetch_add(&rel_allocs, 1);
	return id;
}

static void
rel_release(struct rel_client *c, long id)
{
	char req[256], *body;
	int status;

	rel_log(c, "r %ld\n", id);
	snprintf(req, sizeof(req), "DELETE /v1/allocations/%ld HTTP/1.1\r\nHost: prefixd\r\n"
	    "Content-Length: 0\r\n\r\n", id);
	if ((status = rel_request(c, req, &body, 0)) < 0)
		return;
	if ((status >= 200 && status < 300) || status == 404) {
		rel_log(c, "R %ld\n", id);
		atomic_fetch_add(&rel_releases, 1);
		return;
	}
	rel_log(c, "E release %ld %d %s\n", id, status, body);
	atomic_fetch_add(&rel_errors, 1);
}

static void *
rel_client_main(void *arg)
{
	struct rel_client *c = arg;
	long id;
	unsigned i;

	while (!rel_stopped()) {
		if ((id = rel_allocate(c)) < 0)
			continue;
		c->held[c->nheld++] = id;
		if (c->nheld < REL_HELD && rel_rand(c) % 3 != 0)
			continue;
		i = rel_rand(c) % c->nheld;
		rel_release(c, c->held[i]);
		c->held[i] = c->held[--c->nheld];
	}
	rel_disconnect(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct rel_client *cs;
	char path[4096], *socks, *p;
	int i, n;

	if (argc < 6 || argc > 7 || (n = atoi(argv[3])) < 1 || n > 256 ||
	    (argc == 7 && strcmp(argv[6], "mixed") != 0)) {
		fprintf(stderr, "usage: rel_crash_clients SOCKET[,SOCKET...] POOL CLIENTS LOGDIR "
		    "STOPFILE [mixed]\n");
		return 2;
	}
	rel_mixed = argc == 7;
	if ((socks = strdup(argv[1])) == NULL)
		return 2;
	for (p = strtok(socks, ","); p != NULL && rel_nsocks < REL_MAX_SOCKS; p = strtok(NULL, ","))
		rel_socks[rel_nsocks++] = p;
	if (rel_nsocks == 0)
		return 2;
	rel_pool = argv[2];
	rel_stop = argv[5];
	if ((cs = calloc((size_t)n, sizeof(*cs))) == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		cs[i].idx = i;
		cs[i].fd = -1;
		cs[i].sock = (unsigned)i % rel_nsocks;
		cs[i].rng = (unsigned long long)time(NULL) * 1000003ULL + (unsigned)i;
		snprintf(path, sizeof(path), "%s/client-%02d.log", argv[4], i);
		if ((cs[i].log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
			perror(path);
			return 2;
		}
		if (pthread_create(&cs[i].th, NULL, rel_client_main, &cs[i]) != 0)
			return 2;
	}
	for (i = 0; i < n; i++) {
		pthread_join(cs[i].th, NULL);
		close(cs[i].log);
	}
	free(cs);
	free(socks);
	printf("allocs=%ld releases=%ld retries=%ld errors=%ld\n", atomic_load(&rel_allocs),
	    atomic_load(&rel_releases), atomic_load(&rel_retries), atomic_load(&rel_errors));
	return atomic_load(&rel_errors) > 0;
}
