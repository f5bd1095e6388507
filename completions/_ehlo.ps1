
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

    # An option's values: the word before the one completed names the option, or the
    # word completed does before its '=' (`--protocol=LM`), which the values then follow.
    $previous = ''
    foreach ($element in $commandElements) {
        if ($element.Extent.EndOffset -ge $cursorPosition) { break }
        $previous = $element.Extent.Text
    }
    $prefix = ''
    $typed = $wordToComplete
    if ($wordToComplete -match '^(-[^=]+)=(.*)$') {
        $previous = $Matches[1]
        $prefix = $Matches[1] + '='
        $typed = $Matches[2]
    }
    $sub = (($command -split ';') | Select-Object -First 2) -join ';'
    $values = @(switch -CaseSensitive -Exact ("$sub $previous") {
        'ehlo --protocol' { 'SMTP', 'ESMTP', 'LMTP', 'SSMTP', 'SSMTPA', 'SMTPS', 'ESMTPA', 'ESMTPS', 'ESMTPSA', 'LMTPA', 'LMTPS', 'LMTPSA' }
        'ehlo --dnssec' { 'off', 'validate', 'trust-ad' }
        'ehlo --tls-verify' { 'pkix', 'dane' }
        'ehlo --color' { 'auto', 'always', 'never' }
        'ehlo --explain' { 'all', 'errors', 'none' }
        'ehlo --show-time-lapse' { 'i' }
        'ehlo --stl' { 'i' }
        'ehlo -q' { 'PROXY', 'CONNECT', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT' }
        'ehlo --quit-after' { 'PROXY', 'CONNECT', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT' }
        'ehlo --quit' { 'PROXY', 'CONNECT', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT' }
        'ehlo --drop-after' { 'CONNECT', 'PROXY', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'DOT' }
        'ehlo --drop' { 'CONNECT', 'PROXY', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'DOT' }
        'ehlo --da' { 'CONNECT', 'PROXY', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'DOT' }
        'ehlo --drop-after-send' { 'CONNECT', 'PROXY', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'DOT' }
        'ehlo --das' { 'CONNECT', 'PROXY', 'FIRST-HELO', 'XCLIENT', 'XCLIENT-HELO', 'TLS', 'HELO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'DOT' }
        'ehlo --dsn-ret' { 'FULL', 'HDRS' }
        'ehlo --proxy-family' { 'TCP4', 'TCP6', 'UNKNOWN', 'AF_UNIX' }
        'ehlo --proxy-command' { 'PROXY', 'LOCAL' }
        'ehlo --proxy-protocol' { 'STREAM', 'DGRAM' }
        'ehlo -a' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'XOAUTH2', 'OAUTHBEARER', 'SPA', 'MSN' }
        'ehlo --auth' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'XOAUTH2', 'OAUTHBEARER', 'SPA', 'MSN' }
        'ehlo --auth-optional' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'XOAUTH2', 'OAUTHBEARER', 'SPA', 'MSN' }
        'ehlo --ao' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'XOAUTH2', 'OAUTHBEARER', 'SPA', 'MSN' }
        'ehlo --auth-optional-strict' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'XOAUTH2', 'OAUTHBEARER', 'SPA', 'MSN' }
        'ehlo --aos' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'XOAUTH2', 'OAUTHBEARER', 'SPA', 'MSN' }
        'ehlo -S' { '1', '2', '3' }
        'ehlo --silent' { '1', '2', '3' }
        'ehlo --dump' { 'SUPPORT', 'APP', 'OUTPUT', 'TRANSPORT', 'PROTOCOL', 'XCLIENT', 'PROXY', 'TLS', 'AUTH', 'DATA', 'ALL' }
        'ehlo --dump-as-body' { 'SUPPORT', 'APP', 'OUTPUT', 'TRANSPORT', 'PROTOCOL', 'XCLIENT', 'PROXY', 'TLS', 'AUTH', 'DATA', 'ALL' }
        'ehlo --dab' { 'SUPPORT', 'APP', 'OUTPUT', 'TRANSPORT', 'PROTOCOL', 'XCLIENT', 'PROXY', 'TLS', 'AUTH', 'DATA', 'ALL' }
        'ehlo --tls-protocol' { 'tlsv1_2', 'tlsv1_3', 'tlsv1', 'tlsv1_1', 'no_tlsv1', 'no_tlsv1_1', 'no_tlsv1_2', 'no_tlsv1_3' }
        'ehlo --tlsp' { 'tlsv1_2', 'tlsv1_3', 'tlsv1', 'tlsv1_1', 'no_tlsv1', 'no_tlsv1_1', 'no_tlsv1_2', 'no_tlsv1_3' }
        'ehlo;serve --quirk' { 'bare-lf-dot', 'starttls-keep', 'disclose-users', 'answer-unsynced' }
        'ehlo;serve --color' { 'auto', 'always', 'never' }
        'ehlo;serve --hide' { 'PIPELINING', 'SIZE', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'CHUNKING', 'DSN', 'STARTTLS', 'AUTH', 'ESMTP' }
        'ehlo;demo --color' { 'auto', 'always', 'never' }
        'ehlo;repl --color' { 'auto', 'always', 'never' }
        'ehlo;repl --explain' { 'all', 'errors', 'none' }
        'ehlo;replay --color' { 'auto', 'always', 'never' }
        'ehlo;replay --explain' { 'all', 'errors', 'none' }
        'ehlo;explain --phase' { 'banner', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'dot', 'quit' }
        'ehlo;check --fail-on' { 'fail', 'warn' }
        'ehlo;check --cert-problems' { 'auto', 'fail', 'warn' }
        'ehlo;check --dnssec' { 'off', 'validate', 'trust-ad' }
        'ehlo;check --color' { 'auto', 'always', 'never' }
        'ehlo;check --only' { 'mx.lookup', 'mx.null', 'mx.target', 'ipv6.mx', 'mtasts.txt', 'mtasts.fetch', 'mtasts.policy', 'mtasts.mx-match', 'tlsrpt.record', 'spf.record', 'dmarc.record', 'dkim.hint', 'dnssec.domain', 'dnssec.mx', 'dane.tlsa', 'dane.usable', 'dane.rollover', 'smtp.connect', 'smtp.banner', 'smtp.ehlo', 'smtp.banner-name', 'smtp.postmaster', 'smtp.open-relay', 'tls.starttls', 'tls.handshake', 'tls.versions', 'tls.cert.chain', 'tls.cert.name', 'tls.cert.expiry', 'tls.cert.key', 'dane.starttls', 'dane.match', 'rdns.fcrdns' }
        'ehlo;check --skip' { 'mx.lookup', 'mx.null', 'mx.target', 'ipv6.mx', 'mtasts.txt', 'mtasts.fetch', 'mtasts.policy', 'mtasts.mx-match', 'tlsrpt.record', 'spf.record', 'dmarc.record', 'dkim.hint', 'dnssec.domain', 'dnssec.mx', 'dane.tlsa', 'dane.usable', 'dane.rollover', 'smtp.connect', 'smtp.banner', 'smtp.ehlo', 'smtp.banner-name', 'smtp.postmaster', 'smtp.open-relay', 'tls.starttls', 'tls.handshake', 'tls.versions', 'tls.cert.chain', 'tls.cert.name', 'tls.cert.expiry', 'tls.cert.key', 'dane.starttls', 'dane.match', 'rdns.fcrdns' }
        'ehlo;check --expect' { 'mx.lookup=', 'mx.null=', 'mx.target=', 'ipv6.mx=', 'mtasts.txt=', 'mtasts.fetch=', 'mtasts.policy=', 'mtasts.mx-match=', 'tlsrpt.record=', 'spf.record=', 'dmarc.record=', 'dkim.hint=', 'dnssec.domain=', 'dnssec.mx=', 'dane.tlsa=', 'dane.usable=', 'dane.rollover=', 'smtp.connect=', 'smtp.banner=', 'smtp.ehlo=', 'smtp.banner-name=', 'smtp.postmaster=', 'smtp.open-relay=', 'tls.starttls=', 'tls.handshake=', 'tls.versions=', 'tls.cert.chain=', 'tls.cert.name=', 'tls.cert.expiry=', 'tls.cert.key=', 'dane.starttls=', 'dane.match=', 'rdns.fcrdns=', 'mx.count', 'tls.version', 'tls.cert.days', 'tls.cert.bits', 'spf.lookups', 'dmarc.p', 'mtasts.id', 'mtasts.mode', 'mtasts.max_age', 'smtp.connect.ms' }
        'ehlo;check --waive' { 'mx.lookup@', 'mx.null@', 'mx.target@', 'ipv6.mx@', 'mtasts.txt@', 'mtasts.fetch@', 'mtasts.policy@', 'mtasts.mx-match@', 'tlsrpt.record@', 'spf.record@', 'dmarc.record@', 'dkim.hint@', 'dnssec.domain@', 'dnssec.mx@', 'dane.tlsa@', 'dane.usable@', 'dane.rollover@', 'smtp.connect@', 'smtp.banner@', 'smtp.ehlo@', 'smtp.banner-name@', 'smtp.postmaster@', 'smtp.open-relay@', 'tls.starttls@', 'tls.handshake@', 'tls.versions@', 'tls.cert.chain@', 'tls.cert.name@', 'tls.cert.expiry@', 'tls.cert.key@', 'dane.starttls@', 'dane.match@', 'rdns.fcrdns@' }
        'ehlo;probe --fail-on' { 'fail', 'warn' }
        'ehlo;probe --color' { 'auto', 'always', 'never' }
        'ehlo;probe --auth' { 'SCRAM-SHA-256', 'CRAM-SHA1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'DIGEST-MD5', 'NTLM', 'SPA', 'MSN' }
        'ehlo;probe --only' { 'pipelining.early-talker', 'pipelining.unadvertised', 'starttls.injection', 'starttls.injection-ehlo', 'starttls.downgrade', 'relay.open', 'enum.vrfy', 'enum.expn', 'enum.rcpt', 'limits.line', 'limits.bare-lf-command', 'limits.nul', 'smuggle.lf-lf', 'smuggle.lf-crlf', 'smuggle.crlf-lf', 'smuggle.cr-cr', 'smuggle.crlf-cr', 'smuggle.cr-crlf', 'smuggle.lf-cr', 'smuggle.cr-lf', 'smuggle.crlf-nul', 'smuggle.lf-headers' }
        'ehlo;probe --skip' { 'pipelining.early-talker', 'pipelining.unadvertised', 'starttls.injection', 'starttls.injection-ehlo', 'starttls.downgrade', 'relay.open', 'enum.vrfy', 'enum.expn', 'enum.rcpt', 'limits.line', 'limits.bare-lf-command', 'limits.nul', 'smuggle.lf-lf', 'smuggle.lf-crlf', 'smuggle.crlf-lf', 'smuggle.cr-cr', 'smuggle.crlf-cr', 'smuggle.cr-crlf', 'smuggle.lf-cr', 'smuggle.cr-lf', 'smuggle.crlf-nul', 'smuggle.lf-headers' }
        'ehlo;probe --expect' { 'pipelining.early-talker=', 'pipelining.unadvertised=', 'starttls.injection=', 'starttls.injection-ehlo=', 'starttls.downgrade=', 'relay.open=', 'enum.vrfy=', 'enum.expn=', 'enum.rcpt=', 'limits.line=', 'limits.bare-lf-command=', 'limits.nul=', 'smuggle.lf-lf=', 'smuggle.lf-crlf=', 'smuggle.crlf-lf=', 'smuggle.cr-cr=', 'smuggle.crlf-cr=', 'smuggle.cr-crlf=', 'smuggle.lf-cr=', 'smuggle.cr-lf=', 'smuggle.crlf-nul=', 'smuggle.lf-headers=' }
    })
    if ($values.Count -gt 0) {
        $values.Where{ $_ -like "$typed*" } | ForEach-Object {
            [CompletionResult]::new("$prefix$_", $_, [CompletionResultType]::ParameterValue, $_)
        }
        return
    }

    $completions = @(switch ($command) {
        'ehlo' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server to connect to [default: MX of the last recipient''s domain]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server to connect to [default: MX of the last recipient''s domain]')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Speak SMTP/LMTP over a UNIX-domain socket instead of TCP')
            [CompletionResult]::new('--pipe', '--pipe', [CompletionResultType]::ParameterName, 'Speak SMTP over a child process''s stdin/stdout, e.g. "/usr/sbin/sendmail -bs"')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol variant (case-insensitive) [default: ESMTP]')
            [CompletionResult]::new('--dnssec', '--dnssec', [CompletionResultType]::ParameterName, 'DNSSEC validation of the DNS answers: off, validate or trust-ad [default: off]')
            [CompletionResult]::new('--dns-trust-anchor', '--dns-trust-anchor', [CompletionResultType]::ParameterName, 'Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (needs --dnssec validate; for private and test zones)')
            [CompletionResult]::new('--tls-verify', '--tls-verify', [CompletionResultType]::ParameterName, 'Verify the certificate: pkix (the CA store and the name, the default: the flag alone is accepted for swaks compatibility) or dane (TLSA records, RFC 7672)')
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'CA certificates to trust instead of the system store: a PEM file or a directory of them')
            [CompletionResult]::new('--tlsa-file', '--tlsa-file', [CompletionResultType]::ParameterName, 'Read TLSA records from FILE: one per line, bare or as zone-file lines (what `ldns-dane -t` reads); `;` and `#` start comments')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Client certificate to present when the server asks (PEM; needs --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'Private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted)')
            [CompletionResult]::new('--tls-chain', '--tls-chain', [CompletionResultType]::ParameterName, 'Intermediate certificates to send after --tls-cert (PEM)')
            [CompletionResult]::new('--tls-get-peer-cert', '--tls-get-peer-cert', [CompletionResultType]::ParameterName, 'Save the server''s certificate as PEM to FILE [default: print it in the transcript]')
            [CompletionResult]::new('--tls-get-peer-chain', '--tls-get-peer-chain', [CompletionResultType]::ParameterName, 'Save the server''s certificate chain as sent, PEM, to FILE [default: print it]')
            [CompletionResult]::new('--auth-password-file', '--auth-password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE (replaces a lower layer''s password, e.g. $EHLO_AUTH_PASSWORD; an --auth-password of the same layer wins)')
            [CompletionResult]::new('--auth-token-file', '--auth-token-file', [CompletionResultType]::ParameterName, 'Read the OAuth 2.0 token from the first line of FILE (replaces a lower layer''s token, e.g. $EHLO_AUTH_TOKEN; an --auth-oauth-token of the same layer wins)')
            [CompletionResult]::new('--body', '--body', [CompletionResultType]::ParameterName, 'Body of the default message: TEXT, - for stdin, or @FILE [default: "This is a test mailing"]')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'The whole message instead of the default one: TEXT, - for stdin, or @FILE')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'The whole message instead of the default one: TEXT, - for stdin, or @FILE')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Attach a part (repeatable): @FILE, - for stdin, or TEXT; makes the message multipart/mixed')
            [CompletionResult]::new('--attach-body', '--attach-body', [CompletionResultType]::ParameterName, 'A text part of the body (repeatable): several form multipart/alternative [type: text/plain]')
            [CompletionResult]::new('--attach-inline', '--attach-inline', [CompletionResultType]::ParameterName, 'Attach an inline part with a Content-ID (repeatable), e.g. an image for cid: in HTML')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Which replies get a plain-language explanation')
            [CompletionResult]::new('--show-time-lapse', '--show-time-lapse', [CompletionResultType]::ParameterName, 'Show how long each reply took (i = whole seconds)')
            [CompletionResult]::new('--stl', '--stl', [CompletionResultType]::ParameterName, 'Show how long each reply took (i = whole seconds)')
            [CompletionResult]::new('--output-file', '--output-file', [CompletionResultType]::ParameterName, 'Append the transcript (both streams) to FILE instead of the terminal (as swaks)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Append the transcript (both streams) to FILE instead of the terminal (as swaks)')
            [CompletionResult]::new('--output-file-stdout', '--output-file-stdout', [CompletionResultType]::ParameterName, 'Append what would go to stdout to FILE instead')
            [CompletionResult]::new('--output-file-stderr', '--output-file-stderr', [CompletionResultType]::ParameterName, 'Append what would go to stderr (*** lines) to FILE instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Send QUIT after this step''s reply')
            [CompletionResult]::new('--quit-after', '--quit-after', [CompletionResultType]::ParameterName, 'Send QUIT after this step''s reply')
            [CompletionResult]::new('--quit', '--quit', [CompletionResultType]::ParameterName, 'Send QUIT after this step''s reply')
            [CompletionResult]::new('--drop-after', '--drop-after', [CompletionResultType]::ParameterName, 'Close the connection after this step''s reply, without QUIT')
            [CompletionResult]::new('--drop', '--drop', [CompletionResultType]::ParameterName, 'Close the connection after this step''s reply, without QUIT')
            [CompletionResult]::new('--da', '--da', [CompletionResultType]::ParameterName, 'Close the connection after this step''s reply, without QUIT')
            [CompletionResult]::new('--drop-after-send', '--drop-after-send', [CompletionResultType]::ParameterName, 'Close the connection right after sending this step''s command')
            [CompletionResult]::new('--das', '--das', [CompletionResultType]::ParameterName, 'Close the connection right after sending this step''s command')
            [CompletionResult]::new('--dsn-ret', '--dsn-ret', [CompletionResultType]::ParameterName, 'DSN: RET= on MAIL (return the FULL message or only the HDRS in a failure report)')
            [CompletionResult]::new('--proxy-family', '--proxy-family', [CompletionResultType]::ParameterName, 'PROXY: address family [default: from --proxy-source]; UNKNOWN sends no addresses')
            [CompletionResult]::new('--proxy-command', '--proxy-command', [CompletionResultType]::ParameterName, 'PROXY v2: command, PROXY (a relayed client) or LOCAL (the proxy''s own connection)')
            [CompletionResult]::new('--proxy-protocol', '--proxy-protocol', [CompletionResultType]::ParameterName, 'PROXY v2: transport protocol, STREAM (TCP) or DGRAM (UDP) [default: STREAM]')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'A raw PROXY header: TEXT, sent as "PROXY TEXT" (CRLF added; with --proxy-version 2 the text follows the v2 signature), base64:DATA (sent as decoded) or @FILE (sent byte for byte; @@X is the text @X)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read options from FILE [default: $XDG_CONFIG_HOME/ehlo/config or ~/.config/ehlo/config]')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Require AUTH, trying these mechanisms in order [default: the strongest offered]')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Require AUTH, trying these mechanisms in order [default: the strongest offered]')
            [CompletionResult]::new('--auth-optional', '--auth-optional', [CompletionResultType]::ParameterName, 'Try AUTH; carry on if it is not offered or fails')
            [CompletionResult]::new('--ao', '--ao', [CompletionResultType]::ParameterName, 'Try AUTH; carry on if it is not offered or fails')
            [CompletionResult]::new('--auth-optional-strict', '--auth-optional-strict', [CompletionResultType]::ParameterName, 'AUTH if offered; fail if it is tried and fails')
            [CompletionResult]::new('--aos', '--aos', [CompletionResultType]::ParameterName, 'AUTH if offered; fail if it is tried and fails')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Quieter: 1 = nothing until an error, then everything from it on; 2 = errors only; 3 = nothing (-S alone = 1)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Quieter: 1 = nothing until an error, then everything from it on; 2 = errors only; 3 = nothing (-S alone = 1)')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Print the resolved settings in swaks''s sections and exit without connecting [default: ALL]')
            [CompletionResult]::new('--dump-as-body', '--dump-as-body', [CompletionResultType]::ParameterName, 'Make the body the --dump of this run''s settings [default sections: all but SUPPORT, DATA]')
            [CompletionResult]::new('--dab', '--dab', [CompletionResultType]::ParameterName, 'Make the body the --dump of this run''s settings [default sections: all but SUPPORT, DATA]')
            [CompletionResult]::new('--tls-protocol', '--tls-protocol', [CompletionResultType]::ParameterName, 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed')
            [CompletionResult]::new('--tlsp', '--tlsp', [CompletionResultType]::ParameterName, 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed')
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
            [CompletionResult]::new('--copy-routing', '--copy-routing', [CompletionResultType]::ParameterName, 'Connect to where mail for DOMAIN goes (its MX hosts) instead of the recipient''s domain')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect; 24 for LMTP]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect; 24 for LMTP]')
            [CompletionResult]::new('--local-interface', '--local-interface', [CompletionResultType]::ParameterName, 'Local address to connect from: HOST[:PORT] (an IP address or a name)')
            [CompletionResult]::new('--li', '--li', [CompletionResultType]::ParameterName, 'Local address to connect from: HOST[:PORT] (an IP address or a name)')
            [CompletionResult]::new('--local-port', '--local-port', [CompletionResultType]::ParameterName, 'Local port to connect from (number or service name)')
            [CompletionResult]::new('--lport', '--lport', [CompletionResultType]::ParameterName, 'Local port to connect from (number or service name)')
            [CompletionResult]::new('--lp', '--lp', [CompletionResultType]::ParameterName, 'Local port to connect from (number or service name)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-reply timeout: N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout of each connection attempt [default: --timeout]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Bound the whole send: N, Ns, Nm or Nh; 0 = none [default: none]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--tls-sni', '--tls-sni', [CompletionResultType]::ParameterName, 'Server name to send in SNI [default: the server host name, unless it is an IP address]')
            [CompletionResult]::new('--tls-verify-target', '--tls-verify-target', [CompletionResultType]::ParameterName, 'Name to verify the certificate against [default: the server host name]')
            [CompletionResult]::new('--tlsa', '--tlsa', [CompletionResultType]::ParameterName, 'Authenticate the server by this TLSA record instead of the CA store (repeatable; DANE)')
            [CompletionResult]::new('--tls-cipher', '--tls-cipher', [CompletionResultType]::ParameterName, 'Cipher list for TLS 1.2 and below (`openssl ciphers` syntax), e.g. ECDHE-RSA-AES128-GCM-SHA256')
            [CompletionResult]::new('--tls-ciphersuites', '--tls-ciphersuites', [CompletionResultType]::ParameterName, 'TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256')
            [CompletionResult]::new('--auth-user', '--auth-user', [CompletionResultType]::ParameterName, 'User name (implies --auth); without a value: ~/.netrc, then a prompt')
            [CompletionResult]::new('--au', '--au', [CompletionResultType]::ParameterName, 'User name (implies --auth); without a value: ~/.netrc, then a prompt')
            [CompletionResult]::new('--auth-password', '--auth-password', [CompletionResultType]::ParameterName, 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)')
            [CompletionResult]::new('--ap', '--ap', [CompletionResultType]::ParameterName, 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)')
            [CompletionResult]::new('--auth-authzid', '--auth-authzid', [CompletionResultType]::ParameterName, 'Authorisation identity (PLAIN authzid, SCRAM a=, DIGEST-MD5 authzid)')
            [CompletionResult]::new('--auth-oauth-token', '--auth-oauth-token', [CompletionResultType]::ParameterName, 'OAuth 2.0 bearer token for XOAUTH2 and OAUTHBEARER (argv is visible to other users)')
            [CompletionResult]::new('--auth-map', '--auth-map', [CompletionResultType]::ParameterName, 'Another name for a mechanism: AUTH ALIAS is sent and run as TYPE (SPA and MSN are NTLM)')
            [CompletionResult]::new('--am', '--am', [CompletionResultType]::ParameterName, 'Another name for a mechanism: AUTH ALIAS is sent and run as TYPE (SPA and MSN are NTLM)')
            [CompletionResult]::new('--auth-extra', '--auth-extra', [CompletionResultType]::ParameterName, 'DIGEST-MD5 and NTLM settings: realm=, domain=, dmd5-serv-type=, dmd5-host=, dmd5-serv-name=, ntlm-version=')
            [CompletionResult]::new('--ae', '--ae', [CompletionResultType]::ParameterName, 'DIGEST-MD5 and NTLM settings: realm=, domain=, dmd5-serv-type=, dmd5-host=, dmd5-serv-name=, ntlm-version=')
            [CompletionResult]::new('--auth-hide-password', '--auth-hide-password', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: ehlo always hides secrets')
            [CompletionResult]::new('--ahp', '--ahp', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: ehlo always hides secrets')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Set a header, replacing one of the same name in the default or --data message (repeatable)')
            [CompletionResult]::new('--add-header', '--add-header', [CompletionResultType]::ParameterName, 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header')
            [CompletionResult]::new('--ah', '--ah', [CompletionResultType]::ParameterName, 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header')
            [CompletionResult]::new('--attach-type', '--attach-type', [CompletionResultType]::ParameterName, 'MIME type of the part options after it, up to an --attach-body [default: guessed from a file name, else application/octet-stream]')
            [CompletionResult]::new('--attach-name', '--attach-name', [CompletionResultType]::ParameterName, 'File name of the next part option; empty (or no value) = no file name')
            [CompletionResult]::new('--dsn-notify', '--dsn-notify', [CompletionResultType]::ParameterName, 'DSN (RFC 3461): NOTIFY= on every RCPT: NEVER, or a list of SUCCESS,FAILURE,DELAY')
            [CompletionResult]::new('--dsn-envid', '--dsn-envid', [CompletionResultType]::ParameterName, 'DSN: ENVID= on MAIL (envelope identifier: printable ASCII, at most 100 characters once xtext-encoded)')
            [CompletionResult]::new('--bdat', '--bdat', [CompletionResultType]::ParameterName, 'Send the message with BDAT (CHUNKING, RFC 3030) in chunks of SIZE [default: one chunk]')
            [CompletionResult]::new('--xclient-addr', '--xclient-addr', [CompletionResultType]::ParameterName, 'XCLIENT ADDR= (the client address to impersonate; a bare IPv6 one goes as IPV6:ADDR)')
            [CompletionResult]::new('--xclient-name', '--xclient-name', [CompletionResultType]::ParameterName, 'XCLIENT NAME= (the client''s host name)')
            [CompletionResult]::new('--xclient-port', '--xclient-port', [CompletionResultType]::ParameterName, 'XCLIENT PORT=')
            [CompletionResult]::new('--xclient-proto', '--xclient-proto', [CompletionResultType]::ParameterName, 'XCLIENT PROTO= (SMTP or ESMTP)')
            [CompletionResult]::new('--xclient-destaddr', '--xclient-destaddr', [CompletionResultType]::ParameterName, 'XCLIENT DESTADDR= (the server address; a bare IPv6 one goes as IPV6:ADDR)')
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
            [CompletionResult]::new('--proxy-version', '--proxy-version', [CompletionResultType]::ParameterName, 'Send a PROXY protocol header of this version before the banner [default: 1 when any --proxy* is given] (exit 35 on bad values)')
            [CompletionResult]::new('--proxy-source', '--proxy-source', [CompletionResultType]::ParameterName, 'PROXY: original client address')
            [CompletionResult]::new('--proxy-source-port', '--proxy-source-port', [CompletionResultType]::ParameterName, 'PROXY: original client port')
            [CompletionResult]::new('--proxy-dest', '--proxy-dest', [CompletionResultType]::ParameterName, 'PROXY: address the client connected to')
            [CompletionResult]::new('--proxy-dest-port', '--proxy-dest-port', [CompletionResultType]::ParameterName, 'PROXY: port the client connected to')
            [CompletionResult]::new('--force-getpwuid', '--force-getpwuid', [CompletionResultType]::ParameterName, 'Default sender from the password database, ignoring $LOGNAME and $USER')
            [CompletionResult]::new('--pipeline', '--pipeline', [CompletionResultType]::ParameterName, 'Send MAIL, RCPTs and DATA in one write when PIPELINING is offered')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Require STARTTLS (exit 29 if it is not offered or fails)')
            [CompletionResult]::new('--tls-optional', '--tls-optional', [CompletionResultType]::ParameterName, 'Try STARTTLS; carry on in plain text if it is not offered or refused')
            [CompletionResult]::new('--tlso', '--tlso', [CompletionResultType]::ParameterName, 'Try STARTTLS; carry on in plain text if it is not offered or refused')
            [CompletionResult]::new('--tls-optional-strict', '--tls-optional-strict', [CompletionResultType]::ParameterName, 'Use STARTTLS if offered; fail if it is offered and fails')
            [CompletionResult]::new('--tlsos', '--tlsos', [CompletionResultType]::ParameterName, 'Use STARTTLS if offered; fail if it is offered and fails')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--tls-verify-ca', '--tls-verify-ca', [CompletionResultType]::ParameterName, 'Enforce only the chain check (a trusted CA, within its dates), not the name')
            [CompletionResult]::new('--tls-verify-host', '--tls-verify-host', [CompletionResultType]::ParameterName, 'Enforce only the name check (SAN or CN against the server name), not the chain')
            [CompletionResult]::new('--auth-force', '--auth-force', [CompletionResultType]::ParameterName, 'Send AUTH even if the server does not advertise it')
            [CompletionResult]::new('--auth-plaintext', '--auth-plaintext', [CompletionResultType]::ParameterName, 'Show the decoded AUTH exchange (secrets still masked)')
            [CompletionResult]::new('--apt', '--apt', [CompletionResultType]::ParameterName, 'Show the decoded AUTH exchange (secrets still masked)')
            [CompletionResult]::new('--protect-prompt', '--protect-prompt', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: password and token prompts never echo')
            [CompletionResult]::new('--pp', '--pp', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: password and token prompts never echo')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show passwords and tokens in the output instead of masking them')
            [CompletionResult]::new('--allow-plaintext-auth', '--allow-plaintext-auth', [CompletionResultType]::ParameterName, 'Allow AUTH over a connection that is not encrypted')
            [CompletionResult]::new('--no-data-fixup', '--no-data-fixup', [CompletionResultType]::ParameterName, 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot')
            [CompletionResult]::new('--ndf', '--ndf', [CompletionResultType]::ParameterName, 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot')
            [CompletionResult]::new('--dump-mail', '--dump-mail', [CompletionResultType]::ParameterName, 'Print the message that would be sent and exit without connecting')
            [CompletionResult]::new('--dump-as-body-shows-password', '--dump-as-body-shows-password', [CompletionResultType]::ParameterName, '--dump-as-body with the password shown (implies --dump-as-body)')
            [CompletionResult]::new('--dabsp', '--dabsp', [CompletionResultType]::ParameterName, '--dump-as-body with the password shown (implies --dump-as-body)')
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
            [CompletionResult]::new('--no-send-hints', '--no-send-hints', [CompletionResultType]::ParameterName, 'Drop the -> / ~> / **> prefixes from lines sent')
            [CompletionResult]::new('--nsh', '--nsh', [CompletionResultType]::ParameterName, 'Drop the -> / ~> / **> prefixes from lines sent')
            [CompletionResult]::new('--no-receive-hints', '--no-receive-hints', [CompletionResultType]::ParameterName, 'Drop the <- / <~ / <** prefixes from replies received')
            [CompletionResult]::new('--nrh', '--nrh', [CompletionResultType]::ParameterName, 'Drop the <- / <~ / <** prefixes from replies received')
            [CompletionResult]::new('--no-info-hints', '--no-info-hints', [CompletionResultType]::ParameterName, 'Drop the === / *** prefixes from ehlo''s own lines')
            [CompletionResult]::new('--nih', '--nih', [CompletionResultType]::ParameterName, 'Drop the === / *** prefixes from ehlo''s own lines')
            [CompletionResult]::new('--hide-receive', '--hide-receive', [CompletionResultType]::ParameterName, 'Do not print the replies received')
            [CompletionResult]::new('--hr', '--hr', [CompletionResultType]::ParameterName, 'Do not print the replies received')
            [CompletionResult]::new('--hide-send', '--hide-send', [CompletionResultType]::ParameterName, 'Do not print the lines sent')
            [CompletionResult]::new('--hs', '--hs', [CompletionResultType]::ParameterName, 'Do not print the lines sent')
            [CompletionResult]::new('--hide-informational', '--hide-informational', [CompletionResultType]::ParameterName, 'Do not print ehlo''s own information lines (=== and !!!; errors still show)')
            [CompletionResult]::new('--hi', '--hi', [CompletionResultType]::ParameterName, 'Do not print ehlo''s own information lines (=== and !!!; errors still show)')
            [CompletionResult]::new('--hide-all', '--hide-all', [CompletionResultType]::ParameterName, 'Print nothing at all (the exit code tells the result)')
            [CompletionResult]::new('--ha', '--ha', [CompletionResultType]::ParameterName, 'Print nothing at all (the exit code tells the result)')
            [CompletionResult]::new('--smtputf8', '--smtputf8', [CompletionResultType]::ParameterName, 'Use SMTPUTF8 (RFC 6531) even when no address or header needs it (exit 31 if not offered)')
            [CompletionResult]::new('--force-ext', '--force-ext', [CompletionResultType]::ParameterName, 'Use extensions the server does not advertise instead of failing')
            [CompletionResult]::new('--dsn-orcpt', '--dsn-orcpt', [CompletionResultType]::ParameterName, 'DSN: ORCPT= on every RCPT, naming the recipient as given (xtext-encoded, at most 500 characters)')
            [CompletionResult]::new('--requiretls', '--requiretls', [CompletionResultType]::ParameterName, 'REQUIRETLS on MAIL (RFC 8689): needs --tls or --tls-on-connect, even with --force-ext')
            [CompletionResult]::new('--prdr', '--prdr', [CompletionResultType]::ParameterName, 'Ask for per-recipient replies after the message (PRDR; exit 30 if not offered)')
            [CompletionResult]::new('--xclient-before-starttls', '--xclient-before-starttls', [CompletionResultType]::ParameterName, 'Send XCLIENT before STARTTLS instead of after')
            [CompletionResult]::new('--xclient-optional', '--xclient-optional', [CompletionResultType]::ParameterName, 'Carry on without XCLIENT when it is not offered or refused')
            [CompletionResult]::new('--xclient-optional-strict', '--xclient-optional-strict', [CompletionResultType]::ParameterName, 'Carry on without XCLIENT when it is not offered; fail (exit 33) when it is refused')
            [CompletionResult]::new('--xclient-no-verify', '--xclient-no-verify', [CompletionResultType]::ParameterName, 'Do not check XCLIENT attributes against the advertised list')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Do not read a config file (EHLO_NO_CONFIG too; SWAKS_OPT_* and EHLO_* still apply)')
            [CompletionResult]::new('--dump-config', '--dump-config', [CompletionResultType]::ParameterName, 'Print the effective options (file, environment, command line), secrets redacted, and exit')
            [CompletionResult]::new('--support', '--support', [CompletionResultType]::ParameterName, 'Print what this build supports (TLS library, AUTH mechanisms, transports, …) and exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--xclient-delim', '--xclient-delim', [CompletionResultType]::ParameterName, 'Start a new XCLIENT command here: the --xclient-* attributes before and after it go in separate commands (repeatable; ignored where no group would be split)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Start a throwaway server and send one annotated message to it (no network needed)')
            [CompletionResult]::new('repl', 'repl', [CompletionResultType]::ParameterValue, 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain a reply without connecting: codes, a pasted reply or a bounce''s diagnostic line')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ehlo;serve' {
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate (PEM) [default: a generated self-signed one]')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'Private key (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--maildir', '--maildir', [CompletionResultType]::ParameterName, 'Store received messages in this Maildir')
            [CompletionResult]::new('--mbox', '--mbox', [CompletionResultType]::ParameterName, 'Append received messages to this mbox file')
            [CompletionResult]::new('--quirk', '--quirk', [CompletionResultType]::ParameterName, 'Behave like a vulnerable MTA (repeatable): bare-lf-dot, starttls-keep, disclose-users, answer-unsynced')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hide', '--hide', [CompletionResultType]::ParameterName, 'Do not advertise this EHLO extension (repeatable), e.g. PIPELINING')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on: ADDR:PORT, [IPv6]:PORT ([fe80::1%eth0]:PORT with its zone), or HOST:PORT for every address the name resolves to (port 0 picks a free port)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Accept these credentials for AUTH (repeatable, one per name)')
            [CompletionResult]::new('--fail', '--fail', [CompletionResultType]::ParameterName, 'Inject a failure (repeatable), e.g. rcpt=550:5.1.1, data=452, connect=421')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, 'Wait before answering a command (repeatable), e.g. data:2000')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Largest message accepted (advertised as SIZE): bytes, or with K/M/G (binary units); 0 = no limit, advertised as a bare SIZE (RFC 1870 §4; the content is streamed, so memory stays bounded)')
            [CompletionResult]::new('--min-free', '--min-free', [CompletionResultType]::ParameterName, 'Free space to keep on the --maildir/--mbox file system (and TMPDIR''s, for the mbox): below it MAIL and the message get 452 4.3.1, as Postfix''s queue_minfree; 0 = no reserve (a full disk is still 452 4.3.1); without --maildir/--mbox it does nothing (a warning says so) [default: 10MiB]')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the server''s randomness (reproducible runs)')
            [CompletionResult]::new('--hostname', '--hostname', [CompletionResultType]::ParameterName, 'Host name in the banner and the EHLO reply: a domain or an address literal ([192.0.2.1])')
            [CompletionResult]::new('--max-sessions', '--max-sessions', [CompletionResultType]::ParameterName, 'Exit after N sessions, for scripts and tests')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Open connections allowed at once; one more is answered 421 4.3.2 and closed')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Time allowed for each complete command, twice that for a message''s content, then 421 4.4.2 (RFC 5321 §4.5.3.2.7), and for a TLS handshake; 0 turns it off')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'Once a client is turned away because every --max-connections slot is in use (busy, as Postfix''s stress mode), the time each open session has left, then 421 4.4.2; 0 turns it off')
            [CompletionResult]::new('--max-auth-failures', '--max-auth-failures', [CompletionResultType]::ParameterName, 'Failed AUTH attempts per connection before 421 4.7.0 and close (each failure waits a little longer); 0 = no limit; without --user/--accept-any-auth it does nothing (a warning says so) [default: 3]')
            [CompletionResult]::new('--hard-error-limit', '--hard-error-limit', [CompletionResultType]::ParameterName, 'Errors a client may make (replies 500-504: unknown commands, bad syntax, bad sequence) without a message delivered: the last is answered, then 421 4.7.0 and close; 1 while busy, as Postfix''s stress mode; 0 = no limit')
            [CompletionResult]::new('--junk-command-limit', '--junk-command-limit', [CompletionResultType]::ParameterName, 'NOOP, RSET, VRFY and HELP commands a client may send without a message delivered; each one past it counts as an error (--hard-error-limit); 1 while busy; 0 = no limit')
            [CompletionResult]::new('--soft-error-limit', '--soft-error-limit', [CompletionResultType]::ParameterName, 'Errors (as --hard-error-limit counts them) a client may make without a message delivered before every further reply waits --error-sleep-time, as Postfix''s smtpd_soft_error_limit; 0 = no limit')
            [CompletionResult]::new('--error-sleep-time', '--error-sleep-time', [CompletionResultType]::ParameterName, 'Wait MS milliseconds before each reply once a client is past --soft-error-limit (Postfix''s smtpd_error_sleep_time, 1s); 0 turns it off; as long as --idle-timeout or longer, a start warning says so')
            [CompletionResult]::new('--greet-pause', '--greet-pause', [CompletionResultType]::ParameterName, 'Wait MS milliseconds before the greeting and refuse a client that talks first (554 5.5.1, RFC 5321 §4.3.1), as postscreen''s greet wait does; 0 = greet at once')
            [CompletionResult]::new('--proxy-timeout', '--proxy-timeout', [CompletionResultType]::ParameterName, 'Time a connection has to send its whole PROXY header (--accept-proxy), then 421 4.3.0 and close, as Postfix''s smtpd_upstream_proxy_timeout')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Implicit TLS on every connection')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Implicit TLS on every connection')
            [CompletionResult]::new('--starttls', '--starttls', [CompletionResultType]::ParameterName, 'Offer STARTTLS')
            [CompletionResult]::new('--accept-any-auth', '--accept-any-auth', [CompletionResultType]::ParameterName, 'Accept any credentials')
            [CompletionResult]::new('--auth-before-tls', '--auth-before-tls', [CompletionResultType]::ParameterName, 'Offer AUTH before STARTTLS too (by default AUTH waits for TLS when --starttls is given)')
            [CompletionResult]::new('--require-tls', '--require-tls', [CompletionResultType]::ParameterName, 'Refuse MAIL with 530 5.7.0 until the client started TLS (RFC 3207 §4), as a submission server does')
            [CompletionResult]::new('--require-auth', '--require-auth', [CompletionResultType]::ParameterName, 'Refuse MAIL with 530 5.7.0 until the client authenticated (RFC 4954 §6), as a submission server does: a client that goes on after a failed AUTH fails here too')
            [CompletionResult]::new('--lmtp', '--lmtp', [CompletionResultType]::ParameterName, 'Speak LMTP (LHLO, one reply per recipient after DATA)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'One line per stored message (plus warnings and errors) instead of the whole transcript: for a sink under load')
            [CompletionResult]::new('--accept-proxy', '--accept-proxy', [CompletionResultType]::ParameterName, 'Read a PROXY protocol header (HAProxy v1 or v2) before the greeting, as a server behind a proxy does (HAProxy''s accept-proxy, Postfix''s smtpd_upstream_proxy_protocol): each connection must start with one, within --proxy-timeout; the client it names is shown as the connection''s')
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
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'CA certificates to trust instead of the system store: a PEM file or a directory of them')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Which replies get a plain-language explanation')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Also write every event as JSON Lines to FILE (ending with the run''s summary, with or without --json)')
            [CompletionResult]::new('--auth-password-file', '--auth-password-file', [CompletionResultType]::ParameterName, 'The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)')
            [CompletionResult]::new('--auth-token-file', '--auth-token-file', [CompletionResultType]::ParameterName, 'The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before EHLO_AUTH_TOKEN)')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Record the session as a replayable script in FILE (secrets are never written). An existing FILE is never replaced (`:record! FILE` in the session replaces one); one that cannot be written refuses the run (exit 1)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('--helo', '--helo', [CompletionResultType]::ParameterName, 'Send `EHLO NAME` right after the banner')
            [CompletionResult]::new('--ehlo', '--ehlo', [CompletionResultType]::ParameterName, 'Send `EHLO NAME` right after the banner')
            [CompletionResult]::new('--lhlo', '--lhlo', [CompletionResultType]::ParameterName, 'Send `EHLO NAME` right after the banner')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--protect-prompt', '--protect-prompt', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: password and token prompts never echo')
            [CompletionResult]::new('--pp', '--pp', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: password and token prompts never echo')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show passwords and tokens in the output instead of masking them')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines events instead of the transcript (the send''s schema; a summary last)')
            [CompletionResult]::new('--allow-plaintext-auth', '--allow-plaintext-auth', [CompletionResultType]::ParameterName, 'Let `:auth` send credentials over a connection that is not encrypted without asking')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'STARTTLS right after the first EHLO (implies --helo with this host''s name if not given)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'End the session at the first 4xx/5xx reply: QUIT, then exit with that phase''s code')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;replay' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`')
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'CA certificates to trust instead of the system store: a PEM file or a directory of them')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Which replies get a plain-language explanation')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Also write every event as JSON Lines to FILE (ending with the run''s summary, with or without --json)')
            [CompletionResult]::new('--auth-password-file', '--auth-password-file', [CompletionResultType]::ParameterName, 'The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)')
            [CompletionResult]::new('--auth-token-file', '--auth-token-file', [CompletionResultType]::ParameterName, 'The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before EHLO_AUTH_TOKEN)')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Bound the whole replay (connecting, every step): N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none')
            [CompletionResult]::new('--keep-going', '--keep-going', [CompletionResultType]::ParameterName, 'Run every step even after a mismatch, then list every mismatch (line, command, expected, got); the exit code is the first one''s')
            [CompletionResult]::new('--allow-any-file', '--allow-any-file', [CompletionResultType]::ParameterName, 'Let `:data @FILE` steps send files outside the script''s directory (refused otherwise: a script is not trusted to send any file you can read)')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification (the result is still shown)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--protect-prompt', '--protect-prompt', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: password and token prompts never echo')
            [CompletionResult]::new('--pp', '--pp', [CompletionResultType]::ParameterName, 'Accepted for swaks compatibility: password and token prompts never echo')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show passwords and tokens in the output instead of masking them')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines events instead of the transcript (the send''s schema; a summary last)')
            [CompletionResult]::new('--allow-plaintext-auth', '--allow-plaintext-auth', [CompletionResultType]::ParameterName, 'Let `:auth` send credentials over a connection that is not encrypted without asking')
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
        'ehlo;check' {
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Also write the results as JUnit XML to FILE (a testsuite per domain, a testcase per check)')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which statuses fail the run (exit 40)')
            [CompletionResult]::new('--cert-problems', '--cert-problems', [CompletionResultType]::ParameterName, 'What a certificate chain or name problem (tls.cert.chain, tls.cert.name) is: auto fails it on implicit TLS and on ports 465 and 587, whose clients verify (RFC 8314 §5.3), and warns elsewhere, as on port 25, where MTAs encrypt without verifying (RFC 7435)')
            [CompletionResult]::new('--dnssec', '--dnssec', [CompletionResultType]::ParameterName, 'DNSSEC for the dnssec.* and dane.* checks: validate, trust-ad or off [default: validate]')
            [CompletionResult]::new('--dns-trust-anchor', '--dns-trust-anchor', [CompletionResultType]::ParameterName, 'Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (with --dnssec validate; for private and test zones)')
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'CA certificates to trust instead of the system store: a PEM file or a directory of them')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these checks (repeatable; * matches any characters, e.g. tls.*). A session step left out (smtp.connect, smtp.banner, smtp.ehlo, tls.starttls, tls.handshake) that failed or could not be tested, so that a selected check after it was skipped, is still reported and judged as in a full run: --only ''tls.*'' against an MX refusing connections fails')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Leave out these checks (repeatable; * matches any characters); a failed session step left out is still reported and judged when a check after it was skipped, as with --only')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Require a result (repeatable): ID=STATUS (tls.starttls=pass) or FIELD OP VALUE (tls.version>=1.2, tls.cert.days>=21, mx.count>=2; OP one of = != >= <= > <) or ID.KEY OP VALUE, KEY a dotted path into nested evidence (tls.cert.chain.chain.0.subject=CN=mx.example.com); a check a met ID=STATUS asked for does not count (dmarc.record=fail met: no exit 40)')
            [CompletionResult]::new('--waive', '--waive', [CompletionResultType]::ParameterName, 'A known issue (repeatable): reported, but not counted in the verdict; DOMAIN may be *')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Check this one server: alone (a host name or an IP address), its per-address checks only (smtp.*, tls.*, rdns.fcrdns), on --port; with domains, as their MX in place of their MX records (a new MX before the DNS change)')
            [CompletionResult]::new('--connect-to', '--connect-to', [CompletionResultType]::ParameterName, 'Connect to this address for --host HOST instead of HOST''s DNS addresses (a server not yet in DNS); the name is still what is judged (repeatable or comma-separated)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Domains checked at once, 1 to 1000. Each holds some 40-60 KB while in flight, and DNS lookups are capped at 256 at once: more domains only help while MX hosts are slow to answer')
            [CompletionResult]::new('--per-ip', '--per-ip', [CompletionResultType]::ParameterName, 'SMTP connections at once to one address')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)')
            [CompletionResult]::new('--cert-days', '--cert-days', [CompletionResultType]::ParameterName, 'Warn when a certificate expires in fewer days than this')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'SMTP port to probe on every MX, a number or a service name (a staging MTA or a test; mail exchange uses 25) [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'SMTP port to probe on every MX, a number or a service name (a staging MTA or a test; mail exchange uses 25) [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--helo', '--helo', [CompletionResultType]::ParameterName, 'Name to greet with in EHLO [default: this host''s name]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines (one line per check, per domain, and a summary) instead of the report')
            [CompletionResult]::new('--untested-ok', '--untested-ok', [CompletionResultType]::ParameterName, 'Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network error, a timeout); the report still shows it. A run cut by --deadline or a signal still exits 41')
            [CompletionResult]::new('--allow-private', '--allow-private', [CompletionResultType]::ParameterName, 'Also probe MX addresses in loopback, private and other special-purpose ranges (RFC 6890)')
            [CompletionResult]::new('--rcpt-probe', '--rcpt-probe', [CompletionResultType]::ParameterName, 'Also check that every MX accepts MAIL FROM:<> and RCPT TO:<postmaster@DOMAIN> (smtp.postmaster; one more session per domain and MX address, then QUIT, never DATA)')
            [CompletionResult]::new('--relay-probe', '--relay-probe', [CompletionResultType]::ParameterName, 'Also check that every MX refuses RCPT TO:<relay-probe@example.net> from us (smtp.open-relay; one more session per MX address, then QUIT, never DATA)')
            [CompletionResult]::new('--tls-probe', '--tls-probe', [CompletionResultType]::ParameterName, 'Also find which TLS versions each MX accepts (tls.versions; one more connection per version: 1.0, 1.1, 1.2, 1.3)')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465) instead of STARTTLS: judges a submissions listener''s certificate, version and cipher (tls.starttls skipped)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465) instead of STARTTLS: judges a submissions listener''s certificate, version and cipher (tls.starttls skipped)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ehlo;probe' {
            [CompletionResult]::new('--tls-ca-path', '--tls-ca-path', [CompletionResultType]::ParameterName, 'CA certificates to trust instead of the system store: a PEM file or a directory of them')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which statuses fail the run (exit 40)')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Also write the results as JUnit XML to FILE (a testcase per probe)')
            [CompletionResult]::new('--auth-password-file', '--auth-password-file', [CompletionResultType]::ParameterName, 'The password for --auth-user, from the first line of FILE (before EHLO_AUTH_PASSWORD: the command line beats the environment, as in the send)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'SASL mechanism for --auth-user (the send''s password ones): SCRAM-SHA-256, CRAM-SHA1, CRAM-MD5, PLAIN, LOGIN, DIGEST-MD5, NTLM, SPA, MSN (SPA and MSN are NTLM)')
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these probes (repeatable; * matches any characters, e.g. smuggle.*)')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Leave out these probes (repeatable; * matches any characters)')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Require a result (repeatable): ID=STATUS (smuggle.lf-lf=pass, enum.rcpt=warn) or ID.KEY OP VALUE on a probe''s evidence (starttls.downgrade.mail_without_tls=false), KEY a dotted path into nested evidence (limits.line.control.answered=true); a probe a met ID=STATUS asked for does not count (smuggle.lf-lf=fail met: exit 0)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'A recipient you own: the only address that receives mail (required)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'A recipient you own: the only address that receives mail (required)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Envelope sender and From: [default: the --to address]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Envelope sender and From: [default: the --to address]')
            [CompletionResult]::new('--helo', '--helo', [CompletionResultType]::ParameterName, 'Name to greet with in EHLO [default: this host''s name]')
            [CompletionResult]::new('--relay-to', '--relay-to', [CompletionResultType]::ParameterName, 'An address outside the server''s domains, for relay.open')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port number or service name [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port number or service name [default: 25; 465 with --tls-on-connect]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)')
            [CompletionResult]::new('--auth-user', '--auth-user', [CompletionResultType]::ParameterName, 'Authenticate as USER before each probe''s commands, except relay.open')
            [CompletionResult]::new('--au', '--au', [CompletionResultType]::ParameterName, 'Authenticate as USER before each probe''s commands, except relay.open')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server to ask instead of the system''s: IP[:PORT] (port defaults to 53)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'STARTTLS after EHLO before each probe''s commands (probes about plaintext ignore it)')
            [CompletionResult]::new('--tls-on-connect', '--tls-on-connect', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('--tlsc', '--tlsc', [CompletionResultType]::ParameterName, 'Start TLS right after connecting (implicit TLS, default port 465)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not enforce certificate verification')
            [CompletionResult]::new('--untested-ok', '--untested-ok', [CompletionResultType]::ParameterName, 'Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network error, a timeout); the report still shows it. A run cut by --deadline or a signal still exits 41')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines (one line per probe and a summary) instead of the report')
            [CompletionResult]::new('--allow-plaintext-auth', '--allow-plaintext-auth', [CompletionResultType]::ParameterName, 'Allow --auth-user over a connection that is not encrypted')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask before probes that send mail')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask before probes that send mail')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
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
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain a reply without connecting: codes, a pasted reply or a bounce''s diagnostic line')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration')
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
        'ehlo;help;check' {
            break
        }
        'ehlo;help;probe' {
            break
        }
        'ehlo;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
