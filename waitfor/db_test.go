package waitfor_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/waitfor"
)

// readStartup reads a PostgreSQL StartupMessage and returns its parameters.
func readStartup(t *testing.T, c net.Conn) map[string]string {
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		t.Errorf("reading startup: %v", err)
		return nil
	}
	n := binary.BigEndian.Uint32(head[:4])
	assert.Equal(t, uint32(196608), binary.BigEndian.Uint32(head[4:]), "protocol 3.0")
	body := make([]byte, n-8)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Errorf("reading startup: %v", err)
		return nil
	}
	parts := strings.Split(strings.TrimRight(string(body), "\x00"), "\x00")
	params := map[string]string{}
	for i := 0; i+1 < len(parts); i += 2 {
		params[parts[i]] = parts[i+1]
	}
	return params
}

func pgMessage(typ byte, body []byte) []byte {
	msg := []byte{typ}
	msg = binary.BigEndian.AppendUint32(msg, uint32(4+len(body)))
	return append(msg, body...)
}

func pgError(code, text string) []byte {
	body := "SFATAL\x00VFATAL\x00C" + code + "\x00M" + text + "\x00\x00"
	return pgMessage('E', []byte(body))
}

func TestPostgresStartingUpThenAuthRequest(t *testing.T) {
	var users []string
	addr := listen(t, func(n int, c net.Conn) {
		params := readStartup(t, c)
		users = append(users, params["user"]+"/"+params["database"])
		if n < 2 {
			_, _ = c.Write(pgError("57P03", "the database system is starting up"))
			return
		}
		// AuthenticationSASL: the server wants a password.
		_, _ = c.Write(pgMessage('R', append(binary.BigEndian.AppendUint32(nil, 10), "SCRAM-SHA-256\x00\x00"...)))
	})
	c, err := waitfor.ParseTarget("postgres://app:pa55word@" + addr + "/appdb")
	require.NoError(t, err)
	assert.Equal(t, "postgres://app:xxxxx@"+addr+"/appdb", c.String())

	var errs []string
	w := waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: func(a waitfor.Attempt) {
		if a.Err != nil {
			errs = append(errs, a.Err.Error())
		}
	}}
	require.NoError(t, w.Wait(context.Background(), c))
	require.Len(t, errs, 2)
	assert.Equal(t, "postgres: the database system is starting up (SQLSTATE 57P03)", errs[0])
	assert.Equal(t, []string{"app/appdb", "app/appdb", "app/appdb"}, users)
}

func TestPostgresAuthErrorMeansUp(t *testing.T) {
	addr := listen(t, func(_ int, c net.Conn) {
		params := readStartup(t, c)
		assert.Equal(t, "postgres", params["user"], "default user")
		_, _ = c.Write(pgError("28P01", `password authentication failed for user "postgres"`))
	})
	require.NoError(t, waitfor.Postgres(addr, "", "").Check(context.Background()))

	garbage := listen(t, func(_ int, c net.Conn) { _, _ = c.Write([]byte("\x00\x00\x00\x00\x00")) })
	require.Error(t, waitfor.Postgres(garbage, "", "").Check(context.Background()))
}

// fakeRedis answers like a Redis with requirepass: LOADING for the first
// `loading` connections, then PONG.
func fakeRedis(t *testing.T, password string, loading int) string {
	return listen(t, func(n int, c net.Conn) {
		r := bufio.NewReader(c)
		authed := password == ""
		for {
			args, err := readRESP(r)
			if err != nil {
				return
			}
			var reply string
			switch strings.ToUpper(args[0]) {
			case "AUTH":
				if args[len(args)-1] == password {
					authed = true
					reply = "+OK"
				} else {
					reply = "-WRONGPASS invalid username-password pair or user is disabled."
				}
			case "PING":
				switch {
				case !authed:
					reply = "-NOAUTH Authentication required."
				case n < loading:
					reply = "-LOADING Redis is loading the dataset in memory"
				default:
					reply = "+PONG"
				}
			default:
				reply = "-ERR unknown command"
			}
			if _, err := c.Write([]byte(reply + "\r\n")); err != nil {
				return
			}
		}
	})
}

func readRESP(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil {
		return nil, err
	}
	args := make([]string, n)
	for i := range args {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return nil, err
		}
		s, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		args[i] = strings.TrimRight(s, "\r\n")
	}
	return args, nil
}

func TestRedisLoadingThenPong(t *testing.T) {
	addr := fakeRedis(t, "hunter2", 2)
	c, err := waitfor.ParseTarget("redis://:hunter2@" + addr)
	require.NoError(t, err)
	assert.Equal(t, "redis://:xxxxx@"+addr, c.String())
	var errs []string
	w := waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: func(a waitfor.Attempt) {
		if a.Err != nil {
			errs = append(errs, a.Err.Error())
		}
	}}
	require.NoError(t, w.Wait(context.Background(), c))
	require.Len(t, errs, 2)
	assert.Contains(t, errs[0], "LOADING")
}

func TestRedisWrongPasswordIsNotReady(t *testing.T) {
	addr := fakeRedis(t, "hunter2", 0)
	w := waitfor.Waiter{Timeout: 100 * time.Millisecond}
	err := w.Wait(context.Background(), waitfor.Redis(addr, "wrong-pw"))
	var werr *waitfor.Error
	require.ErrorAs(t, err, &werr)
	assert.Contains(t, werr.Pending[0].LastErr.Error(), "AUTH refused")
	assert.NotContains(t, err.Error(), "wrong-pw")

	err = waitfor.Redis(addr, "").Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NOAUTH")
	require.NoError(t, waitfor.Redis(addr, "hunter2").Check(context.Background()))
	require.NoError(t, (&waitfor.RedisCondition{Addr: addr, Username: "default", Password: "hunter2"}).Check(context.Background()))
}

func mysqlPacket(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

func TestMySQLGreeting(t *testing.T) {
	addr := listen(t, func(n int, c net.Conn) {
		if n == 0 {
			// ER_CON_COUNT_ERROR, as a server sends before a handshake.
			_, _ = c.Write(mysqlPacket(0, append([]byte{0xff, 0x10, 0x04}, "#08004Too many connections"...)))
			return
		}
		greeting := append([]byte{10}, "8.4.0\x00"...)
		greeting = append(greeting, make([]byte, 40)...)
		_, _ = c.Write(mysqlPacket(0, greeting))
	})
	c, err := waitfor.ParseTarget("mysql://root:toor@" + addr + "/shop")
	require.NoError(t, err)
	assert.Equal(t, "mysql://root:xxxxx@"+addr+"/shop", c.String())
	err = c.Check(context.Background())
	require.Error(t, err)
	assert.Equal(t, "mysql: error 1040: Too many connections", err.Error())
	require.NoError(t, c.Check(context.Background()))
}
