/* Unit tests for filter: the Lua API on real documents (node types and
 * fields, traversal order, replace/splice/delete, constructors, doc.meta,
 * doc:tag, positions), the sandbox (each forbidden library, the
 * instruction budget, the memory cap, syntax and runtime errors, each with
 * its message) and that nothing leaks from one document to the next. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "document.h"
#include "filter.h"
#include "tap.h"
#include "xalloc.h"

static config cfg;

static const char *const site_toml =
	"title = \"Test\"\n"
	"filters = [\"lua/t.lua\"]\n"
	"[params]\n"
	"zebra = 1\n"
	"alpha = 2\n"
	"[themes.feedback]\n"
	"title = \"Feedbacklus\"\n"
	"description = \"Signalen opvangen.\"\n"
	"patterns = [\"feedback*\"]\n"
	"[themes.grenzen]\n"
	"title = \"Grenzen stellen\"\n"
	"description = \"Nee zeggen.\"\n"
	"patterns = [\"nee (te) zeggen\", \"grenzen\"]\n"
	"[filter]\n"
	"instructions = 200000\n"
	"memory = 2097152\n";

/* A module every test can require. */
static const char *const util_lua =
	"local M = {}\n"
	"function M.twice(s) return s .. s end\n"
	"function M.where() return doc.path end\n"
	"function M.retitle(t) doc.meta.title = t end\n"
	"return M\n";

#define FRONT "+++\ntitle = \"Artikel\"\nkind = \"story\"\nthemes = [\"grenzen\"]\n+++\n"

typedef struct result {
	int rc;
	document d;
	buf html;
	char err[2048];
	diag_list diags;
} result;

/* Runs filter lua on FRONT + body as content/x.md. */
static void run_on(result *r, const char *lua, const char *path, const char *article)
{
	gen_err e;
	memset(r, 0, sizeof *r);
	buf_init(&r->html);
	err_clear(&e);
	filter_set *fs = filter_set_new();
	filter_set_add(fs, "lua/util.lua", util_lua, strlen(util_lua), false, NULL);
	r->rc = filter_set_add(fs, "lua/t.lua", lua, strlen(lua), true, &e);
	source_file f;
	memset(&f, 0, sizeof f);
	f.path = xstrdup(path);
	f.data = xstrdup(article);
	f.len = strlen(article);
	if (r->rc == 0)
		r->rc = document_parse(&r->d, &f, &cfg, true, &r->diags, &e);
	if (r->rc == 0) {
		r->rc = filter_run(fs, &r->d, &cfg, &r->diags, &e);
		if (r->rc == 0)
			markdown_render_html(&r->html, r->d.md, NULL, NULL);
	}
	if (r->rc < 0)
		err_format(&e, r->err, sizeof r->err);
	free(f.path);
	free(f.data);
	filter_set_free(fs);
}

static void run(result *r, const char *lua, const char *body)
{
	buf a = BUF_INIT;
	buf_puts(&a, FRONT);
	buf_puts(&a, body);
	run_on(r, lua, "content/x.md", a.ptr);
	buf_release(&a);
}

static void done(result *r)
{
	document_release(&r->d);
	buf_release(&r->html);
	diag_release(&r->diags);
}

/* The HTML a filter makes of body, or "ERROR: message". Caller frees. */
static char *html(const char *lua, const char *body)
{
	result r;
	run(&r, lua, body);
	buf out = BUF_INIT;
	if (r.rc < 0)
		buf_printf(&out, "ERROR: %s", r.err);
	else
		buf_put(&out, r.html.ptr, r.html.len);
	done(&r);
	return buf_detach(&out);
}

/* The error a filter gives on body ("" when none). Caller frees. */
static char *error_of(const char *lua, const char *body)
{
	result r;
	run(&r, lua, body);
	char *e = xstrdup(r.rc < 0 ? r.err : "");
	done(&r);
	return e;
}

static void check_html(const char *lua, const char *body, const char *want, const char *name)
{
	char *got = html(lua, body);
	is_str(got, want, name);
	free(got);
}

static void check_contains(const char *lua, const char *body, const char *want, const char *name)
{
	char *got = html(lua, body);
	if (!ok(strstr(got, want) != NULL, "%s", name))
		diag("'%s' not in:\n%s", want, got);
	free(got);
}

static void check_error(const char *lua, const char *body, const char *want, const char *name)
{
	char *got = error_of(lua, body);
	is_str(got, want, name);
	free(got);
}

/* doc.meta.out after the filter, as a string. */
static char *out_of(const char *lua, const char *body)
{
	result r;
	run(&r, lua, body);
	char *s;
	if (r.rc < 0) {
		buf b = BUF_INIT;
		buf_printf(&b, "ERROR: %s", r.err);
		s = buf_detach(&b);
	} else {
		s = xstrdup(value_string(value_get(r.d.fm.meta, "out"), NULL));
	}
	done(&r);
	return s;
}

static void check_out(const char *lua, const char *body, const char *want, const char *name)
{
	char *got = out_of(lua, body);
	is_str(got, want, name);
	free(got);
}

static void test_traversal(void)
{
	/* Every node type the parser makes, in the order filters see them. */
	const char *lua =
		"local seen = {}\n"
		"return {\n"
		"  Inline = function(n) seen[#seen + 1] = n.type end,\n"
		"  Block = function(n) seen[#seen + 1] = n.type end,\n"
		"  Document = function(n) seen[#seen + 1] = n.type\n"
		"    doc.meta.out = table.concat(seen, ' ') end,\n"
		"}\n";
	const char *body =
		"# Kop\n\n"
		"Een *a* **b** `c` [d](e.md) ![f](g.png) ~~h~~ <i>x</i>\\\nregel\n\n"
		"> citaat\n\n"
		"- [x] taak\n\n"
		"```lua\ncode\n```\n\n"
		"<div>ruw</div>\n\n"
		"---\n\n"
		"| a |\n|---|\n| b |\n\n"
		"Noot[^1].\n\n[^1]: De noot.\n";
	check_out(lua, body,
		  "Text Heading Text Text Emph Text Text Strong Text Code Text Text Link Text "
		  "Text Image Text Text Strikethrough Text HtmlInline Text HtmlInline "
		  "LineBreak Text Paragraph Text Paragraph BlockQuote Text Paragraph Item List "
		  "CodeBlock HtmlBlock ThematicBreak Text TableCell TableRow Text TableCell "
		  "TableRow Table Text FootnoteReference Text Paragraph Text Paragraph "
		  "FootnoteDefinition Document",
		  "every node type, children before parents, the Document last");

	check_out("local s = {}\n"
		  "return {\n"
		  "  Paragraph = function(n) s[#s + 1] = 'P' end,\n"
		  "  Block = function(n) s[#s + 1] = n.type end,\n"
		  "  Text = function(n) s[#s + 1] = 't' end,\n"
		  "  Inline = function(n) s[#s + 1] = 'i' end,\n"
		  "  Document = function() doc.meta.out = table.concat(s) end,\n"
		  "}\n",
		  "# Kop\n\nEen *b*.\n",
		  "tHeadingttitP", "a type's own function goes before Block and Inline");

	check_out("local s = {}\n"
		  "return {\n"
		  "  Text = function(n)\n"
		  "    s[#s + 1] = n.literal\n"
		  "    if n.literal == 'a' then return { gen.Text('x'), gen.Text('y') } end\n"
		  "  end,\n"
		  "  Document = function() doc.meta.out = table.concat(s, ',') end,\n"
		  "}\n",
		  "*a* b\n",
		  "a, b", "nodes a function puts in are not walked again");

	check_out("local n = 0\n"
		  "return {\n"
		  "  { Text = function(t) n = n + 1 end },\n"
		  "  { Document = function() doc.meta.out = tostring(n) end },\n"
		  "}\n",
		  "een *twee*\n", "2", "a list of filter tables runs each in turn");
}

static void test_fields(void)
{
	check_out("return { Document = function(d)\n"
		  "  local h = d.first_child\n"
		  "  local p = h.next\n"
		  "  local link = p.content[2]\n"
		  "  local list = p.next\n"
		  "  local code = list.next\n"
		  "  local rows = code.next.content\n"
		  "  doc.meta.out = table.concat({ h.type, h.level, link.url, link.title,\n"
		  "    list.list_type, list.start, tostring(list.tight), code.info, code.literal,\n"
		  "    tostring(rows[1].header), tostring(rows[2].header),\n"
		  "    tostring(list.first_child.checked), tostring(p.level), p.content[1].literal }, '|')\n"
		  "end }\n",
		  "## Twee\n\nZie [x](doel.md \"titel\") nu.\n\n3. [ ] een\n4. twee\n\n"
		  "```sh extra\nls\n```\n\n| a |\n|---|\n| b |\n",
		  "Heading|2|doel.md|titel|ordered|3|true|sh extra|ls\n|true|false|false|nil|Zie ",
		  "fields of headings, links, lists, code blocks, table rows, task items");

	check_html("return {\n"
		   "  Heading = function(h) h.level = 3 end,\n"
		   "  Link = function(l) l.url = 'https://example.org/'; l.title = 'T' end,\n"
		   "  Code = function(c) c.literal = 'nieuw' end,\n"
		   "  CodeBlock = function(c) c.info = 'lua'; c.literal = 'x = 1\\n' end,\n"
		   "  List = function(l) l.list_type = 'ordered'; l.start = 5 end,\n"
		   "}\n",
		   "# Kop\n\n[a](b.md) `oud`\n\n- een\n\n```\ny\n```\n",
		   "<h3 id=\"kop\">Kop <a class=\"anchor\" href=\"#kop\" aria-hidden=\"true\" "
		   "tabindex=\"-1\">#</a></h3>\n"
		   "<p><a href=\"https://example.org/\" title=\"T\">a</a> <code>nieuw</code></p>\n"
		   "<ol start=\"5\">\n<li>een</li>\n</ol>\n"
		   "<pre><code class=\"language-lua\">x = 1\n</code></pre>\n",
		   "writing fields changes the page");

	check_out("return { Paragraph = function(p) doc.meta.out = p:text() end }\n",
		  "Een *mooie*\n**zin** met `code`.\n",
		  "Een mooie zin met code.", "node:text() is the plain text of the subtree");

	/* Every field by its name, and nil for names a node does not have. */
	check_out("return { Document = function(d)\n"
		  "  local p, l = d.first_child, d.last_child\n"
		  "  doc.meta.out = table.concat({ p.type, p.t, tostring(p.prev), l.prev.type,\n"
		  "    l.type, l.list_type, l.start, tostring(l.tight), tostring(p.start),\n"
		  "    tostring(p.is_block(p)), tostring(p.first_child:is_block()),\n"
		  "    p.first_child.literal, tostring(p.level), tostring(p.nope),\n"
		  "    tostring(p.header), tostring(p.checked), l.first_child.type }, ',')\n"
		  "end }\n",
		  "Een\n\n3. a\n4. b\n",
		  "Paragraph,Paragraph,nil,Paragraph,List,ordered,3,true,nil,true,false,Een,nil,"
		  "nil,nil,nil,Item",
		  "node fields by name");
	/* The text is kept between calls (push_text), but never past an edit. */
	check_out("return { Paragraph = function(p)\n"
		  "  local a, again = p:text(), p:text()\n"
		  "  p.first_child.literal = 'Ander'\n"
		  "  local b = p:text()\n"
		  "  p.content = { 'nieuw ', gen.Emph('woord') }\n"
		  "  doc.meta.out = a .. '|' .. again .. '|' .. b .. '|' .. p:text()\n"
		  "end }\n",
		  "Een *zin*.\n", "Een zin.|Een zin.|Anderzin.|nieuw woord",
		  "node:text() after a literal or the children changed is the new text");
	check_out("return { Text = function(t) local _ = t.parent:text()\n"
		  "    if t.literal == 'weg' then return {} end end,\n"
		  "  Paragraph = function(p) doc.meta.out = p:text() end }\n",
		  "een *weg* twee\n", "een twee",
		  "and after a node was taken out");
	check_out("return { Paragraph = function(p)\n"
		  "  local before = p:text()\n"
		  "  p.first_child.literal = 'Iets anders. Dan de tweede zin.'\n"
		  "  doc:tag('feedback', p, 'tweede')\n"
		  "  doc.meta.out = before .. '|' .. doc:tags()[1].excerpt\n"
		  "end }\n",
		  "Een zin.\n", "Een zin.|Dan de tweede zin.",
		  "doc:tag quotes the passage as it is now");

	check_error("return { Paragraph = function(p) p.level = 2 end }\n", "x\n",
		    "lua/t.lua:1: a Paragraph has no field 'level' to set (while filtering content/x.md)",
		    "setting a field the type does not have is an error");
	check_error("return { Paragraph = function(p) p.line = 2 end }\n", "x\n",
		    "lua/t.lua:1: 'line' of a node is read-only (while filtering content/x.md)",
		    "read-only fields stay read-only");
	check_error("return { Heading = function(h) h.level = 7 end }\n", "# x\n",
		    "lua/t.lua:1: a heading level is 1 to 6, not 7 (while filtering content/x.md)",
		    "heading levels are checked");
	check_out("local t = {}\n"
		  "return {\n"
		  "  Text = function(n) t[n] = true; t[n.parent] = (t[n.parent] or 0) + 1 end,\n"
		  "  Paragraph = function(p) doc.meta.out = tostring(t[p]) .. tostring(p == p.first_child.parent) end,\n"
		  "}\n",
		  "een *b*\n", "1true", "one Lua value per node: == and table keys work");
}

static void test_positions(void)
{
	/* FRONT is 5 lines: the body starts on line 6. */
	check_out("local s = {}\n"
		  "return {\n"
		  "  Block = function(n) s[#s + 1] = n.type .. '@' .. n.line .. ':' .. n.col end,\n"
		  "  Emph = function(n) s[#s + 1] = 'Emph@' .. n.line .. ':' .. n.col end,\n"
		  "  SoftBreak = function(n) s[#s + 1] = 'SoftBreak@' .. n.line end,\n"
		  "  Document = function(n) doc.meta.out = table.concat(s, ' ') end,\n"
		  "}\n",
		  "# Kop\n\nEen\nregel *met* nadruk.\n\n- item\n",
		  "Heading@6:1 SoftBreak@8 Emph@9:7 Paragraph@8:1 Paragraph@11:3 Item@11:1 List@11:1",
		  "line and column are positions in the article file");
	check_out("return { Paragraph = function(p)\n"
		  "  local t = gen.Text('los')\n"
		  "  local before = tostring(t.line)\n"
		  "  p.content = { t }\n"
		  "  doc.meta.out = before .. ' ' .. t.line .. ' ' .. p.end_line\n"
		  "end }\n",
		  "\n\nalinea\n",
		  "nil 8 8", "a new node has no line until it is in the tree, then its parent's");
}

static void test_edits(void)
{
	check_html("return { Emph = function(e) return gen.Strong(e.content) end }\n",
		   "Een *b* c\n", "<p>Een <strong>b</strong> c</p>\n", "returning a node replaces");
	check_html("return { Emph = function(e) return e.content end }\n",
		   "Een *b c* d\n", "<p>Een b c d</p>\n", "returning the children unwraps");
	check_html("return { Text = function(t) if t.literal == 'b' then\n"
		   "  return { 'x', gen.Emph('y'), 'z' } end end }\n",
		   "a *b* c\n", "<p>a <em>x<em>y</em>z</em> c</p>\n",
		   "a list splices; strings become Text where inlines go");
	check_html("return { Paragraph = function(p) if p:text() == 'weg' then return {} end end }\n",
		   "een\n\nweg\n\ntwee\n", "<p>een</p>\n<p>twee</p>\n", "{} deletes");
	check_html("return { Paragraph = function(p) return { gen.Heading(2, 'Voor'), p,\n"
		   "  gen.ThematicBreak() } end }\n",
		   "midden\n",
		   "<h2 id=\"voor\">Voor <a class=\"anchor\" href=\"#voor\" aria-hidden=\"true\" "
		   "tabindex=\"-1\">#</a></h2>\n<p>midden</p>\n<hr />\n",
		   "a list may keep the node among new ones");
	check_html("return { Text = function(t) return t.literal:upper() end }\n",
		   "klein\n", "<p>KLEIN</p>\n", "a string replaces an inline");
	check_html("return { Paragraph = function(p) p.content = { 'a', gen.LineBreak(), 'b' } end }\n",
		   "x\n", "<p>a<br />\nb</p>\n", "setting content replaces the children");
	check_error("return { Text = function(t) return gen.Paragraph('x') end }\n", "a\n",
		    "lua/t.lua:1: the Text function returned a Paragraph, which cannot go inside a "
		    "Paragraph (while filtering content/x.md)",
		    "a block where inlines go is an error naming both");
	check_error("return { Paragraph = function(p) return 42 end }\n", "a\n",
		    "lua/t.lua:1: the Paragraph function returned a number; expected nil, a node or "
		    "a list of nodes (while filtering content/x.md)",
		    "a return value of the wrong kind is an error");
	check_error("return { Document = function(d) return {} end }\n", "a\n",
		    "lua/t.lua:1: the Document function may return nil or the document, not a table "
		    "(while filtering content/x.md)",
		    "the document cannot be replaced");
	check_error("return {\n  Paragrpah = function(p) end,\n}\n", "a\n",
		    "lua/t.lua:2: 'Paragrpah' is not a node type (doc/filters.md lists them) "
		    "(while filtering content/x.md)",
		    "a misspelt node type is caught where it is defined");
	check_error("return 42\n", "a\n",
		    "lua/t.lua: a filter returns a table of functions, not a number "
		    "(while filtering content/x.md)",
		    "a filter must return a table");
	check_error("return { Paragraph = function(p) gen.Heading(1, gen.Item('x')) end }\n", "a\n",
		    "lua/t.lua:1: gen.Heading: cannot put a Item inside a Heading "
		    "(while filtering content/x.md)",
		    "constructors check what goes inside");
}

static void test_constructors(void)
{
	check_html("return { Document = function(d)\n"
		   "  d.content = {\n"
		   "    gen.Heading(2, { 'Een ', gen.Emph('kop') }),\n"
		   "    gen.Paragraph({ gen.Strong('s'), gen.SoftBreak(), gen.Code('c'), ' ',\n"
		   "      gen.Link('l', 'https://example.org/', 'T'), ' ', gen.Image('alt', 'p.png'),\n"
		   "      gen.Span('sp', { id = 'i', class = 'k' }) }),\n"
		   "    gen.BlockQuote('citaat'),\n"
		   "    gen.List({ 'een', gen.Item('twee') }, { type = 'ordered', start = 2 }),\n"
		   "    gen.CodeBlock('x\\n', 'lua'),\n"
		   "    gen.ThematicBreak(),\n"
		   "  }\n"
		   "end }\n",
		   "weg\n",
		   "<h2 id=\"een-kop\">Een <em>kop</em> <a class=\"anchor\" href=\"#een-kop\" "
		   "aria-hidden=\"true\" tabindex=\"-1\">#</a></h2>\n"
		   "<p><strong>s</strong>\n<code>c</code> <a href=\"https://example.org/\" "
		   "title=\"T\">l</a> <img src=\"p.png\" alt=\"alt\" /><span id=\"i\" "
		   "class=\"k\">sp</span></p>\n"
		   "<blockquote>\n<p>citaat</p>\n</blockquote>\n"
		   "<ol start=\"2\">\n<li>een</li>\n<li>twee</li>\n</ol>\n"
		   "<pre><code class=\"language-lua\">x\n</code></pre>\n<hr />\n",
		   "every constructor");
	check_html("return { Paragraph = function(p) p.id = 'hier'; p.class = 'let op' end,\n"
		   "  BlockQuote = function(q) q.class = 'callout' end,\n"
		   "  Heading = function(h) h.id = 'x' end,\n"
		   "  Strong = function(s) s.class = 'sterk' end }\n",
		   "# Kop\n\nTekst **b**.\n\n> citaat\n\n- strak\n",
		   "<h1 id=\"kop\"><span id=\"x\">Kop</span> <a class=\"anchor\" href=\"#kop\" "
		   "aria-hidden=\"true\" tabindex=\"-1\">#</a></h1>\n"
		   "<p id=\"hier\" class=\"let op\">Tekst <strong class=\"sterk\">b</strong>.</p>\n"
		   "<blockquote class=\"callout\">\n<p id=\"hier\" class=\"let op\">citaat</p>\n"
		   "</blockquote>\n"
		   "<ul>\n<li><span id=\"hier\" class=\"let op\">strak</span></li>\n</ul>\n",
		   "ids and classes on elements, or on a span where there is none to spare");
	check_contains("return { Table = function(t) t.content[2].content[1].content =\n"
		       "  { gen.Span('x', { class = 'k' }) } end }\n",
		       "| a |\n|---|\n| b |\n", "<td><span class=\"k\">x</span></td>",
		       "a Span fits in a table cell");
}

/* Runs the filters lua/a.lua, then lua/b.lua (with the module
 * lua/keep.lua, an empty table) on FRONT "x"; the error into msg, the
 * document into d (caller releases). Returns filter_run's code. */
static int two_filters(const char *a, const char *b, char *msg, size_t n, document *d)
{
	static const char *const keep = "local M = {}\nreturn M\n";
	gen_err e;
	err_clear(&e);
	filter_set *fs = filter_set_new();
	filter_set_add(fs, "lua/keep.lua", keep, strlen(keep), false, NULL);
	filter_set_add(fs, "lua/a.lua", a, strlen(a), true, NULL);
	filter_set_add(fs, "lua/b.lua", b, strlen(b), true, NULL);
	source_file f;
	memset(&f, 0, sizeof f);
	f.path = xstrdup("content/x.md");
	f.data = xstrdup(FRONT "x\n");
	f.len = strlen(f.data);
	memset(d, 0, sizeof *d);
	diag_list diags = DIAG_LIST_INIT;
	int rc = document_parse(d, &f, &cfg, true, &diags, &e);
	if (rc == 0)
		rc = filter_run(fs, d, &cfg, &diags, &e);
	msg[0] = '\0';
	if (rc < 0)
		err_format(&e, msg, n);
	diag_release(&diags);
	free(f.path);
	free(f.data);
	filter_set_free(fs);
	return rc;
}

/* What one filter did to doc.meta, seen by the next. */
static void test_meta_later(void)
{
	/* A table of doc.meta kept by one filter and changed by the next,
	 * which never touches doc.meta itself: still read back, and blamed. */
	static const char *const first =
		"return { Document = function()\n"
		"  require('keep').themes = doc.meta.themes\n"
		"end }\n";
	char msg[2048];
	document d;
	int rc = two_filters(first,
			     "return { Document = function()\n"
			     "  table.insert(require('keep').themes, 'nieuw')\n"
			     "end }\n",
			     msg, sizeof msg, &d);
	ok(rc == 0 && d.fm.nthemes == 2 && !strcmp(d.fm.themes[1], "nieuw"),
	   "a list of doc.meta changed by a later filter reaches the front matter");
	document_release(&d);
	two_filters(first,
		    "return { Document = function()\n"
		    "  table.insert(require('keep').themes, 3)\n"
		    "end }\n",
		    msg, sizeof msg, &d);
	is_str(msg,
	       "lua/b.lua: doc.meta.themes must be a list of strings "
	       "(while filtering content/x.md)",
	       "and is checked after that filter, blamed on it");
	document_release(&d);
	/* A doc.meta put past the stand-in (rawset) is behind it again for
	 * the next filter, which is blamed at its line. */
	two_filters("return { Document = function()\n"
		    "  rawset(doc, 'meta', { title = 'Rauw', kind = 'story' })\n"
		    "end }\n",
		    "return { Document = function()\n"
		    "  local t = doc.meta.title\n"
		    "  doc.meta.title = ''\n"
		    "end }\n",
		    msg, sizeof msg, &d);
	is_str(msg,
	       "lua/b.lua:3: doc.meta.title must be a non-empty string "
	       "(while filtering content/x.md)",
	       "after a rawset doc.meta, the next filter's line is named");
	document_release(&d);
	rc = two_filters("return { Document = function()\n"
			 "  rawset(doc, 'meta', { title = 'Rauw', kind = 'story' })\n"
			 "end }\n",
			 "return { Document = function()\n"
			 "  doc.meta.summary = doc.meta.title .. '!'\n"
			 "end }\n",
			 msg, sizeof msg, &d);
	ok(rc == 0 && !strcmp(d.fm.title, "Rauw") && d.fm.summary &&
		   !strcmp(d.fm.summary, "Rauw!"),
	   "and reads and writes it (%s)", msg);
	document_release(&d);
}

/* Front matter a filter broke names the line that broke it. */
static void test_meta_blame(void)
{
	check_error("return { Document = function()\n"
		    "  local t = doc.meta.title\n"
		    "  doc.meta.title = ''\n"
		    "  local u = doc.meta.title\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua:3: doc.meta.title must be a non-empty string "
		    "(while filtering content/x.md)",
		    "the line that set the key, not one that read it");
	check_error("return { Document = function()\n"
		    "  doc.meta.title = ''\n"
		    "  doc.meta.title = 'Goed'\n"
		    "  doc.meta.weight = 'zwaar'\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua:4: doc.meta.weight must be an integer (while filtering content/x.md)",
		    "a key set right again is not blamed");
	check_error("return { Document = function()\n"
		    "  local themes = doc.meta.themes\n"
		    "  local n = #themes\n"
		    "  themes[n + 1] = 7\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua:2: doc.meta.themes must be a list of strings "
		    "(while filtering content/x.md)",
		    "a list changed in place: the line that took it from doc.meta");
	check_error("return { Document = function()\n"
		    "  doc.meta.extra = { a = 1 }\n"
		    "  table.insert(doc.meta.extra, 2)\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua:2: doc.meta.extra mixes list items and named keys "
		    "(while filtering content/x.md)",
		    "nested: the line that set the key wins over one that read it");
	check_error("return { Document = function()\n"
		    "  doc.meta.extra = {}\n"
		    "  local x = 1\n"
		    "  doc.meta = { kind = 'story' }\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua:4: doc.meta.title must be a non-empty string "
		    "(while filtering content/x.md)",
		    "doc.meta replaced whole: that line");
	check_error("return { Document = function()\n"
		    "  doc.meta = 'titel'\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua:2: doc.meta must be a table, not a string "
		    "(while filtering content/x.md)",
		    "doc.meta must stay a table, said where it is set");
	check_error("local u = require('util')\n"
		    "return { Document = function()\n"
		    "  u.retitle('')\n"
		    "end }\n",
		    "x\n",
		    "lua/util.lua:4: doc.meta.title must be a non-empty string "
		    "(while filtering content/x.md)",
		    "a module that broke it is named, at its line");
	check_error("return { Document = function()\n"
		    "  rawset(doc, 'meta', { kind = 'story' })\n"
		    "end }\n",
		    "x\n",
		    "lua/t.lua: doc.meta.title must be a non-empty string "
		    "(while filtering content/x.md)",
		    "past the stand-in (rawset) it is still checked, with no line to give");
	/* The stand-in behaves as the table it stands for. */
	check_out("return { Document = function()\n"
		  "  local keys = {}\n"
		  "  for k in pairs(doc.meta) do keys[#keys + 1] = k end\n"
		  "  table.sort(keys)\n"
		  "  rawset(doc.meta, 'summary', 'rauw')\n"
		  "  local m = doc.meta\n"
		  "  doc.meta = { title = 'Nieuw', kind = 'tips' }\n"
		  "  m.date = '2021-01-02'\n"
		  "  doc.meta.out = table.concat(keys, ',') .. '|' .. tostring(getmetatable(doc.meta))\n"
		  "    .. '|' .. doc.meta.title .. '|' .. tostring(rawequal(m, doc.meta))\n"
		  "end }\n",
		  "x\n", "kind,themes,title|doc.meta|Nieuw|true",
		  "pairs, getmetatable and a kept doc.meta work on the stand-in");
	result r;
	run(&r, "return { Document = function()\n"
		"  rawset(doc.meta, 'summary', 'Rauw gezet.')\n"
		"  local m = doc.meta\n"
		"  doc.meta = { title = 'Nieuw', kind = 'tips' }\n"
		"  m.date = '2021-01-02'\n"
		"end }\n",
		"x\n");
	if (!ok(r.rc == 0, "a whole new doc.meta is accepted")) diag("%s", r.err);
	is_str(r.d.fm.title, "Nieuw", "the new table is the front matter");
	is_str(r.d.fm.date, "2021-01-02", "written through a doc.meta kept from before");
	is_str(r.d.fm.summary, NULL, "what was set on the old table went with it");
	is(r.d.fm.nthemes, 0, "keys the new table lacks are gone");
	done(&r);
	run(&r, "return { Document = function()\n"
		"  rawset(doc.meta, 'summary', 'Rauw gezet.')\n"
		"end }\n",
		"x\n");
	is_str(r.d.fm.summary, "Rauw gezet.", "rawset on doc.meta reaches the front matter");
	done(&r);
	test_meta_later();
}

static void test_meta(void)
{
	result r;
	run(&r, "return { Document = function()\n"
		"  doc.meta.title = doc.meta.title .. '!'\n"
		"  doc.meta.summary = 'Samengevat.'\n"
		"  doc.meta.kind = 'tips'\n"
		"  doc.meta.date = '2020-02-03'\n"
		"  doc.meta.themes = { 'feedback' }\n"
		"  doc.meta.extra = { b = 1, a = { 1.5, true } }\n"
		"end }\n",
		"1. een\n2. twee\n");
	if (!ok(r.rc == 0, "meta edits are accepted")) diag("%s", r.err);
	is_str(r.d.fm.title, "Artikel!", "title reaches the front matter");
	is_str(r.d.fm.summary, "Samengevat.", "summary reaches the front matter");
	is(r.d.fm.kind, KIND_TIPS, "kind reaches the front matter");
	is_str(r.d.fm.date, "2020-02-03", "date reaches the front matter");
	is(r.d.fm.date_epoch, 1580688000, "and its epoch");
	is(r.d.fm.nthemes, 1, "themes replaced");
	is(markdown_tip_count(r.d.md), 2, "a new kind renumbers the tips");
	const value *extra = value_get(r.d.fm.meta, "extra");
	is_str(value_key_at(extra, 0, NULL), "a", "new keys are sorted");
	is(value_type_of(value_at(value_get(extra, "a"), 0)), VALUE_FLOAT, "numbers keep their type");
	is_str(value_key_at(r.d.fm.meta, 0, NULL), "title", "old keys keep their place");
	done(&r);

	run(&r, "return { Document = function() end }\n", "x\n");
	is(value_type_of(value_get(r.d.fm.meta, "themes")), VALUE_ARRAY, "untouched meta stays");
	done(&r);

	run_on(&r, "return {}\n", "content/d.md",
	       "+++\ntitle = \"D\"\ndate = 2015-03-12\n+++\nx\n");
	is(value_type_of(value_get(r.d.fm.meta, "date")), VALUE_DATE_LOCAL,
	   "a date read and written back stays a date");
	done(&r);

	check_error("return { Document = function() doc.meta.title = '' end }\n", "x\n",
		    "lua/t.lua:1: doc.meta.title must be a non-empty string (while filtering content/x.md)",
		    "a broken title is blamed on the filter");
	check_error("return { Document = function() doc.meta.themes = { 1 } end }\n", "x\n",
		    "lua/t.lua:1: doc.meta.themes must be a list of strings (while filtering content/x.md)",
		    "themes must stay strings");
	check_error("return { Document = function() doc.meta.x = { 1, y = 2 } end }\n", "x\n",
		    "lua/t.lua:1: doc.meta.x mixes list items and named keys "
		    "(while filtering content/x.md)",
		    "a table that is neither list nor table is refused");
	check_error("local t = {}\nt.t = t\nreturn { Document = function() doc.meta.x = t end }\n",
		    "x\n",
		    "lua/t.lua:3: doc.meta.x" ".t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t "
		    "is nested too deeply (a table inside itself?) (while filtering content/x.md)",
		    "a cycle in meta is an error, not a hang");
	check_error("return { Document = function() doc.meta.f = print end }\n", "x\n",
		    "lua/t.lua:1: doc.meta.f is a function, which front matter cannot hold "
		    "(while filtering content/x.md)",
		    "functions cannot be front matter");
	test_meta_blame();
}

static void test_tags(void)
{
	result r;
	run(&r, "return { Text = function(t)\n"
		"  if t.literal:find('feedback') then doc:tag('feedback', t, 'feedback') end\n"
		"end }\n",
		"# Vraag om feedback\n\nEerst dit. Vraag om feedback! Dan dat.\n\n"
		"- ook feedback\n");
	if (!ok(r.rc == 0, "doc:tag works")) diag("%s", r.err);
	is(r.d.nevidence, 3, "one piece of evidence per passage");
	is_str(r.d.evidence[1].theme, "feedback", "the theme");
	is(r.d.evidence[1].line, 8, "the passage's line");
	is_str(r.d.evidence[1].excerpt, "Vraag om feedback!", "the sentence holding the note");
	is_str(r.d.evidence[1].anchor, "bewijs-feedback-2", "an anchor per passage");
	is(r.d.fm.nthemes, 2, "the theme is added");
	is_str(r.d.fm.themes[0], "grenzen", "after the manual themes");
	is_str(r.d.fm.themes[1], "feedback", "tagged themes follow");
	if (!ok(strstr(r.html.ptr, "<p id=\"bewijs-feedback-2\" class=\"evidence\">") != NULL,
	   "the passage is marked")) diag("%s", r.html.ptr);
	if (!ok(strstr(r.html.ptr, "<h1 id=\"vraag-om-feedback\"><span id=\"bewijs-feedback-1\" "
			      "class=\"evidence\">") != NULL,
	   "a heading keeps its id, the mark goes on a span")) diag("%s", r.html.ptr);
	if (!ok(strstr(r.html.ptr, "<li><span id=\"bewijs-feedback-3\" class=\"evidence\">ook "
			      "feedback</span></li>") != NULL,
	   "in a tight list too")) diag("%s", r.html.ptr);
	ok(markdown_has_anchor(r.d.md, "bewijs-feedback-2"), "the anchor can be linked to");
	done(&r);

	/* Only an id set, nothing else changed: the heading still moves off
	 * the id a mark took, and the anchors are the mark's and the
	 * heading's new one (the quick re-analysis after filters). */
	run(&r, "return { Paragraph = function(p) p.id = 'wat-hier-misging' end }\n",
	    "# Wat hier misging\n\nEen alinea.[^1]\n\n[^1]: Een voetnoot.\n");
	if (!ok(r.rc == 0, "setting an id works")) diag("%s", r.err);
	is_str(markdown_heading_at(r.d.md, 0)->id, "wat-hier-misging-1",
	       "a heading gives way to an id a filter set");
	ok(markdown_has_anchor(r.d.md, "wat-hier-misging") &&
		   markdown_has_anchor(r.d.md, "wat-hier-misging-1") &&
		   markdown_has_anchor(r.d.md, "fn-1") && markdown_has_anchor(r.d.md, "fnref-1"),
	   "mark, heading and footnote ids are all anchors");
	done(&r);

	check_out("return { Paragraph = function(p)\n"
		  "  local a = doc:tag('feedback', p)\n"
		  "  local b = doc:tag('grenzen', p.first_child)\n"
		  "  local t = doc:tags()\n"
		  "  doc.meta.out = a .. ' ' .. b .. ' ' .. #t .. ' ' .. t[2].theme .. ' ' .. t[2].line\n"
		  "end }\n",
		  "Een zin.\n",
		  "bewijs-feedback-1 bewijs-feedback-1 2 grenzen 6",
		  "two themes on one passage share its anchor");
	check_error("return { Paragraph = function(p) doc:tag('onbekend', p) end }\n", "x\n",
		    "lua/t.lua:1: doc:tag: unknown theme 'onbekend' (site.toml has no "
		    "[themes.onbekend]) (while filtering content/x.md)",
		    "an unknown theme is an error");
	check_out("return { Document = function(d)\n"
		  "  doc.meta.out = doc:tag('feedback', d.first_child, 'lang') end }\n",
		  "> Een heel lang citaat van veel woorden.\n", "bewijs-feedback-1",
		  "a container's passage is the first one inside");

	run(&r, "return { Paragraph = function(p) doc:tag('feedback', p, 'vervelend') end }\n",
	    "Zo ging het. “Wat vervelend, meneer, dat begrijp ik heel goed.” En toen.\n");
	is_str(r.d.evidence[0].excerpt, "Wat vervelend, meneer, dat begrijp ik heel goed.",
	       "an excerpt that is one quote loses its quotation marks");
	done(&r);
}

static void test_sandbox(void)
{
	check_out("local s = {}\n"
		  "for _, n in ipairs({ 'io', 'debug', 'package', 'dofile', 'loadfile', 'require',\n"
		  "    'coroutine', 'collectgarbage', 'warn' }) do\n"
		  "  s[#s + 1] = n .. '=' .. type(_G[n])\n"
		  "end\n"
		  "s[#s + 1] = 'os.execute=' .. type(os.execute)\n"
		  "s[#s + 1] = 'os.getenv=' .. type(os.getenv)\n"
		  "s[#s + 1] = 'os.remove=' .. type(os.remove)\n"
		  "s[#s + 1] = 'os.date=' .. type(os.date)\n"
		  "s[#s + 1] = 'os.time=' .. type(os.time)\n"
		  "s[#s + 1] = 'string.dump=' .. type(string.dump)\n"
		  "s[#s + 1] = 'utf8=' .. type(utf8.char)\n"
		  "return { Document = function() doc.meta.out = table.concat(s, ' ') end }\n",
		  "x\n",
		  "io=nil debug=nil package=nil dofile=nil loadfile=nil require=function "
		  "coroutine=nil collectgarbage=function warn=nil os.execute=nil os.getenv=nil "
		  "os.remove=nil os.date=function os.time=function string.dump=nil utf8=function",
		  "only the allowed libraries are there");
	check_out("local f, e = load('\\27Lua\\84\\0')\n"
		  "local g = load('return 1 + 1')\n"
		  "local h = load('return x', 'c', 'b', { x = 3 })\n"
		  "return { Document = function() doc.meta.out = tostring(f) .. ' ' .. e .. ' '\n"
		  "  .. g() .. ' ' .. h() end }\n",
		  "x\n",
		  "nil attempt to load a binary chunk (mode is 't') 2 3",
		  "load compiles text only, whatever mode is asked for");
	check_out("local u = require('util')\n"
		  "return { Document = function() doc.meta.out = u.twice('ab') ..\n"
		  "  tostring(require('util') == u) end }\n",
		  "x\n", "ababtrue", "require loads modules from lua/ once");
	check_error("require('nergens')\nreturn {}\n", "x\n",
		    "lua/t.lua:1: module 'nergens' not found: no 'lua/nergens.lua' in the snapshot "
		    "(while filtering content/x.md)",
		    "require of a missing module");
	check_error("require('../etc/passwd')\nreturn {}\n", "x\n",
		    "lua/t.lua:1: module '../etc/passwd' not found: write require(\"name\") for "
		    "lua/name.lua, require(\"a.b\") for lua/a/b.lua (while filtering content/x.md)",
		    "require cannot leave lua/");
	check_error("site.config.title = 'x'\nreturn {}\n", "x\n",
		    "lua/t.lua:1: site.config is read-only (while filtering content/x.md)",
		    "site.config is read-only");
	check_out("local k = {}\n"
		  "for key in pairs(site.config.params) do k[#k + 1] = key end\n"
		  "for _, t in ipairs(site.themes) do k[#k + 1] = t.id .. #t.patterns end\n"
		  "return { Document = function() doc.meta.out = table.concat(k, ' ') .. ' ' ..\n"
		  "  site.config.themes.feedback.title .. ' ' .. #site.config.filters end }\n",
		  "x\n", "zebra alpha feedback1 grenzen2 Feedbacklus 1",
		  "site.config and site.themes keep site.toml's order");
	check_out("return { Document = function() doc.meta.out = gen.fold('Ideeën ÉÉN') .. '|' ..\n"
		  "  gen.slug('Wat hier misging?') .. '|' .. table.concat(gen.words('“Één”, twee—drie'), ',')\n"
		  "end }\n",
		  "x\n", "ideeen een|wat-hier-misging|een,twee,drie", "gen.fold, gen.slug, gen.words");
}

static void test_limits(void)
{
	check_error("return { Paragraph = function()\n  while true do end\nend }\n", "x\n",
		    "lua/t.lua:2: instruction budget of 200000 exceeded (an endless loop? site.toml "
		    "[filter] instructions) (while filtering content/x.md)",
		    "an endless loop ends at the budget, at its line");
	check_error("local t = {}\nfor i = 1, 1e9 do\n  t[i] = {}\nend\nreturn {}\n", "x\n",
		    "lua/t.lua:3: memory cap of 2 MiB exceeded (site.toml [filter] memory) "
		    "(while filtering content/x.md)",
		    "a growing table ends at the memory cap");
	char *e = error_of("local s = string.rep('x', 1e9)\nreturn {}\n", "x\n");
	if (!ok(strstr(e, "memory cap of 2 MiB exceeded (site.toml [filter] memory) (while filtering "
		     "content/x.md)") != NULL,
	   "one big string ends at the memory cap")) diag("%s", e);
	free(e);
	check_error("return { Document = function(d)\n"
		    "  for i = 1, 1e7 do d.content = { gen.Paragraph('x') } end\nend }\n", "x\n",
		    "lua/t.lua:2: memory cap of 2 MiB exceeded (site.toml [filter] memory) "
		    "(while filtering content/x.md)",
		    "nodes a filter makes count against the cap");
}

static void test_errors(void)
{
	gen_err e;
	filter_set *fs = filter_set_new();
	err_clear(&e);
	int rc = filter_set_add(fs, "lua/bad.lua", "return {\n  x = = 1\n}\n", 21, true, &e);
	char msg[1200];
	err_format(&e, msg, sizeof msg);
	is(rc, GEN_EFILTER, "a syntax error is a filter error");
	is_str(msg, "lua/bad.lua:2: unexpected symbol near '='", "named with file and line");
	filter_set_free(fs);

	check_error("local x = nil\nreturn { Paragraph = function()\n  error('stuk')\nend }\n",
		    "x\n", "lua/t.lua:3: stuk (while filtering content/x.md)", "a runtime error");
	check_error("return { Paragraph = function()\n  local t = nil\n  return t.x\nend }\n",
		    "x\n",
		    "lua/t.lua:3: attempt to index a nil value (local 't') (while filtering content/x.md)",
		    "a Lua error from the VM");
	check_error("return { Paragraph = function() error({}) end }\n", "x\n",
		    "lua/t.lua: error object is a table value (while filtering content/x.md)",
		    "an error that is not a string");
	/* One without a place of its own gets the line of the filter's
	 * frame nearest to it: where the filter called what failed. */
	check_error("return { Paragraph = function() error('zonder plaats', 0) end }\n", "x\n",
		    "lua/t.lua:1: zonder plaats (while filtering content/x.md)",
		    "an error without a position is the filter's, at its line");
	check_error("return { Paragraph = function()\n  for _ in ipairs(nil) do end\nend }\n",
		    "x\n",
		    "lua/t.lua:2: attempt to index a nil value "
		    "(while filtering content/x.md)",
		    "an error raised in a C function is at the filter's line that called it");
	check_error("local n = 0\nfor _ in ipairs(nil) do n = n + 1 end\nreturn {}\n", "x\n",
		    "lua/t.lua:2: attempt to index a nil value (while filtering content/x.md)",
		    "so is one in a filter's top level");
	check_error("local f = load('error(\"binnen\")', '=chunk')\nf()\nreturn {}\n", "x\n",
		    "lua/t.lua:2: chunk:1: binnen (while filtering content/x.md)",
		    "an error in a chunk the filter loaded is blamed on the filter");
	check_error("local u = require('util')\nu.twice(nil)\nreturn {}\n", "x\n",
		    "lua/util.lua:2: attempt to concatenate a nil value (local 's') "
		    "(while filtering content/x.md)",
		    "an error in a module names the module");
}

static void test_isolation(void)
{
	/* The same filter on two documents: what one run leaves behind (a
	 * global, a changed library, a node list) is gone for the next. */
	const char *lua =
		"count = (count or 0) + 1\n"
		"local before = string.upper('a')\n"
		"string.upper = function() return 'kapot' end\n"
		"return { Document = function() doc.meta.out = count .. before end }\n";
	check_out(lua, "x\n", "1A", "first document");
	check_out(lua, "y\n", "1A", "second document starts afresh");
	char *a = out_of("return { Document = function() doc.meta.out = tostring(math.random(1e9)) end }\n", "x\n");
	char *b = out_of("return { Document = function() doc.meta.out = tostring(math.random(1e9)) end }\n", "x\n");
	is_str(a, b, "math.random is the same on every build of a document");
	free(a);
	free(b);
}

/* Runs lua on documents content/NAME.md for each name in names (body
 * "x"), one after the other on one filter_state, as a build's worker
 * does; out[i] is doc.meta.out of each or "ERROR: message". Caller frees
 * each. */
static void run_reused(const char *lua, const char *const *names, size_t n, char **out)
{
	gen_err e;
	filter_set *fs = filter_set_new();
	filter_set_add(fs, "lua/util.lua", util_lua, strlen(util_lua), false, NULL);
	err_clear(&e);
	int rc = filter_set_add(fs, "lua/t.lua", lua, strlen(lua), true, &e);
	filter_state *st = filter_state_new(fs, &cfg);
	for (size_t i = 0; i < n; i++) {
		buf path = BUF_INIT, b = BUF_INIT;
		buf_printf(&path, "content/%s.md", names[i]);
		source_file f;
		memset(&f, 0, sizeof f);
		f.path = buf_detach(&path);
		f.data = xstrdup(FRONT "x\n");
		f.len = strlen(f.data);
		document d;
		memset(&d, 0, sizeof d);
		err_clear(&e);
		int r = rc;
		if (r == 0 && (r = document_parse(&d, &f, &cfg, true, NULL, &e)) == 0)
			r = filter_state_run(st, &d, NULL, &e);
		if (r < 0) {
			char msg[1200];
			err_format(&e, msg, sizeof msg);
			buf_printf(&b, "ERROR: %s", msg);
		} else {
			const value *v = value_get(d.fm.meta, "out");
			buf_puts(&b, v ? value_string(v, NULL) : "(none)");
		}
		out[i] = buf_detach(&b);
		document_release(&d);
		free(f.path);
		free(f.data);
	}
	filter_state_free(st);
	filter_set_free(fs);
}

/* Every document of names gives want, on one reused state. */
static void check_reused(const char *lua, const char *want, const char *name)
{
	static const char *const names[] = { "d1", "d2", "d3", "d4" };
	char *out[4];
	run_reused(lua, names, 4, out);
	for (size_t i = 0; i < 4; i++) {
		char what[200];
		snprintf(what, sizeof what, "%s (document %zu)", name, i + 1);
		is_str(out[i], want, what);
		free(out[i]);
	}
}

static void test_reuse(void)
{
	/* A worker keeps its Lua state: documents still start afresh. */
	check_reused("count = (count or 0) + 1\n"
		     "local before = count .. string.upper('a') .. tostring(table.insert ~= nil) ..\n"
		     "  tostring(gen.words ~= nil) .. tostring(site.nieuw) .. tostring(_G.x)\n"
		     "string.upper = function() return 'kapot' end\n"
		     "table.insert = nil\n"
		     "gen.words = nil\n"
		     "site.nieuw = 1\n"
		     "_G.x = 1\n"
		     "return { Document = function() doc.meta.out = before end }\n",
		     "1Atruetruenilnil", "globals and library tables do not leak between documents");
	check_reused("local mt = getmetatable('')\n"
		     "local before = ('a'):upper() .. tostring(mt.x)\n"
		     "mt.x = 1\n"
		     "mt.__index.upper = function() return 'kapot' end\n"
		     "mt.__index = { upper = function() return 'stuk' end }\n"
		     "return { Document = function() doc.meta.out = before end }\n",
		     "Anil", "the string metatable does not leak");
	check_reused("local before = tostring(rawget(site.config, 'lek')) ..\n"
		     "  tostring(rawget(site.themes, 9))\n"
		     "rawset(site.config, 'lek', 1)\n"
		     "rawset(site.themes, 9, 1)\n"
		     "return { Document = function() doc.meta.out = before end }\n",
		     "nilnil", "rawset on site.config does not leak");
	check_reused("local u = require('util')\n"
		     "local before = tostring(u.extra)\n"
		     "u.extra = 1\n"
		     "return { Document = function() doc.meta.out = before end }\n",
		     "nil", "modules are loaded afresh");
	/* A chunk's function is made once per state (push_chunk): it and the
	 * modules it loads still see this document's globals. */
	{
		static const char *const docs[] = { "d1", "d2", "d3" };
		char *out[3];
		run_reused("local u = require('util')\n"
			   "local loaded, mine = u.where(), doc.path\n"
			   "return { Document = function()\n"
			   "  doc.meta.out = loaded .. ' ' .. mine .. ' ' .. u.where() end }\n",
			   docs, 3, out);
		for (size_t i = 0; i < 3; i++) {
			char want[100], what[100];
			snprintf(want, sizeof want, "content/%s.md content/%s.md content/%s.md",
				 docs[i], docs[i], docs[i]);
			snprintf(what, sizeof what, "a filter and its module see document %zu", i + 1);
			is_str(out[i], want, what);
			free(out[i]);
		}
	}
	check_reused("local before = tostring(collectgarbage('isrunning'))\n"
		     "collectgarbage('stop')\n"
		     "return { Document = function() doc.meta.out = before end }\n",
		     "true", "the collector is running for each document");
	/* The budget is 200000 instructions a document: four documents
	 * using most of it each. */
	check_reused("local n = 0\n"
		     "for i = 1, 30000 do n = n + i end\n"
		     "return { Document = function() doc.meta.out = 'ok' end }\n",
		     "ok", "the instruction budget is per document");
	/* The cap is 2 MiB: each document holds about 1 MiB. */
	check_reused("local t = {}\n"
		     "for i = 1, 1000 do t[i] = string.rep('x', 1000) .. i end\n"
		     "return { Document = function() doc.meta.out = 'ok' end }\n",
		     "ok", "the memory cap is per document");
	/* match.lua's rules, as gen.matcher keeps them: whole words, a *
	 * at either end, an optional word first; case and diacritics folded;
	 * a word that only starts like a pattern's is no match. */
	check_out("local m = gen.matcher({ 'klant', 'specialis*', 'ab*', '*gericht',\n"
		  "  '(ook) niets', 'ideeen', 'x y' })\n"
		  "local function show(words, k)\n"
		  "  local h, o = m:matches(words), {}\n"
		  "  for x = 1, #h, k do o[#o + 1] = h[x] .. ':' .. h[x + 1] .. '-' .. h[x + 2] end\n"
		  "  return table.concat(o, ' ')\n"
		  "end\n"
		  "local s = 'Klant, klanten en klan. Specialisten speciale; abc ab a. '\n"
		  "  .. 'Klantgericht gerichte. Ook niets, niets. Ideeën! X y'\n"
		  "local w = { gen.words(s) }\n"
		  "return { Document = function() doc.meta.out = show(s, 5) .. ' / ' ..\n"
		  "  show({ n = #w[1], w = w[1] }, 3) end }\n",
		  "x\n",
		  "1:1-1 2:5-5 3:7-7 3:8-8 4:10-10 5:12-13 5:13-13 5:14-14 6:15-15 7:16-17 / "
		  "1:1-1 2:5-5 3:7-7 3:8-8 4:10-10 5:12-13 5:13-13 5:14-14 6:15-15 7:16-17",
		  "gen.matcher: exact, prefix, suffix and optional words");
	/* The words of each text are made once a document (text_words), and
	 * all let go past 1 MiB of text: the answers stay the same. */
	check_out("local m = gen.matcher({ 'klant', 'woord twee' })\n"
		  "local base = string.rep('woord ', 80)\n"
		  "local total = 0\n"
		  "for i = 1, 2500 do\n"
		  "  total = total + #m:matches(base .. i .. ' klant') // 5\n"
		  "  total = total + #m:matches(base .. i .. ' tnalk') // 5\n"
		  "  total = total + #m:matches(base .. (i % 7) .. ' klant') // 5\n"
		  "end\n"
		  "return { Document = function() doc.meta.out = total .. ' ' ..\n"
		  "  #m:matches('Woord twee, klant') // 5 end }\n",
		  "x\n", "5000 2", "a text matched again, after many others, matches the same");
	check_reused("local m = gen.matcher({ 'a b', 'c*' })\n"
		     "local ok = pcall(function() m.x = 1 end)\n"
		     "return { Document = function() doc.meta.out = tostring(ok) ..\n"
		     "  getmetatable(m) .. #m:matches('A b cd') end }\n",
		     "falsegen.matcher10", "a matcher cannot be changed");

	/* gen.theme_matcher: site.toml's patterns in site.themes' order, with
	 * their themes, made once for the state; its lists are read-only. */
	check_reused("local m, pats, ids = gen.theme_matcher()\n"
		     "local list, owners = {}, {}\n"
		     "for _, t in ipairs(site.themes) do\n"
		     "  for _, p in ipairs(t.patterns) do\n"
		     "    list[#list + 1] = p\n"
		     "    owners[#owners + 1] = t.id\n"
		     "  end\n"
		     "end\n"
		     "local s = 'Nee zeggen? Feedbackformulier en grenzen, nee te zeggen.'\n"
		     "local a, b = m:matches(s), gen.matcher(list):matches(s)\n"
		     "local same = #a == #b and #pats == #list and #ids == #owners\n"
		     "for i = 1, #a do same = same and a[i] == b[i] end\n"
		     "for i = 1, #list do same = same and pats[i] == list[i] and ids[i] == owners[i] end\n"
		     "local changed = pcall(function() pats[1] = 'x' end) or\n"
		     "  pcall(function() ids[1] = 'x' end)\n"
		     "return { Document = function() doc.meta.out = tostring(same) .. ' ' ..\n"
		     "  #a // 5 .. ' ' .. #pats .. ' ' .. ids[#ids] .. ' ' .. tostring(changed) ..\n"
		     "  ' ' .. tostring(rawequal(m, (gen.theme_matcher()))) end }\n",
		     "true 4 3 grenzen false true", "gen.theme_matcher");

	/* After an error the next document gets a state of its own. */
	const char *names[] = { "d1", "d2" };
	char *out[2];
	run_reused("count = (count or 0) + 1\n"
		   "if doc.path == 'content/d1.md' then error('stuk') end\n"
		   "return { Document = function() doc.meta.out = tostring(count) end }\n",
		   names, 2, out);
	is_str(out[0], "ERROR: lua/t.lua:2: stuk (while filtering content/d1.md)",
	       "an error fails its document");
	is_str(out[1], "1", "the next one starts afresh");
	free(out[0]);
	free(out[1]);

	/* math.random as on a state of the document's own. */
	const char *rnd = "return { Document = function()\n"
			  "  doc.meta.out = tostring(math.random(1e9)) end }\n";
	const char *both[] = { "d1", "d2" }, *alone[] = { "d2" };
	char *a[2], *b[1];
	run_reused(rnd, both, 2, a);
	run_reused(rnd, alone, 1, b);
	is_str(a[1], b[0], "math.random does not depend on the documents before");
	ok(strcmp(a[0], a[1]) != 0, "math.random is seeded by the document's path");
	free(a[0]);
	free(a[1]);
	free(b[0]);
}

static void test_warnings(void)
{
	result r;
	run(&r, "return { Paragraph = function(p)\n"
		"  gen.warn('te lang')\n"
		"  gen.warn('kop', doc.root.first_child)\n"
		"  print('hallo', 1)\n"
		"end }\n",
		"# Kop\n\nTekst.\n");
	is(r.diags.n, 3, "warnings and notices are collected");
	if (r.diags.n == 3) {
		is_str(r.diags.items[0].file, "content/x.md", "with the document's path");
		is(r.diags.items[0].line, 8, "and the line of the node being filtered");
		is_str(r.diags.items[0].msg, "te lang (lua/t.lua:2)", "and where the filter said it");
		is(r.diags.items[1].line, 6, "or of the node given");
		is(r.diags.items[2].severity, DIAG_NOTICE, "print is a notice");
		is_str(r.diags.items[2].msg, "hallo\t1 (lua/t.lua:4)", "print's text");
	}
	done(&r);
}

static void describe_doc(buf *out, document *d);

static void test_analysis(void)
{
	result r;
	run(&r, "return { Document = function(d)\n"
		"  local all = d.content\n"
		"  all[#all + 1] = gen.Heading(2, 'Nieuwe kop')\n"
		"  all[#all + 1] = gen.Paragraph({ 'Zie ', gen.Link('tip', 'tips/x.md#tip-1') })\n"
		"  d.content = all\n"
		"end }\n",
		"# Kop\n\nEen alinea van vijf woorden.\n");
	is(markdown_heading_count(r.d.md), 2, "a new heading is counted");
	is_str(markdown_heading_at(r.d.md, 1)->id, "nieuwe-kop", "and has an id");
	is(markdown_link_count(r.d.md), 1, "a new link reaches the link checker");
	is_str(markdown_link_at(r.d.md, 0)->url, "tips/x.md#tip-1", "with its target");
	is(markdown_word_count(r.d.md), 10, "the word count follows the edit");
	done(&r);

	run(&r, "return { Paragraph = function(p) if p:text() == 'weg' then return {} end end }\n",
	    "weg\n\nDe eerste alinea blijft.\n");
	is_str(markdown_first_paragraph(r.d.md), "De eerste alinea blijft.",
	       "the first paragraph follows a deletion");
	done(&r);

	/* document_parse leaves the walk to the filters' run: a filter that
	 * changes nothing must leave the document as a plain parse does. */
	static const char body[] = "# Kop\n\nEen [tip](tips/x.md) en *nog* wat.\n\n## Kop\n";
	run(&r, "return { Paragraph = function(p) local t = p:text() end }\n", body);
	buf filtered = BUF_INIT, plain = BUF_INIT;
	describe_doc(&filtered, &r.d);
	done(&r);
	gen_err e;
	err_clear(&e);
	source_file f;
	memset(&f, 0, sizeof f);
	f.path = xstrdup("content/x.md");
	buf article = BUF_INIT;
	buf_puts(&article, FRONT);
	buf_puts(&article, body);
	f.data = buf_detach(&article);
	f.len = strlen(f.data);
	document d;
	memset(&d, 0, sizeof d);
	ok(document_parse(&d, &f, &cfg, false, NULL, &e) == 0, "a plain parse of the same");
	describe_doc(&plain, &d);
	is_str(filtered.ptr, plain.ptr, "an unchanged article is analysed as a plain parse is");
	ok(strstr(plain.ptr, "h kop-1\n") && strstr(plain.ptr, "words 7"),
	   "(headings, links and words are there)");
	document_release(&d);
	free(f.path);
	free(f.data);
	buf_release(&filtered);
	buf_release(&plain);
}

/* Everything the later stages read of a document, as text. */
static void describe_doc(buf *out, document *d)
{
	buf_printf(out, "title %s themes %zu evidence %zu\n", d->fm.title, d->fm.nthemes,
		   document_evidence_count(d));
	for (size_t i = 0; i < document_evidence_count(d); i++) {
		const document_evidence *e = document_evidence_at(d, i);
		buf_printf(out, "ev %s %d %s %s\n", e->theme, e->line, e->excerpt, e->anchor);
	}
	const value *v = value_get(d->fm.meta, "seen");
	buf_printf(out, "meta %s\n", v ? value_string(v, NULL) : "(none)");
	for (size_t i = 0; i < markdown_heading_count(d->md); i++)
		buf_printf(out, "h %s\n", markdown_heading_at(d->md, i)->id);
	for (size_t i = 0; i < markdown_link_count(d->md); i++) {
		const markdown_link *l = markdown_link_at(d->md, i);
		buf_printf(out, "link %s [%s]\n", l->url, markdown_block_text(d->md, l->block_index));
	}
	buf_printf(out, "first %s words %zu\n", markdown_first_paragraph(d->md),
		   markdown_word_count(d->md));
	markdown_render_html(out, d->md, NULL, NULL);
}

/* document_slim: once filtered, a document dropped to its frozen form
 * (its own copy, or borrowing the cache's) reads and renders the same. */
static void test_slim(void)
{
	const char *lua = "return { Paragraph = function(p)\n"
			  "  if p:text():find('grens') then doc:tag('grenzen', p, 'een grens') end\n"
			  "  doc.meta.seen = 'ja'\n"
			  "  local c = p.content\n"
			  "  table.insert(c, 1, gen.Span({ 'gezien: ' }, { class = 'x' }))\n"
			  "  p.content = c\n"
			  "  return p\n"
			  "end }\n";
	const char *body = "# Kop\n\nHier ligt een grens.\n\nZie [de tip](../tips/x.md#tip-1) erbij.\n";
	for (int borrow = 0; borrow < 2; borrow++) {
		result r;
		run(&r, lua, body);
		if (!ok(r.rc == 0, "slim %d: the filter runs", borrow))
			diag("%s", r.err);
		buf before = BUF_INIT, after = BUF_INIT, frozen = BUF_INIT;
		describe_doc(&before, &r.d);
		source_file f;
		memset(&f, 0, sizeof f);
		char path[] = "content/x.md";
		f.path = path;
		memcpy(f.id, r.d.id, sizeof f.id);
		if (borrow)
			document_freeze(&r.d, &frozen);
		document_slim(&r.d, &f, &cfg, borrow ? frozen.ptr : NULL, frozen.len);
		ok(markdown_root(r.d.md) == NULL, "slim %d: the tree is gone", borrow);
		describe_doc(&after, &r.d);
		is_str(after.ptr, before.ptr, borrow ? "slim: borrowing the frozen form, all reads the same"
						     : "slim: on its own copy, all reads the same");
		ok(strstr(before.ptr, "gezien: ") && strstr(before.ptr, "ev grenzen") &&
			   strstr(before.ptr, "[gezien: Zie de tip erbij.]"),
		   "slim %d: the description covers the filter's work", borrow);
		done(&r);
		buf_release(&before);
		buf_release(&after);
		buf_release(&frozen);
	}
}

int main(void)
{
	gen_err e;
	if (config_parse(&cfg, site_toml, strlen(site_toml), "site.toml", NULL, &e) < 0) {
		err_print(&e, stdout);
		return 1;
	}
	test_traversal();
	test_fields();
	test_positions();
	test_edits();
	test_constructors();
	test_meta();
	test_tags();
	test_sandbox();
	test_limits();
	test_errors();
	test_isolation();
	test_reuse();
	test_warnings();
	test_analysis();
	test_slim();
	config_release(&cfg);
	return done_testing();
}
