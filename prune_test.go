package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// TestPruneEvery: the background pruner runs every pruner on its ticker,
// goes on past one that fails, and stops with its context.
func TestPruneEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int64
	done := make(chan struct{})
	go func() {
		pruneEvery(ctx, 5*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)), map[string]pruner{
			"counted": func(context.Context, time.Time) (int64, error) { runs.Add(1); return 1, nil },
			"failing": func(context.Context, time.Time) (int64, error) { return 0, context.DeadlineExceeded },
		})
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the pruner ran %d times in 5s", runs.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pruneEvery did not return after its context ended")
	}
}
