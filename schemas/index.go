package schemas

// IndexOut answers GET /: where the docs, the admin panel and the health
// check are.
type IndexOut struct {
	Name    string `json:"name"`
	Docs    string `json:"docs"`
	OpenAPI string `json:"openapi"`
	Admin   string `json:"admin"`
	Health  string `json:"health"`
}
