package Ttai::Test;

# Selects the runner for the project's Test::Nginx-style .t files.
#
#     use FindBin;
#     use lib "$FindBin::Bin/lib";
#     use Ttai::Test;
#
# On import it fills in defaults for the TEST_NGINX_* environment, then
# hands over to Test::Nginx::Socket when that can be loaded, and otherwise
# to Ttai::Test::Runner, so that the .t behaves exactly as if it had said
# "use Test::Nginx::Socket;" (or "use Ttai::Test::Runner;").
#
# TTAI_TEST_RUNNER=own forces Ttai::Test::Runner even when Test::Nginx is
# installed; TTAI_TEST_VERBOSE=1 prints which runner was chosen.
#
# Both runners get the same defaults: a server root of its own per .t
# (t/servroot/NAME), and, for each block, a fresh empty folder outside it
# in $TEST_NGINX_TTAI_SCRATCH for what nginx writes besides its logs
# (ttai_state_dir, ttai_db), and $TEST_NGINX_TTAI_SCRATCH_REL, the same
# folder as a path relative to the server root, which is nginx's prefix:
# for the directives whose relative paths nginx resolves against it.
# Test::Nginx removes only conf, html, logs, cache and the *_temp folders
# of its server root, and stops the whole run when anything else is left
# there.

use strict;
use warnings;

use Cwd ();
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use File::Spec;
use Ttai::Util ();

our $VERSION = '0.01';

# t/lib/Ttai/Test.pm -> the repository root is three levels above t/lib/Ttai.
my $RepoRoot = Cwd::abs_path(
    File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)), ('..') x 3));

my $EnvFile;

sub repo_root { $RepoRoot }

sub import {
    my ($class, @args) = @_;

    set_defaults();

    my $runner = choose_runner();

    if ($ENV{TTAI_TEST_VERBOSE}) {
        print STDERR "# Ttai::Test: using $runner\n";
    }

    add_scratch_preprocessor($runner);

    # Keep caller() == the .t's package: Test::Base and Spiffy export into
    # caller(), so the runner's import must run in place of ours.
    @_ = ($runner, @args);
    my $import = $runner->can('import')
        or die "Ttai::Test: $runner has no import method\n";
    goto &$import;
}

sub set_defaults {
    $ENV{TEST_NGINX_BINARY} //= '/usr/sbin/nginx';
    $ENV{TEST_NGINX_REPO_ROOT} //= $RepoRoot;

    # Test::Nginx's own default, t/servroot, is one folder for every .t;
    # one each can be looked at after the run, and lets prove -j run them
    # side by side.  Test::Nginx makes only the last folder of the path.
    if (!defined $ENV{TEST_NGINX_SERVROOT}) {
        my $parent = File::Spec->catdir($RepoRoot, 't', 'servroot');
        make_path($parent);
        $ENV{TEST_NGINX_SERVROOT} = File::Spec->catdir($parent,
                                                       basename($0, '.t'));
    }

    set_scratch('nginx-0');

    if (!defined $ENV{TEST_NGINX_LOAD_MODULES}) {
        my $so = "$RepoRoot/build/nginx/ngx_http_ttai_module.so";
        $ENV{TEST_NGINX_LOAD_MODULES} = $so if -f $so;
    }

    if (!defined $ENV{TEST_NGINX_TTAI_ENV_FILE}) {
        $ENV{TEST_NGINX_TTAI_ENV_FILE} = write_env_file();
    }
}

# Fresh random secrets for this test process, in a file of its own: a
# suite mints tokens with the secret it read when it started, and nginx
# reads the file again for every block, so a file shared by suites that
# run side by side (prove -j) would change under them.
sub write_env_file {
    return $EnvFile if $EnvFile;

    my $file = Ttai::Util::scratch_dir('env') . '/dev.vars';

    my $old_umask = umask 077;
    open my $out, '>', $file or die "Ttai::Test: cannot write $file: $!\n";
    umask $old_umask;
    chmod 0600, $file or die "Ttai::Test: cannot chmod $file: $!\n";

    print $out 'JWT_SECRET=', random_hex(32), "\n",
               'TOKEN_ENCRYPTION_KEY=', random_hex(32), "\n",
               "ENVIRONMENT=development\n";
    close $out or die "Ttai::Test: cannot write $file: $!\n";

    $EnvFile = $file;
    return $file;
}

sub random_hex {
    my ($bytes) = @_;

    open my $in, '<:raw', '/dev/urandom'
        or die "Ttai::Test: cannot open /dev/urandom: $!\n";
    my $buf;
    my $got = read $in, $buf, $bytes;
    close $in;
    die "Ttai::Test: short read from /dev/urandom\n"
        unless defined $got && $got == $bytes;

    return unpack 'H*', $buf;
}

sub choose_runner {
    my $want = $ENV{TTAI_TEST_RUNNER} // '';

    if ($want ne 'own' && load_test_nginx()) {
        add_plan_fallback('Test::Nginx::Socket');
        return 'Test::Nginx::Socket';
    }

    require Ttai::Test::Runner;
    return 'Ttai::Test::Runner';
}

# Test::Nginx reads its environment when it is loaded.  Its default port,
# 1984, may be taken by another run on the same machine: a port reserved
# for this process is given instead (Ttai::Util::free_port; the project's
# runner reserves its own for each block).
sub load_test_nginx {
    my $port_set = $ENV{TEST_NGINX_PORT} || $ENV{TEST_NGINX_SERVER_PORT};
    my $port;

    $ENV{TEST_NGINX_PORT} = $port = Ttai::Util::free_port() unless $port_set;
    return 1 if eval { require Test::Nginx::Socket; 1 };
    unless ($port_set) {
        delete $ENV{TEST_NGINX_PORT};
        Ttai::Util::release_port($port);
    }
    return 0;
}

# Called last before each block, after the .t's own preprocessors.  A
# folder per block: the nginx of the block before may still be exiting,
# and writing its KV snapshot, when the next block starts.
sub add_scratch_preprocessor {
    my ($runner) = @_;
    my $add = $runner->can('add_block_preprocessor')
        or die "Ttai::Test: $runner has no add_block_preprocessor\n";
    my $n = 0;
    $add->(sub {
        $n++;
        set_scratch("nginx-$n");
    });
}

sub set_scratch {
    my ($name) = @_;
    my $dir = Ttai::Util::scratch_dir($name);

    $ENV{TEST_NGINX_TTAI_SCRATCH} = $dir;
    $ENV{TEST_NGINX_TTAI_SCRATCH_REL} =
        File::Spec->abs2rel($dir, $ENV{TEST_NGINX_SERVROOT});
}

# Test::Nginx::Socket's run_tests() never plans; a .t that does not call
# plan() would then end in Test::Base's END block, which plans no_plan
# after the fact and runs run_compare() on the first two sections of every
# block.  Plan no_plan at run_tests() instead, as Ttai::Test::Runner does.
# Done before the import, which copies run_tests into the .t's package.
sub add_plan_fallback {
    my ($class) = @_;
    no strict 'refs';
    no warnings 'redefine';
    my $orig = \&{"${class}::run_tests"};
    return unless defined &$orig;
    *{"${class}::run_tests"} = sub () {
        Test::More::plan('no_plan') unless Test::More->builder->has_plan;
        goto &$orig;
    };
}

1;
