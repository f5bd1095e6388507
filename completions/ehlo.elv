
use builtin;
use str;

set edit:completion:arg-completer[ehlo] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ehlo'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ehlo'= {
            cand -s 'Server to connect to [default: MX of the last recipient''s domain]'
            cand --server 'Server to connect to [default: MX of the last recipient''s domain]'
            cand --socket 'Speak SMTP/LMTP over a UNIX-domain socket instead of TCP'
            cand --pipe 'Speak SMTP over a child process''s stdin/stdout, e.g. "/usr/sbin/sendmail -bs"'
            cand --protocol 'Protocol variant (case-insensitive) [default: ESMTP]'
            cand --dnssec 'DNSSEC validation of the DNS answers: off, validate or trust-ad [default: off]'
            cand --dns-trust-anchor 'Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (needs --dnssec validate; for private and test zones)'
            cand --tls-verify 'Verify the certificate: pkix (the CA store and the name, the default: the flag alone is accepted for swaks compatibility) or dane (TLSA records, RFC 7672)'
            cand --tls-ca-path 'CA certificates to trust instead of the system store: a PEM file or a directory of them'
            cand --tlsa-file 'Read TLSA records from FILE: one per line, bare or as zone-file lines (what `ldns-dane -t` reads); `;` and `#` start comments'
            cand --tls-cert 'Client certificate to present when the server asks (PEM; needs --tls-key)'
            cand --tls-key 'Private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted)'
            cand --tls-chain 'Intermediate certificates to send after --tls-cert (PEM)'
            cand --tls-get-peer-cert 'Save the server''s certificate as PEM to FILE [default: print it in the transcript]'
            cand --tls-get-peer-chain 'Save the server''s certificate chain as sent, PEM, to FILE [default: print it]'
            cand --auth-password-file 'Read the password from the first line of FILE (replaces a lower layer''s password, e.g. $EHLO_AUTH_PASSWORD; an --auth-password of the same layer wins)'
            cand --auth-token-file 'Read the OAuth 2.0 token from the first line of FILE (replaces a lower layer''s token, e.g. $EHLO_AUTH_TOKEN; an --auth-oauth-token of the same layer wins)'
            cand --body 'Body of the default message: TEXT, - for stdin, or @FILE [default: "This is a test mailing"]'
            cand -d 'The whole message instead of the default one: TEXT, - for stdin, or @FILE'
            cand --data 'The whole message instead of the default one: TEXT, - for stdin, or @FILE'
            cand --attach 'Attach a part (repeatable): @FILE, - for stdin, or TEXT; makes the message multipart/mixed'
            cand --attach-body 'A text part of the body (repeatable): several form multipart/alternative [type: text/plain]'
            cand --attach-inline 'Attach an inline part with a Content-ID (repeatable), e.g. an image for cid: in HTML'
            cand --color 'When to use colour'
            cand --explain 'Which replies get a plain-language explanation'
            cand --show-time-lapse 'Show how long each reply took (i = whole seconds)'
            cand --stl 'Show how long each reply took (i = whole seconds)'
            cand --output-file 'Append the transcript (both streams) to FILE instead of the terminal (as swaks)'
            cand --output 'Append the transcript (both streams) to FILE instead of the terminal (as swaks)'
            cand --output-file-stdout 'Append what would go to stdout to FILE instead'
            cand --output-file-stderr 'Append what would go to stderr (*** lines) to FILE instead'
            cand -q 'Send QUIT after this step''s reply'
            cand --quit-after 'Send QUIT after this step''s reply'
            cand --quit 'Send QUIT after this step''s reply'
            cand --drop-after 'Close the connection after this step''s reply, without QUIT'
            cand --drop 'Close the connection after this step''s reply, without QUIT'
            cand --da 'Close the connection after this step''s reply, without QUIT'
            cand --drop-after-send 'Close the connection right after sending this step''s command'
            cand --das 'Close the connection right after sending this step''s command'
            cand --dsn-ret 'DSN: RET= on MAIL (return the FULL message or only the HDRS in a failure report)'
            cand --proxy-family 'PROXY: address family [default: from --proxy-source]; UNKNOWN sends no addresses'
            cand --proxy-command 'PROXY v2: command, PROXY (a relayed client) or LOCAL (the proxy''s own connection)'
            cand --proxy-protocol 'PROXY v2: transport protocol, STREAM (TCP) or DGRAM (UDP) [default: STREAM]'
            cand --proxy 'A raw PROXY header: TEXT, sent as "PROXY TEXT" (CRLF added; with --proxy-version 2 the text follows the v2 signature), base64:DATA (sent as decoded) or @FILE (sent byte for byte; @@X is the text @X)'
            cand --config 'Read options from FILE [default: $XDG_CONFIG_HOME/ehlo/config or ~/.config/ehlo/config]'
            cand -a 'Require AUTH, trying these mechanisms in order [default: the strongest offered]'
            cand --auth 'Require AUTH, trying these mechanisms in order [default: the strongest offered]'
            cand --auth-optional 'Try AUTH; carry on if it is not offered or fails'
            cand --ao 'Try AUTH; carry on if it is not offered or fails'
            cand --auth-optional-strict 'AUTH if offered; fail if it is tried and fails'
            cand --aos 'AUTH if offered; fail if it is tried and fails'
            cand -S 'Quieter: 1 = nothing until an error, then everything from it on; 2 = errors only; 3 = nothing (-S alone = 1)'
            cand --silent 'Quieter: 1 = nothing until an error, then everything from it on; 2 = errors only; 3 = nothing (-S alone = 1)'
            cand --dump 'Print the resolved settings in swaks''s sections and exit without connecting [default: ALL]'
            cand --dump-as-body 'Make the body the --dump of this run''s settings [default sections: all but SUPPORT, DATA]'
            cand --dab 'Make the body the --dump of this run''s settings [default sections: all but SUPPORT, DATA]'
            cand --tls-protocol 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed'
            cand --tlsp 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed'
            cand -t 'Recipients (comma-separated, repeatable)'
            cand --to 'Recipients (comma-separated, repeatable)'
            cand --cc 'Recipients also listed in a Cc: header'
            cand --bcc 'Recipients not listed in any header'
            cand -f 'Sender; <> is the null sender [default: $LOGNAME@<local host name>]'
            cand --from 'Sender; <> is the null sender [default: $LOGNAME@<local host name>]'
            cand --helo 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]'
            cand --ehlo 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]'
            cand --lhlo 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]'
            cand --mail-param 'Extra MAIL FROM parameter, sent as given (repeatable), e.g. BODY=8BITMIME'
            cand --rcpt-param 'Extra RCPT TO parameter, sent as given (repeatable), e.g. NOTIFY=NEVER'
            cand --copy-routing 'Connect to where mail for DOMAIN goes (its MX hosts) instead of the recipient''s domain'
            cand -p 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect; 24 for LMTP]'
            cand --port 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect; 24 for LMTP]'
            cand --local-interface 'Local address to connect from: HOST[:PORT] (an IP address or a name)'
            cand --li 'Local address to connect from: HOST[:PORT] (an IP address or a name)'
            cand --local-port 'Local port to connect from (number or service name)'
            cand --lport 'Local port to connect from (number or service name)'
            cand --lp 'Local port to connect from (number or service name)'
            cand --timeout 'Per-reply timeout: N, Ns, Nm or Nh; 0 = none'
            cand --connect-timeout 'Timeout of each connection attempt [default: --timeout]'
            cand --deadline 'Bound the whole send: N, Ns, Nm or Nh; 0 = none [default: none]'
            cand --dns-server 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)'
            cand --tls-sni 'Server name to send in SNI [default: the server host name, unless it is an IP address]'
            cand --tls-verify-target 'Name to verify the certificate against [default: the server host name]'
            cand --tlsa 'Authenticate the server by this TLSA record instead of the CA store (repeatable; DANE)'
            cand --tls-cipher 'Cipher list for TLS 1.2 and below (`openssl ciphers` syntax), e.g. ECDHE-RSA-AES128-GCM-SHA256'
            cand --tls-ciphersuites 'TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256'
            cand --auth-user 'User name (implies --auth); without a value: ~/.netrc, then a prompt'
            cand --au 'User name (implies --auth); without a value: ~/.netrc, then a prompt'
            cand --auth-password 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)'
            cand --ap 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)'
            cand --auth-authzid 'Authorisation identity (PLAIN authzid, SCRAM a=, DIGEST-MD5 authzid)'
            cand --auth-oauth-token 'OAuth 2.0 bearer token for XOAUTH2 and OAUTHBEARER (argv is visible to other users)'
            cand --auth-map 'Another name for a mechanism: AUTH ALIAS is sent and run as TYPE (SPA and MSN are NTLM)'
            cand --am 'Another name for a mechanism: AUTH ALIAS is sent and run as TYPE (SPA and MSN are NTLM)'
            cand --auth-extra 'DIGEST-MD5 and NTLM settings: realm=, domain=, dmd5-serv-type=, dmd5-host=, dmd5-serv-name=, ntlm-version='
            cand --ae 'DIGEST-MD5 and NTLM settings: realm=, domain=, dmd5-serv-type=, dmd5-host=, dmd5-serv-name=, ntlm-version='
            cand --auth-hide-password 'Accepted for swaks compatibility: ehlo always hides secrets'
            cand --ahp 'Accepted for swaks compatibility: ehlo always hides secrets'
            cand --header 'Set a header, replacing one of the same name in the default or --data message (repeatable)'
            cand --add-header 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header'
            cand --ah 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header'
            cand --attach-type 'MIME type of the part options after it, up to an --attach-body [default: guessed from a file name, else application/octet-stream]'
            cand --attach-name 'File name of the next part option; empty (or no value) = no file name'
            cand --dsn-notify 'DSN (RFC 3461): NOTIFY= on every RCPT: NEVER, or a list of SUCCESS,FAILURE,DELAY'
            cand --dsn-envid 'DSN: ENVID= on MAIL (envelope identifier: printable ASCII, at most 100 characters once xtext-encoded)'
            cand --bdat 'Send the message with BDAT (CHUNKING, RFC 3030) in chunks of SIZE [default: one chunk]'
            cand --xclient-addr 'XCLIENT ADDR= (the client address to impersonate; a bare IPv6 one goes as IPV6:ADDR)'
            cand --xclient-name 'XCLIENT NAME= (the client''s host name)'
            cand --xclient-port 'XCLIENT PORT='
            cand --xclient-proto 'XCLIENT PROTO= (SMTP or ESMTP)'
            cand --xclient-destaddr 'XCLIENT DESTADDR= (the server address; a bare IPv6 one goes as IPV6:ADDR)'
            cand --xclient-destport 'XCLIENT DESTPORT='
            cand --xclient-helo 'XCLIENT HELO='
            cand --xclient-login 'XCLIENT LOGIN='
            cand --xclient-reverse-name 'XCLIENT REVERSE_NAME='
            cand --xclient 'A raw XCLIENT argument string, sent as its own command (repeatable)'
            cand --xforward-name 'XFORWARD NAME='
            cand --xforward-addr 'XFORWARD ADDR='
            cand --xforward-port 'XFORWARD PORT='
            cand --xforward-proto 'XFORWARD PROTO='
            cand --xforward-helo 'XFORWARD HELO='
            cand --xforward-ident 'XFORWARD IDENT='
            cand --xforward-source 'XFORWARD SOURCE= (LOCAL or REMOTE)'
            cand --proxy-version 'Send a PROXY protocol header of this version before the banner [default: 1 when any --proxy* is given] (exit 35 on bad values)'
            cand --proxy-source 'PROXY: original client address'
            cand --proxy-source-port 'PROXY: original client port'
            cand --proxy-dest 'PROXY: address the client connected to'
            cand --proxy-dest-port 'PROXY: port the client connected to'
            cand --force-getpwuid 'Default sender from the password database, ignoring $LOGNAME and $USER'
            cand --pipeline 'Send MAIL, RCPTs and DATA in one write when PIPELINING is offered'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand --tls 'Require STARTTLS (exit 29 if it is not offered or fails)'
            cand --tls-optional 'Try STARTTLS; carry on in plain text if it is not offered or refused'
            cand --tlso 'Try STARTTLS; carry on in plain text if it is not offered or refused'
            cand --tls-optional-strict 'Use STARTTLS if offered; fail if it is offered and fails'
            cand --tlsos 'Use STARTTLS if offered; fail if it is offered and fails'
            cand --tls-on-connect 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand --tlsc 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand -k 'Do not enforce certificate verification (the result is still shown)'
            cand --insecure 'Do not enforce certificate verification (the result is still shown)'
            cand --tls-verify-ca 'Enforce only the chain check (a trusted CA, within its dates), not the name'
            cand --tls-verify-host 'Enforce only the name check (SAN or CN against the server name), not the chain'
            cand --auth-force 'Send AUTH even if the server does not advertise it'
            cand --auth-plaintext 'Show the decoded AUTH exchange (secrets still masked)'
            cand --apt 'Show the decoded AUTH exchange (secrets still masked)'
            cand --protect-prompt 'Accepted for swaks compatibility: password and token prompts never echo'
            cand --pp 'Accepted for swaks compatibility: password and token prompts never echo'
            cand --show-secrets 'Show passwords and tokens in the output instead of masking them'
            cand --allow-plaintext-auth 'Allow AUTH over a connection that is not encrypted'
            cand --no-data-fixup 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot'
            cand --ndf 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot'
            cand --dump-mail 'Print the message that would be sent and exit without connecting'
            cand --dump-as-body-shows-password '--dump-as-body with the password shown (implies --dump-as-body)'
            cand --dabsp '--dump-as-body with the password shown (implies --dump-as-body)'
            cand --no-dot-stuffing 'Do not double a leading dot (RFC 5321 §4.5.2): a lone "." line then ends the data early'
            cand --no-crlf-fixup 'Do not turn bare LF or CR into CRLF'
            cand --no-strip-from 'Keep a leading mbox "From " line'
            cand --nsf 'Keep a leading mbox "From " line'
            cand --json 'Print JSON Lines events instead of the transcript'
            cand -n 'Print "N lines sent" instead of the message'
            cand --suppress-data 'Print "N lines sent" instead of the message'
            cand --n 'Print "N lines sent" instead of the message'
            cand --show-raw-text 'Hex dump of every read and write'
            cand --raw 'Hex dump of every read and write'
            cand --no-hints 'Drop the ===, ->, <- prefixes from transcript lines'
            cand --nth 'Drop the ===, ->, <- prefixes from transcript lines'
            cand --no-send-hints 'Drop the -> / ~> / **> prefixes from lines sent'
            cand --nsh 'Drop the -> / ~> / **> prefixes from lines sent'
            cand --no-receive-hints 'Drop the <- / <~ / <** prefixes from replies received'
            cand --nrh 'Drop the <- / <~ / <** prefixes from replies received'
            cand --no-info-hints 'Drop the === / *** prefixes from ehlo''s own lines'
            cand --nih 'Drop the === / *** prefixes from ehlo''s own lines'
            cand --hide-receive 'Do not print the replies received'
            cand --hr 'Do not print the replies received'
            cand --hide-send 'Do not print the lines sent'
            cand --hs 'Do not print the lines sent'
            cand --hide-informational 'Do not print ehlo''s own information lines (=== and !!!; errors still show)'
            cand --hi 'Do not print ehlo''s own information lines (=== and !!!; errors still show)'
            cand --hide-all 'Print nothing at all (the exit code tells the result)'
            cand --ha 'Print nothing at all (the exit code tells the result)'
            cand --smtputf8 'Use SMTPUTF8 (RFC 6531) even when no address or header needs it (exit 31 if not offered)'
            cand --force-ext 'Use extensions the server does not advertise instead of failing'
            cand --dsn-orcpt 'DSN: ORCPT= on every RCPT, naming the recipient as given (xtext-encoded, at most 500 characters)'
            cand --requiretls 'REQUIRETLS on MAIL (RFC 8689): needs --tls or --tls-on-connect, even with --force-ext'
            cand --prdr 'Ask for per-recipient replies after the message (PRDR; exit 30 if not offered)'
            cand --xclient-before-starttls 'Send XCLIENT before STARTTLS instead of after'
            cand --xclient-optional 'Carry on without XCLIENT when it is not offered or refused'
            cand --xclient-optional-strict 'Carry on without XCLIENT when it is not offered; fail (exit 33) when it is refused'
            cand --xclient-no-verify 'Do not check XCLIENT attributes against the advertised list'
            cand --no-config 'Do not read a config file (EHLO_NO_CONFIG too; SWAKS_OPT_* and EHLO_* still apply)'
            cand --dump-config 'Print the effective options (file, environment, command line), secrets redacted, and exit'
            cand --support 'Print what this build supports (TLS library, AUTH mechanisms, transports, …) and exit'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand --xclient-delim 'Start a new XCLIENT command here: the --xclient-* attributes before and after it go in separate commands (repeatable; ignored where no group would be split)'
            cand serve 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)'
            cand demo 'Start a throwaway server and send one annotated message to it (no network needed)'
            cand repl 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)'
            cand replay 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs'
            cand explain 'Explain a reply without connecting: codes, a pasted reply or a bounce''s diagnostic line'
            cand check 'Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records'
            cand probe 'Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ehlo;serve'= {
            cand --tls-cert 'Certificate (PEM) [default: a generated self-signed one]'
            cand --tls-key 'Private key (PEM: PKCS#8, PKCS#1 or SEC1)'
            cand --maildir 'Store received messages in this Maildir'
            cand --mbox 'Append received messages to this mbox file'
            cand --quirk 'Behave like a vulnerable MTA (repeatable): bare-lf-dot, starttls-keep, disclose-users, answer-unsynced'
            cand --color 'When to use colour'
            cand --hide 'Do not advertise this EHLO extension (repeatable), e.g. PIPELINING'
            cand --listen 'Address to listen on: ADDR:PORT, [IPv6]:PORT ([fe80::1%eth0]:PORT with its zone), or HOST:PORT for every address the name resolves to (port 0 picks a free port)'
            cand --user 'Accept these credentials for AUTH (repeatable, one per name)'
            cand --fail 'Inject a failure (repeatable), e.g. rcpt=550:5.1.1, data=452, connect=421'
            cand --delay 'Wait before answering a command (repeatable), e.g. data:2000'
            cand --max-size 'Largest message accepted (advertised as SIZE): bytes, or with K/M/G (binary units); 0 = no limit, advertised as a bare SIZE (RFC 1870 §4; the content is streamed, so memory stays bounded)'
            cand --min-free 'Free space to keep on the --maildir/--mbox file system (and TMPDIR''s, for the mbox): below it MAIL and the message get 452 4.3.1, as Postfix''s queue_minfree; 0 = no reserve (a full disk is still 452 4.3.1); without --maildir/--mbox it does nothing (a warning says so) [default: 10MiB]'
            cand --seed 'Seed for the server''s randomness (reproducible runs)'
            cand --hostname 'Host name in the banner and the EHLO reply: a domain or an address literal ([192.0.2.1])'
            cand --max-sessions 'Exit after N sessions, for scripts and tests'
            cand --max-connections 'Open connections allowed at once; one more is answered 421 4.3.2 and closed'
            cand --idle-timeout 'Time allowed for each complete command, twice that for a message''s content, then 421 4.4.2 (RFC 5321 §4.5.3.2.7), and for a TLS handshake; 0 turns it off'
            cand --busy-timeout 'Once a client is turned away because every --max-connections slot is in use (busy, as Postfix''s stress mode), the time each open session has left, then 421 4.4.2; 0 turns it off'
            cand --max-auth-failures 'Failed AUTH attempts per connection before 421 4.7.0 and close (each failure waits a little longer); 0 = no limit; without --user/--accept-any-auth it does nothing (a warning says so) [default: 3]'
            cand --hard-error-limit 'Errors a client may make (replies 500-504: unknown commands, bad syntax, bad sequence) without a message delivered: the last is answered, then 421 4.7.0 and close; 1 while busy, as Postfix''s stress mode; 0 = no limit'
            cand --junk-command-limit 'NOOP, RSET, VRFY and HELP commands a client may send without a message delivered; each one past it counts as an error (--hard-error-limit); 1 while busy; 0 = no limit'
            cand --soft-error-limit 'Errors (as --hard-error-limit counts them) a client may make without a message delivered before every further reply waits --error-sleep-time, as Postfix''s smtpd_soft_error_limit; 0 = no limit'
            cand --error-sleep-time 'Wait MS milliseconds before each reply once a client is past --soft-error-limit (Postfix''s smtpd_error_sleep_time, 1s); 0 turns it off; as long as --idle-timeout or longer, a start warning says so'
            cand --greet-pause 'Wait MS milliseconds before the greeting and refuse a client that talks first (554 5.5.1, RFC 5321 §4.3.1), as postscreen''s greet wait does; 0 = greet at once'
            cand --proxy-timeout 'Time a connection has to send its whole PROXY header (--accept-proxy), then 421 4.3.0 and close, as Postfix''s smtpd_upstream_proxy_timeout'
            cand --tls-on-connect 'Implicit TLS on every connection'
            cand --tlsc 'Implicit TLS on every connection'
            cand --starttls 'Offer STARTTLS'
            cand --accept-any-auth 'Accept any credentials'
            cand --auth-before-tls 'Offer AUTH before STARTTLS too (by default AUTH waits for TLS when --starttls is given)'
            cand --require-tls 'Refuse MAIL with 530 5.7.0 until the client started TLS (RFC 3207 §4), as a submission server does'
            cand --require-auth 'Refuse MAIL with 530 5.7.0 until the client authenticated (RFC 4954 §6), as a submission server does: a client that goes on after a failed AUTH fails here too'
            cand --lmtp 'Speak LMTP (LHLO, one reply per recipient after DATA)'
            cand --quiet 'One line per stored message (plus warnings and errors) instead of the whole transcript: for a sink under load'
            cand --accept-proxy 'Read a PROXY protocol header (HAProxy v1 or v2) before the greeting, as a server behind a proxy does (HAProxy''s accept-proxy, Postfix''s smtpd_upstream_proxy_protocol): each connection must start with one, within --proxy-timeout; the client it names is shown as the connection''s'
            cand --json 'Print JSON Lines events instead of the transcript'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;demo'= {
            cand --color 'When to use colour'
            cand --json 'Print JSON Lines events instead of the transcript'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;repl'= {
            cand --tls-ca-path 'CA certificates to trust instead of the system store: a PEM file or a directory of them'
            cand --color 'When to use colour'
            cand --explain 'Which replies get a plain-language explanation'
            cand --log 'Also write every event as JSON Lines to FILE (ending with the run''s summary, with or without --json)'
            cand --auth-password-file 'The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)'
            cand --auth-token-file 'The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before EHLO_AUTH_TOKEN)'
            cand --record 'Record the session as a replayable script in FILE (secrets are never written). An existing FILE is never replaced (`:record! FILE` in the session replaces one); one that cannot be written refuses the run (exit 1)'
            cand -p 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]'
            cand --port 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]'
            cand --dns-server 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)'
            cand --timeout 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none'
            cand --helo 'Send `EHLO NAME` right after the banner'
            cand --ehlo 'Send `EHLO NAME` right after the banner'
            cand --lhlo 'Send `EHLO NAME` right after the banner'
            cand --tls-on-connect 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand --tlsc 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand -k 'Do not enforce certificate verification (the result is still shown)'
            cand --insecure 'Do not enforce certificate verification (the result is still shown)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand --protect-prompt 'Accepted for swaks compatibility: password and token prompts never echo'
            cand --pp 'Accepted for swaks compatibility: password and token prompts never echo'
            cand --show-secrets 'Show passwords and tokens in the output instead of masking them'
            cand --json 'Print JSON Lines events instead of the transcript (the send''s schema; a summary last)'
            cand --allow-plaintext-auth 'Let `:auth` send credentials over a connection that is not encrypted without asking'
            cand --tls 'STARTTLS right after the first EHLO (implies --helo with this host''s name if not given)'
            cand --strict 'End the session at the first 4xx/5xx reply: QUIT, then exit with that phase''s code'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;replay'= {
            cand -s 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`'
            cand --server 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`'
            cand --tls-ca-path 'CA certificates to trust instead of the system store: a PEM file or a directory of them'
            cand --color 'When to use colour'
            cand --explain 'Which replies get a plain-language explanation'
            cand --log 'Also write every event as JSON Lines to FILE (ending with the run''s summary, with or without --json)'
            cand --auth-password-file 'The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)'
            cand --auth-token-file 'The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before EHLO_AUTH_TOKEN)'
            cand --deadline 'Bound the whole replay (connecting, every step): N, Ns, Nm or Nh; 0 = none'
            cand -p 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]'
            cand --port 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]'
            cand --dns-server 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)'
            cand --timeout 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none'
            cand --keep-going 'Run every step even after a mismatch, then list every mismatch (line, command, expected, got); the exit code is the first one''s'
            cand --allow-any-file 'Let `:data @FILE` steps send files outside the script''s directory (refused otherwise: a script is not trusted to send any file you can read)'
            cand --tls-on-connect 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand --tlsc 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand -k 'Do not enforce certificate verification (the result is still shown)'
            cand --insecure 'Do not enforce certificate verification (the result is still shown)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand --protect-prompt 'Accepted for swaks compatibility: password and token prompts never echo'
            cand --pp 'Accepted for swaks compatibility: password and token prompts never echo'
            cand --show-secrets 'Show passwords and tokens in the output instead of masking them'
            cand --json 'Print JSON Lines events instead of the transcript (the send''s schema; a summary last)'
            cand --allow-plaintext-auth 'Let `:auth` send credentials over a connection that is not encrypted without asking'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;explain'= {
            cand --phase 'The command the reply answers [default: read from the text, else every command]'
            cand --json 'Print one JSON object instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;check'= {
            cand --junit 'Also write the results as JUnit XML to FILE (a testsuite per domain, a testcase per check)'
            cand --fail-on 'Which statuses fail the run (exit 40)'
            cand --cert-problems 'What a certificate chain or name problem (tls.cert.chain, tls.cert.name) is: auto fails it on implicit TLS and on ports 465 and 587, whose clients verify (RFC 8314 §5.3), and warns elsewhere, as on port 25, where MTAs encrypt without verifying (RFC 7435)'
            cand --dnssec 'DNSSEC for the dnssec.* and dane.* checks: validate, trust-ad or off [default: validate]'
            cand --dns-trust-anchor 'Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (with --dnssec validate; for private and test zones)'
            cand --tls-ca-path 'CA certificates to trust instead of the system store: a PEM file or a directory of them'
            cand --color 'When to use colour'
            cand --only 'Run only these checks (repeatable; * matches any characters, e.g. tls.*). A session step left out (smtp.connect, smtp.banner, smtp.ehlo, tls.starttls, tls.handshake) that failed or could not be tested, so that a selected check after it was skipped, is still reported and judged as in a full run: --only ''tls.*'' against an MX refusing connections fails'
            cand --skip 'Leave out these checks (repeatable; * matches any characters); a failed session step left out is still reported and judged when a check after it was skipped, as with --only'
            cand --expect 'Require a result (repeatable): ID=STATUS (tls.starttls=pass) or FIELD OP VALUE (tls.version>=1.2, tls.cert.days>=21, mx.count>=2; OP one of = != >= <= > <) or ID.KEY OP VALUE, KEY a dotted path into nested evidence (tls.cert.chain.chain.0.subject=CN=mx.example.com); a check a met ID=STATUS asked for does not count (dmarc.record=fail met: no exit 40)'
            cand --waive 'A known issue (repeatable): reported, but not counted in the verdict; DOMAIN may be *'
            cand --host 'Check this one server: alone (a host name or an IP address), its per-address checks only (smtp.*, tls.*, rdns.fcrdns), on --port; with domains, as their MX in place of their MX records (a new MX before the DNS change)'
            cand --connect-to 'Connect to this address for --host HOST instead of HOST''s DNS addresses (a server not yet in DNS); the name is still what is judged (repeatable or comma-separated)'
            cand --concurrency 'Domains checked at once, 1 to 1000. Each holds some 40-60 KB while in flight, and DNS lookups are capped at 256 at once: more domains only help while MX hosts are slow to answer'
            cand --per-ip 'SMTP connections at once to one address'
            cand --deadline 'Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)'
            cand --timeout 'Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)'
            cand --cert-days 'Warn when a certificate expires in fewer days than this'
            cand -p 'SMTP port to probe on every MX, a number or a service name (a staging MTA or a test; mail exchange uses 25) [default: 25; 465 with --tls-on-connect]'
            cand --port 'SMTP port to probe on every MX, a number or a service name (a staging MTA or a test; mail exchange uses 25) [default: 25; 465 with --tls-on-connect]'
            cand --helo 'Name to greet with in EHLO [default: this host''s name]'
            cand --dns-server 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)'
            cand --json 'Print JSON Lines (one line per check, per domain, and a summary) instead of the report'
            cand --untested-ok 'Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network error, a timeout); the report still shows it. A run cut by --deadline or a signal still exits 41'
            cand --allow-private 'Also probe MX addresses in loopback, private and other special-purpose ranges (RFC 6890)'
            cand --rcpt-probe 'Also check that every MX accepts MAIL FROM:<> and RCPT TO:<postmaster@DOMAIN> (smtp.postmaster; one more session per domain and MX address, then QUIT, never DATA)'
            cand --relay-probe 'Also check that every MX refuses RCPT TO:<relay-probe@example.net> from us (smtp.open-relay; one more session per MX address, then QUIT, never DATA)'
            cand --tls-probe 'Also find which TLS versions each MX accepts (tls.versions; one more connection per version: 1.0, 1.1, 1.2, 1.3)'
            cand --tls-on-connect 'Start TLS right after connecting (implicit TLS, default port 465) instead of STARTTLS: judges a submissions listener''s certificate, version and cipher (tls.starttls skipped)'
            cand --tlsc 'Start TLS right after connecting (implicit TLS, default port 465) instead of STARTTLS: judges a submissions listener''s certificate, version and cipher (tls.starttls skipped)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;probe'= {
            cand --tls-ca-path 'CA certificates to trust instead of the system store: a PEM file or a directory of them'
            cand --fail-on 'Which statuses fail the run (exit 40)'
            cand --junit 'Also write the results as JUnit XML to FILE (a testcase per probe)'
            cand --auth-password-file 'The password for --auth-user, from the first line of FILE (before EHLO_AUTH_PASSWORD: the command line beats the environment, as in the send)'
            cand --color 'When to use colour'
            cand --auth 'SASL mechanism for --auth-user (the send''s password ones): SCRAM-SHA-256, CRAM-SHA1, CRAM-MD5, PLAIN, LOGIN, DIGEST-MD5, NTLM, SPA, MSN (SPA and MSN are NTLM)'
            cand --only 'Run only these probes (repeatable; * matches any characters, e.g. smuggle.*)'
            cand --skip 'Leave out these probes (repeatable; * matches any characters)'
            cand --expect 'Require a result (repeatable): ID=STATUS (smuggle.lf-lf=pass, enum.rcpt=warn) or ID.KEY OP VALUE on a probe''s evidence (starttls.downgrade.mail_without_tls=false), KEY a dotted path into nested evidence (limits.line.control.answered=true); a probe a met ID=STATUS asked for does not count (smuggle.lf-lf=fail met: exit 0)'
            cand -t 'A recipient you own: the only address that receives mail (required)'
            cand --to 'A recipient you own: the only address that receives mail (required)'
            cand -f 'Envelope sender and From: [default: the --to address]'
            cand --from 'Envelope sender and From: [default: the --to address]'
            cand --helo 'Name to greet with in EHLO [default: this host''s name]'
            cand --relay-to 'An address outside the server''s domains, for relay.open'
            cand -p 'Port number or service name [default: 25; 465 with --tls-on-connect]'
            cand --port 'Port number or service name [default: 25; 465 with --tls-on-connect]'
            cand --timeout 'Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)'
            cand --deadline 'Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)'
            cand --auth-user 'Authenticate as USER before each probe''s commands, except relay.open'
            cand --au 'Authenticate as USER before each probe''s commands, except relay.open'
            cand --dns-server 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)'
            cand --tls 'STARTTLS after EHLO before each probe''s commands (probes about plaintext ignore it)'
            cand --tls-on-connect 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand --tlsc 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand -k 'Do not enforce certificate verification'
            cand --insecure 'Do not enforce certificate verification'
            cand --untested-ok 'Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network error, a timeout); the report still shows it. A run cut by --deadline or a signal still exits 41'
            cand --json 'Print JSON Lines (one line per probe and a summary) instead of the report'
            cand --allow-plaintext-auth 'Allow --auth-user over a connection that is not encrypted'
            cand -y 'Do not ask before probes that send mail'
            cand --yes 'Do not ask before probes that send mail'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ehlo;help'= {
            cand serve 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)'
            cand demo 'Start a throwaway server and send one annotated message to it (no network needed)'
            cand repl 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)'
            cand replay 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs'
            cand explain 'Explain a reply without connecting: codes, a pasted reply or a bounce''s diagnostic line'
            cand check 'Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records'
            cand probe 'Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ehlo;help;serve'= {
        }
        &'ehlo;help;demo'= {
        }
        &'ehlo;help;repl'= {
        }
        &'ehlo;help;replay'= {
        }
        &'ehlo;help;explain'= {
        }
        &'ehlo;help;check'= {
        }
        &'ehlo;help;probe'= {
        }
        &'ehlo;help;help'= {
        }
    ]
    var values = [
        &'ehlo --protocol'= ['SMTP' 'ESMTP' 'LMTP' 'SSMTP' 'SSMTPA' 'SMTPS' 'ESMTPA' 'ESMTPS' 'ESMTPSA' 'LMTPA' 'LMTPS' 'LMTPSA']
        &'ehlo --dnssec'= ['off' 'validate' 'trust-ad']
        &'ehlo --tls-verify'= ['pkix' 'dane']
        &'ehlo --color'= ['auto' 'always' 'never']
        &'ehlo --explain'= ['all' 'errors' 'none']
        &'ehlo --show-time-lapse'= ['i']
        &'ehlo --stl'= ['i']
        &'ehlo -q'= ['PROXY' 'CONNECT' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT']
        &'ehlo --quit-after'= ['PROXY' 'CONNECT' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT']
        &'ehlo --quit'= ['PROXY' 'CONNECT' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT']
        &'ehlo --drop-after'= ['CONNECT' 'PROXY' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT' 'DATA' 'DOT']
        &'ehlo --drop'= ['CONNECT' 'PROXY' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT' 'DATA' 'DOT']
        &'ehlo --da'= ['CONNECT' 'PROXY' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT' 'DATA' 'DOT']
        &'ehlo --drop-after-send'= ['CONNECT' 'PROXY' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT' 'DATA' 'DOT']
        &'ehlo --das'= ['CONNECT' 'PROXY' 'FIRST-HELO' 'XCLIENT' 'XCLIENT-HELO' 'TLS' 'HELO' 'AUTH' 'MAIL' 'RCPT' 'DATA' 'DOT']
        &'ehlo --dsn-ret'= ['FULL' 'HDRS']
        &'ehlo --proxy-family'= ['TCP4' 'TCP6' 'UNKNOWN' 'AF_UNIX']
        &'ehlo --proxy-command'= ['PROXY' 'LOCAL']
        &'ehlo --proxy-protocol'= ['STREAM' 'DGRAM']
        &'ehlo -a'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'XOAUTH2' 'OAUTHBEARER' 'SPA' 'MSN']
        &'ehlo --auth'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'XOAUTH2' 'OAUTHBEARER' 'SPA' 'MSN']
        &'ehlo --auth-optional'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'XOAUTH2' 'OAUTHBEARER' 'SPA' 'MSN']
        &'ehlo --ao'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'XOAUTH2' 'OAUTHBEARER' 'SPA' 'MSN']
        &'ehlo --auth-optional-strict'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'XOAUTH2' 'OAUTHBEARER' 'SPA' 'MSN']
        &'ehlo --aos'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'XOAUTH2' 'OAUTHBEARER' 'SPA' 'MSN']
        &'ehlo -S'= ['1' '2' '3']
        &'ehlo --silent'= ['1' '2' '3']
        &'ehlo --dump'= ['SUPPORT' 'APP' 'OUTPUT' 'TRANSPORT' 'PROTOCOL' 'XCLIENT' 'PROXY' 'TLS' 'AUTH' 'DATA' 'ALL']
        &'ehlo --dump-as-body'= ['SUPPORT' 'APP' 'OUTPUT' 'TRANSPORT' 'PROTOCOL' 'XCLIENT' 'PROXY' 'TLS' 'AUTH' 'DATA' 'ALL']
        &'ehlo --dab'= ['SUPPORT' 'APP' 'OUTPUT' 'TRANSPORT' 'PROTOCOL' 'XCLIENT' 'PROXY' 'TLS' 'AUTH' 'DATA' 'ALL']
        &'ehlo --tls-protocol'= ['tlsv1_2' 'tlsv1_3' 'tlsv1' 'tlsv1_1' 'no_tlsv1' 'no_tlsv1_1' 'no_tlsv1_2' 'no_tlsv1_3']
        &'ehlo --tlsp'= ['tlsv1_2' 'tlsv1_3' 'tlsv1' 'tlsv1_1' 'no_tlsv1' 'no_tlsv1_1' 'no_tlsv1_2' 'no_tlsv1_3']
        &'ehlo;serve --quirk'= ['bare-lf-dot' 'starttls-keep' 'disclose-users' 'answer-unsynced']
        &'ehlo;serve --color'= ['auto' 'always' 'never']
        &'ehlo;serve --hide'= ['PIPELINING' 'SIZE' '8BITMIME' 'SMTPUTF8' 'ENHANCEDSTATUSCODES' 'CHUNKING' 'DSN' 'STARTTLS' 'AUTH' 'ESMTP']
        &'ehlo;demo --color'= ['auto' 'always' 'never']
        &'ehlo;repl --color'= ['auto' 'always' 'never']
        &'ehlo;repl --explain'= ['all' 'errors' 'none']
        &'ehlo;replay --color'= ['auto' 'always' 'never']
        &'ehlo;replay --explain'= ['all' 'errors' 'none']
        &'ehlo;explain --phase'= ['banner' 'ehlo' 'starttls' 'auth' 'mail' 'rcpt' 'data' 'dot' 'quit']
        &'ehlo;check --fail-on'= ['fail' 'warn']
        &'ehlo;check --cert-problems'= ['auto' 'fail' 'warn']
        &'ehlo;check --dnssec'= ['off' 'validate' 'trust-ad']
        &'ehlo;check --color'= ['auto' 'always' 'never']
        &'ehlo;check --only'= ['mx.lookup' 'mx.null' 'mx.target' 'ipv6.mx' 'mtasts.txt' 'mtasts.fetch' 'mtasts.policy' 'mtasts.mx-match' 'tlsrpt.record' 'spf.record' 'dmarc.record' 'dkim.hint' 'dnssec.domain' 'dnssec.mx' 'dane.tlsa' 'dane.usable' 'dane.rollover' 'smtp.connect' 'smtp.banner' 'smtp.ehlo' 'smtp.banner-name' 'smtp.postmaster' 'smtp.open-relay' 'tls.starttls' 'tls.handshake' 'tls.versions' 'tls.cert.chain' 'tls.cert.name' 'tls.cert.expiry' 'tls.cert.key' 'dane.starttls' 'dane.match' 'rdns.fcrdns']
        &'ehlo;check --skip'= ['mx.lookup' 'mx.null' 'mx.target' 'ipv6.mx' 'mtasts.txt' 'mtasts.fetch' 'mtasts.policy' 'mtasts.mx-match' 'tlsrpt.record' 'spf.record' 'dmarc.record' 'dkim.hint' 'dnssec.domain' 'dnssec.mx' 'dane.tlsa' 'dane.usable' 'dane.rollover' 'smtp.connect' 'smtp.banner' 'smtp.ehlo' 'smtp.banner-name' 'smtp.postmaster' 'smtp.open-relay' 'tls.starttls' 'tls.handshake' 'tls.versions' 'tls.cert.chain' 'tls.cert.name' 'tls.cert.expiry' 'tls.cert.key' 'dane.starttls' 'dane.match' 'rdns.fcrdns']
        &'ehlo;check --expect'= ['mx.lookup=' 'mx.null=' 'mx.target=' 'ipv6.mx=' 'mtasts.txt=' 'mtasts.fetch=' 'mtasts.policy=' 'mtasts.mx-match=' 'tlsrpt.record=' 'spf.record=' 'dmarc.record=' 'dkim.hint=' 'dnssec.domain=' 'dnssec.mx=' 'dane.tlsa=' 'dane.usable=' 'dane.rollover=' 'smtp.connect=' 'smtp.banner=' 'smtp.ehlo=' 'smtp.banner-name=' 'smtp.postmaster=' 'smtp.open-relay=' 'tls.starttls=' 'tls.handshake=' 'tls.versions=' 'tls.cert.chain=' 'tls.cert.name=' 'tls.cert.expiry=' 'tls.cert.key=' 'dane.starttls=' 'dane.match=' 'rdns.fcrdns=' 'mx.count' 'tls.version' 'tls.cert.days' 'tls.cert.bits' 'spf.lookups' 'dmarc.p' 'mtasts.id' 'mtasts.mode' 'mtasts.max_age' 'smtp.connect.ms']
        &'ehlo;check --waive'= ['mx.lookup@' 'mx.null@' 'mx.target@' 'ipv6.mx@' 'mtasts.txt@' 'mtasts.fetch@' 'mtasts.policy@' 'mtasts.mx-match@' 'tlsrpt.record@' 'spf.record@' 'dmarc.record@' 'dkim.hint@' 'dnssec.domain@' 'dnssec.mx@' 'dane.tlsa@' 'dane.usable@' 'dane.rollover@' 'smtp.connect@' 'smtp.banner@' 'smtp.ehlo@' 'smtp.banner-name@' 'smtp.postmaster@' 'smtp.open-relay@' 'tls.starttls@' 'tls.handshake@' 'tls.versions@' 'tls.cert.chain@' 'tls.cert.name@' 'tls.cert.expiry@' 'tls.cert.key@' 'dane.starttls@' 'dane.match@' 'rdns.fcrdns@']
        &'ehlo;probe --fail-on'= ['fail' 'warn']
        &'ehlo;probe --color'= ['auto' 'always' 'never']
        &'ehlo;probe --auth'= ['SCRAM-SHA-256' 'CRAM-SHA1' 'CRAM-MD5' 'PLAIN' 'LOGIN' 'DIGEST-MD5' 'NTLM' 'SPA' 'MSN']
        &'ehlo;probe --only'= ['pipelining.early-talker' 'pipelining.unadvertised' 'starttls.injection' 'starttls.injection-ehlo' 'starttls.downgrade' 'relay.open' 'enum.vrfy' 'enum.expn' 'enum.rcpt' 'limits.line' 'limits.bare-lf-command' 'limits.nul' 'smuggle.lf-lf' 'smuggle.lf-crlf' 'smuggle.crlf-lf' 'smuggle.cr-cr' 'smuggle.crlf-cr' 'smuggle.cr-crlf' 'smuggle.lf-cr' 'smuggle.cr-lf' 'smuggle.crlf-nul' 'smuggle.lf-headers']
        &'ehlo;probe --skip'= ['pipelining.early-talker' 'pipelining.unadvertised' 'starttls.injection' 'starttls.injection-ehlo' 'starttls.downgrade' 'relay.open' 'enum.vrfy' 'enum.expn' 'enum.rcpt' 'limits.line' 'limits.bare-lf-command' 'limits.nul' 'smuggle.lf-lf' 'smuggle.lf-crlf' 'smuggle.crlf-lf' 'smuggle.cr-cr' 'smuggle.crlf-cr' 'smuggle.cr-crlf' 'smuggle.lf-cr' 'smuggle.cr-lf' 'smuggle.crlf-nul' 'smuggle.lf-headers']
        &'ehlo;probe --expect'= ['pipelining.early-talker=' 'pipelining.unadvertised=' 'starttls.injection=' 'starttls.injection-ehlo=' 'starttls.downgrade=' 'relay.open=' 'enum.vrfy=' 'enum.expn=' 'enum.rcpt=' 'limits.line=' 'limits.bare-lf-command=' 'limits.nul=' 'smuggle.lf-lf=' 'smuggle.lf-crlf=' 'smuggle.crlf-lf=' 'smuggle.cr-cr=' 'smuggle.crlf-cr=' 'smuggle.cr-crlf=' 'smuggle.lf-cr=' 'smuggle.cr-lf=' 'smuggle.crlf-nul=' 'smuggle.lf-headers=']
    ]
    # An option's values: the word before the one completed names the option, or the
    # word completed does before its '=' (`--protocol=LM`), which the values then follow.
    var sub = (str:join ';' [(str:split ';' $command | take 2)])
    var key = $sub' '$words[-2]
    var prefix = ''
    var at = (str:index $words[-1] '=')
    if (and (str:has-prefix $words[-1] '-') (> $at 1)) {
        set key = $sub' '$words[-1][0..$at]
        set prefix = $words[-1][0..(+ $at 1)]
    }
    if (has-key $values $key) {
        for value $values[$key] {
            edit:complex-candidate $prefix$value
        }
    } else {
        $completions[$command]
    }
}
