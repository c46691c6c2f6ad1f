package resources

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The course names its resources in the singular (/store/1, /item,
// /store/1/tag, /item/1/tag/2, /tag/1); this API in the plural. A learner
// who types the course's path gets a 404 that names ours, not a redirect:
// a client must learn the right path, and a redirected POST or DELETE is
// not what its author meant.

// coursePlurals are the course's singular path segments and ours.
var coursePlurals = map[string]string{"store": "stores", "item": "items", "tag": "tags"}

// registerCourseHints answers the course's singular paths. It comes after
// every route of the API, so it sees only what no route matched.
func registerCourseHints(app *fiber.App) {
	for singular := range coursePlurals {
		app.Use("/"+singular, courseHint)
	}
}

// courseHint answers a course path with ours; anything else goes on to the
// usual 404 (Use matches any path that starts with the prefix: /stores…).
func courseHint(c *fiber.Ctx) error {
	ours, ok := pluralPath(c.Path())
	if !ok {
		return c.Next()
	}
	return notFound("This API's path is " + ours + ": see docs/COURSE.md.")
}

// pluralPath is the API's path for a course path, or false when the path
// does not start with one of the course's singular resources.
func pluralPath(path string) (string, bool) {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	if _, ok := coursePlurals[segments[0]]; !ok {
		return "", false
	}
	for i, seg := range segments {
		if plural, ok := coursePlurals[seg]; ok {
			segments[i] = plural
		}
	}
	return "/" + strings.Join(segments, "/"), true
}
