/* jobs.c: independent pieces of work run in child processes, at most a
 * given number at once, each piece's result (bytes) handed back to the
 * parent in the pieces' order, so the outcome is the same however many run
 * together.  A child shares the parent's memory as it was at the fork and
 * returns only its bytes; it ends with _exit, running no exit handler of
 * the parent's.  One job at a time runs the pieces in this process, through
 * the same bytes. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lmp.h"

/* What a piece hands back: its error (status 0: none, then its message),
 * then its bytes. */
struct head {
	int status;
	size_t len;
};

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Piece j's result as its bytes: the head, then the message or the bytes. */
static void
result(int j, lmp_job_run run, void *ctx, lmp_buf *r)
{
	lmp_buf out = {0};
	lmp_err e = {0};
	struct head h;

	h.status = run(ctx, j, &out, &e) ? (e.status ? e.status : LMP_EXIT_SYSTEM) : 0;
	h.len = h.status ? strlen(e.msg) : out.len;
	lmp_buf_add(r, (const char *)&h, sizeof h);
	lmp_buf_add(r, h.status ? e.msg : out.s ? out.s : "", h.len);
	free(out.s);
}

/* Hands result r of piece j to take, or its error to e. */
static int
hand_back(int j, const lmp_buf *r, lmp_job_take take, void *ctx, lmp_err *e)
{
	struct head h;

	if (r->len < sizeof h)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "a worker process ended without its result");
	memcpy(&h, r->s, sizeof h);
	if (r->len != sizeof h + h.len)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "a worker process's result is cut short");
	if (h.status)
		return lmp_fail(e, h.status, "%.*s", (int)h.len, r->s + sizeof h);
	return take(ctx, j, r->s + sizeof h, h.len, e);
}

/* Starts piece j in a child process whose result comes through *fd. */
static int
start(int j, lmp_job_run run, void *ctx, pid_t *pid, int *fd, lmp_err *e)
{
	int p[2];

	if (pipe(p))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "pipe: %s", strerror(errno));
	if ((*pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return lmp_fail(e, LMP_EXIT_SYSTEM, "fork: %s", strerror(errno));
	}
	if (!*pid) {
		lmp_buf mine = {0};
		close(p[0]);
		result(j, run, ctx, &mine);
		_exit(write_all(p[1], mine.s, mine.len) ? 1 : 0);
	}
	close(p[1]);
	*fd = p[0];
	return 0;
}

int
lmp_jobs_run(int n, int jobs, lmp_job_run run, lmp_job_take take, void *ctx, lmp_err *e)
{
	pid_t *pid;
	int *fd, j, started = 0, running = 0, rc = 0;
	struct pollfd *pf;
	lmp_buf *r;
	char chunk[65536];

	if (jobs <= 1 || n <= 1) {
		lmp_buf one = {0};
		for (j = 0; j < n && !rc; j++) {
			one.len = 0;
			result(j, run, ctx, &one);
			rc = hand_back(j, &one, take, ctx, e);
		}
		free(one.s);
		return rc;
	}
	pid = lmp_xmalloc(sizeof *pid * (size_t)n);
	fd = lmp_xmalloc(sizeof *fd * (size_t)n);
	pf = lmp_xmalloc(sizeof *pf * (size_t)n);
	r = lmp_xcalloc((size_t)n, sizeof *r);
	/* keep jobs pieces running, reading each one's bytes as they come (a
	 * child whose result outgrows its pipe waits for them) */
	while (!rc && (started < n || running)) {
		int np = 0;
		while (!rc && started < n && running < jobs)
			if (!(rc = start(started, run, ctx, &pid[started], &fd[started], e)))
				started++, running++;
		for (j = 0; j < started; j++)
			if (fd[j] >= 0)
				pf[np++] = (struct pollfd){.fd = fd[j], .events = POLLIN};
		if (rc || !np)
			break;
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno != EINTR)
				rc = lmp_fail(e, LMP_EXIT_SYSTEM, "poll: %s", strerror(errno));
			continue;
		}
		for (int i = 0; i < np; i++) {
			ssize_t k;
			if (!pf[i].revents)
				continue;
			for (j = 0; fd[j] != pf[i].fd; j++)
				;
			if ((k = read(fd[j], chunk, sizeof chunk)) > 0) {
				lmp_buf_add(&r[j], chunk, (size_t)k);
			} else if (k == 0 || errno != EINTR) {
				/* its end: the child has written all it will */
				close(fd[j]);
				fd[j] = -1;
				while (waitpid(pid[j], NULL, 0) < 0 && errno == EINTR)
					;
				running--;
			}
		}
	}
	/* after an error: stop the children still running */
	for (j = 0; j < started; j++)
		if (fd[j] >= 0) {
			kill(pid[j], SIGTERM);
			close(fd[j]);
			while (waitpid(pid[j], NULL, 0) < 0 && errno == EINTR)
				;
		}
	for (j = 0; j < n && !rc; j++)
		rc = hand_back(j, &r[j], take, ctx, e);
	for (j = 0; j < n; j++)
		free(r[j].s);
	free(r);
	free(pf);
	free(pid);
	free(fd);
	return rc;
}

int
lmp_jobs_default(const char *env, int n)
{
	const char *s = getenv(env);
	long k = s && *s ? strtol(s, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	if (k < 1)
		k = 1;
	return k < n ? (int)k : n;
}
