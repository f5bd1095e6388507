# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ehlo_global_optspecs
    string join \n force-getpwuid pipeline s/server= socket= pipe= 4/ipv4 6/ipv6 protocol= dnssec= dns-trust-anchor= tls tls-optional tls-optional-strict tls-on-connect k/insecure tls-verify= tls-verify-ca tls-verify-host tls-ca-path= tlsa-file= tls-cert= tls-key= tls-chain= tls-get-peer-cert= tls-get-peer-chain= auth-password-file= auth-token-file= auth-force auth-plaintext protect-prompt show-secrets allow-plaintext-auth body= d/data= no-data-fixup dump-mail dump-as-body-shows-password attach= attach-body= attach-inline= no-dot-stuffing no-crlf-fixup no-strip-from json color= explain= show-time-lapse= n/suppress-data show-raw-text no-hints no-send-hints no-receive-hints no-info-hints hide-receive hide-send hide-informational hide-all output-file= output-file-stdout= output-file-stderr= q/quit-after= drop-after= drop-after-send= smtputf8 force-ext dsn-ret= dsn-orcpt requiretls prdr xclient-before-starttls xclient-optional xclient-optional-strict xclient-no-verify proxy-family= proxy-command= proxy-protocol= proxy= config= no-config dump-config support h/help V/version a/auth= auth-optional= auth-optional-strict= S/silent= dump= dump-as-body= tls-protocol= t/to= cc= bcc= f/from= helo= mail-param= rcpt-param= copy-routing= p/port= local-interface= local-port= timeout= connect-timeout= deadline= dns-server= tls-sni= tls-verify-target= tlsa= tls-cipher= tls-ciphersuites= auth-user= auth-password= auth-authzid= auth-oauth-token= auth-map= auth-extra= auth-hide-password= header= add-header= attach-type= attach-name= dsn-notify= dsn-envid= bdat= xclient-addr= xclient-name= xclient-port= xclient-proto= xclient-destaddr= xclient-destport= xclient-helo= xclient-login= xclient-reverse-name= xclient= xclient-delim xforward-name= xforward-addr= xforward-port= xforward-proto= xforward-helo= xforward-ident= xforward-source= proxy-version= proxy-source= proxy-source-port= proxy-dest= proxy-dest-port=
end

function __fish_ehlo_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    # An option whose value is optional takes the next word only when it is no option.
    set -l words
    for i in (seq (count $cmd))
        if contains -- $cmd[$i] --tls-verify --tls-get-peer-cert --tls-get-peer-chain --show-time-lapse --stl -a --auth --auth-optional --ao --auth-optional-strict --aos -S --silent --dump --dump-as-body --dab --auth-user --au --auth-password --ap --auth-hide-password --ahp --attach-name --bdat --xclient-delim
            and begin; test $i -eq (count $cmd); or string match -q -- '-*' $cmd[(math $i + 1)]; end
            continue
        end
        set -a words $cmd[$i]
    end
    # The last word may be an option waiting for the value being completed.
    argparse -s (__fish_ehlo_global_optspecs) -- $words 2>/dev/null
    or begin
        set -e words[-1]
        argparse -s (__fish_ehlo_global_optspecs) -- $words 2>/dev/null
    end
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ehlo_using_subcommand
    set -l cmd (__fish_ehlo_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ehlo -n "__fish_ehlo_needs_command" -s s -l server -d 'Server to connect to [default: MX of the last recipient\'s domain]' -r -f -a "(__fish_print_hostnames)"
complete -c ehlo -n "__fish_ehlo_needs_command" -l socket -d 'Speak SMTP/LMTP over a UNIX-domain socket instead of TCP' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l pipe -d 'Speak SMTP over a child process\'s stdin/stdout, e.g. "/usr/sbin/sendmail -bs"' -r -f -a "(__fish_complete_command)"
complete -c ehlo -n "__fish_ehlo_needs_command" -l protocol -d 'Protocol variant (case-insensitive) [default: ESMTP]' -r -f -a "SMTP\t'HELO only'
ESMTP\t'EHLO, falling back to HELO'
LMTP\t'LHLO, port 24'
SSMTP\t'ESMTP with TLS on connect, port 465'
SSMTPA\t'SSMTP with AUTH'
SMTPS\t'HELO with TLS on connect, port 465'
ESMTPA\t'ESMTP with AUTH'
ESMTPS\t'ESMTP with STARTTLS'
ESMTPSA\t'ESMTP with STARTTLS and AUTH'
LMTPA\t'LMTP with AUTH'
LMTPS\t'LMTP with STARTTLS'
LMTPSA\t'LMTP with STARTTLS and AUTH'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l dnssec -d 'DNSSEC validation of the DNS answers: off, validate or trust-ad [default: off]' -r -f -a "off\t'No validation (the send\'s default)'
validate\t'Validate signatures here, from the trust anchors'
trust-ad\t'Believe the AD bit of the configured recursive resolver'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l dns-trust-anchor -d 'Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (needs --dnssec validate; for private and test zones)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-verify -d 'Verify the certificate: pkix (the CA store and the name, the default: the flag alone is accepted for swaks compatibility) or dane (TLSA records, RFC 7672)' -r -f -a "pkix\t'The CA store and the host name (what ehlo does anyway unless --insecure)'
dane\t'The host\'s DNSSEC-validated TLSA records when published, else the CA store'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-ca-path -d 'CA certificates to trust instead of the system store: a PEM file or a directory of them' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tlsa-file -d 'Read TLSA records from FILE: one per line, bare or as zone-file lines (what `ldns-dane -t` reads); `;` and `#` start comments' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-cert -d 'Client certificate to present when the server asks (PEM; needs --tls-key)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-key -d 'Private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-chain -d 'Intermediate certificates to send after --tls-cert (PEM)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-get-peer-cert -d 'Save the server\'s certificate as PEM to FILE [default: print it in the transcript]' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-get-peer-chain -d 'Save the server\'s certificate chain as sent, PEM, to FILE [default: print it]' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-password-file -d 'Read the password from the first line of FILE (replaces a lower layer\'s password, e.g. $EHLO_AUTH_PASSWORD; an --auth-password of the same layer wins)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-token-file -d 'Read the OAuth 2.0 token from the first line of FILE (replaces a lower layer\'s token, e.g. $EHLO_AUTH_TOKEN; an --auth-oauth-token of the same layer wins)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l body -d 'Body of the default message: TEXT, - for stdin, or @FILE [default: "This is a test mailing"]' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -s d -l data -d 'The whole message instead of the default one: TEXT, - for stdin, or @FILE' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l attach -d 'Attach a part (repeatable): @FILE, - for stdin, or TEXT; makes the message multipart/mixed' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l attach-body -d 'A text part of the body (repeatable): several form multipart/alternative [type: text/plain]' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l attach-inline -d 'Attach an inline part with a Content-ID (repeatable), e.g. an image for cid: in HTML' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l explain -d 'Which replies get a plain-language explanation' -r -f -a "all\t'Explain every reply'
errors\t'Explain errors and unusual replies (the default)'
none\t'Explain nothing'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l show-time-lapse -l stl -d 'Show how long each reply took (i = whole seconds)' -r -f -a "i\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -l output-file -l output -d 'Append the transcript (both streams) to FILE instead of the terminal (as swaks)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l output-file-stdout -d 'Append what would go to stdout to FILE instead' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l output-file-stderr -d 'Append what would go to stderr (*** lines) to FILE instead' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -s q -l quit-after -l quit -d 'Send QUIT after this step\'s reply' -r -f -a "PROXY\t'After sending the PROXY header (--quit-after: after the banner, as swaks)'
CONNECT\t'After connecting (the banner)'
FIRST-HELO\t'After the first EHLO/HELO/LHLO'
XCLIENT\t'After XCLIENT'
XCLIENT-HELO\t'After the EHLO that follows XCLIENT'
TLS\t'After STARTTLS'
HELO\t'After the last EHLO/HELO/LHLO'
AUTH\t'After AUTH'
MAIL\t'After MAIL FROM'
RCPT\t'After the last RCPT TO'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l drop-after -l drop -l da -d 'Close the connection after this step\'s reply, without QUIT' -r -f -a "CONNECT\t'After connecting (the banner)'
PROXY\t'After sending the PROXY header (--quit-after: after the banner, as swaks)'
FIRST-HELO\t'After the first EHLO/HELO/LHLO'
XCLIENT\t'After XCLIENT'
XCLIENT-HELO\t'After the EHLO that follows XCLIENT'
TLS\t'After STARTTLS'
HELO\t'After the last EHLO/HELO/LHLO'
AUTH\t'After AUTH'
MAIL\t'After MAIL FROM'
RCPT\t'After the last RCPT TO'
DATA\t'After DATA'
DOT\t'After the final dot'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l drop-after-send -l das -d 'Close the connection right after sending this step\'s command' -r -f -a "CONNECT\t'After connecting (the banner)'
PROXY\t'After sending the PROXY header (--quit-after: after the banner, as swaks)'
FIRST-HELO\t'After the first EHLO/HELO/LHLO'
XCLIENT\t'After XCLIENT'
XCLIENT-HELO\t'After the EHLO that follows XCLIENT'
TLS\t'After STARTTLS'
HELO\t'After the last EHLO/HELO/LHLO'
AUTH\t'After AUTH'
MAIL\t'After MAIL FROM'
RCPT\t'After the last RCPT TO'
DATA\t'After DATA'
DOT\t'After the final dot'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l dsn-ret -d 'DSN: RET= on MAIL (return the FULL message or only the HDRS in a failure report)' -r -f -a "FULL\t'The whole message'
HDRS\t'Only the headers'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-family -d 'PROXY: address family [default: from --proxy-source]; UNKNOWN sends no addresses' -r -f -a "TCP4\t'TCP over IPv4 (swaks\'s v2 name: AF_INET)'
TCP6\t'TCP over IPv6 (AF_INET6)'
UNKNOWN\t'Unknown addresses (v1 `PROXY UNKNOWN`, v2 AF_UNSPEC)'
AF_UNIX\t'UNIX socket paths in --proxy-source/--proxy-dest (v2 only)'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-command -d 'PROXY v2: command, PROXY (a relayed client) or LOCAL (the proxy\'s own connection)' -r -f -a "PROXY\t'A relayed client connection'
LOCAL\t'The proxy\'s own connection (health check)'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-protocol -d 'PROXY v2: transport protocol, STREAM (TCP) or DGRAM (UDP) [default: STREAM]' -r -f -a "STREAM\t'SOCK_STREAM (TCP)'
DGRAM\t'SOCK_DGRAM (UDP)'"
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy -d 'A raw PROXY header: TEXT, sent as "PROXY TEXT" (CRLF added; with --proxy-version 2 the text follows the v2 signature), base64:DATA (sent as decoded) or @FILE (sent byte for byte; @@X is the text @X)' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -l config -d 'Read options from FILE [default: $XDG_CONFIG_HOME/ehlo/config or ~/.config/ehlo/config]' -r -F
complete -c ehlo -n "__fish_ehlo_needs_command" -s a -l auth -d 'Require AUTH, trying these mechanisms in order [default: the strongest offered]' -r -f -a "SCRAM-SHA-256\t''
CRAM-SHA1\t''
CRAM-MD5\t''
PLAIN\t''
LOGIN\t''
DIGEST-MD5\t''
NTLM\t''
XOAUTH2\t''
OAUTHBEARER\t''
SPA\t''
MSN\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-optional -l ao -d 'Try AUTH; carry on if it is not offered or fails' -r -f -a "SCRAM-SHA-256\t''
CRAM-SHA1\t''
CRAM-MD5\t''
PLAIN\t''
LOGIN\t''
DIGEST-MD5\t''
NTLM\t''
XOAUTH2\t''
OAUTHBEARER\t''
SPA\t''
MSN\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-optional-strict -l aos -d 'AUTH if offered; fail if it is tried and fails' -r -f -a "SCRAM-SHA-256\t''
CRAM-SHA1\t''
CRAM-MD5\t''
PLAIN\t''
LOGIN\t''
DIGEST-MD5\t''
NTLM\t''
XOAUTH2\t''
OAUTHBEARER\t''
SPA\t''
MSN\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -s S -l silent -d 'Quieter: 1 = nothing until an error, then everything from it on; 2 = errors only; 3 = nothing (-S alone = 1)' -r -f -a "1\t''
2\t''
3\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -l dump -d 'Print the resolved settings in swaks\'s sections and exit without connecting [default: ALL]' -r -f -a "SUPPORT\t''
APP\t''
OUTPUT\t''
TRANSPORT\t''
PROTOCOL\t''
XCLIENT\t''
PROXY\t''
TLS\t''
AUTH\t''
DATA\t''
ALL\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -l dump-as-body -l dab -d 'Make the body the --dump of this run\'s settings [default sections: all but SUPPORT, DATA]' -r -f -a "SUPPORT\t''
APP\t''
OUTPUT\t''
TRANSPORT\t''
PROTOCOL\t''
XCLIENT\t''
PROXY\t''
TLS\t''
AUTH\t''
DATA\t''
ALL\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-protocol -l tlsp -d 'TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed' -r -f -a "tlsv1_2\t''
tlsv1_3\t''
tlsv1\t''
tlsv1_1\t''
no_tlsv1\t''
no_tlsv1_1\t''
no_tlsv1_2\t''
no_tlsv1_3\t''"
complete -c ehlo -n "__fish_ehlo_needs_command" -s t -l to -d 'Recipients (comma-separated, repeatable)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l cc -d 'Recipients also listed in a Cc: header' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l bcc -d 'Recipients not listed in any header' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -s f -l from -d 'Sender; <> is the null sender [default: $LOGNAME@<local host name>]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l helo -l ehlo -l lhlo -d 'Name to greet with in EHLO/HELO/LHLO [default: the local host name]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l mail-param -d 'Extra MAIL FROM parameter, sent as given (repeatable), e.g. BODY=8BITMIME' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l rcpt-param -d 'Extra RCPT TO parameter, sent as given (repeatable), e.g. NOTIFY=NEVER' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l copy-routing -d 'Connect to where mail for DOMAIN goes (its MX hosts) instead of the recipient\'s domain' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -s p -l port -d 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect; 24 for LMTP]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l local-interface -l li -d 'Local address to connect from: HOST[:PORT] (an IP address or a name)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l local-port -l lport -l lp -d 'Local port to connect from (number or service name)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l timeout -d 'Per-reply timeout: N, Ns, Nm or Nh; 0 = none' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l connect-timeout -d 'Timeout of each connection attempt [default: --timeout]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l deadline -d 'Bound the whole send: N, Ns, Nm or Nh; 0 = none [default: none]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l dns-server -d 'DNS server to ask instead of the system\'s: IP[:PORT] (port defaults to 53)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-sni -d 'Server name to send in SNI [default: the server host name, unless it is an IP address]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-verify-target -d 'Name to verify the certificate against [default: the server host name]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l tlsa -d 'Authenticate the server by this TLSA record instead of the CA store (repeatable; DANE)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-cipher -d 'Cipher list for TLS 1.2 and below (`openssl ciphers` syntax), e.g. ECDHE-RSA-AES128-GCM-SHA256' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-ciphersuites -d 'TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-user -l au -d 'User name (implies --auth); without a value: ~/.netrc, then a prompt' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-password -l ap -d 'Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-authzid -d 'Authorisation identity (PLAIN authzid, SCRAM a=, DIGEST-MD5 authzid)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-oauth-token -d 'OAuth 2.0 bearer token for XOAUTH2 and OAUTHBEARER (argv is visible to other users)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-map -l am -d 'Another name for a mechanism: AUTH ALIAS is sent and run as TYPE (SPA and MSN are NTLM)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-extra -l ae -d 'DIGEST-MD5 and NTLM settings: realm=, domain=, dmd5-serv-type=, dmd5-host=, dmd5-serv-name=, ntlm-version=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-hide-password -l ahp -d 'Accepted for swaks compatibility: ehlo always hides secrets' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l header -d 'Set a header, replacing one of the same name in the default or --data message (repeatable)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l add-header -l ah -d 'Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l attach-type -d 'MIME type of the part options after it, up to an --attach-body [default: guessed from a file name, else application/octet-stream]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l attach-name -d 'File name of the next part option; empty (or no value) = no file name' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l dsn-notify -d 'DSN (RFC 3461): NOTIFY= on every RCPT: NEVER, or a list of SUCCESS,FAILURE,DELAY' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l dsn-envid -d 'DSN: ENVID= on MAIL (envelope identifier: printable ASCII, at most 100 characters once xtext-encoded)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l bdat -d 'Send the message with BDAT (CHUNKING, RFC 3030) in chunks of SIZE [default: one chunk]' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-addr -d 'XCLIENT ADDR= (the client address to impersonate; a bare IPv6 one goes as IPV6:ADDR)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-name -d 'XCLIENT NAME= (the client\'s host name)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-port -d 'XCLIENT PORT=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-proto -d 'XCLIENT PROTO= (SMTP or ESMTP)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-destaddr -d 'XCLIENT DESTADDR= (the server address; a bare IPv6 one goes as IPV6:ADDR)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-destport -d 'XCLIENT DESTPORT=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-helo -d 'XCLIENT HELO=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-login -d 'XCLIENT LOGIN=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-reverse-name -d 'XCLIENT REVERSE_NAME=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient -d 'A raw XCLIENT argument string, sent as its own command (repeatable)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-name -d 'XFORWARD NAME=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-addr -d 'XFORWARD ADDR=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-port -d 'XFORWARD PORT=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-proto -d 'XFORWARD PROTO=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-helo -d 'XFORWARD HELO=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-ident -d 'XFORWARD IDENT=' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l xforward-source -d 'XFORWARD SOURCE= (LOCAL or REMOTE)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-version -d 'Send a PROXY protocol header of this version before the banner [default: 1 when any --proxy* is given] (exit 35 on bad values)' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-source -d 'PROXY: original client address' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-source-port -d 'PROXY: original client port' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-dest -d 'PROXY: address the client connected to' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l proxy-dest-port -d 'PROXY: port the client connected to' -r -f
complete -c ehlo -n "__fish_ehlo_needs_command" -l force-getpwuid -d 'Default sender from the password database, ignoring $LOGNAME and $USER'
complete -c ehlo -n "__fish_ehlo_needs_command" -l pipeline -d 'Send MAIL, RCPTs and DATA in one write when PIPELINING is offered'
complete -c ehlo -n "__fish_ehlo_needs_command" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c ehlo -n "__fish_ehlo_needs_command" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls -d 'Require STARTTLS (exit 29 if it is not offered or fails)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-optional -l tlso -d 'Try STARTTLS; carry on in plain text if it is not offered or refused'
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-optional-strict -l tlsos -d 'Use STARTTLS if offered; fail if it is offered and fails'
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-on-connect -l tlsc -d 'Start TLS right after connecting (implicit TLS, default port 465)'
complete -c ehlo -n "__fish_ehlo_needs_command" -s k -l insecure -d 'Do not enforce certificate verification (the result is still shown)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-verify-ca -d 'Enforce only the chain check (a trusted CA, within its dates), not the name'
complete -c ehlo -n "__fish_ehlo_needs_command" -l tls-verify-host -d 'Enforce only the name check (SAN or CN against the server name), not the chain'
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-force -d 'Send AUTH even if the server does not advertise it'
complete -c ehlo -n "__fish_ehlo_needs_command" -l auth-plaintext -l apt -d 'Show the decoded AUTH exchange (secrets still masked)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l protect-prompt -l pp -d 'Accepted for swaks compatibility: password and token prompts never echo'
complete -c ehlo -n "__fish_ehlo_needs_command" -l show-secrets -d 'Show passwords and tokens in the output instead of masking them'
complete -c ehlo -n "__fish_ehlo_needs_command" -l allow-plaintext-auth -d 'Allow AUTH over a connection that is not encrypted'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-data-fixup -l ndf -d 'Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot'
complete -c ehlo -n "__fish_ehlo_needs_command" -l dump-mail -d 'Print the message that would be sent and exit without connecting'
complete -c ehlo -n "__fish_ehlo_needs_command" -l dump-as-body-shows-password -l dabsp -d '--dump-as-body with the password shown (implies --dump-as-body)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-dot-stuffing -d 'Do not double a leading dot (RFC 5321 §4.5.2): a lone "." line then ends the data early'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-crlf-fixup -d 'Do not turn bare LF or CR into CRLF'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-strip-from -l nsf -d 'Keep a leading mbox "From " line'
complete -c ehlo -n "__fish_ehlo_needs_command" -l json -d 'Print JSON Lines events instead of the transcript'
complete -c ehlo -n "__fish_ehlo_needs_command" -s n -l suppress-data -l n -d 'Print "N lines sent" instead of the message'
complete -c ehlo -n "__fish_ehlo_needs_command" -l show-raw-text -l raw -d 'Hex dump of every read and write'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-hints -l nth -d 'Drop the ===, ->, <- prefixes from transcript lines'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-send-hints -l nsh -d 'Drop the -> / ~> / **> prefixes from lines sent'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-receive-hints -l nrh -d 'Drop the <- / <~ / <** prefixes from replies received'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-info-hints -l nih -d 'Drop the === / *** prefixes from ehlo\'s own lines'
complete -c ehlo -n "__fish_ehlo_needs_command" -l hide-receive -l hr -d 'Do not print the replies received'
complete -c ehlo -n "__fish_ehlo_needs_command" -l hide-send -l hs -d 'Do not print the lines sent'
complete -c ehlo -n "__fish_ehlo_needs_command" -l hide-informational -l hi -d 'Do not print ehlo\'s own information lines (=== and !!!; errors still show)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l hide-all -l ha -d 'Print nothing at all (the exit code tells the result)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l smtputf8 -d 'Use SMTPUTF8 (RFC 6531) even when no address or header needs it (exit 31 if not offered)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l force-ext -d 'Use extensions the server does not advertise instead of failing'
complete -c ehlo -n "__fish_ehlo_needs_command" -l dsn-orcpt -d 'DSN: ORCPT= on every RCPT, naming the recipient as given (xtext-encoded, at most 500 characters)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l requiretls -d 'REQUIRETLS on MAIL (RFC 8689): needs --tls or --tls-on-connect, even with --force-ext'
complete -c ehlo -n "__fish_ehlo_needs_command" -l prdr -d 'Ask for per-recipient replies after the message (PRDR; exit 30 if not offered)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-before-starttls -d 'Send XCLIENT before STARTTLS instead of after'
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-optional -d 'Carry on without XCLIENT when it is not offered or refused'
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-optional-strict -d 'Carry on without XCLIENT when it is not offered; fail (exit 33) when it is refused'
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-no-verify -d 'Do not check XCLIENT attributes against the advertised list'
complete -c ehlo -n "__fish_ehlo_needs_command" -l no-config -d 'Do not read a config file (EHLO_NO_CONFIG too; SWAKS_OPT_* and EHLO_* still apply)'
complete -c ehlo -n "__fish_ehlo_needs_command" -l dump-config -d 'Print the effective options (file, environment, command line), secrets redacted, and exit'
complete -c ehlo -n "__fish_ehlo_needs_command" -l support -d 'Print what this build supports (TLS library, AUTH mechanisms, transports, …) and exit'
complete -c ehlo -n "__fish_ehlo_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_needs_command" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_needs_command" -l xclient-delim -d 'Start a new XCLIENT command here: the --xclient-* attributes before and after it go in separate commands (repeatable; ignored where no group would be split)'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "serve" -d 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "demo" -d 'Start a throwaway server and send one annotated message to it (no network needed)'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "repl" -d 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "replay" -d 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "explain" -d 'Explain a reply without connecting: codes, a pasted reply or a bounce\'s diagnostic line'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "check" -d 'Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "probe" -d 'Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration'
complete -c ehlo -n "__fish_ehlo_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l tls-cert -d 'Certificate (PEM) [default: a generated self-signed one]' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l tls-key -d 'Private key (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l maildir -d 'Store received messages in this Maildir' -r -f -a "(__fish_complete_directories)"
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l mbox -d 'Append received messages to this mbox file' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l quirk -d 'Behave like a vulnerable MTA (repeatable): bare-lf-dot, starttls-keep, disclose-users, answer-unsynced' -r -f -a "bare-lf-dot\t''
starttls-keep\t''
disclose-users\t''
answer-unsynced\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l hide -d 'Do not advertise this EHLO extension (repeatable), e.g. PIPELINING' -r -f -a "PIPELINING\t''
SIZE\t''
8BITMIME\t''
SMTPUTF8\t''
ENHANCEDSTATUSCODES\t''
CHUNKING\t''
DSN\t''
STARTTLS\t''
AUTH\t''
ESMTP\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l listen -d 'Address to listen on: ADDR:PORT, [IPv6]:PORT ([fe80::1%eth0]:PORT with its zone), or HOST:PORT for every address the name resolves to (port 0 picks a free port)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l user -d 'Accept these credentials for AUTH (repeatable, one per name)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l fail -d 'Inject a failure (repeatable), e.g. rcpt=550:5.1.1, data=452, connect=421' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l delay -d 'Wait before answering a command (repeatable), e.g. data:2000' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l max-size -d 'Largest message accepted (advertised as SIZE): bytes, or with K/M/G (binary units); 0 = no limit, advertised as a bare SIZE (RFC 1870 §4; the content is streamed, so memory stays bounded)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l min-free -d 'Free space to keep on the --maildir/--mbox file system (and TMPDIR\'s, for the mbox): below it MAIL and the message get 452 4.3.1, as Postfix\'s queue_minfree; 0 = no reserve (a full disk is still 452 4.3.1); without --maildir/--mbox it does nothing (a warning says so) [default: 10MiB]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l seed -d 'Seed for the server\'s randomness (reproducible runs)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l hostname -d 'Host name in the banner and the EHLO reply: a domain or an address literal ([192.0.2.1])' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l max-sessions -d 'Exit after N sessions, for scripts and tests' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l max-connections -d 'Open connections allowed at once; one more is answered 421 4.3.2 and closed' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l idle-timeout -d 'Time allowed for each complete command, twice that for a message\'s content, then 421 4.4.2 (RFC 5321 §4.5.3.2.7), and for a TLS handshake; 0 turns it off' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l busy-timeout -d 'Once a client is turned away because every --max-connections slot is in use (busy, as Postfix\'s stress mode), the time each open session has left, then 421 4.4.2; 0 turns it off' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l max-auth-failures -d 'Failed AUTH attempts per connection before 421 4.7.0 and close (each failure waits a little longer); 0 = no limit; without --user/--accept-any-auth it does nothing (a warning says so) [default: 3]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l hard-error-limit -d 'Errors a client may make (replies 500-504: unknown commands, bad syntax, bad sequence) without a message delivered: the last is answered, then 421 4.7.0 and close; 1 while busy, as Postfix\'s stress mode; 0 = no limit' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l junk-command-limit -d 'NOOP, RSET, VRFY and HELP commands a client may send without a message delivered; each one past it counts as an error (--hard-error-limit); 1 while busy; 0 = no limit' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l soft-error-limit -d 'Errors (as --hard-error-limit counts them) a client may make without a message delivered before every further reply waits --error-sleep-time, as Postfix\'s smtpd_soft_error_limit; 0 = no limit' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l error-sleep-time -d 'Wait MS milliseconds before each reply once a client is past --soft-error-limit (Postfix\'s smtpd_error_sleep_time, 1s); 0 turns it off; as long as --idle-timeout or longer, a start warning says so' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l greet-pause -d 'Wait MS milliseconds before the greeting and refuse a client that talks first (554 5.5.1, RFC 5321 §4.3.1), as postscreen\'s greet wait does; 0 = greet at once' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l proxy-timeout -d 'Time a connection has to send its whole PROXY header (--accept-proxy), then 421 4.3.0 and close, as Postfix\'s smtpd_upstream_proxy_timeout' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l tls-on-connect -l tlsc -d 'Implicit TLS on every connection'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l starttls -d 'Offer STARTTLS'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l accept-any-auth -d 'Accept any credentials'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l auth-before-tls -d 'Offer AUTH before STARTTLS too (by default AUTH waits for TLS when --starttls is given)'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l require-tls -d 'Refuse MAIL with 530 5.7.0 until the client started TLS (RFC 3207 §4), as a submission server does'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l require-auth -d 'Refuse MAIL with 530 5.7.0 until the client authenticated (RFC 4954 §6), as a submission server does: a client that goes on after a failed AUTH fails here too'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l lmtp -d 'Speak LMTP (LHLO, one reply per recipient after DATA)'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l quiet -d 'One line per stored message (plus warnings and errors) instead of the whole transcript: for a sink under load'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l accept-proxy -d 'Read a PROXY protocol header (HAProxy v1 or v2) before the greeting, as a server behind a proxy does (HAProxy\'s accept-proxy, Postfix\'s smtpd_upstream_proxy_protocol): each connection must start with one, within --proxy-timeout; the client it names is shown as the connection\'s'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -l json -d 'Print JSON Lines events instead of the transcript'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand serve" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand demo" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_using_subcommand demo" -l json -d 'Print JSON Lines events instead of the transcript'
complete -c ehlo -n "__fish_ehlo_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand demo" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l tls-ca-path -d 'CA certificates to trust instead of the system store: a PEM file or a directory of them' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l explain -d 'Which replies get a plain-language explanation' -r -f -a "all\t'Explain every reply'
errors\t'Explain errors and unusual replies (the default)'
none\t'Explain nothing'"
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l log -d 'Also write every event as JSON Lines to FILE (ending with the run\'s summary, with or without --json)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l auth-password-file -d 'The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l auth-token-file -d 'The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before EHLO_AUTH_TOKEN)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l record -d 'Record the session as a replayable script in FILE (secrets are never written). An existing FILE is never replaced (`:record! FILE` in the session replaces one); one that cannot be written refuses the run (exit 1)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -s p -l port -d 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l dns-server -d 'DNS server to ask instead of the system\'s: IP[:PORT] (port defaults to 53)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l timeout -d 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l helo -l ehlo -l lhlo -d 'Send `EHLO NAME` right after the banner' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l tls-on-connect -l tlsc -d 'Start TLS right after connecting (implicit TLS, default port 465)'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -s k -l insecure -d 'Do not enforce certificate verification (the result is still shown)'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l protect-prompt -l pp -d 'Accepted for swaks compatibility: password and token prompts never echo'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l show-secrets -d 'Show passwords and tokens in the output instead of masking them'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l json -d 'Print JSON Lines events instead of the transcript (the send\'s schema; a summary last)'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l allow-plaintext-auth -d 'Let `:auth` send credentials over a connection that is not encrypted without asking'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l tls -d 'STARTTLS right after the first EHLO (implies --helo with this host\'s name if not given)'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -l strict -d 'End the session at the first 4xx/5xx reply: QUIT, then exit with that phase\'s code'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand repl" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s s -l server -d 'Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`' -r -f -a "(__fish_print_hostnames)"
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l tls-ca-path -d 'CA certificates to trust instead of the system store: a PEM file or a directory of them' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l explain -d 'Which replies get a plain-language explanation' -r -f -a "all\t'Explain every reply'
errors\t'Explain errors and unusual replies (the default)'
none\t'Explain nothing'"
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l log -d 'Also write every event as JSON Lines to FILE (ending with the run\'s summary, with or without --json)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l auth-password-file -d 'The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l auth-token-file -d 'The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before EHLO_AUTH_TOKEN)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l deadline -d 'Bound the whole replay (connecting, every step): N, Ns, Nm or Nh; 0 = none' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s p -l port -d 'Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l dns-server -d 'DNS server to ask instead of the system\'s: IP[:PORT] (port defaults to 53)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l timeout -d 'Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l keep-going -d 'Run every step even after a mismatch, then list every mismatch (line, command, expected, got); the exit code is the first one\'s'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l allow-any-file -d 'Let `:data @FILE` steps send files outside the script\'s directory (refused otherwise: a script is not trusted to send any file you can read)'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l tls-on-connect -l tlsc -d 'Start TLS right after connecting (implicit TLS, default port 465)'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s k -l insecure -d 'Do not enforce certificate verification (the result is still shown)'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l protect-prompt -l pp -d 'Accepted for swaks compatibility: password and token prompts never echo'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l show-secrets -d 'Show passwords and tokens in the output instead of masking them'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l json -d 'Print JSON Lines events instead of the transcript (the send\'s schema; a summary last)'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -l allow-plaintext-auth -d 'Let `:auth` send credentials over a connection that is not encrypted without asking'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand replay" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand explain" -l phase -d 'The command the reply answers [default: read from the text, else every command]' -r -f -a "banner\t'The greeting after connecting'
ehlo\t'EHLO, HELO or LHLO'
starttls\t'STARTTLS'
auth\t'AUTH'
mail\t'MAIL FROM'
rcpt\t'RCPT TO'
data\t'The DATA command (its 354)'
dot\t'The end of the message content (the final dot, BDAT LAST; LMTP and PRDR per recipient)'
quit\t'QUIT'"
complete -c ehlo -n "__fish_ehlo_using_subcommand explain" -l json -d 'Print one JSON object instead of text'
complete -c ehlo -n "__fish_ehlo_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand explain" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l junit -d 'Also write the results as JUnit XML to FILE (a testsuite per domain, a testcase per check)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l fail-on -d 'Which statuses fail the run (exit 40)' -r -f -a "fail\t'Only failures fail the run (exit 40)'
warn\t'Warnings fail the run too'"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l cert-problems -d 'What a certificate chain or name problem (tls.cert.chain, tls.cert.name) is: auto fails it on implicit TLS and on ports 465 and 587, whose clients verify (RFC 8314 §5.3), and warns elsewhere, as on port 25, where MTAs encrypt without verifying (RFC 7435)' -r -f -a "auto\t'fail on implicit TLS (--tls-on-connect) and on ports 465 and 587, warn elsewhere'
fail\t'fail: the clients of this port verify the certificate (RFC 8314 §5.3)'
warn\t'warn: the clients of this port encrypt opportunistically (RFC 7435), as MTAs on port 25'"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l dnssec -d 'DNSSEC for the dnssec.* and dane.* checks: validate, trust-ad or off [default: validate]' -r -f -a "off\t'No validation (the send\'s default)'
validate\t'Validate signatures here, from the trust anchors'
trust-ad\t'Believe the AD bit of the configured recursive resolver'"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l dns-trust-anchor -d 'Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (with --dnssec validate; for private and test zones)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l tls-ca-path -d 'CA certificates to trust instead of the system store: a PEM file or a directory of them' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l only -d 'Run only these checks (repeatable; * matches any characters, e.g. tls.*). A session step left out (smtp.connect, smtp.banner, smtp.ehlo, tls.starttls, tls.handshake) that failed or could not be tested, so that a selected check after it was skipped, is still reported and judged as in a full run: --only \'tls.*\' against an MX refusing connections fails' -r -f -a "mx.lookup\t''
mx.null\t''
mx.target\t''
ipv6.mx\t''
mtasts.txt\t''
mtasts.fetch\t''
mtasts.policy\t''
mtasts.mx-match\t''
tlsrpt.record\t''
spf.record\t''
dmarc.record\t''
dkim.hint\t''
dnssec.domain\t''
dnssec.mx\t''
dane.tlsa\t''
dane.usable\t''
dane.rollover\t''
smtp.connect\t''
smtp.banner\t''
smtp.ehlo\t''
smtp.banner-name\t''
smtp.postmaster\t''
smtp.open-relay\t''
tls.starttls\t''
tls.handshake\t''
tls.versions\t''
tls.cert.chain\t''
tls.cert.name\t''
tls.cert.expiry\t''
tls.cert.key\t''
dane.starttls\t''
dane.match\t''
rdns.fcrdns\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l skip -d 'Leave out these checks (repeatable; * matches any characters); a failed session step left out is still reported and judged when a check after it was skipped, as with --only' -r -f -a "mx.lookup\t''
mx.null\t''
mx.target\t''
ipv6.mx\t''
mtasts.txt\t''
mtasts.fetch\t''
mtasts.policy\t''
mtasts.mx-match\t''
tlsrpt.record\t''
spf.record\t''
dmarc.record\t''
dkim.hint\t''
dnssec.domain\t''
dnssec.mx\t''
dane.tlsa\t''
dane.usable\t''
dane.rollover\t''
smtp.connect\t''
smtp.banner\t''
smtp.ehlo\t''
smtp.banner-name\t''
smtp.postmaster\t''
smtp.open-relay\t''
tls.starttls\t''
tls.handshake\t''
tls.versions\t''
tls.cert.chain\t''
tls.cert.name\t''
tls.cert.expiry\t''
tls.cert.key\t''
dane.starttls\t''
dane.match\t''
rdns.fcrdns\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l expect -d 'Require a result (repeatable): ID=STATUS (tls.starttls=pass) or FIELD OP VALUE (tls.version>=1.2, tls.cert.days>=21, mx.count>=2; OP one of = != >= <= > <) or ID.KEY OP VALUE, KEY a dotted path into nested evidence (tls.cert.chain.chain.0.subject=CN=mx.example.com); a check a met ID=STATUS asked for does not count (dmarc.record=fail met: no exit 40)' -r -f -a "mx.lookup=\t''
mx.null=\t''
mx.target=\t''
ipv6.mx=\t''
mtasts.txt=\t''
mtasts.fetch=\t''
mtasts.policy=\t''
mtasts.mx-match=\t''
tlsrpt.record=\t''
spf.record=\t''
dmarc.record=\t''
dkim.hint=\t''
dnssec.domain=\t''
dnssec.mx=\t''
dane.tlsa=\t''
dane.usable=\t''
dane.rollover=\t''
smtp.connect=\t''
smtp.banner=\t''
smtp.ehlo=\t''
smtp.banner-name=\t''
smtp.postmaster=\t''
smtp.open-relay=\t''
tls.starttls=\t''
tls.handshake=\t''
tls.versions=\t''
tls.cert.chain=\t''
tls.cert.name=\t''
tls.cert.expiry=\t''
tls.cert.key=\t''
dane.starttls=\t''
dane.match=\t''
rdns.fcrdns=\t''
mx.count=\t''
mx.count!=\t''
mx.count\>=\t''
mx.count\<=\t''
tls.version=\t''
tls.version!=\t''
tls.version\>=\t''
tls.version\<=\t''
tls.cert.days=\t''
tls.cert.days!=\t''
tls.cert.days\>=\t''
tls.cert.days\<=\t''
tls.cert.bits=\t''
tls.cert.bits!=\t''
tls.cert.bits\>=\t''
tls.cert.bits\<=\t''
spf.lookups=\t''
spf.lookups!=\t''
spf.lookups\>=\t''
spf.lookups\<=\t''
dmarc.p=\t''
dmarc.p!=\t''
mtasts.id=\t''
mtasts.id!=\t''
mtasts.mode=\t''
mtasts.mode!=\t''
mtasts.max_age=\t''
mtasts.max_age!=\t''
mtasts.max_age\>=\t''
mtasts.max_age\<=\t''
smtp.connect.ms=\t''
smtp.connect.ms!=\t''
smtp.connect.ms\>=\t''
smtp.connect.ms\<=\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l waive -d 'A known issue (repeatable): reported, but not counted in the verdict; DOMAIN may be *' -r -f -a "mx.lookup@\t''
mx.null@\t''
mx.target@\t''
ipv6.mx@\t''
mtasts.txt@\t''
mtasts.fetch@\t''
mtasts.policy@\t''
mtasts.mx-match@\t''
tlsrpt.record@\t''
spf.record@\t''
dmarc.record@\t''
dkim.hint@\t''
dnssec.domain@\t''
dnssec.mx@\t''
dane.tlsa@\t''
dane.usable@\t''
dane.rollover@\t''
smtp.connect@\t''
smtp.banner@\t''
smtp.ehlo@\t''
smtp.banner-name@\t''
smtp.postmaster@\t''
smtp.open-relay@\t''
tls.starttls@\t''
tls.handshake@\t''
tls.versions@\t''
tls.cert.chain@\t''
tls.cert.name@\t''
tls.cert.expiry@\t''
tls.cert.key@\t''
dane.starttls@\t''
dane.match@\t''
rdns.fcrdns@\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l host -d 'Check this one server: alone (a host name or an IP address), its per-address checks only (smtp.*, tls.*, rdns.fcrdns), on --port; with domains, as their MX in place of their MX records (a new MX before the DNS change)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l connect-to -d 'Connect to this address for --host HOST instead of HOST\'s DNS addresses (a server not yet in DNS); the name is still what is judged (repeatable or comma-separated)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l concurrency -d 'Domains checked at once, 1 to 1000. Each holds some 40-60 KB while in flight, and DNS lookups are capped at 256 at once: more domains only help while MX hosts are slow to answer' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l per-ip -d 'SMTP connections at once to one address' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l deadline -d 'Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l timeout -d 'Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l cert-days -d 'Warn when a certificate expires in fewer days than this' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -s p -l port -d 'SMTP port to probe on every MX, a number or a service name (a staging MTA or a test; mail exchange uses 25) [default: 25; 465 with --tls-on-connect]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l helo -d 'Name to greet with in EHLO [default: this host\'s name]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l dns-server -d 'DNS server to ask instead of the system\'s: IP[:PORT] (port defaults to 53)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l json -d 'Print JSON Lines (one line per check, per domain, and a summary) instead of the report'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l untested-ok -d 'Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network error, a timeout); the report still shows it. A run cut by --deadline or a signal still exits 41'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l allow-private -d 'Also probe MX addresses in loopback, private and other special-purpose ranges (RFC 6890)'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l rcpt-probe -d 'Also check that every MX accepts MAIL FROM:<> and RCPT TO:<postmaster@DOMAIN> (smtp.postmaster; one more session per domain and MX address, then QUIT, never DATA)'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l relay-probe -d 'Also check that every MX refuses RCPT TO:<relay-probe@example.net> from us (smtp.open-relay; one more session per MX address, then QUIT, never DATA)'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l tls-probe -d 'Also find which TLS versions each MX accepts (tls.versions; one more connection per version: 1.0, 1.1, 1.2, 1.3)'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -l tls-on-connect -l tlsc -d 'Start TLS right after connecting (implicit TLS, default port 465) instead of STARTTLS: judges a submissions listener\'s certificate, version and cipher (tls.starttls skipped)'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand check" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l tls-ca-path -d 'CA certificates to trust instead of the system store: a PEM file or a directory of them' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l fail-on -d 'Which statuses fail the run (exit 40)' -r -f -a "fail\t'Only failures fail the run (exit 40)'
warn\t'Warnings fail the run too'"
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l junit -d 'Also write the results as JUnit XML to FILE (a testcase per probe)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l auth-password-file -d 'The password for --auth-user, from the first line of FILE (before EHLO_AUTH_PASSWORD: the command line beats the environment, as in the send)' -r -F
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb)'
always\t'Always colour'
never\t'Never colour'"
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l auth -d 'SASL mechanism for --auth-user (the send\'s password ones): SCRAM-SHA-256, CRAM-SHA1, CRAM-MD5, PLAIN, LOGIN, DIGEST-MD5, NTLM, SPA, MSN (SPA and MSN are NTLM)' -r -f -a "SCRAM-SHA-256\t''
CRAM-SHA1\t''
CRAM-MD5\t''
PLAIN\t''
LOGIN\t''
DIGEST-MD5\t''
NTLM\t''
SPA\t''
MSN\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l only -d 'Run only these probes (repeatable; * matches any characters, e.g. smuggle.*)' -r -f -a "pipelining.early-talker\t''
pipelining.unadvertised\t''
starttls.injection\t''
starttls.injection-ehlo\t''
starttls.downgrade\t''
relay.open\t''
enum.vrfy\t''
enum.expn\t''
enum.rcpt\t''
limits.line\t''
limits.bare-lf-command\t''
limits.nul\t''
smuggle.lf-lf\t''
smuggle.lf-crlf\t''
smuggle.crlf-lf\t''
smuggle.cr-cr\t''
smuggle.crlf-cr\t''
smuggle.cr-crlf\t''
smuggle.lf-cr\t''
smuggle.cr-lf\t''
smuggle.crlf-nul\t''
smuggle.lf-headers\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l skip -d 'Leave out these probes (repeatable; * matches any characters)' -r -f -a "pipelining.early-talker\t''
pipelining.unadvertised\t''
starttls.injection\t''
starttls.injection-ehlo\t''
starttls.downgrade\t''
relay.open\t''
enum.vrfy\t''
enum.expn\t''
enum.rcpt\t''
limits.line\t''
limits.bare-lf-command\t''
limits.nul\t''
smuggle.lf-lf\t''
smuggle.lf-crlf\t''
smuggle.crlf-lf\t''
smuggle.cr-cr\t''
smuggle.crlf-cr\t''
smuggle.cr-crlf\t''
smuggle.lf-cr\t''
smuggle.cr-lf\t''
smuggle.crlf-nul\t''
smuggle.lf-headers\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l expect -d 'Require a result (repeatable): ID=STATUS (smuggle.lf-lf=pass, enum.rcpt=warn) or ID.KEY OP VALUE on a probe\'s evidence (starttls.downgrade.mail_without_tls=false), KEY a dotted path into nested evidence (limits.line.control.answered=true); a probe a met ID=STATUS asked for does not count (smuggle.lf-lf=fail met: exit 0)' -r -f -a "pipelining.early-talker=\t''
pipelining.unadvertised=\t''
starttls.injection=\t''
starttls.injection-ehlo=\t''
starttls.downgrade=\t''
relay.open=\t''
enum.vrfy=\t''
enum.expn=\t''
enum.rcpt=\t''
limits.line=\t''
limits.bare-lf-command=\t''
limits.nul=\t''
smuggle.lf-lf=\t''
smuggle.lf-crlf=\t''
smuggle.crlf-lf=\t''
smuggle.cr-cr=\t''
smuggle.crlf-cr=\t''
smuggle.cr-crlf=\t''
smuggle.lf-cr=\t''
smuggle.cr-lf=\t''
smuggle.crlf-nul=\t''
smuggle.lf-headers=\t''"
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s t -l to -d 'A recipient you own: the only address that receives mail (required)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s f -l from -d 'Envelope sender and From: [default: the --to address]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l helo -d 'Name to greet with in EHLO [default: this host\'s name]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l relay-to -d 'An address outside the server\'s domains, for relay.open' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s p -l port -d 'Port number or service name [default: 25; 465 with --tls-on-connect]' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l timeout -d 'Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l deadline -d 'Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l auth-user -l au -d 'Authenticate as USER before each probe\'s commands, except relay.open' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l dns-server -d 'DNS server to ask instead of the system\'s: IP[:PORT] (port defaults to 53)' -r -f
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l tls -d 'STARTTLS after EHLO before each probe\'s commands (probes about plaintext ignore it)'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l tls-on-connect -l tlsc -d 'Start TLS right after connecting (implicit TLS, default port 465)'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s k -l insecure -d 'Do not enforce certificate verification'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l untested-ok -d 'Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network error, a timeout); the report still shows it. A run cut by --deadline or a signal still exits 41'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l json -d 'Print JSON Lines (one line per probe and a summary) instead of the report'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -l allow-plaintext-auth -d 'Allow --auth-user over a connection that is not encrypted'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s y -l yes -d 'Do not ask before probes that send mail'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ehlo -n "__fish_ehlo_using_subcommand probe" -s V -l version -d 'Print version'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "serve" -d 'Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "demo" -d 'Start a throwaway server and send one annotated message to it (no network needed)'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "repl" -d 'Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "replay" -d 'Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "explain" -d 'Explain a reply without connecting: codes, a pasted reply or a bounce\'s diagnostic line'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "check" -d 'Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "probe" -d 'Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration'
complete -c ehlo -n "__fish_ehlo_using_subcommand help; and not __fish_seen_subcommand_from serve demo repl replay explain check probe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
