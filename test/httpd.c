/* A tiny HTTP server for the download tests: hub-style URLs on 127.0.0.1
 * with scripted answers chosen by the first path segment.  It stops by
 * itself after two minutes.
 *   usage: httpd PORTFILE CONFIG
 *   /ok/...        200, X-Repo-Commit, the config
 *   /gated/...     401 unless "Authorization: Bearer secret-token"
 *   /missing/...   404
 *   /moved/...     302 to the same path under /ok/
 *   /trunc/...     a Content-Length longer than the body, then close
 *   /hang/...      never answers
 *   /nocommit/...  200 without X-Repo-Commit
 *   /badcommit/... 200 with an X-Repo-Commit that climbs out of the cache
 *   /array/...     200, X-Repo-Commit, valid JSON that is not a config: [1,2]
 *   /error/...     200, X-Repo-Commit, a JSON object without model_type */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char body[1 << 20];
static size_t body_len;

static void
say(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
serve(int fd)
{
	char req[8192], path[2048], head[2300];
	ssize_t n = read(fd, req, sizeof req - 1);

	if (n <= 0)
		return;
	req[n] = '\0';
	if (sscanf(req, "GET %2047s", path) != 1)
		return;
	if (!strncmp(path, "/hang/", 6)) {
		sleep(60);
		return;
	}
	if (!strncmp(path, "/missing/", 9)) {
		say(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
		return;
	}
	if (!strncmp(path, "/gated/", 7) && !strstr(req, "Authorization: Bearer secret-token")) {
		say(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\nunauthorized");
		return;
	}
	if (!strncmp(path, "/moved/", 7)) {
		snprintf(head, sizeof head, "HTTP/1.1 302 Found\r\nLocation: /ok/%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			path + 7);
		say(fd, head);
		return;
	}
	if (!strncmp(path, "/array/", 7) || !strncmp(path, "/error/", 7)) {
		const char *b = path[1] == 'a' ? "[1,2]" : "{\"error\": \"Repository not found\"}";
		snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			"X-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\nConnection: close\r\n\r\n%s", strlen(b), b);
		say(fd, head);
		return;
	}
	snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s"
		"Connection: close\r\n\r\n", body_len + (strncmp(path, "/trunc/", 7) ? 0 : 1000),
		!strncmp(path, "/nocommit/", 10) ? "" :
		!strncmp(path, "/badcommit/", 11) ? "X-Repo-Commit: ../../../../../../../../../tmp/lmp-escape\r\n" :
		"X-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\n");
	say(fd, head);
	if (write(fd, body, body_len) < 0)
		return;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof a;
	FILE *f;
	int s, c, one = 1;

	if (argc != 3 || !(f = fopen(argv[2], "rb")))
		return 2;
	body_len = fread(body, 1, sizeof body, f);
	fclose(f);
	signal(SIGCHLD, SIG_IGN);
	alarm(120);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16) || getsockname(s, (struct sockaddr *)&a, &len))
		return 1;
	if (!(f = fopen(argv[1], "w")))
		return 1;
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			alarm(70);
			serve(c);
			close(c);
			_exit(0);
		}
		close(c);
	}
}
