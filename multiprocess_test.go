package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"stores-api/internal/testdb"
)

// Several processes on one database, as replicas behind a load balancer:
// a token revoked through one is refused by the others, and a unique name
// created at once through all of them is created exactly once. On
// PostgreSQL when TEST_DATABASE_URL is set (CI), else on one SQLite file.
func TestSeveralProcessesOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	env := map[string]string{
		"DATABASE_URL":   testdb.NewURL(t),
		"JWT_SECRET_KEY": "shared-secret-of-all-replicas-0123456789",
	}
	procs := startReplicas(t, env)

	t.Run("a revoked token is refused everywhere", func(t *testing.T) {
		creds := map[string]string{"email": "admin@example.com", "password": "correct horse"}
		if status, body, err := procs[0].send("POST", "/register", "", creds); err != nil || status != http.StatusCreated {
			t.Fatalf("register: %d %v %v", status, body, err)
		}
		status, body, err := procs[1].send("POST", "/login", "", creds)
		if err != nil || status != http.StatusOK {
			t.Fatalf("login: %d %v %v", status, body, err)
		}
		access, refresh := body["access_token"].(string), body["refresh_token"].(string)
		for i, p := range procs {
			if status, body, err := p.send("GET", "/stores", access, nil); err != nil || status != http.StatusOK {
				t.Fatalf("instance %d before logout: %d %v %v", i, status, body, err)
			}
		}
		status, body, err = procs[2].send("POST", "/logout", access, map[string]string{"refresh_token": refresh})
		if err != nil || status != http.StatusOK {
			t.Fatalf("logout: %d %v %v", status, body, err)
		}
		for i, p := range procs {
			status, body, err := p.send("GET", "/stores", access, nil)
			if err != nil || status != http.StatusUnauthorized || body["error"] != "token_revoked" {
				t.Errorf("instance %d, access token after logout: %d %v %v", i, status, body, err)
			}
			status, body, err = p.send("POST", "/refresh", refresh, nil)
			if err != nil || status != http.StatusUnauthorized || body["error"] != "token_revoked" {
				t.Errorf("instance %d, refresh token after logout: %d %v %v", i, status, body, err)
			}
		}
	})

	t.Run("unique names stay unique", func(t *testing.T) {
		token := loginAdmin(t, procs[0])
		const rounds, perInstance = 5, 4
		for round := range rounds {
			name := fmt.Sprintf("Contested %d", round)
			statuses := make(chan int, len(procs)*perInstance)
			var wg sync.WaitGroup
			for _, p := range procs {
				for range perInstance {
					wg.Add(1)
					go func() {
						defer wg.Done()
						status, body, err := p.send("POST", "/stores", token, map[string]string{"name": name})
						if err != nil {
							t.Errorf("%s: %v", p.base, err)
						}
						if status != http.StatusCreated && status != http.StatusConflict {
							t.Errorf("%s: %d %v", p.base, status, body)
						}
						statuses <- status
					}()
				}
			}
			wg.Wait()
			close(statuses)
			created := 0
			for s := range statuses {
				if s == http.StatusCreated {
					created++
				}
			}
			if created != 1 {
				t.Errorf("%q was created %d times, want exactly once", name, created)
			}
		}
		// And through every instance, each name is there once.
		names := procs[1].storeNames(t, token)
		for round := range rounds {
			if !names[fmt.Sprintf("Contested %d", round)] {
				t.Errorf("Contested %d is missing", round)
			}
		}
	})

	t.Run("a new email registers once", func(t *testing.T) {
		creds := map[string]string{"email": "race@example.com", "password": "correct horse"}
		statuses := make(chan int, 3*len(procs))
		var wg sync.WaitGroup
		for _, p := range procs {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, _, err := p.send("POST", "/register", "", creds)
					if err != nil {
						t.Error(err)
					}
					statuses <- status
				}()
			}
		}
		wg.Wait()
		close(statuses)
		created := 0
		for s := range statuses {
			switch s {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
			default:
				t.Errorf("register answered %d", s)
			}
		}
		if created != 1 {
			t.Errorf("registered %d times, want once", created)
		}
	})
}

// startReplicas runs three servers on env's database, as replicas: the
// first one alone, so that it migrates the database before the others
// start.
func startReplicas(t *testing.T, env map[string]string) []*serverProcess {
	t.Helper()
	first := startServer(t, env)
	return []*serverProcess{first, startServer(t, env), startServer(t, env)}
}

// loginAdmin logs the (already registered) admin in.
func loginAdmin(t *testing.T, p *serverProcess) string {
	t.Helper()
	creds := map[string]string{"email": "admin@example.com", "password": "correct horse"}
	status, body, err := p.send("POST", "/login", "", creds)
	if err != nil || status != http.StatusOK {
		t.Fatalf("login: %d %v %v", status, body, err)
	}
	return body["access_token"].(string)
}
