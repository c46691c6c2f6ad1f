// Package apptest holds what the tests of both front ends use to watch the
// app: its log, captured as production writes it, and the claims of the
// tokens it issues.
package apptest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Logs captures what the app logs, as JSON lines. It is safe for the
// server's goroutines to write while a test reads.
type Logs struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	last string // the text All returned last
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Logger writes to l in JSON, as production does, at every level.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Reset forgets what was logged so far.
func (l *Logs) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

// Take returns every line whose msg is msg ("" for every line), and
// forgets the buffer.
func (l *Logs) Take(t testing.TB, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = l.buf.String()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	l.buf.Reset()
	return out
}

// Single expects exactly one line with msg.
func (l *Logs) Single(t testing.TB, msg string) map[string]any {
	t.Helper()
	lines := l.Take(t, msg)
	if len(lines) != 1 {
		t.Fatalf("%d %q log lines, want 1: %v", len(lines), msg, lines)
	}
	return lines[0]
}

// LastContains reports whether the text the last Take read contains s.
func (l *Logs) LastContains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.last, s)
}

// DecodeClaims reads a token's claims without verifying it: the tests look
// at what the app issued.
func DecodeClaims(t testing.TB, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatalf("issued token does not parse: %v", err)
	}
	return claims
}
