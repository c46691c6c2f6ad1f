package main

// Docker cannot run in CI, so these tests keep Dockerfile,
// docker-compose.yml and .env.example honest by reading them: the compose
// file loads and wires api to a healthy PostgreSQL, every variable they set
// or document is one the config package reads (with its real default), and
// the Dockerfile builds this module the way CI does.

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"stores-api/config"
	"stores-api/models"
)

// containerPort is where the image listens (ENV PORT, EXPOSE) and what
// compose publishes as localhost:5000.
const containerPort = "80"

// envVarName is the shape of an environment variable name.
var envVarName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// configVariables lists the variables the config package reads, found in
// its source: every call whose first argument is a string literal shaped
// like a variable name (r.str("HOST", …), r.getenv("JWT_SECRET_KEY")).
// Deriving the list keeps this test in step when a variable is added.
func configVariables(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("config", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if name, err := strconv.Unquote(lit.Value); err == nil && envVarName.MatchString(name) {
				seen[name] = true
			}
			return true
		})
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)

	// The variables the project promises: if the scan misses one, the scan
	// is broken, not the config.
	for _, want := range []string{
		"APP_ENV", "HOST", "PORT", "DATABASE_URL", "DB_MAX_OPEN_CONNS", "DB_MAX_IDLE_CONNS",
		"DB_CONN_MAX_LIFETIME", "JWT_SECRET_KEY", "JWT_ACCESS_TTL", "JWT_REFRESH_TTL", "BCRYPT_COST",
		"ADMIN_EMAILS", "AUTH_RATE_LIMIT", "CORS_ORIGINS", "TRUSTED_PROXIES", "METRICS_ENABLED", "LOG_LEVEL",
	} {
		if !seen[want] {
			t.Fatalf("config/*.go does not read %s (found %v)", want, names)
		}
	}
	return names
}

// ---- docker-compose.yml ----------------------------------------------------

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       any                          `yaml:"build"`
	Ports       []string                     `yaml:"ports"`
	Expose      []string                     `yaml:"expose"`
	EnvFile     any                          `yaml:"env_file"`
	Environment any                          `yaml:"environment"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
	Volumes     []string                     `yaml:"volumes"`
	Healthcheck struct {
		Test    any  `yaml:"test"`
		Disable bool `yaml:"disable"`
	} `yaml:"healthcheck"`
	Restart     string   `yaml:"restart"`
	NetworkMode string   `yaml:"network_mode"`
	Profiles    []string `yaml:"profiles"`
	Command     any      `yaml:"command"`
	// Networks is a list of names or a map of name to settings.
	Networks any `yaml:"networks"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// env reads environment in either compose form: a map or a KEY=VALUE list.
func (s composeService) env(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			if v == nil {
				out[k] = ""
			} else {
				out[k] = strings.TrimSpace(toString(v))
			}
		}
	case []any:
		for _, item := range e {
			k, v, _ := strings.Cut(toString(item), "=")
			out[k] = v
		}
	default:
		t.Fatalf("environment has an unexpected shape: %#v", e)
	}
	return out
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// healthcheckTest flattens the test of a healthcheck, string or list.
func (s composeService) healthcheckTest() []string { return composeList(s.Healthcheck.Test) }

// composeList flattens a value compose takes as a string or a list
// (command, healthcheck test).
func composeList(value any) []string {
	switch v := value.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			out = append(out, toString(item))
		}
		return out
	}
	return nil
}

// flagValue returns the value after flag in args ("-d", "stores").
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// interpolate replaces compose's ${VAR}, ${VAR:-default} and ${VAR:?error}
// with what vars holds, as docker compose does with the shell and .env.
func interpolate(t *testing.T, value string, vars map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}`)
	return re.ReplaceAllStringFunc(value, func(m string) string {
		parts := re.FindStringSubmatch(m)
		name, op, def := parts[1], parts[2], parts[3]
		if v, ok := vars[name]; ok {
			return v
		}
		if op == ":-" || op == "-" {
			return def // ${NAME:-default}, as compose does when .env leaves NAME unset
		}
		t.Fatalf("compose interpolates ${%s}; give the test a value for it", name)
		return ""
	})
}

func TestComposeFile(t *testing.T) {
	c := loadCompose(t)
	api, ok := c.Services["api"]
	if !ok {
		t.Fatal("no api service")
	}
	db, ok := c.Services["db"]
	if !ok {
		t.Fatal("no db service")
	}
	vars := configVariables(t)

	// db: the official image, data in a named volume, a real healthcheck.
	if !strings.HasPrefix(db.Image, "postgres:") {
		t.Errorf("db image = %q, want the official postgres image", db.Image)
	}
	dbEnv := db.env(t)
	if dbEnv["POSTGRES_PASSWORD"] == "" || dbEnv["POSTGRES_DB"] == "" {
		t.Errorf("db must set POSTGRES_PASSWORD and POSTGRES_DB, has %v", dbEnv)
	}
	dbUser := cmpOr(dbEnv["POSTGRES_USER"], "postgres")
	mountsNamedVolume := false
	for _, v := range db.Volumes {
		source, target, _ := strings.Cut(v, ":")
		if _, named := c.Volumes[source]; named && strings.HasPrefix(target, "/var/lib/postgresql") {
			mountsNamedVolume = true
		}
	}
	if !mountsNamedVolume {
		t.Errorf("db volumes %v: want a named volume (declared under volumes:) on /var/lib/postgresql/data", db.Volumes)
	}
	check := db.healthcheckTest()
	if !slices.Contains(check, "pg_isready") {
		t.Errorf("db healthcheck %v does not run pg_isready", check)
	}
	if got := flagValue(check, "-d"); got != dbEnv["POSTGRES_DB"] {
		t.Errorf("pg_isready checks database %q, the service creates %q", got, dbEnv["POSTGRES_DB"])
	}
	if got := flagValue(check, "-U"); got != dbUser {
		t.Errorf("pg_isready checks as user %q, want %q", got, dbUser)
	}

	// api: built from this directory, started once db is healthy, on
	// localhost:5000.
	if api.Build != "." && !reflect.DeepEqual(api.Build, map[string]any{"context": "."}) {
		t.Errorf("api build = %v, want .", api.Build)
	}
	if dep, ok := api.DependsOn["db"]; !ok || dep.Condition != "service_healthy" {
		t.Errorf("api depends_on = %v, want db with condition service_healthy", api.DependsOn)
	}
	if !slices.Contains(api.Ports, "5000:"+containerPort) {
		t.Errorf("api ports = %v, want 5000:%s", api.Ports, containerPort)
	}
	if api.Restart == "" || api.Restart == "no" {
		t.Errorf("api restart = %q, want a restart policy", api.Restart)
	}
	// .env is optional: compose must start without one.
	envFiles, _ := api.EnvFile.([]any)
	optionalDotEnv := false
	for _, f := range envFiles {
		if m, ok := f.(map[string]any); ok && m["path"] == ".env" && m["required"] == false {
			optionalDotEnv = true
		}
	}
	if !optionalDotEnv {
		t.Errorf("api env_file = %v, want [{path: .env, required: false}]", api.EnvFile)
	}

	apiEnv := api.env(t)
	for name := range apiEnv {
		if !slices.Contains(vars, name) {
			t.Errorf("api environment sets %s, which the config package does not read", name)
		}
	}

	// DATABASE_URL reaches the db service with the credentials it creates.
	rawURL := apiEnv["DATABASE_URL"]
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("DATABASE_URL %q: %v", rawURL, err)
	}
	if target, err := models.ParseURL(rawURL); err != nil || target.Dialect != models.Postgres {
		t.Errorf("DATABASE_URL %q is not a PostgreSQL URL: %v", rawURL, err)
	}
	if u.Hostname() != "db" {
		t.Errorf("DATABASE_URL host = %q, want the db service", u.Hostname())
	}
	password, _ := u.User.Password()
	if u.User.Username() != dbUser || password != dbEnv["POSTGRES_PASSWORD"] || strings.TrimPrefix(u.Path, "/") != dbEnv["POSTGRES_DB"] {
		t.Errorf("DATABASE_URL %q does not match the db service's user, password and database", rawURL)
	}

	// What the container gets (image ENV, then compose's environment) is a
	// configuration the service starts with, listening where it is published.
	effective := dockerfileStages(t).final().env()
	for k, v := range apiEnv {
		effective[k] = interpolate(t, v, map[string]string{"JWT_SECRET_KEY": strings.Repeat("k", 32)})
	}
	cfg, err := config.Load(func(k string) string { return effective[k] })
	if err != nil {
		t.Fatalf("the container's configuration does not load: %v", err)
	}
	if strconv.Itoa(cfg.Port) != containerPort || cfg.Host != "0.0.0.0" {
		t.Errorf("the container listens on %s, compose publishes port %s", cfg.Addr(), containerPort)
	}
	if !cfg.Production() {
		t.Errorf("the container runs with APP_ENV=%s, want production", cfg.Env)
	}

	// Metrics have a listener of their own, reachable on the compose
	// network and not published on the host.
	_, metricsPort, err := net.SplitHostPort(cfg.MetricsAddr)
	if err != nil || !slices.Contains(api.Expose, metricsPort) {
		t.Errorf("METRICS_ADDR = %q, expose = %v: want the metrics port exposed to the compose network", cfg.MetricsAddr, api.Expose)
	}
	for _, p := range api.Ports {
		if strings.HasSuffix(p, ":"+metricsPort) {
			t.Errorf("api publishes the metrics port on the host: %s", p)
		}
	}
}

// Mailpit catches the API's emails: it shares the api service's network,
// so the API reaches its SMTP port on loopback (no STARTTLS needed there),
// and its web UI is published through the api service.
func TestComposeMailpit(t *testing.T) {
	c := loadCompose(t)
	mailpit, ok := c.Services["mailpit"]
	if !ok {
		t.Fatal("no mailpit service")
	}
	if !strings.HasPrefix(mailpit.Image, "axllent/mailpit") {
		t.Errorf("mailpit image = %q", mailpit.Image)
	}
	if mailpit.NetworkMode != "service:api" {
		t.Errorf("mailpit network_mode = %q, want service:api", mailpit.NetworkMode)
	}
	api := c.Services["api"]
	if !slices.Contains(api.Ports, "8025:8025") {
		t.Errorf("api ports = %v, want Mailpit's UI published as 8025:8025", api.Ports)
	}
	effective := dockerfileStages(t).final().env()
	for k, v := range api.env(t) {
		effective[k] = interpolate(t, v, map[string]string{"JWT_SECRET_KEY": strings.Repeat("k", 32)})
	}
	cfg, err := config.Load(func(k string) string { return effective[k] })
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cfg.MailURL)
	if err != nil || u.Scheme != "smtp" || u.Hostname() != "127.0.0.1" || u.Port() != "1025" {
		t.Errorf("MAIL_URL = %q, want smtp://127.0.0.1:1025", cfg.MailURL)
	}
	if cfg.PublicURL != "http://localhost:5000" {
		t.Errorf("PUBLIC_URL = %q, want the published address", cfg.PublicURL)
	}
}

// ---- docker-compose.yml: the scale profile ----------------------------------

// scaleProfile is the profile of the replicas stack: three API replicas
// behind nginx, a worker, PgBouncer and Redis.
const scaleProfile = "scale"

// dotEnv stands in for .env when compose interpolates the file: only what
// the file must have.
var dotEnv = map[string]string{"JWT_SECRET_KEY": strings.Repeat("k", 32)}

// containerConfig is the configuration a service's container starts with:
// the image's ENV, then the service's environment, interpolated with vars.
func containerConfig(t *testing.T, name string, s composeService, vars map[string]string) config.Config {
	t.Helper()
	effective := dockerfileStages(t).final().env()
	for k, v := range s.env(t) {
		effective[k] = interpolate(t, v, vars)
	}
	cfg, err := config.Load(func(k string) string { return effective[k] })
	if err != nil {
		t.Fatalf("%s: the container's configuration does not load: %v", name, err)
	}
	return cfg
}

// networkSettings reads networks in either compose form, a list of names
// or a map of name to settings; a service without any is on default.
func (s composeService) networkSettings(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	switch n := s.Networks.(type) {
	case nil:
		out["default"] = nil
	case []any:
		for _, name := range n {
			out[toString(name)] = nil
		}
	case map[string]any:
		for name, settings := range n {
			m, _ := settings.(map[string]any)
			out[name] = m
		}
	default:
		t.Fatalf("networks has an unexpected shape: %#v", n)
	}
	return out
}

// nginxUpstream returns the host:port servers of the upstream nginx.conf
// proxies to.
func nginxUpstream(t *testing.T, conf string) []string {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(conf, "\n") {
		line, _, _ = strings.Cut(line, "#")
		lines = append(lines, line)
	}
	conf = strings.Join(lines, "\n")
	pass := regexp.MustCompile(`proxy_pass\s+http://([A-Za-z0-9_.-]+)\s*;`).FindAllStringSubmatch(conf, -1)
	if len(pass) != 1 {
		t.Fatalf("nginx.conf has %d proxy_pass http://NAME; lines, want one", len(pass))
	}
	name := pass[0][1]
	block := regexp.MustCompile(`upstream\s+` + regexp.QuoteMeta(name) + `\s*\{([^}]*)\}`).FindStringSubmatch(conf)
	if block == nil {
		t.Fatalf("nginx.conf proxies to http://%s but has no upstream %s block", name, name)
	}
	var servers []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server\s+(\S+?)(?:\s[^;]*)?;`).FindAllStringSubmatch(block[1], -1) {
		servers = append(servers, m[1])
	}
	return servers
}

// trusts reports whether a TRUSTED_PROXIES list (IPs or CIDRs) covers addr.
func trusts(trusted []string, addr netip.Addr) bool {
	for _, entry := range trusted {
		if p, err := netip.ParsePrefix(entry); err == nil && p.Contains(addr) {
			return true
		}
		if a, err := netip.ParseAddr(entry); err == nil && a == addr {
			return true
		}
	}
	return false
}

// `docker compose --profile scale up` runs three replicas behind nginx,
// each trusting nginx's address and going through PgBouncer (migrations
// straight to db), a worker for the jobs they queue, PgBouncer in
// transaction mode and Redis for the shared rate limit; plain `docker
// compose up` still runs api, db and mailpit only.
func TestComposeScaleProfile(t *testing.T) {
	c := loadCompose(t)
	final := dockerfileStages(t).final()
	vars := configVariables(t)

	var always []string
	for name, s := range c.Services {
		switch {
		case len(s.Profiles) == 0:
			always = append(always, name)
		case !reflect.DeepEqual(s.Profiles, []string{scaleProfile}):
			t.Errorf("%s profiles = %v, want [%s]", name, s.Profiles, scaleProfile)
		}
	}
	slices.Sort(always)
	if !reflect.DeepEqual(always, []string{"api", "db", "mailpit"}) {
		t.Errorf("services without a profile (docker compose up) = %v, want api, db and mailpit", always)
	}
	service := func(name string) composeService {
		t.Helper()
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if !slices.Contains(s.Profiles, scaleProfile) {
			t.Errorf("%s is not in the %s profile (profiles %v)", name, scaleProfile, s.Profiles)
		}
		return s
	}

	// The db service's credentials, which every URL below must use.
	dbEnv := c.Services["db"].env(t)
	dbUser, dbPassword, dbName := cmpOr(dbEnv["POSTGRES_USER"], "postgres"), dbEnv["POSTGRES_PASSWORD"], dbEnv["POSTGRES_DB"]
	checkURL := func(what, raw, host, port string) {
		t.Helper()
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("%s %q: %v", what, raw, err)
			return
		}
		password, _ := u.User.Password()
		if u.Hostname() != host || cmpOr(u.Port(), "5432") != port {
			t.Errorf("%s %q: want host %s, port %s", what, raw, host, port)
		}
		if u.User.Username() != dbUser || password != dbPassword || strings.TrimPrefix(u.Path, "/") != dbName {
			t.Errorf("%s %q does not match the db service's user, password and database", what, raw)
		}
	}

	// PgBouncer: transaction mode, logging in to db as the replicas do,
	// with the password authentication of the postgres image.
	pgbouncer := service("pgbouncer")
	if !strings.HasPrefix(pgbouncer.Image, "edoburu/pgbouncer:") {
		t.Fatalf("pgbouncer image = %q; this test knows edoburu/pgbouncer's variables", pgbouncer.Image)
	}
	pgEnv := pgbouncer.env(t)
	if pgEnv["POOL_MODE"] != "transaction" {
		t.Errorf("pgbouncer POOL_MODE = %q, want transaction", pgEnv["POOL_MODE"])
	}
	if pgEnv["AUTH_TYPE"] != "scram-sha-256" {
		t.Errorf("pgbouncer AUTH_TYPE = %q, want scram-sha-256, the postgres image's password authentication", pgEnv["AUTH_TYPE"])
	}
	pgPort := cmpOr(pgEnv["LISTEN_PORT"], "5432")
	checkURL("pgbouncer DATABASE_URL", pgEnv["DATABASE_URL"], "db", "5432")
	if strings.Contains(pgEnv["DATABASE_URL"], "?") {
		t.Errorf("pgbouncer DATABASE_URL %q has a query: the image's entrypoint would take it into the database name", pgEnv["DATABASE_URL"])
	}
	check := pgbouncer.healthcheckTest()
	if !slices.Contains(check, "pg_isready") || flagValue(check, "-p") != pgPort || flagValue(check, "-d") != dbName {
		t.Errorf("pgbouncer healthcheck %v: want pg_isready on port %s, database %s", check, pgPort, dbName)
	}
	if dep := pgbouncer.DependsOn["db"]; dep.Condition != "service_healthy" {
		t.Errorf("pgbouncer depends_on = %v, want db healthy", pgbouncer.DependsOn)
	}

	// Redis: counters only, nothing persisted.
	redis := service("redis")
	if !strings.HasPrefix(redis.Image, "redis:") {
		t.Errorf("redis image = %q, want the official redis image", redis.Image)
	}
	if check := redis.healthcheckTest(); !slices.Contains(check, "redis-cli") || !slices.Contains(check, "ping") {
		t.Errorf("redis healthcheck %v, want redis-cli ping", check)
	}
	if cmd := composeList(redis.Command); flagValue(cmd, "--save") != "" || flagValue(cmd, "--appendonly") != "no" || !slices.Contains(cmd, "--save") {
		t.Errorf(`redis command %q, want --save "" --appendonly no`, cmd)
	}

	// nginx: its configuration from the repository, published on 8080,
	// on a fixed address of a network with a fixed subnet.
	lb := service("lb")
	if !strings.HasPrefix(lb.Image, "nginx:") {
		t.Errorf("lb image = %q, want the official nginx image", lb.Image)
	}
	confPath := ""
	for _, v := range lb.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) == 3 && parts[1] == "/etc/nginx/nginx.conf" && parts[2] == "ro" {
			confPath = parts[0]
		}
	}
	if !strings.HasPrefix(confPath, "./deploy/") {
		t.Fatalf("lb volumes %v: want ./deploy/….conf mounted read-only on /etc/nginx/nginx.conf", lb.Volumes)
	}
	conf, err := os.ReadFile(filepath.FromSlash(confPath))
	if err != nil {
		t.Fatalf("lb mounts %s: %v", confPath, err)
	}
	for _, want := range []string{
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
		"proxy_set_header Host ", "proxy_set_header X-Forwarded-Proto ", "proxy_set_header X-Request-ID ",
		"proxy_http_version 1.1;", `proxy_set_header Connection "";`, "keepalive ",
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("%s does not contain %q", confPath, want)
		}
	}
	if len(lb.Ports) != 1 || !strings.HasSuffix(lb.Ports[0], ":80") {
		t.Fatalf("lb ports = %v, want one HOST:80", lb.Ports)
	}
	publicURL := "http://localhost:" + strings.TrimSuffix(lb.Ports[0], ":80")
	if publicURL != "http://localhost:8080" {
		t.Errorf("lb publishes %s, want localhost:8080", lb.Ports[0])
	}
	if check := lb.healthcheckTest(); !slices.Contains(check, "wget") || !slices.Contains(check, "http://127.0.0.1/healthz") {
		t.Errorf("lb healthcheck %v, want busybox wget of /healthz", check)
	}
	var lbNetwork string
	var lbAddr netip.Addr
	for name, settings := range lb.networkSettings(t) {
		if a, err := netip.ParseAddr(toString(settings["ipv4_address"])); err == nil {
			lbNetwork, lbAddr = name, a
		}
	}
	if lbNetwork == "" {
		t.Fatalf("lb networks %v: want a fixed ipv4_address, for TRUSTED_PROXIES", lb.Networks)
	}
	subnets := c.Networks[lbNetwork].IPAM.Config
	if len(subnets) != 1 {
		t.Fatalf("network %s: want one ipam subnet, has %v", lbNetwork, subnets)
	}
	if p, err := netip.ParsePrefix(subnets[0].Subnet); err != nil || !p.Contains(lbAddr) {
		t.Errorf("lb address %s is not in network %s's subnet %q", lbAddr, lbNetwork, subnets[0].Subnet)
	}

	// The replicas are the upstream servers: each listens where nginx
	// sends, queues jobs only, goes through PgBouncer with migrations
	// straight to db, shares Redis, and trusts nginx's address.
	upstream := nginxUpstream(t, string(conf))
	if len(upstream) != 3 {
		t.Fatalf("%s upstream = %v, want the three replicas", confPath, upstream)
	}
	var replicas []string
	var first config.Config
	for _, server := range upstream {
		host, port, err := net.SplitHostPort(server)
		if err != nil {
			t.Fatalf("upstream server %q: %v", server, err)
		}
		replicas = append(replicas, host)
		s := service(host)
		if s.Build != "." && !reflect.DeepEqual(s.Build, map[string]any{"context": "."}) {
			t.Errorf("%s build = %v, want . (this image)", host, s.Build)
		}
		for name := range s.env(t) {
			if !slices.Contains(vars, name) {
				t.Errorf("%s environment sets %s, which the config package does not read", host, name)
			}
		}
		cfg := containerConfig(t, host, s, dotEnv)
		if strconv.Itoa(cfg.Port) != port || cfg.Host != "0.0.0.0" {
			t.Errorf("%s listens on %s, nginx sends to %s", host, cfg.Addr(), server)
		}
		if !cfg.Production() || cfg.Workers != 0 {
			t.Errorf("%s: APP_ENV=%s WORKERS=%d, want production with 0 (the worker works the jobs)", host, cfg.Env, cfg.Workers)
		}
		if !cfg.Pooled() {
			t.Errorf("%s: DATABASE_URL and DATABASE_DIRECT_URL are the same, want PgBouncer and db", host)
		}
		checkURL(host+" DATABASE_URL", cfg.DatabaseURL, "pgbouncer", pgPort)
		checkURL(host+" DATABASE_DIRECT_URL", cfg.DatabaseDirectURL, "db", "5432")
		if u, err := url.Parse(cfg.RedisURL); err != nil || u.Hostname() != "redis" {
			t.Errorf("%s REDIS_URL = %q, want the redis service", host, cfg.RedisURL)
		}
		if !trusts(cfg.TrustedProxies, lbAddr) {
			t.Errorf("%s TRUSTED_PROXIES = %v does not cover nginx's address %s", host, cfg.TrustedProxies, lbAddr)
		}
		if _, on := s.networkSettings(t)[lbNetwork]; !on {
			t.Errorf("%s is not on %s, lb's network", host, lbNetwork)
		}
		if _, on := s.networkSettings(t)["default"]; !on {
			t.Errorf("%s is not on the default network, where db, pgbouncer and redis are", host)
		}
		if cfg.PublicURL != publicURL {
			t.Errorf("%s PUBLIC_URL = %q, want %s, where lb is published", host, cfg.PublicURL, publicURL)
		}
		if _, metricsPort, err := net.SplitHostPort(cfg.MetricsAddr); err != nil || !slices.Contains(s.Expose, metricsPort) {
			t.Errorf("%s METRICS_ADDR = %q, expose = %v: want the metrics port exposed", host, cfg.MetricsAddr, s.Expose)
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s publishes %v: only lb is published", host, s.Ports)
		}
		if dep := lb.DependsOn[host]; dep.Condition != "service_healthy" {
			t.Errorf("lb does not wait for %s to be healthy: depends_on %v", host, lb.DependsOn)
		}
		if first.Env == "" {
			first = cfg
		} else if !reflect.DeepEqual(cfg, first) {
			t.Errorf("%s's configuration differs from %s's", host, replicas[0])
		}
	}
	if len(lb.DependsOn) != len(replicas) {
		t.Errorf("lb depends_on %v, want the replicas %v", lb.DependsOn, replicas)
	}

	// The worker: the same image running "stores-api worker", through
	// PgBouncer too.
	worker := service("worker")
	if !reflect.DeepEqual(worker.Build, c.Services[replicas[0]].Build) {
		t.Errorf("worker build = %v, want the replicas' %v", worker.Build, c.Services[replicas[0]].Build)
	}
	entry := jsonArray(t, "ENTRYPOINT", final.last("ENTRYPOINT"))
	if cmd := composeList(worker.Command); !reflect.DeepEqual(cmd, []string{"worker"}) || len(entry) != 1 {
		t.Errorf("worker runs %v %v, want the binary's worker command", entry, cmd)
	}
	workerCfg := containerConfig(t, "worker", worker, dotEnv)
	if workerCfg.Workers == 0 || !workerCfg.Production() {
		t.Errorf("worker: WORKERS=%d APP_ENV=%s, want workers in production", workerCfg.Workers, workerCfg.Env)
	}
	if workerCfg.DatabaseURL != first.DatabaseURL || workerCfg.DatabaseDirectURL != first.DatabaseDirectURL ||
		workerCfg.PublicURL != first.PublicURL || !reflect.DeepEqual(workerCfg.JWTSecret, first.JWTSecret) {
		t.Errorf("worker's database, public URL or key differ from the replicas'")
	}
	if !worker.Healthcheck.Disable || len(worker.Ports) != 0 {
		t.Errorf("worker: healthcheck disable = %v, ports %v: it serves no HTTP for the image's HEALTHCHECK", worker.Healthcheck.Disable, worker.Ports)
	}
	// Without mail settings the stack drops emails; with them in .env it
	// sends them.
	if !first.MailDisabled || !workerCfg.MailDisabled {
		t.Error("the stack sends email by default; it has no SMTP server of its own")
	}
	realMail := map[string]string{"MAIL_URL": "smtps://user:secret@smtp.example.com:465", "MAIL_DISABLED": "false"}
	for k, v := range dotEnv {
		realMail[k] = v
	}
	if cfg := containerConfig(t, "worker", worker, realMail); cfg.MailDisabled || cfg.MailURL != realMail["MAIL_URL"] {
		t.Errorf("worker with MAIL_URL in .env: MAIL_URL=%q MAIL_DISABLED=%v", cfg.MailURL, cfg.MailDisabled)
	}

	// PgBouncer's limits fit: every client connection is accepted, and the
	// server connections, with the single api's direct ones, stay under
	// PostgreSQL's max_connections (100).
	clients := len(replicas)*first.DBMaxOpenConns + workerCfg.DBMaxOpenConns
	if n, err := strconv.Atoi(pgEnv["MAX_CLIENT_CONN"]); err != nil || n < clients {
		t.Errorf("pgbouncer MAX_CLIENT_CONN = %q, want at least the %d client connections", pgEnv["MAX_CLIENT_CONN"], clients)
	}
	apiCfg := containerConfig(t, "api", c.Services["api"], dotEnv)
	if n, err := strconv.Atoi(pgEnv["DEFAULT_POOL_SIZE"]); err != nil || n+apiCfg.DBMaxOpenConns > 80 {
		t.Errorf("pgbouncer DEFAULT_POOL_SIZE = %q, with api's %d: want well under max_connections (100)", pgEnv["DEFAULT_POOL_SIZE"], apiCfg.DBMaxOpenConns)
	}

	// Every service of the profile is checked (but the worker), and waits
	// for what it needs to be healthy.
	for name, s := range c.Services {
		if !slices.Contains(s.Profiles, scaleProfile) {
			continue
		}
		if name != "worker" && len(s.healthcheckTest()) == 0 {
			t.Errorf("%s has no healthcheck", name)
		}
		if s.Restart == "" || s.Restart == "no" {
			t.Errorf("%s restart = %q, want a restart policy", name, s.Restart)
		}
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			if !ok || d.Condition != "service_healthy" || len(target.healthcheckTest()) == 0 {
				t.Errorf("%s depends_on %s %+v: want an existing service with a healthcheck, condition service_healthy", name, dep, d)
			}
		}
	}
	for _, name := range append(slices.Clone(replicas), "worker") {
		for _, dep := range []string{"db", "pgbouncer", "redis"} {
			if _, ok := c.Services[name].DependsOn[dep]; !ok {
				t.Errorf("%s does not wait for %s", name, dep)
			}
		}
	}
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ---- .env.example -----------------------------------------------------------

// envExampleLine matches "KEY=value" and the commented-out "# KEY=value".
var envExampleLine = regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=(.*)$`)

func TestEnvExampleDocumentsEveryVariableWithItsDefault(t *testing.T) {
	raw, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	vars := configVariables(t)
	values := map[string]string{}
	lines := strings.Split(string(raw), "\n")
	for i, line := range lines {
		m := envExampleLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		name, value := m[1], strings.TrimSpace(m[2])
		if !slices.Contains(vars, name) {
			t.Errorf(".env.example line %d: %s is not a variable the config package reads", i+1, name)
		}
		if _, dup := values[name]; dup {
			t.Errorf(".env.example line %d: %s appears twice", i+1, name)
		}
		values[name] = value
		// The line above says what the variable does.
		if i == 0 || !strings.HasPrefix(lines[i-1], "#") || envExampleLine.MatchString(strings.TrimSpace(lines[i-1])) {
			t.Errorf(".env.example line %d: %s has no comment above it", i+1, name)
		}
	}
	for _, name := range vars {
		if _, ok := values[name]; !ok {
			t.Errorf(".env.example does not document %s", name)
		}
	}

	// The values shown are the defaults: loading them gives the same
	// configuration as loading nothing.
	defaults, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	shown, err := config.Load(func(k string) string { return values[k] })
	if err != nil {
		t.Fatalf(".env.example's values do not load: %v", err)
	}
	if !reflect.DeepEqual(defaults, shown) {
		t.Errorf(".env.example shows values other than the defaults:\n got  %+v\n want %+v", shown, defaults)
	}
}

// ---- Dockerfile --------------------------------------------------------------

type dockerInstruction struct {
	Cmd  string // upper case: FROM, RUN, COPY …
	Args string
}

type dockerStage struct {
	Image, Name  string
	Instructions []dockerInstruction
}

type dockerStages []dockerStage

func (s dockerStages) final() dockerStage { return s[len(s)-1] }

// all returns the arguments of every instruction cmd in the stage.
func (s dockerStage) all(cmd string) []string {
	var out []string
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

// last returns the arguments of the stage's last instruction cmd.
func (s dockerStage) last(cmd string) string {
	all := s.all(cmd)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// env collects the stage's ENV KEY=VALUE pairs.
func (s dockerStage) env() map[string]string {
	out := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, pair := range shellWords(args) {
			if k, v, ok := strings.Cut(pair, "="); ok {
				out[k] = v
			}
		}
	}
	return out
}

// dockerfileStages splits the Dockerfile into stages of instructions,
// joining continued lines and dropping comments.
func dockerfileStages(t *testing.T) dockerStages {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages dockerStages
	var logical string
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && logical == "") {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			logical += strings.TrimSuffix(trimmed, `\`) + " "
			continue
		}
		logical += trimmed
		cmd, args, _ := strings.Cut(strings.TrimSpace(logical), " ")
		logical = ""
		in := dockerInstruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			words := strings.Fields(in.Args)
			stage := dockerStage{Image: words[0]}
			if len(words) == 3 && strings.EqualFold(words[1], "AS") {
				stage.Name = words[2]
			}
			stages = append(stages, stage)
			continue
		}
		if len(stages) == 0 {
			if in.Cmd == "ARG" {
				continue
			}
			t.Fatalf("Dockerfile: %s before FROM", in.Cmd)
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a final stage", len(stages))
	}
	return stages
}

// shellWords splits a shell command line on blanks, honouring quotes.
func shellWords(s string) []string {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// goBuild is a parsed "go build" command line.
type goBuild struct {
	env      map[string]string // VAR=value words before "go"
	output   string            // -o
	packages []string
}

// parseGoBuild finds "go build" in a RUN line.
func parseGoBuild(run string) (goBuild, bool) {
	words := shellWords(run)
	for i := 0; i+1 < len(words); i++ {
		if words[i] != "go" || words[i+1] != "build" {
			continue
		}
		b := goBuild{env: map[string]string{}}
		for j := i - 1; j >= 0; j-- {
			k, v, ok := strings.Cut(words[j], "=")
			if !ok || !envVarName.MatchString(k) {
				break
			}
			b.env[k] = v
		}
		takesValue := map[string]bool{"-o": true, "-ldflags": true, "-gcflags": true, "-asmflags": true,
			"-tags": true, "-mod": true, "-modfile": true, "-p": true, "-pgo": true, "-buildmode": true,
			"-overlay": true, "-toolexec": true, "-installsuffix": true, "-pkgdir": true}
		for j := i + 2; j < len(words); j++ {
			w := words[j]
			if w == "&&" || w == ";" || w == "||" {
				break
			}
			if strings.HasPrefix(w, "-") {
				name, value, hasValue := strings.Cut(w, "=")
				if !hasValue && takesValue[name] && j+1 < len(words) {
					j++
					value = words[j]
				}
				if name == "-o" {
					b.output = value
				}
				continue
			}
			b.packages = append(b.packages, w)
		}
		return b, true
	}
	return goBuild{}, false
}

// jsonArray decodes an exec-form instruction (["/stores-api", "healthcheck"]).
func jsonArray(t *testing.T, what, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil || len(out) == 0 {
		t.Fatalf("%s %q: want the exec form, a JSON array", what, s)
	}
	return out
}

// goModVersion is go.mod's go line: "1.26.8".
func goModVersion(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\d+\.\d+(?:\.\d+)?)\s*$`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}

// majorMinor cuts "1.26.8" or "1.26-bookworm" to "1.26".
func majorMinor(v string) string {
	return regexp.MustCompile(`^\d+\.\d+`).FindString(v)
}

func TestDockerfile(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages.final()

	// The build stage: a golang image of go.mod's Go release, building this
	// module statically, the command CI runs.
	var builder dockerStage
	var build goBuild
	for _, s := range stages[:len(stages)-1] {
		for _, run := range s.all("RUN") {
			if b, ok := parseGoBuild(run); ok {
				builder, build = s, b
			}
		}
	}
	if builder.Image == "" {
		t.Fatal("no stage before the final one runs go build")
	}
	image, tag, _ := strings.Cut(builder.Image, ":")
	if image != "golang" && image != "docker.io/library/golang" {
		t.Errorf("builder image = %q, want the official golang image", builder.Image)
	}
	if want := majorMinor(goModVersion(t)); majorMinor(tag) != want {
		t.Errorf("builder image %q is not Go %s, the release go.mod asks for", builder.Image, want)
	}
	if cgo := cmpOr(build.env["CGO_ENABLED"], builder.env()["CGO_ENABLED"]); cgo != "0" {
		t.Errorf("go build runs with CGO_ENABLED=%q, want 0 for a static binary", cgo)
	}
	if !reflect.DeepEqual(build.packages, []string{"."}) {
		t.Errorf("go build builds %v, want . (the module root, where package main is)", build.packages)
	}
	if build.output == "" {
		t.Fatal("go build has no -o")
	}
	if got := filepath.Base(build.output); got != "stores-api" {
		t.Errorf("go build writes %q, want a binary named stores-api", got)
	}
	if !slices.ContainsFunc(builder.all("RUN"), func(r string) bool { return strings.Contains(r, "go mod download") }) {
		t.Error("the build stage does not download modules in a layer of their own")
	}

	// The final stage runs the built binary: as ENTRYPOINT, and as the
	// HEALTHCHECK through the healthcheck command.
	binary := ""
	for _, c := range final.all("COPY") {
		words := strings.Fields(c)
		if slices.Contains(words, "--from="+builder.Name) && len(words) >= 2 && words[len(words)-2] == build.output {
			binary = words[len(words)-1]
		}
	}
	if binary == "" {
		t.Fatalf("the final stage does not copy %s from the %q stage", build.output, builder.Name)
	}
	if entry := jsonArray(t, "ENTRYPOINT", final.last("ENTRYPOINT")); entry[0] != binary {
		t.Errorf("ENTRYPOINT %v does not run %s", entry, binary)
	}
	hc := final.last("HEALTHCHECK")
	options, cmd, ok := strings.Cut(hc, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", hc)
	}
	if got := jsonArray(t, "HEALTHCHECK CMD", cmd); !reflect.DeepEqual(got, []string{binary, "healthcheck"}) {
		t.Errorf("HEALTHCHECK runs %v, want [%s healthcheck]", got, binary)
	}
	// Docker's timeout must leave the probe time to give its own answer.
	if m := regexp.MustCompile(`--timeout=(\S+)`).FindStringSubmatch(options); m != nil {
		d, err := time.ParseDuration(m[1])
		if err != nil || d <= healthcheckTimeout {
			t.Errorf("HEALTHCHECK --timeout=%s, want more than the probe's own %s", m[1], healthcheckTimeout)
		}
	}

	// Not root: a USER other than root, or a :nonroot distroless image.
	user := final.last("USER")
	root := user == "root" || user == "0" || strings.HasPrefix(user, "root:") || strings.HasPrefix(user, "0:")
	if root || (user == "" && !strings.HasSuffix(final.Image, ":nonroot")) {
		t.Errorf("the final stage (%s, USER %q) runs as root", final.Image, user)
	}

	// Listens on 0.0.0.0:80, the port it exposes, with every ENV a
	// variable the config package reads.
	env := final.env()
	if env["PORT"] != containerPort || env["HOST"] != "0.0.0.0" {
		t.Errorf("final ENV HOST=%q PORT=%q, want 0.0.0.0 and %s", env["HOST"], env["PORT"], containerPort)
	}
	if !slices.Contains(strings.Fields(final.last("EXPOSE")), containerPort) {
		t.Errorf("EXPOSE %q, want %s", final.last("EXPOSE"), containerPort)
	}
	vars := configVariables(t)
	for name := range env {
		if !slices.Contains(vars, name) {
			t.Errorf("final ENV sets %s, which the config package does not read", name)
		}
	}

	// SQLite's default data.db is created in the working directory, so the
	// non-root user must own it: a COPY --chown to the WORKDIR.
	workdir := final.last("WORKDIR")
	owned := slices.ContainsFunc(final.all("COPY"), func(c string) bool {
		words := strings.Fields(c)
		return strings.Contains(c, "--chown=") && strings.TrimSuffix(words[len(words)-1], "/") == strings.TrimSuffix(workdir, "/")
	})
	if workdir == "" || workdir == "/" || !owned {
		t.Errorf("WORKDIR %q is not a directory the final stage hands to the non-root user", workdir)
	}
}

func TestDockerignoreKeepsSecretsAndDatabasesOut(t *testing.T) {
	raw, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	for _, want := range []string{".git", ".env", "*.db"} {
		if !slices.Contains(patterns, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	// The build needs the sources: nothing may exclude them.
	for _, never := range []string{"*.go", "go.mod", "go.sum", "migrations", "*"} {
		if slices.Contains(patterns, never) {
			t.Errorf(".dockerignore excludes %s, which the build needs", never)
		}
	}
}
