/* parts: a page too big to write again after every save, kept in parts
 * (gen serve's print page).
 *
 * The print page holds the whole handbook, 74 MB at 10,000 articles. A
 * build that writes it whole after one edit has the kernel copy all of
 * it and then free the old copy: some 60 ms of processor time on every
 * save, for a page that is seldom open while someone writes. gen serve
 * writes it in parts instead: files of a few hundred kilobytes under
 * "REL.parts/", each named by a key that stands for its bytes, and at REL
 * a short list of them that starts with PARTS_MAGIC (no HTML starts with
 * a NUL). A part whose key the last list had stays as the output holds
 * it, so a save writes only the parts around what changed. The server
 * reads the list and sends the bytes it stands for (parts_read): a
 * browser gets, byte for byte, the page `gen build` writes.
 *
 * The caller decides where a part ends and what its key is, from what it
 * knows of the bytes (for the print page, its articles' hashes). A key
 * must change whenever the bytes do. Parts go through the output
 * (output.h): a failed build changes nothing, and parts that no list
 * names any more are removed with the other stale files. */
#ifndef GEN_PARTS_H
#define GEN_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "output.h"

#define PARTS_MAGIC "\0gen-parts 1\n"
#define PARTS_MAGIC_LEN 13

/* The page the last build left at rel, when a part list stands there:
 * for reading back what is still right in it. */
typedef struct parts_old parts_old;
/* NULL when the output has no part list at rel (FRESH mode, no file, a
 * page written whole, a list that does not read). The caller closes it. */
parts_old *parts_old_open(output *o, const char *rel);
/* The length of the page it stands for, and what its list file looked
 * like when opened (to compare with the mark the last build kept). */
uint64_t parts_old_len(const parts_old *old);
output_mark parts_old_mark(const parts_old *old);
/* The len bytes at offset at of that page, when they lie within one part
 * whose file is there at its length: a pointer good until
 * parts_old_close. NULL otherwise. The bytes are as the file holds them;
 * checking them is the caller's. */
const char *parts_old_bytes(parts_old *old, uint64_t at, uint64_t len);
void parts_old_close(parts_old *old);
/* Keeps every part of the list at rel, for a page kept as the last build
 * left it (the list itself is the caller's to keep). False when there is
 * no list there or a part of it is not as that build left it: the caller
 * then makes the page. */
bool parts_keep_all(output *o, const char *rel);

/* A page being written in parts: parts_open, then for each part in order
 * either parts_keep or parts_put (as often as needed) and parts_cut, then
 * parts_close, which writes the list and frees p, also on failure
 * (parts_discard frees it without a list). old (may be NULL) is the last
 * page, whose parts may be kept; it must outlive p. Each returns 0 or a
 * negative code with err set; parts_open sets *out only on success. */
typedef struct parts_page parts_page;
int parts_open(output *o, const char *rel, parts_old *old, parts_page **out,
	       gen_err *err);
/* Keeps the next part as the last page had it when that page had one of
 * this key and the output still holds its file; false when not (the
 * caller then puts its bytes). Nothing may have been put since the last
 * cut. */
bool parts_keep(parts_page *p, uint64_t key);
int parts_put(parts_page *p, const void *data, size_t len, gen_err *err);
/* The bytes put since the last cut (or the start) are the part key:
 * writes its file. */
int parts_cut(parts_page *p, uint64_t key, gen_err *err);
/* Writes the list (no bytes may be put since the last cut), filling
 * *mark as output_write_marked does, and counts: parts in all (*total),
 * parts whose files were written (*written); either may be NULL. */
int parts_close(parts_page *p, output_mark *mark, size_t *total, size_t *written,
		gen_err *err);
void parts_discard(parts_page *p);

/* For the server: page holds the bytes of the file at path (a page of
 * the site). When they are a part list, they are replaced by the page it
 * stands for, read from the parts beside it. Returns 0; -1 when a part
 * is missing or does not read (page is then as it was: a build may have
 * replaced the list meanwhile, and the caller may read it again). */
int parts_read(const char *path, buf *page);

#endif
