/*
 * failpoint — named places where a test can freeze the daemon (then SIGKILL it).
 *
 * Called by modules at crash-sensitive points (bird_apply: "bird_apply_before_confirm").
 * failpoint_fail("name") is error injection instead: when listed it logs "failpoint NAME hit"
 * and returns true, and the caller fails there as if the operation had (lifecycle:
 * "lifecycle_applied_commit", the COMMIT after BIRD applied a change).
 * failpoint_hit("name") looks the name up in the environment variable PREFIXD_FAILPOINT
 * (a comma-separated list of names). When listed, it logs "failpoint NAME hit" at warn level
 * and pauses forever, so a test that polls for that log line can kill the process exactly there.
 *
 * Only compiled in when PREFIXD_FAILPOINTS is defined (CMake option PREFIXD_FAILPOINTS, OFF by
 * default: test builds only, scripts/test turns it on). Otherwise failpoint_hit() and
 * failpoint_fail() expand to nothing, and the binary never reads PREFIXD_FAILPOINT (a release
 * build holds neither the code nor the variable's name; test_harden_failpoints checks it).
 */
#ifndef PREFIXD_FAILPOINT_H
#define PREFIXD_FAILPOINT_H

#include <stdbool.h>

#ifdef PREFIXD_FAILPOINTS
/* True when NAME is listed in PREFIXD_FAILPOINT (exact match of one list item). */
bool failpoint_enabled(const char *name);
/* If NAME is enabled: log and block in pause() forever. Otherwise return at once. */
void failpoint_hit(const char *name);
/* If NAME is enabled: log and return true (the caller injects its failure). Else false. */
bool failpoint_fail(const char *name);
#else
#define failpoint_enabled(name) false
#define failpoint_hit(name) ((void)0)
#define failpoint_fail(name) false
#endif

#endif
