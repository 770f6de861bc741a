/*
 * notify — tells systemd how prefixd is doing (sd_notify(3), libsystemd); the unit is
 * Type=notify with WatchdogSec= (contrib/systemd/prefixd.service).
 *
 *   notify_ready()              READY=1, once the store is open and the listeners are up
 *   notify_watchdog_start(loop) WATCHDOG=1 every half of $WATCHDOG_USEC from an ev_timer on the
 *                               loop, so a loop that hangs stops the keep-alives and systemd
 *                               restarts prefixd; does nothing when the unit has no watchdog
 *   notify_reloading()          RELOADING=1 at SIGHUP, then notify_ready() when it is done
 *   notify_stopping()           STOPPING=1 at SIGTERM/SIGINT (also stops the keep-alives)
 *
 * Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op. sd_notify addresses the
 * process as a whole, so the one watchdog timer lives here rather than in struct daemon.
 */
#ifndef PREFIXD_NOTIFY_H
#define PREFIXD_NOTIFY_H

#include <ev.h>

void notify_ready(void);
/* Returns the keep-alive interval in seconds, 0 when systemd asked for no watchdog. */
double notify_watchdog_start(struct ev_loop *loop);
void notify_reloading(void);
void notify_stopping(void);

#endif
