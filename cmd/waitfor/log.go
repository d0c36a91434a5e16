package main

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dockhand/dockhand/internal/redact"
)

// logger writes one line per event, as logfmt text (like log/slog's
// TextHandler) or as JSON (like its JSONHandler). It is hand-written because
// log/slog adds about 330 kB to the binary.
type logger struct {
	mu             sync.Mutex
	w              io.Writer
	json           bool
	quiet, verbose bool
}

type level int

const (
	lvlDebug level = iota
	lvlInfo
	lvlWarn
	lvlError
)

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR"}

// log writes msg with key/value pairs; values are strings, ints or
// time.Durations (written in milliseconds, with the key suffixed "_ms").
func (l *logger) log(lv level, msg string, kv ...any) {
	if l.quiet && lv < lvlError || lv == lvlDebug && !l.verbose {
		return
	}
	var b []byte
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if l.json {
		b = append(b, `{"time":`...)
		b = appendJSONString(b, now)
		b = append(b, `,"level":`...)
		b = appendJSONString(b, levelNames[lv])
		b = append(b, `,"msg":`...)
		b = appendJSONString(b, msg)
	} else {
		b = append(b, "time="+now+" level="+levelNames[lv]+" msg="...)
		b = appendText(b, msg)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		key, _ := kv[i].(string)
		var num string
		var str string
		isNum := false
		switch v := kv[i+1].(type) {
		case string:
			str = v
		case int:
			num, isNum = strconv.Itoa(v), true
		case time.Duration:
			key += "_ms"
			num, isNum = strconv.FormatFloat(float64(v)/float64(time.Millisecond), 'f', 3, 64), true
		default:
			str = "?"
		}
		if l.json {
			b = append(b, ',')
			b = appendJSONString(b, key)
			b = append(b, ':')
			if isNum {
				b = append(b, num...)
			} else {
				b = appendJSONString(b, str)
			}
		} else {
			b = append(b, ' ')
			b = append(b, key...)
			b = append(b, '=')
			if isNum {
				b = append(b, num...)
			} else {
				b = appendText(b, str)
			}
		}
	}
	if l.json {
		b = append(b, '}')
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(b)
}

func appendText(b []byte, s string) []byte {
	if s != "" && !strings.ContainsAny(s, " =\"\\\t\r\n") && utf8.ValidString(s) {
		return append(b, s...)
	}
	return strconv.AppendQuote(b, s)
}

// appendJSONString appends s as a JSON string (internal/redact's encoder:
// this binary stays without encoding/json).
func appendJSONString(b []byte, s string) []byte { return append(b, redact.JSON(s)...) }
