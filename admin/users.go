package admin

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/tasks"
)

// usersPerPage is the length of a page of the user list.
const usersPerPage = 50

// userRow is a user in the list; Error explains why an action on this
// user was refused.
type userRow struct {
	ID        int64
	Email     string
	IsAdmin   bool
	Verified  bool // the user followed a verification link
	CreatedAt time.Time
	Sessions  int64 // live sessions: API sign-ins and admin panel sign-ins
	Self      bool
	Error     string
}

// usersView is the user list.
type usersView struct {
	page
	Users []userRow
	Pager pager
}

// usersPage loads page number of the user list (0 for the first);
// failedID's row shows failure.
func (a *panel) usersPage(c *fiber.Ctx, number, failedID int64, failure string) (*usersView, error) {
	ctx := c.UserContext()
	users, p, total, err := a.data.Users.List(ctx, models.Page{Number: max(1, number), Size: usersPerPage})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	sessions, err := a.sessions.CountLive(ctx, ids)
	if err != nil {
		return nil, err
	}
	v := &usersView{page: page{Title: "Users", Nav: "users"}, Pager: newPager(p, Prefix+"/users", nil, total)}
	me := currentAdmin(c)
	for _, u := range users {
		row := userRow{ID: u.ID, Email: u.Email, IsAdmin: u.IsAdmin, Verified: u.EmailVerified, CreatedAt: u.CreatedAt,
			Sessions: sessions[u.ID], Self: u.ID == me.ID}
		if u.ID == failedID {
			row.Error = failure
		}
		v.Users = append(v.Users, row)
	}
	return v, nil
}

// listUsers handles GET /admin/users?page=.
func (a *panel) listUsers(c *fiber.Ctx) error {
	v, err := a.usersPage(c, queryID(c, "page"), 0, "")
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "users", v)
}

// userOf reads the user an action names.
func (a *panel) userOf(c *fiber.Ctx) (models.User, error) {
	id, err := pathID(c, "id", models.ErrUserNotFound)
	if err != nil {
		return models.User{}, err
	}
	return a.data.Users.Get(c.UserContext(), id)
}

// refuseOnUsers shows the user list again with why an action on one user
// was refused, on the page the action came from (the form's page field).
func (a *panel) refuseOnUsers(c *fiber.Ctx, userID int64, p *problem) error {
	number, _ := parseID(formValue(c, "page"))
	v, err := a.usersPage(c, number, userID, p.message)
	if err != nil {
		return err
	}
	return a.render(c, p.status, "users", v)
}

// backToUsers is the page of the user list an action came from.
func backToUsers(c *fiber.Ctx) string {
	if number, ok := parseID(formValue(c, "page")); ok && number > 1 {
		return Prefix + "/users?page=" + strconv.FormatInt(number, 10)
	}
	return Prefix + "/users"
}

// setUserAdmin handles POST /admin/users/:id/admin with admin=true to
// promote and admin=false to demote. Admins may not demote or delete
// themselves: the panel would lock them out, possibly as the last admin.
func (a *panel) setUserAdmin(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	admin, err := strconv.ParseBool(formValue(c, "admin"))
	if err != nil {
		return a.refuseOnUsers(c, user.ID, errChooseAdmin)
	}
	if user.ID == currentAdmin(c).ID {
		return a.refuseOnUsers(c, user.ID, errSelfChange)
	}
	if err := a.data.Users.SetAdmin(c.UserContext(), user.ID, admin); err != nil {
		return err
	}
	notice := user.Email + " is now an admin."
	if !admin {
		notice = user.Email + " is no longer an admin."
	}
	return a.redirectWith(c, backToUsers(c), notice)
}

// endUserSessions handles POST /admin/users/:id/sessions: every session of
// the user ends, its API tokens and panel sign-ins alike. Ending one's own
// signs one out here too.
func (a *panel) endUserSessions(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	n, err := a.sessions.EndAll(c.UserContext(), user.ID)
	if err != nil {
		return err
	}
	if user.ID == currentAdmin(c).ID {
		c.Cookie(a.cookie(c, sessionCookie, "", cookieDeleted))
		a.renewCSRF(c, "")
		return a.redirectWith(c, Prefix+"/login", "All your sessions have ended.")
	}
	return a.redirectWith(c, backToUsers(c), user.Email+": "+countNoun(n, "session")+" ended.")
}

// resendVerification handles POST /admin/users/:id/verification: the user
// is emailed a new verification link, by a job, as POST
// /verify-email/resend does. A user verified since the page was shown is
// told so instead.
func (a *panel) resendVerification(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	if user.EmailVerified {
		return a.refuseOnUsers(c, user.ID, errVerified)
	}
	if err := a.jobs.EnqueueNow(c.UserContext(), tasks.VerificationEmail{UserID: user.ID}); err != nil {
		return err
	}
	return a.redirectWith(c, backToUsers(c), "A new verification email to "+user.Email+" is queued.")
}

// userDeleteView asks to confirm deleting a user.
type userDeleteView struct {
	page
	User models.User
	Self bool
}

// confirmDeleteUser handles GET /admin/users/:id/delete.
func (a *panel) confirmDeleteUser(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "user_delete", &userDeleteView{
		page: page{Title: "Delete " + user.Email, Nav: "users"}, User: user, Self: user.ID == currentAdmin(c).ID,
	})
}

// deleteUser handles POST /admin/users/:id/delete.
func (a *panel) deleteUser(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	if user.ID == currentAdmin(c).ID {
		return a.refuseOnUsers(c, user.ID, errSelfChange)
	}
	if err := a.data.Users.Delete(c.UserContext(), user.ID); err != nil {
		return err
	}
	return a.redirectWith(c, Prefix+"/users", "User "+user.Email+" deleted.")
}
