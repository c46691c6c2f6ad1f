package resources

import (
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"
)

// The database half of a token check (its user still exists, it is not
// revoked) is a round trip to the database of its own when the token
// middleware runs it (checkToken). The busiest routes save that round trip:
// their middleware, requireAccessInline, leaves the check to the handler,
// which adds it to its own first statement as a SQL condition, the
// tokenGuard. The statement then finds or writes nothing unless the token
// is still good, so:
//
//   - a guarded statement that found its rows has proven the token;
//   - one that found nothing may have failed on the token, or on the
//     missing row; the handler answers with its error as if the token
//     were good (a 404, say), and the middleware, seeing an error, checks
//     the token with a query of its own: if the token fails, that failure
//     is the answer instead, exactly as when the middleware checks first.
//
// A handler on such a route must therefore put guard(c) into the first
// statement that reads or writes, and end the request in an error whenever
// that statement found nothing. A handler that never takes the guard is
// still safe for reads: its token is checked after it ran. Writes must
// carry the guard, or they could happen for a revoked token.

// tokenGuardSQL holds while the token's session lasts, which implies that
// its user exists: deleting a user deletes its sessions. The subquery is
// uncorrelated, so the database evaluates it once per statement, from the
// primary key of sessions.
const tokenGuardSQL = "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND user_id = ?)"

// tokenGuard is a token's database check as a condition of a statement.
// The zero tokenGuard, noGuard, adds nothing: the token was checked
// already, or the caller is not an API client (the admin panel checks its
// sessions itself).
type tokenGuard struct {
	sid    string
	userID int64
}

var noGuard tokenGuard

// and appends the guard to a query whose WHERE clause ends it, as
// " AND <condition>", and its arguments to args.
func (g tokenGuard) and(query string, args ...any) (string, []any) {
	if g == noGuard {
		return query, args
	}
	return query + " AND " + tokenGuardSQL, append(args, g.sid, g.userID)
}

// where appends the guard as the WHERE clause of a query that has none.
func (g tokenGuard) where(query string, args ...any) (string, []any) {
	if g == noGuard {
		return query, args
	}
	return query + " WHERE " + tokenGuardSQL, append(args, g.sid, g.userID)
}

// pendingCheck is the token check a handler's statement is to carry.
type pendingCheck struct {
	guard tokenGuard
	taken bool // the handler asked for the guard
}

// guard is the condition the handler's first statement must carry on a
// route behind requireAccessInline, and noGuard on any other route.
func guard(c *fiber.Ctx) tokenGuard {
	p := caller(c)
	if p == nil || p.pending == nil {
		return noGuard
	}
	p.pending.taken = true
	return p.pending.guard
}

// checkTokenInline runs the handler with the token's database check left
// to the handler's statement, then checks the token with a query of its
// own whenever the statement did not prove it: when the handler failed,
// or never took the guard.
func (s *Server) checkTokenInline(c *fiber.Ctx, claims *Claims, userID int64) error {
	pending := &pendingCheck{guard: tokenGuard{sid: claims.SessionID, userID: userID}}
	c.Locals(localsPrincipal, &principal{UserID: userID, Claims: claims, pending: pending})
	err := c.Next()
	if err == nil && pending.taken {
		return nil // the guarded statement found its rows
	}
	if _, authErr := s.lookUpToken(c, claims, userID); authErr != nil {
		return authErr
	}
	return err
}

// errGuardFailed is what a guarded write that wrote nothing answers: only
// the guard can have stopped it. The middleware's own check then names
// the reason (token_revoked or user_not_found); this error stands only if
// the token has since become good again, which revocation never allows.
var errGuardFailed = errTokenRevoked

// insertReturningID runs an INSERT … RETURNING id and returns the new id,
// or 0 when the statement inserted nothing because its guard failed. It
// reads the row straight from the driver (GORM's Scan renders the SQL for
// its logger first), so it translates constraint violations into
// gorm.ErrDuplicatedKey and gorm.ErrForeignKeyViolated itself, as GORM
// does for its own statements.
func insertReturningID(db *gorm.DB, query string, args ...any) (int64, error) {
	var id int64
	err := func() error {
		rows, err := db.Raw(query+" RETURNING id", args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&id); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	}()
	if translator, ok := db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		err = translator.Translate(err)
	}
	return id, err
}
