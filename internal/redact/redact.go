// Package redact is Dockhand's one rule for hiding secrets in text that is
// shown to people: descriptions (String), error messages and log lines.
//
// It hides
//   - the userinfo of a URL: the password of user:password@, and a lone
//     user@ part (redis://secret@cache, https://token@host) unless the scheme
//     takes a plain user name there (postgres, mysql, ssh, ...). The userinfo
//     is taken to end at the last '@' of the URL, so a password holding raw
//     '/', '?', '#', '@', '%' or ':' is hidden whole: when unsure where the
//     userinfo ends, more is hidden, never less;
//   - the values of query keys that carry secrets (password, pass, pwd,
//     token, secret, key, apikey, access_token, sslpassword, auth, ...; any
//     case). Such a value runs up to the next "&name=" or the end;
//   - environment assignments KEY=VALUE whose KEY names a secret (see
//     IsSecretName): PGPASSWORD=..., MYSQL_PWD=..., --password=...;
//   - flag-style password arguments of common clients: -pSECRET (mysql),
//     -p SECRET (but not -p 5432, a port), --password SECRET, --pass SECRET,
//     --token SECRET, -a SECRET of redis-cli, the password of -u/--user
//     user:password (curl), and what follows "Authorization:".
//
// The package uses the standard library only (waitfor and cmd/waitfor use
// it, and must stay small), imports neither log/slog nor encoding/json, and
// never fails: it works on any string, URL or not.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every hidden value.
const Mask = "xxxxx"

// IsSecretName reports whether the name of an environment variable, a flag
// (without its dashes) or a query key suggests that its value is a secret.
// It ignores case and treats '-' like '_'. It is true for names that end in
// PASSWORD, PASS, PWD, TOKEN, SECRET, KEY, CREDENTIALS, AUTH, SIG or
// SIGNATURE, and for names that contain PASSWORD, PASSWD, PASSPHRASE, SECRET,
// TOKEN, CREDENTIAL, APIKEY, API_KEY, ACCESS_KEY or PRIVATE_KEY.
func IsSecretName(name string) bool {
	u := strings.ToUpper(strings.TrimSpace(name))
	u = strings.ReplaceAll(u, "-", "_")
	if u == "" {
		return false
	}
	for _, w := range []string{"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	for _, w := range []string{"PASS", "PWD", "KEY", "AUTH", "SIG", "SIGNATURE"} {
		if strings.HasSuffix(u, w) {
			return true
		}
	}
	return false
}

// Schemes whose lone userinfo (scheme://name@host) is a user name, not a
// password; for every other scheme a lone userinfo is hidden.
var userSchemes = map[string]bool{
	"postgres": true, "postgresql": true, "mysql": true, "mariadb": true,
	"mongodb": true, "mongodb+srv": true, "ssh": true, "sftp": true, "git+ssh": true,
}

// URL returns s with the secrets of a URL hidden: the userinfo's password
// (or a lone userinfo that may be one) and the values of secret query keys.
// A string without "://" that holds an '@' loses everything before its last
// '@' (app:secret@db:5432). URL never fails; it works on strings that do
// not parse as URLs.
func URL(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return redactQuery(s)
	}
	i := strings.Index(s, "//")
	if i < 0 || i+2 > at || !schemePrefix(s[:i]) {
		// No authority before the last '@' to tell where the userinfo
		// starts: hide all that precedes it.
		return Mask + redactQuery(s[at:])
	}
	start := i + 2
	ui := s[start:at]
	switch c := strings.IndexByte(ui, ':'); {
	case c >= 0:
		ui = ui[:c+1] + Mask
	case i > 0 && userSchemes[scheme(s[:i-1])] && plainName(ui):
		// postgres://app@db: a user name.
	default:
		ui = Mask
	}
	return s[:start] + ui + redactQuery(s[at:])
}

// schemePrefix reports whether p, what precedes "//", is empty (a
// scheme-relative URL) or ends with "scheme:" after text that holds no
// ':', '@' or '/' (a quote, a word and '='), so that the authority surely
// starts after the "//".
func schemePrefix(p string) bool {
	if p == "" {
		return true
	}
	if p[len(p)-1] != ':' {
		return false
	}
	p = p[:len(p)-1]
	sch := scheme(p)
	if sch == "" || !(sch[0] >= 'a' && sch[0] <= 'z') {
		return false
	}
	return !strings.ContainsAny(p[:len(p)-len(sch)], ":@/")
}

// scheme returns the lower-case scheme that ends s (s may be preceded by
// other text, as in `invalid target "postgres`).
func scheme(s string) string {
	j := len(s)
	for j > 0 {
		c := s[j-1]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.' {
			j--
			continue
		}
		break
	}
	return strings.ToLower(s[j:])
}

func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return s != ""
}

// redactQuery hides the values of secret keys in the query of s (the part
// after its first '?'). A secret value runs to the next "&name=" (or
// ";name=") or to the end of s: a raw '&' or '#' in it does not end it.
func redactQuery(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:q+1])
	rest := s[q+1:]
	for rest != "" {
		end := nextParam(rest, 0)
		param := rest[:end]
		k, _, hasValue := strings.Cut(param, "=")
		if hasValue && IsSecretName(unescape(k)) {
			// The value may hold '&' or '#': it runs to the next
			// "&name=", else to the end.
			end = nextAssignment(rest, len(k)+1)
			b.WriteString(k + "=" + Mask)
		} else {
			b.WriteString(param)
		}
		rest = rest[end:]
		if rest != "" { // the separator
			b.WriteByte(rest[0])
			rest = rest[1:]
		}
	}
	return b.String()
}

// nextParam returns the index of the next '&' or ';' at or after from, or
// len(s).
func nextParam(s string, from int) int {
	if i := strings.IndexAny(s[from:], "&;"); i >= 0 {
		return from + i
	}
	return len(s)
}

// nextAssignment returns the index of the next '&' or ';' at or after from
// that is followed by name=, or len(s).
func nextAssignment(s string, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] != '&' && s[i] != ';' {
			continue
		}
		j := i + 1
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		if j > i+1 && j < len(s) && s[j] == '=' {
			return i
		}
	}
	return len(s)
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '%' || c == '[' || c == ']'
}

func unescape(k string) string {
	if u, err := url.QueryUnescape(k); err == nil {
		return u
	}
	return k
}

// Env returns the environment assignment kv ("KEY=VALUE") with its value
// hidden when KEY names a secret (IsSecretName); otherwise the value goes
// through Text, so that DATABASE_URL=postgres://app:pw@db/app keeps only
// its user name. An entry without '=' goes through Text.
func Env(kv string) string {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return Text(kv)
	}
	if IsSecretName(trimFlag(k)) {
		return k + "=" + Mask
	}
	return k + "=" + Text(v)
}

// EnvKey returns the name of the assignment kv, for an error that must
// not show the value: the part before the first '='. An entry without '='
// is returned when it has the shape of a variable name
// ([A-Za-z_][A-Za-z0-9_]*: WithEnv("DB_PASSWORD") forgot the value), else
// "" (the whole entry may be a value).
func EnvKey(kv string) string {
	k, _, ok := strings.Cut(kv, "=")
	if ok || isIdent(kv) {
		return k
	}
	return ""
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Args returns a copy of the words of a command line with their secrets
// hidden: secret KEY=VALUE and --flag=VALUE words, URLs, the values of
// password flags (-pSECRET, --password SECRET, -a SECRET of redis-cli, ...).
// A word holding spaces (sh -c '...') is scanned as a command line itself.
func Args(args []string) []string {
	out := make([]string, len(args))
	redis := false
	for _, a := range args {
		if isRedisCLI(a) {
			redis = true
		}
	}
	next := nextPlain
	for i, a := range args {
		switch next {
		case nextSecret:
			out[i] = Mask
			next = nextPlain
			continue
		case nextPort:
			next = nextPlain
			if allDigits(a) {
				out[i] = a
			} else {
				out[i] = Mask
			}
			continue
		case nextUser:
			next = nextPlain
			out[i] = userPass(a)
			continue
		}
		next = flagKind(a, redis)
		if next != nextPlain {
			out[i] = a
			continue
		}
		if eq := strings.IndexByte(a, '='); eq > 0 && !strings.ContainsAny(a[:eq], " \t\n") && IsSecretName(trimFlag(a[:eq])) {
			out[i] = a[:eq+1] + Mask // the whole word is the value
			continue
		}
		out[i] = Text(a)
	}
	return out
}

// What a word says about the next one.
const (
	nextPlain  = iota
	nextSecret // --password SECRET
	nextPort   // -p VALUE: a port (digits) or a password
	nextUser   // -u user:password
)

func flagKind(w string, redis bool) int {
	if len(w) < 2 || w[0] != '-' || strings.ContainsAny(w, "= \t\n") {
		return nextPlain
	}
	if len(w) > 2 && w[1] == 'p' {
		return nextPlain // -pSECRET: see word
	}
	switch w {
	case "-p":
		return nextPort
	case "-a":
		if redis {
			return nextSecret
		}
		return nextPlain
	case "-u", "--user":
		return nextUser
	}
	if IsSecretName(trimFlag(w)) {
		return nextSecret
	}
	return nextPlain
}

func isRedisCLI(w string) bool {
	if i := strings.LastIndexByte(w, '/'); i >= 0 {
		w = w[i+1:]
	}
	for _, p := range []string{"redis-cli", "valkey-cli", "keydb-cli", "redis-benchmark"} {
		if strings.Contains(w, p) {
			return true
		}
	}
	return false
}

func trimFlag(s string) string {
	return strings.TrimLeft(strings.TrimSpace(s), "-")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// userPass hides the password of user:password.
func userPass(s string) string {
	if c := strings.IndexByte(s, ':'); c >= 0 {
		return s[:c+1] + Mask
	}
	return s
}

// Text hides secrets in free text, such as an error message from another
// library or a command line given as one string. It splits s at white
// space and applies every rule of the package to the words: URLs (also
// quoted ones), user:password@host, secret KEY=VALUE (a quoted value is
// hidden up to its closing quote, or to the end of s when it has none),
// password flags and their values, and everything after "Authorization:" on
// its line.
func Text(s string) string {
	if s == "" {
		return s
	}
	redis := isRedisCLI(s)
	var b strings.Builder
	next := nextPlain
	for i := 0; i < len(s); {
		if isSpace(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		tok := s[i:j]
		bare := strings.Trim(tok, "\"'`()[]{},;")
		switch next {
		case nextSecret:
			next = nextPlain
			b.WriteString(Mask)
			i = quotedEnd(s, i, j)
			continue
		case nextPort:
			next = nextPlain
			if allDigits(bare) {
				b.WriteString(tok)
			} else {
				b.WriteString(Mask)
			}
			i = quotedEnd(s, i, j)
			continue
		case nextUser:
			next = nextPlain
			b.WriteString(userPass(tok))
			i = j
			continue
		}
		low := strings.ToLower(bare)
		if low == "authorization:" || low == "proxy-authorization:" || strings.HasSuffix(low, "authorization:") {
			// Hide the rest of the line.
			b.WriteString(tok + " " + Mask)
			end := strings.IndexByte(s[j:], '\n')
			if end < 0 {
				break
			}
			i = j + end
			continue
		}
		if eq := strings.IndexByte(tok, '='); eq > 0 && !strings.Contains(tok[:eq], "://") && IsSecretName(strings.Trim(trimFlag(tok[:eq]), "\"'`({[,;")) {
			b.WriteString(tok[:eq+1] + Mask)
			v := i + eq + 1
			end := j
			if v < len(s) && (s[v] == '"' || s[v] == '\'' || s[v] == '`') {
				if c := strings.IndexByte(s[v+1:], s[v]); c >= 0 {
					end = v + 1 + c + 1
				} else {
					end = len(s)
				}
			}
			i = max(end, j)
			continue
		}
		if k := flagKind(bare, redis); k != nextPlain {
			next = k
			b.WriteString(tok)
			i = j
			continue
		}
		b.WriteString(word(tok))
		i = j
	}
	return b.String()
}

// word hides the secrets of one word without white space.
func word(w string) string {
	if strings.HasPrefix(w, "-p") && len(w) > 2 && !strings.HasPrefix(w, "--") && !strings.Contains(w, "://") {
		return "-p" + Mask // mysql -pSECRET
	}
	if strings.Contains(w, "://") {
		return URL(w)
	}
	if at := strings.LastIndexByte(w, '@'); at > 0 && strings.Contains(w[:at], ":") {
		// user:password@host without a scheme. Keep what quotes it.
		lead := len(w) - len(strings.TrimLeft(w, "\"'`([{"))
		return w[:lead] + Mask + w[at:]
	}
	if strings.Contains(w, "?") {
		return redactQuery(w)
	}
	return w
}

// quotedEnd returns where the word s[i:j] ends when a quote that opens it
// closes after j (a quoted value with spaces): after the closing quote, or
// len(s) when there is none.
func quotedEnd(s string, i, j int) int {
	q := s[i]
	if q != '"' && q != '\'' && q != '`' || strings.IndexByte(s[i+1:j], q) >= 0 {
		return j
	}
	if c := strings.IndexByte(s[j:], q); c >= 0 {
		return j + c + 1
	}
	return len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Values hides every occurrence of each of secrets (values known to be
// secret, such as the values of secret-named variables) in s, then applies
// Text. Values shorter than 4 bytes are left alone: hiding them would
// garble the text and hide little.
func Values(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return Text(s)
}
