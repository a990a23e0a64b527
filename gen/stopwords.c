/* stopwords: per-language lists of words the index leaves out (see
 * stopwords.h).
 *
 * Chosen for a handbook of case stories and tips, not copied from a
 * generic list: articles, pronouns, prepositions, conjunctions and the
 * auxiliary and modal verbs, but not words that carry this handbook's
 * subject even though they are short and frequent ("nee", as in "nee
 * zeggen"; "waarom", the "why" leaders must explain; "altijd", "samen").
 * Words of one letter never reach the list: the tokeniser drops them.
 * Each list is kept sorted (bytewise) for bsearch; tests/search.c checks. */
#include "stopwords.h"

#include <stdlib.h>
#include <string.h>

static const char *const dutch[] = {
	"aan", "al", "alle", "alles", "als", "alsof", "ander", "andere",
	"ben", "bent", "bij", "binnen", "daar", "dan", "dat", "de", "der",
	"des", "deze", "die", "dit", "doch", "door", "doordat", "dus", "een",
	"eens", "elk", "elke", "en", "er", "geen", "had", "hadden", "heb",
	"hebben", "hebt", "heeft", "hem", "hen", "het", "hier", "hij", "hoe",
	"hoewel", "hun", "ieder", "iedere", "iemand", "iets", "ik", "in", "is",
	"ja", "je", "jij", "jou", "jouw", "jullie", "kan", "kon", "konden",
	"kun", "kunnen", "kunt", "maar", "mag", "me", "meer", "men", "met",
	"mij", "mijn", "moest", "moet", "moeten", "na", "naar", "nadat",
	"niet", "niets", "nog", "nu", "of", "om", "omdat", "onder", "ons",
	"onze", "ook", "op", "over", "te", "tegen", "terwijl", "toch", "toen",
	"tot", "tussen", "uit", "uw", "van", "veel", "via", "voor", "voordat",
	"waar", "wanneer", "want", "waren", "was", "wat", "we", "wel",
	"welk", "welke", "werd", "werden", "wie", "wij", "wil", "wilde",
	"worden", "wordt", "zal", "ze", "zeer", "zei", "zelf", "zelfs",
	"zich", "zichzelf", "zij", "zijn", "zo", "zodat", "zonder", "zou",
	"zouden", "zullen",
};

/* English contractions are split at the apostrophe by the tokeniser, so
 * their pieces ("don", "ll", "ve") are listed too. */
static const char *const english[] = {
	"about", "after", "all", "also", "am", "an", "and", "any", "are",
	"aren", "as", "at", "be", "because", "been", "before", "being",
	"both", "but", "by", "can", "could", "did", "didn", "do", "does",
	"doesn", "doing", "don", "during", "each", "for", "from", "had",
	"has", "have", "he", "her", "here", "hers", "him", "his", "how",
	"if", "in", "into", "is", "isn", "it", "its", "just", "ll", "me",
	"more", "most", "my", "no", "nor", "not", "of", "off", "on", "only",
	"or", "other", "our", "ours", "out", "over", "own", "re", "same",
	"she", "should", "so", "some", "such", "than", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "those",
	"through", "to", "too", "under", "until", "up", "ve", "very", "was",
	"wasn", "we", "were", "what", "when", "where", "which", "while",
	"who", "whom", "why", "will", "with", "won", "would", "you", "your",
	"yours",
};

const char *const *stopwords_list(const char *language, size_t *n)
{
	if (language && strcmp(language, "nl") == 0) {
		*n = sizeof dutch / sizeof *dutch;
		return dutch;
	}
	if (language && strcmp(language, "en") == 0) {
		*n = sizeof english / sizeof *english;
		return english;
	}
	*n = 0;
	return NULL;
}

typedef struct key {
	const char *w;
	size_t len;
} key;

static int compare(const void *k, const void *item)
{
	const key *a = k;
	const char *b = *(const char *const *)item;
	size_t bl = strlen(b);
	int c = memcmp(a->w, b, a->len < bl ? a->len : bl);
	if (c)
		return c;
	return a->len < bl ? -1 : a->len > bl;
}

bool stopwords_contains(const char *language, const char *w, size_t len)
{
	size_t n;
	const char *const *list = stopwords_list(language, &n);
	if (!n || len > 16)
		return false;
	key k = { w, len };
	return bsearch(&k, list, n, sizeof *list, compare) != NULL;
}
