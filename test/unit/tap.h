/* tap.h: the smallest TAP producer, shared by the unit tests. */
#ifndef TAP_H
#define TAP_H
#include <stdio.h>

static int ntest, nfail;

static void
ok(int cond, const char *what, const char *got)
{
	ntest++;
	if (cond) {
		printf("ok %d - %s\n", ntest, what);
	} else {
		nfail++;
		printf("not ok %d - %s\n#   got: %s\n", ntest, what, got ? got : "(null)");
	}
}
#endif
