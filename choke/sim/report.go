package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"
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

// SlowestRatio is the first free-rider's completion time over the slowest contributor's
// (0 if either did not complete).
func (r Result) SlowestRatio() float64 {
	if !r.AllContributorsDone() || len(r.FreeRiders) == 0 || r.FreeRiders[0] == 0 {
		return 0
	}
	return float64(r.FreeRiders[0]) / float64(slices.Max(r.Contributors))
}

// MedianRatio is the median of the runs' ratios.
func MedianRatio(rs []Result) float64 {
	return medianOf(rs, Result.Ratio)
}

// medianOf is the median of f over the runs.
func medianOf(rs []Result, f func(Result) float64) float64 {
	v := make([]float64, 0, len(rs))
	for _, r := range rs {
		v = append(v, f(r))
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

// WriteTable writes the runs as a Markdown table: one row per seed, with every
// contributor's completion time (sorted), their median, the free-rider's time and the ratios.
func WriteTable(w io.Writer, rs []Result) error {
	if _, err := fmt.Fprintln(w, "| seed | contributors, sorted (s) | median (s) | free-rider (s) | completion ratio | rate ratio | free-rider bytes from the seeder |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: |"); err != nil {
		return fmt.Errorf("write table header: %w", err)
	}
	for _, r := range rs {
		cs := slices.Clone(r.Contributors)
		slices.Sort(cs)
		var each strings.Builder
		for i, c := range cs {
			if i > 0 {
				each.WriteString(" ")
			}
			fmt.Fprintf(&each, "%s", secs(c))
		}
		fr := "did not complete"
		if len(r.FreeRiders) > 0 {
			fr = secs(r.FreeRiders[0])
		}
		_, err := fmt.Fprintf(w, "| %d | %s | %s | %s | %.2f | %.2f | %.0f %% |\n", r.Seed, each.String(),
			secs(r.Median()), fr, r.Ratio(), r.RateRatio, 100*r.FreeRiderFromSeeder)
		if err != nil {
			return fmt.Errorf("write table row: %w", err)
		}
	}
	return nil
}

// WriteStreamTable writes stream runs (Config.Arrival > 0) as a Markdown table: one row per
// seed, with the mean number of contributors downloading while the free-rider did, its
// cohort (the contributors that joined while it downloaded: their number, median and range
// of completion times), its own time and the ratios.
func WriteStreamTable(w io.Writer, rs []Result) error {
	if _, err := fmt.Fprintln(w, "| seed | contributors present (mean) | cohort | cohort median (s) | cohort min–max (s) | free-rider (s) | completion ratio | rate ratio | free-rider bytes from the seeder |\n| ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |"); err != nil {
		return fmt.Errorf("write stream table header: %w", err)
	}
	for _, r := range rs {
		lo, hi := "-", "-"
		if r.AllContributorsDone() && len(r.Contributors) > 0 {
			lo, hi = secs(slices.Min(r.Contributors)), secs(slices.Max(r.Contributors))
		}
		fr := "did not complete"
		if len(r.FreeRiders) > 0 {
			fr = secs(r.FreeRiders[0])
		}
		starved := ""
		if r.Starved {
			starved = " (stream ran out)"
		}
		_, err := fmt.Fprintf(w, "| %d | %.1f | %d | %s | %s–%s | %s%s | %.2f | %.2f | %.0f %% |\n", r.Seed, r.Present,
			len(r.Contributors), secs(r.Median()), lo, hi, fr, starved, r.Ratio(), r.RateRatio, 100*r.FreeRiderFromSeeder)
		if err != nil {
			return fmt.Errorf("write stream table row: %w", err)
		}
	}
	return nil
}

// secs formats a completion time in whole seconds; "-" if it did not complete.
func secs(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", d.Seconds())
}

// Scenario is a named configuration, run over several seeds.
type Scenario struct {
	Name string
	Cfg  Config
}

// WriteSummary runs each scenario over seeds first..first+n-1 and writes one Markdown row
// per scenario: medians over the runs, and the range of the completion ratio.
func WriteSummary(w io.Writer, scenarios []Scenario, first uint64, n int) error {
	if _, err := fmt.Fprintln(w, "| scenario | contributors' median (s) | free-rider (s) | completion ratio median (min–max) | vs slowest contributor | rate ratio median | every contributor completed |\n| --- | ---: | ---: | :---: | ---: | ---: | :---: |"); err != nil {
		return fmt.Errorf("write summary header: %w", err)
	}
	for _, sc := range scenarios {
		rs := Runs(sc.Cfg, first, n)
		var meds, frs []time.Duration
		all := true
		for _, r := range rs {
			meds = append(meds, r.Median())
			frs = append(frs, r.FreeRiders[0])
			all = all && r.AllContributorsDone()
		}
		_, err := fmt.Fprintf(w, "| %s | %.0f | %.0f | %.2f (%.2f–%.2f) | %.2f | %.2f | %s |\n", sc.Name,
			median(meds).Seconds(), median(frs).Seconds(), MedianRatio(rs), MinRatio(rs), maxRatio(rs),
			medianOf(rs, Result.SlowestRatio), medianOf(rs, func(r Result) float64 { return r.RateRatio }),
			yesNo(all))
		if err != nil {
			return fmt.Errorf("write summary row: %w", err)
		}
	}
	return nil
}

func maxRatio(rs []Result) float64 {
	m := 0.0
	for _, r := range rs {
		m = max(m, r.Ratio())
	}
	return m
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
