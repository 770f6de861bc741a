/*
 * rtr_driver — runs rpki/rtr and rpki/rov inside a libev loop, as the daemon will, for the
 * RTR integration tests and the benchmark.
 *
 *   rtr_driver -c HOST:PORT [-c HOST:PORT]... [-r refresh] [-R retry] [-e expire]
 *              [-s stale_after] [-t connect_timeout] [-d debounce_ms]
 *
 * Commands on stdin, one per line, each starting with an id the answer repeats:
 *   ID status                  {"id":ID,"status":{...rtr_status_to_json...}}
 *   ID validate PREFIX ASN     {"id":ID,"result":{...rov_result_to_json...}}
 *   ID quit                    {"id":ID,"bye":true}, then exits 0
 * Unsolicited lines on stdout:
 *   {"event":"state","state":S,"t":SECONDS_SINCE_START}      on every freshness change
 *   {"event":"change","all":B,"prefixes":[...],"t":..,"vrps":{"ipv4":N,"ipv6":N}}
 * EOF on stdin also exits. Logs (and rtrlib's debug lines) go to stderr.
 */
#include <ev.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "api.h"
#include "rpki.h"
#include "rtr.h"

static struct rtr *drv_rtr;
static enum rtr_state drv_state = RTR_STATE_CONNECTING;
static double drv_t0;
static char drv_buf[4096];
static size_t drv_len;

static void
emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s != NULL) {
		printf("%s\n", s);
		fflush(stdout);
	}
	free(s);
	json_decref(o);
}

static void
on_change(const struct rtr_change *ch, void *arg)
{
	struct ev_loop *loop = arg;
	json_t *list = json_array();
	struct rtr_status st;
	char buf[CIDR_STRLEN];

	for (size_t i = 0; i < ch->n; i++)
		json_array_append_new(list, json_string(cidr_format(&ch->prefixes[i], buf,
		    sizeof(buf))));
	rtr_status_get(drv_rtr, &st);
	emit(json_pack("{s:s, s:b, s:o, s:f, s:{s:I, s:I}}", "event", "change", "all", ch->all,
	    "prefixes", list, "t", ev_time() - drv_t0, "vrps", "ipv4", (json_int_t)st.vrps_v4,
	    "ipv6", (json_int_t)st.vrps_v6));
	(void)loop;
}

static void
on_check(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (rtr_state(drv_rtr) != drv_state) {
		drv_state = rtr_state(drv_rtr);
		emit(json_pack("{s:s, s:s, s:f}", "event", "state", "state",
		    rtr_state_name(drv_state), "t", ev_time() - drv_t0));
	}
}

static json_t *
cmd_validate(const char *pfx, const char *asn_s)
{
	struct cidr p;
	struct err e = {0};
	struct rov_result r;
	char *end;
	unsigned long asn;

	if (pfx == NULL || asn_s == NULL)
		return json_pack("{s:s}", "error", "usage: validate PREFIX ASN");
	if (strncasecmp(asn_s, "AS", 2) == 0)
		asn_s += 2;
	asn = strtoul(asn_s, &end, 10);
	if (*asn_s == '\0' || *end != '\0' || asn > UINT32_MAX)
		return json_pack("{s:s}", "error", "bad ASN");
	if (cidr_parse(pfx, &p, &e) == -1 || rpki_validate(drv_rtr, &p, (uint32_t)asn, &r, &e) == -1)
		return json_pack("{s:s, s:s}", "error", e.code, "message", e.msg);
	return json_pack("{s:o}", "result", rov_result_to_json(&p, (uint32_t)asn, &r));
}

static void
run_line(struct ev_loop *loop, char *line)
{
	char *save = NULL;
	char *id = strtok_r(line, " \t", &save);
	char *cmd = strtok_r(NULL, " \t", &save);
	json_t *o;

	if (id == NULL)
		return;
	if (cmd != NULL && strcmp(cmd, "status") == 0) {
		struct rtr_status st;
		rtr_status_get(drv_rtr, &st);
		o = json_pack("{s:o}", "status", api_rpki_status_json(&st));
	} else if (cmd != NULL && strcmp(cmd, "validate") == 0) {
		char *p = strtok_r(NULL, " \t", &save);
		o = cmd_validate(p, strtok_r(NULL, " \t", &save));
	} else if (cmd != NULL && strcmp(cmd, "quit") == 0) {
		o = json_pack("{s:b}", "bye", 1);
		ev_break(loop, EVBREAK_ALL);
	} else {
		o = json_pack("{s:s}", "error", "unknown command");
	}
	json_object_set_new(o, "id", json_string(id));
	emit(o);
}

static void
on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n = read(w->fd, drv_buf + drv_len, sizeof(drv_buf) - 1 - drv_len);
	char *nl;

	(void)revents;
	if (n <= 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	drv_len += (size_t)n;
	drv_buf[drv_len] = '\0';
	while ((nl = strchr(drv_buf, '\n')) != NULL) {
		*nl = '\0';
		run_line(loop, drv_buf);
		drv_len -= (size_t)(nl + 1 - drv_buf);
		memmove(drv_buf, nl + 1, drv_len + 1);
	}
	if (drv_len == sizeof(drv_buf) - 1)
		drv_len = 0;    /* an over-long line is dropped */
}

static unsigned
num(const char *s)
{
	return (unsigned)strtoul(s, NULL, 10);
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct rtr_conf c;
	struct err e = {0};
	ev_io in_w;
	ev_check check_w;
	int ch;

	log_init(getenv("RTR_DRIVER_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	rtr_conf_init(&c);
	while ((ch = getopt(argc, argv, "c:r:R:e:s:t:d:")) != -1) {
		switch (ch) {
		case 'c':
			if (rtr_conf_add_cache(&c, optarg, &e) == -1)
				fatalx("%s", e.msg);
			break;
		case 'r': c.refresh = num(optarg); break;
		case 'R': c.retry = num(optarg); break;
		case 'e': c.expire = num(optarg); break;
		case 's': c.stale_after = num(optarg); break;
		case 't': c.connect_timeout = num(optarg); break;
		case 'd': c.debounce_ms = num(optarg); break;
		default:
			fprintf(stderr, "usage: rtr_driver -c HOST:PORT [-r -R -e -s -t -d N]\n");
			return 2;
		}
	}
	if (c.debounce_max_ms < c.debounce_ms)
		c.debounce_max_ms = c.debounce_ms;
	drv_t0 = ev_time();
	if ((drv_rtr = rtr_new(loop, &c, &e)) == NULL || rtr_subscribe(drv_rtr, on_change,
	    loop, &e) == -1 || rtr_start(drv_rtr, &e) == -1)
		fatalx("%s", e.msg);
	ev_io_init(&in_w, on_stdin, 0, EV_READ);
	ev_io_start(loop, &in_w);
	ev_check_init(&check_w, on_check);
	ev_check_start(loop, &check_w);
	ev_run(loop, 0);
	rtr_free(drv_rtr);
	return 0;
}
