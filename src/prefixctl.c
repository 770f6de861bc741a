/*
 * prefixctl — the operator's command-line client for prefixd (SPEC §6).
 *
 *   prefixctl [-s SOCKET] [--json] COMMAND ...
 *
 * All of it lives in the ctl_* modules (src/ctl/ctl.h) so that the unit tests and the fuzzer
 * exercise the same parser and output code; this file is only the entry point.
 */
#include <signal.h>

#include <curl/curl.h>

#include "ctl.h"

int
main(int argc, char *argv[])
{
	int rc;

	signal(SIGPIPE, SIG_IGN);       /* a closed pipe ends output with an error, not a signal */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return CTL_EXIT_UNREACHABLE;
	rc = ctl_main(argc, argv);
	if (fflush(stdout) != 0 && rc == CTL_EXIT_OK)
		rc = CTL_EXIT_REFUSED;
	curl_global_cleanup();
	return rc;
}
