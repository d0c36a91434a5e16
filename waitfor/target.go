package waitfor

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/dockhand/dockhand/internal/redact"
)

// ParseTarget parses a target string into a Condition:
//
//	host:port, tcp://host:port           TCP (IPv6: [::1]:5432)
//	http://host[:port]/path              HTTP, 2xx expected
//	https://host[:port]/path             HTTP over TLS (not in -tags waitfor_notls builds)
//	unix:///run/app.sock                 Unix socket
//	file:///ready[?nonempty=1]           file exists (and is not empty)
//	postgres://[user[:pass]@]host[:port][/db]   also postgresql://; port 5432
//	redis://[[user]:pass@]host[:port][/n]       port 6379
//	mysql://[user[:pass]@]host[:port][/db]      port 3306
//	dns://name                           name resolves
//
// Passwords are never part of String() or of an error message. Errors name
// the bad value and the expected form.
func ParseTarget(s string) (Condition, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New(`invalid target "": want host:port or scheme://address`)
	}
	if !strings.Contains(s, "://") {
		// host:port
		if err := checkHostPort(s); err != nil {
			return nil, badTarget(s, "want host:port or scheme://address (tcp, http, https, unix, file, postgres, redis, mysql, dns)")
		}
		return TCP(s), nil
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error would repeat the input, password included.
		scheme, _, _ := strings.Cut(strings.ToLower(s), "://")
		if form, ok := targetForms[scheme]; ok {
			return nil, badTarget(s, "not a valid URL; "+form)
		}
		return nil, badTarget(s, "not a valid URL; want host:port or scheme://address")
	}
	scheme := u.Scheme // lower case, letters, digits, "+-." only
	if scheme == "" {
		return nil, badTarget(s, "want host:port or scheme://address")
	}
	switch scheme {
	case "tcp":
		if !plainAuthority(u) || checkHostPort(u.Host) != nil {
			return nil, badTarget(s, "want tcp://host:port")
		}
		return TCP(u.Host), nil
	case "http", "https":
		h := HTTP(s)
		if h.Validate() != nil {
			return nil, badTarget(s, "want "+scheme+"://host[:port]/path")
		}
		if scheme == "https" && !TLSAvailable() {
			return nil, badTarget(s, "https is not supported by this build (built with -tags waitfor_notls to stay small; build without that tag for https)")
		}
		return h, nil
	case "unix":
		if u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, badTarget(s, "want unix:///absolute/path.sock")
		}
		return Unix(u.Path), nil
	case "file":
		if u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || u.Fragment != "" {
			return nil, badTarget(s, "want file:///absolute/path[?nonempty=1]")
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, badTarget(s, "want file:///absolute/path[?nonempty=1]")
		}
		nonEmpty := false
		for k, v := range q {
			if k != "nonempty" || len(v) != 1 {
				return nil, badTarget(s, "want file:///absolute/path[?nonempty=1]")
			}
			nonEmpty, err = strconv.ParseBool(v[0])
			if err != nil {
				return nil, badTarget(s, "want file:///absolute/path[?nonempty=1]")
			}
		}
		if nonEmpty {
			return NonEmptyFile(u.Path), nil
		}
		return File(u.Path), nil
	case "postgres", "postgresql":
		form := targetForms[scheme]
		addr, err := dbAddr(u, "5432")
		if err != nil {
			return nil, badTarget(s, form)
		}
		db := strings.TrimPrefix(u.Path, "/")
		if strings.Contains(db, "/") {
			return nil, badTarget(s, form)
		}
		p := Postgres(addr, u.User.Username(), db)
		p.display = redact.URL(s)
		return p, nil
	case "redis":
		form := targetForms[scheme]
		addr, err := dbAddr(u, "6379")
		if err != nil {
			return nil, badTarget(s, form)
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			if _, err := strconv.ParseUint(db, 10, 16); err != nil {
				return nil, badTarget(s, form)
			}
		}
		r := &RedisCondition{Addr: addr}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				r.Username, r.Password = u.User.Username(), pw
			} else {
				// redis://secret@host: the user part is the password.
				r.Password = u.User.Username()
			}
		}
		return r, nil
	case "mysql":
		form := targetForms[scheme]
		addr, err := dbAddr(u, "3306")
		if err != nil {
			return nil, badTarget(s, form)
		}
		m := MySQL(addr)
		m.display = redact.URL(s)
		return m, nil
	case "dns":
		name := u.Host
		if !plainAuthority(u) || name == "" || strings.ContainsAny(name, ":[]") {
			return nil, badTarget(s, "want dns://hostname")
		}
		return DNS(name), nil
	}
	return nil, badTarget(s, "unknown scheme "+strconv.Quote(truncate(scheme, 20))+"; want tcp, http, https, unix, file, postgres, redis, mysql or dns")
}

var targetForms = map[string]string{
	"tcp":        "want tcp://host:port",
	"http":       "want http://host[:port]/path",
	"https":      "want https://host[:port]/path",
	"unix":       "want unix:///absolute/path.sock",
	"file":       "want file:///absolute/path[?nonempty=1]",
	"postgres":   "want postgres://[user[:password]@]host[:port][/database]",
	"postgresql": "want postgres://[user[:password]@]host[:port][/database]",
	"redis":      "want redis://[[user]:password@]host[:port][/db]",
	"mysql":      "want mysql://[user[:password]@]host[:port][/database]",
	"dns":        "want dns://hostname",
}

// plainAuthority: the URL is only scheme://host, maybe with a trailing "/".
func plainAuthority(u *url.URL) bool {
	return u.User == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}

func dbAddr(u *url.URL, defPort string) (string, error) {
	if u.Host == "" || u.Fragment != "" || u.Opaque != "" {
		return "", errors.New("no host")
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "", errors.New("empty port")
		}
		port = defPort
	}
	addr := net.JoinHostPort(host, port)
	return addr, checkHostPort(addr)
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" || strings.ContainsAny(host, "/@?#[] \t\r\n") {
		return errors.New("bad host")
	}
	_, err = parsePort(port)
	return err
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || p[0] == '+' || p[0] == '-' {
		return 0, errors.New("bad port " + strconv.Quote(truncate(p, 10)))
	}
	return n, nil
}

func badTarget(s, want string) error {
	return errors.New("invalid target " + strconv.Quote(redact.URL(s)) + ": " + want)
}
