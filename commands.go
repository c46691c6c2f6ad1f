package main

// The commands besides serve: migrations, the admin commands and the
// container's health check.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/migrations"
	"stores-api/models"
)

// openDB connects to DATABASE_URL, through a pooler when
// DATABASE_DIRECT_URL says there is one.
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, models.Target, error) {
	return open(ctx, cfg.DatabaseURL, cfg.Pooled(), cfg, log)
}

// openDirect connects to DATABASE_DIRECT_URL, the way to the database
// without a pooler, for migrations: their lock is a session's.
func openDirect(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, models.Target, error) {
	return open(ctx, cfg.DatabaseDirectURL, false, cfg, log)
}

func open(ctx context.Context, rawURL string, pooled bool, cfg config.Config, log *slog.Logger) (*gorm.DB, models.Target, error) {
	target, err := models.ParseURL(rawURL)
	if err != nil {
		return nil, target, err
	}
	db, err := models.Open(ctx, target, models.Options{
		MaxOpen:     cfg.DBMaxOpenConns,
		MaxIdle:     cfg.DBMaxIdleConns,
		MaxLifetime: cfg.DBConnMaxLifetime,
		SlowQuery:   cfg.DBSlowQuery,
		Pooled:      pooled,
	}, log)
	return db, target, err
}

// openMigrated applies pending migrations over DATABASE_DIRECT_URL, then
// connects to DATABASE_URL. The caller closes the database with
// models.Close.
func openMigrated(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, models.Target, error) {
	if _, err := migrateUp(ctx, cfg, log); err != nil {
		return nil, models.Target{}, err
	}
	return openDB(ctx, cfg, log)
}

// migrateUp applies pending migrations over a direct connection of its own.
func migrateUp(ctx context.Context, cfg config.Config, log *slog.Logger) (migrations.Applied, error) {
	db, target, err := openDirect(ctx, cfg, log)
	if err != nil {
		return migrations.Applied{}, err
	}
	defer models.Close(db)
	sqlDB, err := db.DB()
	if err != nil {
		return migrations.Applied{}, err
	}
	return migrations.Up(ctx, target.Dialect, sqlDB)
}

// migrate runs "migrate up", "migrate down" (one step) or "migrate status".
func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: stores-api migrate up|down|status")
	}
	db, target, err := openDirect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	p, err := migrations.NewProvider(target.Dialect, sqlDB)
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		results, err := p.Up(ctx)
		for _, r := range results {
			fmt.Println(r)
		}
		return err
	case "down":
		r, err := p.Down(ctx)
		if r != nil {
			fmt.Println(r)
		}
		return err
	case "status":
		statuses, err := p.Status(ctx)
		for _, s := range statuses {
			applied := "pending"
			if !s.AppliedAt.IsZero() {
				applied = s.AppliedAt.Format(time.RFC3339)
			}
			fmt.Printf("%-40s %s\n", s.Source.Path, applied)
		}
		return err
	}
	return fmt.Errorf("unknown migrate command %q (want up, down or status)", args[0])
}

// userByEmail opens the database and finds the user a command names.
func userByEmail(ctx context.Context, cfg config.Config, log *slog.Logger, email string) (*gorm.DB, models.User, error) {
	db, _, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return nil, models.User{}, err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	user, err := models.New(db, cfg.BcryptCost).Users.ByEmail(ctx, email)
	if errors.Is(err, models.ErrUserNotFound) {
		err = fmt.Errorf("no user with email %q", email)
	}
	if err != nil {
		models.Close(db)
		return nil, user, err
	}
	return db, user, nil
}

// setAdmin grants or withdraws admin rights of an existing user.
func setAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, admin bool) error {
	if len(args) != 1 {
		return errors.New("usage: stores-api promote-admin|demote-admin EMAIL")
	}
	db, user, err := userByEmail(ctx, cfg, log, args[0])
	if err != nil {
		return err
	}
	defer models.Close(db)
	if err := models.New(db, cfg.BcryptCost).Users.SetAdmin(ctx, user.ID, admin); err != nil {
		return err
	}
	fmt.Printf("%s is_admin=%t\n", user.Email, admin)
	return nil
}

// endSessions ends every session of a user, API tokens and admin panel
// sign-ins alike: a lost laptop, a leaked token.
func endSessions(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: stores-api end-sessions EMAIL")
	}
	db, user, err := userByEmail(ctx, cfg, log, args[0])
	if err != nil {
		return err
	}
	defer models.Close(db)
	n, err := blocklist.New(db).EndAll(ctx, user.ID)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d sessions ended\n", user.Email, n)
	return nil
}

// healthcheckTimeout bounds the healthcheck command, so a wedged server
// makes the container unhealthy instead of stacking up hung probes.
const healthcheckTimeout = 3 * time.Second

// healthcheck asks the server listening on host:port for GET /healthz and
// fails unless it answers 200. It is the image's HEALTHCHECK, because the
// distroless image has no curl or wget. It never opens the database: the
// process being alive is the question, and a database outage is what
// GET /readyz reports.
func healthcheck(ctx context.Context, host string, port int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// No proxy: HTTP_PROXY set for the application must not reroute a
	// probe of this very machine.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: GET %s answered %s", url, resp.Status)
	}
	return nil
}

// probeHost is where the healthcheck command finds the server: loopback
// when it listens on every interface (HOST=0.0.0.0 in the image), else the
// address it was told to listen on.
func probeHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "127.0.0.1"
	}
	return host
}
