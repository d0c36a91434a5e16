package waitfor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/dockhand/dockhand/waitfor"
)

func ExampleWait() {
	// A database that starts listening a little later.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	time.AfterFunc(50*time.Millisecond, func() {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			time.AfterFunc(time.Second, func() { _ = l.Close() })
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitfor.Wait(ctx, waitfor.TCP(addr)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("database is up")
	// Output: database is up
}

func ExampleWaiter() {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there

	w := waitfor.Waiter{
		Timeout:        100 * time.Millisecond,
		AttemptTimeout: 50 * time.Millisecond,
		OnAttempt: func(a waitfor.Attempt) {
			// log.Printf("%s: attempt %d: %v", a.Condition, a.N, a.Err)
		},
	}
	err := w.Wait(context.Background(), waitfor.TCP(addr))
	fmt.Println("timed out:", errors.Is(err, context.DeadlineExceeded))
	var werr *waitfor.Error
	if errors.As(err, &werr) {
		for _, p := range werr.Pending {
			fmt.Println("pending:", p.Condition == "tcp://"+addr, p.Attempts > 1)
		}
	}
	// Output:
	// timed out: true
	// pending: true true
}

func ExampleParseTarget() {
	for _, s := range []string{
		"db:5432",
		"postgres://app:s3cret@db:5432/app",
		"redis://:s3cret@cache:6379",
		"file:///run/ready?nonempty=1",
		"tcp://db",
	} {
		c, err := waitfor.ParseTarget(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(c)
	}
	// Output:
	// tcp://db:5432
	// postgres://app:xxxxx@db:5432/app
	// redis://:xxxxx@cache:6379
	// file:///run/ready?nonempty=1
	// error: invalid target "tcp://db": want tcp://host:port
}

func ExampleAll() {
	cond := waitfor.All(
		waitfor.TCP("db:5432"),
		waitfor.Any(waitfor.File("/run/cache/ready"), waitfor.HTTP("http://cache:8080/healthz")),
		waitfor.Not(waitfor.File("/run/migrations.lock")),
	)
	fmt.Println(cond)
	// Output: all(tcp://db:5432, any(file:///run/cache/ready, http://cache:8080/healthz), not(file:///run/migrations.lock))
}

func ExampleNot() {
	// Wait until an old instance has released its port.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	time.AfterFunc(30*time.Millisecond, func() { _ = l.Close() })

	w := waitfor.Waiter{Timeout: 5 * time.Second}
	if err := w.Wait(context.Background(), waitfor.Not(waitfor.TCP(l.Addr().String()))); err != nil {
		log.Fatal(err)
	}
	fmt.Println("port is free")
	// Output: port is free
}
