package sim

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Runs simulates cfg once per seed (seeds first, first+1, ...).
func Runs(cfg Config, first uint64, n int) []Result {
	out := make([]Result, 0, n)
	for i := range n {
		c := cfg
		c.Seed = first + uint64(i)
		out = append(out, Run(c))
	}
	return out
}

// AllContributorsDone reports whether every contributor completed.
func (r Result) AllContributorsDone() bool { return !slices.Contains(r.Contributors, 0) }

// Median is the median contributor completion time (zero if any did not complete).
func (r Result) Median() time.Duration {
	if !r.AllContributorsDone() {
		return 0
	}
	return median(r.Contributors)
}

// Ratio is the first free-rider's completion time over the contributors' median; a
// free-rider that did not complete counts as taking the whole run.
func (r Result) Ratio() float64 {
	m := r.Median()
	if m == 0 || len(r.FreeRiders) == 0 {
		return 0
	}
	fr := r.FreeRiders[0]
	if fr == 0 {
		fr = r.End
	}
	return float64(fr) / float64(m)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MedianRatio is the median of the runs' ratios.
func MedianRatio(rs []Result) float64 {
	v := make([]float64, 0, len(rs))
	for _, r := range rs {
		v = append(v, r.Ratio())
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// MinRatio is the smallest ratio of the runs.
func MinRatio(rs []Result) float64 {
	m := 0.0
	for i, r := range rs {
		if x := r.Ratio(); i == 0 || x < m {
			m = x
		}
	}
	return m
}

// WriteTable writes the runs as a Markdown table: one row per seed.
func WriteTable(w io.Writer, rs []Result) error {
	if _, err := fmt.Fprintln(w, "| seed | contributors min / median / max (s) | free-rider (s) | ratio | free-rider bytes from seeder |\n| ---: | :---: | ---: | ---: | ---: |"); err != nil {
		return fmt.Errorf("write table header: %w", err)
	}
	for _, r := range rs {
		lo, hi := slices.Min(r.Contributors), slices.Max(r.Contributors)
		fr := "did not complete"
		if len(r.FreeRiders) > 0 && r.FreeRiders[0] > 0 {
			fr = fmt.Sprintf("%.0f", r.FreeRiders[0].Seconds())
		}
		_, err := fmt.Fprintf(w, "| %d | %.0f / %.0f / %.0f | %s | %.2f | %.0f %% |\n", r.Seed, lo.Seconds(),
			r.Median().Seconds(), hi.Seconds(), fr, r.Ratio(), 100*r.FreeRiderFromSeeder)
		if err != nil {
			return fmt.Errorf("write table row: %w", err)
		}
	}
	return nil
}
