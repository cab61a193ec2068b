/* progress.c: a line on standard error saying how far long work has got (a
 * sweep, a calibration, a wait for the agent), for a person watching it.
 *
 * Only where someone can see it: standard error a terminal (and TERM not
 * "dumb": the line is rewritten with a carriage return and an erase).  Never
 * before the work has taken PROGRESS_AFTER seconds (LMP_PROGRESS_DELAY, as
 * git's GIT_PROGRESS_DELAY), so short runs print nothing; then rewritten in place at most every PROGRESS_EVERY seconds
 * and erased when the work ends, so a terminal keeps no trace of it and a
 * file, a pipe or a test's captured output never sees a byte.
 *
 * Cheap enough to call once per point of a sweep of millions: the clock is
 * read only every p->check calls, a count set from the rate seen so far so
 * that it is read a few times a second. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lmp.h"

#define PROGRESS_AFTER 2.0  /* seconds of work before the first line */
#define PROGRESS_EVERY 0.25 /* seconds between rewrites */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void
lmp_progress_begin(lmp_progress *p)
{
	const char *term = getenv("TERM"), *delay;

	memset(p, 0, sizeof *p);
	p->on = isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
	if (!p->on)
		return;
	p->start = p->last = now();
	p->check = 1;
	p->after = PROGRESS_AFTER;
	if ((delay = getenv("LMP_PROGRESS_DELAY")) && *delay) {
		char *end;
		double d = strtod(delay, &end);
		if (!*end && d >= 0 && d <= 1e6)
			p->after = d;
	}
}

void
lmp_progress_stage(lmp_progress *p, double total, const char *fmt, ...)
{
	va_list ap;

	if (!p->on)
		return;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof p->what, fmt, ap);
	va_end(ap);
	p->done = 0;
	p->total = total;
	p->calls = 0;
	p->check = 1;
	p->shown_at = 0; /* a new stage is said at once (once past the first seconds) */
	lmp_progress_add(p, 0);
}

static void
show(lmp_progress *p, double t)
{
	char line[sizeof p->said];
	int n;

	if (p->total > 0)
		n = snprintf(line, sizeof line, "%s: %s: %.0f of %.0f (%.0f%%), %.0f s", lmp_tool, p->what, p->done,
			p->total, 100 * p->done / p->total, t - p->start);
	else
		n = snprintf(line, sizeof line, "%s: %s, %.0f s", lmp_tool, p->what, t - p->start);
	if (n < 0 || !strcmp(line, p->said))
		return; /* the same text again: nothing to rewrite */
	snprintf(p->said, sizeof p->said, "%s", line);
	/* from the first column, the rest of the line cleared, the cursor
	 * back at the start: whatever is written next (an error) writes over
	 * it rather than after it */
	fprintf(stderr, "\r%s\033[K\r", line);
	fflush(stderr);
	p->shown = 1;
}

void
lmp_progress_add(lmp_progress *p, double n)
{
	double t, dt;

	if (!p->on)
		return;
	p->done += n;
	if (++p->calls < p->check)
		return;
	t = now();
	dt = t - p->last;
	/* next look at the clock after about a tenth of a second of calls, at
	 * most twice as many as this time: one fast call says little of the
	 * next (a calibration's files differ a hundredfold) */
	if (dt > 0) {
		double c = p->calls * 0.1 / dt;
		if (c > 2.0 * p->check)
			c = 2.0 * p->check;
		p->check = c < 1 ? 1 : (long long)c;
	} else {
		p->check *= 2;
	}
	p->calls = 0;
	p->last = t;
	if (t - p->start < p->after || t - p->shown_at < PROGRESS_EVERY)
		return;
	p->shown_at = t;
	show(p, t);
}

void
lmp_progress_end(lmp_progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->on = p->shown = 0;
}
