package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Note is one note, as stored and as sent.
type Note struct {
	ID      int64     `json:"id"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
	Created time.Time `json:"created"`
}

type server struct {
	db    *pgxpool.Pool
	cache *redis.Client
	log   *slog.Logger
	ttl   time.Duration
}

const schema = `CREATE TABLE IF NOT EXISTS notes (
	id         bigserial PRIMARY KEY,
	title      text NOT NULL,
	body       text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
)`

func (s *server) migrate(ctx context.Context) error {
	_, err := s.db.Exec(ctx, schema)
	return err
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("GET /notes", s.list)
	mux.HandleFunc("POST /notes", s.create)
	mux.HandleFunc("GET /notes/{id}", s.get)
	mux.HandleFunc("DELETE /notes/{id}", s.delete)
	return mux
}

// health answers 200 only when both backing services answer.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, code := map[string]string{"postgres": "ok", "redis": "ok"}, http.StatusOK
	if err := s.db.Ping(ctx); err != nil {
		status["postgres"], code = err.Error(), http.StatusServiceUnavailable
	}
	if err := s.cache.Ping(ctx).Err(); err != nil {
		status["redis"], code = err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, code, status)
}

const listKey = "notes:all"

func noteKey(id int64) string { return "notes:" + strconv.FormatInt(id, 10) }

func (s *server) list(w http.ResponseWriter, r *http.Request) {
	s.cached(w, r, listKey, func(ctx context.Context) (any, error) {
		rows, err := s.db.Query(ctx, `SELECT id, title, body, created_at FROM notes ORDER BY id`)
		if err != nil {
			return nil, err
		}
		notes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Note])
		if notes == nil {
			notes = []Note{}
		}
		return notes, err
	})
}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid note id %q: want a number", r.PathValue("id")))
		return
	}
	s.cached(w, r, noteKey(id), func(ctx context.Context) (any, error) {
		var n Note
		err := s.db.QueryRow(ctx, `SELECT id, title, body, created_at FROM notes WHERE id = $1`, id).
			Scan(&n.ID, &n.Title, &n.Body, &n.Created)
		return n, err
	})
}

func (s *server) create(w http.ResponseWriter, r *http.Request) {
	var in struct{ Title, Body string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid note: %v", err))
		return
	}
	if strings.TrimSpace(in.Title) == "" {
		writeError(w, http.StatusBadRequest, errors.New("invalid note: title is empty"))
		return
	}
	n := Note{Title: in.Title, Body: in.Body}
	err := s.db.QueryRow(r.Context(), `INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING id, created_at`,
		n.Title, n.Body).Scan(&n.ID, &n.Created)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.forget(r.Context(), listKey)
	w.Header().Set("Location", "/notes/"+strconv.FormatInt(n.ID, 10))
	writeJSON(w, http.StatusCreated, n)
}

func (s *server) delete(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid note id %q: want a number", r.PathValue("id")))
		return
	}
	tag, err := s.db.Exec(r.Context(), `DELETE FROM notes WHERE id = $1`, id)
	if err != nil {
		s.fail(w, err)
		return
	}
	if tag.RowsAffected() == 0 {
		writeError(w, http.StatusNotFound, fmt.Errorf("note %d not found", id))
		return
	}
	s.forget(r.Context(), listKey, noteKey(id))
	w.WriteHeader(http.StatusNoContent)
}

// cached answers from Redis when it has key, and otherwise loads the
// answer from the database and keeps it in Redis for s.ttl. A cache that
// is down slows reads down but does not break them.
func (s *server) cached(w http.ResponseWriter, r *http.Request, key string, load func(context.Context) (any, error)) {
	ctx := r.Context()
	if b, err := s.cache.Get(ctx, key).Bytes(); err == nil {
		w.Header().Set("X-Cache", "hit")
		writeRaw(w, http.StatusOK, b)
		return
	} else if !errors.Is(err, redis.Nil) {
		s.log.Warn("cache read failed", "key", key, "err", err)
	}
	v, err := load(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := s.cache.Set(ctx, key, b, s.ttl).Err(); err != nil {
		s.log.Warn("cache write failed", "key", key, "err", err)
	}
	w.Header().Set("X-Cache", "miss")
	writeRaw(w, http.StatusOK, b)
}

// forget drops cache entries that a write made stale.
func (s *server) forget(ctx context.Context, keys ...string) {
	if err := s.cache.Del(ctx, keys...).Err(); err != nil {
		s.log.Warn("cache invalidation failed", "keys", keys, "err", err)
	}
}

func (s *server) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, pgx.ErrNoRows) {
		writeError(w, http.StatusNotFound, errors.New("note not found"))
		return
	}
	s.log.Error("request failed", "err", err)
	writeError(w, http.StatusInternalServerError, errors.New("internal error"))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	writeRaw(w, code, b)
}

func writeRaw(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
