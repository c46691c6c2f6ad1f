package resources

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
)

// usersPerPage is the length of a page of the user list.
const usersPerPage = 50

// adminUserRow is a user in the list; Error explains why an action on this
// user was refused.
type adminUserRow struct {
	ID        int64
	Email     string
	IsAdmin   bool
	CreatedAt time.Time
	Sessions  int64 // live sessions: API sign-ins and admin panel sign-ins
	Self      bool
	Error     string
}

// usersView is the user list.
type usersView struct {
	adminPage
	Users []adminUserRow
	Pager adminPager
}

// usersPage loads page of the user list (0 for the first); failedID's row
// shows failure.
func (a *adminPanel) usersPage(c *fiber.Ctx, page, failedID int64, failure string) (*usersView, error) {
	v := &usersView{adminPage: adminPage{Title: "Users", Nav: "users"}}
	db := a.db(c)
	var total int64
	if err := db.Model(&models.User{}).Count(&total).Error; err != nil {
		return nil, err
	}
	v.Pager = newPager(page, "/admin/users", nil, total, usersPerPage)
	var users []models.User
	if err := db.Order("id").Limit(usersPerPage).Offset(int(v.Pager.Offset())).Find(&users).Error; err != nil {
		return nil, err
	}
	sessions, err := a.liveSessions(c, users)
	if err != nil {
		return nil, err
	}
	me := currentAdmin(c)
	for _, u := range users {
		row := adminUserRow{ID: u.ID, Email: u.Email, IsAdmin: u.IsAdmin, CreatedAt: u.CreatedAt,
			Sessions: sessions[u.ID], Self: u.ID == me.ID}
		if u.ID == failedID {
			row.Error = failure
		}
		v.Users = append(v.Users, row)
	}
	return v, nil
}

// liveSessions counts the unexpired sessions of each user of a page.
func (a *adminPanel) liveSessions(c *fiber.Ctx, users []models.User) (map[int64]int64, error) {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	var rows []struct {
		UserID int64
		N      int64
	}
	err := a.db(c).Model(&models.Session{}).Select("user_id, count(*) AS n").
		Where("user_id IN ? AND expires_at > ?", ids, time.Now().UTC()).Group("user_id").Scan(&rows).Error
	counts := make(map[int64]int64, len(rows))
	for _, r := range rows {
		counts[r.UserID] = r.N
	}
	return counts, err
}

// listUsers handles GET /admin/users?page=.
func (a *adminPanel) listUsers(c *fiber.Ctx) error {
	v, err := a.usersPage(c, queryID(c, "page"), 0, "")
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "users", v)
}

// userOf reads the user an action names. Admins may not demote or delete
// themselves: the panel would lock them out, possibly as the last admin.
func (a *adminPanel) userOf(c *fiber.Ctx) (models.User, error) {
	var user models.User
	id, err := pathID(c, "id", errUserNotExists)
	if err != nil {
		return user, err
	}
	err = a.db(c).Take(&user, id).Error
	return user, notFoundAs(err, errUserNotExists)
}

// refuseOnUsers shows the user list again with why an action on one user
// was refused, on the page the action came from (the form's page field).
func (a *adminPanel) refuseOnUsers(c *fiber.Ctx, userID int64, e *Error) error {
	page, _ := parseFormID(formValue(c, "page"))
	v, err := a.usersPage(c, page, userID, e.Message)
	if err != nil {
		return err
	}
	return a.render(c, e.Status, "users", v)
}

// setUserAdmin handles POST /admin/users/:id/admin with admin=true to
// promote and admin=false to demote.
func (a *adminPanel) setUserAdmin(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	admin, err := strconv.ParseBool(formValue(c, "admin"))
	if err != nil {
		return a.refuseOnUsers(c, user.ID, &Error{Status: fiber.StatusUnprocessableEntity, Message: "Choose promote or demote."})
	}
	if user.ID == currentAdmin(c).ID {
		return a.refuseOnUsers(c, user.ID, errSelfChange)
	}
	if err := a.Server.setUserAdmin(a.db(c), user.ID, admin); err != nil {
		return err
	}
	notice := user.Email + " is now an admin."
	if !admin {
		notice = user.Email + " is no longer an admin."
	}
	back := "/admin/users"
	if page, ok := parseFormID(formValue(c, "page")); ok && page > 1 {
		back += "?page=" + strconv.FormatInt(page, 10)
	}
	return a.redirectWith(c, back, notice)
}

// userDeleteView asks to confirm deleting a user.
type userDeleteView struct {
	adminPage
	User models.User
	Self bool
}

// confirmDeleteUser handles GET /admin/users/:id/delete.
func (a *adminPanel) confirmDeleteUser(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "user_delete", &userDeleteView{
		adminPage: adminPage{Title: "Delete " + user.Email, Nav: "users"}, User: user, Self: user.ID == currentAdmin(c).ID,
	})
}

// deleteUser handles POST /admin/users/:id/delete.
func (a *adminPanel) deleteUser(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	if user.ID == currentAdmin(c).ID {
		return a.refuseOnUsers(c, user.ID, errSelfChange)
	}
	if err := a.deleteUserRow(a.db(c), user.ID); err != nil {
		return err
	}
	return a.redirectWith(c, "/admin/users", "User "+user.Email+" deleted.")
}

// endUserSessions handles POST /admin/users/:id/sessions: every session of
// the user ends, its API tokens and panel sign-ins alike. Ending one's own
// signs one out here too.
func (a *adminPanel) endUserSessions(c *fiber.Ctx) error {
	user, err := a.userOf(c)
	if err != nil {
		return err
	}
	n, err := a.Sessions.EndAll(c.UserContext(), user.ID)
	if err != nil {
		return err
	}
	if user.ID == currentAdmin(c).ID {
		c.Cookie(a.cookie(c, sessionCookie, "", cookieDeleted))
		a.renewCSRF(c, "")
		return a.redirectWith(c, adminPrefix+"/login", "All your sessions have ended.")
	}
	back := "/admin/users"
	if page, ok := parseFormID(formValue(c, "page")); ok && page > 1 {
		back += "?page=" + strconv.FormatInt(page, 10)
	}
	return a.redirectWith(c, back, user.Email+": "+countNoun(int(n), "session")+" ended.")
}
