#!/usr/bin/perl
# Writes a synthetic handbook for measuring search: `perl bench/search-site.pl
# DIR [ARTICLES]` makes DIR/site.toml and DIR/content/ with ARTICLES (10000)
# articles in 20 chapters, about 500 words each.
#
# The text is Dutch: a chain of word pairs learnt from the real handbook
# (content/ beside this script), so word frequencies, inflections and
# compounds look like the handbook's. Now and then two nouns are joined
# into a new compound ("wachtrijbalie"), so the vocabulary keeps growing
# with the number of articles, as in real writing. 70% stories with
# headings, 30% tip lists; one to three of the handbook's themes each.
# A fixed seed makes the same site on every run.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Find;

my $dir = shift or die "usage: $0 DIR [ARTICLES]\n";
my $articles = shift // 10000;
my $chapters = 20;
my $root = dirname(__FILE__) . '/..';
srand(20260107);

# --- learn word pairs from the handbook ---------------------------------
my (@words, %next);
find({ no_chdir => 1, wanted => sub {
	return unless /\.md$/;
	open my $fh, '<:encoding(UTF-8)', $_ or return;
	local $/;
	my $t = <$fh>;
	$t =~ s/\A(\+\+\+|---)\n.*?\n\1\n//s;      # front matter
	$t =~ s/\[([^\]]*)\]\([^)]*\)/$1/g;          # links keep their text
	$t =~ s/[*#>`_]|^\s*(\d+\.|-)\s+//mg;        # Markdown marks
	push @words, grep { length } split /\s+/, $t;
}}, "$root/content");
die "no handbook text found under $root/content\n" unless @words > 100;
for my $i (0 .. $#words - 1) {
	push @{ $next{ $words[$i] } }, $words[$i + 1];
}
# Compound parts: longer lowercase words (not "niet", "naar", "zijn").
my @nouns = grep { /^\p{Ll}{5,10}$/ } @words;

sub word_after {
	my ($w) = @_;
	my $n = $next{$w};
	my $r = $n ? $n->[int rand @$n] : $words[int rand @words];
	if (rand() < 0.03 && $r =~ /^\p{Ll}{5,}$/) {
		# A compound of two handbook nouns, sometimes a new one.
		my $head = $nouns[int rand @nouns];
		$r = $head . $r unless $head eq $r;
	}
	return $r;
}

sub sentence_words {
	my ($n) = @_;
	my $w = $words[int rand @words];
	$w = $words[int rand @words] for 1 .. 3;
	my @out;
	for (1 .. $n) {
		push @out, $w;
		$w = word_after($w);
	}
	return @out;
}

sub paragraph {
	my ($n) = @_;
	my $p = join ' ', sentence_words($n);
	$p =~ s/[,;:]$//;
	$p .= '.' unless $p =~ /[.!?]$/;
	return ucfirst $p;
}

sub title {
	my @w = grep { /^\p{L}+$/ } sentence_words(12);
	my $last = 3 + int rand 3;
	$last = $#w if $last > $#w;
	@w = @w[0 .. $last];
	return ucfirst join ' ', @w;
}

# --- the site -------------------------------------------------------------
my @themes = qw(snifo-gedrag specialisatie feedback verantwoordelijkheid empathie
  procesafspraken leiderschap grenzen reputatie);
make_path("$dir/content");
open my $toml, '<:encoding(UTF-8)', "$root/site.toml" or die "$root/site.toml: $!\n";
my $real = do { local $/; <$toml> };
# The handbook's themes; the rest of its site.toml names its own articles.
my @blocks;
while ($real =~ /^\[themes\.([^\]]+)\]\n((?:.*\n)*?)(?=^\[|\z)/mg) {
	my ($id, $body) = ($1, $2);
	my @keep = $body =~ /^((?:title|description) = .*\n)/mg;
	push @blocks, "[themes.$id]\n" . join('', @keep);
}
write_file("$dir/site.toml", "title = \"Proefhandboek ($articles artikelen)\"\n"
	. "language = \"nl\"\nbase_url = \"https://handboek.example.nl/\"\n\n"
	. join("\n", @blocks));
write_file("$dir/content/_index.md",
	"+++\ntitle = \"Proefhandboek\"\n+++\n" . paragraph(60) . "\n");
for my $c (0 .. $chapters - 1) {
	my $d = sprintf "$dir/content/deel-%02d", $c;
	make_path($d);
	write_file("$d/_index.md", sprintf "+++\ntitle = \"Deel %d: %s\"\nweight = %d\n+++\n%s\n",
		$c + 1, title(), $c + 1, paragraph(40));
}
for my $i (0 .. $articles - 1) {
	my $tips = rand() < 0.3;
	my @t = @themes;
	my @mine = map { splice @t, int rand @t, 1 } 1 .. 1 + int rand 3;
	my $date = sprintf "20%02d-%02d-%02d", 15 + int rand 10, 1 + int rand 12, 1 + int rand 28;
	my $title = title();
	$title =~ s/"/'/g;
	my $summary = paragraph(12 + int rand 10);
	$summary =~ s/"/'/g;
	my $t = "+++\ntitle = \"$title\"\nkind = \"" . ($tips ? 'tips' : 'story') . "\"\n"
	      . "date = $date\nauthor = \"Auteur " . (1 + $i % 25) . "\"\n"
	      . "summary = \"$summary\"\n"
	      . 'themes = [' . join(', ', map { "\"$_\"" } @mine) . "]\n+++\n\n";
	if ($tips) {
		$t .= paragraph(40 + int rand 30) . "\n\n";
		for my $n (1 .. 5 + int rand 6) {
			my $head = title();
			$t .= "$n. **$head.** " . paragraph(25 + int rand 30) . "\n";
		}
	} else {
		$t .= paragraph(50 + int rand 30) . "\n";
		for (1 .. 3 + int rand 3) {
			$t .= "\n## " . title() . "\n\n";
			$t .= paragraph(40 + int rand 50) . "\n\n" for 1 .. 1 + int rand 2;
		}
	}
	write_file(sprintf("$dir/content/deel-%02d/artikel-%05d.md", $i % $chapters, $i), $t);
}

sub write_file {
	my ($path, $text) = @_;
	open my $fh, '>:encoding(UTF-8)', $path or die "$path: $!\n";
	print $fh $text;
	close $fh or die "$path: $!\n";
}
