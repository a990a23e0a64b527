/* Unit tests for pattern and the filters' string.find, match, gmatch and
 * gsub: hand-picked and generated cases give, through a filter, exactly
 * what the same calls give in a plain Lua 5.4 (results, captures,
 * positions, errors and their messages); and a backtracking pattern ends
 * at the instruction budget instead of running for ever. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "buf.h"
#include "config.h"
#include "document.h"
#include "filter.h"
#include "pattern.h"
#include "tap.h"
#include "value.h"
#include "xalloc.h"

static const char *const site_toml =
	"title = \"Test\"\n"
	"filters = [\"lua/t.lua\"]\n"
	"[filter]\n"
	"instructions = 200000000\n";

/* What every case does, as a filter (Document) and in plain Lua alike:
 * each call under pcall, its results written out with their types. */
static const char *const runner_lua =
	"local function ser(...)\n"
	"  local t = {}\n"
	"  for i = 1, select('#', ...) do\n"
	"    local v = select(i, ...)\n"
	"    if type(v) == 'string' then v = string.format('%q', v) end\n"
	"    t[#t + 1] = type(v) .. ':' .. tostring(v)\n"
	"  end\n"
	"  return table.concat(t, ',')\n"
	"end\n"
	"local function try(f, ...)\n"
	"  local r = table.pack(pcall(f, ...))\n"
	"  if not r[1] then return 'error:' .. tostring(r[2]) end\n"
	"  return ser(table.unpack(r, 2, r.n))\n"
	"end\n"
	"local function all(s, p, init)\n"
	"  local it = string.gmatch(s, p, init)\n"
	"  local out = {}\n"
	"  for k = 1, 40 do\n"
	"    local r = table.pack(it())\n"
	"    if r[1] == nil then break end\n"
	"    out[#out + 1] = ser(table.unpack(r, 1, r.n))\n"
	"  end\n"
	"  return table.concat(out, ';')\n"
	"end\n"
	"local function odd(...)\n"
	"  local a = ...\n"
	"  if #tostring(a) % 2 == 1 then return nil end\n"
	"  return '<' .. ser(...) .. '>'\n"
	"end\n"
	"local map = { a = 'A', ab = false, b = 7, ['('] = 'P' }\n"
	"local function run_cases()\n"
	"  local out = {}\n"
	"  for i, c in ipairs(CASES) do\n"
	"    local s, p, init = c[1], c[2], c[3]\n"
	"    out[#out + 1] = table.concat({ i,\n"
	"      try(string.find, s, p, init),\n"
	"      try(string.find, s, p, init, true),\n"
	"      try(string.match, s, p, init),\n"
	"      try(all, s, p, init),\n"
	"      try(string.gsub, s, p, '[%0|%1]'),\n"
	"      try(string.gsub, s, p, odd, 2),\n"
	"      try(string.gsub, s, p, map),\n"
	"      try(function() return s:gsub(p, '%%%2') end),\n"
	"    }, ' ')\n"
	"  end\n"
	"  return table.concat(out, '\\n')\n"
	"end\n";

/* A Lua string literal of s[0..len). */
static void put_literal(buf *b, const char *s, size_t len)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 32 || c >= 127)
			buf_printf(b, "\\%03u", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

typedef struct pcase {
	const char *s;
	size_t slen;
	const char *p;
	size_t plen;
	int init; /* 0: none */
} pcase;

/* Lengths from the literals, so that cases may hold NUL bytes. */
#define C(s, p, init) { s, sizeof s - 1, p, sizeof p - 1, init }

/* By hand: every kind of item, quantifier and capture, the anchors, the
 * start positions, and each way a pattern can be malformed. */
static const pcase hand[] = {
	C("hello world", "o", 0),           C("hello world", "o", 6),
	C("hello world", "o", -3),          C("hello world", "o", 100),
	C("hello world", "", 12),           C("hello world", "", 13),
	C("hello world", "l+", 0),          C("hello world", "l*", 0),
	C("hello world", "l-o", 0),         C("hello world", "l?lo", 0),
	C("hello world", "^hello", 0),      C("hello world", "^world", 0),
	C("hello world", "world$", 0),      C("hello world", "o$w", 0),
	C("hello world", "(%w+) (%w+)", 0), C("hello world", "()ll()", 0),
	C("hello world", "%s*(.-)%s*$", 0), C("  trim me  ", "^%s*(.-)%s*$", 0),
	C("key = value", "(%w+)%s*=%s*(%w+)", 0),
	C("f(a(b)c) d", "%b()", 0),         C("f(a(b)c d", "%b()", 0),
	C("THE (quick) fox", "%f[%a]%a+", 0),
	C("THE (quick) fox", "%f[%A]", 0),  C("abcabc", "(abc)%1", 0),
	C("abab", "(a)(b)%2", 0),           C("x", "%f", 0),
	C("x", "%fx", 0),                   C("x", "(", 0),
	C("x", ")", 0),                     C("x", "%", 0),
	C("x", "[a", 0),                    C("x", "[]", 0),
	C("]", "[]]", 0),                   C("a]", "[^]]", 0),
	C("a-b", "[a-]", 0),                C("a-b", "[-b]+", 0),
	C("a%b", "[%%]", 0),                C("x", "%1", 0),
	C("x", "(x)%2", 0),                 C("x", "%0", 0),
	C("x", "%b", 0),                    C("x", "%bx", 0),
	C("a.b.c", "%.", 0),                C("a.b.c", ".", 0),
	C("a+b", "a+b", 0),                 C("a+b", "a%+b", 0),
	C("1 22 333", "%d+", 2),            C("x1y22z", "%D", 0),
	C("tab\there", "%c", 0),            C("UP low", "%u+", 0),
	C("UP low", "%l+", 0),              C("a,b;c", "%p", 0),
	C("ff 0A gz", "%x+", 0),            C("a b", "%S+", 0),
	C("", "", 0),                       C("", "a*", 0),
	C("", "^$", 0),                     C("abc", "()", 0),
	C("abc", "a*", 0),                  C("abc", "x*", 0),
	C("aaa", "a-", 0),                  C("aaa", "^a-$", 0),
	C("a\0b", "%z", 0),                 C("nul\0here", "\0", 0),
	C("über café", "[\xc3][\x80-\xbf]", 0),
	C("((()))", "%b()", 0),             C("x$y", "$y", 0),
	C("x^y", "x^y", 0),                 C("^y", "^^y", 0),
	C("abc", "((a)(b))", 0),            C("abc", "(a(b)c", 0),
	C("hello", "", 0),                  C("hello", "^", 0),
	C("abc", "$", 0),                   C("", "^", 0),
	C("^a^b", "^", 2),                  C("a b", "%f[%z]", 0),
	C("a,b,,c", "[^,]*", 0),            C("one two", "(%w*)", -4),
	C("x = 1, y = 2", "(%w+) = (%w+)", 0),
	C("[[x]]", "%[(.-)%]", 0),          C("a.b", "[.]", 0),
	C("abab!", "(ab)%1!", 0),           C("aa-aa", "(a+)-%1$", 0),
	C("xyxyz", "(xy)%1[^y]", 0),        C("(a)b", "%b()b", 0),
	C("ab", "a?(a)", 0),                C("aab", "a-(b)", 0),
	C("xay", "x*(a)()", 0),             C("abc", "a(b)?(c)", 0),
	C("a]b", "[%]]", 0),                C("x%]y", "[%]x]+", 0),
	C("ab", "(a)%2", 0),                C("abab", "(a)(b)(%1)%3", 0),
};

/* Generated: patterns from pieces, subjects from a small alphabet. */
static const char *const pieces[] = {
	"a", "b", ".", "%a", "%d", "%s", "%w", "%A", "[ab]", "[^a]", "[a-c]", "[%d_]", "(",
	")", "()", "%1", "%b()", "%f[%w]", "%f[%W]", "*", "+", "-", "?", "^", "$", "%", "[",
	"]", "%%", " ",
};
static const char subject_chars[] = "aab b(a)c1 2_x";

static unsigned long seed = 12345;
static unsigned next_random(unsigned n)
{
	seed = seed * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((seed >> 33) % n);
}

/* The cases as a Lua table CASES. */
static void put_cases(buf *lua, size_t generated)
{
	buf_puts(lua, "CASES = {\n");
	for (size_t i = 0; i < sizeof hand / sizeof *hand; i++) {
		buf_putc(lua, '{');
		put_literal(lua, hand[i].s, hand[i].slen);
		buf_putc(lua, ',');
		put_literal(lua, hand[i].p, hand[i].plen);
		if (hand[i].init)
			buf_printf(lua, ",%d", hand[i].init);
		buf_puts(lua, "},\n");
	}
	for (size_t i = 0; i < generated; i++) {
		buf s = BUF_INIT, p = BUF_INIT;
		size_t sl = next_random(14);
		for (size_t k = 0; k < sl; k++)
			buf_putc(&s, subject_chars[next_random(sizeof subject_chars - 1)]);
		size_t np = 1 + next_random(6);
		for (size_t k = 0; k < np; k++)
			buf_puts(&p, pieces[next_random(sizeof pieces / sizeof *pieces)]);
		buf_putc(lua, '{');
		put_literal(lua, s.ptr ? s.ptr : "", s.len);
		buf_putc(lua, ',');
		put_literal(lua, p.ptr ? p.ptr : "", p.len);
		int init = (int)next_random(7) - 3;
		if (init)
			buf_printf(lua, ",%d", init);
		buf_puts(lua, "},\n");
		buf_release(&p);
		buf_release(&s);
	}
	buf_puts(lua, "}\n");
}

/* The script's result in a plain Lua 5.4, with its own string library. */
static char *in_lua(const char *script)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	buf b = BUF_INIT;
	buf_printf(&b, "%s\ndoc = { meta = {} }\nF.Document()\nreturn doc.meta.out\n", script);
	char *out = NULL;
	if (luaL_dostring(L, b.ptr) == LUA_OK && lua_isstring(L, -1))
		out = xstrdup(lua_tostring(L, -1));
	else
		out = xstrdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
	lua_close(L);
	buf_release(&b);
	return out;
}

/* The same script as a filter: doc.meta.out after it ran, or the error. */
static char *in_filter(const config *cfg, const char *script)
{
	buf lua = BUF_INIT;
	buf_printf(&lua, "%s\nreturn F\n", script);
	gen_err e;
	err_clear(&e);
	filter_set *fs = filter_set_new();
	document d;
	memset(&d, 0, sizeof d);
	source_file f;
	memset(&f, 0, sizeof f);
	f.path = xstrdup("content/x.md");
	f.data = xstrdup("+++\ntitle = \"T\"\nkind = \"story\"\n+++\nx\n");
	f.len = strlen(f.data);
	diag_list diags = DIAG_LIST_INIT;
	char *out = NULL;
	int rc = filter_set_add(fs, "lua/t.lua", lua.ptr, lua.len, true, &e);
	if (rc == 0)
		rc = document_parse(&d, &f, cfg, true, &diags, &e);
	if (rc == 0)
		rc = filter_run(fs, &d, cfg, &diags, &e);
	if (rc == 0) {
		out = xstrdup(value_string(value_get(d.fm.meta, "out"), NULL));
	} else {
		char msg[1024];
		err_format(&e, msg, sizeof msg);
		out = xstrdup(msg);
	}
	document_release(&d);
	diag_release(&diags);
	filter_set_free(fs);
	free(f.path);
	free(f.data);
	buf_release(&lua);
	return out;
}

/* Line by line: the first line that differs, for the diagnostics. */
static void first_difference(const char *a, const char *b)
{
	size_t line = 1;
	while (*a && *a == *b) {
		if (*a == '\n')
			line++;
		a++;
		b++;
	}
	const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
	diag("case line %zu: filter '%.*s'", line, ea ? (int)(ea - a) : (int)strlen(a), a);
	diag("            plain Lua '%.*s'", eb ? (int)(eb - b) : (int)strlen(b), b);
}

static void test_same_as_lua(const config *cfg)
{
	enum { GENERATED = 1500 };
	buf script = BUF_INIT;
	put_cases(&script, GENERATED);
	buf_puts(&script, runner_lua);
	buf_puts(&script, "F = { Document = function() doc.meta.out = run_cases() end }\n");
	char *lua = in_lua(script.ptr);
	/* Errors raised in a function of the script name its chunk. */
	buf w = BUF_INIT;
	const char *chunk = "[string \"CASES = {...\"]:";
	for (const char *at = lua, *hit; *at; at = hit + strlen(chunk)) {
		hit = strstr(at, chunk);
		if (!hit) {
			buf_puts(&w, at);
			break;
		}
		buf_put(&w, at, (size_t)(hit - at));
		buf_puts(&w, "lua/t.lua:");
	}
	free(lua);
	char *want = buf_detach(&w);
	char *got = in_filter(cfg, script.ptr);
	size_t cases = sizeof hand / sizeof *hand + GENERATED;
	/* One line per case: a NUL byte in a result would cut the rest. */
	size_t lines = 1;
	for (const char *c = want; *c; c++)
		lines += *c == '\n';
	ok(lines == cases, "plain Lua ran the %zu cases (%zu lines)", cases, lines);
	if (!ok(strcmp(got, want) == 0,
		"find, match, gmatch and gsub in a filter give what Lua's own give, "
		"errors included (%zu cases, 8 calls each)", cases))
		first_difference(got, want);
	/* The generated cases must reach each outcome, or they test little. */
	ok(strstr(want, "error:malformed pattern") && strstr(want, "error:invalid capture") &&
		   strstr(want, "number:") && strstr(want, "string:"),
	   "the cases include matches, captures and malformed patterns");
	free(want);
	free(got);
	buf_release(&script);
}

static void check_spent(const config *cfg, const char *call, const char *name)
{
	buf script = BUF_INIT;
	buf_printf(&script,
		   "F = { Document = function()\n"
		   "  local s = string.rep('a', 40)\n"
		   "  local p = string.rep('a*', 20) .. 'b'\n"
		   "  doc.meta.out = tostring(%s)\n"
		   "end }\n",
		   call);
	char *got = in_filter(cfg, script.ptr);
	if (!ok(strstr(got, "lua/t.lua:4: instruction budget of 2000000 exceeded in a string "
			    "pattern") != NULL && strstr(got, "(while filtering content/x.md)"),
		"%s", name))
		diag("%s", got);
	free(got);
	buf_release(&script);
}

/* The matcher's own limits, without Lua. */
static void test_matcher(void)
{
	pattern_state ms;
	const char *s = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *p = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
	pattern_begin(&ms, s, strlen(s), p, strlen(p), 100000);
	ok(pattern_match(&ms, 0, 0) == -1 && ms.status == PATTERN_SPENT && ms.steps > 100000 &&
		   ms.steps <= 100001,
	   "a backtracking match stops one step past its limit");
	ok(pattern_match(&ms, 1, 0) == -1 && ms.status == PATTERN_SPENT,
	   "and stays stopped");
	pattern_begin(&ms, "(x)", 3, "%b()", 4, 1000);
	ok(pattern_match(&ms, 0, 0) == 3 && ms.status == PATTERN_OK, "a match within the limit");
	/* Deep nesting: one call per item that needs a choice. */
	buf deep = BUF_INIT;
	char as[301];
	memset(as, 'a', 300);
	as[300] = '\0';
	for (int i = 0; i < 300; i++)
		buf_puts(&deep, "a?");
	pattern_begin(&ms, as, 300, deep.ptr, deep.len, 1000000);
	ok(pattern_match(&ms, 0, 0) == -1 && ms.status == PATTERN_MALFORMED &&
		   !strcmp(ms.message, "pattern too complex"),
	   "nesting deeper than Lua allows is 'pattern too complex'");
	buf_release(&deep);
	ok(pattern_is_plain("abc def", 7) && !pattern_is_plain("a.c", 3) &&
		   pattern_is_plain("a\0b", 3),
	   "plain text is told from patterns");
}

int main(void)
{
	config cfg;
	gen_err e;
	if (config_parse(&cfg, site_toml, strlen(site_toml), "site.toml", NULL, &e) < 0) {
		err_print(&e, stdout);
		return 1;
	}
	test_matcher();
	test_same_as_lua(&cfg);
	cfg.filter_instructions = 2000000;
	check_spent(&cfg, "string.find(s, p)", "string.find: a backtracking pattern ends at the budget");
	check_spent(&cfg, "s:match(p)", "s:match: the same");
	check_spent(&cfg, "string.gmatch(s, p)()", "string.gmatch: the same");
	check_spent(&cfg, "s:gsub(p, 'x')", "string.gsub: the same");
	config_release(&cfg);
	return done_testing();
}
