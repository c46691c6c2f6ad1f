package main

import (
	"context"
	"errors"
	"log/slog"

	"stores-api/config"
	"stores-api/middleware"
	"stores-api/models"
)

// work runs `stores-api worker`: the job queue's workers and nothing else,
// until ctx is cancelled, for deployments whose API processes run with
// WORKERS=0. Its metrics are served on METRICS_ADDR, when set.
func work(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.Workers == 0 {
		return errors.New("WORKERS=0: a worker process needs at least one worker")
	}
	db, target, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	stack, err := middleware.New(middleware.Options{Config: cfg, Log: log, DB: sqlDB, Dialect: target.Dialect})
	if err != nil {
		return err
	}
	defer stack.Close()
	jobs, err := newQueue(sqlDB, target.Dialect, models.New(db, cfg.BcryptCost), stack, cfg, log)
	if err != nil {
		return err
	}
	if handler := stack.MetricsHandler(); handler != nil && cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, handler, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if err := jobs.Start(ctx); err != nil {
		return err
	}
	log.Info("worker running", "config", cfg)
	<-ctx.Done()
	log.Info("worker shutting down", "timeout", shutdownTimeout)
	stopJobs(jobs, log)
	return nil
}
