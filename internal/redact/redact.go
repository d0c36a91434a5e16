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
	"slices"
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
	// The ranges to hide are found on s as given, then merged: the last
	// '@' may sit in a query value, and a password may hold "?key=".
	rs := queryRanges(s)
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		i := strings.Index(s, "//")
		if i < 0 || i+2 > at || !schemePrefix(s[:i]) {
			// No authority before the last '@' to tell where the
			// userinfo starts: hide all that precedes it.
			rs = append(rs, [2]int{0, at})
		} else {
			start := i + 2
			ui := s[start:at]
			switch c := strings.IndexByte(ui, ':'); {
			case c >= 0:
				rs = append(rs, [2]int{start + c + 1, at})
			case i > 0 && userSchemes[scheme(s[:i-1])] && plainName(ui):
				// postgres://app@db: a user name.
			default:
				rs = append(rs, [2]int{start, at})
			}
		}
	}
	return hide(s, rs)
}

// hide replaces each of the ranges of s (merged where they touch or
// overlap) by Mask; an empty range inserts Mask.
func hide(s string, rs [][2]int) string {
	if len(rs) == 0 {
		return s
	}
	slices.SortFunc(rs, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	pos := 0
	for k := 0; k < len(rs); {
		lo, hi := rs[k][0], rs[k][1]
		for k++; k < len(rs) && rs[k][0] <= hi; k++ {
			hi = max(hi, rs[k][1])
		}
		b.WriteString(s[pos:lo])
		b.WriteString(Mask)
		pos = hi
	}
	b.WriteString(s[pos:])
	return b.String()
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

// queryRanges returns where the values of secret keys are in the query of
// s (the part after its first '?'). A secret value runs to the next
// "&name=" (or ";name=") or to the end of s: a raw '&' or '#' in it does
// not end it.
func queryRanges(s string) [][2]int {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return nil
	}
	var rs [][2]int
	for pos := q + 1; pos < len(s); {
		end := nextParam(s, pos)
		k, _, hasValue := strings.Cut(s[pos:end], "=")
		if hasValue && IsSecretName(unescape(k)) {
			v := pos + len(k) + 1
			end = nextAssignment(s, v)
			rs = append(rs, [2]int{v, end})
		}
		pos = end + 1
	}
	return rs
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

// EnvKey returns the name of the assignment kv ("KEY=VALUE", or an entry
// without '=' such as "DB_PASSWORD", whose value was forgotten), for an
// error that must not show the value. It returns the name only when,
// less surrounding white space, it has the shape of a variable name
// ([A-Za-z0-9_.-]+, not starting with '-'); otherwise "", since a value may
// have slipped into it.
func EnvKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	if isName(strings.TrimSpace(k)) {
		return k
	}
	return ""
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' && i > 0) {
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
		// One argument is one value, spaces and all: -pSECRET, or a URL
		// that the argument starts with (a password may hold a space).
		if strings.HasPrefix(a, "-p") && len(a) > 2 && !strings.HasPrefix(a, "--") && !strings.Contains(a, "://") ||
			schemeStart(a) {
			out[i] = word(a)
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

// schemeStart reports whether s starts with a URL's scheme and "://".
func schemeStart(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range []byte(s[:i]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
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
		return URL(w)
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

// Values hides each of secrets (values known to be secret, such as the
// values of secret-named variables or the parts of a command line that
// Args hides) in s, then applies Text. A secret is hidden whole, and so is
// each run of 4 or more letters and digits in it, since a program may quote
// a piece of it (psql: invalid integer value "Kq7v" for connection option
// "port"). Secrets shorter than 4 bytes are left alone: hiding them would
// garble the text and hide little.
func Values(s string, secrets ...string) string {
	var all []string
	for _, v := range secrets {
		if len(v) < 4 {
			continue
		}
		all = append(all, v)
		for _, p := range strings.FieldsFunc(v, func(r rune) bool { return !isAlnum(r) }) {
			if len(p) >= 4 && p != v {
				all = append(all, p)
			}
		}
	}
	// Longest first, so that a piece does not break up its whole.
	slices.SortFunc(all, func(a, b string) int { return len(b) - len(a) })
	for _, v := range all {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return Text(s)
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// ArgSecrets returns the parts of the words of a command line that Args
// hides, so that Values can hide them in what the command prints.
func ArgSecrets(args []string) []string {
	var out []string
	for i, shown := range Args(args) {
		if w := args[i]; shown != w {
			out = append(out, hiddenPart(w, shown))
		}
	}
	return out
}

// hiddenPart returns what of orig is not in shown: orig less the prefix and
// the suffix they share.
func hiddenPart(orig, shown string) string {
	p := 0
	for p < len(orig) && p < len(shown) && orig[p] == shown[p] {
		p++
	}
	q := 0
	for q < len(orig)-p && q < len(shown)-p && orig[len(orig)-1-q] == shown[len(shown)-1-q] {
		q++
	}
	return orig[p : len(orig)-q]
}
