package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envFrom turns a map into the getenv run takes.
func envFrom(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// freeLoopbackPort returns a port nothing listens on right now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// portOf is the port of an httptest server.
func portOf(t *testing.T, srv *httptest.Server) int {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// The image's HEALTHCHECK in miniature: "stores-api" serves, and
// "stores-api healthcheck", run as a second process with the same PORT,
// reports it healthy; after shutdown it reports it unhealthy.
func TestHealthcheckCommandProbesServe(t *testing.T) {
	port := strconv.Itoa(freeLoopbackPort(t))
	serveVars := map[string]string{
		"HOST":         "127.0.0.1",
		"PORT":         port,
		"DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "data.db"),
		"BCRYPT_COST":  "4",
	}
	// The probe gets a database it could never reach: it must not need one.
	probeVars := map[string]string{
		"HOST":         "0.0.0.0",
		"PORT":         port,
		"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
	}
	probe := func() error {
		return run(context.Background(), []string{"healthcheck"}, envFrom(probeVars), io.Discard)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- run(ctx, nil, envFrom(serveVars), io.Discard) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		err := probe()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck still failing after the server had 20s to start: %v", err)
		}
		select {
		case err := <-served:
			t.Fatalf("serve stopped before it was healthy: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}

	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve after shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context was cancelled")
	}
	if err := probe(); err == nil {
		t.Fatal("healthcheck passed with the server stopped")
	}
}

func TestHealthcheckFailsUnless200(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	err := run(context.Background(), []string{"healthcheck"}, envFrom(map[string]string{"PORT": strconv.Itoa(portOf(t, srv))}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("healthcheck against a 503 returned %v, want an error naming 503", err)
	}
}

func TestHealthcheckFailsWhenNothingListens(t *testing.T) {
	port := freeLoopbackPort(t)
	err := run(context.Background(), []string{"healthcheck"}, envFrom(map[string]string{"PORT": strconv.Itoa(port)}), io.Discard)
	if err == nil {
		t.Fatal("healthcheck passed with nothing listening")
	}
}

// A server that accepts the connection but never answers must fail the
// probe when its timeout runs out, not hang it.
func TestHealthcheckGivesUpOnHungServer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	start := time.Now()
	err := healthcheck(context.Background(), "127.0.0.1", portOf(t, srv), 300*time.Millisecond)
	if err == nil {
		t.Fatal("healthcheck passed against a server that never answered")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("healthcheck took %s with a 300ms timeout", elapsed)
	}
}

func TestProbeHost(t *testing.T) {
	cases := map[string]string{
		"":          "127.0.0.1",
		"0.0.0.0":   "127.0.0.1",
		"::":        "127.0.0.1",
		"127.0.0.1": "127.0.0.1",
		"localhost": "localhost",
		"10.1.2.3":  "10.1.2.3",
	}
	for host, want := range cases {
		if got := probeHost(host); got != want {
			t.Errorf("probeHost(%q) = %q, want %q", host, got, want)
		}
	}
}
