/* Unit test for markdown_walk_text: the text the search index reads, in
 * order, with the anchor a result should link to. */
#include <string.h>

#include "buf.h"
#include "markdown.h"
#include "tap.h"

static void collect(void *ctx, markdown_text_kind kind, const char *text,
		    size_t len, const char *anchor)
{
	buf *b = ctx;
	buf_printf(b, "%c[%s] %.*s\n",
		   kind == MARKDOWN_TEXT_HEADING ? 'H' : kind == MARKDOWN_TEXT_TIP ? 'T' : 'B',
		   anchor, (int)len, text);
}

static const char *walk(const char *md, bool tips, buf *out)
{
	markdown_doc *doc = NULL;
	markdown_options opt = { 0 };
	opt.tips = tips;
	gen_err e;
	buf_clear(out);
	if (markdown_parse(&doc, "x.md", md, strlen(md), &opt, NULL, &e) < 0)
		return "(parse failed)";
	markdown_walk_text(doc, collect, out);
	markdown_free(doc);
	return out->ptr;
}

int main(void)
{
	buf b = BUF_INIT;
	is_str(walk("Intro met *nadruk*.\n\n## Wat er gebeurde\n\nDe klant\nwacht.\n", false, &b),
	       "B[] Intro met nadruk.\n"
	       "H[wat-er-gebeurde] Wat er gebeurde\n"
	       "B[wat-er-gebeurde] De klant wacht.\n",
	       "paragraphs and headings in order, anchored to the heading before them");
	is_str(walk("Inleiding.\n\n1. **Leg uit.** Waarom.\n2. Tweede\n   tip.\n\nSlot.\n", true, &b),
	       "B[] Inleiding.\n"
	       "T[tip-1] Leg uit. Waarom.\n"
	       "T[tip-2] Tweede tip.\n"
	       "B[] Slot.\n",
	       "tip items are anchored to their tip");
	is_str(walk("## Code\n\n```\nklant = 1\n```\n\n| a | b |\n|---|---|\n| x | y |\n", false, &b),
	       "H[code] Code\n"
	       "B[code] klant = 1\n"
	       "B[code] a b\n"
	       "B[code] x y\n",
	       "code blocks and table rows");
	is_str(walk("1. gewoon\n", false, &b), "B[] gewoon\n", "ordered lists outside tip lists are body text");
	buf_release(&b);
	return done_testing();
}
