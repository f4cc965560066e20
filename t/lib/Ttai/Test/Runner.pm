package Ttai::Test::Runner;

# Runs .t files written in the Test::Nginx::Socket data-driven format
# against a foreground nginx, using Test::Base to parse the blocks.
# Normally loaded through Ttai::Test, which prefers the real
# Test::Nginx::Socket when it is installed.
#
# What Test::Nginx::Socket would refuse, or would run differently, fails
# here too, so that a .t that passes here passes there: a section this
# runner does not implement, or that neither knows; anything but conf,
# html, logs, cache, *_cache and *_temp left in the server root (which
# stops Test::Nginx); a block without --- config and none before it;
# $TEST_NGINX_* in a section Test::Nginx does not expand; delay_before on
# the first packet of a request, which Test::Nginx ignores.  Blocks run
# shuffled, as there, unless no_shuffle() or TEST_NGINX_NO_SHUFFLE=1.

use strict;
use warnings;

use Test::Base -base;

use Cwd ();
use File::Basename qw(basename dirname);
use File::Copy ();
use File::Path qw(make_path remove_tree);
use File::Spec;
use IO::Select;
use IO::Socket::INET;
use List::Util qw(shuffle);
use POSIX qw(WNOHANG WIFEXITED WEXITSTATUS WIFSIGNALED WTERMSIG);
use Scalar::Util qw(looks_like_number);
use Text::Diff ();
use Time::HiRes qw(sleep time);
use Time::Local qw(timegm);
use Ttai::Util ();

our $VERSION = '0.01';

our @EXPORT = qw(
    run_tests repeat_each blocks plan no_shuffle
    log_level workers worker_connections
    master_on master_off master_process_enabled
    no_long_string no_root_location env_to_nginx check_accum_error_log
    timeout server_name config_preamble is_str bail_out
    add_block_preprocessor add_cleanup_handler
    server_root html_dir server_port
);

my $RepoRoot = Cwd::abs_path(
    File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)), ('..') x 4));

our $RepeatEach        = 1;
our $Workers           = 1;
our $WorkerConnections = 64;
our $MasterProcess     = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $Sleep             = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $Verbose           = $ENV{TEST_NGINX_VERBOSE};
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND};
our $NoClean           = $ENV{TEST_NGINX_NO_CLEAN};
our $CheckAccumErrLog  = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE};
our $ServerName        = 'localhost';
our $ConfigPreamble    = '';
our ($NoRootLocation, $NoLongString);
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers);

my $UserServRoot = $ENV{TEST_NGINX_SERVROOT};
my $UserPort     = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT};
my $UserClientPort = $ENV{TEST_NGINX_CLIENT_PORT};
my $MainPid      = $$;

my $Nginx;          # the nginx we started: { pid, name, root, port, valgrind }
my @BlockPorts;     # the ports reserved for the block being run
our $CurBlock;      # state of the block being run
my $PrevConfig;     # --- config of the previous block (reused when absent)
my $NginxVersion;   # e.g. 1.022001

# The sections this runner implements, and those of Test::Nginx::Socket
# that only matter in modes it does not have (leak checks, HTTP/2 and 3,
# mockeagain), which it may ignore.  ONLY, SKIP and LAST are Test::Base's.
my %Supported = map { $_ => 1 } qw(
    main_config post_main_config http_config config server_name init
    user_files log_level request raw_request pipelined_requests
    more_headers raw_request_middle_delay timeout wait abort shutdown
    http09 ignore_response error_code error_code_like response_headers
    response_headers_like raw_response_headers_like
    raw_response_headers_unlike response_body response_body_like
    response_body_unlike error_log no_error_log grep_error_log
    grep_error_log_out access_log no_access_log shutdown_error_log
    no_shutdown_error_log must_die skip_eval skip_nginx
    ONLY SKIP LAST
);
my %Inert = map { $_ => 1 } qw(
    no_check_leak no_http2 no_http3 no_mockeagain quic_max_idle_timeout
    suppress_stderr
);

# The other sections Test::Nginx::Socket knows.
my %Unsupported = map { $_ => 1 } qw(
    tcp_listen tcp_reply tcp_query tcp_query_len tcp_shutdown tcp_no_close
    tcp_reply_delay tcp_query_auto_timeout tcp_shutdown_delay udp_listen
    udp_reply udp_query udp_reply_delay stap stap_out stap_out_like
    stap_out_unlike http2 http3 curl curl_protocol curl_options curl_error
    skip_nginx2 skip_openssl skip_slave todo todo_nginx
    response_body_filters response_body_json_sort server_addr_for_client
    error_log_file reload_fails charset request_eval response_body_eval
    req_headers resp_title post_setup_server_root write_resp_body_file
);

# What Test::Base keeps in a block besides its sections.
my %BlockFields = map { $_ => 1 } qw(
    name description seq_num is_filtered blocks_object original_values
    _section_map _section_order
);

# Sections whose $TEST_NGINX_* variables are expanded, as Test::Nginx
# does: the nginx configuration and user files; the pipelined requests and
# the expected body, strings or arrays of them; the expected
# grep_error_log output when it is a string.
my @ConfSections = qw(main_config post_main_config http_config config
                      user_files);

# Sections where Test::Nginx leaves $TEST_NGINX_* as written.
my @LiteralSections = qw(request raw_request more_headers
                         response_body_like response_body_unlike
                         response_headers response_headers_like
                         raw_response_headers_like
                         raw_response_headers_unlike error_log
                         no_error_log grep_error_log shutdown_error_log
                         no_shutdown_error_log access_log no_access_log
                         error_code error_code_like);

# --- settings (called from the .t before run_tests) ----------------------

sub repeat_each (@)        { $RepeatEach = shift if @_; $RepeatEach }
sub workers (@)            { $Workers = shift if @_; $Workers }
sub worker_connections (@) { $WorkerConnections = shift if @_; $WorkerConnections }
sub log_level (@)          { $LogLevel = shift if @_; $LogLevel }
sub timeout (@)            { $Timeout = shift if @_; $Timeout }
sub server_name (@)        { $ServerName = shift if @_; $ServerName }
sub master_on ()           { $MasterProcess = 'on' }
sub master_off ()          { $MasterProcess = 'off' }
sub no_shuffle ()          { $NoShuffle = 1 }
sub no_long_string ()      { $NoLongString = 1 }
sub no_root_location ()    { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($)    { $ConfigPreamble = shift }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)    { unshift @CleanupHandlers, shift }

sub master_process_enabled (@) {
    $MasterProcess = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcess;
}

sub env_to_nginx (@) {
    Carp::croak('env_to_nginx: no arguments specified') unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub server_root () {
    return File::Spec->rel2abs($UserServRoot
        // "$RepoRoot/t/servroot/" . basename($0, '.t'));
}

sub html_dir ()    { server_root() . '/html' }
sub server_port () { $CurBlock ? $CurBlock->{port} : $UserPort }

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc) if ref $expected eq 'Regexp';
    return is_text($got, $expected, $desc);
}

# Test::More::is, plus a unified diff of multi-line strings on failure.
sub is_text {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = Test::More::is($got, $expected, $desc);
    if (!$ok && defined $got && defined $expected
        && "$got$expected" =~ /\n./)
    {
        Test::More::diag(Text::Diff::diff(\$expected, \$got,
                                          { STYLE => 'Unified' }));
    }
    return $ok;
}

# --- the main loop -------------------------------------------------------

sub run_tests () {
    Test::More::plan('no_plan') unless Test::More->builder->has_plan;

    $NginxVersion //= nginx_version();

    local $SIG{PIPE} = 'IGNORE';
    local $SIG{INT}  = sub { cleanup(); exit 130 };
    local $SIG{TERM} = sub { cleanup(); exit 143 };

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        my $failed = failures();
        run_block($block);
        keep_logs($block) if failures() > $failed;
    }

    if ($NoClean && $Nginx) {
        Test::More::diag("TEST_NGINX_NO_CLEAN: nginx pid $Nginx->{pid} left"
                         . " running on 127.0.0.1:$Nginx->{port}"
                         . " (servroot $Nginx->{root})");
        undef $Nginx;
    }
    cleanup();
}

sub failures {
    return scalar grep { !$_ } Test::More->builder->summary;
}

# The next block starts with empty logs: a failed block's are copied
# into the suite's scratch folder, which is kept when the suite fails.
sub keep_logs {
    my ($block) = @_;
    my $from = server_root() . '/logs';
    return unless -d $from;
    (my $name = $block->name) =~ s/[^\w.-]+/-/g;
    my $to = Ttai::Util::scratch_dir("failed-logs/$name");
    for my $f (glob "$from/*.log") {
        File::Copy::copy($f, $to);
    }
    Test::More::diag("the logs of \"" . $block->name . "\" are in $to");
}

sub run_block {
    my ($block) = @_;

    stop_nginx() if $Nginx;    # left running by TEST_NGINX_NO_CLEAN

    local %ENV = %ENV;
    my $st = { block => $block, name => "$0 " . $block->name,
               root => server_root(), pos => {} };
    local $CurBlock = $st;

    # the ports of the block before go back to the registry
    Ttai::Util::release_port(splice @BlockPorts);

    setup_ports($st);
    $ENV{TEST_NGINX_SERVROOT} = $ENV{TEST_NGINX_SERVER_ROOT} = $st->{root};

    return unless check_sections($st);
    return if skip_block($st);
    return unless expand_sections($st);

    setup_servroot($st);
    write_user_files($st);
    write_config($st);

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$st->{name} - init failed: $@") if $@;
    }

    if (defined $block->must_die) {
        run_must_die($st);
        check_leftovers($st);
        return;
    }

    my ($state, $status) = start_nginx($st, $UseValgrind);

    # a program outside the port registry bound one of the block's ports
    # first: the block starts again on new ones
    for (my $try = 1; $try < 5 && $state eq 'exited' && !$UserPort
                      && log_tails($st) =~ /Address already in use/; $try++)
    {
        Test::More::note("$st->{name} - port $st->{port} was taken;"
                         . " starting again on new ports");
        setup_ports($st);
        last unless expand_sections($st);
        setup_servroot($st);
        write_user_files($st);
        write_config($st);
        ($state, $status) = start_nginx($st, $UseValgrind);
    }

    if ($state ne 'ready') {
        stop_nginx();
        Test::More::fail("$st->{name} - nginx failed to start ($state"
                         . (defined $status ? ", status $status" : '') . ")");
        Test::More::diag(log_tails($st));
        check_leftovers($st);
        return;
    }

    for my $rep (0 .. $RepeatEach - 1) {
        run_requests($st, $rep);
    }

    return if $NoClean;

    stop_nginx();

    if (defined $block->shutdown_error_log
        || defined $block->no_shutdown_error_log)
    {
        my $lines = new_log_lines($st, 'error.log');
        check_patterns($st, $lines, sec($st, 'shutdown_error_log'), 0,
                       'error.log (shutdown)', 0);
        check_patterns($st, $lines, sec($st, 'no_shutdown_error_log'), 1,
                       'error.log (shutdown)', 0);
    }

    check_leftovers($st);
}

sub setup_ports {
    my ($st) = @_;
    my ($port, @rand) = free_ports(4);

    $port = $UserPort if $UserPort;
    $st->{port} = $port;
    $st->{client_port} = $UserClientPort || $port;

    $ENV{TEST_NGINX_PORT} = $ENV{TEST_NGINX_SERVER_PORT} = $port;
    $ENV{TEST_NGINX_CLIENT_PORT} = $st->{client_port};
    $ENV{"TEST_NGINX_RAND_PORT_$_"} = $rand[$_ - 1] for 1 .. 3;
}

# Distinct ports on 127.0.0.1 for the block's nginx, reserved across the
# suites that run side by side (Ttai::Util::free_port) until the next
# block starts.
sub free_ports {
    my ($n) = @_;
    my @ports = eval { map { Ttai::Util::free_port() } 1 .. $n };
    bail_out("cannot reserve a free port on 127.0.0.1: $@") if $@;
    push @BlockPorts, @ports;
    return @ports;
}

sub skip_block {
    my ($st) = @_;
    my $b = $st->{block};
    my ($skip, $count, $reason);

    if (defined(my $spec = $b->skip_eval)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$st->{name} - invalid --- skip_eval: $spec");
        ($count, $reason) = ($1, 'skip_eval');
        my $code = $2;
        $skip = eval $code;
        bail_out("$st->{name} - skip_eval - failed to eval \"$code\": $@")
            if $@;
    }

    if (!$skip && defined(my $spec = $b->skip_nginx)) {
        $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                  (?:\s*:\s*(.*?))?\s*$/x
            or bail_out("$st->{name} - invalid --- skip_nginx: $spec");
        $count = $1;
        my ($op, $ver) = ($2, canon_version($3, $4, $5));
        $reason = $6 || "nginx version $op $3.$4.$5";
        $skip = eval "$NginxVersion $op $ver";
    }

    return 0 unless $skip;
  SKIP: { Test::More::skip("$st->{name} - $reason", $count) }
    return 1;
}

# --- sections ------------------------------------------------------------

# A section value after $TEST_NGINX_* expansion.
sub sec {
    my ($st, $name) = @_;
    return exists $st->{sec}{$name} ? $st->{sec}{$name}
                                     : scalar $st->{block}->$name;
}

# The sections of the block, as written or set by a preprocessor: fails
# the block, which is not run, when one would be ignored here.
sub check_sections {
    my ($st) = @_;
    my $b = $st->{block};
    my @bad;

    for my $s (sort keys %$b) {
        next if $BlockFields{$s} || $Supported{$s} || $Inert{$s};
        my ($v) = @{ $b->{$s} || [] };
        next unless defined $v;
        push @bad, $Unsupported{$s}
            ? "--- $s is not supported by Ttai::Test::Runner"
            : "--- $s is a section that Test::Nginx::Socket does not know"
              . " (and would ignore)";
    }

    return 1 unless @bad;
    Test::More::fail("$st->{name} - $_") for @bad;
    return 0;
}

# Returns false, having failed the block, when Test::Nginx would not run
# it as written.
sub expand_sections {
    my ($st) = @_;
    my $b = $st->{block};

    my $config = $b->config;
    $config = $PrevConfig unless defined $config;
    if (!defined $config) {
        bail_out("$st->{name} - No '--- config' section specified and"
                 . " could not get previous one");
    }
    $PrevConfig = $config;
    $st->{sec}{config} = expand($st, $config);

    for my $s (grep { $_ ne 'config' } @ConfSections) {
        $st->{sec}{$s} = expand($st, scalar $b->$s);
    }

    for my $s (qw(pipelined_requests response_body)) {
        $st->{sec}{$s} = expand($st, scalar $b->$s);
    }
    my $grep_out = $b->grep_error_log_out;
    $st->{sec}{grep_error_log_out} = ref $grep_out ? $grep_out
                                                   : expand($st, $grep_out);

    my $ok = 1;
    for my $s (@LiteralSections) {
        my @vars = literal_vars(scalar $b->$s);
        next unless @vars;
        Test::More::fail("$st->{name} - --- $s: Test::Nginx::Socket does not"
            . " expand " . join(', ', map { "\$$_" } @vars) . " here;"
            . " build the value in Perl (eval) instead");
        $ok = 0;
    }

    return $ok;
}

# The $TEST_NGINX_* names in a section value (a string, or the strings of
# an array of them, as request packets can be).
sub literal_vars {
    my ($v) = @_;
    return () unless defined $v;
    return map { literal_vars($_) } @$v if ref $v eq 'ARRAY';
    return literal_vars($v->{value}) if ref $v eq 'HASH';
    return () if ref $v;
    my %seen;
    return grep { !$seen{$_}++ } $v =~ /\$(TEST_NGINX_[_A-Z0-9]+)/g;
}

sub expand {
    my ($st, $v) = @_;
    return $v if !defined $v;
    return [ map { expand($st, $_) } @$v ] if ref $v eq 'ARRAY';
    return { %$v, value => expand($st, $v->{value}) } if ref $v eq 'HASH';
    return $v if ref $v;
    $v =~ s/\$(TEST_NGINX_[_A-Z0-9]+)/env_value($st, $1)/ge;
    return $v;
}

sub env_value {
    my ($st, $var) = @_;
    if (!defined $ENV{$var} && $var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
        ($ENV{$var}) = free_ports(1);
    }
    die "$st->{name} - environment variable \$$var is used in the test"
        . " block but not defined\n" unless defined $ENV{$var};
    return $ENV{$var};
}

# For several requests, expectations must be arrays (as in Test::Nginx).
sub indexed {
    my ($st, $value, $idx, $need_array) = @_;
    if (ref $value eq 'ARRAY') {
        return $value->[$need_array ? $idx : 0];
    }
    bail_out("$st->{name} - You asked for many requests, the expected"
             . " results should be arrays as well.") if $need_array;
    return $value;
}

# --- servroot and nginx.conf ---------------------------------------------

# As Test::Nginx: what it made in the server root is removed, then the
# root itself, which must be empty by then; anything else left in it stops
# the run.
sub setup_servroot {
    my ($st) = @_;
    my $root = $st->{root};

    if (-d $root) {
        remove_tree(map { "$root/$_" } qw(conf cache html logs));
        remove_tree(glob("$root/*_cache"), glob("$root/*_temp"));
        if (!rmdir $root) {
            my $err = $!;
            bail_out("Can't remove $root (not empty?): $err: "
                     . join(', ', leftovers($root)));
        }
    }
    make_path(map { "$root/$_" } qw(conf logs html));

    write_file("$root/html/index.html",
               '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>');
}

# What the next block's setup_servroot could not remove.
sub leftovers {
    my ($root) = @_;
    opendir my $dh, $root or return ();
    my @left = grep { !/^(?:\.\.?|conf|cache|html|logs|.*_cache|.*_temp)$/ }
               readdir $dh;
    closedir $dh;
    return map { -d "$root/$_" ? "$_/" : $_ } sort @left;
}

# Fails the block that left something in the server root, which
# Test::Nginx would stop at before the next block.
sub check_leftovers {
    my ($st) = @_;
    my @left = leftovers($st->{root});
    return unless @left;
    Test::More::fail("$st->{name} - left " . join(', ', @left) . " in the"
        . " server root, where Test::Nginx removes only conf, html, logs,"
        . " cache, *_cache and *_temp; write it under"
        . " \$TEST_NGINX_TTAI_SCRATCH");
}

sub write_user_files {
    my ($st) = @_;
    my $files = sec($st, 'user_files');
    return unless $files;

    my @files;
    if (ref $files eq 'ARRAY') {
        @files = @$files;
    } elsif (!ref $files) {
        for my $line (split /^/m, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @files, [$1, '', $2];
            } elsif (@files) {
                $files[-1][1] .= $line;
            }
        }
    } else {
        bail_out("$st->{name} - --- user_files must be a string or an array");
    }

    for my $f (@files) {
        my ($fname, $body, $date) = @$f;
        my $path = $fname =~ m{^/} ? $fname : "$st->{root}/html/$fname";
        make_path(dirname($path));
        write_file($path, $body // '');
        next unless $date;
        $date =~ /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d\d))?\s*$/
            or bail_out("$st->{name} - bad user_files time stamp: $date");
        my $t = timegm($6 // 0, $5, $4, $3, $2 - 1, $1);
        utime $t, $t, $path;
    }
}

sub write_config {
    my ($st) = @_;
    my ($root, $b) = ($st->{root}, $st->{block});

    my $load = join '', map { 'load_module ' . File::Spec->rel2abs($_) . ";\n" }
                        split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $env = join '', map { my $v = /\s/ ? "'$_'" : $_; "env $v;\n" }
                       qw(LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS), @EnvToNginx;
    my $user = $> == 0 ? "user root;\n" : '';
    my $level = $b->log_level || $LogLevel;
    my $server_name = $b->server_name // $ServerName;
    my %s = map { $_ => sec($st, $_) // '' }
                qw(main_config post_main_config http_config config);
    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $root/html;
            index index.html index.htm;
        }
_EOC_

    my $conf = <<"_EOC_";
$load
worker_processes $Workers;
daemon off;
master_process $MasterProcess;
error_log $root/logs/error.log $level;
pid $root/logs/nginx.pid;
$env$user
$s{main_config}

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
}

http {
    access_log $root/logs/access.log;
    client_body_temp_path $root/client_body_temp;
    proxy_temp_path $root/proxy_temp;
    fastcgi_temp_path $root/fastcgi_temp;
    uwsgi_temp_path $root/uwsgi_temp;
    scgi_temp_path $root/scgi_temp;
    default_type text/plain;
    keepalive_timeout 68;

$s{http_config}

    server {
        listen 127.0.0.1:$st->{port};
        server_name '$server_name';
        client_max_body_size 30M;

$ConfigPreamble
        # Begin test case config...
$s{config}
        # End test case config.

$root_location    }
}

$s{post_main_config}
_EOC_

    write_file("$root/conf/nginx.conf", $conf);
    Test::More::diag("$st->{name} - nginx.conf:\n$conf") if $Verbose;
}

sub write_file {
    my ($path, $data) = @_;
    open my $out, '>:raw', $path or bail_out("cannot write $path: $!");
    print $out $data;
    close $out or bail_out("cannot write $path: $!");
}

# --- the nginx process ---------------------------------------------------

sub nginx_version {
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $out = `$bin -v 2>&1` // '';
    return canon_version($1, $2, $3) if $out =~ m{/(\d+)\.(\d+)\.(\d+)};
    bail_out("cannot get the nginx version from \"$bin -v\": $out");
}

sub canon_version { sprintf '%d.%03d%03d', @_ }

sub valgrind_command {
    my @cmd = ('valgrind', '-q');
    if ($UseValgrind =~ /^\d+$/) {
        push @cmd, qw(--tool=memcheck --leak-check=full
                      --show-possibly-lost=no --num-callers=30
                      --keep-debuginfo=yes --gen-suppressions=all);
    } else {
        push @cmd, split ' ', $UseValgrind;
    }
    my $supp = "$RepoRoot/t/valgrind.suppress";
    push @cmd, "--suppressions=$supp"
        if -f $supp && !grep { /^--suppressions=/ } @cmd;
    return @cmd;
}

# Starts nginx in the foreground.  Returns ('ready'), ('exited', $status)
# or ('timeout').
sub start_nginx {
    my ($st, $valgrind) = @_;
    my $root = $st->{root};

    my @cmd = (split(' ', $ENV{TEST_NGINX_BINARY} || 'nginx'),
               '-p', "$root/", '-c', "$root/conf/nginx.conf");
    # -e (nginx >= 1.19.5) keeps start-up errors out of the binary's
    # default error log (stderr for Debian's build, a system file for others).
    push @cmd, '-e', "$root/logs/error.log" if $NginxVersion >= 1.019005;
    unshift @cmd, valgrind_command() if $valgrind;

    my $pid = fork;
    bail_out("$st->{name} - fork failed: $!") unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$root/logs/stderr.log";
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "Ttai::Test::Runner: cannot exec @cmd: $!\n";
        POSIX::_exit(127);
    }

    $Nginx = { pid => $pid, name => $st->{name}, root => $root,
               port => $st->{port}, valgrind => $valgrind };

    my $deadline = time + ($valgrind ? 120 : 10);
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            undef $Nginx;
            return ('exited', $?);
        }
        # the pid file is written once every socket is bound: a
        # listener on the port before that is another program's
        return ('ready') if port_listening($st->{port})
                            && pid_file_names("$root/logs/nginx.pid", $pid);
        return ('timeout') if time > $deadline;
        sleep 0.01;
    }
}

sub pid_file_names {
    my ($file, $pid) = @_;
    open my $in, '<', $file or return 0;
    my $line = <$in> // '';
    return $line =~ /^(\d+)/ && $1 == $pid;
}

# Reads /proc/net/tcp instead of connecting, so that no probe connection
# shows up in error.log.
sub port_listening {
    my ($port) = @_;
    if (open my $in, '<', '/proc/net/tcp') {
        my $want = sprintf ':%04X', $port;
        while (<$in>) {
            my @f = split ' ';
            return 1 if @f > 3 && $f[3] eq '0A' && substr($f[1], -5) eq $want;
        }
        return 0;
    }
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Proto => 'tcp', Timeout => 0.2) ? 1 : 0;
}

# SIGQUIT, then SIGKILL after a deadline.  QUIT is re-sent now and then:
# in single-process mode a signal that arrives just before epoll_wait()
# leaves nginx waiting forever (seen under valgrind).
sub stop_nginx {
    my $n = $Nginx or return;
    undef $Nginx;

    my $limit = $n->{valgrind} ? 120 : 10;
    my ($start, $next_quit, $killed) = (time, 0, 0);
    while (waitpid($n->{pid}, WNOHANG) == 0) {
        if (time - $start > $limit) {
            warn "WARNING: $n->{name} - nginx (pid $n->{pid}) did not exit"
                 . " within ${limit}s of SIGQUIT; killing it\n";
            kill 'KILL', $n->{pid};
            waitpid($n->{pid}, 0);
            $killed = 1;
            last;
        }
        if (time >= $next_quit) {
            kill 'QUIT', $n->{pid};
            $next_quit = time + ($next_quit ? 2 : 1);
        }
        sleep 0.01;
    }

    check_valgrind($n, $killed) if $n->{valgrind};
}

sub check_valgrind {
    my ($n, $killed) = @_;
    my @records;
    my $cur;

    open my $in, '<', "$n->{root}/logs/stderr.log" or return;
    while (my $line = <$in>) {
        if ($line =~ /^==\d+== (\S.*)/) {
            my $what = $1;
            undef $cur;
            next if $what =~ /^Warning:|possibly lost|still reachable/i;
            $cur = [$line];
            push @records, $cur;
        } elsif ($cur && $line =~ /^(?:==\d+==|[{}]|   )/) {
            push @$cur, $line;
        } else {
            undef $cur;
        }
    }
    close $in;

    my $ok = Test::More::ok(!@records && !$killed,
                            "$n->{name} - no valgrind errors");
    return if $ok;
    Test::More::diag("nginx was killed: valgrind could not report") if $killed;
    Test::More::diag(map { @$_ } @records);
}

sub log_tails {
    my ($st) = @_;
    my $out = '';
    for my $f (qw(stderr.log error.log)) {
        open my $in, '<', "$st->{root}/logs/$f" or next;
        my @lines = <$in>;
        splice @lines, 0, @lines - 20 if @lines > 20;
        $out .= "--- tail of logs/$f:\n" . join '', @lines;
    }
    return $out;
}

# --- must_die ------------------------------------------------------------

# As Test::Nginx: nginx is started once per repeat_each; each time one
# assertion on the exit status, then the --- error_log / --- no_error_log
# checks against logs/error.log only (what nginx prints on stderr is not
# looked at there either).  Never under valgrind.
sub run_must_die {
    my ($st) = @_;
    my $want = $st->{block}->must_die;
    my $name = $st->{name};

    for my $rep (0 .. $RepeatEach - 1) {
        my ($state, $status) = start_nginx($st, 0);
        if ($state ne 'exited') {
            warn "WARNING: $name - nginx must die but it does not;"
                 . " killing it (req $rep)\n";
            stop_nginx();
            $status = 0;
        }

        if ($status && WIFSIGNALED($status)) {
            Test::More::fail("$name - nginx killed by signal "
                             . WTERMSIG($status));
        } elsif ($status && WEXITSTATUS($status) == 127
                 && slurp("$st->{root}/logs/stderr.log") =~ /cannot exec/) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif (looks_like_number($want)) {
            Test::More::is(WEXITSTATUS($status), $want,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        check_error_log($st, $rep);
    }
}

sub slurp {
    my ($path) = @_;
    open my $in, '<', $path or return '';
    local $/;
    return scalar <$in>;
}

# --- requests ------------------------------------------------------------

sub run_requests {
    my ($st, $rep) = @_;
    my $b = $st->{block};

    my $reqs = build_requests($st);
    my $pipelined = sec($st, 'pipelined_requests');
    my $per_conn = $pipelined ? @$pipelined : 1;
    my $need_array = $pipelined ? 1 : @$reqs > 1;

    my $timeout = parse_time($b->timeout) // $Timeout;
    $timeout = 30 + 10 * $timeout if $UseValgrind;

    # Test::Nginx reads error.log from its start for the first request.
    $st->{pos}{'error.log'} = 0 if $rep == 0;

    my $idx = 0;
    for my $req (@$reqs) {
        my $raw = send_request($st, $req, $timeout);
        Test::More::diag("$st->{name} - response:\n$raw") if $Verbose;

        for my $k (1 .. $per_conn) {
            my ($res, $left);
            if (!defined $b->ignore_response) {
                ($res, $left) = parse_response($st, $raw, $req->{head});
                $raw = $left;
                check_error_code($st, $res, $idx, $need_array);
                check_response_headers($st, $res, $idx, $need_array);
                check_response_body($st, $res, $idx, $rep, $need_array);
            }
            if ($k < $per_conn || $idx < @$reqs - 1) {
                sleep $b->wait if $b->wait;
                check_error_log($st, $rep);
            }
            $idx++;
        }
        warn "WARNING: $st->{name} - unexpected extra bytes after the"
             . " response: \"" . escape($raw) . "\"\n"
            if defined $raw && length $raw && !defined $b->ignore_response;
    }

    sleep $b->wait if $b->wait;
    check_error_log($st, $rep);
}

sub parse_time {
    my ($t) = @_;
    return undef unless defined $t;
    return $1 / 1000 if $t =~ /^\s*([\d.]+)\s*ms\s*$/;
    return $1 if $t =~ /^\s*([\d.]+)\s*s?\s*$/;
    return $t;
}

# Returns [ { packets => [ { value, delay_before }, ... ], head => bool } ].
sub build_requests {
    my ($st) = @_;
    my $name = $st->{name};

    if (defined(my $raw = sec($st, 'raw_request'))) {
        my @parts = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        my $text = join '', @parts;
        return [ { packets => [ map { +{ value => $_ } } @parts ],
                   head => ($text =~ /^\s*HEAD\s/ ? 1 : 0) } ];
    }

    my $more = sec($st, 'more_headers') // '';
    my $more_for = sub {
        my ($i) = @_;
        return $more unless ref $more eq 'ARRAY';
        return $more->[$i] // bail_out("$name - --- more_headers lacks data"
                                       . " for request $i");
    };

    if (defined(my $reqs = sec($st, 'pipelined_requests'))) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $r = build_one($st, [$reqs->[$i]], $more_for->($i),
                              $i == $#$reqs ? 'close' : 'keep-alive');
            $all .= join '', map { $_->{value} } @{ $r->{packets} };
        }
        return [ { packets => [ { value => $all } ] } ];
    }

    my $req = sec($st, 'request');
    bail_out("$name - no --- request section") unless defined $req;
    if (!ref $req) {
        1 while $req =~ s/^\s*#[^\n]+\s+|^\s+//gs;    # leading comments
        return [ build_one($st, [$req], $more_for->(0), 'close') ];
    }
    bail_out("$name - --- request must be a string or an array of requests")
        unless ref $req eq 'ARRAY';

    return [ map {
        my $r = $req->[$_];
        build_one($st, ref $r eq 'ARRAY' ? $r : [$r], $more_for->($_), 'close')
    } 0 .. $#$req ];
}

# One request from "METHOD /uri [HTTP/x.y]\nbody", given as packets
# (strings or { value => ..., delay_before => ... }), as Test::Nginx
# builds it: Host and Connection headers unless given, the more_headers,
# and a Content-Length for a body (which is then trimmed).
sub build_one {
    my ($st, $parts, $more, $conn) = @_;
    my $name = $st->{name};

    my @parts = map { ref $_ eq 'HASH' ? {%$_} : { value => $_ // '' } } @$parts;
    my $text = join '', map { $_->{value} } @parts;

    my ($first) = $text =~ /\A([^\n]*\n?)/;
    my ($method, $uri, $ver) = grep { length } split ' ', $first;
    bail_out("$name - Request line should be non-empty") unless defined $method;
    my $line = "$method " . ($uri // '/') . ' ' . ($ver // 'HTTP/1.1') . "\r\n";

    my ($hdrs, $chunked) = ('', 0);
    for my $h (split /\n+/, $more) {
        next if $h =~ /^\s*(?:#|$)/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $v //= '';
        $chunked = 1 if lc $k eq 'transfer-encoding' && $v eq 'chunked';
        $hdrs .= "$k: $v\r\n";
    }

    my $content = substr $text, length $first;
    my $lead = 0;
    my $len_header = '';
    if (!$chunked && length $content && $hdrs !~ /(?:^|\n)Content-Length:/i) {
        ($lead) = map { length } $content =~ /\A(\s*)/;
        $content =~ s/^\s+|\s+$//gs;
        $len_header = 'Content-Length: ' . length($content) . "\r\n";
    }

    my $headers = '';
    $headers .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/i;
    $headers .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/i;
    my $prefix = "$line$headers$hdrs$len_header\r\n";
    my $full = $prefix . $content;

    # Split again where the packets were split in the original text.
    my ($off, $prev) = (0, 0);
    for my $i (0 .. $#parts) {
        $off += length $parts[$i]{value};
        my $pos;
        if ($i == $#parts) {
            $pos = length $full;
        } elsif ($off < length $first) {
            $pos = $off < length($line) - 2 ? $off : length($line) - 2;
        } else {
            my $o = $off - length($first) - $lead;
            $o = 0 if $o < 0;
            $o = length $content if $o > length $content;
            $pos = length($prefix) + $o;
        }
        $pos = $prev if $pos < $prev;
        $parts[$i]{value} = substr $full, $prev, $pos - $prev;
        $prev = $pos;
    }

    return { packets => \@parts, head => $method eq 'HEAD' };
}

sub send_request {
    my ($st, $req, $timeout) = @_;
    my ($name, $b) = ($st->{name}, $st->{block});
    my $port = $st->{client_port};

    if ($Verbose) {
        Test::More::diag("$name - request:\n"
                         . join '', map { $_->{value} } @{ $req->{packets} });
    }

    my $sock;
    my $deadline = time + $timeout;
    until ($sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $port, Proto => 'tcp',
                                         Timeout => $timeout))
    {
        my $err = $!;
        if (time >= $deadline || !$Nginx
            || waitpid($Nginx->{pid}, WNOHANG) == $Nginx->{pid})
        {
            Test::More::fail("$name - Can't connect to 127.0.0.1:$port:"
                             . " $err (aborted)");
            Test::More::diag(log_tails($st));
            return '';
        }
        sleep 0.05;
    }

    my $sel = IO::Select->new($sock);
    my $timed_out = sub {
        Test::More::fail("ERROR: client socket timed out - $name")
            unless defined $b->abort;
    };

    # Test::Nginx sends the first packet at once, whatever it says.
    if (defined $req->{packets}[0]{delay_before}) {
        Test::More::fail("$name - delay_before on the first packet of a"
                         . " request is ignored by Test::Nginx::Socket;"
                         . " split the request and delay a later packet");
    }

    my $n = 0;
  PACKET:
    for my $p (@{ $req->{packets} }) {
        my $delay = $n++ ? $p->{delay_before}
                           // $b->raw_request_middle_delay
                         : undef;
        sleep $delay if $delay;
        my ($buf, $off) = ($p->{value}, 0);
        while ($off < length $buf) {
            if (!$sel->can_write($timeout)) {
                $timed_out->();
                close $sock;
                return '';
            }
            my $w = syswrite $sock, $buf, length($buf) - $off, $off;
            if (!defined $w) {
                next if $!{EINTR} || $!{EAGAIN};
                warn "WARNING: $name - write failed: $!\n";
                last PACKET;
            }
            $off += $w;
        }
    }

    if (defined(my $how = $b->shutdown)) {
        shutdown $sock, $how =~ /^\s*$/ ? 1 : $how;
    }

    my $resp = '';
    while (1) {
        if (!$sel->can_read($timeout)) {
            $timed_out->();
            last;
        }
        my $r = sysread $sock, my $chunk, 65536;
        if (!defined $r) {
            next if $!{EINTR} || $!{EAGAIN};
            warn "WARNING: $name - HTTP response read failure: $!\n";
            last;
        }
        last if $r == 0;
        $resp .= $chunk;
    }
    close $sock;
    return $resp;
}

# Returns ($res, $rest): $res = { code, headers => { lc name => [values] },
# raw_headers, body }, and $rest = the bytes after this response.
sub parse_response {
    my ($st, $raw, $head) = @_;
    my %res = (code => undef, headers => {}, raw_headers => '', body => '');

    if (defined $st->{block}->http09) {
        @res{qw(code body)} = (200, $raw);
        return (\%res, '');
    }

    my $rest = '';
    if ($raw =~ /\A(.*?\r\n)\r\n/s) {
        $res{raw_headers} = $1;
        $rest = substr $raw, $+[0];
    } else {
        $res{raw_headers} = $raw;
    }

    my ($status, @lines) = split /\r\n/, $res{raw_headers};
    $res{code} = $1 if defined $status && $status =~ m{^HTTP/[\d.]+\s+(\d+)};
    for (@lines) {
        push @{ $res{headers}{lc $1} }, $2 if /^([^:\s]+)\s*:\s*(.*?)\s*$/;
    }

    my $code = $res{code} // 0;
    return (\%res, $rest) if $head || $code == 204 || $code == 304
                             || $code =~ /^1/;

    my $te = header(\%res, 'Transfer-Encoding');
    my $len = header(\%res, 'Content-Length');

    if (defined $te && $te =~ /\bchunked\b/i) {
        my ($body, $left, $err) = decode_chunked($rest);
        Test::More::fail("$st->{name} - $err") if $err;
        $res{body} = $body;
        return (\%res, $left);
    }

    if (defined $len && $len =~ /^\d+$/) {
        if (length $rest >= $len) {
            $res{body} = substr $rest, 0, $len;
            return (\%res, substr $rest, $len);
        }
        warn "WARNING: $st->{name} - response body truncated: $len expected,"
             . " but got " . length($rest) . "\n";
    }

    $res{body} = $rest;
    return (\%res, '');
}

sub decode_chunked {
    my ($raw) = @_;
    my $body = '';
    pos($raw) = 0;
    while (1) {
        if ($raw =~ /\G[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n/gc) {
            my $size = hex $1;
            if ($size == 0) {
                $raw =~ /\G(?:[^\r\n]+\r\n)*\r\n/gc
                    or return ($body, '', 'no end of the chunked body found');
                return ($body, substr($raw, pos $raw), undef);
            }
            return ($body, '', 'invalid chunked data received (not enough'
                               . ' octets for the data section)')
                if length($raw) - pos($raw) < $size;
            $body .= substr $raw, pos($raw), $size;
            pos($raw) += $size;
            $raw =~ /\G\r\n/gc
                or return ($body, '', 'invalid chunked data received'
                                      . ' (expected CRLF)');
        } elsif ($raw =~ /\G(.+)/gcs) {
            return ($body, '', 'invalid chunked body received: '
                               . escape(substr $1, 0, 40));
        } else {
            return ($body, '', 'no last chunk found');
        }
    }
}

sub header {
    my ($res, $name) = @_;
    my $v = $res && $res->{headers}{lc $name};
    return $v ? join(', ', @$v) : undef;
}

sub escape {
    my ($s) = @_;
    $s =~ s/([\0-\037\177-\377])/sprintf '\\x%02x', ord $1/ge;
    return $s;
}

# --- checks --------------------------------------------------------------

sub check_error_code {
    my ($st, $res, $idx, $need_array) = @_;
    my $got = ($res && $res->{code}) || '';
    my $desc = "$st->{name} - status code ok";

    if (defined(my $like = sec($st, 'error_code_like'))) {
        my $pat = indexed($st, $like, $idx, $need_array);
        Test::More::like($got, qr/$pat/sm, $desc);
    } elsif (defined(my $code = sec($st, 'error_code'))) {
        Test::More::is($got, indexed($st, $code, $idx, $need_array), $desc);
    } else {
        Test::More::is($got, 200, $desc);
    }
}

# "Name: value" must match exactly, "Name:" must be present and empty,
# "!Name" (or a bare "Name") must be absent.
sub parse_header_spec {
    my ($spec) = @_;
    my (@order, %val);
    for my $line (split /\n/, $spec // '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
            $val //= '' if $line =~ /:/;
        }
        push @order, $key unless exists $val{$key};
        $val{$key} = $val;
    }
    return map { [$_, $val{$_}] } @order;
}

# $ServerPort and $ServerPortForClient, which Test::Nginx replaces in the
# expected headers and bodies.
sub port_vars {
    my ($st, $v) = @_;
    $v =~ s/\$ServerPort\b/$st->{port}/g;
    $v =~ s/\$ServerPortForClient\b/$st->{client_port}/g;
    return $v;
}

sub check_response_headers {
    my ($st, $res, $idx, $need_array) = @_;
    my $name = $st->{name};
    my $raw = $res ? $res->{raw_headers} : '';

    for my $s (qw(raw_response_headers_like raw_response_headers_unlike)) {
        my $v = sec($st, $s);
        next unless defined $v;
        my $pat = indexed($st, $v, $idx, $need_array);
        my $cmp = $s =~ /unlike/ ? \&Test::More::unlike : \&Test::More::like;
        $cmp->($raw, qr/$pat/s, "$name - raw resp headers "
                                . ($s =~ /unlike/ ? 'unlike' : 'like'));
    }

    if (defined(my $spec = sec($st, 'response_headers'))) {
        for my $h (parse_header_spec(indexed($st, $spec, $idx, $need_array))) {
            my ($key, $val) = @$h;
            if (!defined $val) {
                Test::More::unlike($raw, qr/^\s*\Q$key\E\s*:/mi,
                    "$name - header $key not present in the raw headers");
                next;
            }
            $val = port_vars($st, $val);
            Test::More::is(header($res, $key), $val, "$name - header $key ok");
        }
    } elsif (defined(my $like = sec($st, 'response_headers_like'))) {
        for my $h (parse_header_spec(indexed($st, $like, $idx, $need_array))) {
            my ($key, $val) = @$h;
            Test::More::like(header($res, $key) // '', qr/^$val$/,
                             "$name - header $key like ok");
        }
    }
}

sub check_response_body {
    my ($st, $res, $idx, $rep, $need_array) = @_;
    my $name = $st->{name};
    my $body = $res ? $res->{body} : undef;

    if (defined(my $v = sec($st, 'response_body'))) {
        my $expected = indexed($st, $v, $idx, $need_array);
        my $desc = "$name - response_body - %s (repeated req $rep, req $idx)";
        if (ref $expected) {
            Test::More::like($body, $expected, sprintf $desc, 'like');
        } else {
            $expected = port_vars($st, $expected) if defined $expected;
            is_text($body, $expected, sprintf $desc, 'response is expected');
        }
        return;
    }

    for my $type (qw(like unlike)) {
        my $v = sec($st, "response_body_$type");
        next unless defined $v;
        my $pat = indexed($st, $v, $idx, $need_array);
        $pat = port_vars($st, $pat) unless ref $pat;
        (my $summary = $body // '') =~ s/^\s+|\s+$//g;
        $summary =~ s/\s+/ /g;
        my $cmp = $type eq 'like' ? \&Test::More::like : \&Test::More::unlike;
        $cmp->($body, qr/$pat/s,
               "$name - response_body_$type - response is expected ($summary)");
        return;
    }
}

# The lines of logs/$file written since the previous read in this block.
sub new_log_lines {
    my ($st, $file) = @_;
    my $pos = $CheckAccumErrLog ? 0 : $st->{pos}{$file} // 0;
    open my $in, '<', "$st->{root}/logs/$file" or return [];
    seek $in, $pos, 0;
    my @lines = <$in>;
    $st->{pos}{$file} = tell $in;
    close $in;
    return \@lines;
}

sub pattern_list {
    my ($pats) = @_;
    return [] unless defined $pats;
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats] if ref $pats eq 'ARRAY';
    chomp $pats;
    return [split /\n+/, $pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

# One assertion per pattern; with $negate, one failure per matching line.
sub check_patterns {
    my ($st, $lines, $pats, $negate, $file, $rep) = @_;
    my $name = $st->{name};
    my @pats = @{ pattern_list($pats) };
    return unless @pats;

    if (!$negate) {
        for my $line (@$lines) {
            for my $p (@pats) {
                next unless defined $p && line_matches($line, $p);
                Test::More::pass("$name - pattern \"$p\" matches a line in"
                                 . " $file (req $rep)");
                undef $p;
            }
        }
        Test::More::fail("$name - pattern \"$_\" should match a line in"
                         . " $file (req $rep)") for grep { defined } @pats;
        return;
    }

    my %found;
    for my $line (@$lines) {
        for my $p (@pats) {
            next unless line_matches($line, $p);
            $found{$p} = 1;
            Test::More::fail(sprintf '%s - pattern "%s" should not match any'
                . ' line in %s but matches line "%s" (req %s)',
                $name, escape("$p"), $file, escape(do { chomp(my $l = $line); $l }),
                $rep);
        }
    }
    for my $p (grep { !$found{$_} } @pats) {
        Test::More::pass(sprintf '%s - pattern "%s" does not match a line in'
                         . ' %s (req %s)', $name, escape("$p"), $file, $rep);
    }
}

# error_log, no_error_log, grep_error_log and access_log checks for the
# log written since the previous check, as Test::Nginx's check_error_log.
sub check_error_log {
    my ($st, $rep) = @_;
    my ($b, $name) = ($st->{block}, $st->{name});

    sleep $Sleep * 3;
    my $lines = new_log_lines($st, 'error.log');

    my $grep = sec($st, 'grep_error_log');
    $grep = $grep->[$rep] if ref $grep eq 'ARRAY';
    if (defined $grep) {
        my $expected = sec($st, 'grep_error_log_out');
        bail_out("$name - No --- grep_error_log_out defined but"
                 . " --- grep_error_log is defined") unless defined $expected;
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        my $out = '';
        for my $line (@$lines) {
            next unless ref $grep ? $line =~ $grep : $line =~ /\Q$grep\E/;
            $out .= "$&\n" if $& !~ /\n/;
        }
        is_str($out, $expected, "$name - grep_error_log_out (req $rep)");
    }

    my $error_log = sec($st, 'error_log');
    my $no_error_log = sec($st, 'no_error_log');
    check_patterns($st, $lines, $error_log, 0, 'error.log', $rep);
    check_patterns($st, $lines, $no_error_log, 1, 'error.log', $rep);

    # Like Test::Nginx: unexpected [alert], [crit] and [emerg] lines are
    # warnings (but [emerg] is expected with must_die), and failed C
    # assertions are failures.
    my $mentioned = join "\n", map { "$_" } @{ pattern_list($error_log) },
                                           @{ pattern_list($no_error_log) };
    $mentioned .= '[emerg' if defined $b->must_die;
    for my $line (@$lines) {
        if ($line =~ /\[(alert|crit|emerg)\]/ && index($mentioned, "[$1") < 0) {
            chomp(my $l = $line);
            warn "WARNING: $name - " . escape($l) . "\n";
        }
        Test::More::fail("$name - $line") if $line =~ /\bAssertion .*?failed\b/;
    }

    if (defined $b->access_log || defined $b->no_access_log) {
        $st->{pos}{'access.log'} = 0;    # Test::Nginx reads it whole
        my $acc = new_log_lines($st, 'access.log');
        check_patterns($st, $acc, scalar $b->access_log, 0, 'access.log', $rep);
        check_patterns($st, $acc, scalar $b->no_access_log, 1, 'access.log',
                       $rep);
    }
}

# --- cleanup -------------------------------------------------------------

sub cleanup {
    return if $$ != $MainPid;
    local $?;    # keep the test's exit status when called from END
    $_->() for @CleanupHandlers;
    @CleanupHandlers = ();
    stop_nginx();
}

END {
    cleanup() unless $NoClean;
}

1;
