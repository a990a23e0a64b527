#!/usr/bin/perl
# Writes a git fast-import stream for a synthetic handbook repository, for
# measuring the history stage (tools/history-bench.c):
#
#   git init -q r && perl bench/history-repo.pl | git -C r fast-import --quiet
#   git -C r repack -adf -q     # a pack as git gc writes it (optional)
#   build/history-bench r
#
# ARTICLES (10000), COMMITS (3000) and SECTIONS (10) size it. The first
# commit adds the skeleton and a tenth of the articles; every later commit
# adds a few articles, edits some, now and then renames one (half of the
# renames with edits), deletes one, or is a --no-ff merge of a two-commit
# side branch. A fixed seed makes the same repository on every run.
use strict;
use warnings;

my $articles = $ENV{ARTICLES} // 10000;
my $commits  = $ENV{COMMITS} // 3000;
my $sections = $ENV{SECTIONS} // 10;
srand(42);

my @words = qw(klant balie medewerker vraag antwoord garage monteur afspraak
  rekening telefoon wachtrij verwachting vertrouwen luisteren uitleg regel
  uitzondering oplossing leidinggevende dialoog voorbeeld waarde proces
  klacht excuus snel traag vriendelijk eerlijk open gesloten morgen vandaag);

my $mark = 0;
my $time = 1420070400;    # 2015-01-01
my @authors = map { ["Auteur $_", "auteur$_\@example.org"] } 1 .. 12;
my %files;                # path -> body text
my $next_id = 0;

sub para { join(' ', map { $words[int rand @words] } 1 .. 40 + int rand 40) . ".\n" }

sub article {
	my ($n) = @_;
	my $t = "+++\ntitle = \"Artikel $n\"\nkind = \"story\"\n+++\n";
	$t .= "\n" . para() for 1 .. 6;
	return $t;
}

sub blob {
	my ($data) = @_;
	$mark++;
	print "blob\nmark :$mark\ndata ", length($data), "\n$data\n";
	return $mark;
}

sub new_path {
	my $id = $next_id++;
	return sprintf("content/deel-%02d/artikel-%05d.md", $id % $sections, $id);
}

my @ops;          # per commit: list of [op, ...]
my $commit_mark;  # mark of the last commit on main

sub commit {
	my ($branch, $from, $merge, $changes, $msg) = @_;
	my @lines;
	for my $c (@$changes) {
		my ($op, @a) = @$c;
		if ($op eq 'M') {
			my $m = blob($files{$a[0]});
			push @lines, "M 100644 :$m $a[0]\n";
		} elsif ($op eq 'D') {
			push @lines, "D $a[0]\n";
		} elsif ($op eq 'R') {
			push @lines, "R $a[0] $a[1]\n";
		}
	}
	$mark++;
	my $a = $authors[int rand @authors];
	$time += 3600 + int rand 86400;
	print "commit refs/heads/$branch\nmark :$mark\n";
	print "author $a->[0] <$a->[1]> $time +0100\n";
	print "committer $a->[0] <$a->[1]> $time +0100\n";
	print "data ", length($msg), "\n$msg\n";
	print "from :$from\n" if $from;
	print "merge :$merge\n" if $merge;
	print @lines, "\n";
	return $mark;
}

sub random_existing {
	my @k = keys %files;
	@k = grep { !/_index\.md$/ && /\.md$/ } @k;
	return $k[int rand @k];
}

# Commit 1: the skeleton and the first articles.
my @ch;
$files{'site.toml'} = "title = \"Synthetisch handboek\"\nbase_url = \"https://example.org/\"\n";
push @ch, ['M', 'site.toml'];
$files{'content/_index.md'} = "+++\ntitle = \"Welkom\"\n+++\nHallo.\n";
push @ch, ['M', 'content/_index.md'];
for my $s (0 .. $sections - 1) {
	my $p = sprintf("content/deel-%02d/_index.md", $s);
	$files{$p} = "+++\ntitle = \"Deel $s\"\nweight = $s\n+++\nInleiding.\n";
	push @ch, ['M', $p];
}
my $first = int($articles / 10);
for (1 .. $first) {
	my $p = new_path();
	$files{$p} = article($next_id);
	push @ch, ['M', $p];
}
$commit_mark = commit('main', undef, undef, \@ch, "eerste versie\n");

my $per = ($articles - $first) / ($commits - 1);
my $owed = 0;
my $made = 1;
while ($made < $commits) {
	if ($made % 50 == 0 && $commits - $made >= 3) {
		# A side branch of two commits, merged without fast-forward.
		my $side = $commit_mark;
		for my $k (1 .. 2) {
			my $p = random_existing();
			$files{$p} .= "\n" . para();
			$side = commit('zijtak', $side, undef, [['M', $p]], "zijtak: aanvulling $k\n");
		}
		my $p = new_path();
		$files{$p} = article($next_id);
		$commit_mark = commit('main', $commit_mark, $side, [['M', $p]],
				      "Merge branch 'zijtak'\n");
		$made += 3;
		$owed += 3 * $per - 1; # the three commits added one article
		next;
	}
	@ch = ();
	$owed += $per;
	while ($owed >= 1) {
		my $p = new_path();
		$files{$p} = article($next_id);
		push @ch, ['M', $p];
		$owed--;
	}
	my $r = rand;
	if ($r < 0.5) {
		for (1 .. 1 + int rand 2) {
			my $p = random_existing();
			next if grep { $_->[1] && $_->[1] eq $p } @ch;
			$files{$p} =~ s/(\w+)\./$1 en nog een zin./;
			push @ch, ['M', $p];
		}
	} elsif ($r < 0.56) {
		my $o = random_existing();
		(my $n = $o) =~ s/artikel-(\d+)/artikel-$1-herzien/;
		$n =~ s/-herzien-herzien/-herzien2/;
		unless (exists $files{$n} || grep { $_->[1] eq $o } @ch) {
			$files{$n} = delete $files{$o};
			push @ch, ['R', $o, $n];
			if (rand() < 0.5) {
				$files{$n} .= "\n" . para();
				push @ch, ['M', $n];
			}
		}
	} elsif ($r < 0.58) {
		my $o = random_existing();
		unless (grep { $_->[1] eq $o } @ch) {
			delete $files{$o};
			push @ch, ['D', $o];
			$owed++;
		}
	}
	@ch = ([ 'M', 'site.toml' ]) unless @ch;
	$commit_mark = commit('main', $commit_mark, undef, \@ch, "wijziging $made\n");
	$made++;
}
print "reset refs/heads/zijtak\nfrom :$commit_mark\n\n";
