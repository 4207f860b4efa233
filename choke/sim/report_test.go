package sim

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/choke"
)

// variants are the scenarios of docs/freerider.md besides the baseline.
func variants() []Scenario {
	with := func(name string, change func(c *Config)) Scenario {
		c := Baseline()
		change(&c)
		return Scenario{Name: name, Cfg: c}
	}
	return []Scenario{
		with("baseline", func(c *Config) {}),
		with("control: rate-blind round robin everywhere", func(c *Config) { c.Blind = true }),
		with("seeder ranks by upload rate (SeedFastestUpload)", func(c *Config) { c.SeederPolicy = choke.SeedFastestUpload }),
		with("contributors seed 60 s after completing", func(c *Config) { c.Linger = time.Minute }),
		with("contributors seed until the end", func(c *Config) { c.Linger = -1 }),
		with("seeder at 1 MiB/s", func(c *Config) { c.SeederRate = MiB }),
		with("seeder at 3 MiB/s", func(c *Config) { c.SeederRate = 3 * MiB }),
		with("16 contributors", func(c *Config) { c.Contributors = 16 }),
		with("anti-snubbing off", func(c *Config) { c.Choke.SnubTimeout = 1000 * time.Hour }),
		with("1 GiB torrent", func(c *Config) { c.FileSize = 1024 * MiB }),
	}
}

// streamVariants are the steady-stream scenarios of docs/freerider.md.
func streamVariants() []Scenario {
	with := func(name string, every time.Duration, change func(c *Config)) Scenario {
		c := Stream(every)
		change(&c)
		return Scenario{Name: name, Cfg: c}
	}
	same := func(c *Config) {}
	blind := func(c *Config) { c.Blind = true }
	atZero := func(c *Config) { c.FreeRiderAt = 0 }
	return []Scenario{
		with("stream, about 8 present (an arrival every 30 s)", 30*time.Second, same),
		with("stream, about 12 present (every 20 s)", 20*time.Second, same),
		with("stream, about 16 present (every 15 s)", 15*time.Second, same),
		with("stream, 8 present, control: rate-blind round robin everywhere", 30*time.Second, blind),
		with("stream, 16 present, control: rate-blind round robin everywhere", 15*time.Second, blind),
		with("stream, 8 present, free-rider joins with the first contributor", 30*time.Second, atZero),
		with("stream, 16 present, free-rider joins with the first contributor", 15*time.Second, atZero),
		with("stream, 8 present, contributors seed 60 s after completing", 30*time.Second, func(c *Config) { c.Linger = time.Minute }),
	}
}

// TestFreeRiderReport prints the tables of docs/freerider.md (10 seeds each). It takes a
// few seconds, so it runs only with SWARM_FREERIDER_REPORT=1 (bench/freerider.sh).
func TestFreeRiderReport(t *testing.T) {
	if os.Getenv("SWARM_FREERIDER_REPORT") != "1" {
		t.Skip("set SWARM_FREERIDER_REPORT=1 to print the report")
	}
	var b strings.Builder
	b.WriteString("\n### Baseline, per seed\n\n")
	require.NoError(t, WriteTable(&b, Runs(Baseline(), 1, 10)))
	blind := Baseline()
	blind.Blind = true
	b.WriteString("\n### Control (rate-blind), per seed\n\n")
	require.NoError(t, WriteTable(&b, Runs(blind, 1, 10)))
	b.WriteString("\n### Variants (10 seeds each)\n\n")
	require.NoError(t, WriteSummary(&b, variants(), 1, 10))
	for _, sc := range streamVariants()[:3] {
		b.WriteString("\n### " + sc.Name + ", per seed\n\n")
		require.NoError(t, WriteStreamTable(&b, Runs(sc.Cfg, 1, 10)))
	}
	b.WriteString("\n### Steady-stream variants (10 seeds each)\n\n")
	require.NoError(t, WriteSummary(&b, streamVariants(), 1, 10))
	t.Log(b.String())
}
