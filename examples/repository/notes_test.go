package repository_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/examples/repository"
	"github.com/dockhand/dockhand/lifecycle"
)

// TestMain removes the shared PostgreSQL container when the last test
// process that uses it ends.
func TestMain(m *testing.M) { dockhandtest.Main(m) }

// newStore gives the test a store on a database of its own, migrated.
// The migrations' version is the hash of the schema: change schema.sql
// and the next run builds a new template.
func newStore(t *testing.T) *repository.Store {
	t.Helper()
	sum := sha256.Sum256([]byte(repository.Schema))
	db := dockhandtest.NewPostgres(t,
		dockhandtest.WithImage(postgresImage(t)),
		dockhandtest.WithMigrations(hex.EncodeToString(sum[:8]), repository.Migrate))
	pool, err := pgxpool.New(context.Background(), db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return repository.New(pool)
}

// postgresImage is POSTGRES_IMAGE, or the offline stand-in with
// DOCKHAND_OFFLINE=1, or the public image. Where the public image is not
// on the machine but the stand-in is (this repository's CI, which has no
// registry), it is the stand-in.
func postgresImage(t *testing.T) string {
	if img := os.Getenv("POSTGRES_IMAGE"); img != "" {
		return img
	}
	if os.Getenv("DOCKHAND_OFFLINE") == "1" {
		return standIn
	}
	imageOnce.Do(func() {
		image = dockhandtest.DefaultPostgresImage
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := lifecycle.New(ctx)
		if err != nil {
			return // NewPostgres says why
		}
		defer c.Close()
		if _, err := c.InspectImage(ctx, image); errors.Is(err, lifecycle.ErrNotFound) {
			if _, err := c.InspectImage(ctx, standIn); err == nil {
				image = standIn
			}
		}
	})
	if image == standIn {
		t.Logf("%s is not on this machine: using the stand-in %s", dockhandtest.DefaultPostgresImage, standIn)
	}
	return image
}

const standIn = "dockhand.test/postgres:15"

var (
	imageOnce sync.Once
	image     string
)

func TestAddGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	n, err := s.Add(ctx, "groceries", "milk, bread")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "groceries" || got.Body != "milk, bread" {
		t.Errorf("Get(%d) = %+v, want the note added", n.ID, got)
	}
}

// Every test starts from an empty table, whatever the others (running at
// the same time) add: the same title here and in TestAddGet never clash.
func TestTitleUnique(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Add(ctx, "groceries", "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "groceries", "second"); err == nil {
		t.Error("a second note with the same title was accepted")
	}
}

func TestListEmptyAtStart(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	notes, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("a new test's database has notes: %+v", notes)
	}
}

func TestGetMissing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.Get(context.Background(), 42); !errors.Is(err, repository.ErrNotFound) {
		t.Errorf("Get of a missing note: %v, want ErrNotFound", err)
	}
}
