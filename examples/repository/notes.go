// Package repository is a small repository layer, a store of notes in
// PostgreSQL, and its tests show the testing layer (package dockhandtest):
// each test gets a fresh, migrated database of its own in milliseconds,
// on one PostgreSQL container shared by every test and test package.
//
//	go test ./examples/repository/
//	DOCKHAND_OFFLINE=1 go test ./examples/repository/   # on the stand-in image (scripts/test-images)
package repository

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Schema is the store's migration.
//
//go:embed schema.sql
var Schema string

// ErrNotFound is returned for a note that does not exist.
var ErrNotFound = errors.New("note not found")

// Note is one note.
type Note struct {
	ID      int64
	Title   string
	Body    string
	Created time.Time
}

// Store keeps notes in PostgreSQL.
type Store struct{ db *pgxpool.Pool }

// New returns a store on db.
func New(db *pgxpool.Pool) *Store { return &Store{db: db} }

// Migrate creates the store's tables in the database at dsn.
func Migrate(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, Schema)
	return err
}

// Add stores a note and returns it with its id. The title must be unique
// and not empty.
func (s *Store) Add(ctx context.Context, title, body string) (Note, error) {
	if title == "" {
		return Note{}, errors.New("add note: empty title")
	}
	n := Note{Title: title, Body: body}
	err := s.db.QueryRow(ctx, "INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING id, created", title, body).Scan(&n.ID, &n.Created)
	if err != nil {
		return Note{}, fmt.Errorf("add note %q: %w", title, err)
	}
	return n, nil
}

// Get returns the note with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Note, error) {
	n := Note{ID: id}
	err := s.db.QueryRow(ctx, "SELECT title, body, created FROM notes WHERE id = $1", id).Scan(&n.Title, &n.Body, &n.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return Note{}, fmt.Errorf("note %d: %w", id, ErrNotFound)
	}
	return n, err
}

// List returns every note, oldest first.
func (s *Store) List(ctx context.Context) ([]Note, error) {
	rows, err := s.db.Query(ctx, "SELECT id, title, body, created FROM notes ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) {
		var n Note
		err := r.Scan(&n.ID, &n.Title, &n.Body, &n.Created)
		return n, err
	})
}
