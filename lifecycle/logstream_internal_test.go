package lifecycle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame builds one message of the engine's multiplexed log stream.
func frame(stream byte, payload string) []byte {
	hdr := make([]byte, 8, 8+len(payload))
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	return append(hdr, payload...)
}

type gotMsg struct {
	stream  int
	payload string
}

// collect records each message (copied: the reader reuses its buffer) and
// stops after stopAfter messages when stopAfter > 0.
func collect(stopAfter int) (*[]gotMsg, func(int, []byte) bool) {
	var got []gotMsg
	return &got, func(stream int, p []byte) bool {
		got = append(got, gotMsg{stream, string(p)})
		return stopAfter > 0 && len(got) >= stopAfter
	}
}

func TestReadFramedMessagesDemuxesStdoutAndStderr(t *testing.T) {
	stream := bytes.Join([][]byte{
		frame(1, "out one\n"),
		frame(2, "err one\n"),
		frame(1, ""),
		frame(1, "a longer line that makes the reader grow its buffer\n"),
		frame(1, "short\n"),
	}, nil)
	want := []gotMsg{{1, "out one\n"}, {2, "err one\n"}, {1, ""},
		{1, "a longer line that makes the reader grow its buffer\n"}, {1, "short\n"}}
	for name, r := range map[string]func() io.Reader{
		"whole":          func() io.Reader { return bytes.NewReader(stream) },
		"byte by byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half at a time": func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
	} {
		t.Run(name, func(t *testing.T) {
			got, msg := collect(0)
			require.NoError(t, readFramedMessages(r(), msg), "a clean end of stream is no error")
			assert.Equal(t, want, *got)
		})
	}
}

func TestReadFramedMessagesStopsWhenTheCallbackSaysSo(t *testing.T) {
	stream := bytes.Join([][]byte{frame(1, "a\n"), frame(1, "b\n"), frame(1, "c\n")}, nil)
	got, msg := collect(2)
	err := readFramedMessages(bytes.NewReader(stream), msg)
	assert.ErrorIs(t, err, errStop)
	assert.Equal(t, []gotMsg{{1, "a\n"}, {1, "b\n"}}, *got, "nothing is read after the stop")
}

func TestReadFramedMessagesReportsBrokenStreams(t *testing.T) {
	boom := errors.New("connection reset")
	huge := make([]byte, 8)
	huge[0] = 1
	binary.BigEndian.PutUint32(huge[4:], 16<<20+1)
	cases := []struct {
		name   string
		stream io.Reader
		want   func(t *testing.T, err error)
		msgs   []gotMsg
	}{
		{"header cut short", bytes.NewReader(append(frame(1, "a\n"), 1, 0, 0)),
			func(t *testing.T, err error) { assert.ErrorIs(t, err, io.ErrUnexpectedEOF) }, []gotMsg{{1, "a\n"}}},
		{"payload cut short", bytes.NewReader(frame(1, "abcdef")[:10]),
			func(t *testing.T, err error) { assert.ErrorIs(t, err, io.ErrUnexpectedEOF) }, nil},
		{"read error", io.MultiReader(bytes.NewReader(frame(2, "x")), iotest.ErrReader(boom)),
			func(t *testing.T, err error) { assert.ErrorIs(t, err, boom) }, []gotMsg{{2, "x"}}},
		{"frame too large: not a log stream", bytes.NewReader(huge),
			func(t *testing.T, err error) { assert.ErrorContains(t, err, "not a log stream") }, nil},
		{"engine error frame", bytes.NewReader(append(frame(1, "a\n"), frame(3, "  log driver failed\n")...)),
			func(t *testing.T, err error) { assert.EqualError(t, err, "log driver failed") }, []gotMsg{{1, "a\n"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := collect(0)
			err := readFramedMessages(tc.stream, msg)
			require.Error(t, err)
			tc.want(t, err)
			assert.Equal(t, tc.msgs, *got)
		})
	}
}

func TestReadRawMessagesSplitsLinesAsStdout(t *testing.T) {
	got, msg := collect(0)
	err := readRawMessages(iotest.HalfReader(strings.NewReader("one\r\ntwo\n\nlast without newline")), msg)
	require.NoError(t, err)
	assert.Equal(t, []gotMsg{{1, "one\r\n"}, {1, "two\n"}, {1, "\n"}, {1, "last without newline"}}, *got)

	got, msg = collect(0)
	require.NoError(t, readRawMessages(strings.NewReader(""), msg))
	assert.Empty(t, *got, "an empty stream has no messages")
}

func TestReadRawMessagesCutsAGiantLineToItsFirstMaxLineBytes(t *testing.T) {
	giant := strings.Repeat("x", maxLine) + strings.Repeat("y", 3*maxLine) + "\n"
	got, msg := collect(0)
	require.NoError(t, readRawMessages(strings.NewReader(giant+"next\n"), msg))
	require.Len(t, *got, 2)
	assert.Equal(t, strings.Repeat("x", maxLine)+"\n", (*got)[0].payload, "the first maxLine bytes, ended as a line")
	assert.Equal(t, gotMsg{1, "next\n"}, (*got)[1], "the rest of the giant line is skipped, not taken as lines")
}

func TestReadRawMessagesStopsAndReportsErrors(t *testing.T) {
	got, msg := collect(1)
	assert.ErrorIs(t, readRawMessages(strings.NewReader("a\nb\n"), msg), errStop)
	assert.Equal(t, []gotMsg{{1, "a\n"}}, *got)

	boom := errors.New("connection reset")
	got, msg = collect(0)
	assert.ErrorIs(t, readRawMessages(io.MultiReader(strings.NewReader("a\npart"), iotest.ErrReader(boom)), msg), boom)
	assert.Equal(t, []gotMsg{{1, "a\n"}, {1, "part"}}, *got, "what came before the error is delivered")
}

func TestSplitTimestampReadsTheEnginesTimestampsForm(t *testing.T) {
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return ts
	}
	cases := []struct {
		in   string
		ts   time.Time
		rest string
		ok   bool
	}{
		{"2024-05-01T10:00:00.123456789Z hello world\n", at("2024-05-01T10:00:00.123456789Z"), "hello world\n", true},
		{"2024-05-01T10:00:00Z x", at("2024-05-01T10:00:00Z"), "x", true},
		{"2024-05-01T12:00:00.5+02:00 x", at("2024-05-01T10:00:00.5Z"), "x", true},
		{"2024-05-01T10:00:00.1Z  two spaces", at("2024-05-01T10:00:00.1Z"), " two spaces", true},
		{"2024-05-01T10:00:00Z ", at("2024-05-01T10:00:00Z"), "", true},
		{"2024-05-01T10:00:00Z", at("2024-05-01T10:00:00Z"), "", true},
		{"hello 2024-05-01T10:00:00Z", time.Time{}, "", false},
		{"2024-05-01 10:00:00 x", time.Time{}, "", false},
		{"", time.Time{}, "", false},
	}
	for _, tc := range cases {
		ts, rest, ok := splitTimestamp([]byte(tc.in))
		assert.Equal(t, tc.ok, ok, "%q", tc.in)
		assert.True(t, tc.ts.Equal(ts), "%q: got %v, want %v", tc.in, ts, tc.ts)
		assert.Equal(t, tc.rest, string(rest), "%q", tc.in)
	}
}
