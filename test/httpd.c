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
 *   /error/...     200, X-Repo-Commit, a JSON object without model_type
 * With a directory, .../resolve/REV/FILE serves DIR/FILE (404 when there is
 * none), with X-Repo-Commit, and appends "PATH RANGE" (or "PATH -") to LOG:
 *   usage: httpd PORTFILE CONFIG DIR LOG
 *   /range/...      "Range: bytes=A-B" answered 206 with Content-Range
 *   /gatedrange/... the same, 401 unless "Authorization: Bearer secret-token"
 *   /norange/...    the Range ignored: 200 and the whole file
 *   /overrun/...    206 and the Content-Range asked for, then the file from A
 *                   to its end (more than asked)
 *   /shifted/...    206, but the bytes (and Content-Range) from A+1
 *   /hugeheader/... as /range/, but a .safetensors file's first 8 bytes say
 *                   its header is 104857601 bytes (100 MiB + 1) */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char body[1 << 20];
static size_t body_len;
static const char *dir, *logfile;

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

/* Bytes [from, to] of f to fd; "huge" puts 104857601 in the first 8. */
static void
send_file(int fd, int f, unsigned long long from, unsigned long long to, int huge)
{
	static const unsigned char len8[8] = {0x01, 0x00, 0x40, 0x06, 0, 0, 0, 0}; /* 0x06400001 */
	char buf[65536];
	unsigned long long at = from;

	if (lseek(f, (off_t)from, SEEK_SET) < 0)
		return;
	while (at <= to) {
		size_t want = to - at + 1 < sizeof buf ? (size_t)(to - at + 1) : sizeof buf;
		ssize_t n = read(f, buf, want), w;
		if (n <= 0)
			return;
		for (ssize_t i = 0; huge && i < n && at + (unsigned long long)i < 8; i++)
			buf[i] = (char)len8[at + (unsigned long long)i];
		for (char *p = buf; n > 0; p += w, n -= w) {
			if ((w = write(fd, p, (size_t)n)) <= 0)
				return;
			at += (unsigned long long)w;
		}
	}
}

/* The directory modes: PATH is /MODE/NAME/resolve/REV/FILE. */
static void
serve_file(int fd, const char *req, const char *path)
{
	char file[4096], head[1024], mode[32], name[256];
	const char *r = strstr(req, "\nRange: bytes="), *base = strrchr(path, '/') + 1;
	unsigned long long from = 0, to = 0, size;
	int ranged = r && sscanf(r, "\nRange: bytes=%llu-%llu", &from, &to) == 2, f;
	struct stat st;
	FILE *log;

	sscanf(path, "/%31[^/]", mode);
	if (logfile && (log = fopen(logfile, "a"))) {
		if (ranged)
			fprintf(log, "%s %llu-%llu\n", path, from, to);
		else
			fprintf(log, "%s -\n", path);
		fclose(log);
	}
	if (!strcmp(mode, "gatedrange") && !strstr(req, "Authorization: Bearer secret-token")) {
		say(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\nunauthorized");
		return;
	}
	snprintf(name, sizeof name, "%s", base);
	snprintf(file, sizeof file, "%s/%s", dir, name);
	if (strstr(name, "..") || (f = open(file, O_RDONLY)) < 0) {
		say(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
		return;
	}
	fstat(f, &st);
	size = (unsigned long long)st.st_size;
	if (!ranged || !strcmp(mode, "norange")) {
		snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n"
			"X-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\nConnection: close\r\n\r\n", size);
		say(fd, head);
		if (size)
			send_file(fd, f, 0, size - 1, 0);
	} else if (from >= size || to < from) {
		snprintf(head, sizeof head, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%llu\r\n"
			"Content-Length: 0\r\nConnection: close\r\n\r\n", size);
		say(fd, head);
	} else {
		int huge = !strcmp(mode, "hugeheader") && strstr(name, ".safetensors");
		if (to >= size)
			to = size - 1;
		if (!strcmp(mode, "shifted") && to + 1 < size)
			from++, to++;
		snprintf(head, sizeof head, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %llu-%llu/%llu\r\n"
			"Content-Length: %llu\r\nConnection: close\r\n\r\n", from, to, size,
			!strcmp(mode, "overrun") ? size - from : to - from + 1);
		say(fd, head);
		send_file(fd, f, from, !strcmp(mode, "overrun") ? size - 1 : to, huge);
	}
	close(f);
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
	if (dir && strstr(path, "/resolve/") && (!strncmp(path, "/range/", 7) || !strncmp(path, "/gatedrange/", 12) ||
	    !strncmp(path, "/norange/", 9) || !strncmp(path, "/overrun/", 9) || !strncmp(path, "/shifted/", 9) || !strncmp(path, "/hugeheader/", 12))) {
		serve_file(fd, req, path);
		return;
	}
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

	if ((argc != 3 && argc != 5) || !(f = fopen(argv[2], "rb")))
		return 2;
	if (argc == 5)
		dir = argv[3], logfile = argv[4];
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
