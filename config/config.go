// Package config reads every setting of the service from the environment.
// It is the only package that looks at environment variables.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/redis/go-redis/v9"

	"stores-api/mail"
)

// Environments the service knows. Production turns on the strict checks.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// devSecret signs tokens in development when JWT_SECRET_KEY is unset. It is
// public, so production refuses to start without a real key.
const devSecret = "development-secret-do-not-use-in-production"

// minSecretLen is the shortest JWT_SECRET_KEY production accepts: HS256 keys
// shorter than the 32-byte hash output weaken the signature.
const minSecretLen = 32

// Config holds every setting. Load fills it; nothing else mutates it.
type Config struct {
	Env  string
	Host string
	Port int

	// The HTTP server's limits: a whole request must arrive within
	// ReadTimeout, an answer be written within WriteTimeout, and a
	// keep-alive connection send its next request within IdleTimeout.
	// MaxConnections caps the connections served at once.
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxConnections int

	DatabaseURL string
	// DatabaseDirectURL reaches the same database without a pooler, for
	// what needs a session of its own: migrations and their lock. It is
	// DatabaseURL unless set; when it differs, DatabaseURL goes through a
	// transaction pooler such as PgBouncer (Pooled).
	DatabaseDirectURL string
	DBMaxOpenConns    int
	DBMaxIdleConns    int
	DBConnMaxLifetime time.Duration
	// DBSlowQuery is how long a statement may take before it is logged.
	DBSlowQuery time.Duration

	JWTSecret     []byte
	JWTAccessTTL  time.Duration
	JWTRefreshTTL time.Duration
	BcryptCost    int
	AdminEmails   []string
	AuthRateLimit int

	// MailURL is the SMTP server emails go through (smtp:// or smtps://);
	// empty in development writes emails to the log. MailFrom is their
	// sender. MailDisabled lets production run without sending any.
	MailURL      string
	MailFrom     string
	MailDisabled bool
	// PublicURL is where the links in emails point: the service as its
	// users reach it.
	PublicURL string
	// Workers is how many jobs (emails) this process works at once; 0
	// leaves them to `stores-api worker` processes.
	Workers int
	// RequireVerifiedEmail refuses users who have not verified their
	// email on every route but the ones that get them verified.
	RequireVerifiedEmail bool

	// RedisURL, when set, keeps the sign-in rate limit's counters in
	// Redis, shared by every replica.
	RedisURL string

	// RequireIfMatch refuses writes to an existing resource that do not
	// name the version they change (If-Match): lost updates impossible.
	RequireIfMatch bool

	CORSOrigins    []string
	TrustedProxies []string
	MetricsEnabled bool
	// MetricsAddr, when set, is a listener of its own for GET /metrics,
	// off the public port. MetricsToken, when set, is the bearer token
	// GET /metrics requires.
	MetricsAddr  string
	MetricsToken string
	LogLevel     slog.Level

	// UsingDevSecret is true when JWTSecret is the public development key,
	// so main can warn about it.
	UsingDevSecret bool
}

// Production reports whether the service runs with APP_ENV=production.
func (c Config) Production() bool { return c.Env == EnvProduction }

// Pooled reports whether DATABASE_URL goes through a transaction pooler:
// DATABASE_DIRECT_URL names another way to the database.
func (c Config) Pooled() bool { return c.DatabaseDirectURL != c.DatabaseURL }

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Addr is the host:port the server listens on.
func (c Config) Addr() string { return c.Host + ":" + strconv.Itoa(c.Port) }

// LogValue keeps secrets out of logs when the config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("addr", c.Addr()),
		slog.String("database", RedactURL(c.DatabaseURL)),
		slog.Bool("database_pooled", c.Pooled()),
		slog.Int("db_max_open_conns", c.DBMaxOpenConns),
		slog.Duration("read_timeout", c.ReadTimeout),
		slog.Duration("write_timeout", c.WriteTimeout),
		slog.Duration("idle_timeout", c.IdleTimeout),
		slog.Int("max_connections", c.MaxConnections),
		slog.Duration("jwt_access_ttl", c.JWTAccessTTL),
		slog.Duration("jwt_refresh_ttl", c.JWTRefreshTTL),
		slog.Int("auth_rate_limit", c.AuthRateLimit),
		slog.Bool("require_if_match", c.RequireIfMatch),
		slog.String("redis_url", RedactURL(c.RedisURL)),
		slog.String("mail_url", RedactURL(c.MailURL)),
		slog.Bool("mail_disabled", c.MailDisabled),
		slog.String("public_url", c.PublicURL),
		slog.Int("workers", c.Workers),
		slog.Bool("require_verified_email", c.RequireVerifiedEmail),
		slog.Bool("metrics_enabled", c.MetricsEnabled),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Bool("metrics_token_set", c.MetricsToken != ""),
	)
}

// LoadDotEnv loads a .env file from the working directory when there is
// one, as python-dotenv does for the Flask course. Variables already set in
// the environment win over the file.
func LoadDotEnv() error {
	err := godotenv.Load()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading .env: %w", err)
	}
	return nil
}

// Load builds the Config from getenv (os.Getenv in main, a map in tests).
// Every invalid value is reported with the name of its variable.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Env:                  r.oneOf("APP_ENV", EnvDevelopment, EnvDevelopment, EnvProduction),
		Host:                 r.str("HOST", "127.0.0.1"),
		Port:                 r.intRange("PORT", 5000, 1, 65535),
		ReadTimeout:          r.duration("READ_TIMEOUT", 10*time.Second),
		WriteTimeout:         r.duration("WRITE_TIMEOUT", 30*time.Second),
		IdleTimeout:          r.duration("IDLE_TIMEOUT", 60*time.Second),
		MaxConnections:       r.intRange("MAX_CONNECTIONS", 4096, 1, 1_000_000),
		DatabaseURL:          r.str("DATABASE_URL", ""),
		DatabaseDirectURL:    r.str("DATABASE_DIRECT_URL", ""),
		DBMaxOpenConns:       r.intRange("DB_MAX_OPEN_CONNS", 16, 1, 10000),
		DBMaxIdleConns:       r.intRange("DB_MAX_IDLE_CONNS", 16, 0, 10000),
		DBConnMaxLifetime:    r.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute),
		DBSlowQuery:          r.duration("DB_SLOW_QUERY", 500*time.Millisecond),
		JWTAccessTTL:         r.duration("JWT_ACCESS_TTL", 15*time.Minute),
		JWTRefreshTTL:        r.duration("JWT_REFRESH_TTL", 720*time.Hour),
		BcryptCost:           r.intRange("BCRYPT_COST", 12, 4, 31),
		AdminEmails:          lowerAll(r.list("ADMIN_EMAILS")),
		AuthRateLimit:        r.intRange("AUTH_RATE_LIMIT", 20, 0, 1_000_000),
		RequireIfMatch:       r.boolean("REQUIRE_IF_MATCH", false),
		RedisURL:             r.redisURL("REDIS_URL"),
		MailURL:              r.mailURL("MAIL_URL"),
		MailFrom:             r.mailAddress("MAIL_FROM", "Stores API <no-reply@localhost>"),
		MailDisabled:         r.boolean("MAIL_DISABLED", false),
		Workers:              r.intRange("WORKERS", 10, 0, 1000),
		RequireVerifiedEmail: r.boolean("REQUIRE_VERIFIED_EMAIL", false),
		CORSOrigins:          r.list("CORS_ORIGINS"),
		TrustedProxies:       r.list("TRUSTED_PROXIES"),
		MetricsEnabled:       r.boolean("METRICS_ENABLED", true),
		MetricsAddr:          r.hostPort("METRICS_ADDR"),
		MetricsToken:         r.token("METRICS_TOKEN"),
		LogLevel:             r.level("LOG_LEVEL", slog.LevelInfo),
	}
	c.JWTSecret, c.UsingDevSecret = r.secret(c.Env)
	c.PublicURL = r.publicURL("PUBLIC_URL", c.Host, c.Port)
	switch {
	case c.DatabaseDirectURL == "":
		c.DatabaseDirectURL = c.DatabaseURL
	case !isPostgresURL(c.DatabaseURL) || !isPostgresURL(c.DatabaseDirectURL):
		r.fail("DATABASE_DIRECT_URL", "is for PostgreSQL behind a pooler: both it and DATABASE_URL must be postgres:// URLs")
	}
	if c.Production() && c.MailURL == "" && !c.MailDisabled {
		r.fail("MAIL_URL", "is required when APP_ENV=production (or set MAIL_DISABLED=true to send no emails)")
	}
	if c.RequireVerifiedEmail && c.MailDisabled {
		r.fail("REQUIRE_VERIFIED_EMAIL", "needs emails, which MAIL_DISABLED=true turns off: no user could verify")
	}
	if len(r.errs) > 0 {
		return Config{}, errors.Join(r.errs...)
	}
	return c, nil
}

// reader parses variables and collects every error, so one start-up
// reports all bad settings at once.
type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := r.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return def
}

func (r *reader) intRange(name string, def, lo, hi int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, "must be a positive Go duration such as 15m or 720h, got %q", v)
		return def
	}
	return d
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false, got %q", v)
		return def
	}
	return b
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, "must be debug, info, warn or error, got %q", v)
		return def
	}
	return l
}

// hostPort reads an optional listen address such as :9090 or
// 0.0.0.0:9090.
func (r *reader) hostPort(name string) string {
	v := r.str(name, "")
	if v == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		r.fail(name, "must be a listen address such as :9090 or 0.0.0.0:9090, got %q", v)
		return ""
	}
	return v
}

// minTokenLen is the shortest bearer token accepted for a setting: a
// guessable one would protect nothing.
const minTokenLen = 16

// token reads an optional bearer token. Its value never appears in an
// error: it is a secret.
func (r *reader) token(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v != "" && len(v) < minTokenLen {
		r.fail(name, "must be at least %d characters, got %d", minTokenLen, len(v))
		return ""
	}
	return v
}

// redisURL reads an optional Redis URL (redis://, rediss:// or unix://).
// Its password never appears in an error.
func (r *reader) redisURL(name string) string {
	v := r.str(name, "")
	if v == "" {
		return ""
	}
	if _, err := redis.ParseURL(v); err != nil {
		r.fail(name, "must be a Redis URL such as redis://127.0.0.1:6379/0")
		return ""
	}
	return v
}

// mailURL reads an optional SMTP server URL. Its password never appears
// in an error.
func (r *reader) mailURL(name string) string {
	v := r.str(name, "")
	if v == "" {
		return ""
	}
	if err := mail.ValidateURL(v); err != nil {
		r.fail(name, "%v", err)
		return ""
	}
	return v
}

// mailAddress reads an email address such as "Stores API <no-reply@example.com>".
func (r *reader) mailAddress(name, def string) string {
	v := r.str(name, def)
	if err := mail.ValidateFrom(v); err != nil {
		r.fail(name, "must be an email address such as \"Stores API <no-reply@example.com>\", got %q", v)
	}
	return v
}

// publicURL reads the URL the service is reached at, without a trailing
// slash. By default it is the listen address; a wildcard host (0.0.0.0,
// ::), which no browser can open, becomes localhost.
func (r *reader) publicURL(name, host string, port int) string {
	v := strings.TrimSuffix(r.str(name, ""), "/")
	if v == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		r.fail(name, "must be an http:// or https:// URL without a query, such as https://api.example.com, got %q", v)
		return ""
	}
	return v
}

// list splits a comma-separated variable, dropping blanks.
func (r *reader) list(name string) []string {
	var out []string
	for _, part := range strings.Split(r.getenv(name), ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reader) secret(env string) (key []byte, dev bool) {
	v := r.getenv("JWT_SECRET_KEY")
	switch {
	case env == EnvProduction && v == "":
		r.fail("JWT_SECRET_KEY", "is required when APP_ENV=production")
	case env == EnvProduction && len(v) < minSecretLen:
		r.fail("JWT_SECRET_KEY", "must be at least %d bytes when APP_ENV=production, got %d", minSecretLen, len(v))
	case env == EnvProduction && v == devSecret:
		r.fail("JWT_SECRET_KEY", "is the public development key; production needs a key of its own")
	case v == "":
		return []byte(devSecret), true
	}
	return []byte(v), false
}

func lowerAll(in []string) []string {
	for i, s := range in {
		in[i] = strings.ToLower(s)
	}
	return in
}

// RedactURL hides the password of a database URL so it can be logged.
// A password may also sit in the query (?password=…), which is dropped.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
