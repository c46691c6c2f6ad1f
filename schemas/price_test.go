package schemas

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestParsePrice(t *testing.T) {
	valid := map[string]int64{
		"0": 0, "-0": 0, "0.0": 0, "19.99": 1999, "0.1": 10, "0.29": 29, "5": 500, "1.10": 110,
		"1e2": 10000, "1E+2": 10000, "12.5e-1": 125, "100e-2": 100, "99999999.99": 9999999999,
		"0.000e5": 0, "1000e-5": 1, "00012.30": 1230,
	}
	for lit, want := range valid {
		got, err := ParsePrice(lit)
		if err != nil || got != want {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d", lit, got, err, want)
		}
	}
	invalid := map[string]error{
		"1.999": errPriceDecimals, "0.001": errPriceDecimals, "1e-3": errPriceDecimals, "10e-4": errPriceDecimals,
		"-0.01": errPriceRange, "100000000": errPriceRange, "1e9": errPriceRange, "1e999999999": errPriceRange,
		"": errPriceNotNumber, "abc": errPriceNotNumber, `"1"`: errPriceNotNumber, "1.": errPriceNotNumber,
		".5": errPriceNotNumber, "1e": errPriceNotNumber, "true": errPriceNotNumber, "1,5": errPriceNotNumber,
		"0x10": errPriceNotNumber, "NaN": errPriceNotNumber, "Inf": errPriceNotNumber,
	}
	for lit, want := range invalid {
		if _, err := ParsePrice(lit); err != want {
			t.Errorf("ParsePrice(%q) error = %v; want %v", lit, err, want)
		}
	}
}

// Every cent amount survives a round trip through JSON unchanged.
func TestPriceRoundTrip(t *testing.T) {
	for _, cents := range []int64{0, 1, 10, 99, 1999, 123456789, MaxPriceCents, 4503599627} {
		b, err := json.Marshal(Price(cents))
		if err != nil {
			t.Fatal(err)
		}
		var back Price
		if err := json.Unmarshal(b, &back); err != nil || int64(back) != cents {
			t.Errorf("%d cents encoded as %s came back as %d (%v)", cents, b, back, err)
		}
	}
}

func FuzzParsePrice(f *testing.F) {
	for _, seed := range []string{"19.99", "1e2", "-0", "1.999", "1e999999999", "0.000e5", "abc"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		cents, err := ParsePrice(lit)
		if err != nil {
			return
		}
		if cents < 0 || cents > MaxPriceCents {
			t.Fatalf("ParsePrice(%q) = %d, out of range", lit, cents)
		}
		b, _ := Price(cents).MarshalJSON()
		if again, err := ParsePrice(string(b)); err != nil || again != cents {
			t.Fatalf("%q → %d → %s → %d, %v", lit, cents, b, again, err)
		}
	})
}

// TestPriceMarshalsAsTheShortestDecimal: a price is written as the
// shortest decimal float64 formatting gives for cents/100, whatever the
// amount, so clients see the same numbers they always did.
func TestPriceMarshalsAsTheShortestDecimal(t *testing.T) {
	check := func(cents int64) {
		got, _ := Price(cents).MarshalJSON()
		want := strconv.FormatFloat(float64(cents)/100, 'f', -1, 64)
		if string(got) != want {
			t.Fatalf("Price(%d) = %s, want %s", cents, got, want)
		}
	}
	for cents := int64(-1000); cents <= 100000; cents++ {
		check(cents)
	}
	for cents := int64(MaxPriceCents - 100000); cents <= MaxPriceCents; cents++ {
		check(cents)
	}
}
