package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"stores-api/internal/testdb"
)

// envPgBouncer names a PgBouncer in transaction mode in front of the
// PostgreSQL of TEST_DATABASE_URL (scripts/start-pgbouncer.sh starts one;
// CI sets both).
const envPgBouncer = "TEST_PGBOUNCER_URL"

// pooledURL is directURL with its host and port replaced by PgBouncer's.
func pooledURL(t *testing.T, directURL, bouncer string) string {
	t.Helper()
	d, err := url.Parse(directURL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := url.Parse(bouncer)
	if err != nil {
		t.Fatal(err)
	}
	d.Host = b.Host
	return d.String()
}

// Three processes on one database through PgBouncer in transaction mode:
// the store, item, tag and auth flows work, concurrent creates stay
// unique, refresh tokens rotate once, and 32 clients mixing reads and
// writes get no 5xx.
func TestThroughPgBouncer(t *testing.T) {
	bouncer := os.Getenv(envPgBouncer)
	if bouncer == "" || os.Getenv(testdb.EnvURL) == "" {
		t.Skipf("set %s and %s (scripts/start-pgbouncer.sh) to run the API through PgBouncer", envPgBouncer, testdb.EnvURL)
	}
	direct := testdb.NewURL(t)
	env := map[string]string{
		"DATABASE_URL":        pooledURL(t, direct, bouncer),
		"DATABASE_DIRECT_URL": direct,
		"JWT_SECRET_KEY":      "shared-secret-of-all-replicas-0123456789",
		"DB_MAX_OPEN_CONNS":   "8",
	}
	procs := startReplicas(t, env)
	token := procs[0].adminToken(t)

	t.Run("stores, items and tags", func(t *testing.T) {
		storeID := create(t, procs[0], "/stores", token, map[string]any{"name": "Bouncer"})
		itemID := create(t, procs[1], "/items", token, map[string]any{"name": "Ball", "price": 5.5, "store_id": storeID})
		tagID := create(t, procs[2], fmt.Sprintf("/stores/%d/tags", storeID), token, map[string]any{"name": "Toys"})
		if status, body, err := procs[0].post(fmt.Sprintf("/items/%d/tags", itemID), token,
			map[string]any{"tag_ids": []int64{tagID}}); err != nil || status != http.StatusOK {
			t.Fatalf("link: %d %v %v", status, body, err)
		}
		status, body, err := procs[1].send("GET", fmt.Sprintf("/items/%d", itemID), token, nil)
		if err != nil || status != http.StatusOK || len(body["tags"].([]any)) != 1 {
			t.Fatalf("item: %d %v %v", status, body, err)
		}
		status, body, err = procs[2].send("GET", fmt.Sprintf("/stores/%d", storeID), token, nil)
		if err != nil || status != http.StatusOK || len(body["items"].([]any)) != 1 {
			t.Fatalf("store: %d %v %v", status, body, err)
		}
	})

	t.Run("a refresh token rotates once", func(t *testing.T) {
		creds := map[string]string{"email": "admin@example.com", "password": "correct horse"}
		_, body, err := procs[0].post("/login", "", creds)
		if err != nil {
			t.Fatal(err)
		}
		refresh := body["refresh_token"].(string)
		var ok atomic.Int32
		var wg sync.WaitGroup
		release := make(chan struct{})
		for i := range 9 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-release
				status, body, err := procs[i%3].post("/refresh", refresh, nil)
				switch {
				case err != nil:
					t.Error(err)
				case status == http.StatusOK:
					ok.Add(1)
				case status != http.StatusUnauthorized:
					t.Errorf("refresh: %d %v", status, body)
				}
			}()
		}
		close(release)
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d refreshes succeeded, want 1", ok.Load())
		}
	})

	t.Run("32 clients mixing reads and creates", func(t *testing.T) {
		storeID := create(t, procs[0], "/stores", token, map[string]any{"name": "Busy"})
		itemID := create(t, procs[0], "/items", token, map[string]any{"name": "Seed", "price": 1, "store_id": storeID})
		var failures atomic.Int32
		var wg sync.WaitGroup
		for client := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := procs[client%3]
				for i := range 40 {
					var status int
					var err error
					switch i % 4 {
					case 0:
						status, _, err = p.post("/stores", token, map[string]any{"name": fmt.Sprintf("S-%d-%d", client, i)})
					case 1:
						status, _, err = p.post("/items", token, map[string]any{"name": fmt.Sprintf("I-%d-%d", client, i),
							"price": 2, "store_id": storeID})
					case 2:
						status, _, err = p.send("GET", fmt.Sprintf("/items/%d", itemID), token, nil)
					default:
						status, _, err = p.send("GET", fmt.Sprintf("/stores/%d", storeID), token, nil)
					}
					if err != nil || status >= 500 {
						failures.Add(1)
						t.Errorf("client %d request %d: %d %v", client, i, status, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if failures.Load() > 0 {
			t.Fatalf("%d requests failed; last logs:\n%s", failures.Load(), tail(procs[0].logs.String(), 3000))
		}
	})
}

// create posts body and returns the new id.
func create(t *testing.T, p *serverProcess, path, token string, body map[string]any) int64 {
	t.Helper()
	status, out, err := p.post(path, token, body)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("POST %s: %d %v %v", path, status, out, err)
	}
	return int64(out["id"].(float64))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
