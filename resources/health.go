package resources

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// readyTimeout bounds the database ping of GET /readyz. A load balancer
// gives up on a probe after a few seconds anyway; answering 503 first
// tells it why instead of leaving a hung connection behind.
const readyTimeout = 2 * time.Second

// registerHealthRoutes adds the probes orchestrators and load balancers
// call. They need no token: a probe has none, and they reveal nothing.
func (s *server) registerHealthRoutes(r fiber.Router) {
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
}

// healthz handles GET /healthz: the process is up and serving HTTP. It
// deliberately ignores the database, so an outage of the database makes
// replicas unready (GET /readyz) rather than restarted in a loop.
func (s *server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz handles GET /readyz: 200 when the database answers a ping within
// readyTimeout, else 503 in the envelope, so a load balancer stops sending
// traffic to this replica until the database is back.
func (s *server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
	defer cancel()
	if err := s.data.Ping(ctx); err != nil {
		// The cause is for the operator; the client only learns "unavailable".
		s.log.Warn("not ready: database ping failed", "err", err)
		return errDatabaseUnavailable // the same 503 every other route gives
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
