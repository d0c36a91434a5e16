package compose_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/lifecycle"
)

// Load a compose file with an override and a variable, as docker compose
// would: here without an engine.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "compose-example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`
name: shop
services:
  db:
    image: ${POSTGRES_IMAGE:-postgres:17-alpine}
  web:
    image: nginx:alpine
    depends_on: [db]
`), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "compose.override.yaml"), []byte(`
services:
  web:
    ports: ["127.0.0.1:8080:80"]
`), 0o644)

	p, err := compose.Load(context.Background(), compose.WithWorkingDir(dir),
		compose.WithVariables("POSTGRES_IMAGE=postgres:16"), compose.WithoutOSEnv())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Name, p.Services["db"].Image, p.Services["web"].Ports[0].Published)
	// Output: shop postgres:16 8080
}

// Bring a stack up, wait until every service is running (or healthy, if it
// has a healthcheck), use it, and take it down again.
func ExampleStack_Up() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	st := compose.New(c, p)
	if err := st.Up(ctx, compose.WithBuild(), compose.WithWait(), compose.WithProgress(os.Stdout)); err != nil {
		log.Fatal(err) // names the failing service, with its last log lines
	}
	defer st.Down(ctx, compose.WithRemoveVolumes())

	addr, _ := st.Port(ctx, "db", "5432")
	fmt.Println("database on", addr)
	res, _ := st.Exec(ctx, "db", []string{"pg_isready"})
	fmt.Println("pg_isready exit code", res.ExitCode)
}
