package lifecycle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/pkg/stdcopy"
)

// splitTimestamp splits "2024-05-01T10:00:00.123456789Z text" (the engine's
// Timestamps form).
func splitTimestamp(p []byte) (time.Time, []byte, bool) {
	i := bytes.IndexByte(p, ' ')
	if i < 0 {
		i = len(p)
	}
	ts, err := time.Parse(time.RFC3339Nano, string(p[:i]))
	if err != nil {
		return time.Time{}, nil, false
	}
	if i < len(p) {
		i++
	}
	return ts, p[i:], true
}

// readFramedMessages reads the multiplexed stream of a container without a
// TTY: an 8-byte header (stream, 0, 0, 0, big-endian size) per message.
// msg returning true stops the read with errStop.
func readFramedMessages(r io.Reader, msg func(stream int, payload []byte) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		size := int(binary.BigEndian.Uint32(hdr[4:]))
		if size > 16<<20 {
			return fmt.Errorf("log frame of %d bytes: not a log stream", size)
		}
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		if hdr[0] == byte(stdcopy.Systemerr) {
			return errors.New(strings.TrimSpace(string(buf)))
		}
		if msg(int(hdr[0]), buf) {
			return errStop
		}
	}
}

// readRawMessages reads the log stream of a container with a TTY: lines,
// each beginning with its timestamp.
func readRawMessages(r io.Reader, msg func(stream int, payload []byte) bool) error {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A giant line: count it on its first maxLine bytes.
			rest := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			line = append(rest, '\n')
		}
		if len(line) > 0 && msg(1, line) {
			return errStop
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
