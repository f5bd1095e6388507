#!/usr/bin/perl
# A misbehaving TLS 1.2 SMTP server (implicit TLS) for the renegotiation tests: it greets with
# the first certificate, and after MAIL renegotiates (RFC 5246 §7.4.1.1, HelloRequest) TIMES
# times, presenting the second certificate from then on (SSL_use_certificate on the session).
# Real servers do not do this; OpenSSL's s_server cannot (it has one certificate per name).
# Usage: reneg_smtpd.pl PORT CERT1 KEY1 CERT2 KEY2 TIMES [SESSIONS] [starttls]; prints "READY"
# once listening and a line per renegotiation done ("RENEGOTIATED n"), then what ends the
# session; SESSIONS (default 1) sessions are served one after the other (`ehlo check` and
# `ehlo probe` open several). With `starttls` each session starts in plain text and offers
# STARTTLS (RFC 3207), which OpenSSL's s_server cannot do as an SMTP server: TLS begins after
# its 220, and the session (EHLO again, MAIL with its renegotiations) goes on as above.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
use Net::SSLeay;

my ($port, $cert1, $key1, $cert2, $key2, $times, $sessions, $mode) = @ARGV;
$sessions ||= 1;
my $starttls = defined($mode) && $mode eq "starttls";
$| = 1;
Net::SSLeay::load_error_strings();
Net::SSLeay::SSLeay_add_ssl_algorithms();
Net::SSLeay::randomize();
my $ctx = Net::SSLeay::CTX_new() or die "CTX_new";
# No session resumption: each renegotiation is a full handshake, with a certificate.
Net::SSLeay::CTX_set_options($ctx, Net::SSLeay::OP_NO_TLSv1_3() | Net::SSLeay::OP_NO_TICKET());
Net::SSLeay::CTX_set_session_cache_mode($ctx, Net::SSLeay::SESS_CACHE_OFF());
Net::SSLeay::CTX_use_certificate_chain_file($ctx, $cert1) or die "cert1";
Net::SSLeay::CTX_use_PrivateKey_file($ctx, $key1, Net::SSLeay::FILETYPE_PEM()) or die "key1";
my $listen = IO::Socket::INET->new(
    LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 1, ReuseAddr => 1) or die "listen: $!";
print "READY\n";
my ($sock, $ssl);
my $buf = "";
# Lines go over TLS once it has started ($ssl set), in plain text before.
sub say_line {
    if ($ssl) { Net::SSLeay::write($ssl, "$_[0]\r\n") }
    else { syswrite($sock, "$_[0]\r\n") }
}
sub read_line {
    while ($buf !~ /\n/) {
        my $got;
        if ($ssl) { $got = Net::SSLeay::read($ssl) }
        else { my $n = sysread($sock, $got, 4096); $got = undef unless $n }
        return undef if !defined($got) || $got eq "";
        $buf .= $got;
    }
    $buf =~ s/^([^\n]*)\n//;
    my $l = $1; $l =~ s/\r$//;
    return $l;
}
# Send a HelloRequest with the second certificate in place, then read (non-blocking) until the
# client's new handshake is done: the client answers it while it waits for the reply to MAIL.
sub renegotiate {
    my ($n) = @_;
    Net::SSLeay::use_certificate_chain_file($ssl, $cert2) or die "cert2";
    Net::SSLeay::use_PrivateKey_file($ssl, $key2, Net::SSLeay::FILETYPE_PEM()) or die "key2";
    my $before = Net::SSLeay::get_session($ssl);
    Net::SSLeay::renegotiate($ssl);
    Net::SSLeay::do_handshake($ssl);
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my $deadline = time + 5;
    my $done = 0;
    while (time < $deadline) {
        my $got = Net::SSLeay::read($ssl);
        if (defined $got && $got ne "") { $buf .= $got }
        my $err = Net::SSLeay::get_error($ssl, defined $got ? length($got) : -1);
        if (!defined $got && $err != Net::SSLeay::ERROR_WANT_READ() && $err != Net::SSLeay::ERROR_WANT_WRITE()) {
            die "CLIENT ENDED THE SESSION\n";
        }
        if (defined $got && $got eq "" ) { die "CLIENT ENDED THE SESSION\n" }
        if (Net::SSLeay::get_session($ssl) != $before && Net::SSLeay::is_init_finished($ssl)) { $done = 1; last }
        $sel->can_read(0.05);
    }
    $sock->blocking(1);
    die "RENEGOTIATION TIMED OUT\n" unless $done;
    print "RENEGOTIATED $n\n";
}

# The TLS handshake on the session's socket, with the first certificate.
sub start_tls {
    $ssl = Net::SSLeay::new($ctx);
    Net::SSLeay::set_fd($ssl, fileno($sock));
    return Net::SSLeay::accept($ssl) == 1;
}

sub serve {
    say_line("220 reneg.test ESMTP");
    while (defined(my $l = read_line())) {
        my $u = uc $l;
        if ($u =~ /^EHLO/) {
            say_line("250-reneg.test");
            say_line("250-STARTTLS") if !$ssl;
            say_line("250 8BITMIME");
        }
        elsif ($u =~ /^STARTTLS/ && !$ssl) {
            say_line("220 2.0.0 go ahead");
            # Nothing the client sent before the handshake counts after it (RFC 3207 §4.2).
            $buf = "";
            if (!start_tls()) { print "HANDSHAKE FAILED\n"; last }
        }
        elsif (!$ssl) { say_line("530 5.7.0 STARTTLS first") }
        elsif ($u =~ /^MAIL/) { renegotiate($_) for 1 .. $times; say_line("250 2.1.0 ok") }
        elsif ($u =~ /^RCPT/) { say_line("250 2.1.5 ok") }
        elsif ($u =~ /^DATA/) {
            say_line("354 go ahead");
            while (defined(my $d = read_line())) { last if $d eq "." }
            say_line("250 2.0.0 queued");
        }
        elsif ($u =~ /^QUIT/) { say_line("221 bye"); last }
        else { say_line("500 what") }
    }
    print "SESSION ENDED\n";
}

for (1 .. $sessions) {
    $sock = $listen->accept() or die "accept";
    $ssl = undef;
    $buf = "";
    if ($starttls || start_tls()) {
        eval { serve(); 1 } or print $@;
    } else {
        print "HANDSHAKE FAILED\n";
    }
    Net::SSLeay::free($ssl) if $ssl;
    close($sock);
}
