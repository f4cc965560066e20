package Ttai::TastyTrade;

# One nginx with everything a TastyTrade test needs: the module with its
# MCP server and worker service (reached as conf/dev.conf does: kept-alive
# connections, and one sent again when it failed as it was reused), and
# the mock TastyTrade API of conf/mock/ (njs) on a port of its own, whose
# access log counts the requests that reached "TastyTrade".

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP ();
use Time::HiRes ();
use Ttai::Util qw(repo_root free_port write_file read_file random_hex
                  run_capture http_get start_nginx);

our @EXPORT_OK = qw(tt_server tt_stop tt_connect tt_jwt tt_health tt_call
                    tt_worker mock_hits mock_access_token);

my $JSON = JSON::PP->new->canonical;

# %opt: workers, rate (ttai_tastytrade_rate), ttl (ttai_cache_ttl),
# tastytrade (the environment ttai_tastytrade names; default mock),
# upstream (the server line of upstream ttai_tastytrade), location (an
# internal /_tastytrade/ location instead of conf/tastytrade/location.conf),
# worker (the server line of upstream ttai_worker), binding (what the
# /_worker/ location does instead of proxying), oauth (the sign-in
# endpoints), tt_zone (the size of ttai_tastytrade_zone), http, server,
# env, environment (ttai_environment; development), fixtures (the mock's
# fixtures folder; conf/mock/fixtures), market (the mock's session: open
# or closed; the clock's by default), valgrind (nginx runs under
# memcheck: Ttai::Util::valgrind_records reads its stderr), llm (the
# workflows and the agents, with the mock LLM provider of conf/mock/llm.js
# on the mock's port, reached through conf/llm/location.conf).  A text
# that names a port of the caller's may be a sub that
# returns it, with the port's variable in ports => [ \$port, ... ]:
# should that port be taken when nginx starts, the variable gets a new
# one and the configuration is written again.
sub tt_server {
    my ($dir, %arg) = @_;
    my $root = repo_root();
    my $so = "$root/build/nginx/ngx_http_ttai_module.so";
    my ($port, $mport) = (free_port(), free_port());
    my $user = $> == 0 ? 'user root;' : '';

    mkdir "$dir/logs";
    write_file("$dir/test.env", $arg{env} // "JWT_SECRET=" . random_hex(32)
               . "\nTOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n", 0600);

    my %opt;
    my $write = sub {
        %opt = map { $_ => ref $arg{$_} eq 'CODE' ? $arg{$_}->() : $arg{$_} }
               keys %arg;
        my $upstream = $opt{upstream} // "server 127.0.0.1:$mport;";
        my $worker = $opt{worker} // "server 127.0.0.1:$port;";
        my $location = $opt{location}
                       // "include $root/conf/tastytrade/location.conf;";
        my $rate = $opt{rate} // '100r/s burst=100 wait=3s';
        my $ttl = $opt{ttl} // 'quote=5s metrics=60s chain=10m account=5s';

        write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
$user
daemon off;
worker_processes @{[ $opt{workers} // 2 ]};
error_log $dir/logs/error.log info;
pid $dir/nginx.pid;
thread_pool ttai threads=2 max_queue=256;
events { }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp;
    proxy_temp_path $dir/tmp;
    ttai_environment @{[ $opt{environment} // 'development' ]};
    ttai_env_file $dir/test.env;
    ttai_state_dir $dir/state;
    ttai_thread_pool ttai;
    ttai_migrations $root/migrations;
    ttai_kv_zone kv 4m snapshot=off;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;

    ttai_tastytrade @{[ $opt{tastytrade} // 'mock' ]};
    ttai_tastytrade_authorize_url http://127.0.0.1:$mport/mock/authorize;
    upstream ttai_tastytrade {
        $upstream
        keepalive 4;
    }
    upstream ttai_worker {
        $worker
        keepalive 8;
    }
    ttai_tastytrade_zone tastytrade @{[ $opt{tt_zone} // '1m' ]};
    ttai_tastytrade_rate $rate;
    ttai_cache_ttl $ttl;
    @{[ $opt{http} // '' ]}
@{[ $opt{llm} ? <<"LLM" : '' ]}
    ttai_workflows on;
    ttai_agents on;
    upstream ttai_llm_mock {
        server 127.0.0.1:$mport;
        keepalive 4;
    }
LLM

    js_path $root/conf;
    js_var \$tastytrade_mock_fixtures @{[ $opt{fixtures} // "$root/conf/mock/fixtures" ]};
    @{[ $opt{motion} ? "js_var \$tastytrade_mock_motion $opt{motion};" : '' ]}
    js_var \$tastytrade_mock_state $dir/mock-state;
    @{[ $opt{market} ? "js_var \$tastytrade_mock_market $opt{market};" : '' ]}

    server {
        listen 127.0.0.1:$mport;
        access_log $dir/logs/mock.log;
        include $root/conf/mock/routes.conf;
        location / {
            js_content tastytrade.api;
        }
    }

    server {
        listen 127.0.0.1:$port;
        location = /health { ttai_health; }
        location = /mcp { ttai_mcp; }
        location /quotes { ttai_worker; }
@{[ $opt{oauth} ? <<"OAUTH" : '' ]}
        location = /.well-known/oauth-protected-resource/mcp {
            ttai_mcp_metadata;
        }
        location = /.well-known/oauth-authorization-server {
            ttai_oauth metadata;
        }
        location = /register { ttai_oauth register; }
        location = /authorize { ttai_oauth authorize; }
        location = /callback { ttai_oauth callback; }
        location = /token { ttai_oauth token; }
        location = /revoke { ttai_oauth revoke; }
        include $root/conf/oauth/client-metadata.conf;
OAUTH
        location /_worker/ {
            internal;
@{[ $opt{binding} // <<"PROXY" ]}
            proxy_pass http://ttai_worker\$ttai_upstream_uri;
            proxy_pass_request_headers off;
            proxy_set_header Authorization \$http_authorization;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 5s;
            proxy_buffering off;
            proxy_next_upstream error;
            proxy_next_upstream_tries 2;
PROXY
        }
        $location
        @{[ $opt{llm} ? "include $root/conf/llm/location.conf;" : '' ]}
        @{[ $opt{server} // '' ]}
    }
}
CONF
    };
    $write->();

    my $pid = start_nginx(dir => $dir, conf => "$dir/nginx.conf",
                          pid_file => "$dir/nginx.pid",
                          error_log => "$dir/logs/error.log",
                          ready => sub { (http_get($port, '/health'))[0] },
                          ports => [ \$port, \$mport, @{ $arg{ports} // [] } ],
                          valgrind => $opt{valgrind},
                          seconds => $opt{valgrind} ? 120 : 10,
                          write => $write);

    return { pid => $pid, port => $port, mock => $mport, dir => $dir,
             env => "$dir/test.env", valgrind => $arg{valgrind},
             db => "$dir/state/d1/ttai/db.sqlite" };
}

sub tt_stop {
    my ($srv) = @_;
    return unless $srv && $srv->{pid};
    Ttai::Util::stop_pid($srv->{pid}, $srv->{valgrind} ? 120 : 10);
    $srv->{pid} = 0;
}

# stores a mock grant for $user; %opt: ttl, revoked, access (an access
# token to store too), expires_in, refresh (a token of your own)
sub tt_connect {
    my ($srv, $user, %opt) = @_;
    my $root = repo_root();
    my $refresh = $opt{refresh};

    unless (defined $refresh) {
        my @a = ('--sub', $user);
        push @a, '--ttl', $opt{ttl} if $opt{ttl};
        push @a, '--revoked' if $opt{revoked};
        my ($rc, $out) = run_capture("$root/scripts/mock-grant", @a);
        die "mock-grant: $out" if $rc;
        ($refresh = $out) =~ s/\s+\z//;
    }

    my @args = ('tastytrade', 'connect', '--user', $user,
                '--refresh-token-env', 'TTAI_TEST_REFRESH',
                '--db', $srv->{db}, '--env-file', $opt{env_file} // $srv->{env});
    push @args, '--access-token', $opt{access} if $opt{access};
    push @args, '--expires-in', $opt{expires_in} if $opt{expires_in};

    local $ENV{TTAI_TEST_REFRESH} = $refresh;
    my ($rc, $out) = run_capture("$root/build/ttai", @args);
    die "ttai tastytrade connect: $out" if $rc;

    return $refresh;
}

sub tt_jwt {
    my ($srv, $user) = @_;
    my ($rc, $out) = run_capture(repo_root() . '/build/ttai', 'token',
                                 '--env-file', $srv->{env}, '--sub', $user,
                                 '--ttl', '1h');
    die "ttai token: $out" if $rc;
    $out =~ s/\s+\z//;
    return $out;
}

# the tastytrade object of /health
sub tt_health {
    my ($srv) = @_;
    my (undef, undef, $body) = http_get($srv->{port}, '/health');
    my $h = eval { $JSON->decode($body) } // {};
    return $h->{checks}{tastytrade} // {};
}

# tools/call, one-shot; returns (HTTP status, the result object or undef)
sub tt_call {
    my ($srv, $jwt, $tool, $args, %opt) = @_;
    my $body = $JSON->encode({ jsonrpc => '2.0', id => 1,
                               method => 'tools/call',
                               params => { name => $tool,
                                           arguments => $args // {} } });
    my ($status, undef, $raw) = http_get($srv->{port}, '/mcp',
        method => 'POST', body => $body, timeout => $opt{timeout} // 30,
        headers => [ "Authorization: Bearer $jwt",
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream' ]);
    my $j = eval { $JSON->decode($raw) };
    return ($status, $j ? $j->{result} : undef, $raw);
}

# GET on the worker service; returns (status, decoded body, raw)
sub tt_worker {
    my ($srv, $jwt, $path, %opt) = @_;
    my ($status, undef, $raw) = http_get($srv->{port}, $path,
        timeout => $opt{timeout} // 30,
        headers => [ "Authorization: Bearer $jwt" ]);
    return ($status, scalar eval { $JSON->decode($raw) }, $raw);
}

# requests the mock answered whose request line matches $re
sub mock_hits {
    my ($srv, $re) = @_;
    # the mock logs its request once it has answered, perhaps in another
    # worker process than the one reading the answer: a moment's grace
    Time::HiRes::sleep(0.2);
    my $log = -f "$srv->{dir}/logs/mock.log"
              ? read_file("$srv->{dir}/logs/mock.log") : '';
    return scalar grep { /$re/ } split /\n/, $log;
}

# an access token the mock signs, expired when $exp is in the past
sub mock_access_token {
    my ($srv, $sub, $exp) = @_;
    my ($status, undef, $raw) = http_get($srv->{mock}, '/mock/access-token',
        method => 'POST', body => $JSON->encode({ sub => $sub, exp => $exp }),
        headers => [ 'Content-Type: application/json',
                     'User-Agent: ttai-test/1.0' ]);
    my $j = eval { $JSON->decode($raw) } // {};
    return $j->{'access-token'};
}

1;
