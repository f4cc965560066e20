# ttai llm usage: the calls to LLM providers (migration 0013) by user,
# provider and model, today's by default, one user's or since a time.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir run_capture skip_or_fail);

my $root = repo_root();
skip_or_fail('not built: run make') unless -x "$root/build/ttai";

my $dir = scratch_dir('llm-usage');
my $db = "$dir/db.sqlite";

sub ttai { run_capture("$root/build/ttai", @_) }

my ($rc, $out) = ttai('d1', 'migrations', 'apply', '--db', $db,
                      '--migrations', "$root/migrations");
is $rc, 0, 'the migrations apply' or diag $out;

my $now = time * 1000;
my $old = $now - 3 * 86400 * 1000;
($rc, $out) = run_capture('sqlite3', $db, <<"SQL");
INSERT INTO llm_usage (at, user_id, provider, model, input_tokens,
    output_tokens, latency_ms, outcome) VALUES
  ($now, 'alice', 'anthropic', 'claude-sonnet-4-20250514', 1200, 300, 900, 'ok'),
  ($now, 'alice', 'anthropic', 'claude-sonnet-4-20250514', 800, 100, 700, 'overloaded'),
  ($now, 'bob', 'mock', 'analyst', 50, 20, 5, 'ok'),
  ($old, 'alice', 'openai', 'gpt-4o', 10, 10, 100, 'ok');
SQL
is $rc, 0, 'four calls recorded' or diag $out;

($rc, $out) = ttai('llm', 'usage', '--db', $db);
is $rc, 0, 'usage';
like $out, qr/^alice\s+anthropic\s+claude-sonnet-4-20250514\s+2\s+2000\s+400\s+1\s+800$/m,
    "today's calls of alice: 2 requests, tokens in and out, 1 error, mean latency";
like $out, qr/^bob\s+mock\s+analyst\s+1\s+50\s+20\s+0\s+5$/m, "and bob's";
unlike $out, qr/gpt-4o/, 'not the calls of three days ago';
like $out, qr/\(2 lines\)/, 'two lines';

($rc, $out) = ttai('llm', 'usage', '--user', 'alice', '--since', '7d',
                   '--db', $db);
like $out, qr/gpt-4o/, '--since 7d: the older call too';
unlike $out, qr/^bob/m, '--user: one user\'s';

($rc, $out) = ttai('llm', 'usage', '--since', 'yesterday', '--db', $db);
is $rc, 2, 'a --since that is no time is a usage error';
like $out, qr/is not a date, a time or an age/, 'saying so';

($rc, $out) = ttai('llm', '--help');
is $rc, 0, '--help';
like $out, qr/Usage: ttai llm usage/, 'shows the verb';
($rc, $out) = ttai('llm', 'spend', '--db', $db);
is $rc, 2, 'an unknown verb is a usage error';

done_testing;
