/* resident: gen build --resident (see resident.h).
 *
 * Two processes meet on an abstract Unix socket whose name is a hash of
 * everything that makes two builds the same build: the user, gen's
 * executable, the folder it runs in, the options (less --resident, -q and
 * --stats, which each command gives anew) and the environment variables
 * gen or libgit2 read. The command sends its stdout and stderr with
 * SCM_RIGHTS and a small request (quiet, stats, the time of the build,
 * the idle minutes); the resident builds with those as its own stdout
 * and stderr and answers the build's exit status. Nothing is left on
 * disk: an abstract name goes with the process that holds it, so a
 * resident that was killed leaves no stale socket behind.
 *
 * The memory is gen serve's: the articles (site_memory), the links
 * (links_memory), the site's checks, the search index's words and the
 * caches' indexes. What serve has that this does not is its own preview
 * folder: public/ is the user's, so the resident watches it (inotify, on
 * every folder in it) and trusts it as its last build left it only when
 * nothing was reported there between two builds. */
#define _GNU_SOURCE /* struct ucred, accept4, close_range */
#include "resident.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "links.h"
#include "output.h"
#include "search.h"
#include "site.h"
#include "source.h"
#include "watch.h"
#include "xalloc.h"

/* The request's layout; part of the name, so that a command never talks
 * to a resident of another layout. */
#define REQUEST_MAGIC 0x67656e72u /* "genr" */
#define REQUEST_FORMAT 2
/* The exit status of a resident that found its name taken: another one
 * started first, and the command talks to that one. */
#define EXIT_TAKEN 3
/* How long a command waits for the resident it started to listen. */
#define START_WAIT_MS 30000

typedef struct request {
	uint32_t magic;
	uint32_t idle;  /* minutes to wait for the next build; 0: end after this */
	int64_t now;    /* the command's clock: articles dated later are left out */
	uint32_t umask; /* the command's: the modes of the files it writes */
	uint8_t quiet, stats;
} request;

/* ---- the name ---- */

static uint64_t hash_str(const char *s, uint64_t h)
{
	size_t n = s ? strlen(s) : 0;
	h = buf_hash64(&n, sizeof n, h);
	return s ? buf_hash64(s, n, h) : buf_hash64("\1", 1, h);
}

/* Options each command gives anew: not part of what the resident is. */
static bool per_command(const char *a)
{
	return strcmp(a, "--resident") == 0 || strncmp(a, "--resident=", 11) == 0 ||
	       strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0 || strcmp(a, "--stats") == 0;
}

static void resident_name(int argc, char **argv, char *out, size_t size)
{
	uint64_t h = buf_hash64("gen-resident", 12, REQUEST_FORMAT);
	uid_t uid = getuid();
	h = buf_hash64(&uid, sizeof uid, h);
	/* Another gen (rebuilt, installed anew) has its own resident. */
	struct stat st;
	if (stat("/proc/self/exe", &st) == 0) {
		uint64_t id[5] = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
				   (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };
		h = buf_hash64(id, sizeof id, h);
	}
	char cwd[PATH_MAX];
	h = hash_str(getcwd(cwd, sizeof cwd) ? cwd : NULL, h);
	for (int i = 0; i < argc; i++)
		if (!per_command(argv[i]))
			h = hash_str(argv[i], h);
	static const char *const env[] = {
		"GEN_THEMES", "NO_COLOR", "TZ", "HOME", "XDG_CONFIG_HOME", "GIT_DIR",
		"GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
		"GIT_CEILING_DIRECTORIES", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL",
	};
	for (size_t i = 0; i < sizeof env / sizeof *env; i++) {
		h = hash_str(env[i], h);
		h = hash_str(getenv(env[i]), h);
	}
	snprintf(out, size, "gen-resident-%016llx", (unsigned long long)h);
}

static socklen_t address(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	size_t n = strlen(name);
	if (n > sizeof a->sun_path - 1)
		n = sizeof a->sun_path - 1;
	/* sun_path[0] stays '\0': the abstract namespace. */
	memcpy(a->sun_path + 1, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* ---- the command ---- */

static int dial(const char *name)
{
	struct sockaddr_un a;
	socklen_t len = address(&a, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* An abstract name can be taken by any user: the stdout and stderr
	 * sent over it go only to a resident of this one. */
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (connect(fd, (struct sockaddr *)&a, len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != getuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Starts `gen build --resident-serve NAME ARGS...` in a session of its
 * own, with nothing of this process's open but /dev/null. */
static pid_t start(const char *name, const char *exe, int argc, char **argv)
{
	char **args = xcalloc((size_t)argc + 5, sizeof *args);
	int n = 0;
	args[n++] = (char *)exe;
	args[n++] = (char *)"build";
	args[n++] = (char *)"--resident-serve";
	args[n++] = (char *)name;
	for (int i = 0; i < argc; i++)
		if (!per_command(argv[i]))
			args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		/* A pipe of make's or of a test held open would keep them
		 * waiting for the resident to end. */
		close_range(3, ~0U, 0);
		/* This very executable, even if a newer one has been put
		 * at its path since. */
		execv("/proc/self/exe", args);
		_exit(127);
	}
	free(args);
	return pid;
}

/* Dials until the resident started as pid listens; -1 when it ended
 * without (and no other took its name) or did not come in time. */
static int dial_started(const char *name, pid_t pid)
{
	bool own = true;
	for (int waited = 0, step = 1; waited < START_WAIT_MS; waited += step) {
		int fd = dial(name);
		if (fd >= 0)
			return fd;
		int st;
		if (own && waitpid(pid, &st, WNOHANG) == pid) {
			own = false;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != EXIT_TAKEN)
				return -1;
		}
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		if (step < 20)
			step++;
	}
	return -1;
}

/* Sends the request with stdout and stderr; reads the exit status.
 * Returns 0, or -1 when the resident did not answer. */
static int ask(int fd, const request *rq, int *status)
{
	int fds[2] = { 1, 2 };
	union {
		char buf[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct iovec iov = { (void *)rq, sizeof *rq };
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	fflush(stdout);
	fflush(stderr);
	if (sendmsg(fd, &m, MSG_NOSIGNAL) != (ssize_t)sizeof *rq)
		return -1;
	int32_t got;
	size_t have = 0;
	while (have < sizeof got) {
		ssize_t n = read(fd, (char *)&got + have, sizeof got - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	*status = got;
	return 0;
}

int resident_build(const build_options *opt, int argc, char **argv, int idle_minutes)
{
	char name[64];
	resident_name(argc, argv, name, sizeof name);
	mode_t mask = umask(0);
	umask(mask);
	request rq = { REQUEST_MAGIC, (uint32_t)idle_minutes, opt->site.now, (uint32_t)mask,
		       opt->quiet, opt->stats };
	int fd = dial(name);
	/* --resident=0 ends a resident that runs; none to end, none to start. */
	if (fd < 0 && idle_minutes > 0) {
		pid_t pid = start(name, opt->exe ? opt->exe : "gen", argc, argv);
		if (pid > 0)
			fd = dial_started(name, pid);
		if (fd < 0)
			fprintf(stderr, "gen: warning: could not start a resident build; "
					"building in this process\n");
	}
	if (fd >= 0) {
		int status;
		int rc = ask(fd, &rq, &status);
		close(fd);
		if (rc == 0)
			return status;
		fprintf(stderr, "gen: warning: the resident build did not answer; "
				"building in this process\n");
	}
	build_options o = *opt;
	o.exiting = true;
	return build_run(&o);
}

/* ---- the resident: building ---- */

typedef struct turn {
	output_watch *out;
	int conn;      /* the command's socket, -1 once answered */
	int nul;       /* /dev/null, for stdout and stderr between builds */
	int status;
} turn;

/* Gives the command its exit status as soon as the build is over,
 * before the build's memory is freed. */
static void answered(void *ctx, int status)
{
	turn *t = ctx;
	t->status = status;
	fflush(stdout);
	fflush(stderr);
	dup2(t->nul, 1);
	dup2(t->nul, 2);
	/* The build's own writes to public/, read before anyone else's
	 * can come. */
	if (t->out)
		output_watch_read(t->out, true);
	int32_t s = status;
	if (send(t->conn, &s, sizeof s, MSG_NOSIGNAL) < 0) {
		/* The command is gone (Ctrl-C): the output is built all the
		 * same. */
	}
	close(t->conn);
	t->conn = -1;
}

/* Takes the request and the command's stdout and stderr from conn. */
static int take_request(int conn, request *rq, int fds[2])
{
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != getuid())
		return -1;
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { rq, sizeof *rq };
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	ssize_t n;
	do
		n = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(2 * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
	if (n != (ssize_t)sizeof *rq || rq->magic != REQUEST_MAGIC) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

int resident_run(const build_options *opt, const char *name, int idle_minutes)
{
	int status = 1, lfd = -1, nul = -1;
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_un a;
	socklen_t len = address(&a, name);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return 1;
	if (bind(lfd, (struct sockaddr *)&a, len) < 0) {
		close(lfd);
		return errno == EADDRINUSE ? EXIT_TAKEN : 1;
	}
	if (listen(lfd, 16) < 0) {
		close(lfd);
		return 1;
	}
	/* Started as /proc/self/exe (see start), the process is named
	 * "exe" in ps and top: it takes its command's name again. */
	const char *exe = opt->exe ? opt->exe : "gen";
	const char *slash = strrchr(exe, '/');
	prctl(PR_SET_NAME, slash ? slash + 1 : exe, 0, 0, 0);
	/* As gen serve: large blocks stay in the heap from build to build. */
	mallopt(M_MMAP_THRESHOLD, 512 << 20);
	mallopt(M_TRIM_THRESHOLD, 1024 << 20);
	source_hold();
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	output_watch *out = output_watch_new();
	site_memory *memory = site_memory_new();
	search_memory *words = search_memory_new();
	links_memory *links = links_memory_new();
	output_memory *paths = output_memory_new();
	check_memory checks;
	memset(&checks, 0, sizeof checks);
	build_caches caches = { 0 };
	build_report rep;
	memset(&rep, 0, sizeof rep);
	build_options base = *opt;
	base.site.memory = memory;
	base.search_memory = words;
	base.links_memory = links;
	base.output_memory = paths;
	base.check_memory = &checks;
	base.caches = &caches;
	base.report = &rep;
	base.write = true;
	base.exiting = false;
	base.print_parts = false; /* public/ is read without gen */
	bool trusted = false;     /* the last build succeeded */
	int idle = idle_minutes;
	/* The content is watched as gen serve watches it: with --worktree
	 * so that a build lists only the files changed since the last, and
	 * otherwise so that git status (the notice of files not committed)
	 * looks only at those. */
	source_listing *listing = NULL;
	source_status *status_memory = NULL;
	project_watch *project = NULL;
	{
		source *src = NULL;
		diag_list quiet = DIAG_LIST_INIT;
		gen_err err;
		if (source_open(&src, &opt->src, &quiet, &err) == 0 && source_root(src)) {
			if (opt->src.worktree)
				listing = source_listing_new();
			else
				status_memory = source_status_new();
			project = project_watch_new(source_root(src), listing);
			if (project) {
				project_watch_status(project, status_memory);
				project_watch_all(project);
			}
		}
		source_free(src);
		diag_release(&quiet);
	}
	/* Without a watch, every status looks at every file. */
	if (!project) {
		source_status_free(status_memory);
		status_memory = NULL;
	}
	base.status_memory = status_memory;

	for (;;) {
		struct pollfd pf[3] = { { lfd, POLLIN, 0 }, { out ? output_watch_fd(out) : -1, POLLIN, 0 },
					{ project ? project_watch_fd(project) : -1, POLLIN, 0 } };
		int n = poll(pf, 3, idle * 60 * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* idle long enough, or poll cannot wait */
		if (out && pf[1].revents)
			output_watch_read(out, false);
		if (project && pf[2].revents)
			project_watch_read(project);
		if (!pf[0].revents)
			continue;
		int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		request rq;
		int fds[2];
		if (take_request(conn, &rq, fds) < 0) {
			close(conn);
			continue;
		}
		idle = (int)rq.idle;
		umask((mode_t)(rq.umask & 0777));
		dup2(fds[0], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		turn t = { out, conn, nul, 1 };
		build_options bo = base;
		bo.quiet = rq.quiet;
		bo.stats = rq.stats;
		bo.site.now = rq.now;
		/* Anything done to the output just before the command is
		 * queued already, but poll may not have said so yet. */
		if (out)
			output_watch_read(out, false);
		bo.own_output = trusted && out && output_watch_untouched(out);
		if (project) {
			/* The same for a save just before the command. */
			project_watch_read(project);
			size_t nchanged;
			bool new_folders;
			free(project_watch_take_changed(project, &nchanged, &new_folders));
			/* Watched before the build reads them. */
			if (new_folders)
				project_watch_all(project);
			if (project_watch_blind(project)) {
				if (listing)
					source_listing_forget(listing);
				if (status_memory)
					source_status_forget(status_memory);
			}
		}
		bo.site.listing = listing;
		bo.finished = answered;
		bo.finished_ctx = &t;
		build_run(&bo);
		/* build_run calls it when done; this is only in case it did not. */
		if (t.conn >= 0)
			answered(&t, t.status);
		trusted = t.status == 0;
		if (project)
			project_watch_content(project, rep.content_dir);
		/* The output folder is watched whole after the first good build,
		 * and again whenever the watches lost track of it. */
		if (trusted && rep.output_dir && out && !output_watch_covers(out, rep.output_dir)) {
			output_watch_all(out, rep.output_dir);
			output_watch_read(out, true);
		}
		if (idle == 0)
			break;
	}
	status = 0;
	project_watch_free(project);
	source_listing_free(listing);
	source_status_free(status_memory);
	output_watch_free(out);
	if (nul >= 0)
		close(nul);
	close(lfd);
	build_report_release(&rep);
	build_caches_release(&caches);
	site_memory_free(memory);
	search_memory_free(words);
	links_memory_free(links);
	output_memory_free(paths);
	source_unhold();
	return status;
}
