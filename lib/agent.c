/* agent.c: running the analysis agent, an untrusted external command.
 *
 * It gets its input on stdin; stdout and stderr are captured up to a bound.
 * It runs in a process group of its own, and the whole group is killed on
 * every way out: when the agent exits (after a short grace to drain its
 * pipes: what it left behind must not hold them open until the timeout),
 * when the timeout passes, when we are interrupted (the signal is forwarded
 * first), and when we die by any means, SIGKILL included: a guard process in
 * the group waits on a pipe that only we hold and kills the group when it
 * reads end of file.  A child that leaves the group (setsid) is out of the
 * guard's reach; while we live we are its subreaper, so it becomes our child
 * when its parent dies, and we kill it too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "lmp.h"

/* How long the agent's pipes are read after it exits, and how long it has to
 * stop after a forwarded signal. */
#define GRACE 1.0
#define MAX_CHILDREN 256

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSTOP (int)(sizeof stop_sigs / sizeof stop_sigs[0])

/* Signals arrive as bytes on a pipe that poll watches: none is lost between
 * a check and the wait. */
static int sig_pipe[2] = {-1, -1};

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = saved;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
pipe_cloexec(int p[2])
{
	if (pipe(p))
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

/* Read what fd has into b; 0 at end of file or on an error. */
static ssize_t
take(int fd, lmp_buf *b, int *truncated, int *open_)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof chunk);

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			*open_ = 0;
		return n;
	}
	if (b->len + (size_t)n > LMP_RUN_MAX) {
		*truncated = 1;
		n = (ssize_t)(LMP_RUN_MAX - b->len);
	}
	if (n > 0)
		lmp_buf_add(b, chunk, (size_t)n);
	return n > 0 ? n : 1;
}

/* Our children, from /proc: pids whose parent is us (zombies included). */
static int
children(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	long me = (long)getpid();
	int n = 0;

	while (d && n < max && (de = readdir(d))) {
		char path[64], buf[512], *p;
		ssize_t k;
		int fd;
		long ppid;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%.20s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		k = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (k <= 0)
			continue;
		buf[k] = '\0';
		/* pid (comm) state ppid ...: comm may hold anything, ')' included */
		if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != me)
			continue;
		out[n++] = (pid_t)atol(de->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static int
listed(pid_t p, const pid_t *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] == p)
			return 1;
	return 0;
}

/* Kill and reap what the agent left that became ours (children of ours
 * that were not before the run), with their groups, until none is left:
 * each death may hand us its own children. */
static void
sweep(const pid_t *before, int nbefore)
{
	pid_t kids[MAX_CHILDREN];

	for (int round = 0; round < 64; round++) {
		int n = children(kids, MAX_CHILDREN), found = 0;
		for (int i = 0; i < n; i++) {
			if (listed(kids[i], before, nbefore))
				continue;
			found = 1;
			/* an unreaped child's pid, as a group id too, is nobody else's */
			kill(-kids[i], SIGKILL);
			kill(kids[i], SIGKILL);
			while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
				;
		}
		if (!found)
			return;
	}
}

struct saved {
	struct sigaction stop[NSTOP], chld, pipe;
	int handled[NSTOP];
	int reaper;
};

/* The guard: alone in the group it leads until the agent joins, holding
 * only the read end of the watch pipe.  End of file means we are gone. */
static void
guard(int watch)
{
	char c;
	int null;

	for (int i = 0; i < NSTOP; i++)
		signal(stop_sigs[i], SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	setpgid(0, 0);
	/* above 0-2 first: they may be where the watch pipe landed */
	watch = fcntl(watch, F_DUPFD, 3);
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (watch != 3)
		dup2(watch, 3);
	closefrom(4);
	while (read(3, &c, 1) < 0 && errno == EINTR)
		;
	kill(0, SIGKILL);
	_exit(0);
}

static void
agent(const char *cmd, const int in[2], const int out[2], const int err[2], pid_t group, pid_t parent,
	const struct saved *s)
{
	int fd[3];

	for (int i = 0; i < NSTOP; i++)
		if (s->handled[i])
			signal(stop_sigs[i], SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	setpgid(0, group);
#ifdef __linux__
	/* Dies with us, even by SIGKILL; the guard sees to its children. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	if (getppid() != parent)
		_exit(127);
	/* above 0-2 first (one of them may be closed in our caller), then down */
	fd[0] = fcntl(in[0], F_DUPFD, 3);
	fd[1] = fcntl(out[1], F_DUPFD, 3);
	fd[2] = fcntl(err[1], F_DUPFD, 3);
	for (int i = 0; i < 3; i++)
		if (fd[i] < 0 || dup2(fd[i], i) < 0)
			_exit(127);
	/* nothing else of ours: a daemon the agent leaves behind must not
	 * hold a pipe of pipeline.sh (its fds 3 and 4) open */
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Catch the stop signals (not those we were started ignoring, as under
 * nohup) and SIGCHLD; ignore SIGPIPE (the agent may close its input). */
static void
catch_signals(struct saved *s)
{
	struct sigaction sa;

	memset(s, 0, sizeof *s);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NSTOP; i++) {
		sigaction(stop_sigs[i], NULL, &s->stop[i]);
		if ((s->handled[i] = s->stop[i].sa_handler != SIG_IGN))
			sigaction(stop_sigs[i], &sa, NULL);
	}
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, &s->chld);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, &s->pipe);
#ifdef __linux__
	prctl(PR_GET_CHILD_SUBREAPER, &s->reaper);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
}

static void
restore_signals(const struct saved *s)
{
	for (int i = 0; i < NSTOP; i++)
		if (s->handled[i])
			sigaction(stop_sigs[i], &s->stop[i], NULL);
	sigaction(SIGCHLD, &s->chld, NULL);
	sigaction(SIGPIPE, &s->pipe, NULL);
#ifdef __linux__
	if (!s->reaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0);
#endif
}

static void
close_pipes(int *const p[], int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (p[i][k] >= 0) {
				close(p[i][k]);
				p[i][k] = -1;
			}
}

int
lmp_run_command(const char *cmd, const char *input, size_t len, double timeout, const char *what, lmp_run *r,
	lmp_err *e)
{
	lmp_progress prog;
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, watch[2] = {-1, -1};
	int *const all[] = {in, out, err, watch, sig_pipe};
	int st = 0, open_out = 1, open_err = 1, exited = 0;
	size_t sent = 0;
	double start = now(), stop_at = start + timeout;
	pid_t me = getpid(), before[MAX_CHILDREN], guard_pid, pid = -1;
	int nbefore = children(before, MAX_CHILDREN);
	struct saved saved;

	memset(r, 0, sizeof *r);
	r->status = -1;
	if (pipe_cloexec(in) || pipe_cloexec(out) || pipe_cloexec(err) || pipe_cloexec(watch) || pipe_cloexec(sig_pipe)) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "pipe: %s", strerror(errno));
		close_pipes(all, 5);
		return -1;
	}
	fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
	catch_signals(&saved);
	if ((guard_pid = fork()) == 0)
		guard(watch[0]);
	if (guard_pid > 0) {
		setpgid(guard_pid, guard_pid);
		if ((pid = fork()) == 0)
			agent(cmd, in, out, err, guard_pid, me, &saved);
	}
	if (guard_pid < 0 || pid < 0) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "fork: %s", strerror(errno));
		if (guard_pid > 0) {
			kill(guard_pid, SIGKILL);
			waitpid(guard_pid, NULL, 0);
		}
		close_pipes(all, 5);
		restore_signals(&saved);
		return -1;
	}
	setpgid(pid, guard_pid);
	close(watch[0]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	watch[0] = in[0] = out[1] = err[1] = -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	if (len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	/* a person at a terminal sees the seconds pass (progress.c) */
	lmp_progress_begin(&prog);
	if (what)
		lmp_progress_stage(&prog, 0, "%s (timeout %.0f s)", what, timeout);
	else
		prog.on = 0;
	for (;;) {
		struct pollfd p[4];
		int np = 0, left;
		double t = now();
		if (!exited && waitpid(pid, &st, WNOHANG) == pid) {
			/* Its answer is whole: read what is already in the pipes,
			 * not what a child it left might still write. */
			exited = 1;
			if (t + GRACE < stop_at)
				stop_at = t + GRACE;
			if (in[1] >= 0) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (exited && !open_out && !open_err)
			break;
		if (t >= stop_at) {
			r->timed_out = !exited && !r->interrupted;
			break;
		}
		left = (int)((stop_at - t) * 1000) + 1;
		lmp_progress_add(&prog, 0);
		if (prog.on && left > 250)
			left = 250;
		p[np++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
		if (open_out)
			p[np++] = (struct pollfd){out[0], POLLIN, 0};
		if (open_err)
			p[np++] = (struct pollfd){err[0], POLLIN, 0};
		if (in[1] >= 0)
			p[np++] = (struct pollfd){in[1], POLLOUT, 0};
		if (poll(p, (nfds_t)np, left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == sig_pipe[0]) {
				unsigned char c;
				while (read(sig_pipe[0], &c, 1) == 1) {
					if (c == SIGCHLD)
						continue;
					if (r->interrupted) {
						stop_at = now(); /* asked twice: no more grace */
						continue;
					}
					/* Forwarded, so the agent may stop cleanly; killed after the grace. */
					r->interrupted = c;
					kill(-guard_pid, c);
					if (now() + GRACE < stop_at)
						stop_at = now() + GRACE;
				}
			} else if (p[i].fd == out[0]) {
				take(out[0], &r->out, &r->out_truncated, &open_out);
			} else if (p[i].fd == err[0]) {
				take(err[0], &r->err, &r->err_truncated, &open_err);
			} else {
				ssize_t w = write(in[1], input + sent, len - sent);
				if (w > 0)
					sent += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == len) {
					close(in[1]);
					in[1] = -1;
				}
			}
		}
	}
	lmp_progress_end(&prog);
	/* Every way out: the group (guard included), the agent if it left the
	 * group, then what it left that became ours. */
	kill(-guard_pid, SIGKILL);
	if (!exited) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	while (waitpid(guard_pid, NULL, 0) < 0 && errno == EINTR)
		;
	sweep(before, nbefore);
	/* What the dead wrote before they died is still in the pipes (bounded:
	 * a writer out of our reach may not stop). */
	for (int i = 0; i < 256 && open_out && take(out[0], &r->out, &r->out_truncated, &open_out) > 0; i++)
		;
	for (int i = 0; i < 256 && open_err && take(err[0], &r->err, &r->err_truncated, &open_err) > 0; i++)
		;
	restore_signals(&saved);
	/* a stop signal that came after the loop is not lost */
	for (unsigned char c; read(sig_pipe[0], &c, 1) == 1;)
		if (c != SIGCHLD && !r->interrupted)
			r->interrupted = c;
	close_pipes(all, 5);
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
