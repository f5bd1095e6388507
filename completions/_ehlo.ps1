
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ehlo' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ehlo'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'ehlo' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server to connect to [default: MX of the last recipient''s domain]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server to connect to [default: MX of the last recipient''s domain]')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Speak SMTP/LMTP over a UNIX-domain socket instead of TCP')
            [CompletionResult]::new('--pipe', '--pipe', [CompletionResultType]::ParameterName, 'Speak SMTP over a child process''s stdin/stdout, e.g. "/usr/sbin/sendmail -bs"')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port [default: 25; 465 with --tls-on-connect; 24 for LMTP]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port [default: 25; 465 with --tls-on-connect; 24 for LMTP]')
            [CompletionResult]::new('--local-interface', '--local-interface', [CompletionResultType]::ParameterName, 'Local address to connect from: IP[:PORT]')
            [CompletionResult]::new('--li', '--li', [CompletionResultType]::ParameterName, 'Local address to connect from: IP[:PORT]')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol variant (case-insensitive) [default: ESMTP]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-reply timeout: N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout of each connection attempt [default: --timeout]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates: a PEM file or a hashed directory')
            [CompletionResult]::new('--tls-sni', '--tls-sni', [CompletionResultType]::ParameterName, 'Server name to send in SNI [default: the server host name, unless it is an IP address]')
            [CompletionResult]::new('--tls-verify-target', '--tls-verify-target', [CompletionResultType]::ParameterName, 'Name to verify the certificate against [default: the server host name]')
            [CompletionResult]::new('--tls-protocol', '--tls-protocol', [CompletionResultType]::ParameterName, 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed')
            [CompletionResult]::new('--tlsp', '--tlsp', [CompletionResultType]::ParameterName, 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed')
            [CompletionResult]::new('--tls-cipher', '--tls-cipher', [CompletionResultType]::ParameterName, 'Cipher list for TLS 1.2 and below (`openssl ciphers` syntax), e.g. ECDHE-RSA-AES128-GCM-SHA256')
            [CompletionResult]::new('--tls-ciphersuites', '--tls-ciphersuites', [CompletionResultType]::ParameterName, 'TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Client certificate to present when the server asks (PEM; needs --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'Private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted)')
            [CompletionResult]::new('--tls-chain', '--tls-chain', [CompletionResultType]::ParameterName, 'Intermediate certificates to send after --tls-cert (PEM)')
            [CompletionResult]::new('--tls-get-peer-cert', '--tls-get-peer-cert', [CompletionResultType]::ParameterName, 'Save the server''s certificate as PEM to FILE [default: print it in the transcript]')
            [CompletionResult]::new('--tls-get-peer-chain', '--tls-get-peer-chain', [CompletionResultType]::ParameterName, 'Save the server''s certificate chain as sent, PEM, to FILE [default: print it]')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Require AUTH, trying these mechanisms in order [default: the strongest offered]')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Require AUTH, trying these mechanisms in order [default: the strongest offered]')
            [CompletionResult]::new('--auth-optional', '--auth-optional', [CompletionResultType]::ParameterName, 'Try AUTH; carry on if it is not offered or fails')
            [CompletionResult]::new('--ao', '--ao', [CompletionResultType]::ParameterName, 'Try AUTH; carry on if it is not offered or fails')
            [CompletionResult]::new('--auth-optional-strict', '--auth-optional-strict', [CompletionResultType]::ParameterName, 'AUTH if offered; fail if it is tried and fails')
            [CompletionResult]::new('--aos', '--aos', [CompletionResultType]::ParameterName, 'AUTH if offered; fail if it is tried and fails')
            [CompletionResult]::new('--auth-user', '--auth-user', [CompletionResultType]::ParameterName, 'User name (implies --auth)')
            [CompletionResult]::new('--au', '--au', [CompletionResultType]::ParameterName, 'User name (implies --auth)')
            [CompletionResult]::new('--auth-password', '--auth-password', [CompletionResultType]::ParameterName, 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)')
            [CompletionResult]::new('--ap', '--ap', [CompletionResultType]::ParameterName, 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)')
            [CompletionResult]::new('--auth-authzid', '--auth-authzid', [CompletionResultType]::ParameterName, 'Authorisation identity (PLAIN authzid, SCRAM a=)')
            [CompletionResult]::new('--auth-oauth-token', '--auth-oauth-token', [CompletionResultType]::ParameterName, 'OAuth 2.0 bearer token for XOAUTH2 and OAUTHBEARER (argv is visible to other users)')
            [CompletionResult]::new('--auth-password-file', '--auth-password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('--auth-token-file', '--auth-token-file', [CompletionResultType]::ParameterName, 'Read the OAuth 2.0 token from the first line of FILE')
            [CompletionResult]::new('--auth-hide-password', '--auth-hide-password', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: ehlo always hides secrets')
            [CompletionResult]::new('--ahp', '--ahp', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: ehlo always hides secrets')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Recipients (comma-separated, repeatable)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Recipients (comma-separated, repeatable)')
            [CompletionResult]::new('--cc', '--cc', [CompletionResultType]::ParameterName, 'Recipients also listed in a Cc: header')
            [CompletionResult]::new('--bcc', '--bcc', [CompletionResultType]::ParameterName, 'Recipients not listed in any header')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Sender; <> is the null sender [default: $LOGNAME@<local host name>]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Sender; <> is the null sender [default: $LOGNAME@<local host name>]')
            [CompletionResult]::new('--helo', '--helo', [CompletionResultType]::ParameterName, 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]')
            [CompletionResult]::new('--ehlo', '--ehlo', [CompletionResultType]::ParameterName, 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]')
            [CompletionResult]::new('--lhlo', '--lhlo', [CompletionResultType]::ParameterName, 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]')
            [CompletionResult]::new('--mail-param', '--mail-param', [CompletionResultType]::ParameterName, 'Extra MAIL FROM parameter, sent as given (repeatable), e.g. BODY=8BITMIME')
            [CompletionResult]::new('--rcpt-param', '--rcpt-param', [CompletionResultType]::ParameterName, 'Extra RCPT TO parameter, sent as given (repeatable), e.g. NOTIFY=NEVER')
            [CompletionResult]::new('--body', '--body', [CompletionResultType]::ParameterName, 'Body of the default message: TEXT, - for stdin, or @FILE [default: "This is a test mailing"]')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Set a header, replacing one of the same name in the default or --data message (repeatable)')
            [CompletionResult]::new('--add-header', '--add-header', [CompletionResultType]::ParameterName, 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header')
            [CompletionResult]::new('--ah', '--ah', [CompletionResultType]::ParameterName, 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'The whole message instead of the default one: TEXT, - for stdin, or @FILE')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'The whole message instead of the default one: TEXT, - for stdin, or @FILE')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Attach a part (repeatable): @FILE, - for stdin, or TEXT; makes the message multipart/mixed')
            [CompletionResult]::new('--attach-body', '--attach-body', [CompletionResultType]::ParameterName, 'A text part of the body (repeatable): several form multipart/alternative [type: text/plain]')
            [CompletionResult]::new('--attach-inline', '--attach-inline', [CompletionResultType]::ParameterName, 'Attach an inline part with a Content-ID (repeatable), e.g. an image for cid: in HTML')
            [CompletionResult]::new('--attach-type', '--attach-type', [CompletionResultType]::ParameterName, 'MIME type of the part options after it [default: guessed from a file name, else application/octet-stream]')
            [CompletionResult]::new('--attach-name', '--attach-name', [CompletionResultType]::ParameterName, 'File name of the next part option; empty (or no value) = no file name')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Which replies get a plain-language explanation')
            [CompletionResult]::new('--show-time-lapse', '--show-time-lapse', [CompletionResultType]::ParameterName, 'Show how long each reply took (i = whole seconds)')
            [CompletionResult]::new('--stl', '--stl', [CompletionResultType]::ParameterName, 'Show how long each reply took (i = whole seconds)')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Quieter: 1 = nothing until an error, then everything; 2 = errors only; 3 = nothing (-S alone = 1)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Quieter: 1 = nothing until an error, then everything; 2 = errors only; 3 = nothing (-S alone = 1)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Send QUIT after this step''s reply')
            [CompletionResult]::new('--quit-after', '--quit-after', [CompletionResultType]::ParameterName, 'Send QUIT after this step''s reply')
            [CompletionResult]::new('--quit', '--quit', [CompletionResultType]::ParameterName, 'Send QUIT after this step''s reply')
            [CompletionResult]::new('--drop-after', '--drop-after', [CompletionResultType]::ParameterName, 'Close the connection after this step''s reply, without QUIT')
            [CompletionResult]::new('--drop', '--drop', [CompletionResultType]::ParameterName, 'Close the connection after this step''s reply, without QUIT')
            [CompletionResult]::new('--da', '--da', [CompletionResultType]::ParameterName, 'Close the connection after this step''s reply, without QUIT')
            [CompletionResult]::new('--drop-after-send', '--drop-after-send', [CompletionResultType]::ParameterName, 'Close the connection right after sending this step''s command')
            [CompletionResult]::new('--das', '--das', [CompletionResultType]::ParameterName, 'Close the connection right after sending this step''s command')
            [CompletionResult]::new('--dsn-notify', '--dsn-notify', [CompletionResultType]::ParameterName, 'DSN (RFC 3461): NOTIFY= on every RCPT: NEVER, or a list of SUCCESS,FAILURE,DELAY')
            [CompletionResult]::new('--dsn-ret', '--dsn-ret', [CompletionResultType]::ParameterName, 'DSN: RET= on MAIL (return the FULL message or only the HDRS in a failure report)')
            [CompletionResult]::new('--dsn-envid', '--dsn-envid', [CompletionResultType]::ParameterName, 'DSN: ENVID= on MAIL (envelope identifier, xtext-encoded, at most 100 characters)')
            [CompletionResult]::new('--bdat', '--bdat', [CompletionResultType]::ParameterName, 'Send the message with BDAT (CHUNKING, RFC 3030) in chunks of SIZE [default: one chunk]')
            [CompletionResult]::new('--xclient-addr', '--xclient-addr', [CompletionResultType]::ParameterName, 'XCLIENT ADDR= (the client address to impersonate)')
            [CompletionResult]::new('--xclient-name', '--xclient-name', [CompletionResultType]::ParameterName, 'XCLIENT NAME= (the client''s host name)')
            [CompletionResult]::new('--xclient-port', '--xclient-port', [CompletionResultType]::ParameterName, 'XCLIENT PORT=')
            [CompletionResult]::new('--xclient-proto', '--xclient-proto', [CompletionResultType]::ParameterName, 'XCLIENT PROTO= (SMTP or ESMTP)')
            [CompletionResult]::new('--xclient-destaddr', '--xclient-destaddr', [CompletionResultType]::ParameterName, 'XCLIENT DESTADDR=')
            [CompletionResult]::new('--xclient-destport', '--xclient-destport', [CompletionResultType]::ParameterName, 'XCLIENT DESTPORT=')
            [CompletionResult]::new('--xclient-helo', '--xclient-helo', [CompletionResultType]::ParameterName, 'XCLIENT HELO=')
            [CompletionResult]::new('--xclient-login', '--xclient-login', [CompletionResultType]::ParameterName, 'XCLIENT LOGIN=')
            [CompletionResult]::new('--xclient-reverse-name', '--xclient-reverse-name', [CompletionResultType]::ParameterName, 'XCLIENT REVERSE_NAME=')
            [CompletionResult]::new('--xclient', '--xclient', [CompletionResultType]::ParameterName, 'A raw XCLIENT argument string, sent as its own command (repeatable)')
            [CompletionResult]::new('--xforward-name', '--xforward-name', [CompletionResultType]::ParameterName, 'XFORWARD NAME=')
            [CompletionResult]::new('--xforward-addr', '--xforward-addr', [CompletionResultType]::ParameterName, 'XFORWARD ADDR=')
            [CompletionResult]::new('--xforward-port', '--xforward-port', [CompletionResultType]::ParameterName, 'XFORWARD PORT=')
            [CompletionResult]::new('--xforward-proto', '--xforward-proto', [CompletionResultType]::ParameterName, 'XFORWARD PROTO=')
            [CompletionResult]::new('--xforward-helo', '--xforward-helo', [CompletionResultType]::ParameterName, 'XFORWARD HELO=')
            [CompletionResult]::new('--xforward-ident', '--xforward-ident', [CompletionResultType]::ParameterName, 'XFORWARD IDENT=')
            [CompletionResult]::new('--xforward-source', '--xforward-source', [CompletionResultType]::ParameterName, 'XFORWARD SOURCE= (LOCAL or REMOTE)')
            [CompletionResult]::new('--proxy-version', '--proxy-version', [CompletionResultType]::ParameterName, 'Send a PROXY protocol header of this version before the banner (exit 35 on bad values)')
            [CompletionResult]::new('--proxy-family', '--proxy-family', [CompletionResultType]::ParameterName, 'PROXY: address family [default: from --proxy-source]; UNKNOWN sends no addresses')
            [CompletionResult]::new('--proxy-command', '--proxy-command', [CompletionResultType]::ParameterName, 'PROXY v2: command, PROXY (a relayed client) or LOCAL (the proxy''s own connection)')
            [CompletionResult]::new('--proxy-protocol', '--proxy-protocol', [CompletionResultType]::ParameterName, 'PROXY v2: transport protocol, STREAM (TCP) or DGRAM (UDP) [default: STREAM]')
            [CompletionResult]::new('--proxy-source', '--proxy-source', [CompletionResultType]::ParameterName, 'PROXY: original client address')
            [CompletionResult]::new('--proxy-source-port', '--proxy-source-port', [CompletionResultType]::ParameterName, 'PROXY: original client port')
            [CompletionResult]::new('--proxy-dest', '--proxy-dest', [CompletionResultType]::ParameterName, 'PROXY: address the client connected to')
            [CompletionResult]::new('--proxy-dest-port', '--proxy-dest-port', [CompletionResultType]::ParameterName, 'PROXY: port the client connected to')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'A raw PROXY header: TEXT (CRLF added), base64:DATA (sent as decoded) or @FILE (sent byte for byte; @@X is the text @X)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read options from FILE [default: $XDG_CONFIG_HOME/ehlo/config or ~/.config/ehlo/config]')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Require STARTTLS (exit 29 if it is not offered or fails)')
            [CompletionResult]::new('--tls-optional', '--tls-optional', [CompletionResultType]::ParameterName, 'Try STARTTLS; carry on in plain text if it is not offered or fails')
            [CompletionResult]::new('--tlso', '--tlso', [CompletionResultType]::ParameterName, 'Try STARTTLS; carry on in plain text if it is not offered or fails')
            [CompletionResult]::new('--tls-optional-strict', '--tls-optional-strict', [CompletionResultType]::ParameterName, 'Use STARTTLS if offered; fail if it is offered and fails')
            [CompletionResult]::new('--tlsos', '--tlsos', [CompletionResultType]::ParameterName, 'Use STARTTLS if offered; fail if it is offered and fails')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--tls-verify', '--tls-verify', [CompletionResultType]::ParameterName, 'Verify the certificate (accepted for swaks compatibility: ehlo always verifies unless --insecure)')
            [CompletionResult]::new('--auth-force', '--auth-force', [CompletionResultType]::ParameterName, 'Send AUTH even if the server does not advertise it')
            [CompletionResult]::new('--auth-plaintext', '--auth-plaintext', [CompletionResultType]::ParameterName, 'Show the decoded AUTH exchange (secrets still masked)')
            [CompletionResult]::new('--apt', '--apt', [CompletionResultType]::ParameterName, 'Show the decoded AUTH exchange (secrets still masked)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show passwords and tokens in the output instead of masking them')
            [CompletionResult]::new('--allow-plaintext-auth', '--allow-plaintext-auth', [CompletionResultType]::ParameterName, 'Allow AUTH over a connection that is not encrypted')
            [CompletionResult]::new('--pipeline', '--pipeline', [CompletionResultType]::ParameterName, 'Send MAIL, RCPTs and DATA in one write when PIPELINING is offered')
            [CompletionResult]::new('--no-data-fixup', '--no-data-fixup', [CompletionResultType]::ParameterName, 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot')
            [CompletionResult]::new('--ndf', '--ndf', [CompletionResultType]::ParameterName, 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot')
            [CompletionResult]::new('--dump-mail', '--dump-mail', [CompletionResultType]::ParameterName, 'Print the message that would be sent and exit without connecting')
            [CompletionResult]::new('--no-dot-stuffing', '--no-dot-stuffing', [CompletionResultType]::ParameterName, 'Do not double a leading dot (RFC 5321 §4.5.2): a lone "." line then ends the data early')
            [CompletionResult]::new('--no-crlf-fixup', '--no-crlf-fixup', [CompletionResultType]::ParameterName, 'Do not turn bare LF or CR into CRLF')
            [CompletionResult]::new('--no-strip-from', '--no-strip-from', [CompletionResultType]::ParameterName, 'Keep a leading mbox "From " line')
            [CompletionResult]::new('--nsf', '--nsf', [CompletionResultType]::ParameterName, 'Keep a leading mbox "From " line')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines events instead of the transcript')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print "N lines sent" instead of the message')
            [CompletionResult]::new('--suppress-data', '--suppress-data', [CompletionResultType]::ParameterName, 'Print "N lines sent" instead of the message')
            [CompletionResult]::new('--n', '--n', [CompletionResultType]::ParameterName, 'Print "N lines sent" instead of the message')
            [CompletionResult]::new('--show-raw-text', '--show-raw-text', [CompletionResultType]::ParameterName, 'Hex dump of every read and write')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Hex dump of every read and write')
            [CompletionResult]::new('--no-hints', '--no-hints', [CompletionResultType]::ParameterName, 'Drop the ===, ->, <- prefixes from transcript lines')
            [CompletionResult]::new('--nth', '--nth', [CompletionResultType]::ParameterName, 'Drop the ===, ->, <- prefixes from transcript lines')
            [CompletionResult]::new('--smtputf8', '--smtputf8', [CompletionResultType]::ParameterName, 'Use SMTPUTF8 (RFC 6531) even when no address or header needs it (exit 31 if not offered)')
            [CompletionResult]::new('--force-ext', '--force-ext', [CompletionResultType]::ParameterName, 'Use extensions the server does not advertise instead of failing')
            [CompletionResult]::new('--dsn-orcpt', '--dsn-orcpt', [CompletionResultType]::ParameterName, 'DSN: ORCPT= on every RCPT, naming the recipient as given (xtext-encoded)')
            [CompletionResult]::new('--requiretls', '--requiretls', [CompletionResultType]::ParameterName, 'REQUIRETLS on MAIL (RFC 8689): needs --tls or --tls-on-connect')
            [CompletionResult]::new('--prdr', '--prdr', [CompletionResultType]::ParameterName, 'Ask for per-recipient replies after the message (PRDR; exit 30 if not offered)')
            [CompletionResult]::new('--xclient-before-starttls', '--xclient-before-starttls', [CompletionResultType]::ParameterName, 'Send XCLIENT before STARTTLS instead of after')
            [CompletionResult]::new('--xclient-optional', '--xclient-optional', [CompletionResultType]::ParameterName, 'Carry on without XCLIENT when it is not offered or refused')
            [CompletionResult]::new('--xclient-optional-strict', '--xclient-optional-strict', [CompletionResultType]::ParameterName, 'Carry on without XCLIENT when it is not offered; fail (exit 33) when it is refused')
            [CompletionResult]::new('--xclient-delim', '--xclient-delim', [CompletionResultType]::ParameterName, 'Start a new XCLIENT command here: the --xclient-* attributes before and after it go in separate commands (repeatable; ignored where no group would be split)')
            [CompletionResult]::new('--xclient-no-verify', '--xclient-no-verify', [CompletionResultType]::ParameterName, 'Do not check XCLIENT attributes against the advertised list')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Do not read a config file (EHLO_* environment variables still apply)')
            [CompletionResult]::new('--dump-config', '--dump-config', [CompletionResultType]::ParameterName, 'Print the effective options (file, environment, command line), secrets redacted, and exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Start a throwaway server and send one annotated message to it (no network needed)')
            [CompletionResult]::new('repl', 'repl', [CompletionResultType]::ParameterValue, 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply code differs')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain a reply without connecting: codes, a pasted reply or a bounce''s diagnostic line')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ehlo;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (port 0 picks a free port)')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate (PEM) [default: a generated self-signed one]')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'Private key (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Accept these credentials for AUTH (repeatable)')
            [CompletionResult]::new('--fail', '--fail', [CompletionResultType]::ParameterName, 'Inject a failure (repeatable), e.g. rcpt=550:5.1.1, data=452, connect=421')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, 'Wait before answering a command (repeatable), e.g. data:2000')
            [CompletionResult]::new('--hide', '--hide', [CompletionResultType]::ParameterName, 'Do not advertise this EHLO extension (repeatable), e.g. PIPELINING')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Largest message accepted (advertised as SIZE): bytes, or with K/M/G (binary units)')
            [CompletionResult]::new('--maildir', '--maildir', [CompletionResultType]::ParameterName, 'Store received messages in this Maildir')
            [CompletionResult]::new('--mbox', '--mbox', [CompletionResultType]::ParameterName, 'Append received messages to this mbox file')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the server''s randomness (reproducible runs)')
            [CompletionResult]::new('--hostname', '--hostname', [CompletionResultType]::ParameterName, 'Host name in the banner and the EHLO reply')
            [CompletionResult]::new('--max-sessions', '--max-sessions', [CompletionResultType]::ParameterName, 'Exit after N sessions, for scripts and tests')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Implicit TLS on every connection')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Implicit TLS on every connection')
            [CompletionResult]::new('--starttls', '--starttls', [CompletionResultType]::ParameterName, 'Offer STARTTLS')
            [CompletionResult]::new('--accept-any-auth', '--accept-any-auth', [CompletionResultType]::ParameterName, 'Accept any credentials')
            [CompletionResult]::new('--auth-before-tls', '--auth-before-tls', [CompletionResultType]::ParameterName, 'Offer AUTH before STARTTLS too (by default AUTH waits for TLS when --starttls is given)')
            [CompletionResult]::new('--lmtp', '--lmtp', [CompletionResultType]::ParameterName, 'Speak LMTP (LHLO, one reply per recipient after DATA)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines events instead of the transcript')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;demo' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines events instead of the transcript')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;repl' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates: a PEM file or a hashed directory')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('--ehlo', '--ehlo', [CompletionResultType]::ParameterName, 'Send `EHLO NAME` right after the banner')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Which replies get a plain-language explanation')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Also write every event as JSON Lines to FILE')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Record the session as a replayable script in FILE (secrets are never written)')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'STARTTLS right after the first EHLO (implies --ehlo with this host''s name if not given)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show passwords and tokens in the output instead of masking them')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;replay' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates: a PEM file or a hashed directory')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('--ehlo', '--ehlo', [CompletionResultType]::ParameterName, 'Send `EHLO NAME` right after the banner')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Which replies get a plain-language explanation')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Also write every event as JSON Lines to FILE')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'STARTTLS right after the first EHLO (implies --ehlo with this host''s name if not given)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show passwords and tokens in the output instead of masking them')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;explain' {
            [CompletionResult]::new('--phase', '--phase', [CompletionResultType]::ParameterName, 'The command the reply answers [default: read from the text, else every command]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Start a throwaway server and send one annotated message to it (no network needed)')
            [CompletionResult]::new('repl', 'repl', [CompletionResultType]::ParameterValue, 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply code differs')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain a reply without connecting: codes, a pasted reply or a bounce''s diagnostic line')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ehlo;help;serve' {
            break
        }
        'ehlo;help;demo' {
            break
        }
        'ehlo;help;repl' {
            break
        }
        'ehlo;help;replay' {
            break
        }
        'ehlo;help;explain' {
            break
        }
        'ehlo;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
