
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
            cand -p 'Port [default: 25; 465 with --tls-on-connect; 24 for LMTP]'
            cand --port 'Port [default: 25; 465 with --tls-on-connect; 24 for LMTP]'
            cand --local-interface 'Local address to connect from: IP[:PORT]'
            cand --li 'Local address to connect from: IP[:PORT]'
            cand --protocol 'Protocol variant (case-insensitive) [default: ESMTP]'
            cand --timeout 'Per-reply timeout: N, Ns, Nm or Nh; 0 = none'
            cand --connect-timeout 'Timeout of each connection attempt [default: --timeout]'
            cand --dns-server 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)'
            cand --tls-ca-path 'Extra trusted CA certificates: a PEM file or a hashed directory'
            cand --tls-sni 'Server name to send in SNI [default: the server host name, unless it is an IP address]'
            cand --tls-verify-target 'Name to verify the certificate against [default: the server host name]'
            cand -a 'Require AUTH, trying these mechanisms in order [default: the strongest offered]'
            cand --auth 'Require AUTH, trying these mechanisms in order [default: the strongest offered]'
            cand --auth-optional 'Try AUTH; carry on if it is not offered or fails'
            cand --ao 'Try AUTH; carry on if it is not offered or fails'
            cand --auth-optional-strict 'AUTH if offered; fail if it is tried and fails'
            cand --aos 'AUTH if offered; fail if it is tried and fails'
            cand --auth-user 'User name (implies --auth)'
            cand --au 'User name (implies --auth)'
            cand --auth-password 'Password (prefer the environment variable: argv is visible to other users)'
            cand --ap 'Password (prefer the environment variable: argv is visible to other users)'
            cand --auth-authzid 'Authorisation identity (PLAIN authzid, SCRAM a=)'
            cand --auth-oauth-token 'OAuth 2.0 bearer token for XOAUTH2 and OAUTHBEARER'
            cand --auth-hide-password 'Accepted for swaks compatibility: ehlo always hides secrets'
            cand --ahp 'Accepted for swaks compatibility: ehlo always hides secrets'
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
            cand --body 'Body of the default message: TEXT, - for stdin, or @FILE [default: "This is a test mailing"]'
            cand --header 'Set a header, replacing a default one of the same name (repeatable)'
            cand --add-header 'Append a header (repeatable)'
            cand --ah 'Append a header (repeatable)'
            cand -d 'The whole message instead of the default one: TEXT, - for stdin, or @FILE'
            cand --data 'The whole message instead of the default one: TEXT, - for stdin, or @FILE'
            cand --color 'When to use colour'
            cand --explain 'Which replies get a plain-language explanation'
            cand --show-time-lapse 'Show how long each reply took (i = whole seconds)'
            cand --stl 'Show how long each reply took (i = whole seconds)'
            cand -S 'Quieter: 1 = nothing until an error, then everything; 2 = errors only; 3 = nothing (-S alone = 1)'
            cand --silent 'Quieter: 1 = nothing until an error, then everything; 2 = errors only; 3 = nothing (-S alone = 1)'
            cand -q 'Send QUIT after this step''s reply'
            cand --quit-after 'Send QUIT after this step''s reply'
            cand --quit 'Send QUIT after this step''s reply'
            cand --drop-after 'Close the connection after this step''s reply, without QUIT'
            cand --drop 'Close the connection after this step''s reply, without QUIT'
            cand --da 'Close the connection after this step''s reply, without QUIT'
            cand --drop-after-send 'Close the connection right after sending this step''s command'
            cand --das 'Close the connection right after sending this step''s command'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand --tls 'Require STARTTLS (exit 29 if it is not offered or fails)'
            cand --tls-optional 'Try STARTTLS; carry on in plain text if it is not offered or fails'
            cand --tlso 'Try STARTTLS; carry on in plain text if it is not offered or fails'
            cand --tls-optional-strict 'Use STARTTLS if offered; fail if it is offered and fails'
            cand --tlsos 'Use STARTTLS if offered; fail if it is offered and fails'
            cand --tls-on-connect 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand --tlsc 'Start TLS right after connecting (implicit TLS, default port 465)'
            cand -k 'Do not enforce certificate verification (the result is still shown)'
            cand --insecure 'Do not enforce certificate verification (the result is still shown)'
            cand --tls-verify 'Verify the certificate (accepted for swaks compatibility: ehlo always verifies unless --insecure)'
            cand --auth-force 'Send AUTH even if the server does not advertise it'
            cand --auth-plaintext 'Show the decoded AUTH exchange (secrets still masked)'
            cand --apt 'Show the decoded AUTH exchange (secrets still masked)'
            cand --show-secrets 'Show passwords and tokens in the output instead of masking them'
            cand --allow-plaintext-auth 'Allow AUTH over a connection that is not encrypted'
            cand --pipeline 'Send MAIL, RCPTs and DATA in one write when PIPELINING is offered'
            cand --no-data-fixup 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot'
            cand --ndf 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot'
            cand --dump-mail 'Print the message that would be sent and exit without connecting'
            cand --json 'Print JSON Lines events instead of the transcript'
            cand -n 'Print "N lines sent" instead of the message'
            cand --suppress-data 'Print "N lines sent" instead of the message'
            cand --n 'Print "N lines sent" instead of the message'
            cand --show-raw-text 'Hex dump of every read and write'
            cand --raw 'Hex dump of every read and write'
            cand --no-hints 'Drop the ===, ->, <- prefixes from transcript lines'
            cand --nth 'Drop the ===, ->, <- prefixes from transcript lines'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)'
            cand demo 'Start a throwaway server and send one annotated message to it (no network needed)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ehlo;serve'= {
            cand --listen 'Address to listen on (port 0 picks a free port)'
            cand --tls-cert 'Certificate (PEM) [default: a generated self-signed one]'
            cand --tls-key 'Private key (PEM: PKCS#8, PKCS#1 or SEC1)'
            cand --user 'Accept these credentials for AUTH (repeatable)'
            cand --fail 'Inject a failure (repeatable), e.g. rcpt=550:5.1.1, data=452, connect=421'
            cand --delay 'Wait before answering a command (repeatable), e.g. data:2000'
            cand --hide 'Do not advertise this EHLO extension (repeatable), e.g. PIPELINING'
            cand --max-size 'Largest message accepted (advertised as SIZE): bytes, or with K/M/G (binary units)'
            cand --maildir 'Store received messages in this Maildir'
            cand --mbox 'Append received messages to this mbox file'
            cand --seed 'Seed for the server''s randomness (reproducible runs)'
            cand --hostname 'Host name in the banner and the EHLO reply'
            cand --max-sessions 'Exit after N sessions, for scripts and tests'
            cand --color 'When to use colour'
            cand --tls-on-connect 'Implicit TLS on every connection'
            cand --tlsc 'Implicit TLS on every connection'
            cand --starttls 'Offer STARTTLS'
            cand --accept-any-auth 'Accept any credentials'
            cand --lmtp 'Speak LMTP (LHLO, one reply per recipient after DATA)'
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
        &'ehlo;help'= {
            cand serve 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)'
            cand demo 'Start a throwaway server and send one annotated message to it (no network needed)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ehlo;help;serve'= {
        }
        &'ehlo;help;demo'= {
        }
        &'ehlo;help;help'= {
        }
    ]
    $completions[$command]
}
