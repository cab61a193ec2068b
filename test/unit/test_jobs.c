/* test_jobs: lmp_jobs_run hands each piece's bytes back in order, whether
 * the pieces run here or in child processes, and the first error stops the
 * run with its message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"
#include "tap.h"

struct ctx {
	int fail; /* the piece that fails, or -1 */
	size_t big; /* bytes of each piece past its name (past a pipe's buffer) */
	lmp_buf got;
	int taken;
};

/* Piece j: "piece j from a process" and big bytes of j's letter; the
 * process id tells whether it ran in a child. */
static int
run(void *p, int j, lmp_buf *out, lmp_err *e)
{
	struct ctx *c = p;

	if (j == c->fail)
		return lmp_fail(e, LMP_EXIT_INPUT, "piece %d failed", j);
	lmp_buf_printf(out, "piece %d %ld;", j, (long)getpid());
	for (size_t i = 0; i < c->big; i++)
		lmp_buf_putc(out, (char)('a' + j % 26));
	return 0;
}

static int
take(void *p, int j, const char *s, size_t len, lmp_err *e)
{
	struct ctx *c = p;
	char want[32];
	const char *semi = memchr(s, ';', len);

	snprintf(want, sizeof want, "piece %d ", j);
	if (!semi || strncmp(s, want, strlen(want)) || len - (size_t)(semi + 1 - s) != c->big)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "piece %d came back wrong", j);
	/* keep the name and whether it ran here (0) or in a child (1) */
	lmp_buf_printf(&c->got, "%d:%d ", j, atol(s + strlen(want)) != (long)getpid());
	c->taken++;
	return 0;
}

int
main(void)
{
	struct ctx c;
	lmp_err e;
	char what[128];
	int jobs[] = {1, 2, 4, 9};

	for (size_t k = 0; k < sizeof jobs / sizeof *jobs; k++) {
		memset(&c, 0, sizeof c);
		c.fail = -1;
		c.big = 200000; /* three times a 64 KiB pipe */
		memset(&e, 0, sizeof e);
		int rc = lmp_jobs_run(7, jobs[k], run, take, &c, &e);
		const char *want = jobs[k] == 1 ? "0:0 1:0 2:0 3:0 4:0 5:0 6:0 " : "0:1 1:1 2:1 3:1 4:1 5:1 6:1 ";
		snprintf(what, sizeof what, "7 pieces, %d at once: each back in order, %s", jobs[k],
			jobs[k] == 1 ? "run here" : "each from a child");
		ok(!rc && c.taken == 7 && c.got.s && !strcmp(c.got.s, want), what, c.got.s ? c.got.s : e.msg);
		free(c.got.s);

		memset(&c, 0, sizeof c);
		c.fail = 3;
		memset(&e, 0, sizeof e);
		rc = lmp_jobs_run(7, jobs[k], run, take, &c, &e);
		snprintf(what, sizeof what, "%d at once: piece 3 fails, the run fails with its message", jobs[k]);
		ok(rc && e.status == LMP_EXIT_INPUT && !strcmp(e.msg, "piece 3 failed") && c.taken <= 3, what, e.msg);
		free(c.got.s);
	}
	memset(&c, 0, sizeof c);
	c.fail = -1;
	ok(!lmp_jobs_run(0, 4, run, take, &c, &e) && !c.taken, "no pieces: nothing run", "");
	setenv("LMP_TEST_JOBS", "3", 1);
	ok(lmp_jobs_default("LMP_TEST_JOBS", 7) == 3 && lmp_jobs_default("LMP_TEST_JOBS", 2) == 2,
		"the environment's count, at most the pieces", "");
	setenv("LMP_TEST_JOBS", "0", 1);
	ok(lmp_jobs_default("LMP_TEST_JOBS", 7) == 1, "0 is one at a time", "");
	printf("1..%d\n", ntest);
	return nfail != 0;
}
