package waitfor_test

import (
	"context"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dockhand/dockhand/waitfor"
)

// BenchmarkNotice measures how soon a Wait returns after what it waits for
// happens (a TCP port opens, a unix socket appears, a port is freed, the
// last member of All opens), with the default backoff (capped at
// DefaultMaxInterval). Each iteration makes the change 10-60 ms after the
// wait began, at a random moment, and measures from the change to the
// return of Wait. It reports the mean and the worst lag in ms; the tests
// only count attempts.
//
//	go test ./waitfor -run '^$' -bench Notice -benchtime 50x
func BenchmarkNotice(b *testing.B) {
	type change struct {
		cond func() waitfor.Condition
		do   func() // makes cond ready
		undo func()
	}
	listenLater := func(network, addr string) change {
		var l net.Listener
		return change{
			do: func() {
				var err error
				if l, err = net.Listen(network, addr); err != nil {
					b.Fatal(err)
				}
			},
			undo: func() { _ = l.Close() },
		}
	}
	freeTCP := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}
	cases := []struct {
		name string
		make func() change
	}{
		{"tcp", func() change {
			addr := freeTCP()
			ch := listenLater("tcp", addr)
			ch.cond = func() waitfor.Condition { return waitfor.TCP(addr) }
			return ch
		}},
		{"unix", func() change {
			path := filepath.Join(b.TempDir(), "s.sock")
			ch := listenLater("unix", path)
			ch.cond = func() waitfor.Condition { return waitfor.Unix(path) }
			return ch
		}},
		{"not-freed", func() change {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := l.Addr().String()
			return change{
				cond: func() waitfor.Condition { return waitfor.Not(waitfor.TCP(addr)) },
				do:   func() { _ = l.Close() },
				undo: func() {},
			}
		}},
		{"all", func() change {
			up, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := freeTCP()
			ch := listenLater("tcp", addr)
			undo := ch.undo
			ch.undo = func() { undo(); _ = up.Close() }
			ch.cond = func() waitfor.Condition {
				return waitfor.All(waitfor.TCP(up.Addr().String()), waitfor.TCP(addr))
			}
			return ch
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			lags := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				ch := tc.make()
				changed := make(chan time.Time, 1)
				timer := time.AfterFunc(10*time.Millisecond+rand.N(50*time.Millisecond), func() {
					ch.do()
					changed <- time.Now()
				})
				err := (&waitfor.Waiter{Timeout: 10 * time.Second}).Wait(context.Background(), ch.cond())
				returned := time.Now()
				timer.Stop()
				if err != nil {
					b.Fatal(err)
				}
				lags = append(lags, returned.Sub(<-changed))
				ch.undo()
			}
			slices.Sort(lags)
			var sum time.Duration
			for _, l := range lags {
				sum += l
			}
			b.ReportMetric(float64(sum)/float64(len(lags))/float64(time.Millisecond), "mean-lag-ms")
			b.ReportMetric(float64(lags[len(lags)-1])/float64(time.Millisecond), "max-lag-ms")
		})
	}
}
