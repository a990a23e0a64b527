/* Unit tests for print: the pass that makes an article's ids unique on
 * the print page, keeps links within the book and moves headings down. */
#include <string.h>

#include "print.h"
#include "tap.h"

static void prefixed_is(const char *html, int shift, const char *want,
			const char *name)
{
	buf out = BUF_INIT;
	print_prefix_ids(&out, html, "p", shift);
	is_str(out.ptr, want, name);
	buf_release(&out);
}

int main(void)
{
	prefixed_is("<h2 id=\"kop\">Kop <a class=\"anchor\" href=\"#kop\">#</a></h2>", 2,
		    "<h4 id=\"p--kop\">Kop <a class=\"anchor\" href=\"#p--kop\">#</a></h4>",
		    "a heading: id, permalink and level");
	prefixed_is("<li id=\"tip-1\" class=\"tip\"><a class=\"tip-link\" href=\"#tip-1\">", 2,
		    "<li id=\"p--tip-1\" class=\"tip\"><a class=\"tip-link\" href=\"#p--tip-1\">",
		    "a tip item");
	prefixed_is("<a href=\"#%1Fq--tip-2\">tip</a>", 2, "<a href=\"#q--tip-2\">tip</a>",
		    "a link already in the book keeps its target, without the mark");
	prefixed_is("<a href=\"../x/\">x</a> <img src=\"a.png\" />", 2,
		    "<a href=\"../x/\">x</a> <img src=\"a.png\" />",
		    "links out of the page stay");
	prefixed_is("<sup class=\"footnote-ref\"><a href=\"#fn-1\" id=\"fnref-1\">1</a></sup>", 1,
		    "<sup class=\"footnote-ref\"><a href=\"#p--fn-1\" id=\"p--fnref-1\">1</a></sup>",
		    "footnotes both ways");
	prefixed_is("<h5>a</h5><h6>b</h6><h1 class=\"x\">c</h1>", 2,
		    "<h6>a</h6><h6>b</h6><h3 class=\"x\">c</h3>", "no heading below h6");
	prefixed_is("<p>x data-id=&quot;y&quot; hid=\"z\" <hr /> <header></p>", 2,
		    "<p>x data-id=&quot;y&quot; hid=\"z\" <hr /> <header></p>",
		    "text, other attributes and other tags stay");
	prefixed_is("", 2, "", "empty");
	prefixed_is("h <h1>hr</h2 href=\"#", 2, "h <h3>hr</h2 href=\"#p--",
		    "near misses kept, and a target at the very end");
	prefixed_is(" id=\"a\"</h6>", 1, " id=\"p--a\"</h6>", "at the very start; h6 stays h6");
	return done_testing();
}
