package config_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"stores-api/config"
)

// env turns a map into the getenv Load takes.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// secret32 is the shortest key production accepts.
const secret32 = "0123456789abcdef0123456789abcdef"

func mustLoad(t *testing.T, vars map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(env(vars))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestDefaults(t *testing.T) {
	cfg := mustLoad(t, nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", cfg.Env, config.EnvDevelopment},
		{"Production", cfg.Production(), false},
		{"Addr", cfg.Addr(), "127.0.0.1:5000"},
		{"DatabaseURL", cfg.DatabaseURL, ""},
		{"JWTAccessTTL", cfg.JWTAccessTTL, 15 * time.Minute},
		{"JWTRefreshTTL", cfg.JWTRefreshTTL, 720 * time.Hour},
		{"BcryptCost", cfg.BcryptCost, 12},
		{"AuthRateLimit", cfg.AuthRateLimit, 20},
		{"AdminEmails", len(cfg.AdminEmails), 0},
		{"LogLevel", cfg.LogLevel, slog.LevelInfo},
		{"UsingDevSecret", cfg.UsingDevSecret, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(cfg.JWTSecret) == 0 {
		t.Error("development gets no signing key")
	}
}

func TestValues(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"APP_ENV":         "production",
		"MAIL_DISABLED":   "true",
		"HOST":            " 0.0.0.0 ",
		"PORT":            "8080",
		"DATABASE_URL":    "postgres://app:pw@db:5432/stores",
		"JWT_SECRET_KEY":  secret32,
		"JWT_ACCESS_TTL":  "1s",
		"JWT_REFRESH_TTL": "48h",
		"BCRYPT_COST":     "4",
		"ADMIN_EMAILS":    " Boss@Example.com, ,second@example.com ,",
		"AUTH_RATE_LIMIT": "0",
		"LOG_LEVEL":       "debug",
	})
	if !cfg.Production() || cfg.Addr() != "0.0.0.0:8080" || cfg.DatabaseURL != "postgres://app:pw@db:5432/stores" {
		t.Errorf("env/addr/db = %s/%s/%s", cfg.Env, cfg.Addr(), cfg.DatabaseURL)
	}
	if cfg.JWTAccessTTL != time.Second || cfg.JWTRefreshTTL != 48*time.Hour {
		t.Errorf("TTLs = %s/%s", cfg.JWTAccessTTL, cfg.JWTRefreshTTL)
	}
	if cfg.BcryptCost != 4 || cfg.AuthRateLimit != 0 || cfg.LogLevel != slog.LevelDebug {
		t.Errorf("cost/limit/level = %d/%d/%s", cfg.BcryptCost, cfg.AuthRateLimit, cfg.LogLevel)
	}
	if want := []string{"boss@example.com", "second@example.com"}; !slices.Equal(cfg.AdminEmails, want) {
		t.Errorf("AdminEmails = %q, want %q", cfg.AdminEmails, want)
	}
	if string(cfg.JWTSecret) != secret32 || cfg.UsingDevSecret {
		t.Errorf("secret = %q (dev %t), want the configured key", cfg.JWTSecret, cfg.UsingDevSecret)
	}
}

// TestInvalidValues: each bad value is refused with the name of its
// variable, so the operator knows what to fix.
func TestInvalidValues(t *testing.T) {
	tests := []struct{ name, value string }{
		{"PORT", "abc"},
		{"PORT", "0"},
		{"PORT", "65536"},
		{"JWT_ACCESS_TTL", "bad"},
		{"JWT_ACCESS_TTL", "15"}, // a number without a unit
		{"JWT_ACCESS_TTL", "-1m"},
		{"JWT_REFRESH_TTL", "0s"},
		{"BCRYPT_COST", "3"},
		{"BCRYPT_COST", "32"},
		{"BCRYPT_COST", "twelve"},
		{"AUTH_RATE_LIMIT", "-1"},
		{"APP_ENV", "staging"},
		{"LOG_LEVEL", "loud"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.name) || !strings.Contains(err.Error(), tt.value) {
				t.Fatalf("error %q does not name %s and the value %q", err, tt.name, tt.value)
			}
		})
	}
}

// TestEveryErrorReported: one start-up lists every bad setting.
func TestEveryErrorReported(t *testing.T) {
	_, err := config.Load(env(map[string]string{"PORT": "abc", "JWT_ACCESS_TTL": "bad", "BCRYPT_COST": "99"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"PORT", "JWT_ACCESS_TTL", "BCRYPT_COST"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s: %v", name, err)
		}
	}
}

func TestProductionSecret(t *testing.T) {
	refused := []struct{ name, secret string }{
		{"missing", ""},
		{"31 bytes", secret32[:31]},
		{"short", "secret"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			cfg, err := config.Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": tt.secret}))
			if err == nil {
				t.Fatalf("production started with key %q (dev key %t)", cfg.JWTSecret, cfg.UsingDevSecret)
			}
			if !strings.Contains(err.Error(), "JWT_SECRET_KEY") {
				t.Fatalf("error %q does not name JWT_SECRET_KEY", err)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Fatalf("error %q shows the key", err)
			}
		})
	}
	t.Run("32 bytes accepted", func(t *testing.T) {
		cfg := mustLoad(t, map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": secret32, "MAIL_DISABLED": "true"})
		if string(cfg.JWTSecret) != secret32 || cfg.UsingDevSecret {
			t.Fatalf("secret = %q (dev %t)", cfg.JWTSecret, cfg.UsingDevSecret)
		}
	})
}

func TestDevelopmentSecret(t *testing.T) {
	dev := mustLoad(t, nil)
	if !dev.UsingDevSecret {
		t.Fatal("the fallback key is not flagged")
	}
	// The fallback is fixed, so tokens survive a restart in development.
	if again := mustLoad(t, nil); !bytes.Equal(again.JWTSecret, dev.JWTSecret) {
		t.Fatal("the development key changes between loads")
	}
	// A key given in development is used, even a short one, and not flagged.
	own := mustLoad(t, map[string]string{"JWT_SECRET_KEY": "short"})
	if string(own.JWTSecret) != "short" || own.UsingDevSecret {
		t.Fatalf("secret = %q (dev %t), want the given key", own.JWTSecret, own.UsingDevSecret)
	}
	// The development key is public: production refuses it even when it
	// is set explicitly.
	_, err := config.Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": string(dev.JWTSecret)}))
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_KEY") {
		t.Fatalf("production with the development key: err = %v, want a JWT_SECRET_KEY error", err)
	}
}

// TestLogValueHidesSecrets: logging the config shows neither the signing
// key nor the database password.
func TestLogValueHidesSecrets(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"JWT_SECRET_KEY": "super-secret-signing-key-0123456789",
		"DATABASE_URL":   "postgres://app:db-password@db:5432/stores",
	})
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", cfg)
	out := buf.String()
	for _, secret := range []string{"super-secret-signing-key", "db-password"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "app:xxxxx@db:5432/stores") {
		t.Errorf("log lacks the redacted database URL: %s", out)
	}
}

func TestRedactURL(t *testing.T) {
	tests := map[string]string{
		"postgres://app:pw@db:5432/stores":     "postgres://app:xxxxx@db:5432/stores",
		"postgres://app:p@ss@db/stores":        "postgres://app:xxxxx@db/stores",
		"postgres://app@db/stores":             "postgres://app@db/stores",
		"sqlite:///data.db":                    "sqlite:///data.db",
		"":                                     "",
		"postgresql://u:secret@h/d?sslmode=on": "postgresql://u:xxxxx@h/d?sslmode=on",
	}
	for in, want := range tests {
		if got := config.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMailSettings(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		cfg := mustLoad(t, nil)
		if cfg.MailURL != "" || cfg.MailDisabled || cfg.Workers != 10 || cfg.RequireVerifiedEmail ||
			cfg.PublicURL != "http://127.0.0.1:5000" || cfg.MailFrom != "Stores API <no-reply@localhost>" {
			t.Fatalf("defaults: %+v", cfg)
		}
	})
	t.Run("a wildcard host links to localhost", func(t *testing.T) {
		if cfg := mustLoad(t, map[string]string{"HOST": "0.0.0.0", "PORT": "8080"}); cfg.PublicURL != "http://localhost:8080" {
			t.Fatalf("PUBLIC_URL = %q", cfg.PublicURL)
		}
	})
	t.Run("set", func(t *testing.T) {
		cfg := mustLoad(t, map[string]string{"MAIL_URL": "smtps://user:pw@smtp.example.com", "MAIL_FROM": "Shop <shop@example.com>",
			"PUBLIC_URL": "https://api.example.com/", "WORKERS": "0", "REQUIRE_VERIFIED_EMAIL": "true"})
		if cfg.MailURL != "smtps://user:pw@smtp.example.com" || cfg.MailFrom != "Shop <shop@example.com>" ||
			cfg.PublicURL != "https://api.example.com" || cfg.Workers != 0 || !cfg.RequireVerifiedEmail {
			t.Fatalf("%+v", cfg)
		}
		if logged := fmt.Sprint(cfg.LogValue()); strings.Contains(logged, "pw@") {
			t.Fatalf("the mail password is logged: %s", logged)
		}
	})
	for _, tt := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"a malformed MAIL_URL", map[string]string{"MAIL_URL": "http://user:s3cret@smtp.example.com"}, "MAIL_URL"},
		{"a MAIL_URL without a host", map[string]string{"MAIL_URL": "smtp://user:s3cret@:25"}, "MAIL_URL"},
		{"a bad MAIL_FROM", map[string]string{"MAIL_FROM": "not an address"}, "MAIL_FROM"},
		{"a bad PUBLIC_URL", map[string]string{"PUBLIC_URL": "api.example.com"}, "PUBLIC_URL"},
		{"too many workers", map[string]string{"WORKERS": "100000"}, "WORKERS"},
		{"production without mail", map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": secret32}, "MAIL_URL"},
		{"verification without mail", map[string]string{"MAIL_DISABLED": "true", "REQUIRE_VERIFIED_EMAIL": "true"}, "REQUIRE_VERIFIED_EMAIL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
	if _, err := config.Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": secret32,
		"MAIL_DISABLED": "true"})); err != nil {
		t.Fatalf("production with MAIL_DISABLED=true: %v", err)
	}
}

func TestDirectDatabaseURL(t *testing.T) {
	const pooled, direct = "postgres://app@pgbouncer:6432/stores", "postgres://app@db:5432/stores"
	if cfg := mustLoad(t, map[string]string{"DATABASE_URL": pooled}); cfg.DatabaseDirectURL != pooled || cfg.Pooled() {
		t.Fatalf("without DATABASE_DIRECT_URL: direct %q, pooled %t", cfg.DatabaseDirectURL, cfg.Pooled())
	}
	if cfg := mustLoad(t, map[string]string{"DATABASE_URL": pooled, "DATABASE_DIRECT_URL": direct}); cfg.DatabaseDirectURL != direct || !cfg.Pooled() {
		t.Fatalf("with DATABASE_DIRECT_URL: direct %q, pooled %t", cfg.DatabaseDirectURL, cfg.Pooled())
	}
	if _, err := config.Load(env(map[string]string{"DATABASE_DIRECT_URL": direct})); err == nil ||
		!strings.Contains(err.Error(), "DATABASE_DIRECT_URL") {
		t.Fatalf("a direct URL for SQLite: %v", err)
	}
}

func TestRedisURL(t *testing.T) {
	if cfg := mustLoad(t, map[string]string{"REDIS_URL": "redis://:s3cret@redis:6379/0"}); cfg.RedisURL == "" ||
		strings.Contains(fmt.Sprint(cfg.LogValue()), "s3cret") {
		t.Fatalf("REDIS_URL %q, logged as %v", cfg.RedisURL, cfg.LogValue())
	}
	_, err := config.Load(env(map[string]string{"REDIS_URL": "http://:s3cret@redis"}))
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("a bad REDIS_URL: %v", err)
	}
}
