/* main: gen's command line. Parses arguments and hands over to the
 * module that does the work; nothing else lives here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "build.h"
#include "new.h"
#include "quit.h"
#include "resident.h"
#include "review.h"
#include "serve.h"
#include "xalloc.h"

#define EXIT_USAGE 2

static const char usage_main[] =
	"usage: gen [--version] [--help] COMMAND [OPTIONS]\n"
	"\n"
	"gen turns a git repository of Markdown stories and tip lists into a\n"
	"cross-linked HTML handbook.\n"
	"\n"
	"commands:\n"
	"  build   build the handbook into the output directory (public/)\n"
	"  serve   preview the work tree in a browser, rebuilt on every save\n"
	"  check   run the whole build without writing and report every problem\n"
	"  list    list the pages, one line each (--json for scripts)\n"
	"  new     start a new article: gen new story|tips \"Titel\"\n"
	"  diff    review what changed between two revisions: gen diff A B\n"
	"\n"
	"Run 'gen COMMAND --help' for a command's options.\n";

static const char usage_source[] =
	"  -C DIR        start looking for site.toml in DIR (default: .)\n"
	"  --repo PATH   read from this repository (bare repositories work)\n"
	"  --rev REV     build the content of revision REV (default: HEAD)\n"
	"  --worktree    read the files on disk, uncommitted edits included\n"
	"  --drafts      include articles with draft = true\n"
	"  --future      include articles dated in the future\n"
	"  -j N          use N worker threads (default: the number of cores)\n"
	"  --no-cache    parse every article again, without reading or writing\n"
	"                the build cache (.gen-cache/ beside the output)\n";

static void usage_for(const char *cmd, FILE *fp)
{
	if (strcmp(cmd, "build") == 0) {
		fprintf(fp, "usage: gen build [OPTIONS]\n\nBuilds the handbook. The "
			    "previous output stays untouched if the build fails.\n\n%s"
			    "  -o DIR        write to DIR instead of site.toml's output_dir\n"
			    "  -q, --quiet   print only problems\n"
			    "  --stats       print the time spent in each stage\n"
			    "  --resident[=MIN]\n"
			    "                hand the build to a gen that stays and keeps this\n"
			    "                build in memory for the next (one is started when\n"
			    "                none runs for these options): a rebuild after an\n"
			    "                edit takes a fraction of the time. It ends after\n"
			    "                MIN idle minutes (default %d; 0: after this build)\n",
			usage_source, RESIDENT_IDLE_MINUTES);
	} else if (strcmp(cmd, "serve") == 0) {
		fprintf(fp, "usage: gen serve [OPTIONS]\n\nBuilds the files on disk (uncommitted "
			    "edits and drafts included) into a\npreview folder, serves it on "
			    "http://127.0.0.1:5180/ and builds again\nwhen site.toml or a file "
			    "under the content, lua/ or themes/ changes.\nOpen pages reload "
			    "after each build, or show its errors while the\nprevious pages stay. "
			    "Ctrl-C stops.\n\n"
			    "  -C DIR        start looking for site.toml in DIR (default: .)\n"
			    "  -p, --port N  listen on port N (default 5180, or a free one when\n"
			    "                5180 is taken; 0: a free one)\n"
			    "  --bind ADDR   listen on ADDR (default 127.0.0.1: this machine only)\n"
			    "  -o DIR        build into DIR (default .gen-cache/preview/public)\n"
			    "  --no-drafts   leave out articles with draft = true\n"
			    "  --future      include articles dated in the future\n"
			    "  -j N          use N worker threads (default: the number of cores)\n"
			    "  --no-cache    parse every article again on every build\n"
			    "  -q, --quiet   print only problems\n"
			    "  --stats       print the time spent in each stage of each build\n");
	} else if (strcmp(cmd, "check") == 0) {
		fprintf(fp, "usage: gen check [OPTIONS]\n\nRuns the whole build without "
			    "writing output and reports every problem as\nfile:line:col: "
			    "message. Exit 0 when clean, 1 otherwise. Pages whose inputs the\n"
			    "last check rendered without an error are not rendered again.\n\n%s"
			    "  --staged      check what git's index holds: the next commit, as a\n"
			    "                pre-commit hook wants it\n"
			    "  --format FMT  'text' (default) or 'json'\n"
			    "  --stats       print the time spent in each stage\n",
			usage_source);
	} else if (strcmp(cmd, "list") == 0) {
		fprintf(fp, "usage: gen list [OPTIONS]\n\nLists every page (drafts "
			    "included) for editors and scripts.\n\n%s"
			    "  --json        an array of objects: path, url, title, kind,\n"
			    "                date, author, themes, draft\n",
			usage_source);
	} else if (strcmp(cmd, "new") == 0) {
		fprintf(fp, "usage: gen new story|tips|page \"Titel\" [-C DIR]\n\n"
			    "Creates the article in the right folder with its front matter\n"
			    "filled in (author from git's user.name, today's date, draft =\n"
			    "true), never overwriting a file, and prints its path.\n");
	} else if (strcmp(cmd, "diff") == 0) {
		fprintf(fp, "usage: gen diff A [B] [OPTIONS]\n\n"
			    "Reviews what changes from revision A to revision B (default:\n"
			    "HEAD), both loaded as a build would: pages added, removed,\n"
			    "renamed and changed, themes gained and lost per page, links\n"
			    "broken or fixed, and the word-level diff of each changed page.\n"
			    "Exit 0 unless a revision cannot be read.\n\n"
			    "  -C DIR        start looking for site.toml in DIR (default: .)\n"
			    "  --repo PATH   read from this repository (bare repositories work)\n"
			    "  --html DIR    also write the report as a page into DIR\n"
			    "  --drafts      include articles with draft = true\n"
			    "  --future      include articles dated in the future\n"
			    "  --no-cache    parse every article of both again, without reading\n"
			    "                or writing the build cache (.gen-cache/)\n"
			    "  -q, --quiet   the summary only, without the diffs\n");
	} else {
		fputs(usage_main, fp);
	}
}

static int bad_usage(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "gen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n");
	usage_for(cmd, stderr);
	return EXIT_USAGE;
}

/* The edits (a letter added, dropped, changed, or two swapped) that
 * make a into b, up to 3: "--worktre" is one from "--worktree". */
static size_t edits(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40 || (la > lb ? la - lb : lb - la) > 3)
		return 4;
	size_t d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* Of the n words at cands, the one nearest to word if it is a slip of
 * the keyboard away (two edits, one for a short word), else NULL. */
static const char *nearest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), most = len <= 4 ? 1 : 2, best = most + 1;
	const char *hit = NULL;
	for (size_t i = 0; i < n; i++) {
		/* Any one-letter option is an edit from any other: only
		 * the other case of the same letter is a slip ("-c", "-C"). */
		if (len <= 2 && strcasecmp(word, cands[i]) != 0)
			continue;
		size_t e = edits(word, cands[i]);
		if (e < best) {
			best = e;
			hit = cands[i];
		}
	}
	return hit;
}

/* An option cmd does not know: the usage error, with the option of its
 * usage text it was likely meant to be. */
static int unknown_option(const char *cmd, const char *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	const char *opts[64];
	char names[64][32];
	size_t n = 0;
	if (fp) {
		usage_for(cmd, fp);
		fclose(fp);
	}
	/* Its options are the words that start with '-' at the start of a
	 * line of the usage: "  -p, --port N" gives -p and --port. */
	for (char *line = text; line && *line && n < 64;) {
		char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		size_t i = 0;
		while (i < ll && line[i] == ' ')
			i++;
		while (i < ll && line[i] == '-' && n < 64) {
			size_t w = i;
			while (w < ll && line[w] != ' ' && line[w] != ',' && line[w] != '[' &&
			       line[w] != '=')
				w++;
			snprintf(names[n], sizeof names[n], "%.*s", (int)(w - i), line + i);
			opts[n] = names[n];
			n++;
			while (w < ll && line[w] != ' ' && line[w] != ',')
				w++;
			i = w;
			while (i < ll && (line[i] == ',' || line[i] == ' ') && !(line[i] == ' ' &&
			       i + 1 < ll && line[i + 1] == ' '))
				i++;
		}
		line = end ? end + 1 : NULL;
	}
	free(text);
	const char *hit = nearest(a, opts, n);
	char msg[160];
	if (hit)
		snprintf(msg, sizeof msg, "unknown option '%%s' (did you mean '%s'?)", hit);
	else
		snprintf(msg, sizeof msg, "unknown option '%%s'");
	return bad_usage(cmd, msg, a);
}

/* Parses the options shared by build, check, list and serve (sv, NULL
 * for the others, takes serve's own). Returns 0, or the exit status for
 * a usage error. */
static int parse_options(const char *cmd, int argc, char **argv, build_options *o,
			 serve_options *sv, int *help, int *resident, const char **resident_serve)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG()                                                              \
	do {                                                                    \
		if (!next)                                                      \
			return bad_usage(cmd, "option '%s' needs a value", a); \
		i++;                                                            \
	} while (0)
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = 1;
		} else if (strcmp(a, "-C") == 0) {
			NEED_ARG();
			o->src.dir = next;
		} else if (strcmp(a, "--repo") == 0 && !sv) {
			NEED_ARG();
			o->src.repo = next;
		} else if (strcmp(a, "--rev") == 0 && !sv) {
			NEED_ARG();
			o->src.rev = next;
		} else if ((strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) && sv) {
			NEED_ARG();
			char *end;
			long p = strtol(next, &end, 10);
			if (!*next || *end || p < 0 || p > 65535)
				return bad_usage(cmd, "'--port' needs a number from 0 to 65535, not '%s'",
						 next);
			sv->port = (int)p;
		} else if (strcmp(a, "--bind") == 0 && sv) {
			NEED_ARG();
			sv->bind = next;
		} else if (strcmp(a, "--no-drafts") == 0 && sv) {
			o->site.drafts = false;
		} else if (strcmp(a, "--staged") == 0 && strcmp(cmd, "check") == 0) {
			o->src.staged = true;
		} else if (strcmp(a, "--worktree") == 0 && !sv) {
			o->src.worktree = true;
		} else if (strcmp(a, "--no-cache") == 0) {
			o->site.cache = false;
		} else if (strcmp(a, "--drafts") == 0) {
			o->site.drafts = true;
		} else if (strcmp(a, "--future") == 0) {
			o->site.future = true;
		} else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
			   (strcmp(cmd, "build") == 0 || sv)) {
			NEED_ARG();
			o->output = next;
		} else if (strcmp(a, "-j") == 0 || strncmp(a, "-j", 2) == 0 ||
			   strcmp(a, "--jobs") == 0) {
			const char *num = a[2] && a[1] == 'j' ? a + 2 : next;
			if (num == next)
				NEED_ARG();
			char *end;
			long j = strtol(num, &end, 10);
			if (*end || j < 1 || j > 256)
				return bad_usage(cmd, "'-j' needs a number from 1 to 256, not '%s'", num);
			o->site.jobs = (int)j;
		} else if ((strcmp(a, "--resident") == 0 || strncmp(a, "--resident=", 11) == 0) &&
			   strcmp(cmd, "build") == 0) {
			*resident = RESIDENT_IDLE_MINUTES;
			if (a[10] == '=') {
				char *end;
				long m = strtol(a + 11, &end, 10);
				if (!a[11] || *end || m < 0 || m > 24 * 60)
					return bad_usage(cmd, "'--resident' takes minutes from 0 to "
							      "1440, not '%s'", a + 11);
				*resident = (int)m;
			}
		} else if (strcmp(a, "--resident-serve") == 0 && strcmp(cmd, "build") == 0) {
			/* Not in the usage: how --resident starts the resident. */
			NEED_ARG();
			*resident_serve = next;
		} else if (strcmp(a, "--stats") == 0 &&
			   (strcmp(cmd, "build") == 0 || strcmp(cmd, "check") == 0 || sv)) {
			o->stats = true;
		} else if ((strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
			o->quiet = true;
		} else if (strcmp(a, "--json") == 0 && strcmp(cmd, "list") == 0) {
			o->json = true;
		} else if (strcmp(a, "--format") == 0 && strcmp(cmd, "check") == 0) {
			NEED_ARG();
			if (strcmp(next, "json") == 0)
				o->json = true;
			else if (strcmp(next, "text") != 0)
				return bad_usage(cmd, "unknown format '%s'", next);
		} else {
			return unknown_option(cmd, a);
		}
#undef NEED_ARG
	}
	if (o->src.repo && o->src.dir)
		return bad_usage(cmd, "%s", "-C and --repo cannot be used together");
	if (o->src.worktree && o->src.rev)
		return bad_usage(cmd, "%s", "--worktree and --rev cannot be used together");
	if (o->src.staged && (o->src.worktree || o->src.rev))
		return bad_usage(cmd, "%s", "--staged cannot be used with --worktree or --rev");
	return 0;
}

static int cmd_new(int argc, char **argv)
{
	const char *kind = NULL, *title = NULL, *dir = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage_for("new", stdout);
			return 0;
		} else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (argv[i][0] == '-') {
			return unknown_option("new", argv[i]);
		} else if (!kind) {
			kind = argv[i];
		} else if (!title) {
			title = argv[i];
		} else {
			return bad_usage("new", "unexpected argument '%s'", argv[i]);
		}
	}
	if (!kind || !title)
		return bad_usage("new", "%s", "'gen new' needs a kind and a title");
	if (strcmp(kind, "story") && strcmp(kind, "tips") && strcmp(kind, "page"))
		return bad_usage("new", "unknown kind '%s' (expected story, tips or page)", kind);
	return new_article(dir ? dir : ".", kind, title, time(NULL));
}

static int cmd_diff(int argc, char **argv, const char *exe)
{
	review_options o;
	memset(&o, 0, sizeof o);
	o.site.now = (int64_t)time(NULL);
	/* Both revisions through the build cache: an article that did not
	 * change between them, or since the last build, is not parsed again. */
	o.site.cache = true;
	o.exe = exe;
	const char *revs[2] = { NULL, NULL };
	int nrevs = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage_for("diff", stdout);
			return 0;
		} else if (strcmp(a, "-C") == 0 || strcmp(a, "--repo") == 0 ||
			   strcmp(a, "--html") == 0) {
			if (!next)
				return bad_usage("diff", "option '%s' needs a value", a);
			if (a[1] == 'C')
				o.src.dir = next;
			else if (a[2] == 'r')
				o.src.repo = next;
			else
				o.html_dir = next;
			i++;
		} else if (strcmp(a, "--drafts") == 0) {
			o.site.drafts = true;
		} else if (strcmp(a, "--future") == 0) {
			o.site.future = true;
		} else if (strcmp(a, "--no-cache") == 0) {
			o.site.cache = false;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.quiet = true;
		} else if (a[0] == '-' && a[1]) {
			return unknown_option("diff", a);
		} else if (nrevs < 2) {
			revs[nrevs++] = a;
		} else {
			return bad_usage("diff", "unexpected argument '%s'", a);
		}
	}
	if (!nrevs)
		return bad_usage("diff", "%s", "'gen diff' needs the revisions to compare");
	if (o.src.repo && o.src.dir)
		return bad_usage("diff", "%s", "-C and --repo cannot be used together");
	o.a = revs[0];
	o.b = nrevs > 1 ? revs[1] : "HEAD";
	return review_run(&o);
}

int main(int argc, char **argv)
{
	xalloc_tune();
	if (argc < 2) {
		usage_for("", stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		if (argc > 2)
			usage_for(argv[2], stdout);
		else
			usage_for("", stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("gen %s\n", GEN_VERSION);
		return 0;
	}
	if (strcmp(cmd, "new") == 0)
		return cmd_new(argc - 2, argv + 2);
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc - 2, argv + 2, argv[0]);
	if (strcmp(cmd, "build") && strcmp(cmd, "check") && strcmp(cmd, "list") &&
	    strcmp(cmd, "serve")) {
		static const char *const commands[] = { "build", "serve", "check", "list",
							"new",   "diff",  "help",  "version" };
		const char *hit = nearest(cmd, commands, sizeof commands / sizeof *commands);
		if (hit)
			fprintf(stderr, "gen: unknown command '%s' (did you mean '%s'?)\n\n", cmd,
				hit);
		else
			fprintf(stderr, "gen: unknown command '%s'\n\n", cmd);
		usage_for("", stderr);
		return EXIT_USAGE;
	}

	build_options o;
	memset(&o, 0, sizeof o);
	o.exe = argv[0];
	o.site.now = (int64_t)time(NULL);
	o.site.cache = true;
	int help = 0;
	serve_options sv;
	memset(&sv, 0, sizeof sv);
	sv.port = -1;
	bool serve = strcmp(cmd, "serve") == 0;
	if (serve) {
		/* A preview shows what is being written: the files on disk,
		 * drafts too (gen new makes drafts). */
		o.src.worktree = true;
		o.site.drafts = true;
	}
	int resident = -1;
	const char *resident_serve = NULL;
	int rc = parse_options(cmd, argc - 2, argv + 2, &o, serve ? &sv : NULL, &help, &resident,
			       &resident_serve);
	if (rc)
		return rc;
	if (help) {
		usage_for(cmd, stdout);
		return 0;
	}
	o.site.output = o.output;
	if (serve) {
		sv.build = o;
		return serve_run(&sv);
	}
	if (strcmp(cmd, "list") == 0) {
		o.site.all = true;
		return build_list(&o);
	}
	o.write = strcmp(cmd, "build") == 0;
	if (resident_serve)
		return resident_run(&o, resident_serve, RESIDENT_IDLE_MINUTES);
	if (resident >= 0)
		return resident_build(&o, argc - 2, argv + 2, resident);
	o.exiting = true;
	quit(build_run(&o));
}
