/* tool.c: how every tool ends.  The one place outside main() that prints
 * and exits: a tool's errors are one line "lmp-TOOL: what went wrong". */
#include <signal.h>
#include <stdlib.h>

#include "lmp.h"

const char *lmp_tool = "lmp";

void
lmp_start(const char *tool)
{
	lmp_tool = tool;
	lmp_alloc_init();
	/* A filter whose reader has gone ends quietly, as cat does, even when
	 * its parent ignored SIGPIPE (a service manager does): a write error
	 * message per tool of a chain would bury the one that matters. */
	signal(SIGPIPE, SIG_DFL);
}

void
lmp_die(const lmp_err *e)
{
	if (*e->msg) /* empty: said already, upstream in a chain (buf.c) */
		fprintf(stderr, "%s: %s\n", lmp_tool, e->msg);
	exit(e->status ? e->status : LMP_EXIT_INPUT);
}

void
lmp_usage_error(const char *msg)
{
	fprintf(stderr, "%s: %s (see %s --help)\n", lmp_tool, msg, lmp_tool);
	exit(LMP_EXIT_USAGE);
}

int
lmp_chain(void)
{
	return getenv("LMP_CHAIN") != NULL;
}

int
lmp_close_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: write error on stdout\n", lmp_tool);
		return LMP_EXIT_SYSTEM;
	}
	return 0;
}
