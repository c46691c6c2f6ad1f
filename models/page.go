package models

// Page is one page of a list: Number counts from 1, Size is the rows a
// page holds.
type Page struct {
	Number int64
	Size   int64
}

// Offset is the number of rows before the page.
func (p Page) Offset() int64 { return (p.Number - 1) * p.Size }

// Last is the number of the last page of total rows: 1 for an empty list,
// so the first and the last page always exist.
func (p Page) Last(total int64) int64 { return max(1, (total+p.Size-1)/p.Size) }

// Within is the page of the same size nearest to p that exists among total
// rows, for lists that show a page whatever number was asked for.
func (p Page) Within(total int64) Page {
	p.Number = min(max(1, p.Number), p.Last(total))
	return p
}

// beyond reports whether the page starts past the last row: such a page is
// empty, and not worth a statement.
func (p Page) beyond(total int64) bool { return p.Offset() >= total }
