package waitfor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/dockhand/dockhand/internal/redact"
)

// PostgresCondition is ready when a PostgreSQL server accepts connections,
// checked the way pg_isready does: it sends a StartupMessage and any answer
// but an ErrorResponse with SQLSTATE 57P03 (cannot_connect_now: starting up,
// shutting down, in recovery) counts as ready. An authentication request or
// an authentication error means the server accepts connections. It never
// authenticates, so no password is needed.
type PostgresCondition struct {
	Addr     string // host:port
	User     string // default "postgres"
	Database string // default: User

	display string
}

// Postgres returns a condition for the server at addr ("db:5432"). user and
// database may be empty.
func Postgres(addr, user, database string) *PostgresCondition {
	return &PostgresCondition{Addr: addr, User: user, Database: database}
}

// String describes the server; it holds no password.
func (p PostgresCondition) String() string {
	if p.display != "" {
		return p.display
	}
	s := "postgres://"
	if p.User != "" {
		s += p.User + "@"
	}
	s += p.Addr
	if p.Database != "" {
		s += "/" + p.Database
	}
	return s
}

// SQLSTATE cannot_connect_now.
const pgCannotConnectNow = "57P03"

// Check sends a StartupMessage and reads the first answer.
func (p *PostgresCondition) Check(ctx context.Context) error {
	conn, err := dialStop(ctx, p.Addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	user := p.User
	if user == "" {
		user = "postgres"
	}
	db := p.Database
	if db == "" {
		db = user
	}
	var msg []byte
	msg = binary.BigEndian.AppendUint32(msg, 0) // length, set below
	msg = binary.BigEndian.AppendUint32(msg, 3<<16)
	for _, kv := range [][2]string{{"user", user}, {"database", db}, {"application_name", "waitfor"}} {
		msg = append(msg, kv[0]...)
		msg = append(msg, 0)
		msg = append(msg, kv[1]...)
		msg = append(msg, 0)
	}
	msg = append(msg, 0)
	binary.BigEndian.PutUint32(msg, uint32(len(msg)))
	if _, err := conn.Write(msg); err != nil {
		return err
	}

	var head [5]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return readErr("postgres: reading answer", err)
	}
	typ, n := head[0], int(binary.BigEndian.Uint32(head[1:]))
	if typ != 'E' {
		// 'R' (an authentication request), 'v' (NegotiateProtocolVersion),
		// ...: the server accepts connections.
		if typ < 'A' || typ > 'z' || n < 4 {
			return errors.New("postgres: not a PostgreSQL server (unexpected answer)")
		}
		return nil
	}
	if n < 4 || n > 1<<16 {
		return errors.New("postgres: bad ErrorResponse length")
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(conn, body); err != nil {
		return readErr("postgres: reading ErrorResponse", err)
	}
	fields := map[byte]string{}
	for len(body) > 0 && body[0] != 0 {
		code := body[0]
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			break
		}
		fields[code] = string(body[1 : 1+end])
		body = body[2+end:]
	}
	if fields['C'] == pgCannotConnectNow {
		msg := fields['M']
		if msg == "" {
			msg = "cannot connect now"
		}
		return errors.New("postgres: " + msg + " (SQLSTATE " + pgCannotConnectNow + ")")
	}
	// Authentication failed, no such database, too many clients, ...:
	// the server is up and answering.
	return nil
}

// RedisCondition is ready when a Redis server answers PING with +PONG. A
// -LOADING reply (the data set is still being loaded) is not ready. With a
// Password it sends AUTH first; a refused AUTH is not ready.
type RedisCondition struct {
	Addr     string // host:port
	Username string // Redis 6 ACL user; empty for the default user
	Password string
}

// Redis returns a condition for the server at addr; password may be empty.
func Redis(addr, password string) *RedisCondition {
	return &RedisCondition{Addr: addr, Password: password}
}

// String describes the server with the password hidden.
func (r RedisCondition) String() string {
	s := "redis://"
	if r.Password != "" {
		s += r.Username + ":" + redact.Mask + "@"
	} else if r.Username != "" {
		s += r.Username + "@"
	}
	return s + r.Addr
}

func respCommand(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// Check sends AUTH (when needed) and PING.
func (r *RedisCondition) Check(ctx context.Context) error {
	conn, err := dialStop(ctx, r.Addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	var req string
	if r.Password != "" {
		if r.Username != "" {
			req = respCommand("AUTH", r.Username, r.Password)
		} else {
			req = respCommand("AUTH", r.Password)
		}
	}
	req += respCommand("PING")
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	readLine := func() (string, error) {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", readErr("redis: reading reply", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if r.Password != "" {
		line, err := readLine()
		if err != nil {
			return err
		}
		if line != "+OK" {
			return errors.New("redis: AUTH refused: " + truncate(line, 120))
		}
	}
	line, err := readLine()
	if err != nil {
		return err
	}
	if line == "+PONG" {
		return nil
	}
	return errors.New("redis: PING answered " + strconv.Quote(truncate(line, 120)))
}

// MySQLCondition is ready when a MySQL or MariaDB server sends its initial
// handshake packet (protocol version 10). An error packet (too many
// connections, host blocked, ...) is not ready.
type MySQLCondition struct {
	Addr string // host:port

	display string
}

// MySQL returns a condition for the server at addr ("db:3306").
func MySQL(addr string) *MySQLCondition { return &MySQLCondition{Addr: addr} }

// String describes the server; it holds no password.
func (m MySQLCondition) String() string {
	if m.display != "" {
		return m.display
	}
	return "mysql://" + m.Addr
}

// Check reads the server's greeting.
func (m *MySQLCondition) Check(ctx context.Context) error {
	conn, err := dialStop(ctx, m.Addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	var head [4]byte // 3-byte length, sequence number
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return readErr("mysql: reading greeting", err)
	}
	n := int(head[0]) | int(head[1])<<8 | int(head[2])<<16
	if n < 1 {
		return errors.New("mysql: empty greeting")
	}
	payload := make([]byte, min(n, 512))
	if _, err := io.ReadFull(conn, payload); err != nil {
		return readErr("mysql: reading greeting", err)
	}
	switch payload[0] {
	case 10:
		return nil
	case 0xff:
		msg := "error packet"
		if len(payload) >= 3 {
			code := int(payload[1]) | int(payload[2])<<8
			text := payload[3:]
			if len(text) >= 6 && text[0] == '#' {
				text = text[6:] // #SQLSTATE
			}
			msg = "error " + strconv.Itoa(code) + ": " + truncate(string(text), 200)
		}
		return errors.New("mysql: " + msg)
	default:
		return errors.New("mysql: unsupported protocol version " + strconv.Itoa(int(payload[0])))
	}
}

// dialStop dials addr over TCP; the connection gets ctx's deadline and is
// closed when ctx ends, so reads cannot hang past it.
func dialStop(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &stopConn{Conn: conn, stop: context.AfterFunc(ctx, func() { _ = conn.Close() })}, nil
}

type stopConn struct {
	net.Conn
	stop func() bool
}

func (c *stopConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
