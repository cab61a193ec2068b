/* agent.c: running the analysis agent, an untrusted external command.
 * It gets its input on stdin; stdout and stderr are captured up to a bound;
 * after the timeout its whole process group is killed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lmp.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
take(int fd, lmp_buf *b, int *truncated, int *open_)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof chunk);

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			*open_ = 0;
		return;
	}
	if (b->len + (size_t)n > LMP_RUN_MAX) {
		*truncated = 1;
		n = (ssize_t)(LMP_RUN_MAX - b->len);
	}
	if (n > 0)
		lmp_buf_add(b, chunk, (size_t)n);
}

int
lmp_run_command(const char *cmd, const char *input, size_t len, double timeout, lmp_run *r, lmp_err *e)
{
	int in[2], out[2], err[2], st, open_in = 1, open_out = 1, open_err = 1;
	size_t sent = 0;
	double start = now();
	pid_t pid;

	memset(r, 0, sizeof *r);
	r->status = -1;
	if (pipe(in) || pipe(out) || pipe(err))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
		/* nothing else of ours: a daemon the agent leaves behind must not
		 * hold a pipe of pipeline.sh (its fds 3 and 4) open */
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	if (len == 0) {
		close(in[1]);
		open_in = 0;
	}
	while (open_out || open_err) {
		struct pollfd p[3];
		int np = 0, left = (int)((start + timeout - now()) * 1000);
		if (left <= 0) {
			r->timed_out = 1;
			kill(-pid, SIGKILL);
			break;
		}
		if (open_out)
			p[np++] = (struct pollfd){out[0], POLLIN, 0};
		if (open_err)
			p[np++] = (struct pollfd){err[0], POLLIN, 0};
		if (open_in)
			p[np++] = (struct pollfd){in[1], POLLOUT, 0};
		if (poll(p, (nfds_t)np, left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == out[0])
				take(out[0], &r->out, &r->out_truncated, &open_out);
			else if (p[i].fd == err[0])
				take(err[0], &r->err, &r->err_truncated, &open_err);
			else {
				ssize_t w = write(in[1], input + sent, len - sent);
				if (w > 0)
					sent += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == len) {
					close(in[1]);
					open_in = 0;
				}
			}
		}
	}
	if (open_in)
		close(in[1]);
	close(out[0]);
	close(err[0]);
	/* The agent may have left children behind: they go with its group. */
	if (!r->timed_out) {
		while (waitpid(pid, &st, WNOHANG) == 0) {
			if (now() > start + timeout) {
				r->timed_out = 1;
				kill(-pid, SIGKILL);
				break;
			}
			struct timespec ts = {0, 10000000};
			nanosleep(&ts, NULL);
		}
	}
	if (r->timed_out)
		waitpid(pid, &st, 0);
	kill(-pid, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	r->seconds = now() - start;
	if (WIFEXITED(st))
		r->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		r->signal = WTERMSIG(st);
	if (!r->out.s)
		lmp_buf_add(&r->out, "", 0);
	if (!r->err.s)
		lmp_buf_add(&r->err, "", 0);
	return 0;
}

void
lmp_run_free(lmp_run *r)
{
	lmp_buf_free(&r->out);
	lmp_buf_free(&r->err);
}
