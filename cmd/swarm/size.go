package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits maps suffixes to multipliers: SI (kB, MB) and IEC (KiB, MiB); k and K are both
// accepted for kilo because people write both.
var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize reads a byte count such as "262144", "256KiB", "1.5MB" or "2g".
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as 256KiB or 2MB", s)
	}
	n := v * mult
	if n >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(n), nil
}

// parseRate reads a rate such as "512KiB/s", "2MB/s" or "0" (unlimited) in bytes per second.
func parseRate(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	n, err := parseSize(t)
	if err != nil {
		return 0, fmt.Errorf("rate %q: want a size per second such as 512KiB/s or 2MB/s (0 = unlimited)", s)
	}
	return n, nil
}
