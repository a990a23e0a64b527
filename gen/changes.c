/* changes: history pages, the changelog and the feed (see changes.h).
 *
 * Everything here is template data built from the history stage's
 * records, plus the one file no template makes: feed.xml, written
 * directly because Atom's rules (absolute ids, RFC 3339 dates, escaping)
 * are easier to keep in C than in Mustache. Diffs are of the Markdown
 * source, front matter included: an editor wants to see a changed title
 * or theme list as much as a changed sentence. */
#include "changes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "frontmatter.h"
#include "cache.h"
#include "history.h"
#include "markdown.h"
#include "textdiff.h"
#include "xalloc.h"

static const char *const months_nl[] = { "januari", "februari", "maart", "april",
	"mei", "juni", "juli", "augustus", "september", "oktober", "november", "december" };
static const char *const months_en[] = { "January", "February", "March", "April",
	"May", "June", "July", "August", "September", "October", "November", "December" };

static void set_str(value *t, const char *key, const char *s)
{
	value_set_cstr(t, key, value_new_cstring(s ? s : ""));
}

static const char *i18n(const renderer *r, const char *key, const char *dflt)
{
	return render_i18n(r, key, dflt);
}

/* The author's local calendar date and time of a commit. */
static void local_tm(int64_t t, int offset, struct tm *tm)
{
	time_t local = (time_t)(t + (int64_t)offset * 60);
	gmtime_r(&local, tm);
}

static void date_display(const site *s, int64_t t, int offset, buf *out)
{
	struct tm tm;
	local_tm(t, offset, &tm);
	bool en = strcmp(s->cfg.language, "en") == 0;
	const char *const *m = en ? months_en : months_nl;
	if (en)
		buf_printf(out, "%s %d, %d", m[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
	else
		buf_printf(out, "%d %s %d", tm.tm_mday, m[tm.tm_mon], tm.tm_year + 1900);
}

/* { commit, short, date, date_display, time, author[, message] } */
static value *commit_data(const site *s, const history_commit *c, bool message)
{
	value *v = value_new_table();
	char date[26], shortid[8], clock[8];
	history_format_date(date, c->time, c->offset);
	snprintf(shortid, sizeof shortid, "%.7s", c->id);
	struct tm tm;
	local_tm(c->time, c->offset, &tm);
	snprintf(clock, sizeof clock, "%02d:%02d", tm.tm_hour % 24, tm.tm_min % 60);
	buf dd = BUF_INIT;
	date_display(s, c->time, c->offset, &dd);
	set_str(v, "commit", c->id);
	set_str(v, "short", shortid);
	set_str(v, "date", date);
	set_str(v, "date_display", dd.ptr);
	set_str(v, "time", clock);
	set_str(v, "author", c->author);
	if (message)
		set_str(v, "message", c->message);
	buf_release(&dd);
	return v;
}

char *changes_history_url(const document *d)
{
	buf u = BUF_INIT;
	buf_puts(&u, d->url);
	buf_puts(&u, "geschiedenis/");
	return buf_detach(&u);
}

/* "Anna", "Anna en Bram", "Anna, Bram en Cor". */
static void join_names(const renderer *r, const history_page *p, buf *out)
{
	for (size_t i = 0; i < p->ncontributors; i++) {
		if (i > 0)
			buf_puts(out, i + 1 == p->ncontributors ? " " : ", ");
		if (i > 0 && i + 1 == p->ncontributors) {
			buf_puts(out, i18n(r, "history_and", "en"));
			buf_putc(out, ' ');
		}
		buf_puts(out, p->contributors[i]);
	}
}

static const history_page *page_of(const site *s, const document *d)
{
	if (!s->history || d->is_index)
		return NULL;
	if (s->doc_history && d >= s->docs && d < s->docs + s->ndocs)
		return s->doc_history[d - s->docs];
	return history_find(s->history, d->path);
}

void changes_page_data(const renderer *r, const site *s, const document *d,
		       value *p)
{
	const history_page *hp = page_of(s, d);
	if (!hp)
		return;
	if (hp->created)
		value_set_cstr(p, "created", commit_data(s, hp->created->commit, false));
	value_set_cstr(p, "created_unknown", value_new_bool(!hp->created));
	if (hp->modified)
		value_set_cstr(p, "modified", commit_data(s, hp->modified->commit, true));
	value_set_cstr(p, "revisions", value_new_integer((int64_t)hp->revisions));
	set_str(p, "revisions_label", hp->revisions == 1
		? i18n(r, "history_version_one", "versie")
		: i18n(r, "history_versions", "versies"));
	value *names = value_new_array();
	for (size_t i = 0; i < hp->ncontributors; i++)
		value_push(names, value_new_cstring(hp->contributors[i]));
	value_set_cstr(p, "contributors", names);
	buf text = BUF_INIT;
	join_names(r, hp, &text);
	set_str(p, "contributors_text", text.ptr);
	buf_release(&text);
	char *url = changes_history_url(d);
	set_str(p, "history_url", url);
	free(url);
	value_set_cstr(p, "has_history", value_new_bool(true));
}

uint64_t changes_fingerprint(const site *s, const document *d, uint64_t h)
{
	const history_page *hp = page_of(s, d);
	size_t n = hp ? hp->nrevs : 0;
	h = buf_hash64(&n, sizeof n, h ^ (hp ? 0x68u : 0x6eu));
	return hp ? buf_hash64(&hp->stamp, sizeof hp->stamp, h) : h;
}

/* ---- history pages -------------------------------------------------------- */

static const char *kind_name(history_kind k)
{
	switch (k) {
	case HISTORY_ADDED: return "added";
	case HISTORY_MODIFIED: return "modified";
	case HISTORY_RENAMED: return "renamed";
	default: return "deleted";
	}
}

static const char *kind_label(const renderer *r, history_kind k)
{
	switch (k) {
	case HISTORY_ADDED: return i18n(r, "history_added", "Nieuw");
	case HISTORY_MODIFIED: return i18n(r, "history_modified", "Gewijzigd");
	case HISTORY_RENAMED: return i18n(r, "history_renamed", "Verplaatst");
	default: return i18n(r, "history_deleted", "Verwijderd");
	}
}

/* The word diff from blob prev (NULL: nothing) to blob next, from the
 * build cache when an earlier build made it: two versions of a file
 * always give the same diff, and reading and diffing them is most of the
 * work of a history page. */
static int diff_blobs(const site *s, const char *prev, const char *next, buf *html,
		      textdiff_stats *st, gen_err *err)
{
	buf key = BUF_INIT;
	buf_printf(&key, "%s..%s", prev ? prev : "", next);
	size_t len;
	const char *hit = cache_get(s->diff_cache, key.ptr, key.len, &len);
	if (hit) {
		buf_reader rd;
		buf_reader_init(&rd, hit, len);
		st->added = (size_t)buf_get_varint(&rd);
		st->removed = (size_t)buf_get_varint(&rd);
		size_t n;
		const char *text = buf_get_blob(&rd, &n);
		if (!rd.bad && rd.p == rd.end) {
			buf_put(html, text, n);
			buf_release(&key);
			return 0;
		}
		cache_reject(s->diff_cache, key.ptr, key.len);
	}
	buf a = BUF_INIT, b = BUF_INIT;
	int rc = 0;
	if (prev)
		rc = history_read_blob(s->history, prev, &a, err);
	if (rc == 0)
		rc = history_read_blob(s->history, next, &b, err);
	if (rc == 0) {
		textdiff_options opt = { 3, false };
		textdiff_html(html, a.ptr, a.len, b.ptr, b.len, &opt, st);
		buf rec = BUF_INIT;
		buf_put_varint(&rec, st->added);
		buf_put_varint(&rec, st->removed);
		buf_put_blob(&rec, html->ptr, html->len);
		cache_put(s->diff_cache, key.ptr, key.len, rec.ptr, rec.len);
		buf_release(&rec);
	}
	buf_release(&a);
	buf_release(&b);
	buf_release(&key);
	return rc;
}

/* One version of an article, with its diff when it has one. */
static int version_data(const renderer *r, const site *s, const history_page *hp,
			size_t i, bool with_diff, value **out, gen_err *err)
{
	const history_change *c = hp->revs[i];
	const history_commit *cm = c->commit;
	value *v = commit_data(s, cm, true);
	int rc = 0;
	value_set_cstr(v, "n", value_new_integer((int64_t)(i + 1)));
	set_str(v, "kind", kind_name(c->kind));
	set_str(v, "kind_label", kind_label(r, c->kind));
	set_str(v, "path", c->path);
	set_str(v, "old_path", c->old_path);
	value_set_cstr(v, "is_renamed", value_new_bool(c->kind == HISTORY_RENAMED));
	value_set_cstr(v, "boundary", value_new_bool(cm->boundary));
	bool first = i == 0 && !cm->boundary;
	value_set_cstr(v, "is_first", value_new_bool(first));

	/* The first version's "diff" would be its whole text again: the
	 * note says so instead, and the page stays small. */
	bool has_diff = false, same = false;
	if (with_diff && !cm->boundary && !first) {
		const char *prev = i > 0 ? hp->revs[i - 1]->blob : NULL;
		if (prev && strcmp(prev, c->blob) == 0) {
			same = true;
		} else {
			textdiff_stats st;
			buf html = BUF_INIT;
			rc = diff_blobs(s, prev, c->blob, &html, &st, err);
			if (rc == 0) {
				set_str(v, "diff", html.ptr);
				value_set_cstr(v, "added", value_new_integer((int64_t)st.added));
				value_set_cstr(v, "removed", value_new_integer((int64_t)st.removed));
				has_diff = true;
			}
			buf_release(&html);
		}
	}
	value_set_cstr(v, "has_diff", value_new_bool(has_diff));
	value_set_cstr(v, "same_text", value_new_bool(same));
	/* The newest change is open; older ones are one click away. */
	value_set_cstr(v, "open", value_new_bool(i + 1 == hp->nrevs));
	*out = v;
	if (rc < 0) {
		value_free(v);
		*out = NULL;
	}
	return rc;
}

static int render_history_page(renderer *r, const site *s, output *o,
			       const document *d, const history_page *hp, gen_err *err)
{
	/* Looked at for every article on every build: one allocation, and
	 * the URL only for a page that is made. */
	buf rel = BUF_INIT;
	/* Beside the article's page, as its file is named (out_path; the
	 * URL may be escaped). */
	size_t dl = strlen(d->out_path) - (sizeof "index.html" - 1);
	buf_grow(&rel, dl + sizeof "geschiedenis/index.html");
	buf_put(&rel, d->out_path, dl);
	buf_puts(&rel, "geschiedenis/index.html");
	/* The page shows the article's card and its changes, nothing of
	 * other articles: known without making it. */
	uint64_t fp = render_doc_key(d, render_site_stamp(r) ^ 0x6869u);
	fp = changes_fingerprint(s, d, fp);
	if (render_page_fresh(r, o, rel.ptr, fp)) {
		buf_release(&rel);
		return 0;
	}
	char *url = changes_history_url(d);
	value *data = render_base_data(r, url);
	value *page = value_new_table();
	buf title = BUF_INIT;
	buf_printf(&title, "%s: %s", i18n(r, "history", "Geschiedenis"), d->fm.title);
	set_str(page, "title", title.ptr);
	set_str(page, "url", url);
	set_str(page, "summary", "");
	value *crumbs = value_new_array();
	value *home = value_new_table();
	set_str(home, "title", i18n(r, "home", "Home"));
	set_str(home, "url", "");
	value_push(crumbs, home);
	value_push(crumbs, render_page_card(r, d));
	value_set_cstr(page, "breadcrumbs", crumbs);
	value_set_cstr(data, "page", page);

	value *h = value_new_table();
	value *card = render_page_card(r, d);
	changes_page_data(r, s, d, card);
	value_set_cstr(h, "page", card);
	set_str(h, "path", d->path);
	value_set_cstr(h, "complete", value_new_bool(hp->complete));
	value *versions = value_new_array();
	int rc = 0;
	size_t shown = 0;
	for (size_t i = hp->nrevs; i-- > 0 && rc == 0;) {
		value *v = NULL;
		rc = version_data(r, s, hp, i, shown < CHANGES_MAX_DIFFS, &v, err);
		if (rc == 0)
			value_push(versions, v);
		shown++;
	}
	value_set_cstr(h, "has_older", value_new_bool(hp->nrevs > CHANGES_MAX_DIFFS));
	value_set_cstr(h, "versions", versions);
	value_set_cstr(data, "history", h);
	if (rc == 0)
		rc = render_page_as(r, o, "history", rel.ptr, data, fp, err);
	value_free(data);
	buf_release(&title);
	buf_release(&rel);
	free(url);
	return rc;
}

/* ---- the changelog ------------------------------------------------------ */

static const document *doc_at(const site *s, const char *path)
{
	size_t cl = strlen(s->cfg.content_dir);
	if (!path || strncmp(path, s->cfg.content_dir, cl) != 0 || path[cl] != '/')
		return NULL;
	return site_find(s, path + cl + 1);
}

/* The title of a page that is gone, from its last version's front matter;
 * the file name when that cannot be read. */
static void old_title(const site *s, const history_change *c, buf *out)
{
	buf text = BUF_INIT;
	gen_err e;
	frontmatter fm;
	memset(&fm, 0, sizeof fm);
	if (history_read_blob(s->history, c->blob, &text, &e) == 0 &&
	    frontmatter_parse(&fm, c->path, text.ptr, text.len, &e) == 0 && fm.title)
		buf_puts(out, fm.title);
	else
		buf_puts(out, c->path);
	frontmatter_release(&fm);
	buf_release(&text);
}

static value *change_data(const renderer *r, const site *s, const history_change *c)
{
	value *v = value_new_table();
	set_str(v, "kind", kind_name(c->kind));
	set_str(v, "kind_label", kind_label(r, c->kind));
	set_str(v, "path", c->path);
	set_str(v, "old_path", c->old_path);
	value_set_cstr(v, "is_renamed", value_new_bool(c->kind == HISTORY_RENAMED));
	const document *d = c->page ? doc_at(s, c->page->path) : NULL;
	value_set_cstr(v, "exists", value_new_bool(d != NULL));
	if (d) {
		set_str(v, "title", d->fm.title);
		set_str(v, "url", d->url);
		char *hu = d->is_index ? xstrdup("") : changes_history_url(d);
		set_str(v, "history_url", hu);
		free(hu);
	} else {
		buf t = BUF_INIT;
		old_title(s, c, &t);
		set_str(v, "title", t.ptr);
		set_str(v, "url", "");
		set_str(v, "history_url", "");
		buf_release(&t);
	}
	return v;
}

static int render_changelog(renderer *r, const site *s, output *o, gen_err *err)
{
	const history *h = s->history;
	value *data = render_base_data(r, "wijzigingen/");
	value *page = value_new_table();
	set_str(page, "title", i18n(r, "changes_title", "Wijzigingen"));
	set_str(page, "url", "wijzigingen/");
	set_str(page, "summary", i18n(r, "changes_intro", ""));
	value *crumbs = value_new_array();
	value *home = value_new_table();
	set_str(home, "title", i18n(r, "home", "Home"));
	set_str(home, "url", "");
	value_push(crumbs, home);
	value_set_cstr(page, "breadcrumbs", crumbs);
	value_set_cstr(data, "page", page);

	value *commits = value_new_array();
	size_t n = 0;
	for (size_t i = 0; h && i < history_commit_count(h) && n < CHANGES_MAX_COMMITS; i++) {
		const history_commit *c = history_commit_at(h, i);
		if (c->boundary)
			continue;
		value *v = commit_data(s, c, true);
		value *list = value_new_array();
		for (size_t j = 0; j < c->nchanges; j++)
			value_push(list, change_data(r, s, &c->changes[j]));
		value_set_cstr(v, "changes", list);
		value_push(commits, v);
		n++;
	}
	value *ch = value_new_table();
	value_set_cstr(ch, "has_commits", value_new_bool(n > 0));
	value_set_cstr(ch, "commits", commits);
	value_set_cstr(ch, "shallow", value_new_bool(h && history_shallow(h)));
	value_set_cstr(data, "changes", ch);
	int rc = render_page(r, o, "changelog", "wijzigingen/index.html", data, err);
	value_free(data);
	return rc;
}

/* ---- feed.xml ------------------------------------------------------------- */

/* XML text: escaped, and without the control characters XML forbids. */
static void xml_put(buf *b, const char *s)
{
	buf clean = BUF_INIT;
	for (const char *p = s ? s : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			continue;
		buf_putc(&clean, c);
	}
	buf_put_html(b, clean.ptr, clean.len);
	buf_release(&clean);
}

typedef struct entry {
	const document *d;
	const history_page *hp; /* with a last change, or NULL */
	int64_t updated;
	char updated_text[32];
	char published_text[32];
	const char *author;
} entry;

static int entry_cmp(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->updated != y->updated)
		return x->updated > y->updated ? -1 : 1;
	return strcmp(x->d->rel, y->d->rel);
}

/* A date of front matter ("2015-03-12" or a full date-time) in RFC 3339. */
static bool fm_date(const document *d, char out[32], int64_t *epoch)
{
	if (!d->fm.date)
		return false;
	value_datetime dt;
	if (value_datetime_parse(d->fm.date, strlen(d->fm.date), &dt) < 0 || !dt.has_date)
		return false;
	*epoch = d->fm.date_epoch;
	int a = dt.offset_min < 0 ? -dt.offset_min : dt.offset_min;
	char tmp[96];
	if (dt.has_offset && a)
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", dt.year,
			 dt.month, dt.day, dt.hour, dt.minute, dt.second,
			 dt.offset_min < 0 ? '-' : '+', (a / 60) % 100, a % 60);
	else
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", dt.year, dt.month,
			 dt.day, dt.hour, dt.minute, dt.second);
	snprintf(out, 32, "%.31s", tmp);
	return true;
}

static const char *doc_summary(const document *d)
{
	if (d->fm.summary && *d->fm.summary)
		return d->fm.summary;
	return markdown_first_paragraph(d->md);
}

/* An absolute IRI for Atom's ids: the page URL when the site has a
 * base_url, else a URN that stays the same from build to build. */
static void atom_id(buf *out, const site *s, const char *url)
{
	if (*s->cfg.base_url)
		buf_printf(out, "%s%s", s->cfg.base_url, url);
	else
		buf_printf(out, "urn:gen:%s%s", *url ? "page:" : "feed", url);
}

static int render_feed(renderer *r, const site *s, output *o, gen_err *err)
{
	/* The articles by their last change, newest first, as many as the
	 * feed holds (CHANGES_MAX_FEED): each article is weighed against the
	 * last of those kept so far and, when newer, put in its place among
	 * them. entry_cmp is a total order (no two articles share a path),
	 * so these are the first of all of them sorted, without sorting a
	 * handbook's ten thousand for thirty. */
	_Static_assert(CHANGES_MAX_FEED > 0, "the feed holds an entry");
	entry *v = xcalloc(CHANGES_MAX_FEED + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		if (d->is_index)
			continue;
		entry e;
		memset(&e, 0, sizeof e);
		e.d = d;
		const history_page *hp = page_of(s, d);
		int64_t pub_epoch = 0;
		if (hp && hp->modified) {
			e.hp = hp;
			e.updated = hp->modified->commit->time;
		} else if (fm_date(d, e.published_text, &pub_epoch)) {
			e.updated = pub_epoch;
			memcpy(e.updated_text, e.published_text, sizeof e.updated_text);
		} else {
			continue;
		}
		if (n == CHANGES_MAX_FEED && entry_cmp(&e, &v[n - 1]) >= 0)
			continue;
		size_t at = n < CHANGES_MAX_FEED ? n++ : n - 1;
		for (; at > 0 && entry_cmp(&e, &v[at - 1]) < 0; at--)
			v[at] = v[at - 1];
		v[at] = e;
	}
	for (size_t i = 0; i < n; i++) {
		entry *e = &v[i];
		const history_page *hp = e->hp;
		e->author = e->d->fm.author;
		if (!hp)
			continue;
		int64_t pub_epoch = 0;
		bool has_pub = fm_date(e->d, e->published_text, &pub_epoch);
		history_format_date(e->updated_text, hp->modified->commit->time,
				    hp->modified->commit->offset);
		if (hp->created) {
			history_format_date(e->published_text, hp->created->commit->time,
					    hp->created->commit->offset);
			has_pub = true;
		}
		if (!e->author)
			e->author = hp->created ? hp->created->commit->author
						: hp->modified->commit->author;
		if (!has_pub)
			e->published_text[0] = '\0';
	}

	const config *cfg = &s->cfg;
	buf x = BUF_INIT, id = BUF_INIT;
	buf_printf(&x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		       "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"%s\">\n",
		   cfg->language);
	buf_puts(&x, "  <title>");
	xml_put(&x, cfg->title);
	buf_puts(&x, "</title>\n");
	if (cfg->description && *cfg->description) {
		buf_puts(&x, "  <subtitle>");
		xml_put(&x, cfg->description);
		buf_puts(&x, "</subtitle>\n");
	}
	atom_id(&id, s, "");
	buf_puts(&x, "  <id>");
	xml_put(&x, id.ptr);
	buf_puts(&x, "</id>\n");
	buf_puts(&x, "  <link rel=\"alternate\" type=\"text/html\" href=\"");
	xml_put(&x, *cfg->base_url ? cfg->base_url : "./");
	buf_puts(&x, "\"/>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"");
	buf_clear(&id);
	buf_printf(&id, "%sfeed.xml", cfg->base_url);
	xml_put(&x, id.ptr);
	buf_puts(&x, "\"/>\n");
	/* Atom needs a date even for an empty feed: the newest entry's, else
	 * the build's commit, else the epoch (never "now": rebuilding the
	 * same revision must give the same bytes). */
	const char *updated = n ? v[0].updated_text : NULL;
	char commit_date[26] = "1970-01-01T00:00:00+00:00";
	if (!updated && s->history && history_commit_count(s->history)) {
		const history_commit *c = history_commit_at(s->history, 0);
		history_format_date(commit_date, c->time, c->offset);
	}
	buf_printf(&x, "  <updated>%s</updated>\n", updated ? updated : commit_date);
	buf_puts(&x, "  <author><name>");
	xml_put(&x, cfg->title);
	buf_puts(&x, "</name></author>\n  <generator>gen</generator>\n");
	for (size_t i = 0; i < n; i++) {
		const entry *e = &v[i];
		const document *d = e->d;
		buf_puts(&x, "  <entry>\n    <title>");
		xml_put(&x, d->fm.title);
		buf_puts(&x, "</title>\n    <link rel=\"alternate\" type=\"text/html\" href=\"");
		buf_clear(&id);
		buf_printf(&id, "%s%s", cfg->base_url, d->url);
		xml_put(&x, id.ptr);
		buf_puts(&x, "\"/>\n    <id>");
		buf_clear(&id);
		atom_id(&id, s, d->url);
		xml_put(&x, id.ptr);
		buf_printf(&x, "</id>\n    <updated>%s</updated>\n", e->updated_text);
		if (e->published_text[0])
			buf_printf(&x, "    <published>%s</published>\n", e->published_text);
		if (e->author && *e->author) {
			buf_puts(&x, "    <author><name>");
			xml_put(&x, e->author);
			buf_puts(&x, "</name></author>\n");
		}
		buf_puts(&x, "    <category term=\"");
		xml_put(&x, frontmatter_kind_name(d->fm.kind));
		buf_puts(&x, "\"/>\n");
		const char *sum = doc_summary(d);
		if (sum && *sum) {
			buf_puts(&x, "    <summary>");
			xml_put(&x, sum);
			buf_puts(&x, "</summary>\n");
		}
		buf_puts(&x, "  </entry>\n");
	}
	buf_puts(&x, "</feed>\n");
	int rc = o ? output_write(o, "feed.xml", x.ptr, x.len, err) : 0;
	buf_release(&x);
	buf_release(&id);
	free(v);
	(void)r;
	return rc;
}

/* History pages are independent of each other and, on a big handbook,
 * many (one per article, each with its diffs): they are rendered on the
 * build's worker threads. The error reported is that of the first page in
 * site order, whatever the timing. */
typedef struct page_work {
	renderer *r;
	const site *s;
	output *o;
	const document **docs;
	const history_page **pages;
	size_t n;
	atomic_size_t next;
	pthread_mutex_t lock;
	size_t failed_at;
	gen_err err;
} page_work;

static void *page_run(void *arg)
{
	page_work *w = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			break;
		gen_err e;
		err_clear(&e);
		if (render_history_page(w->r, w->s, w->o, w->docs[i], w->pages[i], &e) < 0) {
			pthread_mutex_lock(&w->lock);
			if (i < w->failed_at) {
				w->failed_at = i;
				w->err = e;
			}
			pthread_mutex_unlock(&w->lock);
		}
	}
	return NULL;
}

static int render_history_pages(renderer *r, const site *s, output *o, gen_err *err)
{
	page_work w;
	memset(&w, 0, sizeof w);
	w.r = r;
	w.s = s;
	w.o = o;
	w.docs = xcalloc(s->ndocs + 1, sizeof *w.docs);
	w.pages = xcalloc(s->ndocs + 1, sizeof *w.pages);
	/* Whether any article is named as a history page would be: when
	 * none is, no article's is looked up (ten thousand lookups in the
	 * site's map, each a miss in memory; the names are side by side). */
	bool named = false;
	for (size_t i = 0; i < s->ndocs && !named; i++) {
		const char *rel = s->docs[i].rel;
		size_t l = strlen(rel), hl = sizeof "geschiedenis.md" - 1;
		named = l >= hl && strcmp(rel + l - hl, "geschiedenis.md") == 0 &&
			(l == hl || rel[l - hl - 1] == '/');
	}
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		const history_page *hp = page_of(s, d);
		if (!hp || !hp->nrevs)
			continue;
		if (!named) {
			w.docs[w.n] = d;
			w.pages[w.n++] = hp;
			continue;
		}
		/* An article that happens to live at the history page's URL
		 * wins: its page is what authors asked for. */
		/* Looked at for every article on every build: no printf. */
		char near[256];
		buf rel = BUF_INIT;
		const char *at = near;
		/* The article's folder as its file is named (see above). */
		size_t ul = strlen(d->out_path) - (sizeof "index.html" - 1);
		if (ul + sizeof "geschiedenis.md" <= sizeof near) {
			memcpy(near, d->out_path, ul);
			memcpy(near + ul, "geschiedenis.md", sizeof "geschiedenis.md");
		} else {
			buf_put(&rel, d->out_path, ul);
			buf_puts(&rel, "geschiedenis.md");
			at = rel.ptr;
		}
		bool taken = site_find(s, at) != NULL;
		buf_release(&rel);
		if (taken)
			continue;
		w.docs[w.n] = d;
		w.pages[w.n++] = hp;
	}
	atomic_init(&w.next, 0);
	pthread_mutex_init(&w.lock, NULL);
	w.failed_at = w.n;
	size_t nw = (size_t)site_jobs(s->opt_jobs);
	if (nw > w.n)
		nw = w.n ? w.n : 1;
	pthread_t *threads = xcalloc(nw, sizeof *threads);
	bool *started = xcalloc(nw, sizeof *started);
	for (size_t i = 1; i < nw; i++)
		started[i] = pthread_create(&threads[i], NULL, page_run, &w) == 0;
	page_run(&w);
	for (size_t i = 1; i < nw; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	int rc = 0;
	if (w.failed_at < w.n) {
		if (err)
			*err = w.err;
		rc = w.err.code ? w.err.code : GEN_ECONTENT;
	}
	pthread_mutex_destroy(&w.lock);
	free(threads);
	free(started);
	free(w.docs);
	free(w.pages);
	return rc;
}

int changes_render(renderer *r, const site *s, output *o, gen_err *err)
{
	int rc = 0;
	if (s->history) {
		rc = render_history_pages(r, s, o, err);
		if (rc == 0)
			rc = render_changelog(r, s, o, err);
	}
	return rc;
}

int changes_render_feed(renderer *r, const site *s, output *o, gen_err *err)
{
	return render_feed(r, s, o, err);
}
