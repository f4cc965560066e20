# scripts/gen-tools: a tool's JSON declaration becomes C whose strings are
# the JSON's, byte for byte, and a file that is wrong is refused with its
# name, and its line when the JSON itself is broken.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file read_file run_capture
                  skip_or_fail);

my $root = repo_root();
my $gen = "$root/scripts/gen-tools";
my $dir = scratch_dir('gen-tools');

my $hints = '"annotations": {"readOnlyHint": true, "destructiveHint": false,'
          . ' "idempotentHint": true, "openWorldHint": false}';

sub declare {
    my ($name, %m) = @_;
    my %d = (
        name => qq("$name"),
        budget => 900,
        annotations => substr($hints, length '"annotations": '),
        description => '"Does one thing."',
        inputSchema => '{"type": "object"}',
        %m,
    );
    return "{\n" . join(",\n", map { qq(  "$_": $d{$_}) }
                                grep { defined $d{$_} } sort keys %d)
         . "\n}\n";
}

sub gen {
    my (@files) = @_;
    return run_capture('perl', $gen, '-o', "$dir/out.c", @files);
}

# the C strings are the JSON's: quotes, backslashes, UTF-8, "??"
my $desc = "Says \"hi\" \\ twice??! \x{e9}t\x{e9} \x{2014} 100%";
my $json = JSON::PP->new->ascii->encode($desc);
write_file("$dir/a/say_hi.json", declare('say_hi',
    title => '"Say hi"',
    toolset => '"market"',
    description => $json,
    inputSchema => '{ "type" : "object", "properties": {"b": {"type":'
                 . ' "string", "description": "z"}, "a": {"type": '
                 . '"integer"}}, "additionalProperties" : false }'));

my ($rc, $out) = gen("$dir/a/say_hi.json");
is $rc, 0, 'a declaration generates' or diag $out;

my $c = read_file("$dir/out.c");
like $c, qr/do not edit/, 'the C file says it is generated';
like $c, qr/TTAI_TOOL_IDEMPOTENT \| TTAI_TOOL_READ_ONLY,/,
    'the annotations become flags';

write_file("$dir/main.c", <<'C');
#include <stdio.h>
#include "ttai_tools.h"
int
main(void)
{
    const ttai_tool_t  *t = &ttai_tool_decls[0].tool;

    printf("%s\n%s\n%s\n%s\n%s\n%zu\n%d\n", t->name, t->description,
           t->input_schema, t->output_schema ? "output" : "no output",
           t->toolset, ttai_tool_decls[0].budget,
           ttai_tool_decls[1].tool.name == NULL);
    return 0;
}
C

SKIP: {
    skip_or_fail('no C compiler', 2)
        unless system('cc --version >/dev/null 2>&1') == 0;

    my @inc = map { "-I$_" } glob("$root/shared/*");
    ($rc, $out) = run_capture('cc', '-Wall', '-Wextra', '-Werror', @inc,
                              '-o', "$dir/main", "$dir/main.c",
                              "$dir/out.c");
    is $rc, 0, 'the C file compiles without a warning' or diag $out;

    ($rc, $out) = run_capture("$dir/main");
    my $want = "say_hi\n" . do { my $d = $desc; utf8::encode($d); $d }
             . "\n" . '{"type":"object","properties":{"b":{"type":"string",'
             . '"description":"z"},"a":{"type":"integer"}},'
             . '"additionalProperties":false}' . "\nno output\nmarket\n900\n1\n";
    is $out, $want, 'its strings are the JSON, compact, members in order';
}

# what is refused, and how it is said
my @bad = (
    [ 'broken JSON', 'x', "{\n  \"name\": \"x\",\n  \"title\" \"X\"\n}\n",
      qr{x\.json: line 3: ":" expected} ],
    [ 'a member twice', 'x',
      "{\"name\": \"x\",\n\"name\": \"x\"}", qr{x\.json: line 2: "name" is given twice} ],
    [ 'a missing member', 'x', declare('x', description => undef),
      qr{x\.json: "description" is required} ],
    [ 'an unknown member', 'x', declare('x', color => '"red"'),
      qr{x\.json: unknown member "color"; the members are name, title, toolset, budget} ],
    [ 'a toolset that is not a string', 'x', declare('x', toolset => '["market"]'),
      qr{x\.json: "toolset" must be a string} ],
    [ 'a name that is not the file', 'x', declare('y'),
      qr{x\.json: the tool "y" must be in y\.json} ],
    [ 'no budget', 'x', declare('x', budget => undef),
      qr{x\.json: "budget" is required} ],
    [ 'a budget of 0', 'x', declare('x', budget => 0),
      qr{x\.json: "budget" must be a whole number of bytes} ],
    [ 'a budget that is a string', 'x', declare('x', budget => '"2k"'),
      qr{x\.json: "budget" must be a whole number of bytes} ],
    [ 'an empty description', 'x', declare('x', description => '""'),
      qr{x\.json: "description" is empty} ],
    [ 'a hint that is not boolean', 'x',
      declare('x', annotations => '{"readOnlyHint": 1, "destructiveHint": '
              . 'false, "idempotentHint": true, "openWorldHint": false}'),
      qr{x\.json: annotation "readOnlyHint" must be true or false} ],
    [ 'a missing hint', 'x',
      declare('x', annotations => '{"readOnlyHint": true}'),
      qr{x\.json: annotation "destructiveHint" must be true or false} ],
    [ 'an unknown hint', 'x',
      declare('x', annotations => '{"readOnly": true}'),
      qr{x\.json: unknown annotation "readOnly"} ],
    [ 'a schema that is not an object', 'x',
      declare('x', inputSchema => '"object"'),
      qr{x\.json: "inputSchema" must be an object} ],
    [ 'text after the object', 'x', declare('x') . "{}",
      qr{x\.json: line \d+: text after the JSON object} ],
);

for my $b (@bad) {
    my ($what, $name, $text, $re) = @$b;
    my $sub = "$dir/bad-" . ($what =~ s/\W+/-/gr);
    write_file("$sub/$name.json", $text);
    unlink "$dir/out.c";
    ($rc, $out) = gen("$sub/$name.json");
    isnt $rc, 0, "refused: $what";
    like $out, $re, "and said: $what";
    ok !-e "$dir/out.c", "no C file is left: $what";
}

# every file shipped generates
($rc, $out) = gen(glob("$root/shared/tools/schemas/*.json"));
is $rc, 0, 'the shipped declarations generate' or diag $out;

done_testing();
