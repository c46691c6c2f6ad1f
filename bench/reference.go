package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// reference is a pgbench script that runs exactly the statements of one
// request of an endpoint, as one transaction: the same SQL text, with the
// same arguments, except those that vary from request to request (the id
// in the path, the names a create sends), which vary the same way.
type reference struct {
	script  string
	defines []string // pgbench -D name=value: the text arguments that do not vary
}

// varying says which arguments of a recorded request vary, and how.
type varying struct {
	// ids maps an id the request used to the pgbench variable and the
	// expression it is drawn from, once per transaction.
	ids map[int64][2]string
	// texts are the request's names (and their keys): each transaction
	// gives them a fresh number.
	texts map[string]bool
	// returned is the id an INSERT … RETURNING id of the request gave,
	// which a later statement reads back.
	returned int64
}

// buildReference turns a recorded request into its pgbench script.
func buildReference(stmts []statement, v varying) (reference, error) {
	if len(stmts) == 0 {
		return reference{}, fmt.Errorf("no statements recorded")
	}
	var ref reference
	var head, body strings.Builder
	vars := make([][2]string, 0, len(v.ids))
	for _, nv := range v.ids {
		vars = append(vars, nv)
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i][0] < vars[j][0] })
	for _, nv := range vars {
		fmt.Fprintf(&head, "\\set %s %s\n", nv[0], nv[1])
	}
	if len(v.texts) > 0 {
		head.WriteString("\\set unique random(1, 9000000000000000000)\n")
	}
	for k, st := range stmts {
		sql := st.sql
		// Highest first, so that $1 does not eat the start of $10.
		for n := len(st.args); n >= 1; n-- {
			name, err := ref.variable(st.args[n-1], fmt.Sprintf("s%da%d", k, n), v, &head)
			if err != nil {
				return reference{}, fmt.Errorf("%s: %w", sql, err)
			}
			sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", n), ":"+name)
		}
		sql = strings.TrimSpace(sql)
		if v.returned != 0 && strings.Contains(sql, "RETURNING id") {
			body.WriteString(sql + " \\gset returned_\n")
		} else {
			body.WriteString(sql + ";\n")
		}
	}
	ref.script = head.String() + body.String()
	return ref, nil
}

// variable is the pgbench variable that gives an argument its value.
func (ref *reference) variable(arg any, name string, v varying, head *strings.Builder) (string, error) {
	switch a := arg.(type) {
	case int64:
		if nv, ok := v.ids[a]; ok {
			return nv[0], nil
		}
		if v.returned != 0 && a == v.returned {
			return "returned_id", nil
		}
		fmt.Fprintf(head, "\\set %s %d\n", name, a)
	case string:
		if v.texts[a] {
			return "unique", nil
		}
		// Arguments whose type PostgreSQL infers arrive as text: an id
		// among them varies as the id does.
		if n, err := strconv.ParseInt(a, 10, 64); err == nil {
			if _, ok := v.ids[n]; ok || (v.returned != 0 && n == v.returned) {
				return ref.variable(n, name, v, head)
			}
		}
		ref.defines = append(ref.defines, name+"="+a)
	case bool:
		ref.defines = append(ref.defines, fmt.Sprintf("%s=%t", name, a))
	default:
		return "", fmt.Errorf("an argument of type %T", arg)
	}
	return name, nil
}

// recordReferences records one request of each compared endpoint through a
// server of its own on the same database and builds the references.
func recordReferences(dbURL, secret, token string, s seeded) (map[string]reference, error) {
	proxy, err := newCaptureProxy(dbURL)
	if err != nil {
		return nil, err
	}
	defer proxy.close()
	// One connection, so the statements of a request arrive in order on it;
	// no workers, so nothing else runs statements meanwhile.
	srv, err := startServer(proxy.url(dbURL), secret, "WORKERS=0", "DB_MAX_OPEN_CONNS=1", "DB_MAX_IDLE_CONNS=1")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	api := &client{base: srv.base, http: &http.Client{Timeout: 10 * time.Second}, token: token}

	firstItem, lastItem := s.itemIDs[0], s.itemIDs[len(s.itemIDs)-1]
	firstStore, lastStore := s.storeIDs[0], s.storeIDs[len(s.storeIDs)-1]
	itemRange := fmt.Sprintf("random(%d, %d)", firstItem, lastItem)
	storeRange := fmt.Sprintf("random(%d, %d)", firstStore, lastStore)
	item, store := s.itemIDs[len(s.itemIDs)/2], s.storeIDs[len(s.storeIDs)/2]
	name := "recorded " + strings.ToLower(secret[:8])
	recordings := []struct {
		endpoint, method, path string
		body                   map[string]any
		status                 int
		vary                   func(out map[string]any) varying
	}{
		{"GET /items/{id}", "GET", fmt.Sprintf("/items/%d", item), nil, http.StatusOK,
			func(map[string]any) varying { return varying{ids: map[int64][2]string{item: {"id", itemRange}}} }},
		{"GET /stores/{id}", "GET", fmt.Sprintf("/stores/%d", store), nil, http.StatusOK,
			func(map[string]any) varying { return varying{ids: map[int64][2]string{store: {"id", storeRange}}} }},
		{"GET /items?per_page=100", "GET", "/items?per_page=100", nil, http.StatusOK,
			func(map[string]any) varying { return varying{} }},
		{"POST /stores", "POST", "/stores", map[string]any{"name": name}, http.StatusCreated,
			func(map[string]any) varying { return varying{texts: map[string]bool{name: true}} }},
		{"POST /items", "POST", "/items", map[string]any{"name": name, "price": 9.99, "store_id": store,
			"description": benchDescription}, http.StatusCreated,
			func(out map[string]any) varying {
				return varying{ids: map[int64][2]string{store: {"store", storeRange}}, texts: map[string]bool{name: true},
					returned: int64(out["id"].(float64))}
			}},
	}
	refs := map[string]reference{}
	for _, r := range recordings {
		// A first request prepares what the server prepares once (its
		// pool's connection); the second is the one recorded.
		if _, err := api.call(r.method, r.path, withName(r.body, name+" warm-up"), r.status); err != nil {
			return nil, err
		}
		proxy.take()
		out, err := api.call(r.method, r.path, r.body, r.status)
		if err != nil {
			return nil, err
		}
		time.Sleep(50 * time.Millisecond) // the relay's last messages
		stmts, err := proxy.take()
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", r.endpoint, err)
		}
		if refs[r.endpoint], err = buildReference(stmts, r.vary(out)); err != nil {
			return nil, fmt.Errorf("%s: %w", r.endpoint, err)
		}
	}
	return refs, nil
}

// withName is a create's body with another name, so the warm-up request
// does not take the recorded one's; reads have no body.
func withName(body map[string]any, name string) map[string]any {
	if body == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range body {
		out[k] = v
	}
	out["name"] = name
	return out
}

// benchDescription is the description of the items the benchmark creates:
// pgbench cannot send a NULL argument, so the created items have one.
const benchDescription = "A seeded item for the benchmark."

// saveReferences writes each reference's script and its -D values to dir
// (BENCH_REFERENCES_DIR), to read or to rerun with pgbench by hand.
func saveReferences(dir string, refs map[string]reference) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for endpoint, ref := range refs {
		file := strings.NewReplacer(" ", "_", "/", "_", "{", "", "}", "", "?", "_", "=", "").Replace(endpoint)
		text := ref.script + "\n-- pgbench -D values:\n-- " + strings.Join(ref.defines, "\n-- ") + "\n"
		if err := os.WriteFile(filepath.Join(dir, file+".sql"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
