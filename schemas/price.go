package schemas

import (
	"errors"
	"strconv"
	"strings"
)

// MaxPriceCents is the largest price accepted: 99999999.99.
const MaxPriceCents = 9_999_999_999

// Price is an amount in integer cents. On the wire it is a JSON number with
// at most two decimals (19.99); it is parsed from the number's text, never
// through a float, so no value is ever rounded.
type Price int64

// Messages a bad price is reported with.
var (
	errPriceNotNumber = errors.New("Not a valid number.")
	errPriceDecimals  = errors.New("Must have at most two decimal places.")
	errPriceRange     = errors.New("Must be between 0 and 99999999.99.")
)

// MarshalJSON writes the shortest decimal that names the price: 19.99, 5,
// 0.5, 0.05. It is written from the integer cents, without a float: a
// store's page holds a price per item, and formatting a float cost a
// twentieth of the server's CPU on GET /stores/{id}.
func (p Price) MarshalJSON() ([]byte, error) {
	cents := int64(p)
	out := make([]byte, 0, 24)
	if cents < 0 {
		out = append(out, '-')
		cents = -cents // no price is negative; this keeps any value right
	}
	out = strconv.AppendInt(out, cents/100, 10)
	switch frac := cents % 100; {
	case frac == 0:
	case frac%10 == 0:
		out = append(out, '.', byte('0'+frac/10))
	default:
		out = append(out, '.', byte('0'+frac/10), byte('0'+frac%10))
	}
	return out, nil
}

// UnmarshalJSON accepts a JSON number only; strings such as "19.99" are not
// numbers.
func (p *Price) UnmarshalJSON(b []byte) error {
	cents, err := ParsePrice(string(b))
	if err != nil {
		return err
	}
	*p = Price(cents)
	return nil
}

// ParsePrice turns a decimal literal (JSON number syntax: 19.99, 1e2, 0.5)
// into cents, exactly. It rejects more than two decimals and values outside
// 0 to 99999999.99. It never allocates in proportion to an exponent, so a
// literal such as 1e999999999 costs nothing.
func ParsePrice(lit string) (int64, error) {
	neg := strings.HasPrefix(lit, "-")
	lit = strings.TrimPrefix(lit, "-")
	mantissa, exp, err := splitExponent(lit)
	if err != nil {
		return 0, err
	}
	intPart, fracPart, hasDot := strings.Cut(mantissa, ".")
	if !isDigits(intPart) || (hasDot && !isDigits(fracPart)) {
		return 0, errPriceNotNumber
	}
	// value = digits × 10^-scale
	digits := strings.TrimLeft(intPart+fracPart, "0")
	if digits == "" {
		return 0, nil
	}
	if neg {
		return 0, errPriceRange
	}
	shift := 2 - (len(fracPart) - exp) // cents = digits × 10^shift
	switch {
	case shift > 10:
		return 0, errPriceRange
	case shift >= 0:
		digits += strings.Repeat("0", shift)
	default:
		if -shift >= len(digits) || strings.TrimRight(digits[len(digits)+shift:], "0") != "" {
			return 0, errPriceDecimals
		}
		digits = digits[:len(digits)+shift]
	}
	if len(digits) > 10 {
		return 0, errPriceRange
	}
	cents, _ := strconv.ParseInt(digits, 10, 64) // at most 10 digits: fits
	if cents > MaxPriceCents {
		return 0, errPriceRange
	}
	return cents, nil
}

// splitExponent splits "12.5e-3" into "12.5" and -3. Exponents beyond ±1000
// are clamped: any non-zero mantissa is then out of range either way.
func splitExponent(lit string) (string, int, error) {
	i := strings.IndexAny(lit, "eE")
	if i < 0 {
		return lit, 0, nil
	}
	expText := strings.TrimPrefix(lit[i+1:], "+")
	negExp := strings.HasPrefix(expText, "-")
	expText = strings.TrimPrefix(expText, "-")
	if !isDigits(expText) {
		return "", 0, errPriceNotNumber
	}
	expText = strings.TrimLeft(expText, "0")
	exp := 1000
	if len(expText) < 4 {
		exp, _ = strconv.Atoi("0" + expText)
	}
	if negExp {
		exp = -exp
	}
	return lit[:i], exp, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
