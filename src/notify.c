/* notify — sd_notify for the unit's Type=notify and WatchdogSec=; see notify.h. */
#include "notify.h"

#include <stdint.h>
#include <systemd/sd-daemon.h>

#include "log.h"

static ev_timer notify_watchdog;
static struct ev_loop *notify_loop;

static void
notify_send(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0)
		log_warnx("sd_notify %s failed: error %d", state, -rc);
}

void
notify_ready(void)
{
	notify_send("READY=1\nSTATUS=serving");
}

static void
notify_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	notify_send("WATCHDOG=1");
}

double
notify_watchdog_start(struct ev_loop *loop)
{
	uint64_t usec = 0;
	double every;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	every = (double)usec / 2e6;
	notify_loop = loop;
	ev_timer_init(&notify_watchdog, notify_watchdog_cb, every, every);
	ev_timer_start(loop, &notify_watchdog);
	log_debug("systemd watchdog: a keep-alive every %.3f s", every);
	return every;
}

void
notify_reloading(void)
{
	notify_send("RELOADING=1");
}

void
notify_stopping(void)
{
	if (notify_loop != NULL)
		ev_timer_stop(notify_loop, &notify_watchdog);
	notify_send("STOPPING=1");
}
