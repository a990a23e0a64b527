/* template: Mustache compiler and renderer (see template.h).
 *
 * Compiling takes three passes over the text. scan() cuts it into tags,
 * following delimiter changes, matching section ends and reporting syntax
 * errors. standalone() decides which tags stand alone on their line, so
 * that the line's blanks and line end go with the tag. build() emits a
 * flat array of nodes in which a container's children follow it and
 * `next` skips past them; text nodes point into the template's own copy
 * of the source, with the intrinsic indentation of blocks cut out.
 *
 * Parents and blocks follow the inheritance spec and its whitespace notes
 * (mustache/spec specs/whitespace.md): inside a parent only the argument
 * blocks count, so a parent's start tag needs to clear only on its left,
 * an argument block's start tag only on its right, and so on. A block
 * whose start tag ends its line has "intrinsic indentation", the blanks
 * that start the next line, and those are taken off every line of it.
 *
 * Rendering walks the nodes with a stack of contexts. Indentation (of a
 * standalone partial, parent or block) is applied while rendering: it is
 * written before the first thing output after a newline that came from
 * template text, never after a newline that came from data. Nothing in
 * here is static and mutable, so renders can run in parallel. */
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xalloc.h"

/* How deep sections may nest in one template; keeps the render recursion
 * (one C frame per level) bounded together with TEMPLATE_MAX_DEPTH. */
#define MAX_NESTING 100
/* Longest delimiter a `{{=<% %>=}}` tag may set. */
#define MAX_DELIM 16
/* Folders below a partials directory. */
#define MAX_DIR_DEPTH 32

#define NPOS ((size_t)-1)

enum kind {
	K_TEXT,
	K_VAR,      /* {{name}}, escaped */
	K_RAW,      /* {{{name}}} and {{&name}} */
	K_SECTION,  /* {{#name}} */
	K_INVERTED, /* {{^name}} */
	K_PARTIAL,  /* {{>name}} */
	K_PARENT,   /* {{<name}} */
	K_BLOCK,    /* {{$name}} */
	/* Tags that exist only while compiling. */
	K_CLOSE,   /* {{/name}} */
	K_COMMENT, /* {{! ... }} */
	K_DELIM,   /* {{=<% %>=}} */
};

enum {
	F_DYNAMIC = 1,    /* the name is looked up in the data: {{>*name}} */
	F_STANDALONE = 2, /* partial tag, parent or block pair alone on its line */
	F_INTRINSIC = 4,  /* block content was dedented by its indentation */
};

struct node {
	unsigned char kind, flags;
	uint32_t next;     /* index just past this node and its children */
	uint32_t off, len; /* text, or the name as written (no '*') */
	uint32_t part;     /* first part of a dotted name in template.parts */
	uint32_t nparts;   /* number of parts; 0 for "." */
	uint32_t ind_off, ind_len; /* indentation of partials, parents, blocks */
	int line, col;     /* of the tag, for errors while rendering */
};

struct part {
	uint32_t off, len;
};

struct template {
	char *name;
	char *src; /* own copy of the text; nodes point into it */
	size_t len;
	struct node *nodes;
	size_t n;
	struct part *parts;
	size_t nparts;
};

/* ---- compiling ---------------------------------------------------- */

struct tok {
	enum kind kind;
	bool dynamic;
	bool in_parent;      /* a block that is an argument of a parent */
	bool lclear, rclear; /* only blanks between the tag and line start/end */
	size_t begin, end;   /* the tag, delimiters included */
	size_t lo, hi;       /* the tag plus whatever whitespace goes with it */
	size_t ws;           /* start of the tag's line, when lclear */
	size_t eol;          /* just past the line end (or text end), when rclear */
	size_t name, nlen;   /* the name, padding and '*' removed */
	size_t match;        /* index of the matching start or end tag */
	int line, col;
};

struct compiler {
	const char *s;
	size_t len;
	const char *file;
	gen_err *err;
	struct tok *toks;
	size_t ntoks, captoks;
	/* where() walks forward from the last position it was asked for */
	size_t at;
	int line, col;
	/* the result being built */
	struct node *nodes;
	size_t n, cap;
	struct part *parts;
	size_t nparts, capparts;
	/* intrinsic indentations of the blocks around the text being built */
	struct part dedent[MAX_NESTING + 1];
	size_t ndedent;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Line and column (in characters) of byte offset at. Tags are located in
 * order, so this walks forward from the previous answer. */
static void where(struct compiler *c, size_t at, int *line, int *col)
{
	if (at < c->at) {
		c->at = 0;
		c->line = 1;
		c->col = 1;
	}
	for (size_t i = c->at; i < at && i < c->len; i++) {
		unsigned char ch = (unsigned char)c->s[i];
		if (ch == '\n') {
			c->line++;
			c->col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c->col++;
		}
	}
	c->at = at;
	*line = c->line;
	*col = c->col;
}

__attribute__((format(printf, 4, 5)))
static int fail(struct compiler *c, int line, int col, const char *fmt, ...)
{
	if (!c->err)
		return GEN_EPARSE;
	char msg[sizeof c->err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(c->err, GEN_EPARSE, c->file, line, col, "%s", msg);
}

/* First offset >= from where pat occurs, or NPOS. */
static size_t find(const char *s, size_t len, size_t from, const char *pat,
		   size_t plen)
{
	while (from + plen <= len) {
		const char *p = memchr(s + from, pat[0], len - from - plen + 1);
		if (!p)
			return NPOS;
		size_t at = (size_t)(p - s);
		if (memcmp(p, pat, plen) == 0)
			return at;
		from = at + 1;
	}
	return NPOS;
}

static void trim(const char *s, size_t *from, size_t *to)
{
	while (*from < *to && space(s[*from]))
		(*from)++;
	while (*to > *from && space(s[*to - 1]))
		(*to)--;
}

static const char *kind_word(enum kind k)
{
	switch (k) {
	case K_PARENT: return "parent";
	case K_BLOCK: return "block";
	case K_INVERTED: return "inverted section";
	default: return "section";
	}
}

/* Checks a tag's name: no blanks inside, and for names looked up in the
 * data, dotted parts that are not empty. */
static int check_name(struct compiler *c, const struct tok *t, bool dotted)
{
	const char *n = c->s + t->name;
	if (t->nlen == 0)
		return fail(c, t->line, t->col, "empty tag");
	for (size_t i = 0; i < t->nlen; i++)
		if (space(n[i]))
			return fail(c, t->line, t->col, "invalid name '%.*s'",
				    (int)t->nlen, n);
	if (!dotted || (t->nlen == 1 && n[0] == '.'))
		return 0;
	bool empty = true;
	for (size_t i = 0; i <= t->nlen; i++) {
		if (i == t->nlen || n[i] == '.') {
			if (empty)
				return fail(c, t->line, t->col, "invalid name '%.*s'",
					    (int)t->nlen, n);
			empty = true;
		} else {
			empty = false;
		}
	}
	return 0;
}

/* A start tag's name and an end tag's name match; a dynamic parent
 * `{{<*x}}` may end with `{{/x}}` or with a slash, star and x. */
static bool same_name(const struct compiler *c, const struct tok *open,
		      const struct tok *close)
{
	const char *a = c->s + open->name, *b = c->s + close->name;
	size_t al = open->nlen, bl = close->nlen;
	if (bl && b[0] == '*' && open->dynamic) {
		b++;
		bl--;
		while (bl && space(*b)) {
			b++;
			bl--;
		}
	}
	return al == bl && memcmp(a, b, al) == 0;
}

static int set_delims(struct compiler *c, const struct tok *t, size_t from,
		      size_t to, const char **open, size_t *olen,
		      const char **close, size_t *clen)
{
	const char *s = c->s;
	trim(s, &from, &to);
	size_t a = from;
	while (a < to && !space(s[a]))
		a++;
	size_t b = a;
	while (b < to && space(s[b]))
		b++;
	size_t e = b;
	while (e < to && !space(s[e]))
		e++;
	bool ok = a > from && b < to && e == to && a - from <= MAX_DELIM &&
		  to - b <= MAX_DELIM && !memchr(s + from, '=', a - from) &&
		  !memchr(s + b, '=', to - b);
	if (!ok)
		return fail(c, t->line, t->col, "invalid delimiter change '%.*s'",
			    (int)(to - from), s + from);
	*open = s + from;
	*olen = a - from;
	*close = s + b;
	*clen = to - b;
	return 0;
}

static void push_tok(struct compiler *c, const struct tok *t)
{
	if (c->ntoks == c->captoks) {
		c->captoks = c->captoks ? c->captoks * 2 : 64;
		c->toks = xrealloc(c->toks, c->captoks * sizeof *c->toks);
	}
	c->toks[c->ntoks++] = *t;
}

/* Pass 1: tags, their names and their pairs. */
static int scan(struct compiler *c)
{
	const char *s = c->s;
	size_t len = c->len;
	const char *open = "{{", *close = "}}";
	size_t olen = 2, clen = 2;
	size_t stack[MAX_NESTING];
	size_t depth = 0;
	size_t pos = 0;

	for (;;) {
		size_t at = find(s, len, pos, open, olen);
		if (at == NPOS)
			break;
		struct tok t;
		memset(&t, 0, sizeof t);
		t.begin = at;
		t.match = NPOS;
		where(c, at, &t.line, &t.col);
		size_t p = at + olen;
		char sigil = p < len ? s[p] : '\0';
		size_t from = p + 1, to;

		switch (sigil) {
		case '!': t.kind = K_COMMENT; break;
		case '=': t.kind = K_DELIM; break;
		case '{': t.kind = K_RAW; break;
		case '&': t.kind = K_RAW; break;
		case '#': t.kind = K_SECTION; break;
		case '^': t.kind = K_INVERTED; break;
		case '/': t.kind = K_CLOSE; break;
		case '>': t.kind = K_PARTIAL; break;
		case '<': t.kind = K_PARENT; break;
		case '$': t.kind = K_BLOCK; break;
		default:
			t.kind = K_VAR;
			from = p;
			break;
		}

		if (sigil == '{' || sigil == '=') {
			/* The tag ends at "}" or "=" followed by the close
			 * delimiter. */
			char pat[MAX_DELIM + 2];
			pat[0] = sigil == '{' ? '}' : '=';
			memcpy(pat + 1, close, clen);
			size_t q = find(s, len, from, pat, clen + 1);
			if (q == NPOS)
				return fail(c, t.line, t.col,
					    "unclosed tag, expected '%c%.*s'", pat[0],
					    (int)clen, close);
			to = q;
			t.end = q + 1 + clen;
		} else {
			size_t q = find(s, len, from, close, clen);
			if (q == NPOS)
				return fail(c, t.line, t.col,
					    "unclosed tag, expected '%.*s'", (int)clen,
					    close);
			to = q;
			t.end = q + clen;
		}
		pos = t.end;

		if (t.kind == K_COMMENT) {
			push_tok(c, &t);
			continue;
		}
		if (t.kind == K_DELIM) {
			int rc = set_delims(c, &t, from, to, &open, &olen, &close,
					    &clen);
			if (rc < 0)
				return rc;
			push_tok(c, &t);
			continue;
		}

		trim(s, &from, &to);
		if ((t.kind == K_PARTIAL || t.kind == K_PARENT) && from < to &&
		    s[from] == '*') {
			t.dynamic = true;
			from++;
			trim(s, &from, &to);
		}
		t.name = from;
		t.nlen = to - from;
		bool dotted = t.kind == K_VAR || t.kind == K_RAW ||
			      t.kind == K_SECTION || t.kind == K_INVERTED ||
			      t.dynamic;
		int rc = check_name(c, &t, dotted);
		if (rc < 0)
			return rc;

		switch (t.kind) {
		case K_SECTION:
		case K_INVERTED:
		case K_PARENT:
		case K_BLOCK:
			if (depth == MAX_NESTING)
				return fail(c, t.line, t.col,
					    "sections nested more than %d deep",
					    MAX_NESTING);
			t.in_parent = t.kind == K_BLOCK && depth > 0 &&
				      c->toks[stack[depth - 1]].kind == K_PARENT;
			stack[depth++] = c->ntoks;
			break;
		case K_CLOSE: {
			if (depth == 0)
				return fail(c, t.line, t.col,
					    "closing tag '%.*s' without an open section",
					    (int)t.nlen, s + t.name);
			struct tok *o = &c->toks[stack[depth - 1]];
			if (!same_name(c, o, &t))
				return fail(c, t.line, t.col,
					    "closing tag '%.*s' does not match %s '%.*s'",
					    (int)t.nlen, s + t.name, kind_word(o->kind),
					    (int)o->nlen, s + o->name);
			o->match = c->ntoks;
			t.match = stack[--depth];
			break;
		}
		default:
			break;
		}
		push_tok(c, &t);
	}
	if (depth > 0) {
		const struct tok *o = &c->toks[stack[depth - 1]];
		return fail(c, o->line, o->col, "unclosed %s '%.*s'",
			    kind_word(o->kind), (int)o->nlen, c->s + o->name);
	}
	return 0;
}

/* Pass 2: which tags take their line's whitespace with them. */
static void standalone(struct compiler *c)
{
	const char *s = c->s;
	for (size_t i = 0; i < c->ntoks; i++) {
		struct tok *t = &c->toks[i];
		size_t a = t->begin;
		while (a > 0 && blank(s[a - 1]))
			a--;
		t->lclear = a == 0 || s[a - 1] == '\n';
		t->ws = a;
		size_t b = t->end;
		while (b < c->len && blank(s[b]))
			b++;
		t->rclear = true;
		if (b == c->len)
			t->eol = b;
		else if (s[b] == '\n')
			t->eol = b + 1;
		else if (s[b] == '\r' && b + 1 < c->len && s[b + 1] == '\n')
			t->eol = b + 2;
		else
			t->rclear = false;
		t->lo = t->begin;
		t->hi = t->end;
	}
	for (size_t i = 0; i < c->ntoks; i++) {
		struct tok *t = &c->toks[i];
		const struct tok *o = t->kind == K_CLOSE ? &c->toks[t->match] : NULL;
		if (t->kind == K_VAR || t->kind == K_RAW) {
			continue;
		} else if (t->kind == K_PARENT) {
			/* What follows a parent's start tag and precedes its
			 * end tag is ignored, so only the outer sides count. */
			if (t->lclear && c->toks[t->match].rclear)
				t->lo = t->ws;
		} else if (o && o->kind == K_PARENT) {
			if (o->lclear && t->rclear)
				t->hi = t->eol;
		} else if (t->kind == K_BLOCK && t->in_parent) {
			if (t->rclear)
				t->hi = t->eol;
		} else if (o && o->kind == K_BLOCK && o->in_parent) {
			if (t->lclear)
				t->lo = t->ws;
		} else if (t->lclear && t->rclear) {
			t->lo = t->ws;
			t->hi = t->eol;
		}
	}
}

/* Skips, at a line start p, the intrinsic indentation of each block
 * around it (outermost first), not going past limit. */
static size_t dedent(const struct compiler *c, size_t p, size_t limit)
{
	for (size_t i = 0; i < c->ndedent; i++) {
		const struct part *d = &c->dedent[i];
		if (d->len && limit - p >= d->len &&
		    memcmp(c->s + p, c->s + d->off, d->len) == 0)
			p += d->len;
	}
	return p;
}

static struct node *add_node(struct compiler *c, enum kind kind)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->nodes = xrealloc(c->nodes, c->cap * sizeof *c->nodes);
	}
	struct node *nd = &c->nodes[c->n++];
	memset(nd, 0, sizeof *nd);
	nd->kind = (unsigned char)kind;
	nd->next = (uint32_t)c->n;
	return nd;
}

static void add_text(struct compiler *c, size_t off, size_t len)
{
	if (!len)
		return;
	/* Pieces left after dedenting join up when they touch. */
	if (c->n) {
		struct node *last = &c->nodes[c->n - 1];
		if (last->kind == K_TEXT && last->off + last->len == off) {
			last->len += (uint32_t)len;
			return;
		}
	}
	struct node *nd = add_node(c, K_TEXT);
	nd->off = (uint32_t)off;
	nd->len = (uint32_t)len;
}

static void emit_text(struct compiler *c, size_t from, size_t to)
{
	if (from >= to)
		return;
	if (!c->ndedent) {
		add_text(c, from, to - from);
		return;
	}
	size_t p = from;
	while (p < to) {
		if (p == 0 || c->s[p - 1] == '\n')
			p = dedent(c, p, to);
		const char *nl = memchr(c->s + p, '\n', to - p);
		size_t e = nl ? (size_t)(nl - c->s) + 1 : to;
		add_text(c, p, e - p);
		p = e;
	}
}

static void set_name(struct compiler *c, struct node *nd, const struct tok *t,
		     bool dotted)
{
	nd->off = (uint32_t)t->name;
	nd->len = (uint32_t)t->nlen;
	nd->line = t->line;
	nd->col = t->col;
	if (t->dynamic)
		nd->flags |= F_DYNAMIC;
	if (!dotted || (t->nlen == 1 && c->s[t->name] == '.'))
		return;
	nd->part = (uint32_t)c->nparts;
	size_t start = t->name, end = t->name + t->nlen;
	for (size_t i = start; i <= end; i++) {
		if (i < end && c->s[i] != '.')
			continue;
		if (c->nparts == c->capparts) {
			c->capparts = c->capparts ? c->capparts * 2 : 32;
			c->parts = xrealloc(c->parts, c->capparts * sizeof *c->parts);
		}
		c->parts[c->nparts].off = (uint32_t)start;
		c->parts[c->nparts].len = (uint32_t)(i - start);
		c->nparts++;
		nd->nparts++;
		start = i + 1;
	}
}

/* The blanks in [from, to) that start a line, less the indentation of the
 * blocks around them. */
static void set_indent(struct compiler *c, struct node *nd, size_t from,
		       size_t to)
{
	size_t p = dedent(c, from, to);
	nd->ind_off = (uint32_t)p;
	nd->ind_len = (uint32_t)(to - p);
}

/* Pass 3: the node array. */
static void build(struct compiler *c)
{
	struct open {
		size_t node;
		bool dedents;
	} stack[MAX_NESTING];
	size_t depth = 0;
	size_t prev = 0; /* end of what the last tag took */

	for (size_t i = 0; i < c->ntoks; i++) {
		const struct tok *t = &c->toks[i];
		/* Inside a parent only argument blocks matter. */
		bool filler = depth > 0 && c->nodes[stack[depth - 1].node].kind == K_PARENT;
		if (!filler)
			emit_text(c, prev, t->lo);
		prev = t->hi;
		struct node *nd;
		switch (t->kind) {
		case K_COMMENT:
		case K_DELIM:
			break;
		case K_VAR:
		case K_RAW:
			if (filler)
				break;
			nd = add_node(c, t->kind);
			set_name(c, nd, t, true);
			break;
		case K_PARTIAL:
			if (filler)
				break;
			nd = add_node(c, K_PARTIAL);
			set_name(c, nd, t, t->dynamic);
			if (t->lclear && t->rclear) {
				nd->flags |= F_STANDALONE;
				set_indent(c, nd, t->ws, t->begin);
			}
			break;
		case K_SECTION:
		case K_INVERTED:
		case K_PARENT:
		case K_BLOCK: {
			if (filler && t->kind != K_BLOCK) {
				/* Skip it and everything in it. */
				i = t->match;
				prev = c->toks[i].hi;
				break;
			}
			const struct tok *e = &c->toks[t->match];
			stack[depth].node = c->n;
			stack[depth].dedents = false;
			nd = add_node(c, t->kind);
			set_name(c, nd, t, t->kind == K_SECTION ||
						   t->kind == K_INVERTED || t->dynamic);
			if (t->kind == K_PARENT && t->lclear && e->rclear) {
				nd->flags |= F_STANDALONE;
				set_indent(c, nd, t->ws, t->begin);
			}
			if (t->kind == K_BLOCK) {
				bool pair = t->in_parent || (t->lclear && e->rclear);
				if (pair && !t->in_parent)
					nd->flags |= F_STANDALONE;
				if (pair && t->rclear) {
					/* Intrinsic indentation: the blanks that
					 * start the next line. */
					size_t p = t->eol < c->len ? dedent(c, t->eol, c->len)
								   : c->len;
					size_t q = p;
					while (q < c->len && blank(c->s[q]))
						q++;
					nd->flags |= F_INTRINSIC;
					nd->ind_off = (uint32_t)p;
					nd->ind_len = (uint32_t)(q - p);
					c->dedent[c->ndedent].off = (uint32_t)p;
					c->dedent[c->ndedent].len = (uint32_t)(q - p);
					c->ndedent++;
					stack[depth].dedents = true;
				} else if (pair) {
					set_indent(c, nd, t->ws, t->begin);
				}
			}
			depth++;
			break;
		}
		case K_CLOSE:
			depth--;
			c->nodes[stack[depth].node].next = (uint32_t)c->n;
			if (stack[depth].dedents)
				c->ndedent--;
			break;
		case K_TEXT:
			break;
		}
	}
	emit_text(c, prev, c->len);
}

int template_compile(template **out, const char *text, size_t len,
		     const char *name, gen_err *err)
{
	struct compiler c;
	int rc;
	*out = NULL;
	if (!name)
		name = "";
	memset(&c, 0, sizeof c);
	c.file = name;
	c.err = err;
	c.line = 1;
	c.col = 1;
	/* Nodes hold 32-bit offsets. */
	if (len >= UINT32_MAX)
		return err_set(err, GEN_EPARSE, name, 0, 0, "template too large");

	template *t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name);
	t->src = xmalloc(len + 1);
	if (len)
		memcpy(t->src, text, len);
	t->src[len] = '\0';
	t->len = len;
	c.s = t->src;
	c.len = len;

	rc = scan(&c);
	if (rc < 0)
		goto out;
	standalone(&c);
	build(&c);
	t->nodes = c.nodes;
	t->n = c.n;
	t->parts = c.parts;
	t->nparts = c.nparts;
	c.nodes = NULL;
	c.parts = NULL;
	*out = t;
	t = NULL;
out:
	free(c.toks);
	free(c.nodes);
	free(c.parts);
	template_free(t);
	return rc;
}

static int read_all(const char *path, buf *out, gen_err *err)
{
	if (buf_read_file(out, path) < 0)
		return err_set(err, GEN_EIO, path, 0, 0, "cannot read: %s",
			       strerror(errno));
	return 0;
}

int template_load_file(template **out, const char *path, gen_err *err)
{
	buf text = BUF_INIT;
	*out = NULL;
	int rc = read_all(path, &text, err);
	if (rc == 0)
		rc = template_compile(out, text.ptr, text.len, path, err);
	buf_release(&text);
	return rc;
}

void template_free(template *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->src);
	free(t->nodes);
	free(t->parts);
	free(t);
}

const char *template_name(const template *t)
{
	return t->name;
}

/* ---- partials ----------------------------------------------------- */

struct pentry {
	char *name; /* NULL for a free slot */
	size_t len;
	uint64_t hash;
	template *t;
};

struct template_partials {
	struct pentry *tab;
	size_t cap; /* a power of two */
	size_t n;
};

static uint64_t hash(const char *s, size_t len)
{
	return buf_hash64(s, len, 0);
}

template_partials *template_partials_new(void)
{
	template_partials *p = xcalloc(1, sizeof *p);
	p->cap = 16;
	p->tab = xcalloc(p->cap, sizeof *p->tab);
	return p;
}

void template_partials_free(template_partials *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++) {
		free(p->tab[i].name);
		template_free(p->tab[i].t);
	}
	free(p->tab);
	free(p);
}

static struct pentry *slot(const template_partials *p, const char *name,
			   size_t len, uint64_t h)
{
	size_t mask = p->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct pentry *e = &p->tab[i];
		if (!e->name || (e->hash == h && e->len == len &&
				 memcmp(e->name, name, len) == 0))
			return e;
	}
}

void template_partials_put(template_partials *p, const char *name, template *t)
{
	size_t len = strlen(name);
	uint64_t h = hash(name, len);
	if ((p->n + 1) * 4 > p->cap * 3) {
		struct pentry *old = p->tab;
		size_t oldcap = p->cap;
		p->cap *= 2;
		p->tab = xcalloc(p->cap, sizeof *p->tab);
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].name)
				*slot(p, old[i].name, old[i].len, old[i].hash) = old[i];
		free(old);
	}
	struct pentry *e = slot(p, name, len, h);
	if (e->name) {
		template_free(e->t);
	} else {
		e->name = xstrndup(name, len);
		e->len = len;
		e->hash = h;
		p->n++;
	}
	e->t = t;
}

int template_partials_add(template_partials *p, const char *name,
			  const char *text, size_t len, gen_err *err)
{
	template *t;
	int rc = template_compile(&t, text, len, name, err);
	if (rc < 0)
		return rc;
	template_partials_put(p, name, t);
	return 0;
}

const template *template_partials_get(const template_partials *p,
				      const char *name, size_t len)
{
	if (!p)
		return NULL;
	const struct pentry *e = slot(p, name, len, hash(name, len));
	return e->name ? e->t : NULL;
}

size_t template_partials_check(const template_partials *p, diag_list *diags)
{
	size_t missing = 0;
	for (size_t i = 0; p && i < p->cap; i++) {
		const template *t = p->tab[i].name ? p->tab[i].t : NULL;
		for (size_t j = 0; t && j < t->n; j++) {
			const struct node *nd = &t->nodes[j];
			if ((nd->kind != K_PARTIAL && nd->kind != K_PARENT) ||
			    (nd->flags & F_DYNAMIC) ||
			    template_partials_get(p, t->src + nd->off, nd->len))
				continue;
			missing++;
			diag_add(diags, DIAG_WARNING, t->name, nd->line, nd->col,
				 "%s '%.*s' is not in the theme (no layouts/%.*s.mustache): "
				 "it shows nothing",
				 nd->kind == K_PARENT ? "parent" : "partial", (int)nd->len,
				 t->src + nd->off, (int)nd->len, t->src + nd->off);
		}
	}
	return missing;
}

size_t template_partials_count(const template_partials *p)
{
	return p ? p->n : 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads dir/rel (rel "" at the top) into p. Entries are sorted so that the
 * first error reported does not depend on the file system's order. */
static int load_dir(template_partials *p, const char *dir, buf *rel, int depth,
		    gen_err *err)
{
	buf path = BUF_INIT;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	DIR *d = NULL;

	buf_puts(&path, dir);
	if (rel->len) {
		buf_putc(&path, '/');
		buf_put(&path, rel->ptr, rel->len);
	}
	if (depth > MAX_DIR_DEPTH) {
		rc = err_set(err, GEN_EIO, path.ptr, 0, 0, "folders nested too deeply");
		goto out;
	}
	d = opendir(path.ptr);
	if (!d) {
		rc = err_set(err, GEN_EIO, path.ptr, 0, 0, "cannot open folder: %s",
			     strerror(errno));
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (n)
		qsort(names, n, sizeof *names, cmp_names);

	size_t plen = path.len, rlen = rel->len;
	for (size_t i = 0; i < n && rc == 0; i++) {
		buf_truncate(&path, plen);
		buf_putc(&path, '/');
		buf_puts(&path, names[i]);
		struct stat st;
		if (stat(path.ptr, &st) < 0) {
			rc = err_set(err, GEN_EIO, path.ptr, 0, 0, "cannot read: %s",
				     strerror(errno));
			break;
		}
		buf_truncate(rel, rlen);
		if (rlen)
			buf_putc(rel, '/');
		buf_puts(rel, names[i]);
		if (S_ISDIR(st.st_mode)) {
			rc = load_dir(p, dir, rel, depth + 1, err);
			continue;
		}
		static const char ext[] = ".mustache";
		size_t nl = strlen(names[i]), el = sizeof ext - 1;
		if (!S_ISREG(st.st_mode) || nl <= el ||
		    strcmp(names[i] + nl - el, ext) != 0)
			continue;
		template *t;
		rc = template_load_file(&t, path.ptr, err);
		if (rc < 0)
			break;
		buf_truncate(rel, rel->len - el);
		template_partials_put(p, rel->ptr, t);
	}
	buf_truncate(rel, rlen);
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_release(&path);
	return rc;
}

int template_partials_load_dir(template_partials *p, const char *dir,
			       gen_err *err)
{
	buf rel = BUF_INIT, top = BUF_INIT;
	/* "dir/" would make paths in errors read "dir//x.mustache". */
	buf_puts(&top, dir);
	while (top.len > 1 && top.ptr[top.len - 1] == '/')
		buf_truncate(&top, top.len - 1);
	int rc = load_dir(p, top.ptr, &rel, 0, err);
	buf_release(&rel);
	buf_release(&top);
	return rc;
}

/* ---- rendering ---------------------------------------------------- */

/* The indentation in effect: a chain of pieces, outermost last. */
struct indent {
	const char *s;
	size_t len;
	const struct indent *up;
};

/* The arguments of the parents being rendered, innermost first. */
struct frame {
	const template *t;
	const struct node *parent;
	const struct frame *up;
};

struct render {
	buf *out;
	const template_partials *partials;
	gen_err *err;
	const value **ctx;
	size_t nctx, capctx;
	const value *ctx_inline[32];
	bool bol; /* the last template text written ended a line */
	int depth;
	const template_stream *st; /* template_render_stream, or NULL */
	int flushed;               /* the first failed flush's code */
};

/* Hands what was rendered so far to the stream once it is worth a write,
 * so a page of any size takes a bounded buffer. */
static void maybe_flush(struct render *r, size_t at_least)
{
	if (!r->st || r->flushed || r->out->len < at_least)
		return;
	r->flushed = r->st->flush(r->st->ctx, r->out->ptr, r->out->len, r->err);
	buf_clear(r->out);
}

static void put_indent(struct render *r, const struct indent *ind)
{
	if (ind->up)
		put_indent(r, ind->up);
	buf_put(r->out, ind->s, ind->len);
}

static void put_text(struct render *r, const struct indent *ind,
		     const char *s, size_t len)
{
	if (!ind) {
		buf_put(r->out, s, len);
		r->bol = s[len - 1] == '\n';
		return;
	}
	while (len) {
		const char *nl = memchr(s, '\n', len);
		size_t n = nl ? (size_t)(nl - s) + 1 : len;
		/* Empty lines stay empty, as in mustache.js: no trailing
		 * blanks in the output. */
		bool empty = nl && (n == 1 || (n == 2 && s[0] == '\r'));
		if (r->bol && !empty)
			put_indent(r, ind);
		buf_put(r->out, s, n);
		r->bol = nl != NULL;
		s += n;
		len -= n;
	}
}

static void push_ctx(struct render *r, const value *v)
{
	if (r->nctx == r->capctx) {
		size_t cap = r->capctx * 2;
		const value **c = xmalloc(cap * sizeof *c);
		memcpy(c, r->ctx, r->nctx * sizeof *c);
		if (r->ctx != r->ctx_inline)
			free(r->ctx);
		r->ctx = c;
		r->capctx = cap;
	}
	r->ctx[r->nctx++] = v;
}

/* Resolves a name: the first part in the nearest context that is a table
 * holding it, the other parts each in the one before. */
static const value *lookup(const struct render *r, const template *t,
			   const struct node *nd)
{
	if (nd->nparts == 0)
		return r->nctx ? r->ctx[r->nctx - 1] : NULL;
	const struct part *pt = &t->parts[nd->part];
	const value *v = NULL;
	for (size_t i = r->nctx; i-- > 0;) {
		const value *c = r->ctx[i];
		if (value_type_of(c) != VALUE_TABLE)
			continue;
		v = value_getn(c, t->src + pt[0].off, pt[0].len);
		if (v)
			break;
	}
	for (uint32_t k = 1; v && k < nd->nparts; k++)
		v = value_type_of(v) == VALUE_TABLE
			    ? value_getn(v, t->src + pt[k].off, pt[k].len)
			    : NULL;
	return v;
}

static bool truthy(const value *v)
{
	size_t n;
	switch (value_type_of(v)) {
	case VALUE_NULL: return false;
	case VALUE_BOOL: return value_bool(v);
	case VALUE_ARRAY: return value_count(v) > 0;
	case VALUE_STRING:
		value_string(v, &n);
		return n > 0;
	default: return true;
	}
}

/* The shortest of %.15g, %.16g, %.17g that reads back as f. */
static void put_float(buf *out, double f)
{
	char tmp[40];
	if (isnan(f)) {
		buf_puts(out, "nan");
		return;
	}
	if (isinf(f)) {
		buf_puts(out, f < 0 ? "-inf" : "inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	buf_puts(out, tmp);
}

static void put_value(struct render *r, const value *v, bool escape)
{
	size_t n;
	const char *s;
	char tmp[32];
	switch (value_type_of(v)) {
	case VALUE_STRING:
	case VALUE_DATETIME:
	case VALUE_DATETIME_LOCAL:
	case VALUE_DATE_LOCAL:
	case VALUE_TIME_LOCAL:
		s = value_string(v, &n);
		if (r->st && r->st->late && (value_flags(v) & TEMPLATE_LATE))
			r->st->late(r->st->ctx, r->out, s, n, escape);
		else if (escape)
			buf_put_html(r->out, s, n);
		else
			buf_put(r->out, s, n);
		maybe_flush(r, TEMPLATE_FLUSH);
		break;
	case VALUE_INTEGER:
		snprintf(tmp, sizeof tmp, "%" PRId64, value_integer(v));
		buf_puts(r->out, tmp);
		break;
	case VALUE_FLOAT:
		put_float(r->out, value_float(v));
		break;
	case VALUE_BOOL:
		buf_puts(r->out, value_bool(v) ? "true" : "false");
		break;
	default:
		break;
	}
}

/* The template a partial or parent tag names, or NULL. */
static const template *find_partial(const struct render *r, const template *t,
				    const struct node *nd)
{
	if (!(nd->flags & F_DYNAMIC))
		return template_partials_get(r->partials, t->src + nd->off, nd->len);
	const value *v = lookup(r, t, nd);
	if (value_type_of(v) != VALUE_STRING)
		return NULL;
	size_t len;
	const char *name = value_string(v, &len);
	return template_partials_get(r->partials, name, len);
}

/* The argument overriding block nd: the outermost parent's wins. */
static const struct node *find_argument(const template *t, const struct node *nd,
					const struct frame *frames,
					const template **in)
{
	const struct node *hit = NULL;
	for (const struct frame *f = frames; f; f = f->up) {
		const struct node *nodes = f->t->nodes;
		size_t end = f->parent->next;
		for (size_t j = (size_t)(f->parent - nodes) + 1; j < end;
		     j = nodes[j].next) {
			const struct node *a = &nodes[j];
			if (a->len == nd->len &&
			    memcmp(f->t->src + a->off, t->src + nd->off, a->len) == 0) {
				hit = a;
				*in = f->t;
			}
		}
	}
	return hit;
}

static int render_nodes(struct render *r, const template *t, size_t from,
			size_t to, const struct indent *ind,
			const struct frame *frames);

/* A partial or parent: the other template, indented when the tag stood
 * alone, with the parent's arguments on top of the frames. */
static int render_partial(struct render *r, const template *t,
			  const struct node *nd, const struct indent *ind,
			  const struct frame *frames)
{
	const template *p = find_partial(r, t, nd);
	if (!p)
		return 0;
	if (r->depth >= TEMPLATE_MAX_DEPTH)
		return err_set(r->err, GEN_ECONTENT, t->name, nd->line, nd->col,
			       "%s '%s%.*s' nested more than %d deep",
			       nd->kind == K_PARENT ? "parent" : "partial",
			       nd->flags & F_DYNAMIC ? "*" : "", (int)nd->len,
			       t->src + nd->off, TEMPLATE_MAX_DEPTH);
	struct indent sub = { t->src + nd->ind_off, nd->ind_len, ind };
	const struct indent *pi = NULL;
	if (nd->flags & F_STANDALONE)
		pi = nd->ind_len ? &sub : ind;
	struct frame f = { t, nd, frames };
	r->depth++;
	int rc = render_nodes(r, p, 0, p->n, pi, nd->kind == K_PARENT ? &f : frames);
	r->depth--;
	return rc;
}

static int render_block(struct render *r, const template *t,
			const struct node *nd, const struct indent *ind,
			const struct frame *frames)
{
	const template *at = NULL;
	const struct node *arg = find_argument(t, nd, frames, &at);
	struct indent sub = { t->src + nd->ind_off, nd->ind_len, ind };
	const struct indent *bi = nd->ind_len ? &sub : ind;
	if (arg) {
		/* Content from another template: indent it like a partial
		 * when the block stands alone, else leave it be. */
		size_t i = (size_t)(arg - at->nodes);
		return render_nodes(r, at, i + 1, arg->next,
				    nd->flags & F_STANDALONE ? bi : NULL, frames);
	}
	/* The default content is this template's own text, which lost its
	 * intrinsic indentation when compiled. */
	size_t i = (size_t)(nd - t->nodes);
	return render_nodes(r, t, i + 1, nd->next,
			    nd->flags & F_INTRINSIC ? bi : ind, frames);
}

static int render_nodes(struct render *r, const template *t, size_t from,
			size_t to, const struct indent *ind,
			const struct frame *frames)
{
	int rc = 0;
	for (size_t i = from; i < to && rc == 0; i = t->nodes[i].next) {
		const struct node *nd = &t->nodes[i];
		const value *v;
		switch ((enum kind)nd->kind) {
		case K_TEXT:
			put_text(r, ind, t->src + nd->off, nd->len);
			maybe_flush(r, TEMPLATE_FLUSH);
			break;
		case K_VAR:
		case K_RAW:
			if (r->bol && ind)
				put_indent(r, ind);
			r->bol = false;
			put_value(r, lookup(r, t, nd), nd->kind == K_VAR);
			break;
		case K_SECTION:
			v = lookup(r, t, nd);
			if (!truthy(v))
				break;
			if (value_type_of(v) == VALUE_ARRAY) {
				size_t n = value_count(v);
				for (size_t k = 0; k < n && rc == 0; k++) {
					push_ctx(r, value_at(v, k));
					rc = render_nodes(r, t, i + 1, nd->next, ind, frames);
					r->nctx--;
				}
			} else {
				push_ctx(r, v);
				rc = render_nodes(r, t, i + 1, nd->next, ind, frames);
				r->nctx--;
			}
			break;
		case K_INVERTED:
			if (!truthy(lookup(r, t, nd)))
				rc = render_nodes(r, t, i + 1, nd->next, ind, frames);
			break;
		case K_PARTIAL:
		case K_PARENT:
			rc = render_partial(r, t, nd, ind, frames);
			break;
		case K_BLOCK:
			rc = render_block(r, t, nd, ind, frames);
			break;
		default:
			break;
		}
		if (r->flushed)
			rc = r->flushed;
	}
	return rc;
}

static int render_with(buf *out, const template *t, const value *data,
		       const template_partials *partials, const template_stream *st,
		       gen_err *err)
{
	struct render r;
	memset(&r, 0, sizeof r);
	r.out = out;
	r.partials = partials;
	r.err = err;
	r.ctx = r.ctx_inline;
	r.capctx = sizeof r.ctx_inline / sizeof r.ctx_inline[0];
	r.bol = true;
	r.st = st;
	if (data)
		push_ctx(&r, data);
	int rc = render_nodes(&r, t, 0, t->n, NULL, NULL);
	if (rc == 0)
		maybe_flush(&r, 0);
	if (rc == 0)
		rc = r.flushed;
	if (r.ctx != r.ctx_inline)
		free(r.ctx);
	return rc;
}

int template_render(buf *out, const template *t, const value *data,
		    const template_partials *partials, gen_err *err)
{
	return render_with(out, t, data, partials, NULL, err);
}

int template_render_stream(const template *t, const value *data,
			   const template_partials *partials, const template_stream *st,
			   gen_err *err)
{
	buf out = BUF_INIT;
	int rc = render_with(&out, t, data, partials, st, err);
	buf_release(&out);
	return rc;
}
